//! Unbinding by the user and by an administrator, and bindings that stay
//! in their company.

use axum::http::StatusCode;
use baton_web::wechat::{Ticket, sign_ticket};

use crate::server::{Api, param, signed_in, ticket_of};
use crate::{ACME, PASSWORD};

#[tokio::test]
async fn unbinding_by_the_user_and_by_an_administrator() {
    let api = Api::new("unbind").await;
    for (who, openid) in [("alice", "o-alice"), ("bob", "o-bob")] {
        let r = api.visit_and_bind("acme", "wxA", openid, who).await;
        assert_eq!(r.status, StatusCode::OK);
    }

    // Alice unbinds herself (a change: the CSRF token is needed).
    let (_, r) = api.visit("acme", "wxA", "o-alice").await;
    let (cookie, csrf) = signed_in(&r);
    let r = api
        .send(
            "DELETE",
            "/api/v1/auth/wechat",
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "csrf"));
    let with_csrf = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let r = api
        .send("DELETE", "/api/v1/auth/wechat", &with_csrf, None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api
        .send("DELETE", "/api/v1/auth/wechat", &with_csrf, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.send("GET", "/api/v1/auth/wechat", &[("cookie", &cookie)], None)
            .await
            .json["bound"],
        false
    );
    // Her WeChat no longer signs in: back to the sign-in page.
    let (_, r) = api.visit("acme", "wxA", "o-alice").await;
    ticket_of(&r);

    // Bob's, by administrators: not by a user without users-manage, not by
    // another company's admin, yes by his company's.
    let r = api
        .as_user("alice", "DELETE", "/api/v1/users/bob/wechat")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .as_user("bigboss", "DELETE", "/api/v1/users/bob/wechat")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(api.bound_user(ACME, "o-bob").await.as_deref(), Some("bob"));
    let r = api
        .as_user("boss", "DELETE", "/api/v1/users/bob/wechat")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(api.bound_user(ACME, "o-bob").await, None);
    let r = api
        .as_user("boss", "DELETE", "/api/v1/users/bob/wechat")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .as_user("boss", "DELETE", "/api/v1/users/nobody/wechat")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = api.as_user("boss", "GET", "/api/v1/audit").await;
    let unbinds = audit
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "wechat-unbind")
        .count();
    assert_eq!(unbinds, 2);

    // Rebinding a user to another WeChat account replaces the old one.
    let r = api
        .visit_and_bind("acme", "wxA", "o-alice-new-phone", "bob")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api.visit_and_bind("acme", "wxA", "o-bob-2", "bob").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(api.bound_user(ACME, "o-alice-new-phone").await, None);
    assert_eq!(
        api.bound_user(ACME, "o-bob-2").await.as_deref(),
        Some("bob")
    );
    // An openid bound to someone else cannot be bound again.
    let (b, r) = api.visit("acme", "wxA", "o-bob-2").await;
    let (_, _) = signed_in(&r);
    let t = sign_ticket(
        &api.key,
        &Ticket {
            company_id: ACME.into(),
            openid: "o-bob-2".into(),
        },
        b.nonce.strip_prefix("baton_wechat=").unwrap(),
        chrono::Utc::now().timestamp() + 60,
    );
    let r = api.bind(&b, &t, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(
        api.bound_user(ACME, "o-bob-2").await.as_deref(),
        Some("bob")
    );
}

#[tokio::test]
async fn another_companys_binding_never_signs_in_here() {
    let api = Api::new("companies").await;
    // Carol binds her WeChat in beta.
    let r = api.visit_and_bind("beta", "wxB", "o-shared", "carol").await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, r) = api.visit("beta", "wxB", "o-shared").await;
    signed_in(&r);

    // The same openid (the stand-in gives one per person) in acme: not
    // signed in, only offered acme's sign-in page.
    let (b, r) = api.visit("acme", "wxA", "o-shared").await;
    let ticket = ticket_of(&r);
    assert!(
        r.location.starts_with("/m/login?company=acme#"),
        "{}",
        r.location
    );
    assert!(r.cookie("baton_session").is_none());
    // Carol's credentials do not work in acme.
    assert_eq!(
        api.bind(&b, &ticket, "carol", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(api.bound_user(ACME, "o-shared").await, None);

    // A state made for beta's browser flow does not bring acme's openid in.
    let (b, path) = api.start("beta", "wxB", "o-shared").await;
    let code_for_acme = {
        let (_, p) = api.start("acme", "wxA", "o-shared").await;
        param(&p, "code")
    };
    let state = param(&path, "state");
    let r = api
        .callback(
            &b,
            &format!("/api/v1/wechat/callback?code={code_for_acme}&state={state}"),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wechat_code_invalid"),
        "{r:?}"
    );

    // A disabled bound user is refused, plainly.
    let mut carol = api.store.user("carol").await.unwrap().unwrap();
    carol.disabled = true;
    api.store.put_user(&carol).await.unwrap();
    let (_, r) = api.visit("beta", "wxB", "o-shared").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "wechat_user_disabled")
    );
    assert!(r.cookie("baton_session").is_none());
}
