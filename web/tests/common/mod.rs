//! What the API tests share: a store in a temporary directory, companies,
//! users whose API token is their id, groups, an engine, calls through the
//! router as such a user (or with any headers), event streams, and the task
//! notices mailed to a test SMTP server.
#![allow(dead_code)]

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::Response;
use baton_nodes::MasterKey;
use baton_runtime::engine::{Engine, JobHandler, Options, SystemClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::store::{CompanyRow, GroupRow, Store, TokenRow, UserRow};
use baton_web::AppState;
use baton_web::auth::sha256_hex;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A real SMTP server saving what it is sent (Python's aiosmtpd).
#[path = "../../../nodes/tests/common/smtp.rs"]
pub mod smtp;

// ---- where a test keeps its files ------------------------------------------

/// `baton-web-{name}-{pid}-{n}` in the system's temporary directory, emptied
/// when made and removed (with all in it) when this goes.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `baton-web-{name}-{pid}-{n}`, empty (`n` counts the directories of
    /// this process, so tests running side by side never share one).
    pub fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("baton-web-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The SQLite store `b.db` in `dir` (made when missing).
pub async fn sqlite(dir: &Path) -> Store {
    Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("b.db").display()))
        .await
        .unwrap()
}

/// A new master key.
pub fn key() -> MasterKey {
    MasterKey::from_base64(&MasterKey::generate()).unwrap()
}

// ---- companies, users, groups ----------------------------------------------

/// A company whose code is `code`.
pub async fn company_coded(store: &Store, id: &str, code: &str) {
    store
        .put_company(&CompanyRow {
            id: id.into(),
            code: code.into(),
            name: id.into(),
            wechat_appid: String::new(),
            wechat_secret_enc: None,
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
}

/// A company whose code is its id.
pub async fn company(store: &Store, id: &str) {
    company_coded(store, id, id).await;
}

/// The row of a user of `company_id` named `id` (username and name too),
/// with no email, no usable password and nothing disabled.
pub fn user_row(company_id: &str, id: &str, admin: bool) -> UserRow {
    UserRow {
        id: id.into(),
        company_id: company_id.into(),
        username: id.into(),
        name: id.into(),
        email: String::new(),
        phone: String::new(),
        password_hash: "x".into(),
        admin,
        submanager_login: false,
        must_change_password: false,
        disabled: false,
        created_at: 0,
        updated_at: 0,
    }
}

/// The API token `token` of the user `user_id` (the token's row id is the
/// token too).
pub async fn api_token(store: &Store, user_id: &str, token: &str) {
    store
        .insert_token(&TokenRow {
            id: token.into(),
            hash: sha256_hex(token),
            user_id: user_id.into(),
            name: "t".into(),
            created_at: 0,
            expires_at: None,
            last_used_at: None,
        })
        .await
        .unwrap();
}

/// A user of `company` (made with its id as code when missing) whose API
/// token is its id.
pub async fn user(store: &Store, company_id: &str, id: &str, admin: bool) {
    if store.company(company_id).await.unwrap().is_none() {
        company(store, company_id).await;
    }
    store
        .put_user(&user_row(company_id, id, admin))
        .await
        .unwrap();
    api_token(store, id, id).await;
}

/// Companies `default` and `acme`: `admin` (an administrator) and each of
/// `staff` (not) in `default`, the administrator `zed` in `acme`.
pub async fn default_and_acme(store: &Store, staff: &[&str]) {
    company(store, "default").await;
    company(store, "acme").await;
    user(store, "default", "admin", true).await;
    for u in staff {
        user(store, "default", u, false).await;
    }
    user(store, "acme", "zed", true).await;
}

/// The group `id` named `name` of `company`, with `permissions` (a JSON
/// object of function → level) and exactly `members` (user ids).
pub async fn group(
    store: &Store,
    company: &str,
    id: &str,
    name: &str,
    permissions: Value,
    members: &[&str],
) {
    store
        .put_group(&GroupRow {
            id: id.into(),
            company_id: company.into(),
            name: name.into(),
            permissions: permissions.as_object().unwrap().clone(),
            comments: String::new(),
            updated_at: 0,
        })
        .await
        .unwrap();
    let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
    store.set_members(id, &members).await.unwrap();
}

// ---- the engine and the API ------------------------------------------------

/// An engine on `store` whose jobs `handler` runs, polling every 10 ms.
pub async fn engine_with(store: &Store, handler: Arc<dyn JobHandler>) -> Engine {
    Engine::start(
        store.clone(),
        Arc::new(SystemClock),
        handler,
        Options {
            poll: Duration::from_millis(10),
            ..Options::default()
        },
    )
    .await
    .unwrap()
}

/// An engine on `store` with the built-in job handlers, polling every 10 ms.
pub async fn engine(store: &Store) -> Engine {
    engine_with(store, Arc::new(Builtin::default())).await
}

/// The API over a store in its temporary directory (data under `dir/data`);
/// the directory goes with the last API in it.
pub struct Api {
    pub state: AppState,
    pub dir: Arc<TempDir>,
}

impl Api {
    /// Without an engine, with a new master key.
    pub fn new(store: Store, dir: TempDir) -> Api {
        Api {
            state: AppState::new(store, key(), dir.join("data")),
            dir: Arc::new(dir),
        }
    }

    /// With an engine ([`engine`]) running on the store, and a new master key.
    pub async fn with_engine(store: Store, dir: TempDir) -> Api {
        let engine = engine(&store).await;
        Api {
            state: AppState::new(store, key(), dir.join("data")).with_engine(engine),
            dir: Arc::new(dir),
        }
    }

    /// Another API in the same directory, over `state`.
    pub fn beside(&self, state: AppState) -> Api {
        Api {
            state,
            dir: self.dir.clone(),
        }
    }

    /// The status and raw body of a call as the user whose token is `token`.
    pub async fn raw(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Vec<u8>) {
        raw(&self.state, token, method, uri, body).await
    }

    /// The status and JSON body (`null` when not JSON) of a call as the
    /// user whose token is `token`.
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(&self.state, token, method, uri, body).await
    }

    /// A call that must answer `want`; its body.
    pub async fn ok(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Value {
        let (s, v) = self.call(token, method, uri, body).await;
        assert_eq!(s, want, "{method} {uri}: {v}");
        v
    }

    /// Deploys the process `xml` as `token`, which must answer 201 Created;
    /// the answer's body.
    pub async fn deploy(&self, token: &str, xml: &str) -> Value {
        let body = json!({ "xml": xml });
        let uri = "/api/v1/processes";
        self.ok(token, "POST", uri, Some(body), StatusCode::CREATED)
            .await
    }
}

// ---- requests --------------------------------------------------------------

/// `v` as a request body: its content type and bytes.
pub fn json_body(v: &Value) -> (String, Vec<u8>) {
    ("application/json".to_owned(), v.to_string().into_bytes())
}

/// The router's response to `method uri` as the user whose API token is
/// `token` (none: anonymous), with `headers` and, when given, a body
/// (content type, bytes); not read yet, as a live stream never ends.
pub async fn respond(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(String, Vec<u8>)>,
) -> Response {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some((content_type, bytes)) => req
            .header("content-type", content_type)
            .body(Body::from(bytes)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    baton_web::router(state.clone()).oneshot(req).await.unwrap()
}

/// An answer read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// The first value of the header `name` ("" when there is none).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Every value of the header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// [`respond`], read whole.
pub async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<(String, Vec<u8>)>,
) -> Answer {
    let res = respond(state, method, uri, token, headers, body).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        headers,
        bytes,
    }
}

/// [`send`] with a JSON body, when given.
pub async fn send_json(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let body = body.as_ref().map(json_body);
    send(state, method, uri, token, headers, body).await
}

/// The status and raw body of a call as the user whose token is `token`.
pub async fn raw(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let a = send_json(state, method, uri, Some(token), &[], body).await;
    (a.status, a.bytes)
}

/// The status and JSON body (`null` when not JSON) of a call.
pub async fn call(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, bytes) = raw(state, token, method, uri, body).await;
    (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A server-sent event stream opened with `GET uri` as the user whose token
/// is `token`, which must answer 200 as `text/event-stream`; its body, to
/// read as it comes.
pub async fn event_stream(state: &AppState, token: &str, uri: &str) -> Body {
    let res = respond(state, "GET", uri, Some(token), &[], None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    res.into_body()
}

// ---- reading answers -------------------------------------------------------

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An answer's status, error `code` and `field`.
pub fn err(r: &(StatusCode, Value)) -> (StatusCode, Option<&str>, Option<&str>) {
    (r.0, r.1["code"].as_str(), r.1["field"].as_str())
}

// ---- mailed task notices ---------------------------------------------------

/// Gives each `(user id, address)` its email address.
pub async fn set_emails(store: &Store, emails: &[(&str, &str)]) {
    for (u, e) in emails {
        let mut row = store.user(u).await.unwrap().unwrap();
        row.email = (*e).into();
        store.put_user(&row).await.unwrap();
    }
}

/// Task notices mailed from `state` through `mail` (no TLS, no login),
/// their links under `public_url`.
pub fn mail_notices(state: &AppState, mail: &smtp::Smtp, public_url: &str) {
    baton_web::notify::spawn(state.clone(), mail_settings(mail, public_url));
}

/// Mail through `mail` (no TLS, no login), links under `public_url`.
pub fn mail_settings(mail: &smtp::Smtp, public_url: &str) -> baton_web::notify::MailSettings {
    baton_web::notify::MailSettings {
        host: "127.0.0.1".into(),
        port: mail.port,
        security: Some("none".into()),
        user: None,
        password: None,
        from: "Baton <baton@example.com>".into(),
        public_url: public_url.into(),
    }
}

/// The messages `mail` saved, once there are at least `n` (10 s at most).
pub async fn mails(mail: &smtp::Smtp, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        if mail.messages().len() >= n {
            return mail.messages();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} notices never came: {:?}", mail.messages());
}

/// The token in a notice's approval link.
pub fn link_token(text: &str) -> String {
    let at = text.find("/m/approve#").expect("a link") + "/m/approve#".len();
    text[at..]
        .split(|c: char| c.is_whitespace() || c == ')' || c == '（')
        .next()
        .unwrap()
        .to_owned()
}
