//! Signing in from WeChat (the LWAMS mobile entry `/?appid=…&companyCode=…`)
//! through the API: entry checks, the redirect to WeChat's authorisation
//! page, the callback, binding through the mobile sign-in page, signing in
//! again without a password, unbinding, and every way it must refuse.
//!
//! **WeChat's servers cannot be reached from the machine these tests run
//! on**, so they run against a local stand-in ([`StandIn`], axum on
//! 127.0.0.1) that speaks WeChat's documented web-authorisation protocol
//! for official accounts ("网页授权", scope `snsapi_base`):
//! `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state#wechat_redirect`
//! redirects (302) to `redirect_uri?code=CODE&state=STATE`, and
//! `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
//! answers `{"access_token","expires_in","refresh_token","openid","scope"}`
//! for a code it issued to that appid, or WeChat's error JSON:
//! `{"errcode":40013,"errmsg":"invalid appid"}`, `40125 invalid appsecret`,
//! `40029 invalid code`, `40163 code been used`. The stand-in gives a
//! visitor the same openid under every appid (as when two companies share
//! one official account, the case where a binding could leak between
//! companies). Behaviour of the real WeChat beyond that documented
//! protocol was not verified here.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_nodes::MasterKey;
use baton_runtime::store::{CompanyRow, Store, UserRow};
use baton_web::AppState;
use baton_web::auth::hash_password;
use baton_web::wechat::{Ticket, WeChatSettings, sign_state, sign_ticket};
use serde_json::{Value, json};

use common::TempDir;

/// Every app secret here holds this, so one search finds any of them.
const SECRET_MARK: &str = "S3cretWX";
const SECRET_A: &str = "S3cretWX-acme-0123456789abcdef";
const SECRET_B: &str = "S3cretWX-beta-0123456789abcdef";
const PASSWORD: &str = "Alice-pass-123";
const PUBLIC: &str = "https://baton.example";

// ---- what the server logs ---------------------------------------------------

fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
}

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        logs().lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line at every level goes to [`logs`].
fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .init();
    });
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

// ---- the WeChat stand-in --------------------------------------------------

#[derive(Default)]
struct Fake {
    /// appid → app secret.
    apps: HashMap<String, String>,
    /// Who is using WeChat on the "phone" now (their openid).
    visitor: Mutex<String>,
    /// code → (appid, openid, used).
    codes: Mutex<HashMap<String, (String, String, bool)>>,
    /// The appid and secret of every access_token call.
    token_calls: Mutex<Vec<(String, String)>>,
}

/// WeChat as its documentation describes it (see the module doc).
struct StandIn {
    base: String,
    fake: Arc<Fake>,
}

async fn authorize(
    State(f): State<Arc<Fake>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if !f.apps.contains_key(&get("appid")) {
        return (StatusCode::BAD_REQUEST, "appid 参数错误").into_response();
    }
    if get("response_type") != "code" || get("scope") != "snsapi_base" {
        return (StatusCode::BAD_REQUEST, "scope 参数错误或没有 scope 权限").into_response();
    }
    let state = get("state");
    if state.len() > 128 || !state.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return (
            StatusCode::BAD_REQUEST,
            "state: a-zA-Z0-9, 128 bytes at most",
        )
            .into_response();
    }
    let redirect_uri = get("redirect_uri");
    if !redirect_uri.starts_with("http") {
        return (StatusCode::BAD_REQUEST, "redirect_uri 参数错误").into_response();
    }
    let code = format!("code{}", uuid::Uuid::now_v7().simple());
    let openid = f.visitor.lock().unwrap().clone();
    f.codes
        .lock()
        .unwrap()
        .insert(code.clone(), (get("appid"), openid, false));
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let to = format!("{redirect_uri}{sep}code={code}&state={state}");
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn access_token(
    State(f): State<Arc<Fake>>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (appid, secret, code) = (get("appid"), get("secret"), get("code"));
    f.token_calls
        .lock()
        .unwrap()
        .push((appid.clone(), secret.clone()));
    let err = |c: i64, m: &str| axum::Json(json!({"errcode": c, "errmsg": m}));
    let Some(want) = f.apps.get(&appid) else {
        return err(40013, "invalid appid");
    };
    if *want != secret {
        return err(40125, "invalid appsecret");
    }
    if get("grant_type") != "authorization_code" {
        return err(40002, "invalid grant_type");
    }
    let mut codes = f.codes.lock().unwrap();
    match codes.get_mut(&code) {
        Some((a, openid, used)) if *a == appid => {
            if *used {
                return err(40163, "code been used");
            }
            *used = true;
            axum::Json(json!({
                "access_token": "ACCESS_TOKEN", "expires_in": 7200,
                "refresh_token": "REFRESH_TOKEN", "openid": openid, "scope": "snsapi_base"
            }))
        }
        _ => err(40029, "invalid code"),
    }
}

impl StandIn {
    async fn start(apps: &[(&str, &str)]) -> StandIn {
        let fake = Arc::new(Fake {
            apps: apps
                .iter()
                .map(|(a, s)| (a.to_string(), s.to_string()))
                .collect(),
            ..Fake::default()
        });
        let app = axum::Router::new()
            .route("/connect/oauth2/authorize", axum::routing::get(authorize))
            .route("/sns/oauth2/access_token", axum::routing::get(access_token))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { base, fake }
    }

    fn visitor(&self, openid: &str) {
        *self.fake.visitor.lock().unwrap() = openid.to_owned();
    }

    /// What WeChat's page does with the browser: a 302 back to the server.
    async fn open(&self, authorize_url: &str) -> String {
        assert!(authorize_url.starts_with(&self.base), "{authorize_url}");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(authorize_url).send().await.unwrap();
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap_or_default();
        assert_eq!(status, 302, "WeChat's page refused: {body}");
        location.unwrap()
    }
}

// ---- the server -------------------------------------------------------------

struct Api {
    state: AppState,
    store: Store,
    key: MasterKey,
    wechat: StandIn,
    dir: TempDir,
}

#[derive(Debug)]
struct Res {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    json: Value,
}

impl Res {
    fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// `name=value` of the cookie `name` this answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }
}

/// A browser's sign-in through WeChat, step by step.
struct Browser {
    /// The `baton_wechat=…` cookie the entry set.
    nonce: String,
}

impl Api {
    /// Companies `acme` (appid wxA) and `beta` (wxB), users `alice`, `bob`
    /// and admin `boss` in acme, `carol` and admin `bigboss` in beta; a
    /// user's API token is its id.
    async fn new(name: &str) -> Api {
        capture_logs();
        let dir = TempDir::new(&format!("wechat-{name}"));
        let store = common::sqlite(&dir).await;
        let key = common::key();
        let wechat = StandIn::start(&[("wxA", SECRET_A), ("wxB", SECRET_B)]).await;
        for (id, appid, secret) in [("acme", "wxA", SECRET_A), ("beta", "wxB", SECRET_B)] {
            store
                .put_company(&CompanyRow {
                    id: format!("{id}-0196f0c2-7a1b-7cde-8f00"),
                    code: id.into(),
                    name: id.into(),
                    wechat_appid: appid.into(),
                    wechat_secret_enc: Some(key.encrypt(secret)),
                    created_at: 0,
                    updated_at: 0,
                })
                .await
                .unwrap();
        }
        let acme = "acme-0196f0c2-7a1b-7cde-8f00";
        let beta = "beta-0196f0c2-7a1b-7cde-8f00";
        for (id, company, admin) in [
            ("alice", acme, false),
            ("bob", acme, false),
            ("boss", acme, true),
            ("carol", beta, false),
            ("bigboss", beta, true),
        ] {
            let row = UserRow {
                password_hash: hash_password(PASSWORD).unwrap(),
                ..common::user_row(company, id, admin)
            };
            store.put_user(&row).await.unwrap();
            common::api_token(&store, id, id).await;
        }
        let state = AppState::new(store.clone(), key.clone(), dir.join("data")).with_wechat(
            WeChatSettings {
                open_base: wechat.base.clone(),
                api_base: wechat.base.clone(),
                public_url: Some(PUBLIC.into()),
            },
        );
        Api {
            state,
            store,
            key,
            wechat,
            dir,
        }
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Res {
        let a = common::send_json(&self.state, method, uri, None, headers, body).await;
        let status = a.status;
        let location = a.header(header::LOCATION.as_str());
        let cookies = a.header_all(header::SET_COOKIE.as_str());
        let text = String::from_utf8_lossy(&a.bytes);
        // No answer ever holds an app secret: not its body, not a header.
        assert!(!text.contains(SECRET_MARK), "{method} {uri}: {text}");
        assert!(
            !location.contains(SECRET_MARK),
            "{method} {uri}: {location}"
        );
        assert!(
            status.as_u16() < 500 || status == StatusCode::BAD_GATEWAY,
            "{method} {uri}: {status} {text}"
        );
        Res {
            status,
            location,
            cookies,
            json: a.json(),
        }
    }

    async fn as_user(&self, token: &str, method: &str, uri: &str) -> Res {
        self.send(
            method,
            uri,
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
    }

    /// The mobile page opened from the company's menu: the entry, then
    /// WeChat's page as `openid`. The answer is where WeChat sends the
    /// browser back (the server's callback, not called yet).
    async fn start(&self, company: &str, appid: &str, openid: &str) -> (Browser, String) {
        let r = self
            .send(
                "GET",
                &format!("/api/v1/wechat/entry?appid={appid}&companyCode={company}"),
                &[],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
        let nonce = r.cookie("baton_wechat").expect("the entry sets its cookie");
        self.wechat.visitor(openid);
        let back = self.wechat.open(&r.location).await;
        let path = back
            .strip_prefix(PUBLIC)
            .unwrap_or_else(|| panic!("WeChat sends the browser to {back}"))
            .to_owned();
        assert!(path.starts_with("/api/v1/wechat/callback?"), "{path}");
        (Browser { nonce }, path)
    }

    async fn callback(&self, b: &Browser, path: &str) -> Res {
        self.send("GET", path, &[("cookie", &b.nonce)], None).await
    }

    /// The whole visit: entry, WeChat, callback.
    async fn visit(&self, company: &str, appid: &str, openid: &str) -> (Browser, Res) {
        let (b, path) = self.start(company, appid, openid).await;
        let r = self.callback(&b, &path).await;
        (b, r)
    }

    async fn bind(&self, b: &Browser, ticket: &str, username: &str, password: &str) -> Res {
        let body = json!({"ticket": ticket, "username": username, "password": password});
        self.post_bind(&[("cookie", &b.nonce)], body).await
    }

    /// A binding with exactly these headers and body.
    async fn post_bind(&self, headers: &[(&str, &str)], body: Value) -> Res {
        self.send("POST", "/api/v1/wechat/bind", headers, Some(body))
            .await
    }

    /// A first visit of `openid` that binds `username` (with the right
    /// password) through the sign-in page; the binding's answer.
    async fn visit_and_bind(
        &self,
        company: &str,
        appid: &str,
        openid: &str,
        username: &str,
    ) -> Res {
        let (b, r) = self.visit(company, appid, openid).await;
        self.bind(&b, &ticket_of(&r), username, PASSWORD).await
    }

    async fn bound_user(&self, company: &str, openid: &str) -> Option<String> {
        self.store
            .wechat_binding(company, openid)
            .await
            .unwrap()
            .map(|b| b.user_id)
    }
}

const ACME: &str = "acme-0196f0c2-7a1b-7cde-8f00";
const BETA: &str = "beta-0196f0c2-7a1b-7cde-8f00";

/// The bind ticket of a redirect to the sign-in page.
fn ticket_of(r: &Res) -> String {
    assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
    let (page, ticket) = r
        .location
        .split_once("#wechat=")
        .unwrap_or_else(|| panic!("to the sign-in page with a ticket: {}", r.location));
    assert!(page.starts_with("/m/login?company="), "{page}");
    ticket.to_owned()
}

/// The value of `name` in the query of a callback path.
fn param(path: &str, name: &str) -> String {
    let after = path.split(&format!("{name}=")).nth(1).unwrap();
    after.split('&').next().unwrap().to_owned()
}

/// The session cookie and CSRF token of a sign-in through the callback.
fn signed_in(r: &Res) -> (String, String) {
    assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
    let csrf = r
        .location
        .strip_prefix("/m/wechat#csrf=")
        .unwrap_or_else(|| panic!("to the mobile page, signed in: {}", r.location))
        .to_owned();
    let cookie = r.cookie("baton_session").expect("a session cookie");
    (cookie, csrf)
}

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
