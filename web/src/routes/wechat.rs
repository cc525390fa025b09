//! Signing in from WeChat (the LWAMS mobile entry): the company's official
//! account menu links to `/?appid=…&companyCode=…`; the mobile page sends a
//! browser without a session to [`entry`], which checks the company and its
//! appid and sends the browser to WeChat's authorisation page (scope
//! `snsapi_base`: no consent screen). WeChat sends it back to [`callback`]
//! with a code; the server trades the code for the visitor's openid. An
//! openid bound to an active user of the company signs in at once (the
//! same session cookie and CSRF token as a password sign-in); an unbound
//! one goes to the mobile sign-in page with a bind ticket, and [`bind`]
//! binds it to the user whose password is given, and signs in.
//!
//! A user sees and drops their own binding (`/api/v1/auth/wechat`); an
//! administrator of users drops anyone's in the company. The protocol
//! details (the signed `state` and ticket, the code exchange) are in
//! [`crate::wechat`].

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_runtime::store::{CompanyRow, UserRow, WeChatBindingRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::session::{Signed, bad_credentials, new_session, session_cookie};
use super::views::UserView;
use crate::AppState;
use crate::auth::{Caller, Via, load, now_ms, sha256_hex, verify_password};
use crate::error::{ApiError, ApiResult, no_content, wants_zh};
use crate::extract::{Body, Path, Query};
use crate::perm::{Function, Level};
use crate::wechat::{self as protocol, ExchangeError, NONCE_COOKIE, NONCE_PATH, Refused, TTL};

/// Where a browser signed in through WeChat lands: the mobile page takes
/// the CSRF token from the fragment and opens the to-do list.
const SIGNED_IN_PAGE: &str = "/m/wechat";
/// The mobile sign-in page (with the bind ticket in the fragment).
const LOGIN_PAGE: &str = "/m/login";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// The company's WeChat official account appid.
    pub appid: String,
    /// The company's code.
    #[serde(rename = "companyCode")]
    #[param(rename = "companyCode")]
    pub company_code: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// WeChat's one-time code.
    pub code: Option<String>,
    /// The `state` this server gave WeChat.
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindInput {
    /// The bind ticket the sign-in page was given (after `#wechat=`).
    pub ticket: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WeChatBinding {
    /// Whether a WeChat account is bound to the caller.
    pub bound: bool,
    /// When it was bound (Unix ms).
    pub bound_at: Option<i64>,
    /// Whether the caller's company has WeChat set up (appid and secret).
    pub configured: bool,
}

fn nonce_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == NONCE_COOKIE && !v.is_empty()).then(|| v.to_owned())
        })
}

fn nonce_cookie(state: &AppState, nonce: &str, max_age: u64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    // Lax: it must come back on WeChat's redirect (a top-level navigation
    // from another site); HttpOnly: the page never needs it.
    HeaderValue::from_str(&format!(
        "{NONCE_COOKIE}={nonce}; HttpOnly; SameSite=Lax; Path={NONCE_PATH}; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(to) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        h.append(header::SET_COOKIE, c);
    }
    r
}

/// A WeChat browser that followed the menu link (it asks for HTML) is shown
/// a failure on the mobile page, in its language, rather than a JSON body;
/// a program still gets the JSON error.
fn for_browser(headers: &HeaderMap, r: ApiResult<Response>) -> ApiResult<Response> {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match r {
        Err(e) if wants_html => {
            let message = if wants_zh(headers) { &e.zh } else { &e.en };
            let fragment = form_urlencoded::Serializer::new(String::new())
                .append_pair("error", e.code)
                .append_pair("message", message)
                .finish();
            Ok(redirect(&format!("{SIGNED_IN_PAGE}#{fragment}"), vec![]))
        }
        r => r,
    }
}

fn now_s() -> i64 {
    now_ms() / 1000
}

/// This server as browsers reach it: `--public-url`, else the request's host.
fn public_base(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(u) = &state.wechat().public_url {
        return Ok(u.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .ok_or_else(|| {
            ApiError::invalid(
                "header.Host",
                "the request names no usable Host (or start the server with --public-url)",
                "请求没有可用的 Host 头（或以 --public-url 启动服务器）",
            )
        })?;
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

fn not_configured(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "wechat_not_configured",
        format!("this company has no WeChat {what} set up (System / Companies)"),
        format!("该公司尚未配置微信 {what}（系统 / 公司）"),
    )
}

fn state_refused(r: Refused) -> ApiError {
    match r {
        Refused::Invalid => ApiError::new(
            StatusCode::BAD_REQUEST,
            "wechat_state_invalid",
            "this WeChat sign-in was not started here, in this browser: open the company's WeChat link again",
            "此次微信登录并非由本浏览器在本系统发起：请重新打开公司的微信链接",
        )
        .field("query.state"),
        Refused::Expired => ApiError::new(
            StatusCode::BAD_REQUEST,
            "wechat_state_expired",
            "this WeChat sign-in took too long: open the company's WeChat link again",
            "此次微信登录已超时：请重新打开公司的微信链接",
        )
        .field("query.state"),
    }
}

fn ticket_refused(r: Refused) -> ApiError {
    match r {
        Refused::Invalid => ApiError::new(
            StatusCode::BAD_REQUEST,
            "wechat_ticket_invalid",
            "this WeChat binding was not started here, in this browser: open the company's WeChat link again",
            "此次微信绑定并非由本浏览器在本系统发起：请重新打开公司的微信链接",
        )
        .field("body.ticket"),
        Refused::Expired => ApiError::new(
            StatusCode::BAD_REQUEST,
            "wechat_ticket_expired",
            "this WeChat binding took too long: open the company's WeChat link again",
            "此次微信绑定已超时：请重新打开公司的微信链接",
        )
        .field("body.ticket"),
    }
}

/// Start signing in from WeChat: the company must exist and its WeChat
/// settings name this appid; the browser goes to WeChat's authorisation
/// page (302), with a signed `state` and a cookie tying it to this browser.
#[utoipa::path(get, path = "/api/v1/wechat/entry", tag = "auth", params(EntryQuery),
    responses((status = 302, description = "To WeChat's authorisation page"),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn entry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<EntryQuery>,
) -> ApiResult<Response> {
    let r = start_entry(&state, &headers, &q).await;
    for_browser(&headers, r)
}

async fn start_entry(state: &AppState, headers: &HeaderMap, q: &EntryQuery) -> ApiResult<Response> {
    let company = state
        .store
        .company_by_code(q.company_code.trim())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no company has the code `{}`", q.company_code),
                format!("没有代码为「{}」的公司", q.company_code),
            )
            .field("query.companyCode")
        })?;
    if company.wechat_appid.is_empty() {
        return Err(not_configured("appid"));
    }
    if company.wechat_appid != q.appid.trim() {
        return Err(ApiError::invalid(
            "query.appid",
            format!(
                "the appid is not the one company `{}` has set up",
                company.code
            ),
            format!("该 appid 与公司「{}」配置的不一致", company.code),
        ));
    }
    if company.wechat_secret_enc.is_none() {
        return Err(not_configured("appsecret"));
    }
    let nonce = protocol::new_nonce();
    let st = protocol::sign_state(
        &state.key,
        &company.id,
        &nonce,
        now_s() + TTL.as_secs() as i64,
    );
    if !protocol::state_fits(&st) {
        return Err(ApiError::internal(format!(
            "the WeChat state for company {} is {} bytes, over WeChat's 128",
            company.id,
            st.len()
        )));
    }
    let back = format!("{}/api/v1/wechat/callback", public_base(state, headers)?);
    let to = protocol::authorize_url(&state.wechat().open_base, &company.wechat_appid, &back, &st)
        .map_err(ApiError::internal)?;
    Ok(redirect(
        &to,
        vec![nonce_cookie(state, &nonce, TTL.as_secs() + 300)],
    ))
}

/// The app secret of a company, opened.
fn secret_of(state: &AppState, company: &CompanyRow) -> ApiResult<baton_nodes::Secret> {
    let enc = company
        .wechat_secret_enc
        .as_deref()
        .ok_or_else(|| not_configured("appsecret"))?;
    state.key.decrypt(enc).map_err(|e| {
        ApiError::internal(format!(
            "company {}: the WeChat appsecret does not open under this master key: {e}",
            company.id
        ))
    })
}

fn exchange_failed(company: &CompanyRow, e: ExchangeError) -> ApiError {
    tracing::warn!(company = company.code, "WeChat sign-in: {e:?}");
    let bad_code = e.bad_code();
    match e {
        ExchangeError::Refused { errcode, errmsg } if bad_code => {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "wechat_code_invalid",
                format!("WeChat did not accept the sign-in code (errcode {errcode}: {errmsg}): open the company's WeChat link again"),
                format!("微信未接受登录码（errcode {errcode}：{errmsg}）：请重新打开公司的微信链接"),
            )
            .field("query.code")
        }
        ExchangeError::Refused { errcode, errmsg } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "wechat_refused",
            format!("WeChat refused this server (errcode {errcode}: {errmsg}): check the company's WeChat appid and appsecret"),
            format!("微信拒绝了本服务器的请求（errcode {errcode}：{errmsg}）：请检查公司的微信 appid 和 appsecret"),
        ),
        ExchangeError::Failed(m) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "wechat_unreachable",
            format!("WeChat could not be asked who this is: {m}"),
            format!("无法向微信确认访问者身份：{m}"),
        ),
    }
}

/// A session for `user` (signed in by `how`), audited like a password
/// sign-in: its id, its CSRF token, the user as a caller.
async fn start_session(
    state: &AppState,
    user: &UserRow,
    how: &str,
) -> ApiResult<(String, String, Caller)> {
    let (sid, csrf) = new_session(state, &user.id).await?;
    let caller = load(
        state,
        &user.id,
        Via::Session {
            id_hash: sha256_hex(&sid),
        },
    )
    .await?
    .ok_or_else(bad_credentials)?;
    state
        .audit(&caller, "login", &format!("user:{}", user.id), how)
        .await;
    Ok((sid, csrf, caller))
}

/// WeChat sends the browser back here with a code. A bound openid signs
/// in (302 to the mobile page, the CSRF token in its fragment); an unbound
/// one is sent to the mobile sign-in page with a bind ticket.
#[utoipa::path(get, path = "/api/v1/wechat/callback", tag = "auth", params(CallbackQuery),
    responses((status = 302, description = "Signed in (to the mobile page), or to the sign-in page to bind"),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody)))]
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let r = finish_callback(&state, &headers, &q).await;
    for_browser(&headers, r)
}

async fn finish_callback(
    state: &AppState,
    headers: &HeaderMap,
    q: &CallbackQuery,
) -> ApiResult<Response> {
    let st = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| state_refused(Refused::Invalid))?;
    let nonce = nonce_of(headers).ok_or_else(|| state_refused(Refused::Invalid))?;
    let company_id =
        protocol::verify_state(&state.key, st, &nonce, now_s()).map_err(state_refused)?;
    let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(ApiError::invalid(
            "query.code",
            "WeChat sent no sign-in code (was the authorisation cancelled?)",
            "微信未返回登录码（授权是否被取消？）",
        ));
    };
    let company = state
        .store
        .company(&company_id)
        .await?
        .ok_or_else(|| state_refused(Refused::Invalid))?;
    let secret = secret_of(state, &company)?;
    let openid = protocol::exchange_code(
        &state.wechat().api_base,
        &company.wechat_appid,
        &secret,
        code,
    )
    .await
    .map_err(|e| exchange_failed(&company, e))?;

    if let Some(b) = state.store.wechat_binding(&company.id, &openid).await? {
        match state.store.user(&b.user_id).await? {
            Some(u) if u.company_id == company.id && u.disabled => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "wechat_user_disabled",
                    "the user this WeChat account is bound to is disabled",
                    "该微信账号绑定的用户已停用",
                ));
            }
            Some(u) if u.company_id == company.id => {
                let (sid, csrf, _) = start_session(state, &u, "via WeChat").await?;
                return Ok(redirect(
                    &format!("{SIGNED_IN_PAGE}#csrf={csrf}"),
                    vec![
                        session_cookie(state, &sid, crate::auth::SESSION_TTL.as_secs()),
                        nonce_cookie(state, "", 0),
                    ],
                ));
            }
            // The user is gone: the binding goes with it.
            _ => {
                state
                    .store
                    .unbind_wechat_openid(&company.id, &openid)
                    .await?;
            }
        }
    }
    let ticket = protocol::sign_ticket(
        &state.key,
        &protocol::Ticket {
            company_id: company.id.clone(),
            openid,
        },
        &nonce,
        now_s() + TTL.as_secs() as i64,
    );
    Ok(redirect(
        &format!("{LOGIN_PAGE}?company={}#wechat={ticket}", company.code),
        vec![nonce_cookie(state, &nonce, TTL.as_secs() + 60)],
    ))
}

/// Bind the WeChat account of a bind ticket to the user whose username and
/// password are given (in the ticket's company), and sign in as that user.
/// A user bound before gets this account instead.
#[utoipa::path(post, path = "/api/v1/wechat/bind", tag = "auth", request_body = BindInput,
    responses((status = 200, body = Signed), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn bind(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(b): Body<BindInput>,
) -> ApiResult<Response> {
    let nonce = nonce_of(&headers).ok_or_else(|| ticket_refused(Refused::Invalid))?;
    let t = protocol::verify_ticket(&state.key, b.ticket.trim(), &nonce, now_s())
        .map_err(ticket_refused)?;
    let company = state
        .store
        .company(&t.company_id)
        .await?
        .ok_or_else(|| ticket_refused(Refused::Invalid))?;
    // The password sign-in's limiter: binding is no way around it.
    let key = format!("{}\u{0}{}", company.code, b.username);
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
    let user = state
        .store
        .user_by_name(&company.id, b.username.trim())
        .await?
        .filter(|u| !u.disabled && verify_password(&b.password, &u.password_hash));
    let Some(user) = user else {
        state.limiter.failed(&key);
        tracing::warn!(
            company = company.code,
            username = b.username,
            "failed sign-in (WeChat binding)"
        );
        return Err(bad_credentials());
    };
    state.limiter.succeeded(&key);
    let replaced = state
        .store
        .bind_wechat(&WeChatBindingRow {
            company_id: company.id.clone(),
            openid: t.openid.clone(),
            user_id: user.id.clone(),
            bound_at: now_ms(),
        })
        .await
        .map_err(|e| match e {
            baton_runtime::store::Error::Conflict { .. } => ApiError::conflict(
                "this WeChat account is bound to another user: that user (or an administrator) must unbind it first",
                "该微信账号已绑定其他用户：须由该用户（或管理员）先解除绑定",
            ),
            other => other.into(),
        })?;
    let (sid, csrf, caller) = start_session(&state, &user, "via WeChat binding").await?;
    let detail = if replaced.is_some() {
        "bound a WeChat account (replacing the earlier one)"
    } else {
        "bound a WeChat account"
    };
    state
        .audit(&caller, "wechat-bind", &format!("user:{}", user.id), detail)
        .await;
    let mut r = Json(Signed {
        must_change_password: user.must_change_password,
        user: UserView::of(&user).with_wechat(true),
        csrf_token: csrf,
    })
    .into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        session_cookie(&state, &sid, crate::auth::SESSION_TTL.as_secs()),
    );
    h.append(header::SET_COOKIE, nonce_cookie(&state, "", 0));
    Ok(r)
}

/// Whether a WeChat account is bound to the caller.
#[utoipa::path(get, path = "/api/v1/auth/wechat", tag = "auth",
    responses((status = 200, body = WeChatBinding)))]
pub async fn my_binding(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<WeChatBinding>> {
    let b = state
        .store
        .wechat_binding_of_user(caller.company_id(), &caller.user.id)
        .await?;
    Ok(Json(WeChatBinding {
        bound: b.is_some(),
        bound_at: b.map(|b| b.bound_at),
        configured: !caller.company.wechat_appid.is_empty()
            && caller.company.wechat_secret_enc.is_some(),
    }))
}

fn none_bound() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no WeChat account is bound to this user",
        "该用户未绑定微信账号",
    )
}

/// Unbind the caller's WeChat account.
#[utoipa::path(delete, path = "/api/v1/auth/wechat", tag = "auth",
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unbind_mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    if !state
        .store
        .unbind_wechat_user(caller.company_id(), &caller.user.id)
        .await?
    {
        return Err(none_bound());
    }
    state
        .audit(
            &caller,
            "wechat-unbind",
            &format!("user:{}", caller.user.id),
            "unbound own WeChat account",
        )
        .await;
    Ok(no_content())
}

/// Unbind a user's WeChat account (administrators of users).
#[utoipa::path(delete, path = "/api/v1/users/{id}/wechat", tag = "system", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unbind_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Users, Level::Manage)?;
    let user = state
        .store
        .user(&id)
        .await?
        .filter(|u| u.company_id == caller.company_id())
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !state
        .store
        .unbind_wechat_user(caller.company_id(), &user.id)
        .await?
    {
        return Err(none_bound());
    }
    state
        .audit(
            &caller,
            "wechat-unbind",
            &format!("user:{}", user.id),
            &user.username,
        )
        .await;
    Ok(no_content())
}
