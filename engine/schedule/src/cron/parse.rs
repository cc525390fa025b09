//! Cron text → field sets, with the position of every fault (the grammar of both dialects).
//!
//! The parser is ours, not croner's, for two reasons: croner's errors carry no
//! position, and the Quartz rules (`?` in exactly one day field, `L` alone in
//! day-of-week = Saturday, `L-n`, weekdays numbered 1–7 from Sunday) differ from
//! what croner accepts. The result is rendered into a canonical croner pattern
//! (seconds first, explicit numbers, POSIX weekdays) in `wall.rs`; one field is read in
//! `field.rs`.

use std::collections::BTreeSet;

use super::field::FieldText;
use super::{CronError, Dialect};

/// What a field means, independent of where it stands in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl Role {
    pub(super) fn name(self) -> &'static str {
        match self {
            Role::Second => "second",
            Role::Minute => "minute",
            Role::Hour => "hour",
            Role::DayOfMonth => "day-of-month",
            Role::Month => "month",
            Role::DayOfWeek => "day-of-week",
            Role::Year => "year",
        }
    }

    /// Inclusive bounds of the numbers a user may write (day-of-week: Unix 0–7, Quartz 1–7).
    pub(super) fn bounds(self, dialect: Dialect) -> (u32, u32) {
        match self {
            Role::Second | Role::Minute => (0, 59),
            Role::Hour => (0, 23),
            Role::DayOfMonth => (1, 31),
            Role::Month => (1, 12),
            Role::DayOfWeek if dialect == Dialect::Quartz => (1, 7),
            Role::DayOfWeek => (0, 7),
            Role::Year => (YEAR_MIN, YEAR_MAX),
        }
    }

    /// The range `*` stands for (Unix day-of-week: 0–6, so `*/2` does not count Sunday twice).
    pub(super) fn star_range(self, dialect: Dialect) -> (u32, u32) {
        match (self, dialect) {
            (Role::DayOfWeek, Dialect::Unix) => (0, 6),
            _ => self.bounds(dialect),
        }
    }
}

pub(super) const YEAR_MIN: u32 = 1970;
pub(super) const YEAR_MAX: u32 = 2999;

/// Day-of-month restriction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dom {
    /// `*` or `?`: no restriction.
    Any,
    /// Items croner can evaluate itself.
    Items {
        days: BTreeSet<u32>,
        nearest_weekday: BTreeSet<u32>,
        last: bool,
        last_weekday: bool,
    },
    /// Quartz `L-n` / `L-nW`: evaluated by our own day filter.
    LastOffset { offset: u32, weekday: bool },
}

/// Day-of-week restriction, weekdays numbered 0 = Sunday … 6 = Saturday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dow {
    Any,
    Items {
        days: BTreeSet<u32>,
        nth: BTreeSet<(u32, u32)>,
        last: BTreeSet<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fields {
    pub dialect: Dialect,
    pub seconds: BTreeSet<u32>,
    pub minutes: BTreeSet<u32>,
    pub hours: BTreeSet<u32>,
    pub dom: Dom,
    pub months: BTreeSet<u32>,
    pub dow: Dow,
    /// `None` = any year.
    pub years: Option<BTreeSet<u32>>,
    /// Unix `+` prefix on day-of-week: day-of-month AND day-of-week.
    pub dom_and_dow: bool,
    /// No `*` and no `/` in the second, minute and hour fields (see the DST rules).
    pub fixed_time: bool,
}

const ALIASES: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Parses `text` in `dialect` (`Auto` is resolved here by field count).
pub(super) fn parse(text: &str, dialect: Dialect) -> Result<Fields, CronError> {
    let trimmed = text.trim();
    if trimmed.starts_with('@') && dialect != Dialect::Quartz {
        let alias = ALIASES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| {
                let offset = text.chars().take_while(|c| c.is_whitespace()).count();
                CronError::at(offset, None, format!("unknown alias {trimmed:?}"))
            })?;
        return parse(alias.1, Dialect::Unix);
    }
    let chars: Vec<char> = text.chars().collect();
    let tokens = split_fields(&chars);
    let count = tokens.len();
    let dialect = match (dialect, count) {
        (Dialect::Auto, 5) => Dialect::Unix,
        (Dialect::Auto, 6 | 7) => Dialect::Quartz,
        (Dialect::Unix, 5..=7) | (Dialect::Quartz, 6 | 7) => dialect,
        _ => {
            let expected = match dialect {
                Dialect::Auto => "5 (Unix) or 6-7 (Quartz)",
                Dialect::Unix => "5 (or 6-7 with leading seconds)",
                Dialect::Quartz => "6 or 7",
            };
            let offset = tokens.get(7).map_or(chars.len(), |t| t.0);
            return Err(CronError::at(
                offset,
                None,
                format!("expected {expected} fields, found {count}"),
            ));
        }
    };
    let roles: &[Role] = match count {
        5 => &[
            Role::Minute,
            Role::Hour,
            Role::DayOfMonth,
            Role::Month,
            Role::DayOfWeek,
        ],
        6 => &[
            Role::Second,
            Role::Minute,
            Role::Hour,
            Role::DayOfMonth,
            Role::Month,
            Role::DayOfWeek,
        ],
        _ => &[
            Role::Second,
            Role::Minute,
            Role::Hour,
            Role::DayOfMonth,
            Role::Month,
            Role::DayOfWeek,
            Role::Year,
        ],
    };
    let mut fields = Fields {
        dialect,
        seconds: BTreeSet::from([0]),
        minutes: BTreeSet::new(),
        hours: BTreeSet::new(),
        dom: Dom::Any,
        months: BTreeSet::new(),
        dow: Dow::Any,
        years: None,
        dom_and_dow: false,
        fixed_time: true,
    };
    let mut question = [false; 2];
    for (index, (&role, &(start, end))) in roles.iter().zip(&tokens).enumerate() {
        let mut field = FieldText {
            chars: &chars[start..end],
            base: start,
            index,
            role,
            dialect,
        };
        if matches!(role, Role::Second | Role::Minute | Role::Hour)
            && field.chars.iter().any(|c| matches!(c, '*' | '/'))
        {
            fields.fixed_time = false;
        }
        match role {
            Role::Second => fields.seconds = field.plain()?,
            Role::Minute => fields.minutes = field.plain()?,
            Role::Hour => fields.hours = field.plain()?,
            Role::Month => fields.months = field.plain()?,
            Role::Year => {
                let years = field.plain()?;
                let all = (YEAR_MIN..=YEAR_MAX).all(|y| years.contains(&y));
                fields.years = (!all).then_some(years);
            }
            Role::DayOfMonth => {
                question[0] = field.chars == ['?'];
                fields.dom = field.day_of_month()?;
            }
            Role::DayOfWeek => {
                if dialect == Dialect::Unix && field.chars.first() == Some(&'+') {
                    fields.dom_and_dow = true;
                    field.chars = &field.chars[1..];
                    field.base += 1;
                }
                question[1] = field.chars == ['?'];
                fields.dow = field.day_of_week()?;
                if dialect == Dialect::Quartz && question[0] == question[1] {
                    let which = if question[0] {
                        "both have"
                    } else {
                        "neither has"
                    };
                    return Err(field.err(
                        0,
                        format!(
                            "Quartz needs '?' in exactly one of day-of-month and day-of-week ({which} it)"
                        ),
                    ));
                }
                if let (Dom::LastOffset { .. }, Dow::Items { .. }) = (&fields.dom, &fields.dow) {
                    return Err(field.err(0, "L-n in day-of-month needs '?' or '*' here".into()));
                }
            }
        }
    }
    Ok(fields)
}

/// Char ranges of the whitespace-separated fields.
fn split_fields(chars: &[char]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                tokens.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push((s, chars.len()));
    }
    tokens
}
