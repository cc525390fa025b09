//! Resources: global variables, the script library, data sources (passwords
//! write-only; a test-connection action).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_nodes::resources::{DataSource, Script};
use baton_runtime::store::DataSourceRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

// ---- global variables ---------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GlobalView {
    pub name: String,
    /// Any JSON value.
    pub value: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalInput {
    /// Any JSON value; `${name}` in every expression of the company.
    pub value: Value,
    #[serde(default)]
    pub comments: String,
}

fn check_name(field: &str, name: &str) -> ApiResult<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && name.len() <= 128;
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("`{name}` is not a variable name (a letter or _, then letters, digits or _)"),
            format!("「{name}」不是合法的变量名"),
        ))
    }
}

#[utoipa::path(get, path = "/api/v1/globals", tag = "resources", params(ListParams),
    responses((status = 200, body = Page<GlobalView>)))]
pub async fn list_globals(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<GlobalView>>> {
    caller.require(Function::Globals, Level::View)?;
    let all: Vec<GlobalView> = state
        .store
        .globals(caller.company_id())
        .await?
        .into_iter()
        .map(|(name, value)| GlobalView { name, value })
        .collect();
    Ok(Json(p.apply(
        all,
        |g| g.name.clone(),
        &[("name", |g| g.name.clone())],
    )?))
}

#[utoipa::path(put, path = "/api/v1/globals/{name}", tag = "resources", params(("name" = String, Path)),
    request_body = GlobalInput, responses((status = 200, body = GlobalView)))]
pub async fn put_global(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(b): Body<GlobalInput>,
) -> ApiResult<Json<GlobalView>> {
    caller.require(Function::Globals, Level::Manage)?;
    check_name("path.name", &name)?;
    state
        .store
        .put_global(caller.company_id(), &name, &b.value, &b.comments)
        .await?;
    state
        .audit(&caller, "update", &format!("global:{name}"), "")
        .await;
    Ok(Json(GlobalView {
        name,
        value: b.value,
    }))
}

#[utoipa::path(delete, path = "/api/v1/globals/{name}", tag = "resources", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_global(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Globals, Level::Manage)?;
    if !state
        .store
        .delete_global(caller.company_id(), &name)
        .await?
    {
        return Err(ApiError::not_found("global variable"));
    }
    state
        .audit(&caller, "delete", &format!("global:{name}"), "")
        .await;
    Ok(no_content())
}

// ---- script library -----------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScriptView {
    pub id: String,
    pub name: String,
    pub language: String,
    pub content: String,
    pub comments: String,
}

impl ScriptView {
    fn of(s: Script) -> ScriptView {
        ScriptView {
            id: s.id,
            name: s.name,
            language: s.language,
            content: s.content,
            comments: s.comments,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScriptInput {
    pub name: String,
    /// `sh`, `bat`, `ps1`, `sql`, `python`, ...
    pub language: String,
    /// A `${}` template, rendered with the node's variables.
    pub content: String,
    #[serde(default)]
    pub comments: String,
}

#[utoipa::path(get, path = "/api/v1/scripts", tag = "resources", params(ListParams),
    responses((status = 200, body = Page<ScriptView>)))]
pub async fn list_scripts(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<ScriptView>>> {
    caller.require(Function::Scripts, Level::View)?;
    let all: Vec<ScriptView> = state
        .store
        .list_scripts(caller.company_id())
        .await?
        .into_iter()
        .map(ScriptView::of)
        .collect();
    Ok(Json(p.apply(
        all,
        |s| format!("{} {}", s.name, s.comments),
        &[
            ("name", |s| s.name.clone()),
            ("language", |s| s.language.clone()),
        ],
    )?))
}

async fn save_script(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: ScriptInput,
) -> ApiResult<ScriptView> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a script needs a name",
            "脚本需要名称",
        ));
    }
    let s = Script {
        id,
        name: b.name,
        language: b.language,
        content: b.content,
        comments: b.comments,
    };
    state
        .store
        .put_script(caller.company_id(), &s)
        .await
        .map_err(|e| ApiError::from(e).field("body.content"))?;
    Ok(ScriptView::of(s))
}

#[utoipa::path(post, path = "/api/v1/scripts", tag = "resources", request_body = ScriptInput,
    responses((status = 201, body = ScriptView)))]
pub async fn create_script(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ScriptInput>,
) -> ApiResult<(StatusCode, Json<ScriptView>)> {
    caller.require(Function::Scripts, Level::Manage)?;
    let v = save_script(&state, &caller, uuid::Uuid::now_v7().to_string(), b).await?;
    state
        .audit(&caller, "create", &format!("script:{}", v.id), &v.name)
        .await;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn script_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Script> {
    state
        .store
        .script(caller.company_id(), id)
        .await?
        .filter(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found("script"))
}

#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 200, body = ScriptView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ScriptView>> {
    caller.require(Function::Scripts, Level::View)?;
    Ok(Json(ScriptView::of(script_of(&state, &caller, &id).await?)))
}

#[utoipa::path(put, path = "/api/v1/scripts/{id}", tag = "resources", params(("id" = String, Path)),
    request_body = ScriptInput, responses((status = 200, body = ScriptView)))]
pub async fn update_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ScriptInput>,
) -> ApiResult<Json<ScriptView>> {
    caller.require(Function::Scripts, Level::Manage)?;
    script_of(&state, &caller, &id).await?;
    let v = save_script(&state, &caller, id, b).await?;
    state
        .audit(&caller, "update", &format!("script:{}", v.id), &v.name)
        .await;
    Ok(Json(v))
}

#[utoipa::path(delete, path = "/api/v1/scripts/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Scripts, Level::Manage)?;
    if !state.store.delete_script(caller.company_id(), &id).await? {
        return Err(ApiError::not_found("script"));
    }
    state
        .audit(&caller, "delete", &format!("script:{id}"), "")
        .await;
    Ok(no_content())
}

// ---- data sources -------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataSourceView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub username: Option<String>,
    /// Whether a password is stored (it is never shown).
    pub password_set: bool,
    pub comments: String,
}

impl DataSourceView {
    fn of(d: &DataSourceRow) -> DataSourceView {
        DataSourceView {
            id: d.id.clone(),
            name: d.name.clone(),
            url: d.url.clone(),
            username: d.username.clone(),
            password_set: d.password_enc.is_some(),
            comments: d.comments.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSourceInput {
    pub name: String,
    /// Native (`postgres://…`, `mysql://…`, `sqlite:…`, `sqlserver://…`) or JDBC (`jdbc:postgresql://…`).
    pub url: String,
    pub username: Option<String>,
    /// Write-only. Omit to keep the stored one; an empty string removes it.
    pub password: Option<String>,
    #[serde(default)]
    pub comments: String,
}

#[utoipa::path(get, path = "/api/v1/data-sources", tag = "resources", params(ListParams),
    responses((status = 200, body = Page<DataSourceView>)))]
pub async fn list_data_sources(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<DataSourceView>>> {
    caller.require(Function::DataSources, Level::View)?;
    let all: Vec<DataSourceView> = state
        .store
        .list_data_sources(caller.company_id())
        .await?
        .iter()
        .map(DataSourceView::of)
        .collect();
    Ok(Json(p.apply(
        all,
        |d| format!("{} {}", d.name, d.comments),
        &[("name", |d| d.name.clone())],
    )?))
}

async fn data_source_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<DataSourceRow> {
    state
        .store
        .data_source(caller.company_id(), id)
        .await?
        .filter(|d| d.id == id)
        .ok_or_else(|| ApiError::not_found("data source"))
}

fn apply_input(state: &AppState, row: &mut DataSourceRow, b: DataSourceInput) -> ApiResult<()> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a data source needs a name",
            "数据源需要名称",
        ));
    }
    row.name = b.name;
    row.url = b.url;
    row.username = b.username.filter(|u| !u.is_empty());
    row.comments = b.comments;
    match b.password {
        Some(p) if p.is_empty() => row.password_enc = None,
        Some(p) => row.password_enc = Some(state.key.encrypt(&p)),
        None => {}
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/data-sources", tag = "resources", request_body = DataSourceInput,
    responses((status = 201, body = DataSourceView)))]
pub async fn create_data_source(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<DataSourceInput>,
) -> ApiResult<(StatusCode, Json<DataSourceView>)> {
    caller.require(Function::DataSources, Level::Manage)?;
    let mut row = DataSourceRow {
        id: uuid::Uuid::now_v7().to_string(),
        company_id: caller.company_id().to_owned(),
        name: String::new(),
        url: String::new(),
        username: None,
        password_enc: None,
        comments: String::new(),
    };
    apply_input(&state, &mut row, b)?;
    state
        .store
        .put_data_source(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.url"))?;
    state
        .audit(
            &caller,
            "create",
            &format!("dataSource:{}", row.id),
            &row.name,
        )
        .await;
    Ok((StatusCode::CREATED, Json(DataSourceView::of(&row))))
}

#[utoipa::path(get, path = "/api/v1/data-sources/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 200, body = DataSourceView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_data_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataSourceView>> {
    caller.require(Function::DataSources, Level::View)?;
    Ok(Json(DataSourceView::of(
        &data_source_of(&state, &caller, &id).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/data-sources/{id}", tag = "resources", params(("id" = String, Path)),
    request_body = DataSourceInput, responses((status = 200, body = DataSourceView)))]
pub async fn update_data_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<DataSourceInput>,
) -> ApiResult<Json<DataSourceView>> {
    caller.require(Function::DataSources, Level::Manage)?;
    let mut row = data_source_of(&state, &caller, &id).await?;
    apply_input(&state, &mut row, b)?;
    state
        .store
        .put_data_source(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.url"))?;
    state
        .audit(
            &caller,
            "update",
            &format!("dataSource:{}", row.id),
            &row.name,
        )
        .await;
    Ok(Json(DataSourceView::of(&row)))
}

#[utoipa::path(delete, path = "/api/v1/data-sources/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_data_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::DataSources, Level::Manage)?;
    if !state
        .store
        .delete_data_source(caller.company_id(), &id)
        .await?
    {
        return Err(ApiError::not_found("data source"));
    }
    state
        .audit(&caller, "delete", &format!("dataSource:{id}"), "")
        .await;
    Ok(no_content())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tested {
    pub ok: bool,
    /// The server's version when it answered; else why not (secrets masked).
    pub message: String,
}

/// Connect with the stored credentials and ask the server its version.
#[utoipa::path(post, path = "/api/v1/data-sources/{id}/test", tag = "resources", params(("id" = String, Path)),
    responses((status = 200, body = Tested)))]
pub async fn test_data_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Tested>> {
    caller.require(Function::DataSources, Level::View)?;
    let row = data_source_of(&state, &caller, &id).await?;
    let password = match &row.password_enc {
        Some(enc) => Some(state.key.decrypt(enc).map_err(ApiError::internal)?),
        None => None,
    };
    let ds = DataSource {
        id: row.id,
        name: row.name,
        url: row.url,
        username: row.username,
        password,
        comments: row.comments,
    };
    Ok(Json(match baton_nodes::sql::test_connection(&ds).await {
        Ok(version) => Tested {
            ok: true,
            message: version,
        },
        Err(e) => Tested {
            ok: false,
            message: e.to_string(),
        },
    }))
}
