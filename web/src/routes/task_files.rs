//! Files for user tasks' `file` form fields: upload one for an open task
//! (its assignee or an admin, or the holder of its approval link), remove it
//! before completion, download it as someone who sees the task or the
//! instance. Completing the task checks each `file` value names one of the
//! task's own uploads ([`crate::forms::resolve_files`]); the reference
//! `{"id", "name", "size"}` becomes the process variable, and the task's
//! uploads no value names are removed then ([`drop_unused`]).
//!
//! The bytes are streamed to `--data-dir/task-files/ID.tmp`, counted and
//! hashed on the way (over [`MAX_FILE_BYTES`]: 413 on `body.file`, nothing
//! kept), synced and renamed into place before the row is written. Files of
//! completed instances are kept (no retention: they are the record of what
//! was approved); they go with nothing but an operator.

use std::collections::HashSet;
use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_runtime::store::{TaskFileRow, UserTaskRow};
use baton_runtime::tenancy::company_of;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Digest;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Caller, now_ms};
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Form, Path};
use crate::perm::{Function, Level};

/// The largest file a form field takes (20 MiB).
pub const MAX_FILE_BYTES: u64 = 20 << 20;
/// The most files one task holds at once.
const MAX_FILES_PER_TASK: usize = 20;
/// Where under the data directory the files live.
const DIR: &str = "task-files";

/// An uploaded file. Send `{"id": …}` (or the whole object) as the `file`
/// field's value when completing the task.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskFileView {
    pub id: String,
    /// The file's name as sent (no directories).
    pub name: String,
    pub size: i64,
    /// As the uploader's browser named it (downloads are sent as
    /// `application/octet-stream`).
    pub content_type: String,
    pub sha256: String,
    pub task_id: String,
    pub instance_id: String,
    /// The user who uploaded it (an id).
    pub created_by: String,
    pub created_at: i64,
}

impl TaskFileView {
    fn of(f: &TaskFileRow) -> TaskFileView {
        TaskFileView {
            id: f.id.clone(),
            name: f.name.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            sha256: f.sha256.clone(),
            task_id: f.task_id.clone(),
            instance_id: f.instance_id.clone(),
            created_by: f.created_by.clone(),
            created_at: f.created_at,
        }
    }
}

/// What a `file` field's value becomes as a process variable.
pub fn reference(f: &TaskFileRow) -> Value {
    json!({"id": f.id, "name": f.name, "size": f.size})
}

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FileForm {
    /// The file (at most 20 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The file's name without directories or control characters, at most 255
/// characters; `file` when nothing is left.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        "file".to_owned()
    } else {
        name.to_owned()
    }
}

/// `type/subtype` as sent, else `application/octet-stream`.
fn clean_type(raw: Option<&str>) -> String {
    match raw {
        Some(t)
            if t.len() <= 127
                && t.split_once('/')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                && t.chars().all(|c| c.is_ascii_graphic()) =>
        {
            t.to_ascii_lowercase()
        }
        _ => "application/octet-stream".to_owned(),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
        format!("文件超过 {} MiB", MAX_FILE_BYTES >> 20),
    )
    .field("body.file")
}

fn bad_form(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::invalid(
        "body",
        format!("not a multipart form: {e}"),
        format!("不是 multipart 表单：{e}"),
    )
}

/// A file being written: removed unless [`Partial::keep`] renamed it into place.
struct Partial {
    tmp: PathBuf,
    kept: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Stream the form's `file` part to disk under `id`; its row, not yet written.
async fn receive(
    state: &AppState,
    mut form: axum::extract::Multipart,
    id: &str,
) -> ApiResult<(TaskFileRow, Partial)> {
    let rel = format!("{DIR}/{id}");
    let path = state.data_dir.join(&rel);
    let mut got = None;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let part = field.name().unwrap_or("").to_owned();
        if part != "file" {
            return Err(ApiError::invalid(
                &format!("body.{part}"),
                format!("unknown form field `{part}` (send one `file`)"),
                format!("未知的表单字段「{part}」（只需一个 file）"),
            ));
        }
        if got.is_some() {
            return Err(ApiError::invalid(
                "body.file",
                "send one file per upload",
                "每次只能上传一个文件",
            ));
        }
        let name = clean_name(field.file_name().unwrap_or(""));
        let content_type = clean_type(field.content_type());
        let dir = state.data_dir.join(DIR);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
        let partial = Partial {
            tmp: path.with_extension("tmp"),
            kept: false,
        };
        let io = |e: std::io::Error| {
            ApiError::internal(format!("writing {}: {e}", partial.tmp.display()))
        };
        let mut out = tokio::fs::File::create(&partial.tmp).await.map_err(io)?;
        let mut size = 0u64;
        let mut hash = sha2::Sha256::new();
        while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
            size += chunk.len() as u64;
            if size > MAX_FILE_BYTES {
                return Err(too_large());
            }
            hash.update(&chunk);
            out.write_all(&chunk).await.map_err(io)?;
        }
        out.sync_all().await.map_err(io)?;
        drop(out);
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        got = Some((name, content_type, size, sha256, partial));
    }
    let Some((name, content_type, size, sha256, mut partial)) = got else {
        return Err(ApiError::invalid(
            "body.file",
            "the form has no `file`",
            "表单中没有 file 字段",
        ));
    };
    tokio::fs::rename(&partial.tmp, &path)
        .await
        .map_err(|e| ApiError::internal(format!("keeping {}: {e}", path.display())))?;
    partial.kept = true;
    let row = TaskFileRow {
        id: id.to_owned(),
        company_id: String::new(),
        task_id: String::new(),
        instance_id: String::new(),
        name,
        size: size as i64,
        content_type,
        sha256,
        path: rel,
        created_by: String::new(),
        created_at: now_ms(),
    };
    Ok((row, partial))
}

/// 400 unless the task's stored form has a `file` field.
async fn takes_files(state: &AppState, t: &UserTaskRow) -> ApiResult<()> {
    let company = company_of(&t.definition_id);
    let form = match t.form_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => state.store.form_by_key(company, key).await?,
        None => None,
    };
    let has_file = match &form {
        Some(f) => super::forms::fields_of(f)?.iter().any(|f| f.kind == "file"),
        None => false,
    };
    if has_file {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "body.file",
            "this task's form has no file field",
            "该任务的表单没有文件字段",
        ))
    }
}

/// Upload a file for `t` (an open task the caller may complete).
pub(crate) async fn upload(
    state: &AppState,
    caller: &Caller,
    t: &UserTaskRow,
    form: axum::extract::Multipart,
) -> ApiResult<TaskFileView> {
    takes_files(state, t).await?;
    if state.store.task_files(&t.id).await?.len() >= MAX_FILES_PER_TASK {
        return Err(ApiError::invalid(
            "body.file",
            format!("a task holds at most {MAX_FILES_PER_TASK} files: remove one first"),
            format!("一个任务最多 {MAX_FILES_PER_TASK} 个文件，请先删除一个"),
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let (mut row, _partial) = receive(state, form, &id).await?;
    row.company_id = company_of(&t.definition_id).to_owned();
    row.task_id = t.id.clone();
    row.instance_id = t.instance_id.clone();
    row.created_by = caller.user.id.clone();
    if let Err(e) = state.store.insert_task_file(&row).await {
        let _ = tokio::fs::remove_file(state.data_dir.join(&row.path)).await;
        return Err(e.into());
    }
    state
        .audit(
            caller,
            "upload",
            &format!("task:{}", t.id),
            &format!("file {} ({} bytes)", row.id, row.size),
        )
        .await;
    Ok(TaskFileView::of(&row))
}

/// Upload a file for a `file` field of the task's form (multipart: `file`,
/// at most 20 MiB). The task must be open and the caller its assignee or an
/// admin. Send the answer's `id` as the field's value on completion.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/files", tag = "tasks", params(("id" = String, Path)),
    request_body(content = FileForm, content_type = "multipart/form-data"),
    responses((status = 201, body = TaskFileView), (status = 400, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
pub async fn upload_task_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(form): Form,
) -> ApiResult<(StatusCode, Json<TaskFileView>)> {
    caller.require(Function::Tasks, Level::Manage)?;
    let t = super::tasks::task_for(&state, &caller, &id).await?;
    let view = upload(&state, &caller, &t, form).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Upload a file for the task an approval link opens (no sign-in: the link
/// is the credential; as `POST /api/v1/tasks/{id}/files` by the link's user).
/// The link stays unused.
#[utoipa::path(post, path = "/api/v1/approvals/{token}/files", tag = "tasks", params(("token" = String, Path)),
    request_body(content = FileForm, content_type = "multipart/form-data"),
    responses((status = 201, body = TaskFileView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 410, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody)))]
pub async fn upload_approval_file(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form,
) -> ApiResult<(StatusCode, Json<TaskFileView>)> {
    let link = super::approvals::check(&state, &token).await?;
    let caller = super::approvals::acting(&state, &link).await?;
    caller.require(Function::Tasks, Level::Manage)?;
    let t = super::tasks::task_for(&state, &caller, &link.task_id).await?;
    let view = upload(&state, &caller, &t, form).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The task's file `file_id`, else 404.
async fn file_of_task(state: &AppState, t: &UserTaskRow, file_id: &str) -> ApiResult<TaskFileRow> {
    state
        .store
        .task_file(company_of(&t.definition_id), file_id)
        .await?
        .filter(|f| f.task_id == t.id)
        .ok_or_else(|| ApiError::not_found("file"))
}

/// Remove a file uploaded for an open task (before it is completed).
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/files/{fileId}", tag = "tasks",
    params(("id" = String, Path), ("fileId" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_task_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Function::Tasks, Level::Manage)?;
    let t = super::tasks::task_for(&state, &caller, &id).await?;
    let f = file_of_task(&state, &t, &file_id).await?;
    remove(&state, &f).await?;
    state
        .audit(
            &caller,
            "delete",
            &format!("task:{}", t.id),
            &format!("file {}", f.id),
        )
        .await;
    Ok(no_content())
}

/// The row, then the file (a file without a row is only wasted space).
async fn remove(state: &AppState, f: &TaskFileRow) -> ApiResult<()> {
    state.store.delete_task_file(&f.company_id, &f.id).await?;
    if let Err(e) = tokio::fs::remove_file(state.data_dir.join(&f.path)).await {
        tracing::warn!(file = f.id, "removing {}: {e}", f.path);
    }
    Ok(())
}

/// After a completion: the task's uploads that no submitted value names go.
pub(crate) async fn drop_unused(state: &AppState, task_id: &str, used: &HashSet<String>) {
    let files = match state.store.task_files(task_id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(task = task_id, "listing task files: {e}");
            return;
        }
    };
    for f in files.iter().filter(|f| !used.contains(&f.id)) {
        if let Err(e) = remove(state, f).await {
            tracing::warn!(file = f.id, "removing an unused task file: {}", e.en);
        }
    }
}

/// Removes the uploads of tasks cancelled before they were completed (an
/// instance terminated while its form was being filled in); returns how
/// many went. `serve` runs it every hour.
pub async fn sweep_cancelled(state: &AppState) -> usize {
    const BATCH: u32 = 500;
    let mut gone = 0;
    loop {
        let files = match state.store.files_of_cancelled_tasks(BATCH).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("listing the files of cancelled tasks: {e}");
                return gone;
            }
        };
        for f in &files {
            match remove(state, f).await {
                Ok(()) => gone += 1,
                Err(e) => {
                    tracing::warn!(file = f.id, "removing a cancelled task's file: {}", e.en);
                    return gone;
                }
            }
        }
        if files.len() < BATCH as usize {
            return gone;
        }
    }
}

/// The file's bytes as an attachment (never rendered by the browser).
async fn download(state: &AppState, f: &TaskFileRow) -> ApiResult<Response> {
    let path = state.data_dir.join(&f.path);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError::internal(format!("task file {} at {}: {e}", f.id, path.display()))
    })?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&f.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// `attachment` with an ASCII `filename` and the exact name as RFC 5987 `filename*`.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file uploaded for the task, for whoever sees the task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/files/{fileId}", tag = "tasks",
    params(("id" = String, Path), ("fileId" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_task_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Function::Tasks, Level::View)?;
    let (t, _) = super::tasks::own_task(&state, &caller, &id).await?;
    let f = file_of_task(&state, &t, &file_id).await?;
    download(&state, &f).await
}

/// A file uploaded for one of the instance's tasks (what its `file`
/// variables name), for whoever monitors the instance.
#[utoipa::path(get, path = "/api/v1/instances/{id}/files/{fileId}", tag = "instances",
    params(("id" = String, Path), ("fileId" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_instance_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Function::Monitor, Level::View)?;
    let i = super::instances::own_instance(&state, &caller, &id).await?;
    let f = state
        .store
        .task_file(caller.company_id(), &file_id)
        .await?
        .filter(|f| f.instance_id == i.id)
        .ok_or_else(|| ApiError::not_found("file"))?;
    download(&state, &f).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(" a\nb.txt "), "ab.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(&"x".repeat(300)).len(), 255);
        assert_eq!(clean_type(Some("Text/Plain")), "text/plain");
        assert_eq!(clean_type(Some("text")), "application/octet-stream");
        assert_eq!(clean_type(Some("a/b c")), "application/octet-stream");
        assert_eq!(clean_type(None), "application/octet-stream");
        assert_eq!(
            disposition("变更 plan.pdf"),
            "attachment; filename=\"__ plan.pdf\"; filename*=UTF-8''%E5%8F%98%E6%9B%B4%20plan.pdf"
        );
    }
}
