//! Wall-clock matching: parsed fields as one canonical croner pattern, plus our `L-n` filter.
//!
//! croner sees only explicit numbers (seconds first, POSIX weekdays 0–6, year
//! last), so none of its own parsing options or quirks are involved; the day
//! rule is chosen by writing `*` (no restriction) or a `+` prefix (AND).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::parse::{Dom, Dow, Fields};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WallMatcher {
    cron: Cron,
    /// Quartz `L-n` (`weekday`: `L-nW`), which croner cannot express.
    last_offset: Option<(u32, bool)>,
}

/// Upper bound on days rejected by the `L-n` filter in one search (≥ 2 per month are needed).
const MAX_FILTER_REJECTS: usize = 30_000;

impl WallMatcher {
    pub(super) fn new(fields: &Fields) -> Result<Self, String> {
        let pattern = render(fields);
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .build()
            .parse(&pattern)
            .map_err(|e| format!("internal pattern {pattern:?} rejected by croner: {e}"))?;
        let last_offset = match fields.dom {
            Dom::LastOffset { offset, weekday } => Some((offset, weekday)),
            _ => None,
        };
        Ok(Self { cron, last_offset })
    }

    /// The first wall-clock time at or after (`inclusive`) / after `from` that matches.
    pub(super) fn next(
        &self,
        mut from: NaiveDateTime,
        mut inclusive: bool,
    ) -> Option<NaiveDateTime> {
        for _ in 0..MAX_FILTER_REJECTS {
            let found = self.cron.find_next_occurrence(&from, inclusive).ok()?;
            let Some((offset, weekday)) = self.last_offset else {
                return Some(found);
            };
            let (year, month, day) = (found.year(), found.month(), found.day());
            let target = last_offset_day(year, month, offset, weekday);
            if target == Some(day) {
                return Some(found);
            }
            let next_day = match target {
                Some(t) if t > day => NaiveDate::from_ymd_opt(year, month, t)?,
                _ if month == 12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?,
                _ => NaiveDate::from_ymd_opt(year, month + 1, 1)?,
            };
            from = next_day.and_time(NaiveTime::MIN);
            inclusive = true;
        }
        None
    }
}

/// Quartz `L-n`: the n-th day before the last of the month; `L-nW`: the weekday nearest to it
/// inside the month. `None` when the month is too short.
pub(super) fn last_offset_day(year: i32, month: u32, offset: u32, weekday: bool) -> Option<u32> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let length = first_next.pred_opt()?.day();
    let target = length.checked_sub(offset).filter(|d| *d >= 1)?;
    if !weekday {
        return Some(target);
    }
    let dow = NaiveDate::from_ymd_opt(year, month, target)?
        .weekday()
        .num_days_from_monday();
    Some(match dow {
        5 if target == 1 => 3,               // Saturday the 1st → Monday the 3rd
        5 => target - 1,                     // Saturday → Friday
        6 if target == length => target - 2, // Sunday the last → Friday
        6 => target + 1,                     // Sunday → Monday
        _ => target,
    })
}

fn list(set: &std::collections::BTreeSet<u32>) -> String {
    set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The canonical croner pattern: `sec min hour dom month dow year`.
fn render(f: &Fields) -> String {
    let dom = match &f.dom {
        Dom::Any | Dom::LastOffset { .. } => "*".to_string(),
        Dom::Items {
            days,
            nearest_weekday,
            last,
            last_weekday,
        } => {
            let mut items: Vec<String> = days.iter().map(u32::to_string).collect();
            items.extend(nearest_weekday.iter().map(|d| format!("{d}W")));
            if *last {
                items.push("L".into());
            }
            if *last_weekday {
                items.push("LW".into());
            }
            items.join(",")
        }
    };
    let dow = match &f.dow {
        Dow::Any => "*".to_string(),
        Dow::Items { days, nth, last } => {
            let mut items: Vec<String> = days.iter().map(u32::to_string).collect();
            items.extend(nth.iter().map(|(d, k)| format!("{d}#{k}")));
            items.extend(last.iter().map(|d| format!("{d}L")));
            let plus = if f.dom_and_dow { "+" } else { "" };
            format!("{plus}{}", items.join(","))
        }
    };
    let years = f.years.as_ref().map_or_else(|| "*".to_string(), list);
    format!(
        "{} {} {} {dom} {} {dow} {years}",
        list(&f.seconds),
        list(&f.minutes),
        list(&f.hours),
        list(&f.months)
    )
}
