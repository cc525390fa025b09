//! DST tables in New York, Berlin, Sydney and Shanghai, and a whole year of fires per zone.

use chrono::{TimeDelta, TimeZone};

use super::tests::check;
use super::*;

#[test]
fn dst_in_four_zones() {
    let u = Dialect::Auto;
    let table: &[(&str, &str, &str, &[&str])] = &[
        // New York 2026: 03-08 02:00 EST → 03:00 EDT; 11-01 02:00 EDT → 01:00 EST.
        (
            "America/New_York",
            "30 2 * * *",
            "2026-03-07T12:00:00-05:00",
            &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        ),
        (
            "America/New_York",
            "0,30 2 * * *",
            "2026-03-07T12:00:00-05:00",
            &["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"],
        ),
        (
            "America/New_York",
            "0 0,15 2,3 ? * SUN",
            "2026-03-08T00:00:00-05:00",
            &["2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"],
        ),
        (
            "America/New_York",
            "*/30 * * * *",
            "2026-03-08T01:00:00-05:00",
            &[
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:30:00-04:00",
            ],
        ),
        (
            "America/New_York",
            "* * * * *",
            "2026-03-08T01:59:00-05:00",
            &["2026-03-08T03:00:00-04:00"],
        ),
        (
            "America/New_York",
            "0 * * * *",
            "2026-11-01T00:30:00-04:00",
            &[
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T02:00:00-05:00",
            ],
        ),
        (
            "America/New_York",
            "30 1 * * *",
            "2026-10-31T12:00:00-04:00",
            &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
        (
            "America/New_York",
            "0 30 1,13 * * ?",
            "2026-11-01T00:00:00-04:00",
            &["2026-11-01T01:30:00-04:00", "2026-11-01T13:30:00-05:00"],
        ),
        (
            "America/New_York",
            "0 30 1 * * ?",
            "2026-11-01T01:10:00-05:00",
            &["2026-11-02T01:30:00-05:00"],
        ),
        (
            "America/New_York",
            "*/20 * * * *",
            "2026-11-01T01:50:00-04:00",
            &["2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00"],
        ),
        // Berlin 2026: 03-29 02:00 CET → 03:00 CEST; 10-25 03:00 CEST → 02:00 CET.
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-03-28T12:00:00+01:00",
            &["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
        ),
        (
            "Europe/Berlin",
            "0 */15 * * * ?",
            "2026-03-29T01:40:00+01:00",
            &["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00"],
        ),
        (
            "Europe/Berlin",
            "0 * * * *",
            "2026-10-25T01:30:00+02:00",
            &[
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:00:00+01:00",
                "2026-10-25T03:00:00+01:00",
            ],
        ),
        (
            "Europe/Berlin",
            "30 2 * * *",
            "2026-10-24T12:00:00+02:00",
            &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        ),
        // Sydney 2026 (southern hemisphere): 04-05 03:00 AEDT → 02:00 AEST; 10-04 02:00 AEST → 03:00 AEDT.
        (
            "Australia/Sydney",
            "0 * * * *",
            "2026-04-05T01:30:00+11:00",
            &[
                "2026-04-05T02:00:00+11:00",
                "2026-04-05T02:00:00+10:00",
                "2026-04-05T03:00:00+10:00",
            ],
        ),
        (
            "Australia/Sydney",
            "30 2 * * *",
            "2026-04-04T12:00:00+11:00",
            &["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"],
        ),
        (
            "Australia/Sydney",
            "30 2 * * *",
            "2026-10-03T12:00:00+10:00",
            &["2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"],
        ),
        (
            "Australia/Sydney",
            "*/30 * * * *",
            "2026-10-04T01:30:00+10:00",
            &["2026-10-04T03:00:00+11:00"],
        ),
        // Shanghai: no DST, nothing moves.
        (
            "Asia/Shanghai",
            "30 2 * * *",
            "2026-03-07T12:00:00+08:00",
            &["2026-03-08T02:30:00+08:00", "2026-03-09T02:30:00+08:00"],
        ),
        (
            "Asia/Shanghai",
            "0 * * * *",
            "2026-11-01T00:30:00+08:00",
            &["2026-11-01T01:00:00+08:00", "2026-11-01T02:00:00+08:00"],
        ),
    ];
    for (zone, expr, start, expected) in table {
        check(expr, u, zone, start, expected);
    }
}

/// Over a whole year: strictly increasing fires, one per day for a daily job, one per
/// real hour for an hourly job, and `prev_before` undoes `next_after`.
#[test]
fn a_year_of_fires_is_ordered_and_complete() {
    for zone in [
        "America/New_York",
        "Europe/Berlin",
        "Australia/Sydney",
        "Asia/Shanghai",
        "Australia/Lord_Howe",
    ] {
        let tz: Tz = zone.parse().unwrap();
        let start = tz.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let end = tz.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        for (expr, per_day) in [
            ("30 2 * * *", true),
            ("0 0 1 * * ?", true),
            ("0 * * * *", false),
            ("*/20 * * * *", false),
        ] {
            let cron = CronExpr::parse(expr, Dialect::Auto).unwrap();
            let fires: Vec<_> = cron.iter_after(start).take_while(|t| *t < end).collect();
            assert!(
                fires.windows(2).all(|w| w[0] < w[1]),
                "{expr} in {zone}: order"
            );
            if per_day {
                let mut days: Vec<_> = fires.iter().map(|t| t.date_naive()).collect();
                days.dedup();
                assert_eq!((days.len(), fires.len()), (365, 365), "{expr} in {zone}");
            } else if zone != "Australia/Lord_Howe" {
                let minutes_per_fire = if expr.starts_with('0') { 60 } else { 20 };
                let real_minutes = (end - start).num_minutes();
                // `start` itself is a fire but not "after" it.
                let expected = real_minutes / minutes_per_fire - 1;
                assert_eq!(fires.len() as i64, expected, "{expr} in {zone}");
            }
            for t in fires.iter().step_by(97) {
                let probe = *t + TimeDelta::seconds(1);
                assert_eq!(
                    cron.prev_before(probe),
                    Some(*t),
                    "{expr} in {zone}: prev of {t}"
                );
            }
        }
    }
}

const SECONDS: &[&str] = &["0", "*", "*/15", "5-10", "0/20"];
const HOURS: &[&str] = &["*", "2", "1-3", "*/6", "22-2", "1,2"];
const DAYS: &[&str] = &["*", "L", "LW", "15W", "L-2", "L-1W", "31", "1-7", "8"];
const MONTHS: &[&str] = &["*", "3", "NOV-FEB", "*/3", "10,11"];
const WEEKDAYS: &[&str] = &["*", "MON-FRI", "6L", "2#3", "L", "SUN", "FRI-MON"];
const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Shanghai",
];

proptest::proptest! {
    /// Random well-formed Quartz expressions around DST days: fires increase strictly,
    /// and `prev_before` finds each one again.
    #[test]
    fn fires_increase_and_invert(
        picks in proptest::collection::vec(0usize..100, 7),
        zone in 0..ZONES.len(),
        day in 0i64..400,
    ) {
        let pick = |list: &[&'static str], i: usize| list[picks[i] % list.len()];
        // Quartz: exactly one day field is `?`.
        let (dom, dow) = if picks[6] % 2 == 0 {
            (pick(DAYS, 3), "?")
        } else {
            ("?", pick(WEEKDAYS, 5))
        };
        let expr = format!(
            "{} {} {} {dom} {} {dow}",
            pick(SECONDS, 0),
            pick(SECONDS, 1),
            pick(HOURS, 2),
            pick(MONTHS, 4)
        );
        let cron = CronExpr::parse(&expr, Dialect::Quartz).unwrap();
        let tz: Tz = ZONES[zone].parse().unwrap();
        let start = tz.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::hours(day * 22);
        let fires: Vec<_> = cron.iter_after(start).take(5).collect();
        let mut previous = start;
        for fire in &fires {
            proptest::prop_assert!(*fire > previous, "{expr} in {}: {fire} after {previous}", ZONES[zone]);
            proptest::prop_assert_eq!(cron.prev_before(*fire + TimeDelta::seconds(1)), Some(*fire));
            previous = *fire;
        }
    }
}
