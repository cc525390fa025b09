//! Tables: accepted and rejected expressions with their positions, next/previous fires.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone};
use proptest::prelude::*;

use super::*;

fn at(tz: Tz, rfc3339: &str) -> DateTime<Tz> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&tz)
}

/// `expr` in `zone`, fires strictly after `start`, compared as RFC 3339 with offsets.
pub(super) fn check(expr: &str, dialect: Dialect, zone: &str, start: &str, expected: &[&str]) {
    let tz: Tz = zone.parse().unwrap();
    let cron = CronExpr::parse(expr, dialect).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let got: Vec<String> = cron
        .iter_after(at(tz, start))
        .take(expected.len())
        .map(|t| t.to_rfc3339())
        .collect();
    assert_eq!(got, expected, "{expr} in {zone} after {start}");
    if expected.is_empty() {
        assert_eq!(cron.next_after(at(tz, start)), None, "{expr}: no fire");
    }
    // prev_before walks the same fires back.
    if let Some(last) = expected.last() {
        let mut back = vec![];
        let mut cursor = at(tz, last);
        for _ in 1..expected.len() {
            cursor = cron.prev_before(cursor).unwrap();
            back.push(cursor.to_rfc3339());
        }
        back.reverse();
        assert_eq!(back, expected[..expected.len() - 1], "{expr}: prev_before");
    }
}

#[test]
fn next_fires_by_dialect() {
    use Dialect::{Auto, Quartz, Unix};
    let table: &[(&str, Dialect, &str, &[&str])] = &[
        // Unix: Vixie OR when both day fields are restricted.
        (
            "0 0 13 * FRI",
            Auto,
            "2026-02-01T00:00:00Z",
            &[
                "2026-02-06T00:00:00+00:00",
                "2026-02-13T00:00:00+00:00",
                "2026-02-20T00:00:00+00:00",
            ],
        ),
        // `+` makes it AND: Friday the 13th.
        (
            "0 0 13 * +FRI",
            Unix,
            "2026-01-01T00:00:00Z",
            &[
                "2026-02-13T00:00:00+00:00",
                "2026-03-13T00:00:00+00:00",
                "2026-11-13T00:00:00+00:00",
            ],
        ),
        (
            "0 0 * * 7",
            Unix,
            "2026-02-01T00:00:00Z",
            &["2026-02-08T00:00:00+00:00"],
        ),
        (
            "0 0 * * 5L",
            Unix,
            "2026-02-01T00:00:00Z",
            &["2026-02-27T00:00:00+00:00", "2026-03-27T00:00:00+00:00"],
        ),
        (
            "0 0 L * *",
            Unix,
            "2026-02-01T00:00:00Z",
            &["2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00"],
        ),
        (
            "@daily",
            Auto,
            "2026-02-01T10:00:00Z",
            &["2026-02-02T00:00:00+00:00"],
        ),
        (
            "0 0 1 NOV-FEB *",
            Unix,
            "2026-02-15T00:00:00Z",
            &[
                "2026-11-01T00:00:00+00:00",
                "2026-12-01T00:00:00+00:00",
                "2027-01-01T00:00:00+00:00",
                "2027-02-01T00:00:00+00:00",
            ],
        ),
        // Unix with seconds first (croner's extension) and a year.
        (
            "30 0 0 1 1 * 2030",
            Unix,
            "2026-01-01T00:00:00Z",
            &["2030-01-01T00:00:30+00:00"],
        ),
        // Quartz: weekdays 1-7 from Sunday, `?`, `L`, `W`, `#`, `L-n`, years.
        (
            "0 0 12 ? * 6",
            Quartz,
            "2026-02-01T00:00:00Z",
            &["2026-02-06T12:00:00+00:00"],
        ),
        (
            "0 0 12 ? * L",
            Quartz,
            "2026-02-01T00:00:00Z",
            &["2026-02-07T12:00:00+00:00"],
        ),
        (
            "0 0 12 ? * 6L",
            Quartz,
            "2026-02-01T00:00:00Z",
            &["2026-02-27T12:00:00+00:00"],
        ),
        (
            "0 0 12 ? * 2#1",
            Quartz,
            "2026-02-01T00:00:00Z",
            &["2026-02-02T12:00:00+00:00", "2026-03-02T12:00:00+00:00"],
        ),
        (
            "0 0 12 LW * ?",
            Quartz,
            "2026-02-01T00:00:00Z",
            &[
                "2026-02-27T12:00:00+00:00",
                "2026-03-31T12:00:00+00:00",
                "2026-04-30T12:00:00+00:00",
                "2026-05-29T12:00:00+00:00",
            ],
        ),
        (
            "0 0 12 1W * ?",
            Quartz,
            "2026-02-01T00:00:00Z",
            &[
                "2026-02-02T12:00:00+00:00",
                "2026-03-02T12:00:00+00:00",
                "2026-04-01T12:00:00+00:00",
            ],
        ),
        (
            "0 0 12 L-2 * ?",
            Quartz,
            "2026-02-01T00:00:00Z",
            &["2026-02-26T12:00:00+00:00", "2026-03-29T12:00:00+00:00"],
        ),
        (
            "0 0 12 L-1W * ?",
            Quartz,
            "2026-02-01T00:00:00Z",
            &[
                "2026-02-27T12:00:00+00:00",
                "2026-03-30T12:00:00+00:00",
                "2026-04-29T12:00:00+00:00",
            ],
        ),
        (
            "0 15 10 ? * MON-FRI 2027",
            Quartz,
            "2026-06-01T00:00:00Z",
            &["2027-01-01T10:15:00+00:00", "2027-01-04T10:15:00+00:00"],
        ),
        (
            "0 0/20 22-2 ? * *",
            Auto,
            "2026-02-01T23:50:00Z",
            &["2026-02-02T00:00:00+00:00", "2026-02-02T00:20:00+00:00"],
        ),
        (
            "0 0 0 1 3 ? 2001-2020/2",
            Quartz,
            "2025-01-01T00:00:00Z",
            &[],
        ),
        ("0 0 0 30 2 ?", Quartz, "2026-01-01T00:00:00Z", &[]),
    ];
    for (expr, dialect, start, expected) in table {
        check(expr, *dialect, "UTC", start, expected);
    }
}

#[test]
fn rejections_name_the_place() {
    use Dialect::{Auto, Quartz, Unix};
    // (expression, dialect, field, offset, words in the message)
    let table: &[(&str, Dialect, Option<usize>, usize, &str)] = &[
        ("", Auto, None, 0, "found 0"),
        ("* * * *", Auto, None, 7, "found 4"),
        ("* * * * * * * *", Auto, None, 14, "found 8"),
        ("* * * * *", Quartz, None, 9, "6 or 7"),
        ("61 * * * *", Auto, Some(0), 0, "0-59"),
        ("0 24 * * *", Unix, Some(1), 2, "0-23"),
        ("0 0 * * * *", Auto, Some(5), 10, "exactly one"),
        ("0 0 0 ? * ?", Quartz, Some(5), 10, "both"),
        ("0 0 12 ? * 8", Quartz, Some(5), 11, "1-7"),
        ("0 0 12 ? * 0", Quartz, Some(5), 11, "1-7"),
        ("*/0 * * * *", Unix, Some(0), 2, "step"),
        ("0 0 1,,2 * *", Unix, Some(2), 6, "empty"),
        ("0 0 * JANU *", Unix, Some(3), 9, "unexpected"),
        ("0 0 * * FRI#6", Unix, Some(4), 12, "1-5"),
        ("0 0 L-3 * *", Unix, Some(2), 4, "Quartz"),
        ("0 0 * * L", Unix, Some(4), 8, "Quartz"),
        ("0 0 12 32W * ?", Quartz, Some(3), 7, "1-31"),
        ("0 0 12 L-31 * ?", Quartz, Some(3), 9, "0-30"),
        ("0 0 12 L-2,3 * ?", Quartz, Some(3), 7, "alone"),
        ("0 0 12 * * ? 1969", Quartz, Some(6), 13, "1970-2999"),
        ("0 0 12 1-5x * ?", Quartz, Some(3), 10, "unexpected"),
        ("0 0 12 1 * ? +", Quartz, Some(6), 13, "unexpected"),
        ("@fortnightly", Auto, None, 0, "alias"),
        ("0 0 * * 1-é", Unix, Some(4), 10, "unexpected"),
    ];
    for (expr, dialect, field, offset, words) in table {
        let err = CronExpr::parse(expr, *dialect).expect_err(expr);
        assert_eq!((err.field, err.offset), (*field, *offset), "{expr}: {err}");
        assert!(err.message.contains(words), "{expr}: {err}");
    }
}

#[test]
fn dialect_auto_and_display() {
    let unix = CronExpr::parse(" 0 9 * * 1-5 ", Dialect::Auto).unwrap();
    assert_eq!(
        (unix.dialect(), unix.as_str(), unix.is_fixed_time()),
        (Dialect::Unix, "0 9 * * 1-5", true)
    );
    let quartz: CronExpr = "0 */5 * ? * *".parse().unwrap();
    assert_eq!(
        (quartz.dialect(), quartz.is_fixed_time()),
        (Dialect::Quartz, false)
    );
    assert_eq!(quartz.to_string(), "0 */5 * ? * *");
    let err = CronExpr::parse("0 0 * * * *", Dialect::Auto).unwrap_err();
    assert_eq!(
        err.to_string(),
        "field 6, character 11: day-of-week field: Quartz needs '?' in exactly one of day-of-month and day-of-week (neither has it)"
    );
    assert_eq!(
        serde_json::to_string(&Dialect::Quartz).unwrap(),
        "\"quartz\""
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    let cron = CronExpr::parse("* * * * * ?", Dialect::Quartz).unwrap();
    for t in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let _ = cron.next_after(t.with_timezone(&Tz::Europe__Berlin));
        let _ = cron.prev_before(t.with_timezone(&Tz::Europe__Berlin));
    }
    // croner searches up to the year 5000.
    let late = Tz::UTC.with_ymd_and_hms(5000, 12, 31, 23, 59, 59).unwrap();
    assert_eq!(cron.next_after(late), None);
    assert_eq!(late.year(), 5000);
}

const TOKENS: &[&str] = &[
    "*", "?", "L", "W", "#", "-", "/", ",", "+", "0", "1", "5", "7", "12", "31", "60", "99", "MON",
    "fri", "JAN", "L-", "LW", " ", " ", " ", "@daily", "é", "\t",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,40}") {
        for dialect in [Dialect::Auto, Dialect::Quartz, Dialect::Unix] {
            let _ = CronExpr::parse(&text, dialect);
        }
    }

    #[test]
    fn cron_like_text_never_panics(parts in proptest::collection::vec(0..TOKENS.len(), 0..24), hour in 0u32..48) {
        let text: String = parts.iter().map(|i| TOKENS[*i]).collect();
        for dialect in [Dialect::Auto, Dialect::Quartz, Dialect::Unix] {
            if let Ok(cron) = CronExpr::parse(&text, dialect) {
                let start = Tz::America__New_York.with_ymd_and_hms(2026, 3, 7, 0, 0, 0).unwrap()
                    + TimeDelta::hours(i64::from(hour));
                if let Some(next) = cron.next_after(start) {
                    prop_assert!(next > start);
                }
            }
        }
    }
}
