//! Cron expressions in the Quartz and Unix dialects, evaluated DST-correctly in a time zone.
//!
//! # Dialects
//!
//! | | [`Dialect::Quartz`] | [`Dialect::Unix`] |
//! |---|---|---|
//! | fields | `sec min hour dom month dow [year]` (6 or 7) | `min hour dom month dow` (5); 6–7 = croner's extension: seconds first, optional year last |
//! | day-of-week | `1`–`7` = SUN–SAT | `0`–`7`, `0` and `7` = SUN |
//! | day rule | exactly one of dom/dow is `?`; the other one alone decides | Vixie/POSIX: if both are restricted (neither is exactly `*` or `?`) a day matches when **either** matches (OR); a `+` before day-of-week makes it AND (croner's syntax) |
//! | `?` | required in one day field | same as `*` in dom/dow |
//! | dom `L`, `LW`, `nW` | yes | yes |
//! | dom `L-n`, `L-nW` | yes (must stand alone) | rejected |
//! | dow `L` alone | Saturday (`7`) | rejected |
//! | dow `nL`, `n#k` | last / k-th weekday n of the month | same, POSIX numbering (`5L` = last Friday) |
//! | aliases `@daily`… | no | yes |
//!
//! [`Dialect::Auto`] picks by field count: 5 → Unix, 6 or 7 → Quartz.
//! Both dialects accept names (`JAN`–`DEC`, `SUN`–`SAT`, any case), lists,
//! ranges, wrap-around ranges (`FRI-MON`, `22-2`, `NOV-FEB`: Quartz does this,
//! classic cron rejects it), steps `*/n`, `a-b/n` and `a/n` (= `a-max/n`).
//! A year field accepts 1970–2999; without one, searches stop at croner's limit,
//! the year 5000. An expression that can never fire (`0 0 0 30 2 ?`) is valid;
//! searches then return `None` (croner gives up after one bounded scan).
//!
//! croner's own `dom_and_dow` option is a global AND switch and its `?` is
//! always a plain `*`; we do not use either: our parser decides the day rule and
//! hands croner an explicit pattern (see `wall.rs`).
//!
//! # Time zones and DST
//!
//! Fields match the wall clock of the schedule's zone. Results are instants in
//! strictly increasing order: no fire is doubled or out of order. An
//! expression is **fixed-time** when its second, minute and hour fields contain
//! no `*` and no `/` (`0 30 1 * * ?`, `0 0 9,17 * * ?`), otherwise **interval**
//! (`0 */15 * * * ?`, `0 0 * * * ?`) — Vixie cron's distinction, which croner
//! narrows to single values; we keep Vixie's so a list of fixed hours behaves
//! like each of its members.
//!
//! - **Spring forward** (wall times that do not exist): a fixed-time job
//!   scheduled inside the gap fires once, at the first instant after the gap
//!   (02:30 on a 02:00→03:00 night fires at 03:00; several gap times and a
//!   03:00 match collapse into that one fire). An interval job skips the
//!   missing times (Vixie cron, croner, croniter and the corpus agree).
//! - **Fall back** (wall times that occur twice): an interval job fires at both
//!   instants (an hourly job fires at 01:00 EDT and 01:00 EST); a fixed-time
//!   job fires only at the first (a daily 01:30 job fires once).

mod field;
mod parse;
mod wall;
pub(crate) mod zone;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use wall::WallMatcher;

/// Which cron grammar a text is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Quartz / Java schedulers: seconds first, optional year, `?` in one day field.
    Quartz,
    /// Classic 5-field cron (Vixie rules).
    Unix,
    /// 5 fields → Unix, 6 or 7 → Quartz.
    #[default]
    Auto,
}

/// A parse error with the place of the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct CronError {
    /// 0-based character (not byte) offset in the expression.
    pub offset: usize,
    /// 0-based index of the whitespace-separated field, when the fault is inside one.
    pub field: Option<usize>,
    pub message: String,
}

impl CronError {
    fn at(offset: usize, field: Option<usize>, message: String) -> Self {
        Self {
            offset,
            field,
            message,
        }
    }

    fn describe(&self) -> String {
        match self.field {
            Some(f) => format!(
                "field {}, character {}: {}",
                f + 1,
                self.offset + 1,
                self.message
            ),
            None => format!("character {}: {}", self.offset + 1, self.message),
        }
    }
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    dialect: Dialect,
    fixed_time: bool,
    wall: WallMatcher,
}

impl CronExpr {
    /// Parses `text`; with [`Dialect::Auto`] the dialect is chosen by field count.
    pub fn parse(text: &str, dialect: Dialect) -> Result<Self, CronError> {
        let fields = parse::parse(text, dialect)?;
        let wall = WallMatcher::new(&fields).map_err(|m| CronError::at(0, None, m))?;
        Ok(Self {
            source: text.trim().to_string(),
            dialect: fields.dialect,
            fixed_time: fields.fixed_time,
            wall,
        })
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The dialect it was parsed in (never `Auto`).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Fixed-time (no `*` or `/` in second, minute, hour) as opposed to interval; see the DST rules.
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// The first fire strictly after `after`, in `after`'s time zone.
    pub fn next_after(&self, after: DateTime<Tz>) -> Option<DateTime<Tz>> {
        let tz = after.timezone();
        self.next_utc(tz, after.with_timezone(&Utc))
            .map(|t| t.with_timezone(&tz))
    }

    /// The last fire strictly before `before`, in `before`'s time zone (looks back ≤ ~4,000 years).
    pub fn prev_before(&self, before: DateTime<Tz>) -> Option<DateTime<Tz>> {
        let tz = before.timezone();
        zone::last_before(before.with_timezone(&Utc), |x| self.next_utc(tz, x))
            .map(|t| t.with_timezone(&tz))
    }

    /// Successive fires strictly after `after`.
    pub fn iter_after(&self, after: DateTime<Tz>) -> impl Iterator<Item = DateTime<Tz>> + '_ {
        std::iter::successors(self.next_after(after), |t| self.next_after(*t))
    }

    /// [`next_after`](Self::next_after) on UTC instants, the zone given separately.
    pub fn next_utc(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        zone::next_after(&self.wall, self.fixed_time, tz, after)
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    /// Parses with [`Dialect::Auto`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s, Dialect::Auto)
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod dst_tests;
#[cfg(test)]
mod tests;
