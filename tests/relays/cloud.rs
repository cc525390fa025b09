//! The server side in this process ([`Cloud`]): the relay hub and engine
//! on a SQLite store, hosts and their tokens, and waiting on their state.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::{MasterKey, Registry};
use baton_runtime::engine::{Engine, Options, Persisted, SystemClock};
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_runtime::store::{HostRow, Store};
use baton_web::relay::{RelayConfig, RelayHub, RelayTls, issue_token};
use serde_json::{Map, Value, json};

use crate::{HEARTBEAT_MS, LOST_AFTER_MS};

pub(crate) struct Cloud {
    pub(crate) engine: Engine,
    pub(crate) store: Store,
    pub(crate) key: MasterKey,
    pub(crate) hub: Arc<RelayHub>,
    pub(crate) port: u16,
    pub(crate) pin: String,
    pub(crate) dir: PathBuf,
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

pub(crate) async fn cloud(name: &str) -> Cloud {
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
    pub(crate) async fn host(
        &self,
        id: &str,
        backups: &[&str],
        thresholds: Option<Value>,
    ) -> String {
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

    pub(crate) async fn host_row(&self, id: &str) -> HostRow {
        self.store.host_by_id(id).await.unwrap().unwrap()
    }

    /// Waits until `f` holds for the host's row.
    pub(crate) async fn until_host(
        &self,
        id: &str,
        what: &str,
        f: impl Fn(&HostRow) -> bool,
    ) -> HostRow {
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

    pub(crate) async fn deploy_local(&self, key: &str, host: &str, command: &str) {
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

    pub(crate) async fn start(&self, key: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            let mut vars = Map::new();
            vars.insert("n".into(), json!(i));
            ids.push(self.engine.start_instance(key, vars, "api").await.unwrap());
        }
        ids
    }

    /// Waits until every instance ended; returns their outputs.
    pub(crate) async fn finished(&self, ids: &[String], limit: Duration) -> Vec<(String, Value)> {
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

pub(crate) async fn connected(cloud: &Cloud, id: &str) -> HostRow {
    cloud
        .until_host(id, "connected", |h| {
            h.state == "connected" && h.server.is_some()
        })
        .await
}
