//! The WeChat stand-in: axum on 127.0.0.1 speaking WeChat's documented
//! web-authorisation protocol (see the doc of `main.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

// ---- the WeChat stand-in --------------------------------------------------

#[derive(Default)]
pub(crate) struct Fake {
    /// appid → app secret.
    apps: HashMap<String, String>,
    /// Who is using WeChat on the "phone" now (their openid).
    visitor: Mutex<String>,
    /// code → (appid, openid, used).
    codes: Mutex<HashMap<String, (String, String, bool)>>,
    /// The appid and secret of every access_token call.
    pub(crate) token_calls: Mutex<Vec<(String, String)>>,
}

/// WeChat as its documentation describes it (see the module doc).
pub(crate) struct StandIn {
    pub(crate) base: String,
    pub(crate) fake: Arc<Fake>,
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
    pub(crate) async fn start(apps: &[(&str, &str)]) -> StandIn {
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

    pub(crate) fn visitor(&self, openid: &str) {
        *self.fake.visitor.lock().unwrap() = openid.to_owned();
    }

    /// What WeChat's page does with the browser: a 302 back to the server.
    pub(crate) async fn open(&self, authorize_url: &str) -> String {
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
