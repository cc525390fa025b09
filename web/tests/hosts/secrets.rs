//! Terminal secrets: kept out of the cloud for a terminal behind a host,
//! encrypted for a cloud terminal, never in a read; moving and deleting.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::setup::{ids, setup};
use crate::{CLOUD_PW, RELAY_KEY, RELAY_PP, RELAY_PW2};

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
