//! Crash safety: a real `baton serve` works 1,000 instances with parallel
//! joins, timers and jobs; it is killed with SIGKILL at random moments and
//! restarted; in the end every instance has completed exactly once — no
//! instance lost, no join fired twice, no timer fired twice, no job left.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_runtime::store::{InstanceFilter, Page, Store};

const INSTANCES: usize = 1000;
const KILLS: usize = 5;

const MODEL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:baton="http://baton.dev/schema/bpmn"
             id="crash-definitions" targetNamespace="http://baton.dev/test">
  <process id="crash" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f0" sourceRef="start" targetRef="split"/>
    <parallelGateway id="split"/>
    <sequenceFlow id="f1" sourceRef="split" targetRef="work"/>
    <sequenceFlow id="f2" sourceRef="split" targetRef="wait"/>
    <sequenceFlow id="f3" sourceRef="split" targetRef="count"/>
    <serviceTask id="work" baton:type="noop">
      <extensionElements><baton:property name="delayMs" value="30"/></extensionElements>
    </serviceTask>
    <intermediateCatchEvent id="wait">
      <timerEventDefinition><timeDuration>PT0.3S</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <scriptTask id="count" scriptFormat="rhai"><script>n = 1 + 1;</script></scriptTask>
    <sequenceFlow id="f4" sourceRef="work" targetRef="join"/>
    <sequenceFlow id="f5" sourceRef="wait" targetRef="join"/>
    <sequenceFlow id="f6" sourceRef="count" targetRef="join"/>
    <parallelGateway id="join"/>
    <sequenceFlow id="f7" sourceRef="join" targetRef="after"/>
    <serviceTask id="after" baton:type="noop"/>
    <sequenceFlow id="f8" sourceRef="after" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;

fn baton(args: &[&str], db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.args(args)
        .args(["--store", db, "--lease-ms", "1000", "--poll-ms", "20"])
        .env("BATON_LOG", "warn")
        // A throw-away master key: never a `baton.key` in the working tree.
        .env(
            "BATON_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn serve(db: &str) -> Child {
    let listen = format!("127.0.0.1:{}", free_port());
    baton(&["serve", "--listen", &listen], db)
        .spawn()
        .expect("baton serve starts")
}

/// A small deterministic generator for the kill moments (seed printed).
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn survives_sigkill_without_losing_or_doubling_work() {
    let dir = std::env::temp_dir().join(format!("baton-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("crash.bpmn");
    std::fs::write(&file, MODEL).unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.join("crash.db").display());
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("kill schedule seed: {seed}");

    let n = INSTANCES.to_string();
    let status = baton(&["start", file.to_str().unwrap(), "--instances", &n], &db)
        .status()
        .unwrap();
    assert!(status.success(), "baton start failed");

    for k in 0..KILLS {
        let mut child = serve(&db);
        let ms = 150 + lcg(&mut seed) % 600;
        std::thread::sleep(Duration::from_millis(ms));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        println!("kill {} after {ms} ms", k + 1);
    }

    let mut child = serve(&db);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::connect(&db)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let counts = rt.block_on(store.count_instances_by_status()).unwrap();
        let completed = counts
            .iter()
            .find(|(s, _)| s == "completed")
            .map_or(0, |c| c.1);
        if completed as usize == INSTANCES {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {completed} of {INSTANCES} completed: {counts:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    check_exactly_once(&rt, &store);
    drop(store);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

fn check_exactly_once(rt: &tokio::runtime::Runtime, store: &Store) {
    let counts = rt.block_on(store.count_instances_by_status()).unwrap();
    assert_eq!(
        counts,
        vec![("completed".to_owned(), INSTANCES as i64)],
        "every instance completed, none in another state"
    );
    let page = Page {
        offset: 0,
        limit: 10 * INSTANCES as u64,
    };
    let ids: Vec<String> = rt
        .block_on(store.list_instances(&InstanceFilter::default(), page))
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids.len(), INSTANCES);
    for id in &ids {
        let h = rt.block_on(store.history(id)).unwrap();
        let count = |el: &str, kind: &str| {
            h.iter()
                .filter(|r| r.element_id == el && r.kind == kind)
                .count()
        };
        assert_eq!(count("join", "passed"), 1, "{id}: the join fired once");
        assert_eq!(count("wait", "completed"), 1, "{id}: the timer fired once");
        assert_eq!(
            count("work", "completed"),
            1,
            "{id}: the job's completion applied once"
        );
        assert_eq!(
            count("count", "completed"),
            1,
            "{id}: the script's completion applied once"
        );
        assert_eq!(count("end", "passed"), 1, "{id}: one end");
        assert_eq!(
            count("crash", "completed"),
            1,
            "{id}: the process completed once"
        );
        let seqs: Vec<i64> = h.iter().map(|r| r.seq).collect();
        assert_eq!(
            seqs,
            (1..=h.len() as i64).collect::<Vec<_>>(),
            "{id}: history is gap-free"
        );
        assert!(
            rt.block_on(store.jobs_of(id)).unwrap().is_empty(),
            "{id}: no job left"
        );
        assert!(
            rt.block_on(store.timers_of(id)).unwrap().is_empty(),
            "{id}: no timer left"
        );
    }
}
