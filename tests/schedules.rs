//! Schedules end to end: two real `baton serve` processes on one PostgreSQL
//! database fire each of 1,000 ticks of one schedule exactly once, while one
//! of them is killed (SIGKILL) and restarted, and later both are killed at
//! once and restarted after a pause: the ticks missed meanwhile are caught up
//! (misfire `catch-up`), none is doubled.
//!
//! Time is a test clock shared by every process (`BATON_TEST_CLOCK`: the
//! processes' time runs [`RATE`] times faster than the wall clock, from a fixed
//! instant), so 1,000 one-second ticks take 40 s, and nothing sleeps for
//! the schedule's sake. The schedule is saved with `baton schedule add` and
//! its process deployed with `baton start --instances 0`.

#[path = "../engine/runtime/tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_runtime::store::{InstanceFilter, Store};

/// The clock's speed: 25 s of schedule time per real second.
const RATE: i64 = 25;
const TICKS: i64 = 1000;
/// 2030-01-01T00:00:00Z: the shared clock's time at the test's start.
const T0: i64 = 1_893_456_000_000;
/// The first tick: 60 s of schedule time (2.4 s real) after the test starts.
const FIRST: i64 = T0 + 60_000;

const MODEL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:baton="http://baton.dev/schema/bpmn"
             id="tick-definitions" targetNamespace="http://baton.dev/test">
  <process id="tick" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <serviceTask id="work" baton:type="noop"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;

struct Clock {
    wall_at: i64,
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Clock {
    fn env(&self) -> String {
        format!("{T0}@{}*{RATE}", self.wall_at)
    }
    /// The shared clock's time now.
    fn now(&self) -> i64 {
        T0 + (wall_ms() - self.wall_at) * RATE
    }
    /// Block until the shared clock reads `at`.
    fn wait_until(&self, at: i64) {
        let left = at - self.now();
        if left > 0 {
            std::thread::sleep(Duration::from_millis((left / RATE) as u64));
        }
    }
}

fn baton(clock: &Clock, db: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.args(args)
        .args(["--store", db])
        .env("BATON_TEST_CLOCK", clock.env())
        .env("BATON_LOG", "warn")
        .env(
            "BATON_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .stderr(Stdio::inherit());
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server whose leases run out after 10 s of schedule time (0.4 s real).
fn serve(clock: &Clock, db: &str) -> Child {
    let listen = format!("127.0.0.1:{}", free_port());
    baton(
        clock,
        db,
        &[
            "serve",
            "--listen",
            &listen,
            "--lease-ms",
            "10000",
            "--poll-ms",
            "20",
        ],
    )
    .stdout(Stdio::null())
    .spawn()
    .expect("baton serve starts")
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

#[test]
fn two_servers_fire_each_of_1000_ticks_once_through_kills_and_restarts() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(common::TestDb::postgres()) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("baton-schedules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tick.bpmn");
    std::fs::write(&file, MODEL).unwrap();
    let clock = Clock { wall_at: wall_ms() };

    let deployed = baton(
        &clock,
        &db.url,
        &["start", file.to_str().unwrap(), "--instances", "0"],
    )
    .output()
    .unwrap();
    assert!(deployed.status.success(), "deploy: {deployed:?}");
    let saved = baton(
        &clock,
        &db.url,
        &[
            "schedule",
            "add",
            "--process",
            "tick",
            "--cron",
            "* * * * * ?",
            "--tz",
            "Asia/Shanghai",
            "--valid-from",
            &iso(FIRST),
            "--valid-until",
            &iso(FIRST + TICKS * 1000),
            "--misfire",
            "catch-up:3600",
        ],
    )
    .output()
    .unwrap();
    assert!(saved.status.success(), "schedule add: {saved:?}");
    let saved: serde_json::Value = serde_json::from_slice(&saved.stdout).unwrap();
    let id = saved["id"].as_str().unwrap().to_owned();
    assert_eq!(
        saved["next_fire_at"], FIRST,
        "the first tick, computed on save"
    );

    let mut a = serve(&clock, &db.url);
    let mut b = serve(&clock, &db.url);
    // One server dies for 100 ticks; the other goes on alone.
    clock.wait_until(FIRST + 300_000);
    kill(&mut a);
    clock.wait_until(FIRST + 400_000);
    let mut a = serve(&clock, &db.url);
    // Both die; 1.5 s later (about 37 ticks) both come back and catch up.
    clock.wait_until(FIRST + 650_000);
    kill(&mut a);
    kill(&mut b);
    std::thread::sleep(Duration::from_millis(1500));
    let mut a = serve(&clock, &db.url);
    let mut b = serve(&clock, &db.url);
    clock.wait_until(FIRST + TICKS * 1000);

    let store = rt.block_on(Store::connect(&db.url)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let scheduled = InstanceFilter {
        start_way: Some("schedule".into()),
        ..InstanceFilter::default()
    };
    let completed = InstanceFilter {
        status: Some("completed".into()),
        ..scheduled.clone()
    };
    loop {
        let done = rt.block_on(store.count_instances(&completed)).unwrap();
        if done >= TICKS || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Some schedule time more: a late extra tick would show now.
    clock.wait_until(clock.now() + 20_000);
    kill(&mut a);
    kill(&mut b);

    let fires = rt.block_on(store.schedule_fires(&id)).unwrap();
    let at: Vec<i64> = fires.iter().map(|f| f.fire_at).collect();
    let expected: Vec<i64> = (0..TICKS).map(|i| FIRST + i * 1000).collect();
    let missing: Vec<_> = expected.iter().filter(|t| !at.contains(t)).collect();
    assert!(missing.is_empty(), "ticks never fired: {missing:?}");
    assert_eq!(
        at.len() as i64,
        TICKS,
        "a tick fired twice, or one outside the window"
    );
    let instances: BTreeSet<_> = fires.iter().filter_map(|f| f.instance_id.clone()).collect();
    assert_eq!(
        instances.len() as i64,
        TICKS,
        "one distinct instance per tick"
    );
    assert_eq!(
        rt.block_on(store.count_instances(&scheduled)).unwrap(),
        TICKS
    );
    assert_eq!(
        rt.block_on(store.count_instances(&completed)).unwrap(),
        TICKS
    );
    let row = rt.block_on(store.schedule(&id)).unwrap().unwrap();
    assert_eq!(row.next_fire_at, None, "valid-until ended the schedule");

    drop(store);
    rt.block_on(db.dispose());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `baton schedule add` refuses bad input with what and where, and saves nothing.
#[test]
fn schedule_add_rejects_bad_input_and_saves_nothing() {
    let dir = std::env::temp_dir().join(format!("baton-schedule-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.join("baton.db").display());
    let clock = Clock { wall_at: wall_ms() };
    let file = dir.join("tick.bpmn");
    std::fs::write(&file, MODEL).unwrap();
    let out = baton(
        &clock,
        &db,
        &["start", file.to_str().unwrap(), "--instances", "0"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "deploy: {out:?}");

    let add = |extra: &[&str]| {
        let mut args = vec!["schedule", "add", "--process", "tick"];
        args.extend_from_slice(extra);
        baton(&clock, &db, &args)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &["--cron", "0 61 * * * ?"],
            "field 2, character 3: minute field",
        ),
        (
            &["--cron", "0 * * * * ?", "--tz", "Mars/Base"],
            "unknown time zone \"Mars/Base\"",
        ),
        (
            &[
                "--cron",
                "0 * * * * ?",
                "--valid-from",
                "2030-01-02T00:00:00Z",
                "--valid-until",
                "2030-01-01T00:00:00Z",
            ],
            "empty validity window",
        ),
        (
            &["--cron", "0 * * * * ?", "--valid-from", "tomorrow"],
            "--valid-from \"tomorrow\"",
        ),
        (
            &["--cron", "0 * * * * ?", "--misfire", "later"],
            "--misfire \"later\"",
        ),
        (
            &["--cron", "0 * * * * ?", "--overlap", "maybe"],
            "--overlap \"maybe\"",
        ),
        (
            &["--cron", "0 * * * * ?", "--version", "7"],
            "tick version 7: no such process",
        ),
    ];
    for (args, says) in cases {
        let out = add(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
    }
    let list = baton(&clock, &db, &["schedule", "list"]).output().unwrap();
    assert!(list.status.success());
    assert!(
        list.stdout.is_empty(),
        "nothing saved: {:?}",
        String::from_utf8_lossy(&list.stdout)
    );

    let ok = add(&["--cron", "*/5 * * * *", "--tz", "Asia/Shanghai"]);
    assert!(ok.status.success(), "{ok:?}");
    let saved: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let id = saved["id"].as_str().unwrap();
    let rm = baton(&clock, &db, &["schedule", "rm", id])
        .output()
        .unwrap();
    assert!(rm.status.success(), "{rm:?}");
    let again = baton(&clock, &db, &["schedule", "rm", id])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!again.status.success(), "removing twice");
    let _ = std::fs::remove_dir_all(&dir);
}
