//! The node library inside the durable engine, on SQLite and PostgreSQL:
//! resources with encrypted secrets, `${}` flowing between nodes, node logs
//! in the store, failures as incidents, cancellation by a boundary timer,
//! call-process, and a non-idempotent node interrupted by a crash.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::resources::{Auth, HostKeyCheck, Resources, Script, Terminal};
use baton_nodes::{MasterKey, Registry, Secret};
use baton_runtime::engine::{Engine, Options, TestClock};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_runtime::store::Store;
use common::{TestDb, on_both};
use sea_orm::ConnectionTrait;
use serde_json::{Map, Value, json};

const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="t""#;

fn resources(store: &Store, key: &MasterKey) -> StoreResources {
    StoreResources {
        store: store.clone(),
        key: key.clone(),
        company: DEFAULT_COMPANY.into(),
        roots: vec![std::env::temp_dir()],
        data_dir: std::env::temp_dir().join("baton-node-tests-data"),
    }
}

async fn engine(url: &str, key: &MasterKey, lease_ms: i64) -> (Engine, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(1_800_000_000_000));
    let opts = Options {
        poll: Duration::from_millis(10),
        lease_ms,
        ..Options::default()
    };
    let store = Store::connect(url).await.unwrap();
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(resources(&store, key)),
        Some(store.clone()),
    );
    let e = Engine::start(store, clock.clone(), Arc::new(handler), opts)
        .await
        .unwrap();
    (e, clock)
}

async fn until_status(e: &Engine, instance: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = e.store().load_instance(instance).await.unwrap().unwrap();
        if row.status == status {
            return;
        }
        if Instant::now() > deadline {
            let incidents = e.store().incidents(instance).await.unwrap();
            panic!(
                "{instance} is {}, expected {status}; incidents: {incidents:?}",
                row.status
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn incident(e: &Engine, instance: &str) -> baton_runtime::store::IncidentRow {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(i) = e
            .store()
            .incidents(instance)
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return i;
        }
        assert!(Instant::now() < deadline, "no incident on {instance}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn state_of(row: &baton_runtime::store::InstanceRow) -> baton_core::InstanceState {
    let p: baton_runtime::engine::Persisted = serde_json::from_slice(&row.state).unwrap();
    p.state
}

fn outputs(row: &baton_runtime::store::InstanceRow) -> Map<String, Value> {
    state_of(row).outputs
}

on_both!(
    secrets_are_encrypted_at_rest,
    nodes_chain_variables_and_log_to_the_store,
    node_failures_are_incidents_that_name_the_fault,
    a_boundary_timer_cancels_a_running_node,
    call_process_passes_the_call_variables,
    an_interrupted_non_idempotent_node_is_not_rerun,
    a_noop_for_a_host_is_routed_to_it_a_script_never,
);

async fn secrets_are_encrypted_at_rest(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let r = resources(&db.store, &key);
    r.save_data_source(
        "ds1",
        "orders",
        "postgres://db/orders",
        Some("app"),
        Some("pg-s3cret"),
        "",
    )
    .await
    .unwrap();
    let t = Terminal {
        id: "t1".into(),
        name: "web1".into(),
        host_address: "10.0.0.5".into(),
        port: 22,
        connection_type: "ssh".into(),
        ..Default::default()
    };
    db.store.put_terminal(DEFAULT_COMPANY, &t).await.unwrap();
    r.save_account(
        "a1",
        "t1",
        "ops",
        &Auth::Password(Secret::new("ssh-s3cret")),
        "",
    )
    .await
    .unwrap();
    // Nothing in the tables holds the plain text.
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    for (table, col) in [
        ("data_sources", "password_enc"),
        ("terminal_accounts", "secret_enc"),
    ] {
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT {col} FROM {table}"),
            ))
            .await
            .unwrap();
        let v: String = rows[0].try_get_by_index(0).unwrap();
        assert!(
            v.starts_with("v1:") && !v.contains("s3cret"),
            "{table}: {v}"
        );
    }
    // Read back through the resources: decrypted; by id or name.
    let ds = r.data_source("orders").await.unwrap().unwrap();
    assert_eq!(ds.password.as_ref().map(Secret::expose), Some("pg-s3cret"));
    assert!(!format!("{ds:?}").contains("pg-s3cret"), "Debug masks it");
    let term = r.terminal("web1").await.unwrap().unwrap();
    assert_eq!(term.host_address, "10.0.0.5");
    let acct = r.account(&term, Some("ops")).await.unwrap().unwrap();
    assert_eq!(acct.auth, Auth::Password(Secret::new("ssh-s3cret")));
    assert!(r.account(&term, Some("nobody")).await.unwrap().is_none());
    // Another master key cannot open them, and says so.
    let other = resources(
        &db.store,
        &MasterKey::from_base64(&MasterKey::generate()).unwrap(),
    );
    let err = other.data_source("ds1").await.unwrap_err();
    assert!(
        err.contains("data source `orders`") && err.contains("another master key"),
        "{err}"
    );
    // Host keys: pinned on first use, then matched, a different one refused.
    assert_eq!(
        r.check_host_key("h", 22, "ssh-ed25519 AAA").await.unwrap(),
        HostKeyCheck::Pinned
    );
    assert_eq!(
        r.check_host_key("h", 22, "ssh-ed25519 AAA").await.unwrap(),
        HostKeyCheck::Matches
    );
    assert_eq!(
        r.check_host_key("h", 22, "ssh-ed25519 BBB").await.unwrap(),
        HostKeyCheck::Changed {
            pinned: "ssh-ed25519 AAA".into()
        }
    );
    assert_eq!(
        r.check_host_key("h", 2222, "ssh-ed25519 BBB")
            .await
            .unwrap(),
        HostKeyCheck::Pinned
    );
    // Globals.
    db.store
        .put_global(DEFAULT_COMPANY, "site", &json!("sh-01"), "")
        .await
        .unwrap();
    assert_eq!(r.globals().await.unwrap()["site"], "sh-01");
}

async fn nodes_chain_variables_and_log_to_the_store(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let (e, _) = engine(&db.url, &key, 60_000).await;
    db.store
        .put_global(DEFAULT_COMPANY, "site", &json!("sh-01"), "")
        .await
        .unwrap();
    db.store
        .put_script(
            DEFAULT_COMPANY,
            &Script {
                id: "s1".into(),
                name: "shout".into(),
                language: "sh".into(),
                content: "printf '%s' \"${first.stdout}\" | tr a-z A-Z".into(),
                comments: String::new(),
            },
        )
        .await
        .unwrap();
    let xml = format!(
        r#"<definitions {NS} id="d"><process id="chain" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="first"/>
          <serviceTask id="first" name="First" baton:type="local-command">
            <extensionElements><baton:property name="command" value="printf '%s-%s' ${{who}} ${{site}}; echo; echo line2"/></extensionElements>
          </serviceTask>
          <sequenceFlow id="f2" sourceRef="first" targetRef="second"/>
          <serviceTask id="second" baton:type="local-command" baton:script="shout" baton:resultVariable="shouted"/>
          <sequenceFlow id="f3" sourceRef="second" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("who".into(), "ops".into());
    let id = e.start_instance("chain", vars, "api").await.unwrap();
    until_status(&e, &id, "completed").await;
    let row = e.store().load_instance(&id).await.unwrap().unwrap();
    let out = outputs(&row);
    assert_eq!(out["first"]["stdout"], "ops-sh-01\nline2\n");
    assert_eq!(out["first"]["name"], "First");
    assert_eq!(out["second"]["stdout"], "OPS-SH-01\nLINE2\n");
    assert_eq!(
        out["second"]["command"],
        "printf '%s' \"ops-sh-01\nline2\n\" | tr a-z A-Z"
    );
    let st = state_of(&row);
    assert_eq!(st.vars["shouted"]["exitCode"], 0);
    // The first node's output lines are in the store, in order.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = e.store().instance_logs(&id).await.unwrap();
        let lines: Vec<(&str, &str)> = logs
            .iter()
            .map(|l| (l.stream.as_str(), l.line.as_str()))
            .collect();
        if lines.contains(&("stdout", "LINE2")) {
            let a = lines
                .iter()
                .position(|l| *l == ("stdout", "ops-sh-01"))
                .unwrap();
            let b = lines
                .iter()
                .position(|l| *l == ("stdout", "line2"))
                .unwrap();
            assert!(a < b, "{lines:?}");
            assert!(
                lines.contains(&("info", "$ printf '%s' \"ops-sh-01\nline2\n\" | tr a-z A-Z")),
                "{lines:?}"
            );
            let one = e.store().job_logs(&logs[0].job_id).await.unwrap();
            assert!(one.len() < logs.len() && one.iter().all(|l| l.job_id == logs[0].job_id));
            break;
        }
        assert!(Instant::now() < deadline, "logs: {lines:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn node_failures_are_incidents_that_name_the_fault(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let (e, _) = engine(&db.url, &key, 60_000).await;
    // Deploy-time: an unknown node type and a missing required property.
    let bad = format!(
        r#"<definitions {NS} id="d"><process id="bad" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <serviceTask id="t" baton:type="teleport"/>
          <sequenceFlow id="f2" sourceRef="t" targetRef="u"/>
          <serviceTask id="u" baton:type="local-command" baton:workDir="/"/>
          <sequenceFlow id="f3" sourceRef="u" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    let err = e.deploy(&bad, None).await.unwrap_err().to_string();
    let diags = format!("{:?}", e.deploy(&bad, None).await.unwrap_err());
    assert!(
        diags.contains("no node of type `teleport`"),
        "{err} {diags}"
    );
    assert!(diags.contains("property `command`: is required"), "{diags}");
    // Run time: an unknown variable, then a failing command.
    let xml = format!(
        r#"<definitions {NS} id="d2"><process id="fails" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <serviceTask id="t" baton:type="local-command" baton:command="echo ${{prev.stdotu}}"/>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("prev".into(), json!({"stdout": "x"}));
    let id = e.start_instance("fails", vars, "api").await.unwrap();
    let inc = incident(&e, &id).await;
    assert_eq!(inc.element_id, "t");
    assert!(
        inc.message.contains("unknown name 'stdotu'"),
        "{}",
        inc.message
    );
    let xml = format!(
        r#"<definitions {NS} id="d3"><process id="exits" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <serviceTask id="t" baton:type="local-command" baton:command="echo no such table >&amp;2; exit 7"/>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e.start_instance("exits", Map::new(), "api").await.unwrap();
    let inc = incident(&e, &id).await;
    assert!(
        inc.message.contains("exit code 7") && inc.message.contains("no such table"),
        "{}",
        inc.message
    );
    let hist = e.store().history(&id).await.unwrap();
    assert!(
        hist.iter()
            .any(|h| h.kind == "failed" && h.element_id == "t"),
        "the failure is in the instance history: {hist:?}"
    );
}

async fn a_boundary_timer_cancels_a_running_node(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let (e, clock) = engine(&db.url, &key, 60_000).await;
    let marker = std::env::temp_dir().join(format!(
        "baton-cancel-{}-{}",
        std::process::id(),
        db.url.len()
    ));
    let _ = std::fs::remove_file(&marker);
    let xml = format!(
        r#"<definitions {NS} id="d"><process id="slow" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <serviceTask id="t" baton:type="local-command" baton:command="sleep 3; touch {m}"/>
          <boundaryEvent id="b" attachedToRef="t"><timerEventDefinition><timeDuration>PT1M</timeDuration></timerEventDefinition></boundaryEvent>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>
          <sequenceFlow id="f3" sourceRef="b" targetRef="late"/><endEvent id="late"/></process></definitions>"#,
        m = marker.display()
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e.start_instance("slow", Map::new(), "api").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    clock.advance(61_000);
    until_status(&e, &id, "completed").await;
    let hist = e.store().history(&id).await.unwrap();
    assert!(hist.iter().any(|h| h.element_id == "late"), "{hist:?}");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!marker.exists(), "the cancelled command ran on");
}

async fn call_process_passes_the_call_variables(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let (e, _) = engine(&db.url, &key, 60_000).await;
    let child = |v: &str| {
        format!(
            r#"<definitions {NS} id="c"><process id="child" isExecutable="true" baton:owner="tests">
              <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
              <scriptTask id="t" scriptFormat="rhai"><script>seen = LWAMS_CALL_PARAM + "/" + LWAMS_CALL_PROCESS_TASK_ID + "/{v}"; parent = LWAMS_CALL_PROCESS_INSTANCE_ID;</script></scriptTask>
              <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#
        )
    };
    e.deploy(&child("v1"), Some("child")).await.unwrap();
    e.deploy(&child("v2"), Some("child")).await.unwrap();
    let xml = format!(
        r#"<definitions {NS} id="p"><process id="parent" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
          <serviceTask id="call" baton:type="call-process" baton:processKey="child" baton:version="1" baton:param="p-${{n}}"/>
          <sequenceFlow id="f2" sourceRef="call" targetRef="e"/><endEvent id="e"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let mut vars = Map::new();
    vars.insert("n".into(), 7.into());
    let id = e.start_instance("parent", vars, "api").await.unwrap();
    until_status(&e, &id, "completed").await;
    let kids = e
        .store()
        .list_instances(
            &Default::default(),
            baton_runtime::store::Page {
                offset: 0,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.parent_instance.as_deref() == Some(id.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(kids.len(), 1);
    assert_eq!(
        kids[0].definition_id, "child:1",
        "version 1, not the latest"
    );
    let row = e.store().load_instance(&kids[0].id).await.unwrap().unwrap();
    let st = state_of(&row);
    assert_eq!(st.vars["seen"], "p-7/call/v1");
    assert_eq!(st.vars["parent"], Value::String(id.clone()));
    // A bad version is refused at deploy time.
    let bad = xml
        .replace(r#"baton:version="1""#, r#"baton:version="one""#)
        .replace("id=\"p\"", "id=\"p2\"");
    let err = format!("{:?}", e.deploy(&bad, None).await.unwrap_err());
    assert!(err.contains("`version` must be a number"), "{err}");
}

async fn an_interrupted_non_idempotent_node_is_not_rerun(db: TestDb) {
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let marker = std::env::temp_dir().join(format!(
        "baton-rerun-{}-{}",
        std::process::id(),
        db.url.len()
    ));
    let _ = std::fs::remove_file(&marker);
    let xml = format!(
        r#"<definitions {NS} id="d"><process id="once" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
          <serviceTask id="t" baton:type="local-command" baton:command="echo run >> {m}; sleep 30"/>
          <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#,
        m = marker.display()
    );
    // Engine A starts the node, then "crashes" (its runtime is dropped, the
    // command killed with it) while holding a short lease.
    let url = db.url.clone();
    let (k2, xml2) = (key.clone(), xml.clone());
    let id = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let id = rt.block_on(async {
            let (a, _) = engine(&url, &k2, 500).await;
            a.deploy(&xml2, None).await.unwrap();
            let id = a.start_instance("once", Map::new(), "api").await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::fs::read_to_string(&marker)
                .unwrap_or_default()
                .is_empty()
            {
                assert!(Instant::now() < deadline, "the node never started");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            id
        });
        rt.shutdown_timeout(Duration::from_millis(100));
        id
    })
    .join()
    .unwrap();
    // Engine B finds the job abandoned (lease run out): an incident, no re-run.
    let (b, clock) = engine(&db.url, &key, 500).await;
    clock.advance(1_000);
    let inc = incident(&b, &id).await;
    assert!(
        inc.message.contains("interrupted") && inc.message.contains("not re-run"),
        "{}",
        inc.message
    );
    assert!(!inc.message.contains("  "), "one sentence: {}", inc.message);
    let marker = std::env::temp_dir().join(format!(
        "baton-rerun-{}-{}",
        std::process::id(),
        db.url.len()
    ));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "run\n",
        "ran exactly once"
    );
}

/// Built-in kinds run on the server, except a `noop` with a literal `host`:
/// the relay has its own `noop` (a link probed end to end, the relay
/// benchmark). A script is never routed.
async fn a_noop_for_a_host_is_routed_to_it_a_script_never(db: TestDb) {
    use baton_runtime::engine::JobHandler;
    use baton_runtime::job::JobInput;
    use baton_runtime::store::HostRow;
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    db.store
        .put_host(&HostRow::new("h-route", DEFAULT_COMPANY, "relay-route"))
        .await
        .unwrap();
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(resources(&db.store, &key)),
        Some(db.store.clone()),
    );
    let route = async |kind: &str, props: Value| {
        let job: JobInput = serde_json::from_value(json!({
            "id": "i:1", "instance_id": "i", "exec": 1, "attempt": 1,
            "element_id": "t", "kind": kind, "props": props,
        }))
        .unwrap();
        match handler.route(DEFAULT_COMPANY, &job) {
            Some(lookup) => lookup.await,
            None => None,
        }
    };
    let host = Some("h-route".to_owned());
    assert_eq!(route("noop", json!({"host": "relay-route"})).await, host);
    assert_eq!(route("noop", json!({"host": "h-route"})).await, host);
    assert_eq!(
        route("local-command", json!({"host": "relay-route"})).await,
        host
    );
    assert_eq!(route("noop", json!({})).await, None);
    assert_eq!(route("noop", json!({"host": "${where}"})).await, None);
    assert_eq!(
        route("noop", json!({"host": "relay-route", "inCloud": true})).await,
        None
    );
    assert_eq!(
        route("script:javascript", json!({"host": "relay-route"})).await,
        None
    );
    assert_eq!(
        route("script:rhai", json!({"host": "relay-route"})).await,
        None
    );
}
