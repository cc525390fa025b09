//! User tasks (approvals, to-dos): the caller's to-do and done lists, one
//! task with what its form needs, claim, delegate, complete.
//!
//! A task is visible to its assignee, to the members of its candidate
//! groups, to whoever delegated or completed it, and to the company's
//! admins; to anybody else it does not exist (404). To-do lists show the
//! tasks the caller holds and the unassigned ones offered to its groups. Only the
//! assignee (or an admin) delegates or completes it; a candidate claims it
//! first. Every change is a conditional update of the row (see
//! `baton_runtime::store::tasks`): of two concurrent claims or completions
//! one wins and the other gets a 409. Completing sends the form values to
//! the engine as the task's result and answers once the instance has moved on.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_core::{Command, Wait};
use baton_runtime::engine::Persisted;
use baton_runtime::store::{InstanceRow, TaskScope, UserRow, UserTaskRow};
use baton_runtime::tenancy::{bare, company_of};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::instances::{InstanceView, row_view};
use super::processes::{engine, engine_error};
use super::task_helpers::{People, TaskHelper, people, rfc3339, view_one};
use crate::AppState;
use crate::auth::{Caller, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

/// How long a completion waits for the engine to commit it before answering 202.
const APPLY_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    /// `instanceId:exec`.
    pub id: String,
    pub name: Option<String>,
    /// The user task's element id in the process.
    pub element_id: String,
    pub instance_id: String,
    /// The process key.
    pub process: String,
    pub process_name: Option<String>,
    pub version: i32,
    /// The instance's status.
    pub instance_status: String,
    /// A user id (or, as the process names it, a username); none: unclaimed.
    pub assignee: Option<String>,
    /// Groups whose members may claim it while it is unassigned.
    pub candidate_groups: Vec<String>,
    pub form_key: Option<String>,
    /// `open`, `completed`, `cancelled`.
    pub state: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// Who delegated it to its assignee (a user id).
    pub delegated_by: Option<String>,
    /// Who completed it (a user id).
    pub completed_by: Option<String>,
    /// The form values submitted with the completion.
    #[schema(value_type = Option<Object>)]
    pub values: Option<Value>,
    /// When it is due (RFC 3339, UTC); none: no due date.
    pub due: Option<String>,
    /// Open and past its due date.
    pub overdue: bool,
    /// The users asked to help: each sees it among its to-dos and may complete it.
    pub helpers: Vec<TaskHelper>,
}

/// `people`: the task's helpers by user id ([`super::task_helpers::people`]).
pub(crate) fn view(t: &UserTaskRow, people: &People) -> TaskView {
    let (key, version) = t
        .definition_id
        .rsplit_once(':')
        .unwrap_or((&t.definition_id, "0"));
    TaskView {
        id: t.id.clone(),
        name: t.name.clone(),
        element_id: t.element_id.clone(),
        instance_id: t.instance_id.clone(),
        process: bare(key).to_owned(),
        process_name: t.process_name.clone(),
        version: version.parse().unwrap_or(0),
        instance_status: t.instance_status.clone(),
        assignee: t.assignee.clone(),
        candidate_groups: t.candidate_groups.clone(),
        form_key: t.form_key.clone(),
        state: t.state.clone(),
        created_at: t.created_at,
        ended_at: t.ended_at,
        delegated_by: t.delegated_by.clone(),
        completed_by: t.completed_by.clone(),
        values: t.values.clone(),
        due: t.due_at.and_then(rfc3339),
        overdue: t.overdue(now_ms()),
        helpers: t
            .helpers
            .iter()
            .filter_map(|h| people.get(h).cloned())
            .collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    pub instance: InstanceView,
    /// The variables visible to the task (what its form shows and edits).
    #[schema(value_type = Object)]
    pub variables: Value,
    /// The stored form its form key names (`key`, `name`, `fields`), so a
    /// page can show it to whoever may act on the task (an approval link
    /// included) without forms permissions; `null` when none is stored.
    #[schema(value_type = Object)]
    pub form: Option<Value>,
}

/// Who the caller is to tasks: the names a process may give it (id,
/// username), its groups (ids and names), whether it is a company admin.
pub(crate) struct Me {
    pub(crate) ids: Vec<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) admin: bool,
}

impl Me {
    pub(crate) async fn of(state: &AppState, caller: &Caller) -> ApiResult<Me> {
        let mut ids = vec![caller.user.id.clone()];
        if caller.user.username != caller.user.id {
            ids.push(caller.user.username.clone());
        }
        let groups = state
            .store
            .groups_of(&caller.user.id)
            .await?
            .into_iter()
            .flat_map(|g| [g.id, g.name])
            .collect();
        Ok(Me {
            ids,
            groups,
            admin: caller.user.admin,
        })
    }

    fn is(&self, who: Option<&String>) -> bool {
        who.is_some_and(|w| self.ids.contains(w))
    }

    pub(crate) fn holds(&self, t: &UserTaskRow) -> bool {
        self.is(t.assignee.as_ref())
    }

    /// Among the task's helpers.
    pub(crate) fn helps(&self, t: &UserTaskRow) -> bool {
        t.helped_by(&self.ids)
    }

    /// Unassigned, open, and offered to one of the caller's groups.
    fn may_claim(&self, t: &UserTaskRow) -> bool {
        t.state == "open" && t.assignee.is_none() && t.offered_to(&self.groups)
    }

    fn may_see(&self, t: &UserTaskRow) -> bool {
        self.admin
            || self.holds(t)
            || self.is(t.delegated_by.as_ref())
            || self.is(t.completed_by.as_ref())
            || t.offered_to(&self.groups)
            || self.helps(t)
    }
}

/// The task, if it is of the caller's company and visible to the caller; else 404.
pub(crate) async fn own_task(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(UserTaskRow, Me)> {
    let me = Me::of(state, caller).await?;
    let task = state
        .store
        .user_task(id)
        .await?
        .filter(|t| {
            let key = t.definition_id.rsplit_once(':').map_or("", |x| x.0);
            company_of(key) == caller.company_id() && me.may_see(t)
        })
        .ok_or_else(|| ApiError::not_found("task"))?;
    Ok((task, me))
}

/// A user id as people know it: the username, else the id itself.
async fn who(state: &AppState, id: &str) -> String {
    match state.store.user(id).await {
        Ok(Some(u)) => u.username,
        _ => id.to_owned(),
    }
}

/// 409 unless the task is open.
pub(crate) async fn ensure_open(state: &AppState, t: &UserTaskRow) -> ApiResult<()> {
    match (t.state.as_str(), &t.completed_by) {
        ("open", _) => Ok(()),
        ("completed", Some(by)) => {
            let by = who(state, by).await;
            Err(ApiError::conflict(
                format!("the task was already completed by {by}"),
                format!("该任务已由 {by} 完成"),
            ))
        }
        (s, _) => Err(ApiError::conflict(
            format!("the task is {s}, not open"),
            format!("该任务状态为 {s}，不可办理"),
        )),
    }
}

/// The 409 for a conditional update that changed nothing: what the task is now.
async fn changed(state: &AppState, id: &str) -> ApiError {
    let now = match state.store.user_task(id).await {
        Ok(Some(t)) => t,
        Ok(None) => return ApiError::not_found("task"),
        Err(e) => return e.into(),
    };
    if let Err(e) = ensure_open(state, &now).await {
        return e;
    }
    match &now.assignee {
        Some(a) => {
            let a = who(state, a).await;
            ApiError::conflict(
                format!("the task is now assigned to {a}"),
                format!("该任务已由 {a} 办理"),
            )
        }
        None => ApiError::conflict(
            "the task changed meanwhile; read it again",
            "该任务已被修改，请刷新后重试",
        ),
    }
}

pub(crate) fn forbidden(en: &str, zh: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", en, zh)
}

fn claim_first() -> ApiError {
    ApiError::conflict(
        "the task is not assigned to anybody: claim it first",
        "该任务尚未被认领，请先认领",
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TaskQuery {
    /// `todo` (default): open tasks the caller holds or may claim; `done`:
    /// tasks the caller completed; `all`: both and the tasks the caller
    /// delegated (a company admin: every task of the company).
    pub view: Option<String>,
    pub offset: Option<u64>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    /// `createdAt`, `endedAt`, `name`, `process`, `due` (`-` first:
    /// descending; by `due`, tasks without one sort after every date).
    /// Default: newest first.
    pub sort: Option<String>,
    /// A case-insensitive substring of the task's name, element id or process.
    pub q: Option<String>,
    /// `true`: only open tasks past their due date; `false`: only the others.
    pub overdue: Option<String>,
}

/// The caller's to-dos, done tasks, or all of them.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = Page<TaskView>)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Page<TaskView>>> {
    caller.require(Function::Tasks, Level::View)?;
    let me = Me::of(&state, &caller).await?;
    let scope = match q.view.as_deref().unwrap_or("todo") {
        "todo" => TaskScope::Todo {
            me: &me.ids,
            groups: &me.groups,
        },
        "done" => TaskScope::Done { me: &me.ids },
        "all" if me.admin => TaskScope::All,
        "all" => TaskScope::Mine {
            me: &me.ids,
            groups: &me.groups,
        },
        other => {
            return Err(ApiError::invalid(
                "query.view",
                format!("`{other}` is not a view (todo, done or all)"),
                format!("「{other}」不是有效的视图（todo、done 或 all）"),
            ));
        }
    };
    let overdue = match q.overdue.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(
                "query.overdue",
                format!("`{other}` is not true or false"),
                format!("「{other}」须为 true 或 false"),
            ));
        }
    };
    let mut tasks = state.store.list_tasks(caller.company_id(), scope).await?;
    if let Some(want) = overdue {
        let now = now_ms();
        tasks.retain(|t| t.overdue(now) == want);
    }
    let people = people(&state, &tasks).await?;
    let params = ListParams {
        offset: q.offset,
        limit: q.limit,
        sort: q.sort,
        q: q.q,
    };
    Ok(Json(params.apply(
        tasks.iter().map(|t| view(t, &people)).collect(),
        |t| {
            format!(
                "{} {} {} {}",
                t.name.clone().unwrap_or_default(),
                t.element_id,
                t.process,
                t.process_name.clone().unwrap_or_default()
            )
        },
        &[
            ("createdAt", |t| format!("{:020}", t.created_at)),
            ("endedAt", |t| format!("{:020}", t.ended_at.unwrap_or(0))),
            ("name", |t| t.name.clone().unwrap_or_default()),
            ("process", |t| t.process.clone()),
            // RFC 3339 in UTC sorts as time; none: last.
            ("due", |t| t.due.clone().unwrap_or_else(|| "~".to_owned())),
        ],
    )?))
}

/// The task with its instance and the variables its form needs.
pub(crate) async fn detail(state: &AppState, t: UserTaskRow) -> ApiResult<TaskDetail> {
    let row = state
        .store
        .load_instance(&t.instance_id)
        .await?
        .ok_or_else(|| ApiError::not_found("instance"))?;
    let p = persisted(&row)?;
    let exec = u32::try_from(t.exec).map_err(ApiError::internal)?;
    let form = match t.form_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => state
            .store
            .form_by_key(company_of(&t.definition_id), key)
            .await?
            .map(|f| serde_json::json!({"key": f.key, "name": f.name, "fields": f.fields})),
        None => None,
    };
    Ok(TaskDetail {
        task: view_one(state, &t).await?,
        instance: row_view(&row),
        variables: Value::Object(baton_core::visible_vars(&p.state, exec)),
        form,
    })
}

fn persisted(row: &InstanceRow) -> ApiResult<Persisted> {
    serde_json::from_slice(&row.state).map_err(ApiError::internal)
}

/// Whether the instance still waits for the task's completion.
fn waits(row: &InstanceRow, exec: u32) -> ApiResult<bool> {
    Ok(row.status == "running"
        && persisted(row)?
            .state
            .execs
            .iter()
            .any(|e| e.id == exec && matches!(e.wait, Wait::Task)))
}

/// One task, with its instance, process and the variables its form needs.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TaskDetail>> {
    caller.require(Function::Tasks, Level::View)?;
    let (t, _) = own_task(&state, &caller, &id).await?;
    Ok(Json(detail(&state, t).await?))
}

/// An open task the caller holds (or any open task of its company, for an
/// admin): what acting on it through a link needs.
pub(crate) async fn task_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<UserTaskRow> {
    let (t, me) = own_task(state, caller, id).await?;
    ensure_open(state, &t).await?;
    if !me.admin && !me.holds(&t) && !me.helps(&t) {
        return Err(if t.assignee.is_none() {
            claim_first()
        } else {
            forbidden(
                "only the task's assignee, its helpers or an admin may act on it",
                "只有任务的办理人、协助处理人或管理员可以办理",
            )
        });
    }
    Ok(t)
}

/// The task as stored now (after a change).
pub(crate) async fn reread(state: &AppState, id: &str) -> ApiResult<UserTaskRow> {
    state
        .store
        .user_task(id)
        .await?
        .ok_or_else(|| ApiError::not_found("task"))
}

/// Rereads a task changed through the API and tells the live feed.
pub(crate) async fn changed_task(state: &AppState, id: &str) -> ApiResult<UserTaskRow> {
    let t = reread(state, id).await?;
    if let Some(engine) = state.engine.get() {
        engine
            .feed()
            .publish(vec![baton_runtime::feed::Change::Task {
                company: company_of(&t.definition_id).to_owned(),
                id: t.id.clone(),
                instance_id: t.instance_id.clone(),
                state: t.state.clone(),
                assignee: t.assignee.clone(),
                candidate_groups: t.candidate_groups.clone(),
                helpers: t.helpers.clone(),
            }]);
    }
    Ok(t)
}

/// Take an unassigned task offered to one of the caller's groups (an admin: any).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/claim", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TaskView>> {
    caller.require(Function::Tasks, Level::Manage)?;
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    if let Some(a) = &t.assignee {
        let (en, zh) = if me.holds(&t) {
            (
                "you have already claimed this task".to_owned(),
                "你已认领该任务".to_owned(),
            )
        } else {
            let a = who(&state, a).await;
            (
                format!("the task was already claimed by {a}"),
                format!("该任务已被 {a} 认领"),
            )
        };
        return Err(ApiError::conflict(en, zh));
    }
    if !me.admin && !me.may_claim(&t) {
        return Err(forbidden(
            "the task is not offered to any of your groups",
            "该任务未分配给你所在的组",
        ));
    }
    if !state.store.claim_task(&id, &caller.user.id).await? {
        return Err(changed(&state, &id).await);
    }
    state
        .audit(&caller, "claim", &format!("task:{id}"), "")
        .await;
    Ok(Json(
        view_one(&state, &changed_task(&state, &id).await?).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegateInput {
    /// The user (id or username) of the caller's company who takes the task over.
    pub user_id: String,
}

/// A user of the caller's company who may act, by id or username; else 400 on `body.userId`.
async fn colleague(state: &AppState, caller: &Caller, key: &str) -> ApiResult<UserRow> {
    let mine = |u: &UserRow| u.company_id == caller.company_id() && !u.disabled;
    let found = match state.store.user(key).await?.filter(mine) {
        Some(u) => Some(u),
        None => state
            .store
            .user_by_name(caller.company_id(), key)
            .await?
            .filter(mine),
    };
    found.ok_or_else(|| {
        ApiError::invalid(
            "body.userId",
            format!("no active user `{key}` in your company"),
            format!("你的公司中没有可用的用户「{key}」"),
        )
    })
}

/// Hand the task to another user of the company (the assignee or an admin);
/// the delegate then acts on it, and the task remembers who delegated it.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/delegate", tag = "tasks", params(("id" = String, Path)),
    request_body = DelegateInput,
    responses((status = 200, body = TaskView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delegate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<DelegateInput>,
) -> ApiResult<Json<TaskView>> {
    caller.require(Function::Tasks, Level::Manage)?;
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    if !me.admin && !me.holds(&t) {
        return Err(if t.assignee.is_none() {
            claim_first()
        } else {
            forbidden(
                "only the task's assignee or an admin may delegate it",
                "只有任务的办理人或管理员可以转办",
            )
        });
    }
    let to = colleague(&state, &caller, b.user_id.trim()).await?;
    if t.assignee
        .as_ref()
        .is_some_and(|a| *a == to.id || *a == to.username)
    {
        return Err(ApiError::invalid(
            "body.userId",
            format!("the task is already assigned to {}", to.username),
            format!("该任务已由 {} 办理", to.username),
        ));
    }
    let done = state
        .store
        .delegate_task(&id, t.assignee.as_deref(), &to.id, &caller.user.id)
        .await?;
    if !done {
        return Err(changed(&state, &id).await);
    }
    state
        .audit(
            &caller,
            "delegate",
            &format!("task:{id}"),
            &format!("to {}", to.username),
        )
        .await;
    Ok(Json(
        view_one(&state, &changed_task(&state, &id).await?).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompleteInput {
    /// The form's values (an object): they become process variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Option<Value>,
}

/// Complete the task (its assignee or an admin): the form values become
/// process variables and the instance moves on. When the task's form key
/// names a stored form of the company, the values must fit it (a bad one:
/// 400 on `body.values.FIELD`). Answers 200 once the engine
/// has applied it (202 if it has not within 10 s: it will).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", params(("id" = String, Path)),
    request_body = CompleteInput,
    responses((status = 200, body = TaskDetail), (status = 202, body = TaskDetail),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<CompleteInput>,
) -> ApiResult<(StatusCode, Json<TaskDetail>)> {
    caller.require(Function::Tasks, Level::Manage)?;
    let mut vars: Map<String, Value> = match b.values {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "a boolean",
            };
            return Err(ApiError::invalid(
                "body.values",
                format!("`values` must be an object of form fields, not {kind}"),
                "values 须为表单字段对象",
            ));
        }
    };
    if let Some(k) = vars.keys().find(|k| k.trim().is_empty()) {
        return Err(ApiError::invalid(
            "body.values",
            format!("`{k}` is not a variable name"),
            format!("「{k}」不是有效的变量名"),
        ));
    }
    let e = engine(&state)?;
    let (t, me) = own_task(&state, &caller, &id).await?;
    ensure_open(&state, &t).await?;
    if !me.admin && !me.holds(&t) && !me.helps(&t) {
        return Err(if t.assignee.is_none() {
            claim_first()
        } else {
            forbidden(
                "only the task's assignee, its helpers or an admin may complete it",
                "只有任务的办理人、协助处理人或管理员可以完成该任务",
            )
        });
    }
    // A form key naming a stored form of the company: the values must fit
    // it, and its `file` fields name files uploaded for this task.
    let mut used_files = std::collections::HashSet::new();
    if let Some(key) = t.form_key.as_deref().filter(|k| !k.is_empty())
        && let Some(form) = state.store.form_by_key(caller.company_id(), key).await?
    {
        let fields = super::forms::fields_of(&form)?;
        let bad = |e: crate::forms::FormError| {
            ApiError::invalid(&format!("body.values.{}", e.field), e.message, e.zh)
        };
        crate::forms::check_values(&fields, &vars).map_err(bad)?;
        let uploaded = state
            .store
            .task_files(&t.id)
            .await?
            .iter()
            .map(|f| (f.id.clone(), super::task_files::reference(f)))
            .collect();
        used_files = crate::forms::resolve_files(&fields, &mut vars, &uploaded).map_err(bad)?;
    }
    let exec = u32::try_from(t.exec).map_err(ApiError::internal)?;
    let row = state
        .store
        .load_instance(&t.instance_id)
        .await?
        .ok_or_else(|| ApiError::not_found("instance"))?;
    if !waits(&row, exec)? {
        return Err(ApiError::conflict(
            format!(
                "the instance is {} and no longer waits for this task",
                row.status
            ),
            format!("实例状态为 {}，已不再等待该任务", row.status),
        ));
    }
    let values = Value::Object(vars.clone());
    let done = state
        .store
        .complete_task(
            &id,
            t.assignee.as_deref(),
            &caller.user.id,
            &values,
            now_ms(),
        )
        .await?;
    if !done {
        return Err(changed(&state, &id).await);
    }
    if let Err(err) = e.send(&t.instance_id, Command::TaskCompleted { exec, vars }) {
        // The engine never saw it: the task is open again.
        state.store.reopen_task(&id, &caller.user.id).await?;
        return Err(engine_error(err));
    }
    // Every input sent before the flush is committed when it answers.
    let applied = match tokio::time::timeout(APPLY_WAIT, e.flush()).await {
        Ok(flushed) => {
            flushed.map_err(engine_error)?;
            true
        }
        Err(_) => false,
    };
    if applied {
        let still = match state.store.load_instance(&t.instance_id).await? {
            Some(row) => waits(&row, exec)?,
            None => false,
        };
        if still {
            // The engine refused the step (the instance changed under it).
            state.store.reopen_task(&id, &caller.user.id).await?;
            return Err(ApiError::conflict(
                "the instance did not take the completion; the task is open again: try again",
                "实例未接受此次办理，任务已恢复为待办，请重试",
            ));
        }
    }
    super::task_files::drop_unused(&state, &id, &used_files).await;
    let fields: Vec<&str> = values
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    state
        .audit(
            &caller,
            "complete",
            &format!("task:{id}"),
            &format!("fields: {}", fields.join(",")),
        )
        .await;
    let status = if applied {
        StatusCode::OK
    } else {
        tracing::warn!(task = %id, "the engine has not applied the completion yet");
        StatusCode::ACCEPTED
    };
    Ok((
        status,
        Json(detail(&state, reread(&state, &id).await?).await?),
    ))
}
