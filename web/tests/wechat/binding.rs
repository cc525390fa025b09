//! The entry's checks, and a first visit that binds through the sign-in
//! page and then signs in without a password.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::json;

use crate::server::{Api, signed_in, ticket_of};
use crate::{ACME, BETA, PASSWORD, SECRET_A};

#[tokio::test]
async fn the_entry_checks_the_company_and_its_appid() {
    let api = Api::new("entry").await;
    let entry = |q: &str| format!("/api/v1/wechat/entry?{q}");

    let r = api
        .send("GET", &entry("appid=wxA&companyCode=nope"), &[], None)
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("query.companyCode"))
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("nope"),
        "{r:?}"
    );

    // Another company's appid, or none.
    let r = api
        .send("GET", &entry("appid=wxB&companyCode=acme"), &[], None)
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.appid"))
    );
    let r = api.send("GET", &entry("companyCode=acme"), &[], None).await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.appid"))
    );
    let r = api.send("GET", &entry("appid=wxA"), &[], None).await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.companyCode"))
    );
    // In Chinese for a Chinese browser (WeChat's).
    let r = api
        .send(
            "GET",
            &entry("appid=wxB&companyCode=acme"),
            &[("accept-language", "zh-CN")],
            None,
        )
        .await;
    assert!(
        r.json["message"].as_str().unwrap().contains("appid 与公司"),
        "{r:?}"
    );

    // A company without WeChat set up.
    let mut c = api.store.company(ACME).await.unwrap().unwrap();
    c.wechat_secret_enc = None;
    api.store.put_company(&c).await.unwrap();
    let r = api
        .send("GET", &entry("appid=wxA&companyCode=acme"), &[], None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "wechat_not_configured")
    );
    c.wechat_appid = String::new();
    api.store.put_company(&c).await.unwrap();
    let r = api
        .send("GET", &entry("appid=&companyCode=acme"), &[], None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "wechat_not_configured")
    );

    // A good one: WeChat's authorisation page, exactly as documented.
    let r = api
        .send("GET", &entry("appid=wxB&companyCode=beta"), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let (url, fragment) = r.location.split_once('#').unwrap();
    assert_eq!(fragment, "wechat_redirect");
    let (path, query) = url.split_once('?').unwrap();
    assert_eq!(
        path,
        format!("{}/connect/oauth2/authorize", api.wechat.base)
    );
    let keys: Vec<&str> = query
        .split('&')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["appid", "redirect_uri", "response_type", "scope", "state"]
    );
    assert!(query.starts_with("appid=wxB&redirect_uri=https%3A%2F%2Fbaton.example%2Fapi%2Fv1%2Fwechat%2Fcallback&response_type=code&scope=snsapi_base&state="), "{query}");
    let state = query.rsplit("state=").next().unwrap();
    assert!(
        state.len() <= 128 && state.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{state}"
    );
    let set = r
        .cookies
        .iter()
        .find(|c| c.starts_with("baton_wechat="))
        .unwrap();
    for flag in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/api/v1/wechat",
        "Max-Age=",
    ] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    assert!(r.cookie("baton_session").is_none());
}

#[tokio::test]
async fn first_visit_binds_through_the_sign_in_page_then_signs_in_without_a_password() {
    let api = Api::new("flow").await;

    // Unbound: to the sign-in page with a ticket; nobody is signed in.
    let (b, r) = api.visit("acme", "wxA", "o-alice").await;
    let ticket = ticket_of(&r);
    assert!(
        r.location.starts_with("/m/login?company=acme#"),
        "{}",
        r.location
    );
    assert!(r.cookie("baton_session").is_none());
    // The server asked WeChat with the company's appid and secret.
    assert_eq!(
        api.wechat.fake.token_calls.lock().unwrap().last().cloned(),
        Some(("wxA".to_owned(), SECRET_A.to_owned()))
    );

    // A wrong password binds nothing and signs nobody in.
    let r = api.bind(&b, &ticket, "alice", "wrong-password").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "bad_credentials")
    );
    assert!(r.cookie("baton_session").is_none());
    assert_eq!(api.bound_user(ACME, "o-alice").await, None);
    // Another company's user cannot be bound with this company's ticket.
    let r = api.bind(&b, &ticket, "carol", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.bound_user(ACME, "o-alice").await, None);
    assert_eq!(api.bound_user(BETA, "o-alice").await, None);

    // The right one binds and signs in: the same cookie and CSRF token as a password sign-in.
    let r = api.bind(&b, &ticket, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json["user"]["username"], "alice");
    assert_eq!(r.json["user"]["wechatBound"], true);
    let csrf = r.json["csrfToken"].as_str().unwrap().to_owned();
    let session = r.cookie("baton_session").unwrap();
    let set = r
        .cookies
        .iter()
        .find(|c| c.starts_with("baton_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert_eq!(
        r.cookie("baton_wechat").as_deref(),
        Some("baton_wechat="),
        "the nonce is dropped"
    );
    assert_eq!(
        api.bound_user(ACME, "o-alice").await.as_deref(),
        Some("alice")
    );
    let me = api
        .send("GET", "/api/v1/auth/wechat", &[("cookie", &session)], None)
        .await;
    assert_eq!(
        (me.json["bound"].clone(), me.json["configured"].clone()),
        (json!(true), json!(true))
    );
    // The ticket was for one binding in this browser; the nonce is gone with it.
    let again = api
        .post_bind(
            &[],
            json!({"ticket": ticket, "username": "bob", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "wechat_ticket_invalid")
    );
    // The CSRF token works for changes.
    let r = api
        .send(
            "POST",
            "/api/v1/auth/tokens",
            &[("cookie", &session), ("x-csrf-token", &csrf)],
            Some(json!({"name": "phone"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // The second visit signs in directly, no password.
    let (_, r) = api.visit("acme", "wxA", "o-alice").await;
    let (cookie, csrf) = signed_in(&r);
    let me = api
        .send("GET", "/api/v1/auth/me", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["company"]["code"], "acme");
    let r = api
        .send(
            "POST",
            "/api/v1/auth/tokens",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(json!({"name": "p2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // Bound, in the users list and the audit log.
    let users = api.as_user("boss", "GET", "/api/v1/users").await;
    let bound: HashMap<String, bool> = users.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap().to_owned(),
                u["wechatBound"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(bound["alice"]);
    assert!(!bound["bob"]);
    assert_eq!(
        api.as_user("boss", "GET", "/api/v1/users/alice").await.json["wechatBound"],
        true
    );
    let audit = api.as_user("boss", "GET", "/api/v1/audit").await;
    let lines: Vec<String> = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a["action"], a["detail"]))
        .collect();
    assert!(lines.iter().any(|l| l.contains("wechat-bind")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("login") && l.contains("via WeChat\"")),
        "{lines:?}"
    );
}
