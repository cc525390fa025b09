//! Graceful stop: a draining engine lets the job running in it finish and
//! commits its result, claims nothing more, and leaves the job the next step
//! creates unclaimed, so that another engine runs it as a first claim (a
//! non-idempotent node would otherwise come back as "interrupted").

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_runtime::engine::{Engine, Options, SystemClock};
use baton_runtime::handlers::Builtin;
use common::{TestDb, on_both};
use serde_json::Map;

on_both!(drain_finishes_running_jobs_and_leaves_the_next_unclaimed);

const XML: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="drain-defs" targetNamespace="t">
  <process id="drain" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="slow"/>
    <serviceTask id="slow" baton:type="noop"><extensionElements><baton:property name="delayMs" value="400"/></extensionElements></serviceTask>
    <sequenceFlow id="f2" sourceRef="slow" targetRef="next"/>
    <serviceTask id="next" baton:type="noop"/>
    <sequenceFlow id="f3" sourceRef="next" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;

async fn engine(db: &TestDb, worker: &str) -> Engine {
    let opts = Options {
        worker: worker.into(),
        poll: Duration::from_millis(20),
        lease_ms: 60_000,
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    Engine::start(
        store,
        Arc::new(SystemClock),
        Arc::new(Builtin::default()),
        opts,
    )
    .await
    .unwrap()
}

async fn drain_finishes_running_jobs_and_leaves_the_next_unclaimed(db: TestDb) {
    let a = engine(&db, "a").await;
    a.deploy(XML, None).await.unwrap();
    let id = a.start_instance("drain", Map::new(), "api").await.unwrap();
    // The slow job runs in `a`.
    let deadline = Instant::now() + Duration::from_secs(10);
    while db
        .store
        .jobs_of(&id)
        .await
        .unwrap()
        .iter()
        .all(|j| j.element_id != "slow")
    {
        assert!(Instant::now() < deadline, "the slow job never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left = a.drain(Duration::from_secs(10)).await;
    assert_eq!(left, 0, "the running job finished within the drain");
    let history = db.store.history(&id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.element_id == "slow" && h.kind.contains("complet")),
        "the slow job's result is committed: {:?}",
        history
            .iter()
            .map(|h| (&h.element_id, &h.kind))
            .collect::<Vec<_>>()
    );
    let jobs = db.store.jobs_of(&id).await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let next = &jobs[0];
    assert_eq!(next.element_id, "next");
    assert_eq!(
        (next.lease_until, next.worker.as_deref(), next.claims),
        (None, None, 0)
    );
    // A draining engine claims nothing, however long it waits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let jobs = db.store.jobs_of(&id).await.unwrap();
    assert_eq!((jobs[0].lease_until, jobs[0].claims), (None, 0));
    // Another engine takes it as a first claim and the instance completes.
    let b = engine(&db, "b").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = b.store().load_instance(&id).await.unwrap().unwrap();
        if row.status == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "b did not finish the instance");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(db.store.incidents(&id).await.unwrap().is_empty());
}
