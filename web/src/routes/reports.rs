//! Reports: templates (upload an xlsx — its placeholders listed and checked
//! against the processes that fill it — download the original, delete) and
//! report data (the filled workbooks, by process and instance, downloadable).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_runtime::report_check;
use baton_runtime::store::{ReportDataRow, ReportTemplateRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Form, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub file_name: String,
    /// `[{sheet, cell, expression, optional}]`.
    #[schema(value_type = Vec<Object>)]
    pub placeholders: Value,
    pub comments: String,
    pub updated_at: i64,
}

impl TemplateView {
    fn of(t: ReportTemplateRow) -> TemplateView {
        TemplateView {
            id: t.id,
            name: t.name,
            file_name: t.file_name,
            placeholders: t.placeholders,
            comments: t.comments,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uploaded {
    pub template: TemplateView,
    /// Placeholders naming nothing a deployed process filling this template knows of.
    pub warnings: Vec<String>,
}

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The xlsx.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Default: the file's name without `.xlsx`.
    name: Option<String>,
    comments: Option<String>,
}

struct Upload {
    bytes: Bytes,
    file_name: String,
    name: Option<String>,
    comments: String,
}

async fn read_upload(mut form: Multipart) -> ApiResult<Upload> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid(
            "body",
            format!("not a multipart form: {e}"),
            format!("不是 multipart 表单：{e}"),
        )
    };
    let mut up = Upload {
        bytes: Bytes::new(),
        file_name: String::new(),
        name: None,
        comments: String::new(),
    };
    let mut got_file = false;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "file" => {
                up.file_name = field.file_name().unwrap_or("template.xlsx").to_owned();
                up.bytes = field.bytes().await.map_err(bad)?;
                got_file = true;
            }
            "name" => up.name = Some(field.text().await.map_err(bad)?),
            "comments" => up.comments = field.text().await.map_err(bad)?,
            other => {
                return Err(ApiError::invalid(
                    &format!("body.{other}"),
                    format!("unknown form field `{other}` (file, name, comments)"),
                    format!("未知的表单字段「{other}」"),
                ));
            }
        }
    }
    if !got_file {
        return Err(ApiError::invalid(
            "body.file",
            "the form has no `file`",
            "表单中没有 file 字段",
        ));
    }
    Ok(up)
}

async fn save_template(
    state: &AppState,
    caller: &Caller,
    id: String,
    up: Upload,
) -> ApiResult<Uploaded> {
    let parsed = baton_reports::Template::from_bytes(up.bytes.to_vec()).map_err(|e| {
        ApiError::invalid("body.file", format!("{e}"), format!("报表模版无效：{e}"))
    })?;
    let placeholders: Vec<Value> = parsed
        .placeholders()
        .iter()
        .map(|p| json!({"sheet": p.sheet, "cell": p.cell, "expression": p.expression, "optional": p.optional}))
        .collect();
    let name = up
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| up.file_name.trim_end_matches(".xlsx").to_owned());
    let mut row = ReportTemplateRow {
        id,
        company_id: caller.company_id().to_owned(),
        name,
        file_name: up.file_name,
        placeholders: Value::Array(placeholders),
        comments: up.comments,
        updated_at: crate::auth::now_ms(),
    };
    row.id = state
        .store
        .put_report_template(&row, &up.bytes)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))?;
    let warnings =
        report_check::check_against_processes(&state.store, caller.company_id(), &row).await?;
    Ok(Uploaded {
        template: TemplateView::of(row),
        warnings,
    })
}

/// Upload a template (multipart: `file`, optional `name`, `comments`).
#[utoipa::path(post, path = "/api/v1/report-templates", tag = "reports",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 400, body = crate::error::ErrorBody)))]
pub async fn upload_template(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    caller.require(Function::ReportTemplates, Level::Manage)?;
    let up = read_upload(form).await?;
    let done = save_template(&state, &caller, String::new(), up).await?;
    state
        .audit(
            &caller,
            "create",
            &format!("reportTemplate:{}", done.template.id),
            &done.template.name,
        )
        .await;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Replace a template's file (and name, comments).
#[utoipa::path(put, path = "/api/v1/report-templates/{id}", tag = "reports", params(("id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Uploaded)))]
pub async fn replace_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(form): Form,
) -> ApiResult<Json<Uploaded>> {
    caller.require(Function::ReportTemplates, Level::Manage)?;
    template_of(&state, &caller, &id).await?;
    let up = read_upload(form).await?;
    let done = save_template(&state, &caller, id, up).await?;
    state
        .audit(
            &caller,
            "update",
            &format!("reportTemplate:{}", done.template.id),
            &done.template.name,
        )
        .await;
    Ok(Json(done))
}

async fn template_of(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(ReportTemplateRow, Vec<u8>)> {
    state
        .store
        .report_template(caller.company_id(), id)
        .await?
        .filter(|(t, _)| t.id == id)
        .ok_or_else(|| ApiError::not_found("report template"))
}

#[utoipa::path(get, path = "/api/v1/report-templates", tag = "reports", params(ListParams),
    responses((status = 200, body = Page<TemplateView>)))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<TemplateView>>> {
    caller.require(Function::ReportTemplates, Level::View)?;
    let all: Vec<TemplateView> = state
        .store
        .list_report_templates(caller.company_id())
        .await?
        .into_iter()
        .map(TemplateView::of)
        .collect();
    Ok(Json(p.apply(
        all,
        |t| format!("{} {}", t.name, t.comments),
        &[
            ("name", |t| t.name.clone()),
            ("updatedAt", |t| format!("{:020}", t.updated_at)),
        ],
    )?))
}

#[utoipa::path(get, path = "/api/v1/report-templates/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateView>> {
    caller.require(Function::ReportTemplates, Level::View)?;
    Ok(Json(TemplateView::of(
        template_of(&state, &caller, &id).await?.0,
    )))
}

fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 6266: the ASCII fallback for old clients, the real (UTF-8) name in
    // `filename*` — a report named `巡检 ${site}` keeps its name.
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{safe}\"; filename*=UTF-8''{encoded}"
    )) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The template as it was uploaded.
#[utoipa::path(get, path = "/api/v1/report-templates/{id}/file", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn download_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::ReportTemplates, Level::View)?;
    let (t, bytes) = template_of(&state, &caller, &id).await?;
    Ok(xlsx_download(&t.file_name, bytes))
}

#[utoipa::path(delete, path = "/api/v1/report-templates/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::ReportTemplates, Level::Manage)?;
    if !state
        .store
        .delete_report_template(caller.company_id(), &id)
        .await?
    {
        return Err(ApiError::not_found("report template"));
    }
    state
        .audit(&caller, "delete", &format!("reportTemplate:{id}"), "")
        .await;
    Ok(no_content())
}

// ---- report data --------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    pub id: String,
    pub template_id: String,
    pub name: String,
    pub comments: String,
    pub instance_id: String,
    pub process: String,
    pub element_id: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

impl ReportView {
    fn of(r: ReportDataRow) -> ReportView {
        ReportView {
            id: r.id,
            template_id: r.template_id,
            name: r.name,
            comments: r.comments,
            instance_id: r.instance_id,
            process: r.definition_key,
            element_id: r.element_id,
            size: r.size,
            sha256: r.sha256,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilter {
    pub instance: Option<String>,
    /// A process key.
    pub process: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub sort: Option<String>,
    pub q: Option<String>,
}

/// Filled workbooks, newest first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportFilter),
    responses((status = 200, body = Page<ReportView>)))]
pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<ReportFilter>,
) -> ApiResult<Json<Page<ReportView>>> {
    caller.require(Function::ReportData, Level::View)?;
    let rows = state
        .store
        .list_report_data(
            caller.company_id(),
            f.instance.as_deref(),
            f.process.as_deref(),
        )
        .await?;
    let list = ListParams {
        offset: f.offset,
        limit: f.limit,
        sort: f.sort,
        q: f.q,
    };
    Ok(Json(list.apply(
        rows.into_iter().map(ReportView::of).collect(),
        |r| format!("{} {}", r.name, r.comments),
        &[
            ("name", |r| r.name.clone()),
            ("createdAt", |r| format!("{:020}", r.created_at)),
        ],
    )?))
}

/// A filled workbook.
#[utoipa::path(get, path = "/api/v1/reports/{id}/file", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::ReportData, Level::View)?;
    let r = state
        .store
        .report_data(caller.company_id(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("report"))?;
    let path = state.data_dir.join(&r.path);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::internal(format!("report {} file {}: {e}", r.id, path.display())))?;
    Ok(xlsx_download(&format!("{}.xlsx", r.name), bytes))
}
