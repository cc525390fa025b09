//! Helping with a user task, and its due date. The task's assignee (or a
//! company admin) asks colleagues to help (the LWAMS "指派协助处理人"): a
//! helper sees the task among its to-dos, gets the same mail notice with a
//! signed link as an assignee (`notify.rs`) and may complete it; the
//! assignee keeps it. A helper must be an active user of the same company
//! who may act on tasks. The due date comes from the process (`dueDate`,
//! evaluated when the task was created) and may be changed while the task
//! is open. Every change is audited and told to the live feed.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use baton_runtime::store::{UserRow, UserTaskRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::tasks::{Me, TaskView, changed_task, ensure_open, forbidden, own_task, view};
use crate::AppState;
use crate::auth::{Caller, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path};
use crate::perm::{Function, Grants, Level};

/// A user asked to help with a task.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskHelper {
    /// The user's id.
    pub id: String,
    pub username: String,
    /// The user's display name.
    pub name: String,
}

/// The helpers of some tasks as people know them, by user id.
pub(crate) type People = HashMap<String, TaskHelper>;

/// The users helping with `tasks`; a user deleted since is shown by its id.
pub(crate) async fn people<'a>(
    state: &AppState,
    tasks: impl IntoIterator<Item = &'a UserTaskRow>,
) -> ApiResult<People> {
    let mut out = People::new();
    for t in tasks {
        for id in &t.helpers {
            if out.contains_key(id) {
                continue;
            }
            let helper = match state.store.user(id).await? {
                Some(u) => TaskHelper {
                    id: u.id,
                    username: u.username,
                    name: u.name,
                },
                None => TaskHelper {
                    id: id.clone(),
                    username: id.clone(),
                    name: id.clone(),
                },
            };
            out.insert(id.clone(), helper);
        }
    }
    Ok(out)
}

/// One task's view with its helpers named.
pub(crate) async fn view_one(state: &AppState, t: &UserTaskRow) -> ApiResult<TaskView> {
    Ok(view(t, &people(state, [t]).await?))
}

/// `due` as RFC 3339 (UTC, seconds).
pub(crate) fn rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// 403 unless the caller holds the task or is an admin.
fn assignee_or_admin(me: &Me, t: &UserTaskRow, what: &str, zh: &str) -> ApiResult<()> {
    if me.admin || me.holds(t) {
        return Ok(());
    }
    Err(forbidden(
        &format!("only the task's assignee or an admin may {what}"),
        &format!("只有任务的办理人或管理员可以{zh}"),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelperInput {
    /// The user (id or username) of the caller's company asked to help.
    pub user: String,
}

/// `key` (an id or username) as an active user of the caller's company who
/// may act on tasks; else 400 on `body.user`.
async fn colleague(state: &AppState, caller: &Caller, key: &str) -> ApiResult<UserRow> {
    let bad = |en: String, zh: String| ApiError::invalid("body.user", en, zh);
    if key.is_empty() {
        return Err(bad(
            "name the user (id or username) to ask for help".into(),
            "请指定协助处理人（用户 ID 或用户名）".into(),
        ));
    }
    let mine = |u: &UserRow| u.company_id == caller.company_id() && !u.disabled;
    let user = match state.store.user(key).await?.filter(mine) {
        Some(u) => Some(u),
        None => state
            .store
            .user_by_name(caller.company_id(), key)
            .await?
            .filter(mine),
    }
    .ok_or_else(|| {
        bad(
            format!("no active user `{key}` in your company"),
            format!("你的公司中没有可用的用户「{key}」"),
        )
    })?;
    let may_act = user.admin || {
        let groups = state.store.groups_of(&user.id).await?;
        Grants::from_groups(groups.iter().map(|g| &g.permissions))
            .allows(Function::Tasks, Level::Manage)
    };
    if !may_act {
        return Err(bad(
            format!(
                "{} may not act on tasks (needs the tasks permission at manage)",
                user.username
            ),
            format!("{} 没有办理任务的权限（需要任务的管理权限）", user.username),
        ));
    }
    Ok(user)
}

/// Ask a colleague to help with the task (its assignee or an admin): the
/// helper sees it among its to-dos, is sent a notice, and may complete it.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/helpers", tag = "tasks", params(("id" = String, Path)),
    request_body = HelperInput,
    responses((status = 200, body = TaskView), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_helper(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<HelperInput>,
) -> ApiResult<Json<TaskView>> {
    caller.require(Function::Tasks, Level::Manage)?;
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    assignee_or_admin(&me, &t, "ask for help with it", "指派协助处理人")?;
    let user = colleague(&state, &caller, b.user.trim()).await?;
    let names = [user.id.clone(), user.username.clone()];
    if t.held_by(&names) {
        return Err(ApiError::invalid(
            "body.user",
            format!("{} is the task's assignee", user.username),
            format!("{} 是该任务的办理人", user.username),
        ));
    }
    let added = !t.helped_by(&names)
        && state
            .store
            .add_task_helper(&id, &user.id, &caller.user.id, now_ms())
            .await?;
    if !added {
        return Err(ApiError::invalid(
            "body.user",
            format!("{} already helps with this task", user.username),
            format!("{} 已是该任务的协助处理人", user.username),
        ));
    }
    state
        .audit(
            &caller,
            "add-helper",
            &format!("task:{id}"),
            &format!("user {}", user.username),
        )
        .await;
    Ok(Json(
        view_one(&state, &changed_task(&state, &id).await?).await?,
    ))
}

/// A helper no longer helps with the task (the assignee, an admin, or the
/// helper itself).
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/helpers/{user}", tag = "tasks",
    params(("id" = String, Path), ("user" = String, Path, description = "The helper's user id or username")),
    responses((status = 200, body = TaskView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn remove_helper(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Json<TaskView>> {
    caller.require(Function::Tasks, Level::Manage)?;
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    // The helper by id, else by the username of one of the task's helpers.
    let mut helper = t.helpers.iter().find(|h| **h == user).cloned();
    if helper.is_none()
        && let Some(u) = state.store.user_by_name(caller.company_id(), &user).await?
    {
        helper = t.helpers.iter().find(|h| **h == u.id).cloned();
    }
    let Some(helper) = helper else {
        return Err(ApiError::not_found("helper"));
    };
    if !me.ids.contains(&helper) {
        assignee_or_admin(&me, &t, "remove its helpers", "移除协助处理人")?;
    }
    if !state.store.remove_task_helper(&id, &helper).await? {
        return Err(ApiError::not_found("helper"));
    }
    let name = match state.store.user(&helper).await? {
        Some(u) => u.username,
        None => helper,
    };
    state
        .audit(
            &caller,
            "remove-helper",
            &format!("task:{id}"),
            &format!("user {name}"),
        )
        .await;
    Ok(Json(
        view_one(&state, &changed_task(&state, &id).await?).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DueInput {
    /// An ISO 8601 date-time (UTC without an offset, e.g.
    /// `2026-11-21T10:00:00+08:00`), a date (its midnight, UTC) or a
    /// duration from now (`P2D`, `PT4H`); `null`: no due date.
    #[schema(value_type = Option<String>)]
    pub due: Value,
}

/// Change the task's due date (its assignee or an admin; open tasks only).
#[utoipa::path(put, path = "/api/v1/tasks/{id}/due", tag = "tasks", params(("id" = String, Path)),
    request_body = DueInput,
    responses((status = 200, body = TaskView), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn set_due(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<DueInput>,
) -> ApiResult<Json<TaskView>> {
    caller.require(Function::Tasks, Level::Manage)?;
    let now = now_ms();
    let due = match &b.due {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(baton_core::due_date(now, s).map_err(|e| {
            ApiError::invalid(
                "body.due",
                e,
                format!("「{s}」不是有效的 ISO 8601 时间、日期或时长"),
            )
        })?),
        _ => {
            return Err(ApiError::invalid(
                "body.due",
                "`due` must be a string (a date-time, date or duration) or null",
                "due 须为字符串（时间、日期或时长）或 null",
            ));
        }
    };
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    assignee_or_admin(&me, &t, "change its due date", "修改截止时间")?;
    if !state.store.set_task_due(&id, due).await? {
        // Completed or cancelled meanwhile.
        ensure_open(&state, &super::tasks::reread(&state, &id).await?).await?;
    }
    let shown = due.and_then(rfc3339).unwrap_or_else(|| "none".to_owned());
    state
        .audit(&caller, "set-due", &format!("task:{id}"), &shown)
        .await;
    Ok(Json(
        view_one(&state, &changed_task(&state, &id).await?).await?,
    ))
}
