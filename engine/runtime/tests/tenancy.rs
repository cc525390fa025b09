//! Companies in one engine, on SQLite and PostgreSQL: the same process id in
//! two companies is two processes; a call activity starts its own company's
//! child; a signal reaches only its company's waiting instances and signal
//! start events; a message correlated in one company never wakes another's.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_runtime::engine::{Engine, Options, Persisted, TestClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::tenancy::qualify;
use common::{TestDb, on_both};
use serde_json::Map;

on_both!(companies_do_not_reach_each_other);

const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t""#;

async fn until_status(e: &Engine, instance: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = e.store().load_instance(instance).await.unwrap().unwrap();
        if row.status == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{instance} is {}, expected {status}",
            row.status
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn status(e: &Engine, instance: &str) -> String {
    e.store()
        .load_instance(instance)
        .await
        .unwrap()
        .unwrap()
        .status
}

fn child(marker: &str) -> String {
    format!(
        r#"<definitions {NS} id="dc"><process id="child" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <scriptTask id="t" scriptFormat="rhai"><script>made_by = "{marker}";</script></scriptTask>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    )
}

async fn companies_do_not_reach_each_other(db: TestDb) {
    let opts = Options {
        poll: Duration::from_millis(10),
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    let clock = Arc::new(TestClock::new(1_800_000_000_000));
    let e = Engine::start(store, clock, Arc::new(Builtin::default()), opts)
        .await
        .unwrap();
    let parent = format!(
        r#"<definitions {NS} id="dp"><process id="parent" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
          <callActivity id="call" calledElement="child"/>
          <sequenceFlow id="f2" sourceRef="call" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let waiter = format!(
        r#"<definitions {NS} id="dw"><signal id="go" name="go"/><message id="m" name="ping"/>
          <process id="listen" isExecutable="true" baton:owner="tests">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
          <eventBasedGateway id="split"/>
          <sequenceFlow id="f1" sourceRef="split" targetRef="sig"/>
          <sequenceFlow id="f2" sourceRef="split" targetRef="msg"/>
          <intermediateCatchEvent id="sig"><signalEventDefinition signalRef="go"/></intermediateCatchEvent>
          <intermediateCatchEvent id="msg"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
          <sequenceFlow id="f3" sourceRef="sig" targetRef="e1"/><endEvent id="e1"/>
          <sequenceFlow id="f4" sourceRef="msg" targetRef="e2"/><endEvent id="e2"/></process></definitions>"#
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
    // The same ids in the default company and in `acme`.
    for company in ["default", "acme"] {
        let k = |id: &str| Some(qualify(company, id));
        let d = e
            .deploy(&child(company), k("child").as_deref())
            .await
            .unwrap();
        assert_eq!(d.version, 1, "{company}: its own version line");
        e.deploy(&parent, k("parent").as_deref()).await.unwrap();
        e.deploy(&waiter, k("listen").as_deref()).await.unwrap();
        e.deploy(&starter, k("started").as_deref()).await.unwrap();
        e.deploy(&thrower, k("shout").as_deref()).await.unwrap();
    }

    // Call activities: each parent gets its own company's child.
    for company in ["default", "acme"] {
        let id = e
            .start_instance(&qualify(company, "parent"), Map::new(), "api")
            .await
            .unwrap();
        until_status(&e, &id, "completed").await;
        let row = e.store().load_instance(&id).await.unwrap().unwrap();
        let p: Persisted = serde_json::from_slice(&row.state).unwrap();
        assert_eq!(p.state.vars["made_by"], company);
    }

    // A signal thrown in acme: acme's waiter and signal start only.
    let acme_wait = e
        .start_instance("acme/listen", Map::new(), "api")
        .await
        .unwrap();
    let home_wait = e.start_instance("listen", Map::new(), "api").await.unwrap();
    let shout = e
        .start_instance("acme/shout", Map::new(), "api")
        .await
        .unwrap();
    until_status(&e, &shout, "completed").await;
    until_status(&e, &acme_wait, "completed").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        status(&e, &home_wait).await,
        "running",
        "the default company's waiter heard acme's signal"
    );
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
    assert_eq!(by_signal.len(), 1, "one signal start, in acme");
    assert!(
        by_signal[0].definition_id.starts_with("acme/started:"),
        "{by_signal:?}"
    );

    // A message in another company does not wake the default company's waiter.
    e.correlate_in("other", "ping", None, Map::new()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status(&e, &home_wait).await, "running");
    e.correlate("ping", None, Map::new()).unwrap();
    until_status(&e, &home_wait, "completed").await;
}
