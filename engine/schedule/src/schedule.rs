//! Schedules: a cron expression in a zone, a validity window, a holiday calendar, a misfire policy.
//!
//! A [`ScheduleSpec`] is the stored form (serde); [`ScheduleSpec::build`] validates it
//! into a [`Schedule`], which answers the two questions the runtime asks.
//!
//! **Effective fires.** Start from the cron fires `c` with
//! `valid_from <= c < valid_until` (the window is half-open). Then, for a fire
//! inside a holiday (see [`crate::calendar`]):
//! - With [`HolidayPolicy::Skip`] the fire is dropped.
//! - With [`HolidayPolicy::ShiftToNextWorkingTime`] the fire is moved to the end of that holiday
//!   stretch — the first instant that is in no holiday range (an extra working day
//!   ends a stretch at its midnight). Weekends are not holidays unless a range
//!   says so. Several fires shifted to the same instant, or onto a regular fire
//!   there, collapse to one. A shifted fire at or after `valid_until` is dropped.
//!
//! Every search is bounded ([`MAX_FIRES`], [`MAX_CANDIDATES`], [`MAX_CATCH_UP`]
//! and the cron search limits): an expression that never fires, or a calendar
//! that covers everything, yields an empty or short answer, never a hang.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::calendar::{self, HolidayCalendar, Intervals};
use crate::cron::{CronExpr, Dialect, zone};

/// Most fires one [`Schedule::next_fires`] call returns.
pub const MAX_FIRES: usize = 100_000;
/// Most cron fires examined for one effective fire (each holiday stretch costs one).
pub const MAX_CANDIDATES: usize = 100_000;
/// Most fires one [`MisfirePolicy::CatchUp`] returns (the most recent ones).
pub const MAX_CATCH_UP: usize = 1_000;

/// What to do with a cron fire that falls inside a holiday.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicy {
    #[default]
    Skip,
    ShiftToNextWorkingTime,
}

/// What to do, after downtime, with fires that were due while nobody ran them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Perform the most recent missed fire, once.
    #[default]
    FireOnceNow,
    /// Perform none; wait for the next regular fire.
    Skip,
    /// Perform each missed fire no older than `window` (JSON: whole seconds).
    CatchUp {
        #[serde(with = "seconds")]
        window: Duration,
    },
}

/// The stored form of a schedule. JSON: `{"cron": "0 0 9 ? * MON-FRI", "dialect": "quartz",
/// "tz": "Asia/Shanghai", "valid_from": "2026-01-01T00:00:00Z", "calendar": {...},
/// "holiday_policy": "skip", "misfire": {"catch_up": {"window": 3600}}}`; all but `cron`
/// and `tz` optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    pub cron: String,
    #[serde(default)]
    pub dialect: Dialect,
    /// IANA zone name in JSON.
    pub tz: Tz,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<HolidayCalendar>,
    #[serde(default)]
    pub holiday_policy: HolidayPolicy,
    #[serde(default)]
    pub misfire: MisfirePolicy,
}

/// An IANA time zone by name (exact spelling, e.g. `Asia/Shanghai`).
pub fn parse_tz(name: &str) -> Result<Tz, Error> {
    name.parse()
        .map_err(|_| Error::UnknownTimeZone(name.to_string()))
}

impl ScheduleSpec {
    /// A spec with defaults (auto dialect, no window, no calendar, skip, fire once now),
    /// checked: bad expression or unknown zone name are errors.
    pub fn new(cron: &str, tz: &str) -> Result<Self, Error> {
        let spec = Self {
            cron: cron.to_string(),
            dialect: Dialect::Auto,
            tz: parse_tz(tz)?,
            valid_from: None,
            valid_until: None,
            calendar: None,
            holiday_policy: HolidayPolicy::Skip,
            misfire: MisfirePolicy::FireOnceNow,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// The first problem found: expression (with position), window, calendar range.
    pub fn validate(&self) -> Result<(), Error> {
        self.build().map(|_| ())
    }

    /// Validates and compiles.
    pub fn build(&self) -> Result<Schedule, Error> {
        let cron = CronExpr::parse(&self.cron, self.dialect).map_err(|cause| Error::Cron {
            expr: self.cron.clone(),
            cause,
        })?;
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && from >= until
        {
            return Err(Error::EmptyWindow { from, until });
        }
        let holidays = match &self.calendar {
            Some(calendar) => {
                calendar.validate()?;
                calendar.intervals(self.tz)
            }
            None => Vec::new(),
        };
        Ok(Schedule {
            spec: self.clone(),
            cron,
            holidays,
        })
    }
}

/// A validated schedule. Serializes as its [`ScheduleSpec`]; deserializing validates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleSpec", into = "ScheduleSpec")]
pub struct Schedule {
    spec: ScheduleSpec,
    cron: CronExpr,
    holidays: Intervals,
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = Error;

    fn try_from(spec: ScheduleSpec) -> Result<Self, Error> {
        spec.build()
    }
}

impl From<Schedule> for ScheduleSpec {
    fn from(schedule: Schedule) -> Self {
        schedule.spec
    }
}

impl Schedule {
    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    pub fn cron(&self) -> &CronExpr {
        &self.cron
    }

    /// The first effective fire strictly after `after` (see the module docs).
    pub fn next_fire(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let spec = &self.spec;
        let until_ok = |t: DateTime<Utc>| spec.valid_until.is_none_or(|u| t < u);
        let shift = spec.holiday_policy == HolidayPolicy::ShiftToNextWorkingTime;
        // Fires at or before `after` inside the current holiday stretch shift to after it.
        if shift && let Some((start, end)) = calendar::holiday_at(&self.holidays, after) {
            let from = spec.valid_from.map_or(start, |f| f.max(start));
            let first = self.cron_next(from.checked_sub_signed(TimeDelta::nanoseconds(1))?)?;
            if first < end && until_ok(first) {
                return until_ok(end).then_some(end);
            }
        }
        let mut x = match spec.valid_from {
            Some(f) => after.max(f.checked_sub_signed(TimeDelta::nanoseconds(1))?),
            None => after,
        };
        for _ in 0..MAX_CANDIDATES {
            let c = self.cron_next(x)?;
            if !until_ok(c) {
                return None;
            }
            match calendar::holiday_at(&self.holidays, c) {
                None => return Some(c),
                Some((_, end)) if shift => return until_ok(end).then_some(end),
                Some((_, end)) => x = end.checked_sub_signed(TimeDelta::nanoseconds(1))?,
            }
        }
        None
    }

    /// Up to `n` (at most [`MAX_FIRES`]) effective fires strictly after `after`, increasing.
    pub fn next_fires(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_fire(after), |t| self.next_fire(*t))
            .take(n.min(MAX_FIRES))
            .collect()
    }

    /// The last effective fire strictly before `before`.
    pub fn prev_fire(&self, before: DateTime<Utc>) -> Option<DateTime<Utc>> {
        zone::last_before(before, |x| self.next_fire(x))
    }

    /// The fires to perform now, after the engine was down from `last_fired` (the last fire
    /// performed) to `now`, in increasing order. Each is the *scheduled* instant of a missed
    /// effective fire in `(last_fired, now]` — use it as the tick's unique key.
    /// `FireOnceNow`: the most recent one, if any. `Skip`: none. `CatchUp { window }`: those
    /// at or after `now - window`, at most the [`MAX_CATCH_UP`] most recent.
    pub fn due_after_downtime(
        &self,
        last_fired: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let (limit, floor) = match self.spec.misfire {
            MisfirePolicy::Skip => return Vec::new(),
            MisfirePolicy::FireOnceNow => (1, last_fired),
            MisfirePolicy::CatchUp { window } => {
                let start = TimeDelta::from_std(window)
                    .ok()
                    .and_then(|w| now.checked_sub_signed(w));
                // The window's start itself is still inside the window.
                let start = start.and_then(|s| s.checked_sub_signed(TimeDelta::nanoseconds(1)));
                (
                    MAX_CATCH_UP,
                    start.map_or(last_fired, |s| s.max(last_fired)),
                )
            }
        };
        let mut due = Vec::new();
        let mut before = now.checked_add_signed(TimeDelta::nanoseconds(1));
        while let Some(b) = before
            && due.len() < limit
        {
            match self.prev_fire(b) {
                Some(fire) if fire > floor => {
                    due.push(fire);
                    before = Some(fire);
                }
                _ => break,
            }
        }
        due.reverse();
        due
    }

    fn cron_next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.next_utc(self.spec.tz, after)
    }
}

/// `Duration` as whole seconds.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests;
