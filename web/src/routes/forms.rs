//! Form templates (the forms of user tasks): list, create, read, replace,
//! delete. A form is found by its key from a task's `formKey`; completing
//! such a task checks the submitted values against it (see
//! [`crate::forms::check_values`] and `tasks::complete`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_runtime::store::FormRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::forms::{FormError, FormField, check_fields};
use crate::perm::{Function, Level};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FormView {
    pub id: String,
    /// What a user task's `formKey` names; unique in the company.
    pub key: String,
    pub name: String,
    pub fields: Vec<FormField>,
    pub comments: String,
    pub updated_at: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormInput {
    /// Unique in the company; a user task names it in `formKey`.
    pub key: String,
    /// Default: the key.
    #[serde(default)]
    pub name: String,
    #[schema(value_type = Vec<FormField>)]
    pub fields: Vec<Value>,
    #[serde(default)]
    pub comments: String,
}

/// An [`ApiError`] from a form fault (400 on its field).
pub fn invalid(e: FormError) -> ApiError {
    ApiError::invalid(&e.field, e.message, e.zh)
}

/// The stored fields (validated when saved).
pub fn fields_of(row: &FormRow) -> ApiResult<Vec<FormField>> {
    serde_json::from_value(row.fields.clone()).map_err(ApiError::internal)
}

fn view(row: &FormRow) -> ApiResult<FormView> {
    Ok(FormView {
        id: row.id.clone(),
        key: row.key.clone(),
        name: row.name.clone(),
        fields: fields_of(row)?,
        comments: row.comments.clone(),
        updated_at: row.updated_at,
    })
}

fn check_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 200 || key.chars().any(|c| c.is_whitespace()) {
        return Err(ApiError::invalid(
            "body.key",
            "a form key is 1–200 characters without spaces",
            "表单标识须为 1 到 200 个字符且不含空格",
        ));
    }
    Ok(())
}

async fn save(state: &AppState, caller: &Caller, id: String, b: FormInput) -> ApiResult<FormRow> {
    check_key(&b.key)?;
    let fields = check_fields("body.fields", &b.fields).map_err(invalid)?;
    let name = if b.name.trim().is_empty() {
        b.key.clone()
    } else {
        b.name
    };
    let row = FormRow {
        id,
        company_id: caller.company_id().to_owned(),
        key: b.key,
        name,
        fields: serde_json::to_value(&fields).map_err(ApiError::internal)?,
        comments: b.comments,
        updated_at: 0,
    };
    state
        .store
        .put_form(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.key"))?;
    form_of(state, caller, &row.id).await
}

async fn form_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<FormRow> {
    state
        .store
        .form(caller.company_id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("form"))
}

#[utoipa::path(get, path = "/api/v1/forms", tag = "resources", params(ListParams),
    responses((status = 200, body = Page<FormView>)))]
pub async fn list_forms(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<FormView>>> {
    caller.require(Function::Forms, Level::View)?;
    let all = state
        .store
        .list_forms(caller.company_id())
        .await?
        .iter()
        .map(view)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(p.apply(
        all,
        |f| format!("{} {} {}", f.key, f.name, f.comments),
        &[
            ("key", |f| f.key.clone()),
            ("name", |f| f.name.clone()),
            ("updatedAt", |f| format!("{:020}", f.updated_at)),
        ],
    )?))
}

#[utoipa::path(post, path = "/api/v1/forms", tag = "resources", request_body = FormInput,
    responses((status = 201, body = FormView), (status = 400, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_form(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<FormInput>,
) -> ApiResult<(StatusCode, Json<FormView>)> {
    caller.require(Function::Forms, Level::Manage)?;
    let row = save(&state, &caller, uuid::Uuid::now_v7().to_string(), b).await?;
    state
        .audit(&caller, "create", &format!("form:{}", row.id), &row.key)
        .await;
    Ok((StatusCode::CREATED, Json(view(&row)?)))
}

#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 200, body = FormView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<FormView>> {
    caller.require(Function::Forms, Level::View)?;
    Ok(Json(view(&form_of(&state, &caller, &id).await?)?))
}

#[utoipa::path(put, path = "/api/v1/forms/{id}", tag = "resources", params(("id" = String, Path)),
    request_body = FormInput, responses((status = 200, body = FormView),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<FormInput>,
) -> ApiResult<Json<FormView>> {
    caller.require(Function::Forms, Level::Manage)?;
    form_of(&state, &caller, &id).await?;
    let row = save(&state, &caller, id, b).await?;
    state
        .audit(&caller, "update", &format!("form:{}", row.id), &row.key)
        .await;
    Ok(Json(view(&row)?))
}

#[utoipa::path(delete, path = "/api/v1/forms/{id}", tag = "resources", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_form(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Forms, Level::Manage)?;
    let row = form_of(&state, &caller, &id).await?;
    state.store.delete_form(caller.company_id(), &id).await?;
    state
        .audit(&caller, "delete", &format!("form:{id}"), &row.key)
        .await;
    Ok(no_content())
}
