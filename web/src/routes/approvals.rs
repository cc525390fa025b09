//! Approvals anywhere: a signed link that opens one task on the mobile page
//! and completes it without signing in.
//!
//! A link is `NONCE.SIGNATURE`: the nonce names a row of `approval_links`
//! (task, user, expiry), and the signature is an HMAC under a key derived
//! from the master key over exactly those fields. So a link is checked three
//! ways — it must be the server's (signature), unexpired, and unused — and
//! a used, expired or forged one says which plainly. Completing through a
//! link marks it used first (a conditional update: two taps, one
//! completion) and acts as the link's user, with that user's permissions,
//! through the same path as `POST /api/v1/tasks/{id}/complete`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_runtime::store::ApprovalLinkRow;
use baton_runtime::tenancy::company_of;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tasks::{CompleteInput, TaskDetail};
use crate::AppState;
use crate::auth::{Caller, Via, load, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::perm::{Function, Level};

/// What the signature covers besides the nonce.
const PURPOSE: &str = "approval-link";
/// How long a link lives unless the issuer says otherwise.
pub(crate) const DEFAULT_HOURS: u32 = 72;
/// The longest a link may live.
const MAX_HOURS: u32 = 24 * 30;

fn signed_text(l: &ApprovalLinkRow) -> String {
    format!("{}|{}|{}|{}", l.id, l.task_id, l.user_id, l.expires_at)
}

/// The link text for a stored row.
fn token_of(state: &AppState, l: &ApprovalLinkRow) -> String {
    format!("{}.{}", l.id, state.key.sign(PURPOSE, &signed_text(l)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkInput {
    /// How long the link works, in hours (1–720; default 72).
    pub hours: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalLink {
    /// The link's secret part; shown only now.
    pub token: String,
    /// The mobile page that opens it (relative to this server).
    pub url: String,
    /// Unix ms.
    pub expires_at: i64,
    /// The user who acts through it (the task's assignee).
    pub user_id: String,
}

/// Issue a signed link for the task's assignee (the assignee or an admin
/// asks). The link opens the task on the mobile page and completes it once.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/link", tag = "tasks", params(("id" = String, Path)),
    request_body = LinkInput,
    responses((status = 201, body = ApprovalLink), (status = 409, body = crate::error::ErrorBody)))]
pub async fn issue_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<LinkInput>,
) -> ApiResult<(StatusCode, Json<ApprovalLink>)> {
    caller.require(Function::Tasks, Level::Manage)?;
    let hours = b.hours.unwrap_or(DEFAULT_HOURS);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(ApiError::invalid(
            "body.hours",
            format!("a link lives 1 to {MAX_HOURS} hours, not {hours}"),
            format!("链接有效期须为 1 到 {MAX_HOURS} 小时，而不是 {hours}"),
        ));
    }
    let t = super::tasks::task_for(&state, &caller, &id).await?;
    // A helper acts on the task, but never through a link of the assignee's.
    let me = [caller.user.id.clone(), caller.user.username.clone()];
    if !caller.user.admin && t.assignee.is_some() && !t.held_by(&me) {
        return Err(super::tasks::forbidden(
            "only the task's assignee or an admin may issue its link",
            "只有任务的办理人或管理员可以生成审批链接",
        ));
    }
    let Some(assignee) = t.assignee.clone() else {
        return Err(ApiError::conflict(
            "the task is not assigned to anybody: a link acts for its assignee",
            "该任务尚无办理人：链接代表办理人办理",
        ));
    };
    // The assignee as a user of the company (a process may name a username).
    let user = match state.store.user(&assignee).await? {
        Some(u) if u.company_id == caller.company_id() => Some(u),
        _ => {
            state
                .store
                .user_by_name(caller.company_id(), &assignee)
                .await?
        }
    }
    .filter(|u| !u.disabled)
    .ok_or_else(|| {
        ApiError::conflict(
            format!("the assignee `{assignee}` is no active user of this company"),
            format!("办理人「{assignee}」不是本公司的有效用户"),
        )
    })?;
    let link = issue(&state, caller.company_id(), &t.id, &user.id, hours).await?;
    state
        .audit(&caller, "link", &format!("task:{}", t.id), &user.username)
        .await;
    Ok((StatusCode::CREATED, Json(link)))
}

/// Issues (stores and signs) a link to `task_id` for `user_id`.
pub(crate) async fn issue(
    state: &AppState,
    company: &str,
    task_id: &str,
    user_id: &str,
    hours: u32,
) -> ApiResult<ApprovalLink> {
    let now = now_ms();
    let row = ApprovalLinkRow {
        id: crate::auth::random_secret()
            .replace(['+', '/'], "-")
            .trim_end_matches('=')
            .to_owned(),
        company_id: company.to_owned(),
        task_id: task_id.to_owned(),
        user_id: user_id.to_owned(),
        created_at: now,
        expires_at: now + i64::from(hours) * 3_600_000,
        used_at: None,
    };
    state.store.insert_approval_link(&row).await?;
    let token = token_of(state, &row);
    Ok(ApprovalLink {
        url: format!("/m/approve#{token}"),
        token,
        expires_at: row.expires_at,
        user_id: row.user_id,
    })
}

fn gone(code: &'static str, en: &str, zh: &str) -> ApiError {
    ApiError::new(StatusCode::GONE, code, en, zh)
}

/// The stored row of a link that is the server's, unexpired and unused.
pub(crate) async fn check(state: &AppState, token: &str) -> ApiResult<ApprovalLinkRow> {
    let invalid = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "link_invalid",
            "this approval link is not valid (mistyped, or not from this server)",
            "该审批链接无效（输入有误，或并非本系统签发）",
        )
    };
    let (nonce, sig) = token.split_once('.').ok_or_else(invalid)?;
    let row = state
        .store
        .approval_link(nonce)
        .await?
        .ok_or_else(invalid)?;
    if !state.key.verify(PURPOSE, &signed_text(&row), sig) {
        return Err(invalid());
    }
    if row.used_at.is_some() {
        return Err(gone(
            "link_used",
            "this approval link was already used: the task is done",
            "该审批链接已使用：任务已办理",
        ));
    }
    if now_ms() >= row.expires_at {
        return Err(gone(
            "link_expired",
            "this approval link has expired: open the task from your to-do list",
            "该审批链接已过期：请从待办列表打开任务",
        ));
    }
    Ok(row)
}

/// The link's user, as a caller (with that user's permissions).
pub(crate) async fn acting(state: &AppState, row: &ApprovalLinkRow) -> ApiResult<Caller> {
    let caller = load(state, &row.user_id, Via::Link { id: row.id.clone() })
        .await?
        .filter(|c| c.company_id() == row.company_id)
        .ok_or_else(|| {
            gone(
                "link_user_gone",
                "the user this link was issued to can no longer act",
                "该链接的用户已无法办理",
            )
        })?;
    Ok(caller)
}

/// What a link opens: the task with its instance and the variables its
/// form needs. No sign-in: the link is the credential.
#[utoipa::path(get, path = "/api/v1/approvals/{token}", tag = "tasks", params(("token" = String, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody)))]
pub async fn open_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<TaskDetail>> {
    let row = check(&state, &token).await?;
    let caller = acting(&state, &row).await?;
    let t = super::tasks::task_for(&state, &caller, &row.task_id).await?;
    debug_assert_eq!(company_of(&t.definition_id), row.company_id);
    Ok(Json(super::tasks::detail(&state, t).await?))
}

/// Complete the task through the link (once): as `POST
/// /api/v1/tasks/{id}/complete` by the link's user.
#[utoipa::path(post, path = "/api/v1/approvals/{token}/complete", tag = "tasks", params(("token" = String, Path)),
    request_body = CompleteInput,
    responses((status = 200, body = TaskDetail), (status = 202, body = TaskDetail),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 410, body = crate::error::ErrorBody)))]
pub async fn complete_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Body<CompleteInput>,
) -> ApiResult<(StatusCode, Json<TaskDetail>)> {
    let row = check(&state, &token).await?;
    let caller = acting(&state, &row).await?;
    if !state.store.use_approval_link(&row.id, now_ms()).await? {
        return Err(gone(
            "link_used",
            "this approval link was already used: the task is done",
            "该审批链接已使用：任务已办理",
        ));
    }
    let done = super::tasks::complete(
        State(state.clone()),
        caller,
        Path(row.task_id.clone()),
        body,
    )
    .await;
    if done.is_err() {
        // Nothing was completed: the link works again.
        state.store.unuse_approval_link(&row.id).await?;
    }
    done
}
