//! End to end through the durable engine: one BPMN process chains a remote
//! command (real sshd) → SQL (real PostgreSQL) → HTTP (a server in this test)
//! → file distribution (SFTP to the same sshd), with `${}` carrying each
//! node's outputs into the next. Resources live in the store, secrets
//! encrypted. Under `CI=true` a missing sshd or PostgreSQL fails the test.

#[path = "../nodes/tests/common/sshd.rs"]
#[allow(dead_code)]
mod sshd;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use baton_nodes::resources::{Auth, Terminal};
use baton_nodes::{MasterKey, Registry, Secret};
use baton_runtime::engine::{Engine, Options, Persisted, SystemClock};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_runtime::store::{ReportTemplateRow, Store};
use serde_json::{Map, Value, json};
use sha2::Digest;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

fn pg_available() -> bool {
    let ok = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        Duration::from_secs(2),
    )
    .is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PostgreSQL is not reachable on 127.0.0.1:5432"
        );
        eprintln!("note: skipping: PostgreSQL is not reachable on 127.0.0.1:5432");
    }
    ok
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_command_sql_http_file_distribution_chain() {
    let Some(sshd) = sshd::Sshd::start() else {
        return;
    };
    if !pg_available() {
        return;
    }
    let tag = format!(
        "{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let dir = std::env::temp_dir().join(format!("baton-chain-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    // Remote files land where the ssh user may write.
    let remote_dir = format!("/tmp/baton-chain-remote-{tag}");
    std::fs::create_dir_all(&remote_dir).unwrap();
    let _ = std::process::Command::new("chmod")
        .args(["777", &remote_dir])
        .status();

    // The file the HTTP service names and the last node ships: 3 MB.
    let payload: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let local_file = dir.join("payload.bin");
    std::fs::write(&local_file, &payload).unwrap();
    let local_sha = hex(&sha2::Sha256::digest(&payload));

    // An HTTP service that records what it was sent and answers JSON.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = received.clone();
    let file_for_http = local_file.display().to_string();
    let app = axum::Router::new().route(
        "/report",
        post(move |Json(body): Json<Value>| {
            let seen = seen.clone();
            let file = file_for_http.clone();
            async move {
                seen.lock().unwrap().push(body);
                Json(json!({"file": file, "accepted": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The durable engine on SQLite, with resources in its store.
    let url = format!("sqlite://{}?mode=rwc", dir.join("baton.db").display());
    let store = Store::connect(&url).await.unwrap();
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let resources = StoreResources {
        store: store.clone(),
        key,
        company: DEFAULT_COMPANY.into(),
        roots: vec![dir.clone()],
        data_dir: dir.join("data"),
    };
    store
        .put_terminal(
            DEFAULT_COMPANY,
            &Terminal {
                id: "t1".into(),
                name: "box".into(),
                host_name: "box".into(),
                host_address: "127.0.0.1".into(),
                port: sshd.port,
                connection_type: "ssh".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    resources
        .save_account(
            "a1",
            "t1",
            &sshd.user,
            &Auth::Key {
                private_key: Secret::new(sshd.key.clone()),
                passphrase: None,
            },
            "",
        )
        .await
        .unwrap();
    resources
        .save_data_source("ds1", "ops", PG, None, None, "")
        .await
        .unwrap();
    store
        .put_global(DEFAULT_COMPANY, "site", &json!("sh01"), "")
        .await
        .unwrap();
    store
        .put_report_template(
            &ReportTemplateRow {
                id: "rt1".into(),
                company_id: DEFAULT_COMPANY.into(),
                name: "daily".into(),
                file_name: "daily.xlsx".into(),
                placeholders: json!([]),
                comments: String::new(),
                updated_at: 0,
            },
            &report_template(),
        )
        .await
        .unwrap();
    let table = format!("chain_{tag}");
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(resources),
        Some(store.clone()),
    );
    let engine = Engine::start(
        store,
        Arc::new(SystemClock),
        Arc::new(handler),
        Options::default(),
    )
    .await
    .unwrap();

    let xml = format!(
        r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="chain-defs" targetNamespace="t">
  <process id="chain" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="remote"/>
    <serviceTask id="remote" name="Who runs here" baton:type="remote-command">
      <extensionElements>
        <baton:property name="terminal" value="box"/>
        <baton:property name="command" value="echo ${{site}}-$(id -un)"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="remote" targetRef="setup"/>
    <serviceTask id="setup" baton:type="sql">
      <extensionElements>
        <baton:property name="dataSource" value="ops"/>
        <baton:property name="query" value="false"/>
        <baton:property name="sql" value="CREATE TABLE {table} (id SERIAL PRIMARY KEY, val TEXT NOT NULL)"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f3" sourceRef="setup" targetRef="record"/>
    <serviceTask id="record" baton:type="sql">
      <extensionElements>
        <baton:property name="dataSource" value="ops"/>
        <baton:property name="query" value="false"/>
        <baton:property name="sql" value="INSERT INTO {table} (val) VALUES (${{remote.stdout.trim()}})"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f4" sourceRef="record" targetRef="readback"/>
    <serviceTask id="readback" baton:type="sql">
      <extensionElements>
        <baton:property name="dataSource" value="ops"/>
        <baton:property name="sql" value="SELECT id, val FROM {table} WHERE val = ${{remote.stdout.trim()}}"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f5" sourceRef="readback" targetRef="notify"/>
    <serviceTask id="notify" baton:type="http">
      <extensionElements>
        <baton:property name="url" value="http://127.0.0.1:{http_port}/report"/>
        <baton:property name="method" value="POST"/>
        <baton:property name="headers" value='{{"Content-Type": "application/json"}}'/>
        <baton:property name="body" value='{{"val": "${{readback.rows[0].val}}", "rows": ${{record.affectedRows}}}}'/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f6" sourceRef="notify" targetRef="ship"/>
    <serviceTask id="ship" baton:type="file-distribution">
      <extensionElements>
        <baton:property name="terminal" value="box"/>
        <baton:property name="command" value="PUT"/>
        <baton:property name="connectionType" value="SFTP"/>
        <baton:property name="localFile" value="${{notify.body.file}}"/>
        <baton:property name="remoteFile" value="{remote_dir}/row-${{readback.rows[0].id}}.bin"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f7" sourceRef="ship" targetRef="series"/>
    <serviceTask id="series" baton:type="sql">
      <extensionElements>
        <baton:property name="dataSource" value="ops"/>
        <baton:property name="sql" value="SELECT g AS n, 'disk-' || g AS name FROM generate_series(1, 3) g ORDER BY g"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f7b" sourceRef="series" targetRef="report"/>
    <serviceTask id="report" baton:type="report">
      <extensionElements>
        <baton:property name="template" value="daily"/>
        <baton:property name="name" value="daily ${{site}}"/>
        <baton:property name="comments" value="from the chain test"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f7c" sourceRef="report" targetRef="cleanup"/>
    <serviceTask id="cleanup" baton:type="sql">
      <extensionElements>
        <baton:property name="dataSource" value="ops"/>
        <baton:property name="query" value="false"/>
        <baton:property name="sql" value="DROP TABLE {table}"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f8" sourceRef="cleanup" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#
    );
    engine.deploy(&xml, None).await.unwrap();
    let id = engine
        .start_instance("chain", Map::new(), "api")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let row = loop {
        let row = engine.store().load_instance(&id).await.unwrap().unwrap();
        if row.status != "running" {
            break row;
        }
        let incidents = engine.store().incidents(&id).await.unwrap();
        assert!(incidents.is_empty(), "incident: {incidents:?}");
        assert!(Instant::now() < deadline, "the chain did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(row.status, "completed");
    let p: Persisted = serde_json::from_slice(&row.state).unwrap();
    let out = p.state.outputs;
    let who = format!("sh01-{}", sshd.user);
    assert_eq!(out["remote"]["stdout"], format!("{who}\n"));
    assert_eq!(out["remote"]["terminal"]["hostAddress"], "127.0.0.1");
    assert_eq!(out["record"]["affectedRows"], 1);
    assert_eq!(out["readback"]["rows"][0]["val"], who.as_str());
    assert_eq!(out["notify"]["status"], 200);
    assert_eq!(out["notify"]["body"]["accepted"], true);
    let sent = received.lock().unwrap().clone();
    assert_eq!(sent, vec![json!({"val": who, "rows": 1})]);
    // The SQL text bound the value: the recorded statement has a placeholder.
    assert!(
        out["record"]["sql"].as_str().unwrap().contains("$1"),
        "{}",
        out["record"]["sql"]
    );
    let row_id = out["readback"]["rows"][0]["id"].as_i64().unwrap();
    let remote_file = format!("{remote_dir}/row-{row_id}.bin");
    let shipped = std::fs::read(&remote_file).unwrap();
    assert_eq!(shipped.len(), payload.len());
    assert_eq!(out["ship"]["size"], payload.len() as u64);
    assert_eq!(out["ship"]["sha256"], local_sha.as_str());
    assert_eq!(hex(&sha2::Sha256::digest(&shipped)), local_sha);
    // The report: filled from the remote command's and the queries' outputs, kept.
    let report_id = out["report"]["report"]["id"].as_str().unwrap().to_owned();
    assert_eq!(out["report"]["report"]["name"], "daily sh01");
    assert_eq!(out["report"]["report"]["comments"], "from the chain test");
    let kept = engine
        .store()
        .list_report_data(DEFAULT_COMPANY, Some(&id), Some("chain"))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].id, report_id);
    assert_eq!(kept[0].definition_key, "chain");
    assert_eq!(kept[0].element_id, "report");
    let bytes = std::fs::read(dir.join("data").join(&kept[0].path)).unwrap();
    assert_eq!(kept[0].size, bytes.len() as i64);
    assert_eq!(kept[0].sha256, hex(&sha2::Sha256::digest(&bytes)));
    check_report(bytes, &who);
    // No secret in what the instance stored.
    let state = String::from_utf8_lossy(&row.state);
    assert!(
        !state.contains("PRIVATE KEY"),
        "the key leaked into the state"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&remote_dir);
}

/// A template as an operator would write it: text with a placeholder inside,
/// a typed number, a list of the remote command's output lines, and a table
/// row from a query that expands downward, a total row below it.
fn report_template() -> Vec<u8> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Run").unwrap();
    let bold = Format::new().set_bold();
    sheet
        .write_with_format(0, 0, "Report for ${site}", &bold)
        .unwrap();
    sheet.write(1, 0, "Host").unwrap();
    sheet.write(1, 1, "${remote.terminal.hostAddress}").unwrap();
    sheet.write(2, 0, "Who").unwrap();
    sheet
        .write(2, 1, "${remote.stdout.trim().split('\\n')}")
        .unwrap();
    sheet.write(3, 0, "Rows written").unwrap();
    sheet.write(3, 1, "${record.affectedRows}").unwrap();
    sheet.write_with_format(4, 0, "n", &bold).unwrap();
    sheet.write_with_format(4, 1, "name", &bold).unwrap();
    sheet.write(5, 0, "${series.rows.n}").unwrap();
    sheet.write(5, 1, "${series.rows.name}").unwrap();
    sheet.write(6, 0, "end").unwrap();
    book.save_to_buffer().unwrap()
}

fn check_report(bytes: Vec<u8>, who: &str) {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("Run").unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(0, 0), Data::String("Report for sh01".into()));
    assert_eq!(cell(1, 1), Data::String("127.0.0.1".into()));
    assert_eq!(cell(2, 1), Data::String(who.into()));
    assert_eq!(cell(3, 1), Data::Float(1.0), "a number stays a number");
    for (i, r) in (5..8).enumerate() {
        assert_eq!(cell(r, 0), Data::Float(i as f64 + 1.0), "row {r}");
        assert_eq!(
            cell(r, 1),
            Data::String(format!("disk-{}", i + 1)),
            "row {r}"
        );
    }
    assert_eq!(
        cell(8, 0),
        Data::String("end".into()),
        "the row below moved down"
    );
}
