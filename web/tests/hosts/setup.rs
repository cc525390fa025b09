//! The API with a real engine and relay hub over one SQLite store
//! ([`setup`]), and the ids of a list.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use baton_nodes::MasterKey;
use baton_runtime::engine::{Engine, Options, SystemClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::store::Store;
use baton_web::AppState;
use baton_web::relay::{RelayConfig, RelayHub};
use serde_json::Value;

use crate::common::{self, Api, TempDir};
use crate::{CERT, FAKE_BINARY};

pub(crate) struct Setup {
    /// With a relay hub whose package offers the fake Linux binary.
    pub(crate) api: Api,
    /// The same store, no relay listener.
    pub(crate) bare: Api,
    pub(crate) store: Store,
    pub(crate) key: MasterKey,
}

pub(crate) async fn setup(name: &str) -> Setup {
    let dir = TempDir::new(name);
    let store = common::sqlite(&dir).await;
    for (company, id) in [("default", "a"), ("acme", "b")] {
        common::company_coded(&store, company, &format!("{company}-code")).await;
        common::user(&store, company, id, true).await;
    }
    let engine = Engine::start(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(Builtin::default()),
        Options {
            work: false,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let key = common::key();
    let binary = dir.join("sub-manager-linux");
    std::fs::write(&binary, FAKE_BINARY).unwrap();
    let hub = RelayHub::new(
        store.clone(),
        key.clone(),
        engine.clone(),
        RelayConfig {
            server: "test-server".into(),
            heartbeat: Duration::from_secs(10),
            lost_after: Duration::from_secs(3600),
            thresholds: Default::default(),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            window: 16,
            public_host: "relay.example.com".into(),
            public_port: 18443,
            binaries: HashMap::from([("linux".to_owned(), binary)]),
        },
        CERT.into(),
    );
    let state = AppState::new(store.clone(), key.clone(), dir.join("data")).with_engine(engine);
    assert!(state.relay.set(hub).is_ok());
    let bare = AppState::new(store.clone(), key.clone(), dir.join("data"));
    let api = Api {
        state,
        dir: Arc::new(dir),
    };
    Setup {
        bare: api.beside(bare),
        api,
        store,
        key,
    }
}

pub(crate) fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}
