//! Holiday calendars: date and date-time ranges plus make-up working days, and their JSON form.
//!
//! ```json
//! {
//!   "name": "cn-2026",
//!   "note": "where the dates come from (optional, free text)",
//!   "ranges": [
//!     { "name": "春节", "start": "2026-02-15", "end": "2026-02-23" },
//!     { "name": "change freeze", "start": "2026-03-14T09:00", "end": "2026-03-14T12:00" }
//!   ],
//!   "workdays": ["2026-02-14", "2026-02-28"]
//! }
//! ```
//!
//! - A range with plain dates (`YYYY-MM-DD`) covers whole days, **both ends
//!   inclusive**. A range with date-times (`YYYY-MM-DDTHH:MM`, minute precision;
//!   `:00` seconds and a space instead of `T` are accepted) covers `[start, end)`.
//!   Both ends of one range are of the same kind; `name` is optional.
//! - `workdays` are extra working days (make-up workdays, 调休): on those dates
//!   nothing is a holiday, even if a range covers them.
//! - Everything is wall-clock time in the *schedule's* time zone. A wall time that
//!   occurs twice (fall back) means its first occurrence; one that does not exist
//!   (spring forward) means the first instant after the gap.
//!
//! [`HolidayCalendar::is_holiday`]: inside some range and not on an extra working
//! day. [`HolidayCalendar::is_working_day`]: Monday–Friday unless the day is a
//! holiday (covered by a date range, or by date-time ranges from 00:00 to 24:00),
//! plus every extra working day, even on a weekend.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A named set of holiday ranges and extra working days. Unknown fields are
/// refused (a misspelt `ranges` would otherwise be an empty calendar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayCalendar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub ranges: Vec<HolidayRange>,
    /// Extra working days (make-up workdays).
    #[serde(default)]
    pub workdays: Vec<NaiveDate>,
}

/// One holiday range: whole dates (inclusive) or date-times (`[start, end)`, minute precision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRange", into = "RawRange")]
pub enum HolidayRange {
    Dates {
        name: Option<String>,
        start: NaiveDate,
        end: NaiveDate,
    },
    Times {
        name: Option<String>,
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
}

/// A calendar that fails validation; `range` is the 0-based index into `ranges`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("holiday calendar {calendar:?}, range {range}: {message}")]
pub struct CalendarError {
    pub calendar: String,
    pub range: usize,
    pub message: String,
}

/// Half-open instant intervals, sorted and disjoint.
pub(crate) type Intervals = Vec<(DateTime<Utc>, DateTime<Utc>)>;

impl HolidayCalendar {
    /// Reads the JSON form (see the module docs) and validates it.
    pub fn from_json(text: &str) -> Result<Self, crate::Error> {
        let calendar: Self =
            serde_json::from_str(text).map_err(|e| crate::Error::CalendarJson(e.to_string()))?;
        calendar.validate()?;
        Ok(calendar)
    }

    /// Rejects ranges that end before they start (date-time ranges: that are empty) or
    /// have seconds.
    pub fn validate(&self) -> Result<(), CalendarError> {
        for (index, range) in self.ranges.iter().enumerate() {
            let fault = match range {
                HolidayRange::Dates { start, end, .. } if end < start => {
                    Some(format!("ends on {end} before it starts on {start}"))
                }
                HolidayRange::Times { start, end, .. } if end <= start => Some(format!(
                    "ends at {} before or when it starts at {}",
                    minutes(end),
                    minutes(start)
                )),
                HolidayRange::Times { start, end, .. }
                    if [start, end]
                        .iter()
                        .any(|t| t.and_utc().timestamp() % 60 != 0) =>
                {
                    Some("date-times have minute precision (no seconds)".to_string())
                }
                _ => None,
            };
            if let Some(message) = fault {
                return Err(CalendarError {
                    calendar: self.name.clone(),
                    range: index,
                    message,
                });
            }
        }
        Ok(())
    }

    /// Inside some range and not on an extra working day, in `at`'s time zone.
    pub fn is_holiday(&self, at: &DateTime<Tz>) -> bool {
        let t = at.with_timezone(&Utc);
        let intervals = self.intervals(at.timezone());
        holiday_at(&intervals, t).is_some()
    }

    /// Monday–Friday unless a holiday, plus extra working days (see the module docs).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.covers_whole_day(date)
    }

    fn covers_whole_day(&self, date: NaiveDate) -> bool {
        let day_start = date.and_time(NaiveTime::MIN);
        let Some(day_end) = date.succ_opt().map(|d| d.and_time(NaiveTime::MIN)) else {
            return false;
        };
        let mut spans: Vec<(NaiveDateTime, NaiveDateTime)> = self
            .ranges
            .iter()
            .filter_map(|r| match r {
                HolidayRange::Dates { start, end, .. } => {
                    (start <= &date && &date <= end).then_some((day_start, day_end))
                }
                HolidayRange::Times { start, end, .. } => Some((*start, *end)),
            })
            .collect();
        spans.sort();
        let mut covered = day_start;
        for (start, end) in spans {
            if start <= covered && end > covered {
                covered = end;
            }
        }
        covered >= day_end
    }

    /// Holiday time in zone `tz` as sorted, disjoint instant intervals (ranges minus workdays).
    pub(crate) fn intervals(&self, tz: Tz) -> Intervals {
        let whole_days = |first: NaiveDate, last: NaiveDate| {
            let end = last.succ_opt().unwrap_or(last).and_time(NaiveTime::MIN);
            (first.and_time(NaiveTime::MIN), end)
        };
        let to_instants = |(start, end): (NaiveDateTime, NaiveDateTime)| {
            Some((instant(tz, start)?, instant(tz, end)?)).filter(|(s, e)| s < e)
        };
        let holidays = merge(
            self.ranges
                .iter()
                .map(|r| match r {
                    HolidayRange::Dates { start, end, .. } => whole_days(*start, *end),
                    HolidayRange::Times { start, end, .. } => (*start, *end),
                })
                .filter_map(to_instants)
                .collect(),
        );
        let workdays = merge(
            self.workdays
                .iter()
                .map(|d| whole_days(*d, *d))
                .filter_map(to_instants)
                .collect(),
        );
        subtract(holidays, &workdays)
    }
}

/// The holiday interval containing `t`, if any.
pub(crate) fn holiday_at(
    intervals: &Intervals,
    t: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let i = intervals.partition_point(|(_, end)| *end <= t);
    intervals.get(i).copied().filter(|(start, _)| *start <= t)
}

/// A wall time in `tz`: the first occurrence if repeated, the first instant after a gap.
fn instant(tz: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None => chrono_tz::GapInfo::new(&wall, &tz)?
            .end
            .map(|t| t.with_timezone(&Utc)),
    }
}

fn merge(mut spans: Intervals) -> Intervals {
    spans.sort();
    let mut out: Intervals = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// `holidays` minus `cuts`; both sorted and disjoint.
fn subtract(holidays: Intervals, cuts: &Intervals) -> Intervals {
    let mut out = Vec::new();
    for (mut start, end) in holidays {
        for &(cut_start, cut_end) in cuts {
            if cut_end <= start || cut_start >= end {
                continue;
            }
            if cut_start > start {
                out.push((start, cut_start));
            }
            start = start.max(cut_end);
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

fn minutes(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    start: String,
    end: String,
}

enum Point {
    Date(NaiveDate),
    Time(NaiveDateTime),
}

fn point(text: &str) -> Result<Point, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Point::Date(date));
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .filter(|t| t.and_utc().timestamp() % 60 == 0)
    .map(Point::Time)
    .ok_or_else(|| format!("{text:?} is neither YYYY-MM-DD nor YYYY-MM-DDTHH:MM"))
}

impl TryFrom<RawRange> for HolidayRange {
    type Error = String;

    fn try_from(raw: RawRange) -> Result<Self, String> {
        match (point(&raw.start)?, point(&raw.end)?) {
            (Point::Date(start), Point::Date(end)) => Ok(Self::Dates {
                name: raw.name,
                start,
                end,
            }),
            (Point::Time(start), Point::Time(end)) => Ok(Self::Times {
                name: raw.name,
                start,
                end,
            }),
            _ => Err(format!(
                "range {:?}..{:?}: start and end must both be dates or both date-times",
                raw.start, raw.end
            )),
        }
    }
}

impl From<HolidayRange> for RawRange {
    fn from(range: HolidayRange) -> Self {
        match range {
            HolidayRange::Dates { name, start, end } => Self {
                name,
                start: start.to_string(),
                end: end.to_string(),
            },
            HolidayRange::Times { name, start, end } => Self {
                name,
                start: minutes(&start),
                end: minutes(&end),
            },
        }
    }
}

#[cfg(test)]
mod tests;
