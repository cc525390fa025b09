//! Host groups, hosts, enrolment tokens, backups and failovers per
//! company.

use axum::http::StatusCode;
use baton_runtime::store::FailoverRow;
use baton_web::auth::sha256_hex;
use serde_json::{Value, json};

use crate::setup::{ids, setup};

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
