//! The pure half of scheduling: cron (Quartz and Unix), holiday calendars, windows, misfires.
//!
//! No I/O, no clock: every instant comes in as an argument, so the runtime (which
//! stores upcoming fires and claims each tick once) and the CLI share one answer.
//!
//! - [`cron`]: parsing with fault positions, next/previous fire in a time zone,
//!   DST rules.
//! - [`calendar`]: holiday ranges and make-up workdays (JSON format documented there;
//!   mainland-China files in `templates/holidays/`).
//! - [`schedule`]: [`ScheduleSpec`] → [`Schedule`]: effective fires and misfire handling.

pub mod calendar;
pub mod cron;
pub mod schedule;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use calendar::{CalendarError, HolidayCalendar, HolidayRange};
pub use cron::{CronError, CronExpr, Dialect};
pub use schedule::{HolidayPolicy, MisfirePolicy, Schedule, ScheduleSpec, parse_tz};

/// Everything this crate rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The message carries the position; the cause is not repeated as a
    /// `source` (so error chains print it once).
    #[error("cron expression {expr:?}: {cause}")]
    Cron { expr: String, cause: CronError },
    #[error("unknown time zone {0:?} (expected an IANA name such as Asia/Shanghai)")]
    UnknownTimeZone(String),
    #[error("empty validity window: valid_from {from} is not before valid_until {until}")]
    EmptyWindow {
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// Not a holiday calendar in the JSON form; the text has line and column.
    #[error("holiday calendar JSON: {0}")]
    CalendarJson(String),
}

/// The next `n` fires of `expr` (dialect chosen by field count) in zone `tz` strictly after
/// `after`, dropping those inside a holiday of `calendar`: what `baton schedule preview` shows.
pub fn preview(
    expr: &str,
    tz: &str,
    calendar: Option<&HolidayCalendar>,
    after: DateTime<Utc>,
    n: usize,
) -> Result<Vec<DateTime<Tz>>, Error> {
    let mut spec = ScheduleSpec::new(expr, tz)?;
    spec.calendar = calendar.cloned();
    let schedule = spec.build()?;
    Ok(schedule
        .next_fires(after, n)
        .into_iter()
        .map(|t| t.with_timezone(&spec.tz))
        .collect())
}
