//! Hosts, terminals and the download package through the API (SQLite, a
//! real engine and relay hub): host groups and hosts CRUD per company; the
//! enrolment token shown once (create, reissue) and never in a read,
//! revoked at once; backups validated naming the bad entry; failovers
//! newest first; a terminal behind a host keeps no secret in the cloud
//! (queued for the host and each backup instead) while a cloud terminal's
//! is encrypted, and no secret comes back from any read; moving a terminal
//! carries its secrets; a host with terminals is not deleted, one without
//! leaves its peers' backup lists; the package is a zip whose configuration
//! loads as the relay reads it, whose binary is the one configured, and
//! whose scripts start and stop it.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use baton_nodes::MasterKey;
use baton_runtime::engine::{Engine, Options, SystemClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::store::{FailoverRow, Store};
use baton_web::AppState;
use baton_web::auth::sha256_hex;
use baton_web::relay::{RelayConfig, RelayHub, token_of};
use serde_json::{Value, json};

use common::{Api, TempDir};

const CLOUD_PW: &str = "Cloud-terminal-pw-1";
const RELAY_KEY: &str =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nRELAY-KEY-SECRET\n-----END OPENSSH PRIVATE KEY-----\n";
const RELAY_PP: &str = "Relay-key-passphrase";
const RELAY_PW2: &str = "Relay-terminal-pw-2";
const CERT: &str = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";
/// A stand-in for the relay binary: the scripts start and stop it.
const FAKE_BINARY: &[u8] = b"#!/bin/sh\n# fake sub-manager\nexec sleep 60\n";

struct Setup {
    /// With a relay hub whose package offers the fake Linux binary.
    api: Api,
    /// The same store, no relay listener.
    bare: Api,
    store: Store,
    key: MasterKey,
}

async fn setup(name: &str) -> Setup {
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

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_groups_hosts_tokens_backups_failovers() {
    let s = setup("hosts").await;
    let api = &s.api;

    // Host groups.
    let (st, g) = api
        .call(
            "a",
            "POST",
            "/api/v1/host-groups",
            Some(json!({"name": "dc1", "comments": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    let g1 = g["id"].as_str().unwrap().to_owned();
    let (st, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/host-groups",
            Some(json!({"name": "dc1"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/host-groups",
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.name"))
    );
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/host-groups/{g1}"),
            Some(json!({"name": "dc-1"})),
        )
        .await;
    assert_eq!(
        (st, v["name"].as_str()),
        (StatusCode::OK, Some("dc-1")),
        "{v}"
    );
    let (_, v) = api.call("a", "GET", "/api/v1/host-groups", None).await;
    assert_eq!(ids(&v), vec![g1.clone()]);
    let (_, v) = api.call("b", "GET", "/api/v1/host-groups", None).await;
    assert_eq!(v["total"], 0, "another company sees none");
    let (st, _) = api
        .call(
            "b",
            "PUT",
            &format!("/api/v1/host-groups/{g1}"),
            Some(json!({"name": "mine"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Hosts: the token comes once, with the new host.
    let (st, h) = api
        .call(
            "a",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "relay-1", "groupId": g1, "comments": "rack 4"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{h}");
    let h1 = h["id"].as_str().unwrap().to_owned();
    let t1 = h["token"].as_str().unwrap().to_owned();
    assert!(t1.len() > 20, "{t1}");
    assert_eq!(h["state"], "not-initialised");
    assert_eq!(h["tokenIssued"], true);
    assert_eq!(h["linked"], false);
    assert_eq!(h["groupId"], g1.as_str());
    assert_eq!(
        s.store
            .host_by_token(&sha256_hex(&t1))
            .await
            .unwrap()
            .unwrap()
            .id,
        h1
    );
    let mut hosts = vec![h1.clone()];
    for name in ["relay-2", "relay-3"] {
        let (_, h) = api
            .call("a", "POST", "/api/v1/hosts", Some(json!({"name": name})))
            .await;
        hosts.push(h["id"].as_str().unwrap().to_owned());
    }
    let (h2, h3) = (hosts[1].clone(), hosts[2].clone());
    let (_, hb) = api
        .call(
            "b",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "relay-1"})),
        )
        .await;
    let hb = hb["id"].as_str().unwrap().to_owned();
    let (st, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "relay-1"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "r9", "groupId": "nope"})),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.groupId"))
    );

    let (st, v) = api
        .call("a", "GET", &format!("/api/v1/hosts/{h1}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(v.get("token").is_none(), "{v}");
    assert_eq!(
        (v["name"].as_str(), v["comments"].as_str()),
        (Some("relay-1"), Some("rack 4"))
    );
    assert!(v["facts"].is_object() && v["lastSeen"].is_null() && v["heartbeat"].is_null());
    let (st, _) = api
        .call("b", "GET", &format!("/api/v1/hosts/{h1}"), None)
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "another company's host is invisible"
    );
    let (_, v) = api.call("a", "GET", "/api/v1/hosts", None).await;
    assert_eq!(ids(&v), hosts, "by name");
    let (_, v) = api
        .call("a", "GET", &format!("/api/v1/hosts?groupId={g1}"), None)
        .await;
    assert_eq!(ids(&v), vec![h1.clone()]);
    let (_, v) = api.call("b", "GET", "/api/v1/hosts", None).await;
    assert_eq!(ids(&v), vec![hb.clone()]);
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/hosts/{h2}"),
            Some(json!({"name": "relay-2b", "groupId": g1})),
        )
        .await;
    assert_eq!(
        (st, v["name"].as_str()),
        (StatusCode::OK, Some("relay-2b")),
        "{v}"
    );

    // Facts and a heartbeat as a relay reports them.
    s.store
        .host_connected(
            &h2,
            "test-server",
            &json!({"hostName": "box2", "osName": "Debian"}),
            1000,
        )
        .await
        .unwrap();
    let (_, v) = api
        .call("a", "GET", &format!("/api/v1/hosts/{h2}"), None)
        .await;
    assert_eq!(v["state"], "connected");
    assert_eq!(v["facts"]["hostName"], "box2");
    assert_eq!(v["lastSeen"], 1000);

    // Backups: a priority list of the company's other hosts.
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/hosts/{h1}/backups"),
            Some(json!({"backups": [h3, h2]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let names: Vec<&str> = v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["relay-3", "relay-2b"]);
    assert_eq!(v["backups"][1]["state"], "connected");
    assert_eq!(v["backups"][1]["available"], true);
    for (bad, field) in [
        (json!([h2, "nope"]), "body.backups[1]"),
        (json!([h1]), "body.backups[0]"),
        (json!([h2, h3, h2]), "body.backups[2]"),
        (json!([hb]), "body.backups[0]"),
    ] {
        let (st, v) = api
            .call(
                "a",
                "PUT",
                &format!("/api/v1/hosts/{h1}/backups"),
                Some(json!({ "backups": bad })),
            )
            .await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{bad}: {v}"
        );
    }
    let (st, _) = api
        .call(
            "b",
            "PUT",
            &format!("/api/v1/hosts/{h1}/backups"),
            Some(json!({"backups": []})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let h1_row = s.store.host_by_id(&h1).await.unwrap().unwrap();
    assert_eq!(
        h1_row.backups,
        [h3.clone(), h2.clone()],
        "unchanged by the bad ones"
    );

    // Reissue: a new token once; the old one stops working.
    let (st, v) = api
        .call("a", "POST", &format!("/api/v1/hosts/{h1}/token"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let t2 = v["token"].as_str().unwrap().to_owned();
    assert_ne!(t1, t2);
    assert!(
        s.store
            .host_by_token(&sha256_hex(&t1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.store
            .host_by_token(&sha256_hex(&t2))
            .await
            .unwrap()
            .unwrap()
            .id,
        h1
    );
    let (st, _) = api
        .call("b", "POST", &format!("/api/v1/hosts/{h1}/token"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // No read shows a token.
    for uri in [format!("/api/v1/hosts/{h1}"), "/api/v1/hosts".to_owned()] {
        let (_, bytes) = api.raw("a", "GET", &uri, None).await;
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains(&t1) && !text.contains(&t2),
            "{uri} shows a token"
        );
    }
    // Revoke: refused at once.
    let (st, _) = api
        .call("a", "DELETE", &format!("/api/v1/hosts/{h1}/token"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(
        s.store
            .host_by_token(&sha256_hex(&t2))
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.store.host_token_enc(&h1).await.unwrap().is_none());
    let (_, v) = api
        .call("a", "GET", &format!("/api/v1/hosts/{h1}"), None)
        .await;
    assert_eq!(v["tokenIssued"], false);

    // Failovers: the company's, newest first, paged.
    for (id, company, host, backup, at) in [
        ("f1", "default", h1.as_str(), Some(h3.as_str()), 10),
        ("f2", "default", h1.as_str(), None, 20),
        ("f3", "acme", hb.as_str(), None, 30),
    ] {
        s.store
            .add_failover(&FailoverRow {
                id: id.into(),
                company_id: company.into(),
                host_id: host.into(),
                backup_id: backup.map(str::to_owned),
                at,
                jobs: 2,
                reason: "no heartbeat for 30 s".into(),
            })
            .await
            .unwrap();
    }
    let (st, v) = api.call("a", "GET", "/api/v1/failovers", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), ["f2", "f1"]);
    assert_eq!(v["items"][1]["hostName"], "relay-1");
    assert_eq!(v["items"][1]["backupName"], "relay-3");
    assert_eq!(v["items"][0]["backupId"], Value::Null);
    let (_, v) = api
        .call("a", "GET", "/api/v1/failovers?limit=1&offset=1", None)
        .await;
    assert_eq!(
        (ids(&v), v["total"].as_u64()),
        (vec!["f1".to_owned()], Some(2))
    );
    let (_, v) = api.call("b", "GET", "/api/v1/failovers", None).await;
    assert_eq!(ids(&v), ["f3"]);

    // Deleting a host: gone from its peers' backup lists, its token with it.
    let (st, _) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/hosts/{h2}/backups"),
            Some(json!({"backups": [h3]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = api
        .call("b", "DELETE", &format!("/api/v1/hosts/{h3}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = api
        .call("a", "DELETE", &format!("/api/v1/hosts/{h3}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(s.store.host_by_id(&h3).await.unwrap().is_none());
    assert_eq!(
        s.store.host_by_id(&h1).await.unwrap().unwrap().backups,
        vec![h2.clone()]
    );
    assert!(
        s.store
            .host_by_id(&h2)
            .await
            .unwrap()
            .unwrap()
            .backups
            .is_empty()
    );

    // Deleting a group leaves its hosts, ungrouped.
    let (st, _) = api
        .call("a", "DELETE", &format!("/api/v1/host-groups/{g1}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        s.store.host_by_id(&h1).await.unwrap().unwrap().group_id,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_secrets_stay_out_of_the_cloud_for_hosts() {
    let s = setup("terminals").await;
    let api = &s.api;
    let mut hosts = Vec::new();
    for name in ["relay-1", "relay-2", "relay-3"] {
        let (_, h) = api
            .call("a", "POST", "/api/v1/hosts", Some(json!({"name": name})))
            .await;
        hosts.push(h["id"].as_str().unwrap().to_owned());
    }
    let (h1, h2, h3) = (hosts[0].clone(), hosts[1].clone(), hosts[2].clone());
    api.call(
        "a",
        "PUT",
        &format!("/api/v1/hosts/{h1}/backups"),
        Some(json!({"backups": [h2, h3]})),
    )
    .await;
    let (_, hb) = api
        .call(
            "b",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "b-relay"})),
        )
        .await;
    let hb = hb["id"].as_str().unwrap().to_owned();

    // Validation names the field.
    for (body, field) in [
        (
            json!({"name": "t", "hostAddress": "10.0.0.1", "port": 70000}),
            "body.port",
        ),
        (json!({"name": "t", "hostAddress": " "}), "body.hostAddress"),
        (
            json!({"name": "t", "hostAddress": "10.0.0.1", "connectionType": "telnet"}),
            "body.connectionType",
        ),
        (
            json!({"name": "t", "hostAddress": "10.0.0.1", "hostId": hb}),
            "body.hostId",
        ),
        (json!({"name": "", "hostAddress": "10.0.0.1"}), "body.name"),
    ] {
        let (st, v) = api.call("a", "POST", "/api/v1/terminals", Some(body)).await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{v}"
        );
    }

    // A terminal reached from the cloud: its secret encrypted in the row.
    let (st, t) = api
        .call(
            "a",
            "POST",
            "/api/v1/terminals",
            Some(json!({"name": "db1", "hostAddress": "10.0.0.5", "osName": "Linux"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let cloud = t["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (t["port"].as_u64(), t["connectionType"].as_str()),
        (Some(22), Some("ssh"))
    );
    assert_eq!(t["hostId"], Value::Null);
    for (body, field) in [
        (json!({"username": "root"}), "body.password"),
        (
            json!({"username": "root", "password": "x", "privateKey": "k"}),
            "body.privateKey",
        ),
        (
            json!({"username": "root", "password": "x", "passphrase": "p"}),
            "body.passphrase",
        ),
        (json!({"username": "", "password": "x"}), "body.username"),
    ] {
        let (st, v) = api
            .call(
                "a",
                "POST",
                &format!("/api/v1/terminals/{cloud}/accounts"),
                Some(body),
            )
            .await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{v}"
        );
    }
    let (st, acc) = api
        .call(
            "a",
            "POST",
            &format!("/api/v1/terminals/{cloud}/accounts"),
            Some(json!({"username": "root", "password": CLOUD_PW})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{acc}");
    assert_eq!(
        (acc["auth"].as_str(), acc["secretAt"].as_str()),
        (Some("password"), Some("cloud"))
    );
    let cloud_acc = acc["id"].as_str().unwrap().to_owned();
    let row = s
        .store
        .account(&cloud, Some(&cloud_acc))
        .await
        .unwrap()
        .unwrap();
    assert!(!row.secret_enc.contains(CLOUD_PW));
    assert_eq!(s.key.decrypt(&row.secret_enc).unwrap().expose(), CLOUD_PW);
    let (st, _) = api
        .call(
            "a",
            "POST",
            &format!("/api/v1/terminals/{cloud}/accounts"),
            Some(json!({"username": "root", "password": "again"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "one username per terminal");

    // A terminal behind relay-1: no secret in the cloud's row; queued,
    // encrypted, for relay-1 and each of its backups.
    let (st, t) = api
        .call(
            "a",
            "POST",
            "/api/v1/terminals",
            Some(
                json!({"name": "app1", "hostAddress": "192.168.1.7", "hostId": h1,
                "connectionType": "WinRM"}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let behind = t["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (t["port"].as_u64(), t["connectionType"].as_str()),
        (Some(5985), Some("winrm"))
    );
    let (st, acc) = api
        .call(
            "a",
            "POST",
            &format!("/api/v1/terminals/{behind}/accounts"),
            Some(json!({"username": "ops", "privateKey": RELAY_KEY, "passphrase": RELAY_PP})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{acc}");
    assert_eq!(
        (acc["auth"].as_str(), acc["secretAt"].as_str()),
        (Some("key"), Some("relays"))
    );
    let relay_acc = acc["id"].as_str().unwrap().to_owned();
    let row = s
        .store
        .account(&behind, Some(&relay_acc))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.secret_enc.as_str(), row.passphrase_enc.as_deref()),
        ("", None)
    );
    assert_eq!(row.auth_kind, "key");
    for h in [&h1, &h2, &h3] {
        let q = s.store.relay_secrets(h).await.unwrap();
        assert_eq!(q.len(), 1, "queued for {h}");
        assert_eq!(q[0].account_id, relay_acc);
        assert_eq!(s.key.decrypt(&q[0].secret_enc).unwrap().expose(), RELAY_KEY);
        let pp = q[0].passphrase_enc.as_deref().unwrap();
        assert_eq!(s.key.decrypt(pp).unwrap().expose(), RELAY_PP);
    }
    // An update without a secret keeps it; with one, the new one is queued.
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{behind}/accounts/{relay_acc}"),
            Some(json!({"username": "ops", "comments": "on-call"})),
        )
        .await;
    assert_eq!(
        (st, v["comments"].as_str()),
        (StatusCode::OK, Some("on-call")),
        "{v}"
    );
    let q = s.store.relay_secrets(&h2).await.unwrap();
    assert_eq!(s.key.decrypt(&q[0].secret_enc).unwrap().expose(), RELAY_KEY);
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{behind}/accounts/{relay_acc}"),
            Some(json!({"username": "ops", "password": RELAY_PW2})),
        )
        .await;
    assert_eq!(
        (st, v["auth"].as_str()),
        (StatusCode::OK, Some("password")),
        "{v}"
    );
    for h in [&h1, &h2, &h3] {
        let q = s.store.relay_secrets(h).await.unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(s.key.decrypt(&q[0].secret_enc).unwrap().expose(), RELAY_PW2);
        assert_eq!(q[0].passphrase_enc, None);
    }
    let row = s
        .store
        .account(&behind, Some(&relay_acc))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.secret_enc, "");

    // Reads: the company's terminals with their accounts, never a secret.
    let (_, v) = api.call("a", "GET", "/api/v1/terminals", None).await;
    assert_eq!(v["total"], 2);
    let (_, v) = api
        .call("a", "GET", &format!("/api/v1/terminals?hostId={h1}"), None)
        .await;
    assert_eq!(ids(&v), vec![behind.clone()]);
    let (_, v) = api
        .call("a", "GET", "/api/v1/terminals?hostId=cloud", None)
        .await;
    assert_eq!(ids(&v), vec![cloud.clone()]);
    assert_eq!(v["items"][0]["accounts"][0]["username"], "root");
    let (_, v) = api.call("b", "GET", "/api/v1/terminals", None).await;
    assert_eq!(v["total"], 0);
    for uri in [
        "/api/v1/terminals".to_owned(),
        format!("/api/v1/terminals/{cloud}"),
        format!("/api/v1/terminals/{behind}"),
        format!("/api/v1/hosts/{h1}"),
        "/api/v1/hosts".to_owned(),
    ] {
        let (st, bytes) = api.raw("a", "GET", &uri, None).await;
        assert_eq!(st, StatusCode::OK);
        let text = String::from_utf8(bytes).unwrap();
        for secret in [CLOUD_PW, "RELAY-KEY-SECRET", RELAY_PP, RELAY_PW2] {
            assert!(!text.contains(secret), "{uri} shows a secret");
        }
    }
    for (method, uri) in [
        ("GET", format!("/api/v1/terminals/{behind}")),
        ("DELETE", format!("/api/v1/terminals/{behind}")),
        (
            "DELETE",
            format!("/api/v1/terminals/{behind}/accounts/{relay_acc}"),
        ),
    ] {
        let (st, _) = api.call("b", method, &uri, None).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "{method} {uri} as another company"
        );
    }

    // The cloud terminal moves behind relay-2: its secret goes to relay-2
    // and leaves the cloud.
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{cloud}"),
            Some(json!({"name": "db1", "hostAddress": "10.0.0.5", "hostId": h2})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["accounts"][0]["secretAt"], "relays");
    let row = s
        .store
        .account(&cloud, Some(&cloud_acc))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.secret_enc, "");
    let q: Vec<_> = s
        .store
        .relay_secrets(&h2)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.account_id == cloud_acc)
        .collect();
    assert_eq!(s.key.decrypt(&q[0].secret_enc).unwrap().expose(), CLOUD_PW);
    // And back to the cloud while still queued: the secret comes back.
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{cloud}"),
            Some(json!({"name": "db1", "hostAddress": "10.0.0.5", "hostId": null})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["accounts"][0]["secretAt"], "cloud");
    assert!(v.get("secretsToSetAgain").is_none(), "{v}");
    let row = s
        .store
        .account(&cloud, Some(&cloud_acc))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.key.decrypt(&row.secret_enc).unwrap().expose(), CLOUD_PW);
    assert!(
        s.store
            .relay_secrets(&h2)
            .await
            .unwrap()
            .iter()
            .all(|r| r.account_id != cloud_acc)
    );
    // A secret already delivered (no longer queued for relay-1 or any of
    // its backups) cannot follow a move.
    let mut relays = vec![h1.clone()];
    relays.extend(s.store.host_by_id(&h1).await.unwrap().unwrap().backups);
    for h in &relays {
        for r in s.store.relay_secrets(h).await.unwrap() {
            s.store.delete_relay_secret(&r).await.unwrap();
        }
    }
    let (st, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{behind}"),
            Some(json!({"name": "app1", "hostAddress": "192.168.1.7", "hostId": null})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["secretsToSetAgain"], json!([relay_acc]));
    assert_eq!(v["accounts"][0]["secretAt"], "none");
    let (_, v) = api
        .call(
            "a",
            "PUT",
            &format!("/api/v1/terminals/{behind}"),
            Some(json!({"name": "app1", "hostAddress": "192.168.1.7", "hostId": h1})),
        )
        .await;
    assert_eq!(v["accounts"][0]["secretAt"], "relays");

    // A host with terminals is not deleted.
    let (st, v) = api
        .call("a", "DELETE", &format!("/api/v1/hosts/{h1}"), None)
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("app1"), "{v}");

    // Deleting an account or a terminal forgets what was queued for it.
    api.call(
        "a",
        "PUT",
        &format!("/api/v1/terminals/{behind}/accounts/{relay_acc}"),
        Some(json!({"username": "ops", "password": RELAY_PW2})),
    )
    .await;
    assert_eq!(s.store.relay_secrets(&h3).await.unwrap().len(), 1);
    let (st, _) = api
        .call(
            "a",
            "DELETE",
            &format!("/api/v1/terminals/{behind}/accounts/{relay_acc}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for h in [&h1, &h2, &h3] {
        assert!(s.store.relay_secrets(h).await.unwrap().is_empty());
    }
    assert!(
        s.store
            .account(&behind, Some(&relay_acc))
            .await
            .unwrap()
            .is_none()
    );
    api.call(
        "a",
        "POST",
        &format!("/api/v1/terminals/{behind}/accounts"),
        Some(json!({"username": "ops2", "password": RELAY_PW2})),
    )
    .await;
    assert_eq!(s.store.relay_secrets(&h2).await.unwrap().len(), 1);
    let (st, _) = api
        .call("a", "DELETE", &format!("/api/v1/terminals/{behind}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for h in [&h1, &h2, &h3] {
        assert!(s.store.relay_secrets(h).await.unwrap().is_empty());
    }
    assert!(
        s.store
            .accounts_of(std::slice::from_ref(&behind))
            .await
            .unwrap()
            .is_empty()
    );
    let (st, _) = api
        .call("a", "DELETE", &format!("/api/v1/hosts/{h1}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

fn unzip(bytes: &[u8]) -> HashMap<String, (Vec<u8>, Option<u32>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().unwrap().to_string(), (data, f.unix_mode()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_is_ready_to_run() {
    let s = setup("package").await;
    let api = &s.api;
    let (_, h) = api
        .call(
            "a",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "relay 1"})),
        )
        .await;
    let h1 = h["id"].as_str().unwrap().to_owned();
    let token = h["token"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/hosts/{h1}/package?os=linux");

    let (st, v) = s.bare.call("a", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("--relay-listen"),
        "{v}"
    );
    let (st, v) = api
        .call(
            "a",
            "GET",
            &format!("/api/v1/hosts/{h1}/package?os=windows"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("--sub-manager-bin"),
        "{v}"
    );
    let (st, v) = api
        .call(
            "a",
            "GET",
            &format!("/api/v1/hosts/{h1}/package?os=mac"),
            None,
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.os"))
    );
    let (st, _) = api.call("b", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, bytes) = api.raw("a", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::OK);
    let files = unzip(&bytes);
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        ["start.sh", "stop.sh", "sub-manager", "sub-manager.toml"]
    );
    assert_eq!(files["sub-manager"].0, FAKE_BINARY);
    for exec in ["sub-manager", "start.sh", "stop.sh"] {
        assert_eq!(files[exec].1.map(|m| m & 0o777), Some(0o755), "{exec}");
    }
    let text = String::from_utf8(files["sub-manager.toml"].0.clone()).unwrap();
    let c = sub_manager::config::Config::parse(
        &text,
        "sub-manager.toml",
        std::path::Path::new("/opt/relay"),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(c.company_code, "default-code");
    assert_eq!(
        (c.cloud_host.as_str(), c.cloud_port),
        ("relay.example.com", 18443)
    );
    assert_eq!(c.token, token, "the host's current token");
    assert_eq!(c.cloud_cert_sha256[0][0], 0xab);
    assert_eq!(c.http_port, 8080);
    assert_eq!(c.data_dir, std::path::Path::new("/opt/relay/data"));

    // A host whose token was revoked gets a new one in its package.
    api.call("a", "DELETE", &format!("/api/v1/hosts/{h1}/token"), None)
        .await;
    let (_, bytes) = api.raw("a", "GET", &uri, None).await;
    let text = String::from_utf8(unzip(&bytes)["sub-manager.toml"].0.clone()).unwrap();
    let c = sub_manager::config::Config::parse(&text, "t", std::path::Path::new("/")).unwrap();
    assert_ne!(c.token, token);
    assert_eq!(
        s.store
            .host_by_token(&sha256_hex(&c.token))
            .await
            .unwrap()
            .unwrap()
            .id,
        h1
    );
    assert_eq!(
        token_of(&s.store, &s.key, &h1).await.unwrap(),
        Some(c.token.clone())
    );

    // Unpacked, the scripts start the binary in the background and stop it.
    let root: &Path = &s.api.dir;
    let dir = root.join("unpacked");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, (data, mode)) in unzip(&bytes) {
        let p = dir.join(&name);
        std::fs::write(&p, data).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode.unwrap() & 0o777))
            .unwrap();
    }
    let run = |script: &str| {
        let out = std::process::Command::new(dir.join(script))
            .current_dir(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = run("start.sh");
    assert!(said.contains("started"), "{said}");
    let pid = std::fs::read_to_string(dir.join("sub-manager.pid")).unwrap();
    let pid = pid.trim().to_owned();
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split(' ').nth(2) != Some("Z"))
            .unwrap_or(false)
    };
    assert!(alive(&pid), "started");
    // `nohup` execs the binary in the same process: wait for it to.
    let mut cmdline = String::new();
    for _ in 0..100 {
        cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.contains("sleep") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(cmdline.contains("sleep"), "the binary runs: {cmdline:?}");
    assert!(run("start.sh").contains("already running"));
    let said = run("stop.sh");
    assert!(said.contains("stopped"), "{said}");
    assert!(!alive(&pid), "stopped");
    assert!(!dir.join("sub-manager.pid").exists());
}
