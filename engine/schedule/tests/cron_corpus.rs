//! Runs the shared cron corpus (croniter, Quartz, cron-utils facts) against `CronExpr`.
//!
//! `BATON_CRON_CASES` names the cases file (default: the shared development set).
//! Quartz and cron-utils cases are Quartz expressions, parsed as written. croniter
//! cases are rewritten into our Unix dialect — syntax only, no semantics:
//! croniter's seconds field (6th, or 7th-before-year) moves to the front unless
//! `second_at_beginning`; `Ln` (last weekday n) becomes `nL`; `l` in a range end of
//! day-of-month becomes 31 (`1-l/8` ≡ `1-31/8`: a step from the start never lands
//! on a day the month lacks); `day_or=False` becomes croner's `+` (AND) prefix.
//! Naive timestamps are wall-clock times in the case's `timezone` (UTC if none:
//! croniter treats naive as UTC, the Quartz "JVM default zone" cases are wall-clock).
//!
//! Prints `cron: N passed, N failed`, then each failure with its reason. Fails if a
//! portable case fails; a case is non-portable when the file says `portable: false`
//! or it is listed in [`NON_PORTABLE`].

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use baton_schedule::{CronExpr, Dialect};

/// Cases we treat as non-portable although the file does not, and why. (Empty: every
/// case the file calls portable passes.) The file's own non-portable cases are
/// cron-014 (croniter's `implement_cron_bug`: Vixie's intersection when a day field
/// starts with `*`; we follow POSIX, OR), cron-078 (wrap-around ranges; we support
/// them, so it passes) and cron-108 (cron-utils' 1970–2099 year bound applied to a
/// `*` year; we search from the start time).
const NON_PORTABLE: &[(&str, &str)] = &[];

fn main_path() -> String {
    std::env::var("BATON_CRON_CASES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/cron/cases.json"
        )
        .to_string()
    })
}

#[test]
fn cron_corpus() {
    let path = main_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("cases file is JSON");
    let cases = file["cases"].as_array().expect("`cases` array");
    let (mut passed, mut failures) = (0, Vec::new());
    for case in cases {
        let id = case["id"].as_str().unwrap_or("?").to_string();
        match run(case) {
            Ok(()) => passed += 1,
            Err(reason) => {
                let listed = NON_PORTABLE
                    .iter()
                    .find(|(n, _)| *n == id)
                    .map(|(_, why)| *why);
                let portable = case["portable"].as_bool().unwrap_or(true) && listed.is_none();
                failures.push((id, portable, reason));
            }
        }
    }
    println!("cron: {passed} passed, {} failed", failures.len());
    for (id, portable, reason) in &failures {
        let tag = if *portable { "" } else { " (non-portable)" };
        println!("  {id}{tag}: {reason}");
    }
    let portable_failures = failures.iter().filter(|f| f.1).count();
    assert_eq!(portable_failures, 0, "portable cron cases failed");
}

fn run(case: &Value) -> Result<(), String> {
    let field = |k: &str| case[k].as_str().ok_or(format!("missing {k}"));
    let (source, dialect) = translate(case)?;
    let expr = CronExpr::parse(&source, dialect).map_err(|e| format!("{source:?}: {e}"))?;
    let tz: Tz = match case["timezone"].as_str() {
        Some(name) => name.parse().map_err(|_| format!("unknown zone {name}"))?,
        None => offset_zone(field("start")?)?,
    };
    let start = instant(field("start")?, tz)?;
    let expected = case["expected"].as_array().ok_or("missing expected")?;
    let backwards = field("direction")? == "prev";
    let mut at = start.with_timezone(&tz);
    let mut got = Vec::new();
    for want in expected.iter().map(|v| v.as_str().unwrap_or("")) {
        let next = if backwards {
            expr.prev_before(at)
        } else {
            expr.next_after(at)
        };
        let Some(next) = next else {
            return Err(format!(
                "{source:?}: ran out after {got:?}, expected {want}"
            ));
        };
        if next.with_timezone(&Utc) != instant(want, tz)? {
            return Err(format!(
                "{source:?}: got {} after {got:?}, expected {want}",
                next.to_rfc3339()
            ));
        }
        got.push(next.to_rfc3339());
        at = next;
    }
    if expected.is_empty() {
        let next = if backwards {
            expr.prev_before(at)
        } else {
            expr.next_after(at)
        };
        if let Some(t) = next {
            return Err(format!(
                "{source:?}: expected no fire, got {}",
                t.to_rfc3339()
            ));
        }
    }
    Ok(())
}

/// A corpus timestamp: with an offset it is absolute, without one a wall time in `tz`.
fn instant(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|e| format!("timestamp {text:?}: {e}"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(format!("{text} does not exist in {tz}"))
}

/// No `timezone` given: a start with an offset (cron-utils' `ZonedDateTime` at a fixed
/// offset) is evaluated at that offset, as `Etc/GMT∓h`; otherwise UTC.
fn offset_zone(start: &str) -> Result<Tz, String> {
    let Ok(t) = DateTime::parse_from_rfc3339(start) else {
        return Ok(chrono_tz::UTC);
    };
    let seconds = t.offset().local_minus_utc();
    if seconds % 3600 != 0 {
        return Err(format!("offset {} has no Etc/GMT zone", t.offset()));
    }
    let hours = seconds / 3600;
    let name = match hours {
        0 => "UTC".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    name.parse().map_err(|_| format!("no zone {name}"))
}

/// The case's expression in one of our dialects.
fn translate(case: &Value) -> Result<(String, Dialect), String> {
    let expression = case["expression"].as_str().ok_or("missing expression")?;
    match case["dialect"].as_str() {
        Some("quartz" | "cron-utils") => Ok((expression.to_string(), Dialect::Quartz)),
        Some("croniter") => Ok((
            croniter_to_unix(expression, &case["options"])?,
            Dialect::Unix,
        )),
        other => Err(format!("unknown dialect {other:?}")),
    }
}

fn croniter_to_unix(expression: &str, options: &Value) -> Result<String, String> {
    let option = |k: &str| options.get(k).and_then(Value::as_bool);
    let mut fields: Vec<String> = expression.split_whitespace().map(str::to_string).collect();
    if !option("second_at_beginning").unwrap_or(false) && fields.len() >= 6 {
        let seconds = fields.remove(5);
        fields.insert(0, seconds);
    }
    let (dom, dow) = match fields.len() {
        5 => (2, 4),
        6 | 7 => (3, 5),
        n => return Err(format!("croniter expression with {n} fields")),
    };
    let lower = fields[dom].to_ascii_lowercase();
    fields[dom] = lower.replace("-l", "-31").replace('l', "L");
    let items: Vec<String> = fields[dow]
        .split(',')
        .map(|item| match item.strip_prefix(['L', 'l']) {
            Some(day) if !day.is_empty() && day.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{day}L")
            }
            _ => item.to_string(),
        })
        .collect();
    fields[dow] = items.join(",");
    if option("day_or") == Some(false) {
        fields[dow].insert(0, '+');
    }
    Ok(fields.join(" "))
}
