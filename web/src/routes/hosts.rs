//! Hosts (Sub-Manager relays): host groups; hosts with their link state,
//! facts, last heartbeat and backup priority list (seed 001); the enrolment
//! token (shown once when issued, never read back); failovers. Terminals
//! and their accounts: `terminals.rs`; the download package: `package.rs`.
//!
//! A change that a connected relay must learn of goes through the relay hub
//! when this server has one: a revoked token or a deleted host closes the
//! host's link at once; new backups make the links send terminals again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_runtime::store::{FailoverRow, HostGroupRow, HostRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};
use crate::relay::{RelayHub, issue_token};

/// The relay hub, when this server has a relay listener.
pub(crate) fn hub(state: &AppState) -> Option<&Arc<RelayHub>> {
    state.relay.get()
}

/// Tells the links of these hosts (on this server) to send their terminals
/// and queued secrets again.
pub(crate) fn refresh<'a>(state: &AppState, hosts: impl IntoIterator<Item = &'a String>) {
    if let Some(hub) = hub(state) {
        let mut seen = std::collections::HashSet::new();
        for h in hosts {
            if seen.insert(h) {
                hub.refresh(h);
            }
        }
    }
}

// ---- host groups ----------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostGroupView {
    pub id: String,
    pub name: String,
    pub comments: String,
}

impl HostGroupView {
    fn of(g: HostGroupRow) -> HostGroupView {
        HostGroupView {
            id: g.id,
            name: g.name,
            comments: g.comments,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostGroupInput {
    pub name: String,
    #[serde(default)]
    pub comments: String,
}

#[utoipa::path(get, path = "/api/v1/host-groups", tag = "hosts", params(ListParams),
    responses((status = 200, body = Page<HostGroupView>)))]
pub async fn list_groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<HostGroupView>>> {
    caller.require(Function::Hosts, Level::View)?;
    let all = state
        .store
        .list_host_groups(caller.company_id())
        .await?
        .into_iter()
        .map(HostGroupView::of)
        .collect();
    Ok(Json(p.apply(
        all,
        |g| format!("{} {}", g.name, g.comments),
        &[("name", |g| g.name.clone())],
    )?))
}

async fn save_group(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: HostGroupInput,
) -> ApiResult<HostGroupView> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a host group needs a name",
            "主机分组需要名称",
        ));
    }
    let row = HostGroupRow {
        id,
        company_id: caller.company_id().to_owned(),
        name: b.name.trim().to_owned(),
        comments: b.comments,
    };
    state
        .store
        .put_host_group(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))?;
    Ok(HostGroupView::of(row))
}

async fn group_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<HostGroupRow> {
    state
        .store
        .host_group(caller.company_id(), id)
        .await?
        .filter(|g| g.id == id)
        .ok_or_else(|| ApiError::not_found("host group"))
}

#[utoipa::path(post, path = "/api/v1/host-groups", tag = "hosts", request_body = HostGroupInput,
    responses((status = 201, body = HostGroupView)))]
pub async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<HostGroupInput>,
) -> ApiResult<(StatusCode, Json<HostGroupView>)> {
    caller.require(Function::Hosts, Level::Manage)?;
    let v = save_group(&state, &caller, uuid::Uuid::now_v7().to_string(), b).await?;
    state
        .audit(&caller, "create", &format!("hostGroup:{}", v.id), &v.name)
        .await;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(put, path = "/api/v1/host-groups/{id}", tag = "hosts", params(("id" = String, Path)),
    request_body = HostGroupInput, responses((status = 200, body = HostGroupView)))]
pub async fn update_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<HostGroupInput>,
) -> ApiResult<Json<HostGroupView>> {
    caller.require(Function::Hosts, Level::Manage)?;
    group_of(&state, &caller, &id).await?;
    let v = save_group(&state, &caller, id, b).await?;
    state
        .audit(&caller, "update", &format!("hostGroup:{}", v.id), &v.name)
        .await;
    Ok(Json(v))
}

/// Deletes the group; its hosts stay, in no group.
#[utoipa::path(delete, path = "/api/v1/host-groups/{id}", tag = "hosts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Hosts, Level::Manage)?;
    if !state
        .store
        .delete_host_group(caller.company_id(), &id)
        .await?
    {
        return Err(ApiError::not_found("host group"));
    }
    state
        .audit(&caller, "delete", &format!("hostGroup:{id}"), "")
        .await;
    Ok(no_content())
}

// ---- hosts ------------------------------------------------------------------

/// One backup of a host, in its priority list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupView {
    pub id: String,
    pub name: String,
    /// `not-initialised` | `connected` | `lost`.
    pub state: String,
    /// The backup relay's own verdict in its last heartbeat (seed 001).
    pub available: bool,
    /// The lost host whose work it runs now (a backup that covers one is taken).
    pub covering: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostView {
    pub id: String,
    pub name: String,
    pub group_id: Option<String>,
    pub comments: String,
    /// `not-initialised` (never connected) | `connected` | `lost` (heartbeats stopped).
    pub state: String,
    /// What the relay reported about its machine, under the
    /// `${node.host.*}` names: `hostName`, `osName`, `osVersion`,
    /// `systemVersion`, `osArch`, `cpuVendor`, `cpuName`, `cpuIdentifier`,
    /// `processorID`, `logicalProcessorCount`, `memoryTotal`, `memoryFree`,
    /// `hostAddress`, `domainName`, `userDir`, `manufacturer`, `model`, ...
    #[schema(value_type = Object)]
    pub facts: Value,
    /// The last hello or heartbeat, Unix ms.
    pub last_seen: Option<i64>,
    /// The last heartbeat as the relay sent it (`atMs`, `load1`, `cpuPct`,
    /// `memFree`, `memTotal`, `ioBytesPerS`, `available`, `reason`,
    /// `running`, `queued`).
    #[schema(value_type = Option<Object>)]
    pub heartbeat: Option<Value>,
    /// The relay's own availability verdict (seed 001).
    pub available: bool,
    /// The hosts that take this one's work when it is lost, first first.
    pub backups: Vec<BackupView>,
    /// The lost host whose work this one runs now.
    pub covering: Option<String>,
    /// Whether an enrolment token is issued (it is never shown again).
    pub token_issued: bool,
    /// Whether the relay's link is held by this server now.
    pub linked: bool,
    /// The server holding the relay's link, if any.
    pub server: Option<String>,
}

impl HostView {
    fn of(state: &AppState, h: HostRow, all: &HashMap<String, HostRow>) -> HostView {
        let backups = h
            .backups
            .iter()
            .filter_map(|b| all.get(b))
            .map(|b| BackupView {
                id: b.id.clone(),
                name: b.name.clone(),
                state: b.state.clone(),
                available: b.available,
                covering: b.covering.clone(),
            })
            .collect();
        HostView {
            linked: hub(state).is_some_and(|hub| hub.is_linked(&h.id)),
            id: h.id,
            name: h.name,
            group_id: h.group_id,
            comments: h.comments,
            state: h.state,
            facts: h.facts,
            last_seen: h.last_seen,
            heartbeat: h.heartbeat,
            available: h.available,
            backups,
            covering: h.covering,
            token_issued: h.has_token,
            server: h.server,
        }
    }
}

/// A new host, with its enrolment token: shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostCreated {
    #[serde(flatten)]
    pub host: HostView,
    /// The enrolment token the relay connects with. Shown once; the
    /// download package carries it.
    pub token: String,
}

/// A new enrolment token: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostInput {
    pub name: String,
    /// A host group of the company; `null`: none.
    pub group_id: Option<String>,
    #[serde(default)]
    pub comments: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupsInput {
    /// Host ids, first first: hosts of the company, not this one, each once.
    pub backups: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HostFilter {
    /// Only the hosts of this group.
    pub group_id: Option<String>,
    /// Only hosts in this state.
    pub state: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub sort: Option<String>,
    pub q: Option<String>,
}

async fn all_hosts(state: &AppState, caller: &Caller) -> ApiResult<HashMap<String, HostRow>> {
    Ok(state
        .store
        .list_hosts(caller.company_id())
        .await?
        .into_iter()
        .map(|h| (h.id.clone(), h))
        .collect())
}

pub(crate) async fn host_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<HostRow> {
    state
        .store
        .host(caller.company_id(), id)
        .await?
        .filter(|h| h.id == id)
        .ok_or_else(|| ApiError::not_found("host"))
}

async fn view(state: &AppState, caller: &Caller, id: &str) -> ApiResult<HostView> {
    let mut all = all_hosts(state, caller).await?;
    let h = all.remove(id).ok_or_else(|| ApiError::not_found("host"))?;
    Ok(HostView::of(state, h, &all))
}

#[utoipa::path(get, path = "/api/v1/hosts", tag = "hosts", params(HostFilter),
    responses((status = 200, body = Page<HostView>)))]
pub async fn list_hosts(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<HostFilter>,
) -> ApiResult<Json<Page<HostView>>> {
    caller.require(Function::Hosts, Level::View)?;
    let all = all_hosts(&state, &caller).await?;
    let mut rows: Vec<HostRow> = all
        .values()
        .filter(|h| f.group_id.is_none() || h.group_id == f.group_id)
        .filter(|h| f.state.as_ref().is_none_or(|s| &h.state == s))
        .cloned()
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let views = rows
        .into_iter()
        .map(|h| HostView::of(&state, h, &all))
        .collect();
    let list = ListParams {
        offset: f.offset,
        limit: f.limit,
        sort: f.sort,
        q: f.q,
    };
    Ok(Json(list.apply(
        views,
        |h| format!("{} {}", h.name, h.comments),
        &[
            ("name", |h| h.name.clone()),
            ("state", |h| h.state.clone()),
            ("lastSeen", |h| format!("{:020}", h.last_seen.unwrap_or(0))),
        ],
    )?))
}

async fn check_group(state: &AppState, caller: &Caller, group: &Option<String>) -> ApiResult<()> {
    if let Some(g) = group {
        let found = state.store.host_group(caller.company_id(), g).await?;
        if found.is_none_or(|f| &f.id != g) {
            return Err(ApiError::invalid(
                "body.groupId",
                format!("`{g}` is not a host group of this company"),
                format!("「{g}」不是本公司的主机分组"),
            ));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a host needs a name",
            "主机需要名称",
        ));
    }
    Ok(())
}

/// Registers a host. Its enrolment token is in the answer, this once.
#[utoipa::path(post, path = "/api/v1/hosts", tag = "hosts", request_body = HostInput,
    responses((status = 201, body = HostCreated)))]
pub async fn create_host(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<HostInput>,
) -> ApiResult<(StatusCode, Json<HostCreated>)> {
    caller.require(Function::Hosts, Level::Manage)?;
    check_name(&b.name)?;
    check_group(&state, &caller, &b.group_id).await?;
    let mut row = HostRow::new(
        &uuid::Uuid::now_v7().to_string(),
        caller.company_id(),
        b.name.trim(),
    );
    row.group_id = b.group_id;
    row.comments = b.comments;
    state
        .store
        .put_host(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))?;
    let token = issue_token(&state.store, &state.key, &row.id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("host {} vanished", row.id)))?;
    state
        .audit(&caller, "create", &format!("host:{}", row.id), &row.name)
        .await;
    let host = view(&state, &caller, &row.id).await?;
    Ok((StatusCode::CREATED, Json(HostCreated { host, token })))
}

/// A host: record, state, facts, last heartbeat, backups (never its token).
#[utoipa::path(get, path = "/api/v1/hosts/{id}", tag = "hosts", params(("id" = String, Path)),
    responses((status = 200, body = HostView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HostView>> {
    caller.require(Function::Hosts, Level::View)?;
    Ok(Json(view(&state, &caller, &id).await?))
}

/// Name, group and comments (what the relay reports is not touched).
#[utoipa::path(put, path = "/api/v1/hosts/{id}", tag = "hosts", params(("id" = String, Path)),
    request_body = HostInput, responses((status = 200, body = HostView)))]
pub async fn update_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<HostInput>,
) -> ApiResult<Json<HostView>> {
    caller.require(Function::Hosts, Level::Manage)?;
    let mut row = host_of(&state, &caller, &id).await?;
    check_name(&b.name)?;
    check_group(&state, &caller, &b.group_id).await?;
    row.name = b.name.trim().to_owned();
    row.group_id = b.group_id;
    row.comments = b.comments;
    state
        .store
        .put_host(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))?;
    state
        .audit(&caller, "update", &format!("host:{id}"), &row.name)
        .await;
    Ok(Json(view(&state, &caller, &id).await?))
}

/// Deletes a host with no terminals: its relay's link is closed at once
/// and its token stops working; other hosts stop listing it as a backup.
#[utoipa::path(delete, path = "/api/v1/hosts/{id}", tag = "hosts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_host(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Hosts, Level::Manage)?;
    let host = host_of(&state, &caller, &id).await?;
    let terminals = state
        .store
        .terminals_of_hosts(std::slice::from_ref(&id))
        .await?;
    if !terminals.is_empty() {
        let names: Vec<&str> = terminals.iter().map(|t| t.name.as_str()).collect();
        return Err(ApiError::conflict(
            format!(
                "host `{}` still reaches {} terminal(s) ({}): move them to another host or delete them first",
                host.name,
                names.len(),
                names.join(", ")
            ),
            format!(
                "主机「{}」下还有 {} 台终端机（{}）：请先将其移到其他主机或删除",
                host.name,
                names.len(),
                names.join("、")
            ),
        ));
    }
    if let Some(hub) = hub(&state) {
        hub.revoke(&id, "the host was deleted");
    }
    state.store.set_host_token(&id, None).await?;
    for other in state.store.list_hosts(caller.company_id()).await? {
        if other.backups.contains(&id) {
            let rest: Vec<String> = other.backups.into_iter().filter(|b| *b != id).collect();
            state
                .store
                .set_host_backups(caller.company_id(), &other.id, &rest)
                .await?;
            refresh(&state, [&other.id]);
        }
    }
    state.store.forget_relay_secrets_of_host(&id).await?;
    state.store.delete_host(caller.company_id(), &id).await?;
    state
        .audit(&caller, "delete", &format!("host:{id}"), &host.name)
        .await;
    Ok(no_content())
}

/// Sets the host's backups, first first (seed 001: a lost host's work goes
/// to its first available backup).
#[utoipa::path(put, path = "/api/v1/hosts/{id}/backups", tag = "hosts", params(("id" = String, Path)),
    request_body = BackupsInput, responses((status = 200, body = HostView)))]
pub async fn set_backups(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<BackupsInput>,
) -> ApiResult<Json<HostView>> {
    caller.require(Function::Hosts, Level::Manage)?;
    let all = all_hosts(&state, &caller).await?;
    let host = all
        .get(&id)
        .ok_or_else(|| ApiError::not_found("host"))?
        .clone();
    let mut seen = std::collections::HashSet::new();
    for (i, backup) in b.backups.iter().enumerate() {
        let field = format!("body.backups[{i}]");
        if *backup == id {
            return Err(ApiError::invalid(
                &field,
                "a host cannot be its own backup",
                "主机不能作为自己的备份",
            ));
        }
        if !seen.insert(backup) {
            return Err(ApiError::invalid(
                &field,
                format!("`{backup}` is listed twice"),
                format!("「{backup}」重复出现"),
            ));
        }
        if !all.contains_key(backup) {
            return Err(ApiError::invalid(
                &field,
                format!("`{backup}` is not a host of this company"),
                format!("「{backup}」不是本公司的主机"),
            ));
        }
    }
    state
        .store
        .set_host_backups(caller.company_id(), &id, &b.backups)
        .await
        .map_err(|e| ApiError::from(e).field("body.backups"))?;
    refresh(
        &state,
        std::iter::once(&id).chain(&host.backups).chain(&b.backups),
    );
    state
        .audit(
            &caller,
            "update",
            &format!("host:{id}"),
            &format!("backups: {}", b.backups.join(", ")),
        )
        .await;
    Ok(Json(view(&state, &caller, &id).await?))
}

/// Issues a new enrolment token (shown this once); the old one stops
/// working and the relay's link is closed, so it reconnects with the new one.
#[utoipa::path(post, path = "/api/v1/hosts/{id}/token", tag = "hosts", params(("id" = String, Path)),
    responses((status = 200, body = TokenIssued), (status = 404, body = crate::error::ErrorBody)))]
pub async fn reissue_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenIssued>> {
    caller.require(Function::Hosts, Level::Manage)?;
    host_of(&state, &caller, &id).await?;
    let token = issue_token(&state.store, &state.key, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("host"))?;
    if let Some(hub) = hub(&state) {
        hub.revoke(&id, "a new enrolment token was issued");
    }
    state
        .audit(&caller, "reissueToken", &format!("host:{id}"), "")
        .await;
    Ok(Json(TokenIssued { token }))
}

/// Revokes the enrolment token: the relay is refused at once.
#[utoipa::path(delete, path = "/api/v1/hosts/{id}/token", tag = "hosts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Hosts, Level::Manage)?;
    host_of(&state, &caller, &id).await?;
    state.store.set_host_token(&id, None).await?;
    if let Some(hub) = hub(&state) {
        hub.revoke(&id, "the enrolment token was revoked");
    }
    state
        .audit(&caller, "revokeToken", &format!("host:{id}"), "")
        .await;
    Ok(no_content())
}

// ---- failovers ----------------------------------------------------------------

/// A lost host's work moved to a backup (or waited: no backup available).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverView {
    pub id: String,
    pub host_id: String,
    /// The lost host's name (`null`: the host was deleted since).
    pub host_name: Option<String>,
    /// `null`: no backup was available; the jobs wait for the host.
    pub backup_id: Option<String>,
    pub backup_name: Option<String>,
    /// Unix ms.
    pub at: i64,
    /// How many jobs moved.
    pub jobs: i64,
    pub reason: String,
}

/// How many failovers a list reads at most before paging.
const FAILOVERS_MAX: u32 = 10_000;

/// The company's failovers, newest first.
#[utoipa::path(get, path = "/api/v1/failovers", tag = "hosts", params(ListParams),
    responses((status = 200, body = Page<FailoverView>)))]
pub async fn list_failovers(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<FailoverView>>> {
    caller.require(Function::Hosts, Level::View)?;
    let hosts = all_hosts(&state, &caller).await?;
    let name = |id: &str| hosts.get(id).map(|h| h.name.clone());
    let all = state
        .store
        .list_failovers(caller.company_id(), FAILOVERS_MAX)
        .await?
        .into_iter()
        .map(|f: FailoverRow| FailoverView {
            host_name: name(&f.host_id),
            backup_name: f.backup_id.as_deref().and_then(name),
            id: f.id,
            host_id: f.host_id,
            backup_id: f.backup_id,
            at: f.at,
            jobs: f.jobs,
            reason: f.reason,
        })
        .collect();
    Ok(Json(p.apply(
        all,
        |f| {
            format!(
                "{} {} {}",
                f.host_name.as_deref().unwrap_or(&f.host_id),
                f.backup_name.as_deref().unwrap_or(""),
                f.reason
            )
        },
        &[
            ("at", |f| format!("{:020}", f.at)),
            ("host", |f| f.host_name.clone().unwrap_or_default()),
        ],
    )?))
}
