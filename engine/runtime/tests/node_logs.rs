//! One node's log lines from the store (the monitor's log view), on SQLite
//! and PostgreSQL: the lines of an element's job by the `seq` cursor, in
//! order, paged; another element's lines apart; whether the element has a
//! job while it runs and not after.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::{MasterKey, Registry};
use baton_runtime::engine::{Engine, Options, SystemClock};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use common::{TestDb, on_both};

const PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t" id="d">
  <process id="chatty" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
  <serviceTask id="work" baton:type="local-command">
    <extensionElements><baton:property name="command" value="echo a; sleep 1; echo b; echo c 1&gt;&amp;2"/></extensionElements>
  </serviceTask>
  <sequenceFlow id="f2" sourceRef="work" targetRef="next"/>
  <serviceTask id="next" baton:type="local-command">
    <extensionElements><baton:property name="command" value="echo d"/></extensionElements>
  </serviceTask>
  <sequenceFlow id="f3" sourceRef="next" targetRef="e"/><endEvent id="e"/></process></definitions>"#;

on_both!(a_nodes_lines_by_cursor);

async fn a_nodes_lines_by_cursor(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let store = db.store.clone();
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(StoreResources {
            store: store.clone(),
            key,
            company: DEFAULT_COMPANY.into(),
            roots: vec![std::env::temp_dir()],
            data_dir: std::env::temp_dir().join("baton-node-logs-tests-data"),
        }),
        Some(store.clone()),
    );
    let e = Engine::start(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(handler),
        Options {
            poll: Duration::from_millis(10),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    e.deploy(PROCESS, None).await.unwrap();
    let id = e
        .start_instance("chatty", Default::default(), "api")
        .await
        .unwrap();

    // While `work` runs: it has a job and its first line, not its last.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = store.node_logs(&id, "work", 0, 100).await.unwrap();
        if lines.iter().any(|l| l.line == "a") {
            assert!(store.node_has_job(&id, "work").await.unwrap());
            assert!(!lines.iter().any(|l| l.line == "b"), "{lines:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no line: {lines:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.load_instance(&id).await.unwrap().unwrap().status != "completed" {
        assert!(Instant::now() < deadline, "the instance did not complete");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The last lines may trail the job's end by a batch.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!store.node_has_job(&id, "work").await.unwrap());

    let all = store.node_logs(&id, "work", 0, 100).await.unwrap();
    // In order within a stream (stdout and stderr are two pipes read
    // side by side: how `b` and `c` interleave is up to the scheduler).
    let of = |stream: &str| -> Vec<&str> {
        all.iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.line.as_str())
            .collect()
    };
    assert_eq!(of("stdout"), ["a", "b"], "{all:?}");
    assert_eq!(of("stderr"), ["c"], "{all:?}");
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(all.iter().all(|l| l.job_id.starts_with(&format!("{id}:"))));
    // Paged two at a time by the cursor: the same lines.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.node_logs(&id, "work", after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    // `next` has its own lines; an element without a job has none.
    let next = store.node_logs(&id, "next", 0, 100).await.unwrap();
    assert!(next.iter().any(|l| l.line == "d"), "{next:?}");
    assert!(!next.iter().any(|l| l.line == "a"), "{next:?}");
    assert!(store.node_logs(&id, "e", 0, 100).await.unwrap().is_empty());
    assert!(
        store
            .node_logs("nope", "work", 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
