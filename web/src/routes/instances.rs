//! Instances: start with variables (or by conditional start events), list
//! and filter, read one with its history, relay events and incidents;
//! pause, resume, terminate; retry or skip a failed node.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_core::Command;
use baton_runtime::store::{InstanceFilter, InstanceRow, InstanceSummary, Page as StorePage};
use baton_runtime::tenancy::{bare, company_of, qualify};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::processes::{check_key, engine, engine_error};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Page, Path, Query};
use crate::perm::{Function, Level};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartInput {
    /// The process key (its latest version starts).
    pub process: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    pub id: String,
    pub process: String,
    pub version: i32,
    pub status: String,
    pub start_way: String,
    pub business_key: Option<String>,
    pub parent_instance: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Paused: its new work is held until it is resumed.
    pub paused: bool,
}

impl InstanceView {
    /// Marks it paused if the engine says so (only a running one can be).
    fn with_pause(mut self, state: &AppState) -> Self {
        self.paused =
            self.status == "running" && state.engine.get().is_some_and(|e| e.is_paused(&self.id));
        self
    }
}

/// The company's process key and the version of a definition id
/// (`COMPANY/KEY:VERSION`).
fn process_and_version(definition_id: &str) -> (String, i32) {
    let (key, version) = definition_id
        .rsplit_once(':')
        .unwrap_or((definition_id, "0"));
    (bare(key).to_owned(), version.parse().unwrap_or(0))
}

fn instance_view(s: &InstanceSummary) -> InstanceView {
    let (process, version) = process_and_version(&s.definition_id);
    InstanceView {
        id: s.id.clone(),
        process,
        version,
        status: s.status.clone(),
        start_way: s.start_way.clone(),
        business_key: s.business_key.clone(),
        parent_instance: s.parent_instance.clone(),
        started_at: s.started_at,
        ended_at: s.ended_at,
        paused: false,
    }
}

/// The starter's built-ins, set on every instance a caller starts.
fn initiator(caller: &Caller, vars: &mut Map<String, Value>) {
    let u = &caller.user;
    for (k, v) in [
        ("LWAMS_INITIATOR_ID", &u.id),
        ("LWAMS_INITIATOR_NAME", &u.name),
        ("LWAMS_INITIATOR_EMAIL", &u.email),
        ("LWAMS_INITIATOR_PHONE", &u.phone),
    ] {
        vars.insert(k.into(), Value::from(v.clone()));
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionInput {
    /// The variables the conditions are evaluated over (and the new
    /// instances start with).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    /// The instances started, one per conditional start event that held.
    pub ids: Vec<String>,
}

/// Evaluate the conditional start events of the company's latest process
/// versions over the variables; start an instance (start way `condition`)
/// of each whose condition holds.
#[utoipa::path(post, path = "/api/v1/conditions", tag = "instances", request_body = ConditionInput,
    responses((status = 200, body = Started)))]
pub async fn evaluate_conditions(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ConditionInput>,
) -> ApiResult<Json<Started>> {
    caller.require(Function::Monitor, Level::Manage)?;
    let e = engine(&state)?;
    let mut vars = b.variables;
    initiator(&caller, &mut vars);
    let ids = e
        .evaluate_conditions(caller.company_id(), vars)
        .await
        .map_err(engine_error)?;
    for id in &ids {
        state
            .audit(&caller, "start", &format!("instance:{id}"), "condition")
            .await;
    }
    Ok(Json(Started { ids }))
}

/// Start an instance of the process's latest version; answers once it is committed.
#[utoipa::path(post, path = "/api/v1/instances", tag = "instances", request_body = StartInput,
    responses((status = 201, body = InstanceView)))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<StartInput>,
) -> ApiResult<(StatusCode, Json<InstanceView>)> {
    caller.require(Function::Monitor, Level::Manage)?;
    let e = engine(&state)?;
    check_key(&b.process).map_err(|e| e.field("body.process"))?;
    let mut vars = b.variables;
    initiator(&caller, &mut vars);
    let key = qualify(caller.company_id(), &b.process);
    if state.store.latest_definition(&key).await?.is_none() {
        return Err(ApiError::invalid(
            "body.process",
            format!("no deployed process `{}`", b.process),
            format!("没有已部署的流程「{}」", b.process),
        ));
    }
    let id = e
        .start_instance(&key, vars, "api")
        .await
        .map_err(engine_error)?;
    state
        .audit(&caller, "start", &format!("instance:{id}"), &b.process)
        .await;
    let row = instance_of(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// The caller's company's instance, else 404.
/// The caller's company's instance row, else 404.
pub(crate) async fn own_instance(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<InstanceRow> {
    state
        .store
        .load_instance(id)
        .await?
        .filter(|r| {
            let key = r.definition_id.rsplit_once(':').map_or("", |x| x.0);
            company_of(key) == caller.company_id()
        })
        .ok_or_else(|| ApiError::not_found("instance"))
}

pub(crate) fn row_view(r: &InstanceRow) -> InstanceView {
    let (process, version) = process_and_version(&r.definition_id);
    InstanceView {
        id: r.id.clone(),
        process,
        version,
        status: r.status.clone(),
        start_way: r.start_way.clone(),
        business_key: r.business_key.clone(),
        parent_instance: r.parent_instance.clone(),
        started_at: r.started_at,
        ended_at: r.ended_at,
        paused: false,
    }
}

/// The caller's company's instance, else 404.
async fn instance_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<InstanceView> {
    Ok(row_view(&own_instance(state, caller, id).await?).with_pause(state))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct InstanceQuery {
    /// `running`, `completed`, `terminated`, `failed`.
    pub status: Option<String>,
    /// A process key.
    pub process: Option<String>,
    /// `manual`, `schedule`, `api`, `call`, `signal`, `message`, `timer`.
    pub start_way: Option<String>,
    /// Started at or after (Unix ms).
    pub from: Option<i64>,
    /// Started before (Unix ms).
    pub to: Option<i64>,
    pub offset: Option<u64>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
}

/// Instances, newest first, filtered by status, process, start way and start time.
#[utoipa::path(get, path = "/api/v1/instances", tag = "instances", params(InstanceQuery),
    responses((status = 200, body = Page<InstanceView>)))]
pub async fn list_instances(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<InstanceQuery>,
) -> ApiResult<Json<Page<InstanceView>>> {
    caller.require(Function::Monitor, Level::View)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "query.limit",
            "limit must be between 1 and 500",
            "limit 须在 1 到 500 之间",
        ));
    }
    let filter = InstanceFilter {
        status: q.status,
        definition_key: q.process.map(|p| qualify(caller.company_id(), &p)),
        start_way: q.start_way,
        from: q.from,
        to: q.to,
        company: Some(caller.company_id().to_owned()),
    };
    let offset = q.offset.unwrap_or(0);
    let total = state.store.count_instances(&filter).await?;
    let rows = state
        .store
        .list_instances(&filter, StorePage { offset, limit })
        .await?;
    Ok(Json(Page {
        items: rows
            .iter()
            .map(|r| instance_view(r).with_pause(&state))
            .collect(),
        total: usize::try_from(total).unwrap_or(0),
        offset,
        limit,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub seq: i64,
    pub element_id: String,
    pub event: String,
    pub at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDetail {
    #[serde(flatten)]
    pub instance: InstanceView,
    /// Process variables.
    #[schema(value_type = Object)]
    pub variables: Value,
    /// Each node's outputs, by element id.
    #[schema(value_type = Object)]
    pub outputs: Value,
    pub history: Vec<HistoryView>,
    /// Incidents: `{elementId, message}`.
    #[schema(value_type = Vec<Object>)]
    pub incidents: Vec<Value>,
    /// What happened to the instance's jobs on Sub-Manager relays, oldest
    /// first: `sent`, `accepted`, `rejected`, `failover` (a lost host's job
    /// moved to a backup), `late-result`.
    pub relay: Vec<RelayEventView>,
}

/// One event of a job on the relays.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelayEventView {
    pub job_id: String,
    pub attempt: i64,
    /// Unix ms.
    pub at: i64,
    pub host_id: String,
    pub event: String,
    pub detail: String,
}

/// An instance with its variables, node outputs, history and incidents.
#[utoipa::path(get, path = "/api/v1/instances/{id}", tag = "instances", params(("id" = String, Path)),
    responses((status = 200, body = InstanceDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<InstanceDetail>> {
    caller.require(Function::Monitor, Level::View)?;
    let row = own_instance(&state, &caller, &id).await?;
    let instance = row_view(&row).with_pause(&state);
    let p: baton_runtime::engine::Persisted =
        serde_json::from_slice(&row.state).map_err(ApiError::internal)?;
    let history = state
        .store
        .history(&id)
        .await?
        .into_iter()
        .map(|h| HistoryView {
            seq: h.seq,
            element_id: h.element_id,
            event: h.kind,
            at: h.at,
        })
        .collect();
    let incidents = state
        .store
        .incidents(&id)
        .await?
        .into_iter()
        .map(|i| serde_json::json!({"elementId": i.element_id, "message": i.message}))
        .collect();
    let relay = state
        .store
        .relay_events(&id)
        .await?
        .into_iter()
        .map(|e| RelayEventView {
            job_id: e.job_id,
            attempt: e.attempt,
            at: e.at,
            host_id: e.host_id,
            event: e.event,
            detail: e.detail,
        })
        .collect();
    Ok(Json(InstanceDetail {
        instance,
        variables: serde_json::to_value(&p.state.vars).unwrap_or_default(),
        outputs: serde_json::to_value(&p.state.outputs).unwrap_or_default(),
        history,
        incidents,
        relay,
    }))
}

/// Pause a running instance: the work it has running finishes, no new node
/// of it starts until it is resumed.
#[utoipa::path(post, path = "/api/v1/instances/{id}/pause", tag = "instances", params(("id" = String, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<InstanceView>> {
    pause_or_resume(state, caller, id, true).await
}

/// Resume a paused instance: its held nodes start now.
#[utoipa::path(post, path = "/api/v1/instances/{id}/resume", tag = "instances", params(("id" = String, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<InstanceView>> {
    pause_or_resume(state, caller, id, false).await
}

async fn pause_or_resume(
    state: AppState,
    caller: Caller,
    id: String,
    pause: bool,
) -> ApiResult<Json<InstanceView>> {
    caller.require(Function::Monitor, Level::Manage)?;
    let e = engine(&state)?;
    let instance = instance_of(&state, &caller, &id).await?;
    if instance.status != "running" {
        return Err(ApiError::conflict(
            format!("the instance is {}, not running", instance.status),
            format!("实例状态为 {}，未在运行", instance.status),
        ));
    }
    let changed = if pause {
        e.pause(&id).await
    } else {
        e.resume(&id).await
    }
    .map_err(engine_error)?;
    if !changed {
        let (en, zh) = if pause {
            ("the instance is paused already", "实例已暂停")
        } else {
            ("the instance is not paused", "实例未暂停")
        };
        return Err(ApiError::conflict(en, zh));
    }
    let what = if pause { "pause" } else { "resume" };
    state
        .audit(&caller, what, &format!("instance:{id}"), "")
        .await;
    Ok(Json(instance_of(&state, &caller, &id).await?))
}

/// Terminate a running instance (and the children its call activities started).
#[utoipa::path(post, path = "/api/v1/instances/{id}/terminate", tag = "instances", params(("id" = String, Path)),
    responses((status = 202), (status = 404, body = crate::error::ErrorBody)))]
pub async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Function::Monitor, Level::Manage)?;
    let e = engine(&state)?;
    let instance = instance_of(&state, &caller, &id).await?;
    if instance.status != "running" {
        return Err(ApiError::conflict(
            format!("the instance is {}, not running", instance.status),
            format!("实例状态为 {}，未在运行", instance.status),
        ));
    }
    e.send(
        &id,
        Command::Terminate {
            reason: format!("terminated by {}", caller.user.username),
        },
    )
    .map_err(engine_error)?;
    state
        .audit(&caller, "terminate", &format!("instance:{id}"), "")
        .await;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeAction {
    /// The element whose incident to act on (default: every open incident).
    pub element_id: Option<String>,
    /// Variables set first (retry: a fix; skip: what the node would have produced).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Acted {
    /// The elements acted on.
    pub elements: Vec<String>,
}

/// Retry or skip the instance's open incidents (the LWAMS monitor's yellow
/// nodes); `skip` treats the node as completed.
async fn on_incidents(
    state: &AppState,
    caller: &Caller,
    id: &str,
    b: NodeAction,
    skip: bool,
) -> ApiResult<Acted> {
    caller.require(Function::Monitor, Level::Manage)?;
    let e = engine(state)?;
    let instance = instance_of(state, caller, id).await?;
    if instance.status != "running" {
        return Err(ApiError::conflict(
            format!("the instance is {}, not running", instance.status),
            format!("实例状态为 {}，未在运行", instance.status),
        ));
    }
    let open: Vec<_> = state
        .store
        .incidents(id)
        .await?
        .into_iter()
        .filter(|i| i.resolved_at.is_none())
        .filter(|i| b.element_id.as_deref().is_none_or(|el| el == i.element_id))
        .collect();
    if open.is_empty() {
        return Err(ApiError::conflict(
            "no open incident to act on",
            "没有可处理的故障节点",
        ));
    }
    if !skip && !b.variables.is_empty() {
        e.send(
            id,
            Command::SetVars {
                vars: b.variables.clone(),
            },
        )
        .map_err(engine_error)?;
    }
    let mut elements = Vec::new();
    for i in open {
        let exec = u32::try_from(i.exec).map_err(ApiError::internal)?;
        let cmd = if skip {
            Command::Skip {
                exec,
                vars: b.variables.clone(),
            }
        } else {
            Command::Retry { exec }
        };
        e.send(id, cmd).map_err(engine_error)?;
        elements.push(i.element_id);
    }
    let action = if skip { "skip" } else { "retry" };
    state
        .audit(
            caller,
            action,
            &format!("instance:{id}"),
            &elements.join(","),
        )
        .await;
    Ok(Acted { elements })
}

/// Run the failed node(s) again, after setting `variables`.
#[utoipa::path(post, path = "/api/v1/instances/{id}/retry", tag = "instances", params(("id" = String, Path)),
    request_body = NodeAction, responses((status = 202, body = Acted), (status = 409, body = crate::error::ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NodeAction>,
) -> ApiResult<(StatusCode, Json<Acted>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(on_incidents(&state, &caller, &id, b, false).await?),
    ))
}

/// Treat the failed node(s) as completed, with `variables` as their result.
#[utoipa::path(post, path = "/api/v1/instances/{id}/skip", tag = "instances", params(("id" = String, Path)),
    request_body = NodeAction, responses((status = 202, body = Acted), (status = 409, body = crate::error::ErrorBody)))]
pub async fn skip(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<NodeAction>,
) -> ApiResult<(StatusCode, Json<Acted>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(on_incidents(&state, &caller, &id, b, true).await?),
    ))
}
