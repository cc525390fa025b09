//! Sub-Manager relays against the server side: the real relay hub (TLS
//! listener, links, failover sweep) and engine in this process on a SQLite
//! store, real `sub-manager` processes dialling in over TLS, a real sshd.
//!
//! - a process whose node runs on a relay against sshd: the secret reaches
//!   the relay and leaves the server; `${node.host.*}` are the relay's facts;
//! - kill -9 of two relays holding jobs: each one's jobs finish on a
//!   different backup, the backup over its memory threshold is skipped,
//!   none lost, none applied twice; the lost relay's late results ignored;
//! - a relay restarted at once keeps the jobs it accepted;
//! - revoking a token closes the link at once and the relay stays out;
//! - wrong token and wrong company are refused at the upgrade.

#[path = "../nodes/tests/common/sshd.rs"]
#[allow(dead_code)]
mod sshd;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::resources::Terminal;
use baton_nodes::{MasterKey, Registry};
use baton_runtime::engine::{Engine, Options, Persisted, SystemClock};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_runtime::store::{AccountRow, HostRow, RelaySecretRow, Store};
use baton_web::relay::{RelayConfig, RelayHub, RelayTls, issue_token};
use serde_json::{Map, Value, json};

const HEARTBEAT_MS: u64 = 200;
const LOST_AFTER_MS: u64 = 1_500;

struct Cloud {
    engine: Engine,
    store: Store,
    key: MasterKey,
    hub: Arc<RelayHub>,
    port: u16,
    pin: String,
    dir: PathBuf,
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "baton-relays-{name}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn cloud(name: &str) -> Cloud {
    let dir = temp_dir(name);
    let url = format!("sqlite://{}?mode=rwc", dir.join("baton.db").display());
    let store = Store::connect(&url).await.unwrap();
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let resources = StoreResources {
        store: store.clone(),
        key: key.clone(),
        company: DEFAULT_COMPANY.into(),
        roots: vec![],
        data_dir: dir.join("data"),
    };
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(resources),
        Some(store.clone()),
    );
    let engine = Engine::start(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(handler),
        Options::default(),
    )
    .await
    .unwrap();
    let tls = RelayTls::load(None, None, &dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cfg = RelayConfig {
        server: format!("test-{name}"),
        heartbeat: Duration::from_millis(HEARTBEAT_MS),
        lost_after: Duration::from_millis(LOST_AFTER_MS),
        thresholds: Default::default(),
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(100),
        window: 1_000,
        public_host: "127.0.0.1".into(),
        public_port: port,
        binaries: Default::default(),
    };
    let hub = RelayHub::new(
        store.clone(),
        key.clone(),
        engine.clone(),
        cfg,
        tls.cert_sha256.clone(),
    );
    tokio::spawn(baton_web::relay::serve(hub.clone(), listener, tls.config));
    Cloud {
        engine,
        store,
        key,
        hub,
        port,
        pin: tls.cert_sha256,
        dir,
    }
}

impl Cloud {
    /// A host with backups; returns its enrolment token.
    async fn host(&self, id: &str, backups: &[&str], thresholds: Option<Value>) -> String {
        self.store
            .put_host(&HostRow::new(id, DEFAULT_COMPANY, id))
            .await
            .unwrap();
        if !backups.is_empty() {
            let b: Vec<String> = backups.iter().map(|s| s.to_string()).collect();
            self.store
                .set_host_backups(DEFAULT_COMPANY, id, &b)
                .await
                .unwrap();
        }
        if let Some(t) = thresholds {
            self.store
                .set_host_thresholds(DEFAULT_COMPANY, id, Some(&t))
                .await
                .unwrap();
        }
        issue_token(&self.store, &self.key, id)
            .await
            .unwrap()
            .unwrap()
    }

    async fn host_row(&self, id: &str) -> HostRow {
        self.store.host_by_id(id).await.unwrap().unwrap()
    }

    /// Waits until `f` holds for the host's row.
    async fn until_host(&self, id: &str, what: &str, f: impl Fn(&HostRow) -> bool) -> HostRow {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let h = self.host_row(id).await;
            if f(&h) {
                return h;
            }
            assert!(Instant::now() < deadline, "host {id}: never {what}: {h:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn deploy_local(&self, key: &str, host: &str, command: &str) {
        let xml = format!(
            r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="{key}-defs" targetNamespace="t">
  <process id="{key}" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <serviceTask id="work" baton:type="local-command">
      <extensionElements>
        <baton:property name="host" value="{host}"/>
        <baton:property name="command" value="{command}"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#
        );
        self.engine.deploy(&xml, None).await.unwrap();
    }

    async fn start(&self, key: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            let mut vars = Map::new();
            vars.insert("n".into(), json!(i));
            ids.push(self.engine.start_instance(key, vars, "api").await.unwrap());
        }
        ids
    }

    /// Waits until every instance ended; returns their outputs.
    async fn finished(&self, ids: &[String], limit: Duration) -> Vec<(String, Value)> {
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        for id in ids {
            loop {
                let row = self.store.load_instance(id).await.unwrap().unwrap();
                if row.status != "running" {
                    let p: Persisted = serde_json::from_slice(&row.state).unwrap();
                    out.push((
                        row.status,
                        Value::Object(p.state.outputs.into_iter().collect()),
                    ));
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "instance {id} did not finish; incidents: {:?}",
                    self.store.incidents(id).await.unwrap()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        out
    }
}

/// A `sub-manager` process.
struct Relay {
    child: Child,
    config: PathBuf,
    log: PathBuf,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sub_manager_bin() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_baton")).parent().unwrap();
    let bin = dir.join("sub-manager");
    if !bin.exists() {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-p", "sub-manager", "--bin", "sub-manager"])
            .status()
            .unwrap();
        assert!(ok.success(), "building sub-manager");
    }
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Relay {
    fn start(cloud: &Cloud, name: &str, token: &str, company: &str, max_jobs: u32) -> Relay {
        let dir = cloud.dir.join(format!("relay-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("sub-manager.toml");
        std::fs::write(
            &config,
            format!(
                "company_code = \"{company}\"\ncloud_host = \"127.0.0.1\"\ncloud_port = {}\n\
                 token = \"{token}\"\ncloud_cert_sha256 = \"{}\"\nhttp_host = \"127.0.0.1\"\n\
                 http_port = {}\ndata_dir = \"data\"\nmax_jobs = {max_jobs}\n",
                cloud.port,
                cloud.pin,
                free_port()
            ),
        )
        .unwrap();
        Relay::spawn(config, dir.join("relay.log"))
    }

    fn spawn(config: PathBuf, log: PathBuf) -> Relay {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(sub_manager_bin())
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Relay { child, config, log }
    }

    /// kill -9, then start again on the same data directory.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill();
        // The old value's drop kills a process already gone: harmless.
        *self = Relay::spawn(self.config.clone(), self.log.clone());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

async fn connected(cloud: &Cloud, id: &str) -> HostRow {
    cloud
        .until_host(id, "connected", |h| {
            h.state == "connected" && h.server.is_some()
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_runs_on_its_relay_against_sshd_and_the_secret_leaves_the_server() {
    let Some(sshd) = sshd::Sshd::start() else {
        return;
    };
    let c = cloud("ssh").await;
    let token = c.host("h1", &[], None).await;
    c.store
        .put_terminal(
            DEFAULT_COMPANY,
            &Terminal {
                id: "t1".into(),
                name: "box".into(),
                host_name: "box".into(),
                host_address: "127.0.0.1".into(),
                port: sshd.port,
                connection_type: "ssh".into(),
                host_id: Some("h1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The cloud keeps no secret of a relay's terminal: an empty secret here,
    // the key queued (encrypted) until the relay has it.
    c.store
        .put_account(&AccountRow {
            id: "a1".into(),
            terminal_id: "t1".into(),
            username: sshd.user.clone(),
            auth_kind: "key".into(),
            secret_enc: String::new(),
            passphrase_enc: None,
            comments: String::new(),
        })
        .await
        .unwrap();
    c.store
        .queue_relay_secret(&RelaySecretRow {
            host_id: "h1".into(),
            account_id: "a1".into(),
            secret_enc: c.key.encrypt(&sshd.key),
            passphrase_enc: None,
        })
        .await
        .unwrap();
    let relay = Relay::start(&c, "h1", &token, DEFAULT_COMPANY, 8);
    let h = connected(&c, "h1").await;
    assert!(
        h.facts["hostName"].as_str().is_some_and(|s| !s.is_empty()),
        "facts: {}",
        h.facts
    );
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="r-defs" targetNamespace="t">
  <process id="remote" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="who"/>
    <serviceTask id="who" baton:type="remote-command">
      <extensionElements>
        <baton:property name="terminal" value="box"/>
        <baton:property name="command" value="echo relay-$(id -un)"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="who" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;
    c.engine.deploy(xml, None).await.unwrap();
    let ids = c.start("remote", 3).await;
    let done = c.finished(&ids, Duration::from_secs(30)).await;
    for (status, out) in &done {
        assert_eq!(status, "completed", "{out}\n{}", relay.log());
        assert_eq!(out["who"]["stdout"], format!("relay-{}\n", sshd.user));
        // `${who.host.*}`: the relay's record and facts.
        assert_eq!(out["who"]["host"]["id"], "h1");
        assert_eq!(out["who"]["host"]["name"], "h1");
        assert_eq!(out["who"]["host"]["hostName"], h.facts["hostName"]);
        assert!(out["who"]["host"]["osName"].is_string(), "{out}");
        assert!(out["who"]["host"]["memoryTotal"].is_u64(), "{out}");
    }
    // Delivered, then forgotten here; the relay never sends it back.
    assert!(c.store.relay_secrets("h1").await.unwrap().is_empty());
    let acct = c.store.account("t1", Some("a1")).await.unwrap().unwrap();
    assert_eq!(acct.secret_enc, "");
    assert!(!relay.log().contains(&sshd.key[40..80]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lost_relays_fail_over_to_two_different_available_backups() {
    let c = cloud("failover").await;
    // b is over its memory threshold: never available, so skipped.
    let huge = json!({"minMemFreeBytes": 1_000_000_000_000_000u64});
    let mut tokens = Vec::new();
    // Backups first: a backup must exist when a host names it.
    for (id, backups, t) in [
        ("b", vec![], Some(huge)),
        ("c", vec![], None),
        ("d", vec![], None),
        ("a", vec!["b", "c", "d"], None),
        ("x", vec!["b", "c", "d"], None),
    ] {
        tokens.push((id, c.host(id, &backups, t).await));
    }
    let mut relays: Vec<(&str, Relay)> = tokens
        .iter()
        .map(|(id, t)| (*id, Relay::start(&c, id, t, DEFAULT_COMPANY, 64)))
        .collect();
    for (id, _) in &relays {
        connected(&c, id).await;
    }
    c.until_host("b", "not available", |h| {
        h.heartbeat.is_some() && !h.available
    })
    .await;
    for id in ["c", "d"] {
        c.until_host(id, "available", |h| h.available).await;
    }
    // Each job appends its own line once it has slept: a job run twice
    // would show twice.
    let marks = c.dir.join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    for (key, host) in [("on_a", "a"), ("on_x", "x")] {
        let cmd = format!("sleep 2; echo ${{n}} >> {}/{key}.txt", marks.display());
        c.deploy_local(key, host, &cmd).await;
    }
    let on_a = c.start("on_a", 6).await;
    let on_x = c.start("on_x", 6).await;
    // Both relays hold their jobs (claimed, sent, accepted and running).
    for host in ["a", "x"] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let hb = c.host_row(host).await.heartbeat.unwrap_or_default();
            if hb["running"].as_u64() == Some(6) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{host} never ran its 6 jobs: {hb}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let kill = |name: &str, relays: &mut Vec<(&str, Relay)>| {
        relays
            .iter_mut()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .kill();
    };
    kill("a", &mut relays);
    c.until_host("c", "covering a", |h| h.covering.as_deref() == Some("a"))
        .await;
    kill("x", &mut relays);
    c.until_host("d", "covering x", |h| h.covering.as_deref() == Some("x"))
        .await;
    for (ids, backup, key) in [(&on_a, "c", "on_a"), (&on_x, "d", "on_x")] {
        let done = c.finished(ids, Duration::from_secs(30)).await;
        for (status, out) in &done {
            assert_eq!(status, "completed", "{out}");
            assert_eq!(out["work"]["host"]["id"], backup, "{out}");
        }
        // Every job's line exactly once: none lost, none run twice.
        let text = std::fs::read_to_string(marks.join(format!("{key}.txt"))).unwrap();
        let mut lines: Vec<u32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
        lines.sort_unstable();
        assert_eq!(lines, (0..6).collect::<Vec<u32>>(), "{key}: {text}");
    }
    let failovers = c.store.list_failovers(DEFAULT_COMPANY, 10).await.unwrap();
    let pairs: Vec<(String, Option<String>, i64)> = failovers
        .iter()
        .rev()
        .map(|f| (f.host_id.clone(), f.backup_id.clone(), f.jobs))
        .collect();
    assert_eq!(
        pairs,
        [
            ("a".to_owned(), Some("c".to_owned()), 6),
            ("x".to_owned(), Some("d".to_owned()), 6)
        ]
    );
    // The instance history shows the move.
    let events = c.store.relay_events(&on_a[0]).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event == "failover" && e.host_id == "c" && !e.detail.contains("`b`")),
        "{events:?}"
    );
    for id in on_a.iter().chain(&on_x) {
        let completions = c
            .store
            .history(id)
            .await
            .unwrap()
            .iter()
            .filter(|h| h.element_id == "work" && h.kind == "completed")
            .count();
        assert_eq!(completions, 1, "instance {id}");
    }
    // a comes back: its interrupted jobs' results are late and ignored; c is free again.
    let a = &mut relays.iter_mut().find(|(n, _)| *n == "a").unwrap().1;
    a.restart();
    connected(&c, "a").await;
    c.until_host("c", "free again", |h| h.covering.is_none())
        .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for id in &on_a {
        let row = c.store.load_instance(id).await.unwrap().unwrap();
        assert_eq!(row.status, "completed");
        assert!(c.store.incidents(id).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_at_once_keeps_the_jobs_it_accepted() {
    let c = cloud("restart").await;
    let token = c.host("r", &[], None).await;
    let mut relay = Relay::start(&c, "r", &token, DEFAULT_COMPANY, 1);
    connected(&c, "r").await;
    c.deploy_local("slow", "r", "sleep 1; echo ${n}").await;
    let ids = c.start("slow", 4).await;
    // One runs (max_jobs = 1), three wait in the relay's journal.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hb = c.host_row("r").await.heartbeat.unwrap_or_default();
        if hb["running"].as_u64() == Some(1) && hb["queued"].as_u64() == Some(3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never 1 running + 3 queued: {hb}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.restart();
    let mut completed = 0;
    let mut interrupted = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &ids {
        loop {
            let row = c.store.load_instance(id).await.unwrap().unwrap();
            let incidents = c.store.incidents(id).await.unwrap();
            if row.status == "completed" {
                completed += 1;
                break;
            }
            if let Some(i) = incidents.first() {
                assert!(i.message.contains("interrupted"), "{i:?}");
                interrupted += 1;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "instance {id} neither completed nor interrupted\n{}",
                relay.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The running one was interrupted (not safe to re-run); the queued ones ran.
    assert_eq!((completed, interrupted), (3, 1), "{}", relay.log());
    assert_eq!(c.host_row("r").await.state, "connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_and_wrong_companies_are_refused() {
    let c = cloud("revoke").await;
    let token = c.host("v", &[], None).await;
    let relay = Relay::start(&c, "v", &token, DEFAULT_COMPANY, 4);
    connected(&c, "v").await;
    // Revoked through the hub (the API's path): the link closes at once.
    c.store.set_host_token("v", None).await.unwrap();
    let at = Instant::now();
    c.hub.revoke("v", "revoked by the test");
    c.until_host("v", "disconnected", |h| h.server.is_none())
        .await;
    assert!(at.elapsed() < Duration::from_secs(1), "{:?}", at.elapsed());
    assert!(!c.hub.is_linked("v"));
    // It stays out.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(c.host_row("v").await.server.is_none(), "{}", relay.log());
    assert!(relay.log().contains("revoked"), "{}", relay.log());

    // Revoked in the store only (another server's API): the link notices
    // within its housekeeping second.
    let token = c.host("w", &[], None).await;
    let _w = Relay::start(&c, "w", &token, DEFAULT_COMPANY, 4);
    connected(&c, "w").await;
    c.store.set_host_token("w", None).await.unwrap();
    let h = c
        .until_host("w", "disconnected", |h| h.server.is_none())
        .await;
    assert!(!h.has_token);

    // A token of this company presented for another company: 403, never linked.
    let token = c.host("y", &[], None).await;
    let wrong = Relay::start(&c, "y", &token, "other-company", 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(c.host_row("y").await.state, "not-initialised");
    assert!(wrong.log().contains("403"), "{}", wrong.log());
    // An unknown token: 401.
    let bad = Relay::start(&c, "z", "bt_not-a-token", DEFAULT_COMPANY, 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(bad.log().contains("401"), "{}", bad.log());
}

/// A relay driven by hand over the real TLS link: the bytes a broken or
/// hostile relay would send.
mod raw {
    use std::sync::Arc;

    use baton_relay_protocol::{HEADER_COMPANY, HEADER_PROTOCOL, PATH};
    use futures_util::{SinkExt, StreamExt};
    use tokio_rustls::TlsConnector;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::{self, Message};

    pub type Ws =
        tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

    /// Connects with these headers; `Err((status, body))` when refused.
    pub async fn connect(
        port: u16,
        pin: &str,
        token: &str,
        company: &str,
        protocol: &str,
    ) -> Result<Ws, (u16, String)> {
        let cfg = sub_manager::config::Config::parse(
            &format!(
                "company_code = \"x\"\ncloud_host = \"127.0.0.1\"\ncloud_port = 1\n\
                 token = \"t\"\ncloud_cert_sha256 = \"{pin}\"\n"
            ),
            "raw",
            std::path::Path::new("/"),
        )
        .unwrap();
        let tls = sub_manager::tls::client_config(&cfg.cloud_cert_sha256).unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let tls = TlsConnector::from(Arc::new(tls))
            .connect(name, tcp)
            .await
            .unwrap();
        let mut req = format!("wss://127.0.0.1:{port}{PATH}")
            .into_client_request()
            .unwrap();
        let h = req.headers_mut();
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h.insert(HEADER_COMPANY, HeaderValue::from_str(company).unwrap());
        h.insert(HEADER_PROTOCOL, HeaderValue::from_str(protocol).unwrap());
        match tokio_tungstenite::client_async(req, tls).await {
            Ok((ws, _)) => Ok(ws),
            Err(tungstenite::Error::Http(resp)) => Err((
                resp.status().as_u16(),
                String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned(),
            )),
            Err(e) => panic!("upgrade: {e}"),
        }
    }

    /// Every text frame the server sends until it closes the link (at most
    /// `limit` of waiting).
    pub async fn until_closed(ws: &mut Ws, limit: std::time::Duration) -> Vec<String> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => panic!("the server did not close the link; it sent {got:?}"),
                Ok(Some(Ok(Message::Text(t)))) => got.push(t.to_string()),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return got,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub async fn send(ws: &mut Ws, text: String) -> bool {
        ws.send(Message::Text(text.into())).await.is_ok()
    }
}

/// A hello as the relay sends it, with this protocol number.
fn hello(protocol: u32) -> String {
    baton_relay_protocol::encode(&[baton_relay_protocol::ToServer::Hello(Box::new(
        baton_relay_protocol::Hello {
            protocol,
            agent_version: "raw".into(),
            company_code: DEFAULT_COMPANY.into(),
            facts: Default::default(),
            resumed: Vec::new(),
        },
    ))])
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_relays_are_refused_with_a_reason_and_others_are_unaffected() {
    let c = cloud("bad").await;
    let good_token = c.host("good", &[], None).await;
    let _good = Relay::start(&c, "good", &good_token, DEFAULT_COMPANY, 8);
    connected(&c, "good").await;
    let token = c.host("bad", &[], None).await;
    let (port, pin) = (c.port, c.pin.clone());
    let proto = baton_relay_protocol::PROTOCOL_VERSION;

    // Another protocol version in the upgrade: 426 with the reason.
    let Err((status, body)) = raw::connect(port, &pin, &token, DEFAULT_COMPANY, "999").await else {
        panic!("not refused");
    };
    assert_eq!(status, 426, "{body}");
    assert!(body.contains("protocol version `999`"), "{body}");
    // No token at all, a company of nobody: refused before any WebSocket.
    let Err((status, body)) =
        raw::connect(port, &pin, "", DEFAULT_COMPANY, &proto.to_string()).await
    else {
        panic!("not refused");
    };
    assert_eq!(status, 401, "{body}");
    let Err((status, body)) = raw::connect(port, &pin, &token, "nobody", &proto.to_string()).await
    else {
        panic!("not refused");
    };
    assert_eq!(status, 403, "{body}");

    // A first frame that does not parse: told why, closed, never linked.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, "{this is not json".into()).await);
    let said = raw::until_closed(&mut ws, Duration::from_secs(5)).await;
    assert!(said.iter().any(|f| f.contains("\"error\"")), "{said:?}");
    assert_eq!(c.host_row("bad").await.state, "not-initialised");

    // A hello of another protocol version inside the link: told, closed.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto + 1)).await);
    let said = raw::until_closed(&mut ws, Duration::from_secs(5)).await;
    assert!(
        said.iter().any(|f| f.contains("protocol version")),
        "{said:?}"
    );

    // Linked, then garbage over and over: each answered with an error,
    // then the link is closed for it.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto)).await);
    connected(&c, "bad").await;
    for i in 0..200 {
        if !raw::send(&mut ws, format!("garbage {i}")).await {
            break;
        }
    }
    let said = raw::until_closed(&mut ws, Duration::from_secs(10)).await;
    assert!(
        said.iter().any(|f| f.contains("unreadable frames")),
        "{said:?}"
    );

    // Linked, then a flood of well-formed frames: closed as a flood.
    let mut ws = raw::connect(port, &pin, &token, DEFAULT_COMPANY, &proto.to_string())
        .await
        .unwrap();
    assert!(raw::send(&mut ws, hello(proto)).await);
    let ping = baton_relay_protocol::encode(&[baton_relay_protocol::ToServer::Accepted {
        jobs: Vec::new(),
    }])
    .unwrap();
    for _ in 0..5_000 {
        if !raw::send(&mut ws, ping.clone()).await {
            break;
        }
    }
    let said = raw::until_closed(&mut ws, Duration::from_secs(10)).await;
    assert!(said.iter().any(|f| f.contains("flood")), "{said:?}");

    // Meanwhile the good relay kept its link and still runs work.
    assert!(c.hub.is_linked("good"));
    c.deploy_local("still", "good", "echo ${n}").await;
    let ids = c.start("still", 3).await;
    for (status, out) in c.finished(&ids, Duration::from_secs(20)).await {
        assert_eq!(status, "completed", "{out}");
        assert_eq!(out["work"]["host"]["id"], "good", "{out}");
    }
}
