//! Tables: JSON form, validation, holiday instants, working days, the shipped China files.

use chrono::NaiveDate;

use super::*;

const CN_2026: &str = include_str!("../../../../templates/holidays/cn-2026.json");
const CN_2027: &str = include_str!("../../../../templates/holidays/cn-2027.json");

fn calendar(json: &str) -> HolidayCalendar {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn instant(zone: &str, rfc3339: &str) -> DateTime<Tz> {
    let tz: Tz = zone.parse().unwrap();
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&tz)
}

const FREEZE: &str = r#"{
    "name": "ops",
    "ranges": [
        {"name": "change freeze", "start": "2026-03-14T09:00", "end": "2026-03-14T12:00"},
        {"start": "2026-02-15", "end": "2026-02-23"},
        {"start": "2026-03-08 01:30", "end": "2026-03-08T02:30:00"},
        {"start": "2026-04-01T00:00", "end": "2026-04-02T00:00"}
    ],
    "workdays": ["2026-02-20"]
}"#;

#[test]
fn json_round_trip() {
    let cal = calendar(FREEZE);
    assert_eq!(
        cal.ranges[0],
        HolidayRange::Times {
            name: Some("change freeze".into()),
            start: date("2026-03-14").and_hms_opt(9, 0, 0).unwrap(),
            end: date("2026-03-14").and_hms_opt(12, 0, 0).unwrap(),
        }
    );
    assert_eq!(
        cal.ranges[1],
        HolidayRange::Dates {
            name: None,
            start: date("2026-02-15"),
            end: date("2026-02-23"),
        }
    );
    let json = serde_json::to_value(&cal).unwrap();
    assert_eq!(json["ranges"][0]["start"], "2026-03-14T09:00");
    assert_eq!(json["ranges"][1]["end"], "2026-02-23");
    assert_eq!(
        serde_json::from_value::<HolidayCalendar>(json).unwrap(),
        cal
    );
}

#[test]
fn json_rejections() {
    let table = [
        (
            r#"{"start": "2026-01-01", "end": "2026-01-02T10:00"}"#,
            "both be dates or both date-times",
        ),
        (
            r#"{"start": "2026-01-01T10:00:30", "end": "2026-01-01T11:00"}"#,
            "neither",
        ),
        (r#"{"start": "tomorrow", "end": "2026-01-01"}"#, "neither"),
        (r#"{"start": "2026-02-30", "end": "2026-03-01"}"#, "neither"),
    ];
    for (range, words) in table {
        let json = format!(r#"{{"name": "x", "ranges": [{range}]}}"#);
        let err = serde_json::from_str::<HolidayCalendar>(&json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(words), "{range}: {err}");
    }
}

#[test]
fn validation_names_the_range() {
    let table = [
        (
            r#"{"start": "2026-01-03", "end": "2026-01-01"}"#,
            Some("before it starts"),
        ),
        (
            r#"{"start": "2026-01-01T12:00", "end": "2026-01-01T09:00"}"#,
            Some("before or when"),
        ),
        (
            r#"{"start": "2026-01-01T09:00", "end": "2026-01-01T09:00"}"#,
            Some("before or when"),
        ),
        (r#"{"start": "2026-01-01", "end": "2026-01-01"}"#, None),
    ];
    for (range, words) in table {
        let json = format!(
            r#"{{"name": "x", "ranges": [{{"start": "2026-05-01", "end": "2026-05-05"}}, {range}]}}"#
        );
        let result = calendar(&json).validate();
        match words {
            None => assert_eq!(result, Ok(()), "{range}"),
            Some(words) => {
                let err = result.unwrap_err();
                assert_eq!((err.range, err.calendar.as_str()), (1, "x"), "{range}");
                assert!(err.to_string().contains(words), "{err}");
                assert!(
                    err.to_string()
                        .starts_with("holiday calendar \"x\", range 1:"),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn holiday_instants() {
    let cal = calendar(FREEZE);
    // (zone, instant, holiday?)
    let table = [
        // The 3-hour range is [09:00, 12:00) in the schedule's zone.
        ("Asia/Shanghai", "2026-03-14T08:59:59+08:00", false),
        ("Asia/Shanghai", "2026-03-14T09:00:00+08:00", true),
        ("Asia/Shanghai", "2026-03-14T11:59:59+08:00", true),
        ("Asia/Shanghai", "2026-03-14T12:00:00+08:00", false),
        // ... and moves with the zone.
        ("Europe/Berlin", "2026-03-14T09:30:00+01:00", true),
        ("Europe/Berlin", "2026-03-14T09:30:00+08:00", false),
        // Whole dates, both ends inclusive; the make-up workday (02-20) is cut out.
        ("Asia/Shanghai", "2026-02-14T23:59:59+08:00", false),
        ("Asia/Shanghai", "2026-02-15T00:00:00+08:00", true),
        ("Asia/Shanghai", "2026-02-19T23:59:59+08:00", true),
        ("Asia/Shanghai", "2026-02-20T10:00:00+08:00", false),
        ("Asia/Shanghai", "2026-02-21T00:00:00+08:00", true),
        ("Asia/Shanghai", "2026-02-23T23:59:59+08:00", true),
        ("Asia/Shanghai", "2026-02-24T00:00:00+08:00", false),
        // New York, spring forward at 02:00: [01:30, 02:30) ends at the first instant after the gap.
        ("America/New_York", "2026-03-08T01:29:59-05:00", false),
        ("America/New_York", "2026-03-08T01:59:59-05:00", true),
        ("America/New_York", "2026-03-08T03:00:00-04:00", false),
    ];
    for (zone, at, expected) in table {
        assert_eq!(
            cal.is_holiday(&instant(zone, at)),
            expected,
            "{at} in {zone}"
        );
    }
}

#[test]
fn working_days() {
    let cn = calendar(CN_2026);
    let ops = calendar(FREEZE);
    // (calendar, date, working?)
    let table = [
        (&cn, "2026-01-02", false), // Friday, New Year holiday
        (&cn, "2026-01-04", true),  // Sunday, make-up workday
        (&cn, "2026-01-05", true),
        (&cn, "2026-01-10", false), // plain Saturday
        (&cn, "2026-02-14", true),  // Saturday, make-up workday
        (&cn, "2026-02-16", false), // Monday, Spring Festival
        (&cn, "2026-02-24", true),
        (&cn, "2026-02-28", true),
        (&cn, "2026-05-05", false),
        (&cn, "2026-05-09", true),
        (&cn, "2026-09-20", true),
        (&cn, "2026-10-07", false),
        (&cn, "2026-10-08", true),
        (&cn, "2026-10-10", true),
        (&ops, "2026-03-13", true), // Friday; the 3-hour freeze is the next day
        (&ops, "2026-04-01", false), // Wednesday, a date-time range from 00:00 to 24:00
        (&ops, "2026-02-20", true), // workday inside a date range
    ];
    for (cal, day, expected) in table {
        assert_eq!(
            cal.is_working_day(date(day)),
            expected,
            "{day} in {}",
            cal.name
        );
    }
}

#[test]
fn from_json_validates() {
    assert_eq!(
        HolidayCalendar::from_json(FREEZE).unwrap(),
        calendar(FREEZE)
    );
    let inverted = r#"{"name": "x", "ranges": [{"start": "2026-01-02", "end": "2026-01-01"}]}"#;
    assert!(
        matches!(HolidayCalendar::from_json(inverted), Err(crate::Error::Calendar(e)) if e.range == 0)
    );
    let err = HolidayCalendar::from_json(r#"{"name": "x", "ranges": 3}"#).unwrap_err();
    assert!(err.to_string().contains("line 1 column"), "{err}");
}

#[test]
fn shipped_china_files() {
    let cn26 = HolidayCalendar::from_json(CN_2026).unwrap();
    assert_eq!((cn26.ranges.len(), cn26.workdays.len()), (7, 6));
    // 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7 = 33 days off by date range.
    let days: i64 = cn26
        .ranges
        .iter()
        .map(|r| match r {
            HolidayRange::Dates { start, end, .. } => (*end - *start).num_days() + 1,
            HolidayRange::Times { .. } => 0,
        })
        .sum();
    assert_eq!(days, 33);
    // Every make-up workday is a Saturday or Sunday.
    assert!(
        cn26.workdays
            .iter()
            .all(|d| d.weekday().number_from_monday() >= 6)
    );
    let cn27 = HolidayCalendar::from_json(CN_2027).unwrap();
    assert!(cn27.note.as_deref().unwrap().starts_with("INCOMPLETE"));
    assert!(!cn27.is_working_day(date("2027-10-01")));
}
