//! The live feed: an engine tells its subscribers what each commit changed
//! (instances, nodes, user tasks), in commit order; on PostgreSQL every
//! engine on the database hears the others' changes too.

mod common;

use std::sync::Arc;
use std::time::Duration;

use baton_runtime::engine::{Engine, Options, TestClock};
use baton_runtime::feed::Change;
use baton_runtime::handlers::Builtin;
use common::{TestDb, on_both};
use serde_json::Map;
use tokio::sync::broadcast;

const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t""#;

async fn engine(db: &TestDb, name: &str) -> Engine {
    let opts = Options {
        worker: name.into(),
        poll: Duration::from_millis(10),
        lease_ms: 60_000,
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    Engine::start(
        store,
        Arc::new(TestClock::new(1_800_000_000_000)),
        Arc::new(Builtin::default()),
        opts,
    )
    .await
    .unwrap()
}

fn process(id: &str) -> String {
    format!(
        r#"<definitions {NS} id="{id}-d"><process id="{id}" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="work"/>
          <serviceTask id="work" baton:type="noop"/><sequenceFlow id="f1" sourceRef="work" targetRef="ask"/>
          <userTask id="ask" name="Approve" camunda:candidateGroups="ops" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"/>
          <sequenceFlow id="f2" sourceRef="ask" targetRef="e"/><endEvent id="e"/>
          </process></definitions>"#
    )
}

/// Every change about `instance` until it shows `until` (bounded).
async fn changes_until(
    rx: &mut broadcast::Receiver<Arc<Vec<Change>>>,
    instance: &str,
    until: impl Fn(&Change) -> bool,
) -> Vec<Change> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let batch = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no end in sight; saw {seen:#?}"))
            .unwrap();
        for c in batch.iter() {
            let about = match c {
                Change::Instance { id, .. } => id == instance,
                Change::Node { instance_id, .. } | Change::Task { instance_id, .. } => {
                    instance_id == instance
                }
                Change::Host { .. } => false,
            };
            if about {
                seen.push(c.clone());
                if until(c) {
                    return seen;
                }
            }
        }
    }
}

fn open_task(c: &Change) -> bool {
    matches!(c, Change::Task { state, .. } if state == "open")
}

async fn an_engine_tells_its_commits_in_order(db: TestDb) {
    let e = engine(&db, "one").await;
    e.deploy(&process("fed"), None).await.unwrap();
    let mut rx = e.feed().subscribe();
    let id = e.start_instance("fed", Map::new(), "api").await.unwrap();
    let seen = changes_until(&mut rx, &id, open_task).await;
    let nodes: Vec<(String, String)> = seen
        .iter()
        .filter_map(|c| match c {
            Change::Node {
                element_id, kind, ..
            } => Some((element_id.clone(), kind.clone())),
            _ => None,
        })
        .collect();
    let at = |el: &str, kind: &str| {
        nodes
            .iter()
            .position(|(e, k)| e == el && k == kind)
            .unwrap_or_else(|| panic!("no {el} {kind} in {nodes:?}"))
    };
    assert!(at("work", "started") < at("work", "completed"), "{nodes:?}");
    assert!(at("work", "completed") < at("ask", "started"), "{nodes:?}");
    let Some(Change::Task {
        company,
        candidate_groups,
        assignee,
        ..
    }) = seen.last()
    else {
        unreachable!()
    };
    assert_eq!(company, "default");
    assert_eq!(candidate_groups, &["ops".to_owned()]);
    assert_eq!(assignee, &None);
    assert!(seen.iter().any(|c| matches!(c,
        Change::Instance { status, definition_id, .. } if status == "running" && definition_id == "fed:1")));
}

on_both!(an_engine_tells_its_commits_in_order);

/// Two engines on one PostgreSQL: each one's feed hears what the other
/// committed, and nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_engine_on_one_postgres_hears_the_others() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    common::run(db, |db| async move {
        let a = engine(&db, "a").await;
        let b = engine(&db, "b").await;
        a.deploy(&process("both"), None).await.unwrap();
        // Listening is set up asynchronously: wait until b hears a.
        let mut rx_b = b.feed().subscribe();
        let mut rx_a = a.feed().subscribe();
        let mut heard = false;
        for _ in 0..50 {
            let probe = a.start_instance("both", Map::new(), "api").await.unwrap();
            if tokio::time::timeout(
                Duration::from_millis(200),
                changes_until(&mut rx_b, &probe, |_| true),
            )
            .await
            .is_ok()
            {
                heard = true;
                break;
            }
        }
        assert!(heard, "b never heard a");
        // Started on b: a hears it through PostgreSQL, b from itself.
        let id = b.start_instance("both", Map::new(), "api").await.unwrap();
        let on_a = changes_until(&mut rx_a, &id, open_task).await;
        let on_b = changes_until(&mut rx_b, &id, open_task).await;
        assert_eq!(on_a, on_b, "both feeds tell the same changes");
        let started = on_b
            .iter()
            .filter(|c| matches!(c, Change::Node { element_id, kind, .. } if element_id == "work" && kind == "started"))
            .count();
        assert_eq!(started, 1, "told once: {on_b:#?}");
    })
    .await;
}
