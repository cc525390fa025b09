//! Durable schedules against real databases with a test clock: a cron fires
//! once per tick, `valid_until` stops it, holiday ranges skip ticks, bad specs
//! are rejected on save, misfire policies after a gap, and two engines on one
//! PostgreSQL perform each tick exactly once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_runtime::engine::{Engine, Options, TestClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::store::{
    Batch, Error as StoreError, InstanceFilter, Overlap, ScheduleFireRow, ScheduleRow,
};
use baton_schedule::ScheduleSpec;
use common::{TestDb, on_both};
use serde_json::{Map, Value, json};

const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t""#;
/// 2027-01-15T08:00:00Z, on a minute boundary.
const T0: i64 = 1_800_000_000_000;
const MINUTE: i64 = 60_000;

async fn engine_named(db: &TestDb, clock: Arc<TestClock>, name: &str, lease_ms: i64) -> Engine {
    let opts = Options {
        worker: name.into(),
        poll: Duration::from_millis(10),
        lease_ms,
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    Engine::start(store, clock, Arc::new(Builtin::default()), opts)
        .await
        .unwrap()
}

async fn engine(db: &TestDb) -> (Engine, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(T0));
    let e = engine_named(db, clock.clone(), "a", 60_000).await;
    let xml = format!(
        r#"<definitions {NS} id="ds"><process id="tick" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="e"/><endEvent id="e"/>
          </process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    (e, clock)
}

/// A schedule of process `tick` from a spec in its JSON form.
fn schedule(spec: Value) -> ScheduleRow {
    ScheduleRow {
        id: String::new(),
        name: "every minute".into(),
        process_key: "tick".into(),
        process_version: None,
        vars: Map::new(),
        spec: serde_json::from_value(spec).unwrap(),
        enabled: true,
        overlap: Overlap::Allow,
        next_fire_at: None,
        last_fired_at: None,
        last_instance: None,
        created_at: 0,
        updated_at: 0,
    }
}

async fn scheduled(e: &Engine) -> usize {
    let f = InstanceFilter {
        start_way: Some("schedule".into()),
        ..Default::default()
    };
    e.store().count_instances(&f).await.unwrap() as usize
}

async fn until_scheduled(e: &Engine, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while scheduled(e).await != n {
        assert!(
            Instant::now() < deadline,
            "expected {n} scheduled instances, have {}",
            scheduled(e).await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Nothing more happens: a few poll rounds pass and the count stays.
async fn stays(e: &Engine, n: usize) {
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(scheduled(e).await, n);
}

/// Wait (bounded) until the schedule's next fire is `at`.
async fn until_next(e: &Engine, id: &str, at: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while e.store().schedule(id).await.unwrap().unwrap().next_fire_at != Some(at) {
        assert!(
            Instant::now() < deadline,
            "schedule {id} not advanced to {at}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn fires(e: &Engine, id: &str) -> Vec<i64> {
    e.store()
        .schedule_fires(id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.fire_at)
        .collect()
}

on_both!(
    cron_fires_once_per_minute,
    valid_until_stops_firing,
    holiday_range_skips_ticks,
    bad_specs_are_rejected_on_save,
    misfire_fire_once_now_after_a_gap,
    misfire_skip_after_a_gap,
    overlap_skip_waits_for_the_last_run,
    overlap_queue_holds_ticks_until_the_last_run_ends,
    a_tick_is_stored_once,
);

async fn cron_fires_once_per_minute(db: TestDb) {
    let (e, clock) = engine(&db).await;
    let mut vars = Map::new();
    vars.insert("region".into(), "east".into());
    let s = e
        .save_schedule(ScheduleRow {
            vars,
            ..schedule(json!({"cron": "* * * * *", "tz": "UTC"}))
        })
        .await
        .unwrap();
    assert_eq!(s.next_fire_at, Some(T0 + MINUTE));
    assert_eq!(e.list_schedules().await.unwrap().len(), 1);
    stays(&e, 0).await;
    for i in 1..=5 {
        clock.advance(MINUTE);
        until_scheduled(&e, i).await;
    }
    stays(&e, 5).await;
    let expected: Vec<i64> = (1..=5).map(|i| T0 + i * MINUTE).collect();
    assert_eq!(fires(&e, &s.id).await, expected);
    let row = e.store().schedule(&s.id).await.unwrap().unwrap();
    assert_eq!(row.next_fire_at, Some(T0 + 6 * MINUTE));
    assert_eq!(row.last_fired_at, Some(T0 + 5 * MINUTE));
    // The instance carries the start way and the schedule's variables.
    let last = row.last_instance.clone().expect("last instance recorded");
    let inst = e.store().load_instance(&last).await.unwrap().unwrap();
    assert_eq!(inst.start_way, "schedule");
    let state = String::from_utf8_lossy(&inst.state).into_owned();
    assert!(state.contains("\"LWAMS_PROCESS_START_WAY\":\"schedule\""));
    assert!(state.contains("\"region\":\"east\""));
    // Saved again, disabled: no ticks; what it did is kept.
    let off = e
        .save_schedule(ScheduleRow {
            enabled: false,
            ..row.clone()
        })
        .await
        .unwrap();
    assert_eq!(off.created_at, T0);
    assert_eq!(off.last_fired_at, Some(T0 + 5 * MINUTE));
    assert!(!off.enabled);
    clock.advance(MINUTE);
    stays(&e, 5).await;
    // Enabled again: from the next tick after now, no catch-up of the disabled time.
    let on = e
        .save_schedule(ScheduleRow {
            enabled: true,
            ..off
        })
        .await
        .unwrap();
    assert_eq!(on.next_fire_at, Some(T0 + 7 * MINUTE));
    clock.advance(MINUTE);
    until_scheduled(&e, 6).await;
    // Deleted: no more ticks.
    assert!(e.delete_schedule(&s.id).await.unwrap());
    assert!(e.store().schedule_fires(&s.id).await.unwrap().is_empty());
    clock.advance(MINUTE);
    stays(&e, 6).await;
}

async fn valid_until_stops_firing(db: TestDb) {
    let (e, clock) = engine(&db).await;
    // [T0, T0 + 3 min): ticks at +1 and +2 only.
    let s = e
        .save_schedule(schedule(json!({
            "cron": "0 * * * * ?", "dialect": "quartz", "tz": "Asia/Shanghai",
            "valid_until": "2027-01-15T08:03:00Z"
        })))
        .await
        .unwrap();
    assert_eq!(
        e.preview_schedule(&s.id, 10).await.unwrap(),
        vec![T0 + MINUTE, T0 + 2 * MINUTE]
    );
    for want in [1, 2, 2, 2] {
        clock.advance(MINUTE);
        until_scheduled(&e, want).await;
        stays(&e, want).await;
    }
    let row = e.store().schedule(&s.id).await.unwrap().unwrap();
    assert_eq!(row.next_fire_at, None, "never fires again");
}

async fn holiday_range_skips_ticks(db: TestDb) {
    let (e, clock) = engine(&db).await;
    // A change freeze 16:02–16:04 Shanghai time (08:02–08:04 UTC), end exclusive.
    let s = e
        .save_schedule(schedule(json!({
            "cron": "* * * * *", "tz": "Asia/Shanghai",
            "calendar": {"name": "freeze", "ranges": [
                {"start": "2027-01-15T16:02", "end": "2027-01-15T16:04"}
            ]}
        })))
        .await
        .unwrap();
    assert_eq!(
        e.preview_schedule(&s.id, 3).await.unwrap(),
        vec![T0 + MINUTE, T0 + 4 * MINUTE, T0 + 5 * MINUTE]
    );
    for want in [1, 1, 1, 2, 3] {
        clock.advance(MINUTE);
        until_scheduled(&e, want).await;
        stays(&e, want).await;
    }
    assert_eq!(
        fires(&e, &s.id).await,
        vec![T0 + MINUTE, T0 + 4 * MINUTE, T0 + 5 * MINUTE]
    );
}

async fn bad_specs_are_rejected_on_save(db: TestDb) {
    let (e, _) = engine(&db).await;
    let invalid = |r: Result<ScheduleRow, baton_runtime::engine::Error>| match r {
        Err(baton_runtime::engine::Error::Store(StoreError::Invalid { what })) => what,
        other => panic!("expected a rejection, got {other:?}"),
    };
    // Minute 61: the fault's field and character are named.
    let what = invalid(
        e.save_schedule(schedule(json!({"cron": "0 61 * * * ?", "tz": "UTC"})))
            .await,
    );
    assert!(what.contains("field 2, character 3"), "{what}");
    // Inverted window.
    let what = invalid(
        e.save_schedule(schedule(json!({
            "cron": "* * * * *", "tz": "UTC",
            "valid_from": "2027-02-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"
        })))
        .await,
    );
    assert!(what.contains("empty validity window"), "{what}");
    // A calendar range that ends before it starts.
    let what = invalid(
        e.save_schedule(schedule(json!({
            "cron": "* * * * *", "tz": "UTC",
            "calendar": {"name": "c", "ranges": [{"start": "2027-01-05", "end": "2027-01-01"}]}
        })))
        .await,
    );
    assert!(what.contains("range 0"), "{what}");
    // An unknown zone cannot even be read as a spec (JSON, API) or built from text.
    let err =
        serde_json::from_value::<ScheduleSpec>(json!({"cron": "* * * * *", "tz": "Mars/Olympus"}))
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("Mars/Olympus") || err.contains("timezone"),
        "{err}"
    );
    let err = ScheduleSpec::new("* * * * *", "Mars/Olympus").unwrap_err();
    assert!(err.to_string().contains("unknown time zone"), "{err}");
    assert!(
        e.list_schedules().await.unwrap().is_empty(),
        "nothing stored"
    );
}

async fn misfire_fire_once_now_after_a_gap(db: TestDb) {
    let (e, clock) = engine(&db).await;
    let s = e
        .save_schedule(schedule(json!({"cron": "* * * * *", "tz": "UTC"})))
        .await
        .unwrap();
    clock.advance(10 * MINUTE);
    until_scheduled(&e, 1).await;
    stays(&e, 1).await;
    assert_eq!(fires(&e, &s.id).await, vec![T0 + 10 * MINUTE]);
    clock.advance(MINUTE);
    until_scheduled(&e, 2).await;
    stays(&e, 2).await;
}

async fn misfire_skip_after_a_gap(db: TestDb) {
    let (e, clock) = engine(&db).await;
    let s = e
        .save_schedule(schedule(
            json!({"cron": "* * * * *", "tz": "UTC", "misfire": "skip"}),
        ))
        .await
        .unwrap();
    clock.advance(10 * MINUTE);
    // The claim moved it on to the next regular tick, starting nothing.
    until_next(&e, &s.id, T0 + 11 * MINUTE).await;
    stays(&e, 0).await;
    clock.advance(MINUTE);
    until_scheduled(&e, 1).await;
    stays(&e, 1).await;
}

async fn overlap_skip_waits_for_the_last_run(db: TestDb) {
    let (e, clock) = engine(&db).await;
    deploy_waiting(&e).await;
    let s = e
        .save_schedule(ScheduleRow {
            process_key: "slow".into(),
            overlap: Overlap::Skip,
            ..schedule(json!({"cron": "* * * * *", "tz": "UTC"}))
        })
        .await
        .unwrap();
    clock.advance(MINUTE);
    until_scheduled(&e, 1).await;
    // The first run still waits: the next tick is skipped, not queued.
    clock.advance(MINUTE);
    until_next(&e, &s.id, T0 + 3 * MINUTE).await;
    stays(&e, 1).await;
    let row = e.store().schedule(&s.id).await.unwrap().unwrap();
    let first = row.last_instance.clone().unwrap();
    e.correlate("go", None, Map::new()).unwrap();
    until_completed(&e, &first).await;
    clock.advance(MINUTE);
    until_scheduled(&e, 2).await;
    stays(&e, 2).await;
    assert_eq!(fires(&e, &s.id).await, vec![T0 + MINUTE, T0 + 3 * MINUTE]);
}

async fn until_completed(e: &Engine, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while e.store().load_instance(id).await.unwrap().unwrap().status != "completed" {
        assert!(Instant::now() < deadline, "{id} did not complete");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn deploy_waiting(e: &Engine) {
    let xml = format!(
        r#"<definitions {NS} id="dw"><message id="m" name="go"/>
          <process id="slow" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="w"/>
          <intermediateCatchEvent id="w"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
          <sequenceFlow id="f2" sourceRef="w" targetRef="e"/><endEvent id="e"/>
          </process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
}

async fn overlap_queue_holds_ticks_until_the_last_run_ends(db: TestDb) {
    let (e, clock) = engine(&db).await;
    deploy_waiting(&e).await;
    let s = e
        .save_schedule(ScheduleRow {
            process_key: "slow".into(),
            overlap: Overlap::Queue,
            ..schedule(json!({"cron": "* * * * *", "tz": "UTC"}))
        })
        .await
        .unwrap();
    clock.advance(MINUTE);
    until_scheduled(&e, 1).await;
    // Two more ticks come while the first run waits: both are held.
    clock.advance(MINUTE);
    stays(&e, 1).await;
    clock.advance(MINUTE);
    stays(&e, 1).await;
    let last = |e: &Engine| {
        let e = e.clone();
        let id = s.id.clone();
        async move {
            e.store()
                .schedule(&id)
                .await
                .unwrap()
                .unwrap()
                .last_instance
                .unwrap()
        }
    };
    // The first run ends: exactly one held tick starts (the second one).
    let first = last(&e).await;
    e.correlate("go", None, Map::new()).unwrap();
    until_completed(&e, &first).await;
    until_scheduled(&e, 2).await;
    stays(&e, 2).await;
    // It ends: the third tick starts.
    let second = last(&e).await;
    assert_ne!(first, second);
    e.correlate("go", None, Map::new()).unwrap();
    until_completed(&e, &second).await;
    until_scheduled(&e, 3).await;
    stays(&e, 3).await;
    assert_eq!(
        fires(&e, &s.id).await,
        vec![T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE],
        "the held ticks, in order, none dropped"
    );
    until_next(&e, &s.id, T0 + 4 * MINUTE).await;
}

/// The unique key itself: a second commit of the same tick is a conflict.
async fn a_tick_is_stored_once(db: TestDb) {
    let fire = |instance: &str| ScheduleFireRow {
        schedule_id: "s1".into(),
        fire_at: T0,
        instance_id: Some(instance.into()),
        created_at: T0,
    };
    let first = Batch {
        schedule_fires: vec![fire("a")],
        ..Batch::default()
    };
    db.store.commit(&first).await.unwrap();
    let second = Batch {
        schedule_fires: vec![fire("b")],
        ..Batch::default()
    };
    let err = db.store.commit(&second).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let stored = db.store.schedule_fires("s1").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].instance_id.as_deref(), Some("a"));
}

/// Two engines on one PostgreSQL with one clock: each of N ticks starts exactly one
/// instance. A third engine's claim leases never hold (`lease_ms` < 0): it claims the
/// due schedule on every poll and sends the same tick again and again, so only the
/// fire row's unique key and the advance's `next_fire_at` check keep each tick once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_fire_each_tick_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    common::run(db, two_engines_case).await;
}

async fn two_engines_case(db: TestDb) {
    const N: usize = 30;
    let (a, clock) = engine(&db).await;
    let b = engine_named(&db, clock.clone(), "b", 60_000).await;
    let _c = engine_named(&db, clock.clone(), "c", -1).await;
    let s = a
        .save_schedule(schedule(json!({"cron": "* * * * *", "tz": "UTC"})))
        .await
        .unwrap();
    for i in 1..=N {
        clock.advance(MINUTE);
        until_scheduled(&b, i).await;
    }
    stays(&a, N).await;
    let expected: Vec<i64> = (1..=N as i64).map(|i| T0 + i * MINUTE).collect();
    assert_eq!(fires(&a, &s.id).await, expected);
    let f = InstanceFilter {
        start_way: Some("schedule".into()),
        ..Default::default()
    };
    let all = a
        .store()
        .list_instances(
            &f,
            baton_runtime::store::Page {
                offset: 0,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), N);
}
