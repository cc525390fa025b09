//! Timer definitions → due times: ISO 8601 dates, durations and repeating
//! cycles (`R5/PT10S`, `R/2026-01-01T00:00:00Z/PT1H`). Pure date arithmetic
//! on the step's `now`; no clock.

use baton_model::Timer;
use chrono::{DateTime, Days, Months, NaiveDateTime, TimeDelta, Utc};

use super::Run;
use crate::state::{Cycle, ExecId};

impl Run<'_> {
    /// When a timer subscribed now first fires, and how it repeats.
    pub(super) fn timer_due(
        &self,
        exec: ExecId,
        t: &Timer,
    ) -> Result<(i64, Option<Cycle>), String> {
        let (tpl, kind) = match t {
            Timer::Date(x) => (x, 0),
            Timer::Duration(x) => (x, 1),
            Timer::Cycle(x) => (x, 2),
        };
        let text = self.render(exec, tpl).map_err(|e| e.to_string())?;
        let text = text.trim();
        match kind {
            0 => parse_date(text).map(|d| (d, None)),
            1 => Ok((add_duration(self.now, text)?, None)),
            _ => parse_cycle(self.now, text),
        }
    }
}

impl Run<'_> {
    /// When a user task created now is due: its `dueDate` (`camunda:`,
    /// `flowable:` or `baton:`) as a date-time, a date or a duration from
    /// now, or a `${}` expression over the task's variables giving one of
    /// those (or milliseconds since the epoch; `null`: no due date). `Err`
    /// names the value that would not do. A literal was checked at deploy.
    pub(super) fn task_due(
        &self,
        exec: ExecId,
        e: &baton_model::Element,
    ) -> Result<Option<i64>, String> {
        let Some(src) = e
            .ext
            .as_ref()
            .and_then(|x| x.attrs.get("dueDate"))
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        if !src.contains("${") && !src.contains("#{") {
            return due_date(self.now, src).map(Some);
        }
        let value = baton_expr::parse_template(src)
            .map_err(|e| format!("`{src}`: {e}"))?
            .eval_strict(&super::vars::ExecScope {
                st: self.st,
                exec,
                extra: None,
            })
            .map_err(|e| format!("`{src}`: {e}"))?;
        match value {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
            serde_json::Value::String(s) => due_date(self.now, &s)
                .map(Some)
                .map_err(|e| format!("`{src}`: {e}")),
            serde_json::Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64()),
            other => Err(format!(
                "`{src}`: {other} is not a date-time, date or duration"
            )),
        }
    }
}

/// A due date: an ISO 8601 date-time (UTC without an offset), a date (its
/// midnight, UTC) or a duration added to `now` (`P2D`, `PT4H`).
pub fn due_date(now: i64, s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.starts_with('P') {
        return add_duration(now, s);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    parse_date(s).map_err(|_| {
        format!(
            "`{s}` is not an ISO 8601 date-time, date or duration \
             (e.g. 2026-11-21T10:00:00Z, 2026-11-21, P2D, PT4H)"
        )
    })
}

/// An ISO 8601 date-time; without an offset it is taken as UTC.
pub fn parse_date(s: &str) -> Result<i64, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    Err(format!(
        "`{s}` is not an ISO 8601 date-time (e.g. 2026-11-21T10:00:00Z)"
    ))
}

/// `from` plus an ISO 8601 duration (`P1Y2M3DT4H5M6.5S`, `P2W`), with
/// calendar months and years.
pub fn add_duration(from: i64, s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not an ISO 8601 duration (e.g. PT10S, P1D, PT1H30M)");
    let body = s.strip_prefix('P').ok_or_else(bad)?;
    if body.is_empty() {
        return Err(bad());
    }
    let (date, time) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, t),
        Some(_) => return Err(bad()),
        None => (body, ""),
    };
    let mut at = DateTime::<Utc>::from_timestamp_millis(from).ok_or_else(bad)?;
    for (n, unit) in fields(date).ok_or_else(bad)? {
        let whole = u32::try_from(n as u64).map_err(|_| bad())?;
        if n.fract() != 0.0 {
            return Err(format!("`{s}`: fractions are allowed only on seconds"));
        }
        at = match unit {
            'Y' => at.checked_add_months(Months::new(whole.checked_mul(12).ok_or_else(bad)?)),
            'M' => at.checked_add_months(Months::new(whole)),
            'W' => at.checked_add_days(Days::new(u64::from(whole) * 7)),
            'D' => at.checked_add_days(Days::new(u64::from(whole))),
            _ => None,
        }
        .ok_or_else(bad)?;
    }
    let mut ms: f64 = 0.0;
    for (n, unit) in fields(time).ok_or_else(bad)? {
        ms += n * match unit {
            'H' => 3_600_000.0,
            'M' => 60_000.0,
            'S' => 1000.0,
            _ => return Err(bad()),
        };
    }
    if !ms.is_finite() || ms > 1e15 {
        return Err(bad());
    }
    let at = at
        .checked_add_signed(TimeDelta::milliseconds(ms.round() as i64))
        .ok_or_else(bad)?;
    Ok(at.timestamp_millis())
}

/// `12D3H` → [(12, 'D'), (3, 'H')].
fn fields(s: &str) -> Option<Vec<(f64, char)>> {
    let mut out = Vec::new();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            num.push(if c == ',' { '.' } else { c });
        } else {
            let n: f64 = num.parse().ok()?;
            out.push((n, c));
            num.clear();
        }
    }
    num.is_empty().then_some(out)
}

/// `R[n]/duration`, `R[n]/start/duration` or `R[n]/duration/end`.
pub fn parse_cycle(now: i64, s: &str) -> Result<(i64, Option<Cycle>), String> {
    let bad =
        |why: &str| format!("`{s}` is not an ISO 8601 repeating interval ({why}; e.g. R3/PT10S)");
    let mut parts = s.split('/');
    let r = parts.next().unwrap_or_default();
    let reps = r
        .strip_prefix('R')
        .ok_or_else(|| bad("it must start with R"))?;
    let reps: Option<u32> = if reps.is_empty() {
        None
    } else {
        Some(reps.parse().map_err(|_| bad("bad repetition count"))?)
    };
    let rest: Vec<&str> = parts.collect();
    let (start, dur) = match rest.as_slice() {
        [d] => (now, *d),
        [a, _] if a.starts_with('P') => (now, *a), // duration/end: the end bounds nothing here
        [a, b] => (parse_date(a)?, *b),
        _ => return Err(bad("wrong number of parts")),
    };
    let first = add_duration(start, dur)?;
    let every = first - start;
    if every <= 0 {
        return Err(bad("the interval must be positive"));
    }
    if reps == Some(0) {
        return Err(bad("R0 never fires"));
    }
    // A start in the past catches up to the first fire after now.
    let mut due = first;
    if due < now {
        let behind = (now - due) / every + 1;
        due += behind * every;
    }
    Ok((
        due,
        Some(Cycle {
            left: reps.map(|r| r - 1),
            every_ms: every,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        let t0 = parse_date("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(add_duration(t0, "PT10S").unwrap() - t0, 10_000);
        assert_eq!(add_duration(t0, "PT1.5S").unwrap() - t0, 1_500);
        assert_eq!(add_duration(t0, "P1DT1H").unwrap() - t0, 25 * 3_600_000);
        assert_eq!(
            add_duration(t0, "P1M").unwrap(),
            parse_date("2026-02-28T00:00:00Z").unwrap()
        );
        assert_eq!(add_duration(t0, "P2W").unwrap() - t0, 14 * 86_400_000);
        for bad in [
            "",
            "P",
            "PT",
            "10S",
            "P1X",
            "PT1D",
            "P1.5D",
            "PT99999999999999999999H",
        ] {
            assert!(add_duration(t0, bad).is_err(), "{bad}");
        }
        assert_eq!(parse_date("2026-01-31T08:00:00+08:00").unwrap(), t0);
        assert!(parse_date("tomorrow").is_err());
    }

    #[test]
    fn due_dates() {
        let t0 = parse_date("2026-01-31T00:00:00Z").unwrap();
        assert_eq!(due_date(t0, "P2D").unwrap() - t0, 2 * 86_400_000);
        assert_eq!(due_date(t0, " PT4H ").unwrap() - t0, 4 * 3_600_000);
        assert_eq!(due_date(0, "2026-01-31").unwrap(), t0);
        assert_eq!(due_date(0, "2026-01-31T08:00:00+08:00").unwrap(), t0);
        assert_eq!(due_date(0, "2026-01-31T00:00:00").unwrap(), t0);
        for bad in ["", "tomorrow", "P2X", "2026-02-30", "31/01/2026"] {
            let e = due_date(t0, bad).unwrap_err();
            assert!(e.contains(&format!("`{}`", bad.trim())), "{bad}: {e}");
        }
    }

    #[test]
    fn cycles() {
        let (due, c) = parse_cycle(0, "R4/PT1S").unwrap();
        assert_eq!(
            (due, c),
            (
                1000,
                Some(Cycle {
                    left: Some(3),
                    every_ms: 1000
                })
            )
        );
        let (_, c) = parse_cycle(0, "R/PT1M").unwrap();
        assert_eq!(c.unwrap().left, None);
        let (due, _) = parse_cycle(10_500, "R/1970-01-01T00:00:00Z/PT1S").unwrap();
        assert_eq!(due, 11_000);
        assert!(parse_cycle(0, "R0/PT1S").is_err());
        assert!(parse_cycle(0, "5/PT1S").is_err());
    }
}
