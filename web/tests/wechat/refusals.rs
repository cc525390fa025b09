//! Forged or expired states and tickets, and WeChat's errors: refused
//! clearly, never showing the secret.

use axum::http::StatusCode;
use baton_nodes::MasterKey;
use baton_web::AppState;
use baton_web::wechat::{Ticket, WeChatSettings, sign_state, sign_ticket};
use serde_json::json;

use crate::logs::logged;
use crate::server::{Api, param, ticket_of};
use crate::{ACME, BETA, PASSWORD, PUBLIC, SECRET_MARK};

#[tokio::test]
async fn forged_or_expired_states_and_tickets_are_refused() {
    let api = Api::new("forged").await;
    let (b, path) = api.start("acme", "wxA", "o-alice").await;
    let state = param(&path, "state");
    let code = param(&path, "code");
    let cb = |st: &str| format!("/api/v1/wechat/callback?code={code}&state={st}");

    // Another browser (no cookie, someone else's cookie), an altered state.
    let r = api.send("GET", &path, &[], None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_state_invalid")
    );
    let (other, _) = api.start("acme", "wxA", "o-mallory").await;
    let r = api.callback(&other, &path).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_state_invalid")
    );
    let mut altered = state.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    let r = api
        .callback(&b, &cb(&String::from_utf8(altered).unwrap()))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_state_invalid")
    );
    // The other company's name in it (the signature covers the company).
    let beta_hex: String = BETA.bytes().map(|x| format!("{x:02x}")).collect();
    let swapped = format!("{beta_hex}{}", &state[state.find('x').unwrap()..]);
    let r = api.callback(&b, &cb(&swapped)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_state_invalid")
    );
    for junk in ["", "x", "zz", "%00%ff"] {
        let r = api.callback(&b, &cb(junk)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{junk}: {r:?}");
    }
    let r = api.callback(&b, "/api/v1/wechat/callback").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Expired: signed by this server, for this browser, but too old.
    let nonce = b.nonce.strip_prefix("baton_wechat=").unwrap();
    let old = sign_state(&api.key, ACME, nonce, chrono::Utc::now().timestamp() - 1);
    let r = api.callback(&b, &cb(&old)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_state_expired")
    );
    // None of that asked WeChat anything; the real state still works.
    assert!(api.wechat.fake.token_calls.lock().unwrap().is_empty());
    let r = api.callback(&b, &path).await;
    let ticket = ticket_of(&r);

    // Tickets: altered, another openid, another browser, expired.
    let now = chrono::Utc::now().timestamp();
    let forged = [
        ticket.replacen('.', "0.", 1),
        sign_ticket(
            &MasterKey::from_base64(&MasterKey::generate()).unwrap(),
            &Ticket {
                company_id: ACME.into(),
                openid: "o-mallory".into(),
            },
            nonce,
            now + 600,
        ),
        format!("{ticket}.x"),
        "a.b.c.d".into(),
        String::new(),
    ];
    for t in &forged {
        let r = api.bind(&b, t, "alice", PASSWORD).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "wechat_ticket_invalid"),
            "{t}"
        );
        assert_eq!(r.json["field"], "body.ticket");
    }
    let r = api.bind(&other, &ticket, "alice", PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_ticket_invalid")
    );
    let r = api
        .post_bind(
            &[],
            json!({"ticket": ticket, "username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_ticket_invalid")
    );
    let expired = sign_ticket(
        &api.key,
        &Ticket {
            company_id: ACME.into(),
            openid: "o-alice".into(),
        },
        nonce,
        now - 1,
    );
    let r = api.bind(&b, &expired, "alice", PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_ticket_expired")
    );
    let r = api
        .post_bind(&[("cookie", &b.nonce)], json!({"ticket": ticket}))
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.username"))
    );
    assert!(api.store.wechat_bindings(ACME).await.unwrap().is_empty());

    // And the genuine ticket, in its browser, binds.
    let r = api.bind(&b, &ticket, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        api.bound_user(ACME, "o-alice").await.as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn wechat_errors_are_clear_and_never_show_the_secret() {
    let api = Api::new("errors").await;

    // A code WeChat does not know, and one used already.
    let (b, path) = api.start("acme", "wxA", "o-alice").await;
    let state = param(&path, "state");
    let r = api
        .callback(
            &b,
            &format!("/api/v1/wechat/callback?code=bogus&state={state}"),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.json["field"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            "wechat_code_invalid",
            Some("query.code")
        )
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("40029"),
        "{r:?}"
    );
    let r = api.callback(&b, &path).await;
    ticket_of(&r);
    let r = api.callback(&b, &path).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_code_invalid")
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("40163"),
        "{r:?}"
    );
    // No code at all (the visitor cancelled).
    let r = api
        .callback(&b, &format!("/api/v1/wechat/callback?state={state}"))
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.code"))
    );

    // A wrong stored secret: WeChat refuses it (40125); the answer says
    // so without the secret, and so does the log.
    let mut c = api.store.company(ACME).await.unwrap().unwrap();
    c.wechat_secret_enc = Some(api.key.encrypt("S3cretWX-wrong-one"));
    api.store.put_company(&c).await.unwrap();
    let (b, path) = api.start("acme", "wxA", "o-alice").await;
    let r = api.callback(&b, &path).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "wechat_refused")
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("40125"),
        "{r:?}"
    );
    assert_eq!(
        api.wechat
            .fake
            .token_calls
            .lock()
            .unwrap()
            .last()
            .map(|c| c.1.clone()),
        Some("S3cretWX-wrong-one".to_owned()),
        "the stand-in did get the secret (so the checks below look for something real)"
    );

    // WeChat unreachable: said plainly, still no secret.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut down = Api::new("errors-down").await;
    down.state = AppState::new(down.store.clone(), down.key.clone(), down.dir.join("data"))
        .with_wechat(WeChatSettings {
            open_base: down.wechat.base.clone(),
            api_base: format!("http://{closed}"),
            public_url: Some(PUBLIC.into()),
        });
    let (b, path) = down.start("acme", "wxA", "o-alice").await;
    let r = down.callback(&b, &path).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "wechat_unreachable")
    );
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{r:?}"
    );

    let log = logged();
    assert!(log.contains("WeChat sign-in"), "the log is captured: {log}");
    assert!(!log.contains(SECRET_MARK), "a secret in the log:\n{log}");
}
