//! One field of a cron expression: lists, ranges, steps, names, and the day-field specials.

use std::collections::BTreeSet;

use super::parse::{Dom, Dow, Role};
use super::{CronError, Dialect};

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

pub(super) struct FieldText<'a> {
    pub(super) chars: &'a [char],
    /// Char offset of `chars[0]` in the whole expression.
    pub(super) base: usize,
    pub(super) index: usize,
    pub(super) role: Role,
    pub(super) dialect: Dialect,
}

impl FieldText<'_> {
    pub(super) fn err(&self, at: usize, message: String) -> CronError {
        CronError::at(
            self.base + at,
            Some(self.index),
            format!("{} field: {message}", self.role.name()),
        )
    }

    /// Comma-separated items, each with its offset inside the field.
    fn items(&self) -> Result<Vec<(usize, &[char])>, CronError> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in self
            .chars
            .iter()
            .copied()
            .enumerate()
            .chain([(self.chars.len(), ',')])
        {
            if c == ',' {
                if i == start {
                    return Err(self.err(i, "empty list item".into()));
                }
                out.push((start, &self.chars[start..i]));
                start = i + 1;
            }
        }
        Ok(out)
    }

    /// A field of numbers, ranges and steps only.
    pub(super) fn plain(&self) -> Result<BTreeSet<u32>, CronError> {
        let mut set = BTreeSet::new();
        for (at, item) in self.items()? {
            self.range_item(at, item, &mut set)?;
        }
        Ok(set)
    }

    pub(super) fn day_of_month(&self) -> Result<Dom, CronError> {
        if self.chars == ['?'] || self.chars == ['*'] {
            return Ok(Dom::Any);
        }
        let (mut days, mut nearest, mut last, mut last_weekday) =
            (BTreeSet::new(), BTreeSet::new(), false, false);
        let items = self.items()?;
        for &(at, item) in &items {
            let upper: String = item.iter().map(|c| c.to_ascii_uppercase()).collect();
            if upper == "L" {
                last = true;
            } else if upper == "LW" {
                last_weekday = true;
            } else if let Some(rest) = upper.strip_prefix("L-") {
                if self.dialect != Dialect::Quartz {
                    return Err(self.err(at, "L-n is Quartz syntax".into()));
                }
                if items.len() > 1 {
                    return Err(self.err(at, "L-n must stand alone".into()));
                }
                let (digits, weekday) = match rest.strip_suffix('W') {
                    Some(d) => (d, true),
                    None => (rest, false),
                };
                let offset = number(digits)
                    .filter(|n| *n <= 30)
                    .ok_or_else(|| self.err(at + 2, "L-n needs n in 0-30".into()))?;
                return Ok(Dom::LastOffset { offset, weekday });
            } else if let Some(digits) = upper.strip_suffix('W') {
                let day = number(digits)
                    .filter(|d| (1..=31).contains(d))
                    .ok_or_else(|| self.err(at, "nW needs a day 1-31 before W".into()))?;
                nearest.insert(day);
            } else {
                self.range_item(at, item, &mut days)?;
            }
        }
        if last && last_weekday {
            return Err(self.err(0, "L and LW cannot be combined".into()));
        }
        Ok(Dom::Items {
            days,
            nearest_weekday: nearest,
            last,
            last_weekday,
        })
    }

    pub(super) fn day_of_week(&self) -> Result<Dow, CronError> {
        if self.chars == ['?'] || self.chars == ['*'] {
            return Ok(Dow::Any);
        }
        let (mut days, mut nth, mut last) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (at, item) in self.items()? {
            let is = |c: char| item.last().is_some_and(|l| l.eq_ignore_ascii_case(&c));
            if item.len() == 1 && is('L') {
                if self.dialect != Dialect::Quartz {
                    return Err(self.err(at, "L alone is Quartz syntax (Saturday)".into()));
                }
                days.insert(6);
            } else if let Some(hash) = item.iter().position(|&c| c == '#') {
                let day = self.weekday(at, &item[..hash])?;
                let tail: String = item[hash + 1..].iter().collect();
                if tail.eq_ignore_ascii_case("L") {
                    last.insert(day);
                } else {
                    let k = number(&tail)
                        .filter(|k| (1..=5).contains(k))
                        .ok_or_else(|| self.err(at + hash + 1, "# needs 1-5 after it".into()))?;
                    nth.insert((day, k));
                }
            } else if item.len() > 1
                && is('L')
                && item[..item.len() - 1].iter().all(char::is_ascii_digit)
            {
                last.insert(self.weekday(at, &item[..item.len() - 1])?);
            } else {
                let mut raw = BTreeSet::new();
                self.range_item(at, item, &mut raw)?;
                days.extend(raw.into_iter().map(|d| self.to_posix_weekday(d)));
            }
        }
        Ok(Dow::Items { days, nth, last })
    }

    fn weekday(&self, at: usize, text: &[char]) -> Result<u32, CronError> {
        let (value, used) = self.value(at, text)?;
        if used != text.len() {
            return Err(self.err(at + used, format!("unexpected {:?}", text[used])));
        }
        Ok(self.to_posix_weekday(value))
    }

    fn to_posix_weekday(&self, day: u32) -> u32 {
        match self.dialect {
            Dialect::Quartz => day - 1,
            _ => day % 7,
        }
    }

    /// `*`, `*/n`, `a`, `a-b`, `a/n`, `a-b/n`; `a-b` with `b < a` wraps around.
    fn range_item(
        &self,
        at: usize,
        item: &[char],
        set: &mut BTreeSet<u32>,
    ) -> Result<(), CronError> {
        let (min, max) = self.role.bounds(self.dialect);
        let (lo, hi, mut pos) = if item.first() == Some(&'*') {
            let (lo, hi) = self.role.star_range(self.dialect);
            (lo, hi, 1)
        } else {
            let (lo, used) = self.value(at, item)?;
            if item.get(used) == Some(&'-') {
                let (hi, used2) = self.value(at + used + 1, &item[used + 1..])?;
                (lo, hi, used + 1 + used2)
            } else if item.get(used) == Some(&'/') {
                (lo, max, used)
            } else {
                (lo, lo, used)
            }
        };
        let mut step = 1;
        if item.get(pos) == Some(&'/') {
            let digits: String = item[pos + 1..].iter().collect();
            let span = max - min + 1;
            step = number(&digits)
                .filter(|s| (1..=span).contains(s))
                .ok_or_else(|| self.err(at + pos + 1, format!("step must be 1-{span}")))?;
            pos = item.len();
        }
        if pos != item.len() {
            return Err(self.err(at + pos, format!("unexpected {:?}", item[pos])));
        }
        let size = max - min + 1;
        let len = if hi >= lo {
            hi - lo + 1
        } else {
            (max - lo + 1) + (hi - min + 1)
        };
        let mut p = 0;
        while p < len {
            set.insert(min + (lo - min + p) % size);
            p += step;
        }
        Ok(())
    }

    /// A number or a three-letter name at the start of `text`; returns the value and chars used.
    fn value(&self, at: usize, text: &[char]) -> Result<(u32, usize), CronError> {
        let (min, max) = self.role.bounds(self.dialect);
        let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            let n = number(&text[..digits].iter().collect::<String>())
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| self.err(at, format!("value must be {min}-{max}")))?;
            return Ok((n, digits));
        }
        let letters = text
            .iter()
            .take(3)
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let name: String = text[..letters]
            .iter()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let found = match self.role {
            Role::Month => MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1),
            Role::DayOfWeek => WEEKDAYS
                .iter()
                .position(|d| *d == name)
                .map(|i| i as u32 + u32::from(self.dialect == Dialect::Quartz)),
            _ => None,
        };
        match (found, text.first()) {
            (Some(v), _) if letters == 3 => Ok((v, 3)),
            (_, Some(c)) => Err(self.err(at, format!("unexpected {c:?}"))),
            (_, None) => Err(self.err(at, "missing value".into())),
        }
    }
}

/// Decimal digits only (at most 9, so no overflow).
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
