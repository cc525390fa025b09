//! `/api/v1/auth`: login, logout, who am I, password change, API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_runtime::store::{SessionRow, TokenRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::views::UserView;
use crate::AppState;
use crate::auth::{
    Caller, ROOT_COMPANY, SESSION_COOKIE, SESSION_TTL, Via, check_new_password, hash_password,
    now_ms, random_secret, sha256_hex, verify_password,
};
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Login {
    /// The company's code (default: the root company).
    pub company: Option<String>,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Signed {
    pub user: UserView,
    /// Send it back in `X-CSRF-Token` on every POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    pub must_change_password: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user: UserView,
    pub company: CompanyBrief,
    /// Every function with `none`, `view` or `manage`.
    #[schema(value_type = Object)]
    pub permissions: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyBrief {
    pub id: String,
    pub code: String,
    pub name: String,
}

pub(crate) fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "wrong company, username or password",
        "公司、用户名或密码错误",
    )
}

pub(crate) async fn new_session(state: &AppState, user_id: &str) -> ApiResult<(String, String)> {
    let sid = random_secret();
    let csrf = random_secret();
    let now = now_ms();
    state
        .store
        .insert_session(&SessionRow {
            id_hash: sha256_hex(&sid),
            user_id: user_id.to_owned(),
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now + SESSION_TTL.as_millis() as i64,
        })
        .await?;
    Ok((sid, csrf))
}

pub(crate) fn session_cookie(state: &AppState, sid: &str, max_age: u64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Sign in: a session cookie (HttpOnly, SameSite=Strict) and the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Signed), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(State(state): State<AppState>, Body(b): Body<Login>) -> ApiResult<Response> {
    let code = b.company.unwrap_or_else(|| ROOT_COMPANY.to_owned());
    let key = format!("{code}\u{0}{}", b.username);
    if let Err(wait) = state.limiter.check(&key) {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed sign-ins: try again in {wait} s"),
            format!("登录失败次数过多：请 {wait} 秒后再试"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(r);
    }
    let user = match state.store.company_by_code(&code).await? {
        Some(c) => state.store.user_by_name(&c.id, &b.username).await?,
        None => None,
    };
    let Some(user) = user.filter(|u| !u.disabled && verify_password(&b.password, &u.password_hash))
    else {
        state.limiter.failed(&key);
        tracing::warn!(company = code, username = b.username, "failed sign-in");
        return Err(bad_credentials());
    };
    state.limiter.succeeded(&key);
    let (sid, csrf) = new_session(&state, &user.id).await?;
    let caller = crate::auth::load(
        &state,
        &user.id,
        Via::Session {
            id_hash: sha256_hex(&sid),
        },
    )
    .await?
    .ok_or_else(bad_credentials)?;
    state
        .audit(&caller, "login", &format!("user:{}", user.id), "")
        .await;
    let mut r = Json(Signed {
        must_change_password: user.must_change_password,
        user: UserView::of(&user),
        csrf_token: csrf,
    })
    .into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &sid, SESSION_TTL.as_secs()),
    );
    Ok(r)
}

/// Sign out: the session ends, the cookie is cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    if let Via::Session { id_hash } = &caller.via {
        state.store.delete_session(id_hash).await?;
    }
    let mut r = no_content();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(r)
}

/// The caller, its company and its permission on every function.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: UserView::of(&caller.user),
        company: CompanyBrief {
            id: caller.company.id.clone(),
            code: caller.company.code.clone(),
            name: caller.company.name.clone(),
        },
        permissions: caller.grants.to_json(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    pub password: String,
}

/// Change one's own password. Every session of the user ends; the answer
/// carries a new one (cookie and CSRF token).
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 200, body = Signed), (status = 400, body = crate::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<PasswordChange>,
) -> ApiResult<Response> {
    if !verify_password(&b.current, &caller.user.password_hash) {
        return Err(ApiError::invalid(
            "body.current",
            "the current password is wrong",
            "当前密码错误",
        ));
    }
    check_new_password(&b.password)?;
    if b.password == b.current {
        return Err(ApiError::invalid(
            "body.password",
            "the new password must differ from the current one",
            "新密码不能与当前密码相同",
        ));
    }
    let mut user = caller.user.clone();
    user.password_hash = hash_password(&b.password)?;
    user.must_change_password = false;
    state.store.put_user(&user).await?;
    state.store.delete_sessions_of(&user.id).await?;
    state
        .audit(
            &caller,
            "password",
            &format!("user:{}", user.id),
            "changed own password",
        )
        .await;
    let (sid, csrf) = new_session(&state, &user.id).await?;
    let mut r = Json(Signed {
        user: UserView::of(&user),
        csrf_token: csrf,
        must_change_password: false,
    })
    .into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &sid, SESSION_TTL.as_secs()),
    );
    Ok(r)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl TokenView {
    fn of(t: &TokenRow) -> TokenView {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// Days until it stops working (default: never).
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: String,
    /// Shown once: send it as `Authorization: Bearer TOKEN`.
    pub token: String,
}

/// The caller's API tokens (never the token itself).
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = state.store.list_tokens(&caller.user.id).await?;
    Ok(Json(tokens.iter().map(TokenView::of).collect()))
}

/// A new API token for the caller; the token is in this answer only.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a token needs a name",
            "令牌需要名称",
        ));
    }
    let token = format!("baton_{}", random_secret());
    let now = now_ms();
    let row = TokenRow {
        id: uuid::Uuid::now_v7().to_string(),
        hash: sha256_hex(&token),
        user_id: caller.user.id.clone(),
        name: b.name.trim().to_owned(),
        created_at: now,
        expires_at: b.expires_in_days.map(|d| now + i64::from(d) * 86_400_000),
        last_used_at: None,
    };
    state.store.insert_token(&row).await?;
    state
        .audit(&caller, "create", &format!("token:{}", row.id), &row.name)
        .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken { id: row.id, token }),
    ))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if !state.store.delete_token(&caller.user.id, &id).await? {
        return Err(ApiError::not_found("token"));
    }
    state
        .audit(&caller, "delete", &format!("token:{id}"), "")
        .await;
    Ok(no_content())
}
