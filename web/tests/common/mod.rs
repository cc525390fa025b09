//! What the API tests share: companies, users whose API token is their id,
//! and calls through the router as such a user.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use baton_runtime::store::{CompanyRow, Store, TokenRow, UserRow};
use baton_web::AppState;
use baton_web::auth::sha256_hex;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

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

/// A user of `company` (made with its id as code when missing) whose API
/// token is its id.
pub async fn user(store: &Store, company_id: &str, id: &str, admin: bool) {
    if store.company(company_id).await.unwrap().is_none() {
        company(store, company_id).await;
    }
    store
        .put_user(&UserRow {
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
        })
        .await
        .unwrap();
    store
        .insert_token(&TokenRow {
            id: id.into(),
            hash: sha256_hex(id),
            user_id: id.into(),
            name: "t".into(),
            created_at: 0,
            expires_at: None,
            last_used_at: None,
        })
        .await
        .unwrap();
}

/// The status and raw body of a call as the user whose token is `token`.
pub async fn raw(
    state: &AppState,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = baton_web::router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
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
