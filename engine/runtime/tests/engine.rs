//! The durable engine against real databases (SQLite and PostgreSQL), with a
//! test clock: call activities, a child cancelled with its caller, signals
//! between instances, message start events, timers, incidents and retry.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_core::Command;
use baton_runtime::engine::{Engine, Options, TestClock};
use baton_runtime::handlers::Builtin;
use common::{TestDb, on_both};
use serde_json::Map;

const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t""#;

async fn engine(db: &TestDb) -> (Engine, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(1_800_000_000_000));
    let opts = Options {
        poll: Duration::from_millis(10),
        lease_ms: 60_000,
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    let e = Engine::start(store, clock.clone(), Arc::new(Builtin::default()), opts)
        .await
        .unwrap();
    (e, clock)
}

/// Wait (bounded) until `instance` has `status`.
async fn until_status(e: &Engine, instance: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = e
            .store()
            .load_instance(instance)
            .await
            .unwrap()
            .expect("instance exists");
        if row.status == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{instance} is {} , expected {status}",
            row.status
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn history_of(e: &Engine, instance: &str) -> Vec<(String, String)> {
    e.store()
        .history(instance)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.element_id, h.kind))
        .collect()
}

async fn children_of(e: &Engine, parent: &str) -> Vec<baton_runtime::store::InstanceSummary> {
    let all = e
        .store()
        .list_instances(
            &Default::default(),
            baton_runtime::store::Page {
                offset: 0,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    all.into_iter()
        .filter(|i| i.parent_instance.as_deref() == Some(parent))
        .collect()
}

on_both!(
    call_activity_runs_a_child,
    interrupted_caller_cancels_its_child,
    signals_reach_other_instances,
    incident_then_retry,
    messages_correlate_by_name_and_key,
    timer_start_events_fire_on_their_cycle,
    conditional_start_events,
);

/// Several engines on one PostgreSQL behave as one: instances started on
/// either complete exactly once while timers are taken by whichever engine
/// claims them first (so each engine also steps instances the other cached).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_share_one_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    common::run(db, two_engines_case).await;
}

async fn two_engines_case(db: TestDb) {
    let clock = Arc::new(TestClock::new(1_800_000_000_000));
    let mut engines = Vec::new();
    for name in ["a", "b"] {
        let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
        let opts = Options {
            worker: name.into(),
            poll: Duration::from_millis(10),
            lease_ms: 60_000,
            ..Options::default()
        };
        engines.push(
            Engine::start(store, clock.clone(), Arc::new(Builtin::default()), opts)
                .await
                .unwrap(),
        );
    }
    let xml = format!(
        r#"<definitions {NS} id="d2"><process id="shared" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
          <parallelGateway id="split"/>
          <sequenceFlow id="f1" sourceRef="split" targetRef="j1"/><serviceTask id="j1" baton:type="noop"/>
          <sequenceFlow id="f2" sourceRef="split" targetRef="w"/>
          <intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>PT1S</timeDuration></timerEventDefinition></intermediateCatchEvent>
          <sequenceFlow id="f3" sourceRef="j1" targetRef="join"/><sequenceFlow id="f4" sourceRef="w" targetRef="join"/>
          <parallelGateway id="join"/><sequenceFlow id="f5" sourceRef="join" targetRef="j2"/>
          <serviceTask id="j2" baton:type="noop"/><sequenceFlow id="f6" sourceRef="j2" targetRef="e"/><endEvent id="e"/>
          </process></definitions>"#
    );
    engines[0].deploy(&xml, None).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(
            engines[i % 2]
                .start_instance("shared", Map::new(), "api")
                .await
                .unwrap(),
        );
    }
    clock.advance(1_001);
    for id in &ids {
        until_status(&engines[0], id, "completed").await;
    }
    for id in &ids {
        let h = history_of(&engines[0], id).await;
        let n = |el: &str, kind: &str| h.iter().filter(|(e, k)| e == el && k == kind).count();
        assert_eq!(n("join", "passed"), 1, "{id}: {h:?}");
        assert_eq!(n("w", "completed"), 1, "{id}");
        assert_eq!(n("j1", "completed") + n("j2", "completed"), 2, "{id}");
        assert_eq!(n("e", "passed"), 1, "{id}");
    }
    let timers_left: usize = {
        let mut n = 0;
        for id in &ids {
            n += engines[1].store().timers_of(id).await.unwrap().len();
        }
        n
    };
    assert_eq!(timers_left, 0);
}

async fn count_way(e: &Engine, way: &str) -> usize {
    let f = baton_runtime::store::InstanceFilter {
        start_way: Some(way.into()),
        ..Default::default()
    };
    e.store().count_instances(&f).await.unwrap() as usize
}

async fn until_count(e: &Engine, way: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while count_way(e, way).await != n {
        assert!(
            Instant::now() < deadline,
            "expected {n} instances started by {way}, have {}",
            count_way(e, way).await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn timer_start_events_fire_on_their_cycle(db: TestDb) {
    let (e, clock) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="dt"><process id="tick" isExecutable="true" baton:owner="tests">
          <startEvent id="s"><timerEventDefinition><timeCycle>R2/PT1M</timeCycle></timerEventDefinition></startEvent>
          <sequenceFlow id="f1" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        count_way(&e, "timer").await,
        0,
        "nothing before the first minute"
    );
    clock.advance(60_000);
    until_count(&e, "timer", 1).await;
    clock.advance(60_000);
    until_count(&e, "timer", 2).await;
    clock.advance(600_000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count_way(&e, "timer").await, 2, "R2 fires twice, no more");
    // A new version replaces the schedule of the old one.
    let v2 = xml.replace("R2/PT1M", "R/PT1H");
    e.deploy(&v2, None).await.unwrap();
    clock.advance(3_600_000);
    until_count(&e, "timer", 3).await;
    let timers = e.store().timers_of("").await.unwrap();
    assert_eq!(timers.len(), 1, "one armed start timer: {timers:?}");
}

async fn conditional_start_events(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="dc"><process id="hot" isExecutable="true" baton:owner="tests">
          <startEvent id="s"><conditionalEventDefinition><condition>${{temp > 30}}</condition></conditionalEventDefinition></startEvent>
          <sequenceFlow id="f1" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("temp".into(), 20.into());
    assert!(
        e.evaluate_conditions("default", vars.clone())
            .await
            .unwrap()
            .is_empty()
    );
    vars.insert("temp".into(), 35.into());
    // Another company's condition is not this one's.
    e.deploy(&xml, Some("acme/hot")).await.unwrap();
    let ids = e
        .evaluate_conditions("default", vars.clone())
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    until_status(&e, &ids[0], "completed").await;
    let acme = e.evaluate_conditions("acme", vars).await.unwrap();
    assert_eq!(acme.len(), 1);
    let row = e.store().load_instance(&acme[0]).await.unwrap().unwrap();
    assert!(
        row.definition_id.starts_with("acme/hot:"),
        "{}",
        row.definition_id
    );
}

async fn messages_correlate_by_name_and_key(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="dm"><message id="paid" name="paid"/><process id="order" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="r"/>
          <receiveTask id="r" messageRef="paid" baton:correlationKey="${{orderId}}"/>
          <sequenceFlow id="f2" sourceRef="r" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut ids = Vec::new();
    for order in ["A-1", "B-2", "C-3"] {
        let mut vars = Map::new();
        vars.insert("orderId".into(), order.into());
        ids.push(e.start_instance("order", vars, "api").await.unwrap());
    }
    let mut payload = Map::new();
    payload.insert("amount".into(), 12.into());
    e.correlate("paid", Some("B-2"), payload).unwrap();
    until_status(&e, &ids[1], "completed").await;
    e.correlate("paid", Some("nobody"), Map::new()).unwrap();
    e.correlate("paid", Some("C-3"), Map::new()).unwrap();
    until_status(&e, &ids[2], "completed").await;
    let a = e.store().load_instance(&ids[0]).await.unwrap().unwrap();
    assert_eq!(a.status, "running", "A-1 got no message with its key");
    let b = e.store().load_instance(&ids[1]).await.unwrap().unwrap();
    let p: baton_runtime::engine::Persisted = serde_json::from_slice(&b.state).unwrap();
    assert_eq!(
        p.state.vars["amount"], 12,
        "the message's payload reaches the instance"
    );
    let subs = e.store().subscriptions("message", "paid").await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].correlation_key.as_deref(), Some("A-1"));
}

async fn call_activity_runs_a_child(db: TestDb) {
    let (e, _) = engine(&db).await;
    let child = format!(
        r#"<definitions {NS} id="dc"><process id="child" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <scriptTask id="t" scriptFormat="rhai"><script>doubled = n * 2;</script></scriptTask>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let parent = format!(
        r#"<definitions {NS} id="dp"><process id="parent" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
          <callActivity id="call" calledElement="child"/>
          <sequenceFlow id="f2" sourceRef="call" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&child, None).await.unwrap();
    e.deploy(&parent, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("n".into(), 21.into());
    let id = e.start_instance("parent", vars, "api").await.unwrap();
    until_status(&e, &id, "completed").await;
    let row = e.store().load_instance(&id).await.unwrap().unwrap();
    let p: baton_runtime::engine::Persisted = serde_json::from_slice(&row.state).unwrap();
    assert_eq!(
        p.state.vars["doubled"], 42,
        "the child's variables come back to the caller"
    );
    let kids = children_of(&e, &id).await;
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].status, "completed");
    assert_eq!(kids[0].start_way, "call");
}

async fn interrupted_caller_cancels_its_child(db: TestDb) {
    let (e, clock) = engine(&db).await;
    let child = format!(
        r#"<definitions {NS} id="dc"><process id="waiter" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
          <userTask id="u"/><sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let parent = format!(
        r#"<definitions {NS} id="dp"><process id="caller" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
          <callActivity id="call" calledElement="waiter"/>
          <boundaryEvent id="late" attachedToRef="call"><timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition></boundaryEvent>
          <sequenceFlow id="f2" sourceRef="call" targetRef="e"/><endEvent id="e"/>
          <sequenceFlow id="f3" sourceRef="late" targetRef="e2"/><endEvent id="e2"/></process></definitions>"#
    );
    e.deploy(&child, None).await.unwrap();
    e.deploy(&parent, None).await.unwrap();
    let id = e.start_instance("caller", Map::new(), "api").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while children_of(&e, &id).await.is_empty() {
        assert!(Instant::now() < deadline, "the child never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let kid = children_of(&e, &id).await.remove(0);
    assert_eq!(
        e.store().tasks_of(&kid.id).await.unwrap().len(),
        1,
        "the child waits at its user task"
    );
    clock.advance(3_600_001);
    until_status(&e, &id, "completed").await;
    until_status(&e, &kid.id, "cancelled").await;
    let h = history_of(&e, &id).await;
    assert!(h.contains(&("late".into(), "passed".into())), "{h:?}");
    assert!(h.contains(&("call".into(), "terminated".into())), "{h:?}");
    assert!(
        !h.contains(&("e".into(), "passed".into())),
        "the normal path was not taken: {h:?}"
    );
}

async fn signals_reach_other_instances(db: TestDb) {
    let (e, _) = engine(&db).await;
    let waiter = format!(
        r#"<definitions {NS} id="dw"><signal id="go" name="go"/><process id="listen" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="c"/>
          <intermediateCatchEvent id="c"><signalEventDefinition signalRef="go"/></intermediateCatchEvent>
          <sequenceFlow id="f2" sourceRef="c" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let starter = format!(
        r#"<definitions {NS} id="ds"><signal id="go" name="go"/><process id="started" isExecutable="true" baton:owner="tests">
          <startEvent id="s"><signalEventDefinition signalRef="go"/></startEvent>
          <sequenceFlow id="f1" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let thrower = format!(
        r#"<definitions {NS} id="dt"><signal id="go" name="go"/><process id="shout" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <intermediateThrowEvent id="t"><signalEventDefinition signalRef="go"/></intermediateThrowEvent>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    for x in [&waiter, &starter, &thrower] {
        e.deploy(x, None).await.unwrap();
    }
    let a = e.start_instance("listen", Map::new(), "api").await.unwrap();
    let b = e.start_instance("listen", Map::new(), "api").await.unwrap();
    let s = e.start_instance("shout", Map::new(), "api").await.unwrap();
    until_status(&e, &s, "completed").await;
    until_status(&e, &a, "completed").await;
    until_status(&e, &b, "completed").await;
    let by_signal = e
        .store()
        .list_instances(
            &baton_runtime::store::InstanceFilter {
                start_way: Some("signal".into()),
                ..Default::default()
            },
            baton_runtime::store::Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_signal.len(),
        1,
        "one instance started by the signal start event"
    );
    assert!(
        e.store()
            .subscriptions("signal", "go")
            .await
            .unwrap()
            .is_empty(),
        "no subscription left behind"
    );
}

async fn incident_then_retry(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="di"><process id="fragile" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <scriptTask id="t" scriptFormat="rhai"><script>if !ready {{ throw "not ready"; }} done = true;</script></scriptTask>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("ready".into(), false.into());
    let id = e.start_instance("fragile", vars, "api").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let incident = loop {
        let inc = e.store().incidents(&id).await.unwrap();
        if let Some(i) = inc.into_iter().next() {
            break i;
        }
        assert!(Instant::now() < deadline, "no incident");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(incident.element_id, "t");
    assert!(
        incident.message.contains("not ready"),
        "{}",
        incident.message
    );
    let mut fix = Map::new();
    fix.insert("ready".into(), true.into());
    e.send(&id, Command::SetVars { vars: fix }).unwrap();
    e.send(
        &id,
        Command::Retry {
            exec: incident.exec as u32,
        },
    )
    .unwrap();
    until_status(&e, &id, "completed").await;
    let h = history_of(&e, &id).await;
    assert!(
        h.contains(&("t".into(), "failed".into())) && h.contains(&("t".into(), "retried".into())),
        "{h:?}"
    );
    let incidents = e.store().incidents(&id).await.unwrap();
    assert!(
        incidents.iter().all(|i| i.resolved_at.is_some()),
        "the retried node's incident is resolved: {incidents:?}"
    );
}

/// A user task's `assignee` and `candidateGroups` may be expressions over
/// the instance's variables; one that cannot be evaluated is kept as written.
async fn task_assignees_are_evaluated(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-who"><process id="who" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
          <parallelGateway id="split"/>
          <sequenceFlow id="f1" sourceRef="split" targetRef="a"/>
          <userTask id="a" baton:assignee="${{boss}}" baton:candidateGroups="${{teams}}"/>
          <sequenceFlow id="f2" sourceRef="split" targetRef="b"/>
          <userTask id="b" baton:assignee="${{nobody.name}}" baton:candidateGroups="ops, cab"/>
          </process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("boss".into(), serde_json::json!("carol"));
    vars.insert("teams".into(), serde_json::json!(["ops", "cab"]));
    let id = e.start_instance("who", vars, "api").await.unwrap();
    let task = |el: &'static str| {
        let e = e.clone();
        let id = id.clone();
        async move {
            for _ in 0..200 {
                let tasks = e
                    .store()
                    .list_tasks("default", baton_runtime::store::TaskScope::All)
                    .await
                    .unwrap();
                if let Some(t) = tasks
                    .into_iter()
                    .find(|t| t.instance_id == id && t.element_id == el)
                {
                    return t;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("no task {el}");
        }
    };
    let a = task("a").await;
    assert_eq!(a.assignee.as_deref(), Some("carol"));
    assert_eq!(a.candidate_groups, ["ops", "cab"]);
    let b = task("b").await;
    assert_eq!(
        b.assignee.as_deref(),
        Some("${nobody.name}"),
        "kept as written"
    );
    assert_eq!(b.candidate_groups, ["ops", "cab"]);
}

on_both!(task_assignees_are_evaluated);

/// A paused instance finishes nothing new: the job its next step creates is
/// held until it is resumed, then it runs and the instance completes.
async fn pause_holds_new_work_until_resume(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-pause"><process id="pausable" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="ask"/>
          <userTask id="ask"/><sequenceFlow id="f1" sourceRef="ask" targetRef="work"/>
          <serviceTask id="work" baton:type="noop"/><sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
          <endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e
        .start_instance("pausable", Map::new(), "api")
        .await
        .unwrap();
    assert!(e.pause(&id).await.unwrap());
    assert!(!e.pause(&id).await.unwrap(), "paused already");
    assert!(e.is_paused(&id));
    let exec = e
        .store()
        .list_tasks("default", baton_runtime::store::TaskScope::All)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.instance_id == id)
        .unwrap()
        .exec;
    e.send(
        &id,
        Command::TaskCompleted {
            exec: exec as u32,
            vars: Map::new(),
        },
    )
    .unwrap();
    // The task's completion applies; the noop job it creates is held.
    let deadline = Instant::now() + Duration::from_secs(10);
    let job = loop {
        let jobs = e.store().jobs_of(&id).await.unwrap();
        if let Some(j) = jobs.into_iter().next() {
            break j;
        }
        assert!(Instant::now() < deadline, "no job written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(job.run_at, baton_runtime::store::HELD);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = e.store().load_instance(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "running", "held while paused");
    assert!(e.resume(&id).await.unwrap());
    assert!(!e.resume(&id).await.unwrap(), "running already");
    until_status(&e, &id, "completed").await;
}

on_both!(pause_holds_new_work_until_resume);

/// Only a version nothing uses is deleted, on either store.
async fn unused_versions_are_deleted(db: TestDb) {
    let (e, _) = engine(&db).await;
    let v = |n: u32| {
        format!(
            r#"<definitions {NS} id="d-del"><process id="del" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/>
          <endEvent id="e" name="v{n}"/></process></definitions>"#
        )
    };
    for n in 1..=3 {
        e.deploy(&v(n), None).await.unwrap();
    }
    use baton_runtime::store::InUse;
    assert_eq!(
        e.delete_version("del", 3).await.unwrap(),
        Some(InUse::Latest)
    );
    let id = e.start_instance("del", Map::new(), "api").await.unwrap();
    until_status(&e, &id, "completed").await;
    // Versions 1 and 2 have no instance (it ran on 3): deleted.
    assert_eq!(e.delete_version("del", 1).await.unwrap(), None);
    assert!(e.store().definition("del:1").await.unwrap().is_none());
    assert_eq!(e.delete_version("del", 2).await.unwrap(), None);
    assert_eq!(
        e.delete_version("del", 3).await.unwrap(),
        Some(InUse::Instances(1))
    );
    // A new start still uses the latest.
    let id = e.start_instance("del", Map::new(), "api").await.unwrap();
    until_status(&e, &id, "completed").await;
    let row = e.store().load_instance(&id).await.unwrap().unwrap();
    assert_eq!(row.definition_id, "del:3");
}

on_both!(unused_versions_are_deleted);
