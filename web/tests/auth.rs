//! Sign-in as a browser and as a script: the session cookie's flags, the
//! CSRF token on unsafe methods, the first-start admin who must change the
//! password, rate-limited failures, sessions ended by a password change,
//! revoked tokens, disabled users; errors in the request's language with the
//! offending field.

mod common;

use axum::http::{StatusCode, header};
use baton_web::AppState;
use serde_json::{Value, json};

use common::TempDir;

struct Api {
    state: AppState,
    _dir: TempDir,
}

struct Res {
    status: StatusCode,
    cookie: Option<String>,
    json: Value,
}

impl Api {
    async fn new(name: &str) -> (Api, String) {
        let dir = TempDir::new(&format!("auth-{name}"));
        let store = common::sqlite(&dir).await;
        let first = baton_web::bootstrap::bootstrap(&store)
            .await
            .unwrap()
            .unwrap();
        assert!(
            baton_web::bootstrap::bootstrap(&store)
                .await
                .unwrap()
                .is_none(),
            "once only"
        );
        let state = AppState::new(store, common::key(), dir.join("data"));
        (Api { state, _dir: dir }, first)
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Res {
        let a = common::send_json(&self.state, method, uri, None, headers, body).await;
        let cookie = a
            .headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        Res {
            status: a.status,
            cookie,
            json: a.json(),
        }
    }

    async fn login(&self, username: &str, password: &str) -> Res {
        self.send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(json!({"username": username, "password": password})),
        )
        .await
    }
}

/// `baton_session=…` from a Set-Cookie header.
fn session(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn browser_session_with_csrf_and_the_first_password_change() {
    let (api, first) = Api::new("browser").await;
    let res = api.login("admin", &first).await;
    assert_eq!(res.status, StatusCode::OK);
    let set = res.cookie.unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    assert_eq!(res.json["mustChangePassword"], true);
    let cookie = session(&set);
    let csrf = res.json["csrfToken"].as_str().unwrap().to_owned();

    // Until the password changes, only me / password / logout.
    let r = api
        .send("GET", "/api/v1/users", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    let r = api
        .send("GET", "/api/v1/auth/me", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["permissions"]["companies"], "manage");

    // An unsafe method without the CSRF token is refused.
    let change = json!({"current": first, "password": "Second-pass-42"});
    let r = api
        .send(
            "POST",
            "/api/v1/auth/password",
            &[("cookie", &cookie)],
            Some(change.clone()),
        )
        .await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    let r = api
        .send(
            "POST",
            "/api/v1/auth/password",
            &[("cookie", &cookie), ("x-csrf-token", "wrong")],
            Some(change.clone()),
        )
        .await;
    assert_eq!(r.json["code"], "csrf");
    // A weak new password: 400 naming the field.
    let weak = json!({"current": first, "password": "short"});
    let r = api
        .send(
            "POST",
            "/api/v1/auth/password",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(weak),
        )
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.password"))
    );
    let r = api
        .send(
            "POST",
            "/api/v1/auth/password",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(change),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let new_cookie = session(&r.cookie.unwrap());
    // The old session ended; the new one works without restriction.
    let r = api
        .send("GET", "/api/v1/auth/me", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = api
        .send("GET", "/api/v1/users", &[("cookie", &new_cookie)], None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["total"], 1);
    // The old password no longer signs in; the new one does.
    assert_eq!(
        api.login("admin", &first).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.login("admin", "Second-pass-42").await.status,
        StatusCode::OK
    );
    // Logout ends the session.
    let r = api
        .send(
            "POST",
            "/api/v1/auth/logout",
            &[("cookie", &new_cookie)],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "logout is unsafe: it needs the CSRF token too"
    );
}

#[tokio::test]
async fn failed_logins_are_rate_limited_and_answered_in_chinese() {
    let (api, first) = Api::new("limit").await;
    for _ in 0..5 {
        let r = api.login("admin", "wrong").await;
        assert_eq!(
            (r.status, r.json["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
    }
    // Locked now, even with the right password.
    let r = api.login("admin", &first).await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // Another name is not locked; an unknown user answers like a wrong password.
    let r = api
        .send(
            "POST",
            "/api/v1/auth/login",
            &[("accept-language", "zh-CN,zh;q=0.9")],
            Some(json!({"username": "ghost", "password": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json["message"], "公司、用户名或密码错误");
    // A body that is not what the route takes names the field.
    let r = api
        .send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(json!({"username": "admin"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.password"))
    );
    let r = api
        .send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(json!({"username": 1, "password": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            "POST",
            "/api/v1/auth/login",
            &[],
            Some(json!({"username": "a", "password": "b", "extra": 1})),
        )
        .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.extra"))
    );
}

#[tokio::test]
async fn api_tokens_work_until_revoked_and_disabled_users_are_out() {
    let (api, first) = Api::new("tokens").await;
    let res = api.login("admin", &first).await;
    let cookie = session(&res.cookie.unwrap());
    let csrf = res.json["csrfToken"].as_str().unwrap().to_owned();
    let auth = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    api.send(
        "POST",
        "/api/v1/auth/password",
        &auth,
        Some(json!({"current": first, "password": "Second-pass-42"})),
    )
    .await;
    let res = api.login("admin", "Second-pass-42").await;
    let cookie = session(&res.cookie.unwrap());
    let csrf = res.json["csrfToken"].as_str().unwrap().to_owned();
    let auth = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];

    // A user for the script, and a token of the admin's.
    let r = api
        .send(
            "POST",
            "/api/v1/users",
            &auth,
            Some(json!({"username": "ops", "password": "Ops-password-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let ops = r.json["id"].as_str().unwrap().to_owned();
    let r = api
        .send(
            "POST",
            "/api/v1/auth/tokens",
            &auth,
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let token = r.json["token"].as_str().unwrap().to_owned();
    let id = r.json["id"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    // No CSRF for tokens; the token itself is never listed.
    let r = api
        .send(
            "PUT",
            "/api/v1/globals/site",
            &[("authorization", &bearer)],
            Some(json!({"value": "sh01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .send(
            "GET",
            "/api/v1/auth/tokens",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert!(!r.json.to_string().contains(&token));
    assert!(r.json[0]["lastUsedAt"].is_i64());
    let r = api
        .send("DELETE", &format!("/api/v1/auth/tokens/{id}"), &auth, None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api
        .send(
            "GET",
            "/api/v1/globals",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "revoked at once");

    // A disabled user cannot sign in, and its sessions end.
    let r = api.login("ops", "Ops-password-1").await;
    assert_eq!(r.status, StatusCode::OK);
    let ops_cookie = session(&r.cookie.unwrap());
    let r = api
        .send(
            "PUT",
            &format!("/api/v1/users/{ops}"),
            &auth,
            Some(json!({"username": "ops", "disabled": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        api.send("GET", "/api/v1/auth/me", &[("cookie", &ops_cookie)], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.login("ops", "Ops-password-1").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Every change is in the audit log, and no response or audit line holds a password.
    let r = api.send("GET", "/api/v1/audit", &auth, None).await;
    let log = r.json.to_string();
    for action in [
        "\"login\"",
        "\"password\"",
        "\"create\"",
        "\"delete\"",
        "\"update\"",
    ] {
        assert!(log.contains(action), "{action} in {log}");
    }
    for secret in ["Ops-password-1", "Second-pass-42", token.as_str()] {
        assert!(!log.contains(secret));
    }
}

/// Two servers starting at once on one store: one admin, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_starts_make_one_admin() {
    let dir = TempDir::new("boot");
    let (a, b) = (common::sqlite(&dir).await, common::sqlite(&dir).await);
    let (x, y) = tokio::join!(
        baton_web::bootstrap::bootstrap(&a),
        baton_web::bootstrap::bootstrap(&b)
    );
    let made = [x.unwrap(), y.unwrap()]
        .iter()
        .filter(|p| p.is_some())
        .count();
    assert_eq!(made, 1, "exactly one of them made the admin");
    assert_eq!(a.count_users().await.unwrap(), 1);
}
