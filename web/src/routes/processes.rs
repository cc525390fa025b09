//! Process definitions: deploy BPMN (versions per key), list, read a
//! version, diff two versions, delete one nothing uses. Keys are the
//! company's own: the engine holds them qualified ([`baton_runtime::tenancy`]).
//! Instances are in `instances.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use baton_runtime::engine::{Engine, Error as EngineError};
use baton_runtime::tenancy::{bare, company_of, qualify};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

pub(crate) fn engine(state: &AppState) -> ApiResult<&Engine> {
    state.engine.get().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "engine_unavailable",
            "the engine is not running in this server",
            "此服务器未运行流程引擎",
        )
    })
}

pub(crate) fn engine_error(e: EngineError) -> ApiError {
    match e {
        EngineError::Rejected(r) => {
            let first = r.0.first();
            let field = first
                .and_then(|d| d.element.clone())
                .map_or_else(|| "body.xml".to_owned(), |el| format!("body.xml#{el}"));
            ApiError::invalid(&field, r.to_string(), format!("流程定义被拒绝：{r}"))
        }
        EngineError::UnknownKey(k) => ApiError::invalid(
            "body.process",
            format!("no deployed process `{}`", bare(&k)),
            format!("没有已部署的流程「{}」", bare(&k)),
        ),
        EngineError::CannotStart(m) => ApiError::invalid(
            "body",
            format!("cannot start: {m}"),
            format!("无法启动：{m}"),
        ),
        EngineError::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deploy {
    /// A BPMN 2.0 document.
    pub xml: String,
    /// Default: the main process's id.
    pub key: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub deployed_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessView {
    pub key: String,
    pub name: Option<String>,
    pub latest_version: i32,
    pub versions: usize,
    pub deployed_at: i64,
}

pub(crate) fn check_key(k: &str) -> ApiResult<()> {
    let ok = !k.is_empty()
        && !k.contains('/')
        && !k.contains(':')
        && !k.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "body.key",
            "a process key has no spaces, `/` or `:`",
            "流程键不能包含空格、/ 或 :",
        ))
    }
}

/// Deploy a BPMN document: a new version of its key, unless the same text is already deployed.
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes", request_body = Deploy,
    responses((status = 201, body = VersionView)))]
pub async fn deploy(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<Deploy>,
) -> ApiResult<(StatusCode, Json<VersionView>)> {
    caller.require(Function::Editor, Level::Manage)?;
    let e = engine(&state)?;
    let key = match b.key {
        Some(k) => k,
        None => {
            let model = baton_model::compile(&b.xml).map_err(|r| engine_error(r.into()))?;
            model
                .main_process()
                .map(|p| model.element(p).id.clone())
                .ok_or_else(|| {
                    ApiError::invalid("body.xml", "the document has no process", "文档中没有流程")
                })?
        }
    };
    check_key(&key)?;
    let row = e
        .deploy(&b.xml, Some(&qualify(caller.company_id(), &key)))
        .await
        .map_err(engine_error)?;
    state
        .audit(
            &caller,
            "deploy",
            &format!("process:{key}"),
            &format!("version {}", row.version),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(VersionView {
            key,
            version: row.version,
            name: row.name,
            deployed_at: row.deployed_at,
        }),
    ))
}

/// The company's processes, each with its latest version.
#[utoipa::path(get, path = "/api/v1/processes", tag = "processes", params(ListParams),
    responses((status = 200, body = Page<ProcessView>)))]
pub async fn list_processes(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<ProcessView>>> {
    caller.require(Function::Editor, Level::View)?;
    let mut by_key: std::collections::BTreeMap<String, ProcessView> = Default::default();
    for d in state.store.list_definitions().await? {
        if company_of(&d.key) != caller.company_id() {
            continue;
        }
        let v = by_key
            .entry(bare(&d.key).to_owned())
            .or_insert_with(|| ProcessView {
                key: bare(&d.key).to_owned(),
                name: None,
                latest_version: 0,
                versions: 0,
                deployed_at: 0,
            });
        v.versions += 1;
        if d.version > v.latest_version {
            v.latest_version = d.version;
            v.name = d.name.clone();
            v.deployed_at = d.deployed_at;
        }
    }
    Ok(Json(p.apply(
        by_key.into_values().collect(),
        |v| format!("{} {}", v.key, v.name.clone().unwrap_or_default()),
        &[
            ("key", |v| v.key.clone()),
            ("deployedAt", |v| format!("{:020}", v.deployed_at)),
        ],
    )?))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionXml {
    #[serde(flatten)]
    pub version: VersionView,
    pub xml: String,
}

/// One version's BPMN.
#[utoipa::path(get, path = "/api/v1/processes/{key}/versions/{version}", tag = "processes",
    params(("key" = String, Path), ("version" = i32, Path)),
    responses((status = 200, body = VersionXml), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, version)): Path<(String, i32)>,
) -> ApiResult<Json<VersionXml>> {
    caller.require(Function::Editor, Level::View)?;
    let id = format!("{}:{version}", qualify(caller.company_id(), &key));
    let d = state
        .store
        .definition(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("process version"))?;
    Ok(Json(VersionXml {
        version: VersionView {
            key,
            version: d.version,
            name: d.name,
            deployed_at: d.deployed_at,
        },
        xml: d.xml,
    }))
}

/// Delete a version nothing uses: no instance of it (of any status), no
/// schedule pinned to it, and a later version exists (409 says which).
#[utoipa::path(delete, path = "/api/v1/processes/{key}/versions/{version}", tag = "processes",
    params(("key" = String, Path), ("version" = i32, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, version)): Path<(String, i32)>,
) -> ApiResult<axum::response::Response> {
    use baton_runtime::store::InUse;
    caller.require(Function::Editor, Level::Manage)?;
    let qualified = qualify(caller.company_id(), &key);
    let id = format!("{qualified}:{version}");
    if state.store.definition(&id).await?.is_none() {
        return Err(ApiError::not_found("process version"));
    }
    let kept = engine(&state)?
        .delete_version(&qualified, version)
        .await
        .map_err(engine_error)?;
    let (en, zh) = match kept {
        None => {
            state
                .audit(&caller, "delete", &format!("process:{key}:{version}"), "")
                .await;
            return Ok(crate::error::no_content());
        }
        Some(InUse::Instances(n)) => (
            format!("version {version} of `{key}` has {n} instance(s): their history needs it"),
            format!("流程「{key}」的版本 {version} 有 {n} 个实例，其历史需要该版本"),
        ),
        Some(InUse::Schedule(name)) => (
            format!("the schedule `{name}` starts version {version} of `{key}`"),
            format!("定时任务「{name}」启动流程「{key}」的版本 {version}"),
        ),
        Some(InUse::Latest) => (
            format!("version {version} is the latest of `{key}`: new starts use it"),
            format!("版本 {version} 是流程「{key}」的最新版本，新实例使用该版本"),
        ),
    };
    Err(ApiError::conflict(en, zh))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    pub from: i32,
    /// The newer version.
    pub to: i32,
}

/// What changed from one version of a process to another, element by
/// element (diagram layout only as a flag).
#[utoipa::path(get, path = "/api/v1/processes/{key}/diff", tag = "processes",
    params(("key" = String, Path), DiffQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn diff_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<baton_model::diff::Diff>> {
    caller.require(Function::Editor, Level::View)?;
    let mut xml = Vec::new();
    for (field, v) in [("query.from", q.from), ("query.to", q.to)] {
        let id = format!("{}:{v}", qualify(caller.company_id(), &key));
        let d = state
            .store
            .definition(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("process version").field(field))?;
        xml.push(d.xml);
    }
    baton_model::diff::diff(&xml[0], &xml[1])
        .map(Json)
        .map_err(ApiError::internal)
}
