//! Tables: validation, effective fires (window, skip, shift), misfire after downtime.

use super::*;
use crate::preview;

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn utcs(list: &[&str]) -> Vec<DateTime<Utc>> {
    list.iter().map(|t| utc(t)).collect()
}

/// A Shanghai schedule with a 3-hour holiday on 2026-03-14 (09:00–12:00) and the
/// given overrides applied to its JSON.
fn schedule(cron: &str, extra: serde_json::Value) -> Schedule {
    let mut json = serde_json::json!({
        "cron": cron,
        "tz": "Asia/Shanghai",
        "calendar": {
            "name": "ops",
            "ranges": [{"start": "2026-03-14T09:00", "end": "2026-03-14T12:00"}]
        }
    });
    for (k, v) in extra.as_object().unwrap() {
        json[k] = v.clone();
    }
    serde_json::from_value(json).unwrap()
}

#[test]
fn validation_errors() {
    let bad_cron = ScheduleSpec::new("0 0 25 * * ?", "UTC").unwrap_err();
    assert!(
        matches!(&bad_cron, Error::Cron { cause, .. } if cause.field == Some(2) && cause.offset == 4)
    );
    assert_eq!(
        bad_cron.to_string(),
        "cron expression \"0 0 25 * * ?\": field 3, character 5: hour field: value must be 0-23"
    );
    assert_eq!(
        ScheduleSpec::new("0 9 * * *", "Asia/Shangai").unwrap_err(),
        Error::UnknownTimeZone("Asia/Shangai".into())
    );
    let mut spec = ScheduleSpec::new("0 9 * * *", "Asia/Shanghai").unwrap();
    for (from, until) in [
        ("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
    ] {
        spec.valid_from = Some(utc(from));
        spec.valid_until = Some(utc(until));
        assert!(
            matches!(spec.validate(), Err(Error::EmptyWindow { .. })),
            "{from}..{until}"
        );
    }
    spec.valid_until = None;
    spec.calendar = Some(
        serde_json::from_str(
            r#"{"name": "c", "ranges": [{"start": "2026-01-02", "end": "2026-01-01"}]}"#,
        )
        .unwrap(),
    );
    let err = spec.validate().unwrap_err();
    assert!(matches!(&err, Error::Calendar(e) if e.range == 0), "{err}");
    // Deserializing a Schedule validates.
    let err =
        serde_json::from_str::<Schedule>(r#"{"cron": "0 0 * * * *", "tz": "UTC"}"#).unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
    let err = serde_json::from_str::<Schedule>(r#"{"cron": "0 * * * *", "tz": "Mars/Olympus"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("Mars/Olympus"), "{err}");
}

#[test]
fn json_form() {
    let s = schedule(
        "0 0 9 ? * MON-FRI",
        serde_json::json!({"dialect": "quartz", "valid_from": "2026-01-01T00:00:00Z",
            "holiday_policy": "shift_to_next_working_time", "misfire": {"catch_up": {"window": 3600}}}),
    );
    let spec = s.spec();
    assert_eq!(
        (spec.dialect, spec.tz, spec.holiday_policy),
        (
            Dialect::Quartz,
            Tz::Asia__Shanghai,
            HolidayPolicy::ShiftToNextWorkingTime
        )
    );
    assert_eq!(
        spec.misfire,
        MisfirePolicy::CatchUp {
            window: Duration::from_secs(3600)
        }
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["tz"], "Asia/Shanghai");
    assert_eq!(
        json["misfire"],
        serde_json::json!({"catch_up": {"window": 3600}})
    );
    assert_eq!(serde_json::from_value::<Schedule>(json).unwrap(), s);
    let defaults = schedule("0 9 * * *", serde_json::json!({}));
    assert_eq!(
        (defaults.spec().holiday_policy, defaults.spec().misfire),
        (HolidayPolicy::Skip, MisfirePolicy::FireOnceNow)
    );
    assert_eq!(serde_json::to_value(MisfirePolicy::Skip).unwrap(), "skip");
}

#[test]
fn effective_fires() {
    let shift = serde_json::json!({"holiday_policy": "shift_to_next_working_time"});
    // (schedule, after, expected fires)
    let table: Vec<(Schedule, &str, Vec<&str>)> = vec![
        // Window: valid_from inclusive, valid_until exclusive.
        (
            schedule(
                "0 9 * * *",
                serde_json::json!({"valid_from": "2026-03-02T01:00:00Z", "valid_until": "2026-03-05T01:00:00Z"}),
            ),
            "2026-01-01T00:00:00Z",
            vec![
                "2026-03-02T01:00:00Z",
                "2026-03-03T01:00:00Z",
                "2026-03-04T01:00:00Z",
            ],
        ),
        // Skip: hourly fires inside 09:00–12:00 (+08:00) are dropped.
        (
            schedule("0 * * * *", serde_json::json!({})),
            "2026-03-13T23:30:00Z",
            vec![
                "2026-03-14T00:00:00Z",
                "2026-03-14T04:00:00Z",
                "2026-03-14T05:00:00Z",
            ],
        ),
        // Shift: 09:00, 10:00, 11:00 and the regular 12:00 collapse into one fire at 12:00.
        (
            schedule("0 * * * *", shift.clone()),
            "2026-03-13T23:30:00Z",
            vec![
                "2026-03-14T00:00:00Z",
                "2026-03-14T04:00:00Z",
                "2026-03-14T05:00:00Z",
            ],
        ),
        // Shift a daily 10:00 fire to 12:00; the next day is untouched.
        (
            schedule("0 10 * * *", shift.clone()),
            "2026-03-13T12:00:00Z",
            vec!["2026-03-14T04:00:00Z", "2026-03-15T02:00:00Z"],
        ),
        // Asked from inside the holiday, after the 10:00 fire: it still comes, at 12:00.
        (
            schedule("0 10 * * *", shift.clone()),
            "2026-03-14T03:00:00Z",
            vec!["2026-03-14T04:00:00Z"],
        ),
        // Skip from inside the holiday: nothing until the next day.
        (
            schedule("0 10 * * *", serde_json::json!({})),
            "2026-03-14T03:00:00Z",
            vec!["2026-03-15T02:00:00Z"],
        ),
        // A shifted fire at or after valid_until is dropped.
        (
            schedule(
                "0 10 * * *",
                serde_json::json!({"holiday_policy": "shift_to_next_working_time", "valid_until": "2026-03-14T04:00:00Z"}),
            ),
            "2026-03-13T12:00:00Z",
            vec![],
        ),
        // Never fires.
        (
            schedule("0 0 0 30 2 ?", serde_json::json!({})),
            "2026-01-01T00:00:00Z",
            vec![],
        ),
    ];
    for (s, after, expected) in table {
        assert_eq!(
            s.next_fires(utc(after), expected.len().max(1)),
            utcs(&expected),
            "{} after {after}",
            s.spec().cron
        );
    }
}

#[test]
fn china_workday_calendar() {
    let cn: HolidayCalendar =
        serde_json::from_str(include_str!("../../../../templates/holidays/cn-2026.json")).unwrap();
    let fires = preview(
        "0 0 9 ? * MON-FRI",
        "Asia/Shanghai",
        Some(&cn),
        utc("2026-02-12T00:00:00Z"),
        3,
    )
    .unwrap();
    let shown: Vec<String> = fires.iter().map(|t| t.to_rfc3339()).collect();
    assert_eq!(
        shown,
        [
            "2026-02-12T09:00:00+08:00",
            "2026-02-13T09:00:00+08:00",
            "2026-02-24T09:00:00+08:00"
        ]
    );
    assert_eq!(
        preview(
            "0 9 * * *",
            "Asia/Shanghai",
            None,
            utc("2026-02-12T00:00:00Z"),
            1
        )
        .unwrap()[0]
            .to_rfc3339(),
        "2026-02-12T09:00:00+08:00"
    );
    assert!(matches!(
        preview("0 9 * *", "UTC", None, utc("2026-01-01T00:00:00Z"), 1),
        Err(Error::Cron { .. })
    ));
    assert!(matches!(
        preview("0 9 * * *", "CST", None, utc("2026-01-01T00:00:00Z"), 1),
        Err(Error::UnknownTimeZone(_))
    ));
}

#[test]
fn calendars_that_cover_everything_end() {
    let all = serde_json::json!({"calendar": {"name": "all", "ranges": [{"start": "1970-01-01", "end": "2999-12-31"}]}});
    let bounded = schedule("0 0 12 * * ? 2026-2030", all.clone());
    assert!(
        bounded
            .next_fires(utc("2026-01-01T00:00:00Z"), 5)
            .is_empty()
    );
    let mut shifted = all;
    shifted["holiday_policy"] = "shift_to_next_working_time".into();
    let s = schedule("*/5 * * * * ?", shifted);
    assert_eq!(
        s.next_fires(utc("2026-01-01T00:00:00Z"), 2),
        utcs(&["2999-12-31T16:00:00Z", "2999-12-31T16:00:05Z"])
    );
}

#[test]
fn misfires_after_downtime() {
    let hourly = |misfire: serde_json::Value| {
        schedule(
            "0 * * * *",
            serde_json::json!({ "misfire": misfire, "calendar": null }),
        )
    };
    let catch_up = |secs: u64| serde_json::json!({"catch_up": {"window": secs}});
    // (schedule, last fired, now, due)
    let table = vec![
        (
            hourly("fire_once_now".into()),
            "2026-03-14T08:00:00Z",
            "2026-03-14T12:30:00Z",
            vec!["2026-03-14T12:00:00Z"],
        ),
        (
            hourly("fire_once_now".into()),
            "2026-03-14T08:00:00Z",
            "2026-03-14T12:00:00Z",
            vec!["2026-03-14T12:00:00Z"],
        ),
        (
            hourly("fire_once_now".into()),
            "2026-03-14T08:00:00Z",
            "2026-03-14T08:59:59Z",
            vec![],
        ),
        (
            hourly("fire_once_now".into()),
            "2026-03-14T13:00:00Z",
            "2026-03-14T12:00:00Z",
            vec![],
        ),
        (
            hourly("skip".into()),
            "2026-03-14T08:00:00Z",
            "2026-03-14T12:30:00Z",
            vec![],
        ),
        (
            hourly(catch_up(7200)),
            "2026-03-14T08:00:00Z",
            "2026-03-14T12:30:00Z",
            vec!["2026-03-14T11:00:00Z", "2026-03-14T12:00:00Z"],
        ),
        (
            hourly(catch_up(7200)),
            "2026-03-14T08:00:00Z",
            "2026-03-14T13:00:00Z",
            vec![
                "2026-03-14T11:00:00Z",
                "2026-03-14T12:00:00Z",
                "2026-03-14T13:00:00Z",
            ],
        ),
        (
            hourly(catch_up(36_000)),
            "2026-03-14T08:00:00Z",
            "2026-03-14T12:30:00Z",
            vec![
                "2026-03-14T09:00:00Z",
                "2026-03-14T10:00:00Z",
                "2026-03-14T11:00:00Z",
                "2026-03-14T12:00:00Z",
            ],
        ),
        // With the 09:00-12:00 (+08:00) holiday skipped, only fires outside it are due.
        (
            schedule(
                "0 * * * *",
                serde_json::json!({"misfire": catch_up(36_000)}),
            ),
            "2026-03-14T00:00:00Z",
            "2026-03-14T04:30:00Z",
            vec!["2026-03-14T04:00:00Z"],
        ),
    ];
    for (s, last, now, due) in table {
        assert_eq!(
            s.due_after_downtime(utc(last), utc(now)),
            utcs(&due),
            "{:?} {last}..{now}",
            s.spec().misfire
        );
    }
    // Catch-up is bounded and keeps the most recent fires.
    let every_second = schedule(
        "* * * * * ?",
        serde_json::json!({"misfire": catch_up(86_400), "calendar": null}),
    );
    let due =
        every_second.due_after_downtime(utc("2026-03-13T00:00:00Z"), utc("2026-03-14T00:00:00Z"));
    assert_eq!(due.len(), MAX_CATCH_UP);
    assert_eq!(due.last(), Some(&utc("2026-03-14T00:00:00Z")));
    assert!(due.windows(2).all(|w| w[1] - w[0] == TimeDelta::seconds(1)));
}

proptest::proptest! {
    /// Random date-time holidays on one day, both policies: effective fires increase
    /// strictly, none falls inside a holiday, and `prev_fire` finds each one again.
    #[test]
    fn effective_fires_are_ordered_and_outside_holidays(
        ranges in proptest::collection::vec((0u32..48, 1u32..12), 0..5),
        shift in proptest::bool::ANY,
        cron in 0usize..3,
    ) {
        let ranges: Vec<_> = ranges
            .iter()
            .map(|(start, len)| {
                let at = |half_hours: u32| {
                    let t = utc("2026-03-14T00:00:00+08:00") + TimeDelta::minutes(30 * i64::from(half_hours));
                    t.with_timezone(&Tz::Asia__Shanghai).format("%Y-%m-%dT%H:%M").to_string()
                };
                serde_json::json!({"start": at(*start), "end": at(start + len)})
            })
            .collect();
        let policy = if shift { "shift_to_next_working_time" } else { "skip" };
        let expr = ["0 * * * *", "*/15 * * * *", "0 10,11 * * *"][cron];
        let s = schedule(
            expr,
            serde_json::json!({"holiday_policy": policy, "calendar": {"name": "p", "ranges": ranges}}),
        );
        let fires = s.next_fires(utc("2026-03-13T12:00:00Z"), 60);
        proptest::prop_assert!(fires.windows(2).all(|w| w[0] < w[1]));
        let cal = s.spec().calendar.clone().unwrap();
        for fire in &fires {
            proptest::prop_assert!(!cal.is_holiday(&fire.with_timezone(&Tz::Asia__Shanghai)), "{fire}");
            proptest::prop_assert_eq!(s.prev_fire(*fire + TimeDelta::seconds(1)), Some(*fire));
        }
    }
}
