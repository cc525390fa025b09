//! The UI's languages: a code (`zh-CN`, `en`, ...), a name, an enabled flag
//! and message overrides (key → text). The built-in `zh-CN` and `en` are
//! listed even when the company stored nothing about them; they cannot be
//! deleted, only disabled, and at least one language stays enabled.
//! Codes are BCP 47 tags, compared in their canonical case (`zh-cn` is `zh-CN`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_runtime::store::LanguageRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

/// The built-in languages: code and name.
pub const BUILT_IN: &[(&str, &str)] = &[("zh-CN", "简体中文"), ("en", "English")];

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LanguageView {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    /// `zh-CN` and `en`: cannot be deleted.
    pub built_in: bool,
    /// Message overrides: key → text.
    pub messages: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LanguageInput {
    /// A BCP 47 tag: `fr`, `zh-TW`, `pt-BR`.
    pub code: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LanguageUpdate {
    /// Default: the current name.
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Replaces the stored overrides (default: none).
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// A BCP 47 tag in its canonical case (`zh-hans-cn` → `zh-Hans-CN`), or
/// `None` when it is not one: a 2–3 letter language, then subtags of 2–8
/// letters or digits (a 4-letter script, a 2-letter or 3-digit region).
pub fn canonical_code(code: &str) -> Option<String> {
    let mut parts = code.split(['-', '_']);
    let lang = parts.next()?;
    if !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = lang.to_ascii_lowercase();
    for p in parts {
        if !(2..=8).contains(&p.len()) || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        out.push('-');
        let letters = p.chars().all(|c| c.is_ascii_alphabetic());
        if p.len() == 4 && letters {
            out.push_str(&p[..1].to_ascii_uppercase());
            out.push_str(&p[1..].to_ascii_lowercase());
        } else if p.len() == 2 && letters || p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&p.to_ascii_uppercase());
        } else {
            out.push_str(&p.to_ascii_lowercase());
        }
    }
    Some(out)
}

fn built_in(code: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

fn view(row: &LanguageRow) -> LanguageView {
    LanguageView {
        code: row.code.clone(),
        name: row.name.clone(),
        enabled: row.enabled,
        built_in: built_in(&row.code).is_some(),
        messages: row.messages.clone(),
    }
}

/// The company's languages: the built-ins (as stored, else as shipped) and its own, by code.
async fn all(state: &AppState, caller: &Caller) -> ApiResult<Vec<LanguageRow>> {
    let mut rows = state.store.languages(caller.company_id()).await?;
    for (code, name) in BUILT_IN {
        if !rows.iter().any(|r| r.code == *code) {
            rows.push(LanguageRow {
                company_id: caller.company_id().to_owned(),
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                enabled: true,
                messages: BTreeMap::new(),
                updated_at: 0,
            });
        }
    }
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(rows)
}

async fn language_of(state: &AppState, caller: &Caller, code: &str) -> ApiResult<LanguageRow> {
    let code = canonical_code(code).ok_or_else(|| ApiError::not_found("language"))?;
    all(state, caller)
        .await?
        .into_iter()
        .find(|r| r.code == code)
        .ok_or_else(|| ApiError::not_found("language"))
}

fn check_input(name: &str, messages: &BTreeMap<String, String>) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a language needs a name",
            "语言需要名称",
        ));
    }
    if messages.keys().any(|k| k.trim().is_empty()) {
        return Err(ApiError::invalid(
            "body.messages",
            "a message key is empty",
            "消息键不能为空",
        ));
    }
    Ok(())
}

/// 400 on `field` when no language of `rows` (as they would be) is enabled.
fn one_enabled(rows: &[LanguageRow], field: &str) -> ApiResult<()> {
    if rows.iter().any(|r| r.enabled) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "at least one language must stay enabled",
            "至少须启用一种语言",
        ))
    }
}

/// A language the UI offers: its code, name and message overrides.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UiLanguage {
    pub code: String,
    pub name: String,
    /// `zh-CN` and `en`: the UI ships their messages; the others are overrides only.
    pub built_in: bool,
    /// Message overrides: key (`login.title`) → text, laid over the UI's own.
    pub messages: BTreeMap<String, String>,
}

/// The languages the signed-in user's UI offers (the company's enabled
/// ones, by code) with their message overrides; any signed-in user may read
/// them, the mobile page's too.
#[utoipa::path(get, path = "/api/v1/ui-languages", tag = "system",
    responses((status = 200, body = Vec<UiLanguage>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn ui_languages(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UiLanguage>>> {
    let rows = all(&state, &caller).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| r.enabled)
            .map(|r| UiLanguage {
                built_in: built_in(&r.code).is_some(),
                code: r.code,
                name: r.name,
                messages: r.messages,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/languages", tag = "system", params(ListParams),
    responses((status = 200, body = Page<LanguageView>)))]
pub async fn list_languages(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<LanguageView>>> {
    caller.require(Function::Languages, Level::View)?;
    let all: Vec<LanguageView> = all(&state, &caller).await?.iter().map(view).collect();
    Ok(Json(p.apply(
        all,
        |l| format!("{} {}", l.code, l.name),
        &[("code", |l| l.code.clone()), ("name", |l| l.name.clone())],
    )?))
}

#[utoipa::path(post, path = "/api/v1/languages", tag = "system", request_body = LanguageInput,
    responses((status = 201, body = LanguageView), (status = 400, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_language(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<LanguageInput>,
) -> ApiResult<(StatusCode, Json<LanguageView>)> {
    caller.require(Function::Languages, Level::Manage)?;
    let code = canonical_code(b.code.trim()).ok_or_else(|| {
        ApiError::invalid(
            "body.code",
            format!(
                "`{}` is not a language tag (such as en, fr or zh-TW)",
                b.code
            ),
            format!("「{}」不是有效的语言代码（如 en、fr、zh-TW）", b.code),
        )
    })?;
    check_input(&b.name, &b.messages)?;
    let mut rows = all(&state, &caller).await?;
    if rows.iter().any(|r| r.code == code) {
        return Err(ApiError::conflict(
            format!("the language `{code}` already exists (replace it with PUT)"),
            format!("语言「{code}」已存在（请用 PUT 修改）"),
        )
        .field("body.code"));
    }
    let row = LanguageRow {
        company_id: caller.company_id().to_owned(),
        code,
        name: b.name.trim().to_owned(),
        enabled: b.enabled,
        messages: b.messages,
        updated_at: 0,
    };
    rows.push(row.clone());
    one_enabled(&rows, "body.enabled")?;
    state.store.put_language(&row).await?;
    state
        .audit(
            &caller,
            "create",
            &format!("language:{}", row.code),
            &row.name,
        )
        .await;
    Ok((StatusCode::CREATED, Json(view(&row))))
}

#[utoipa::path(get, path = "/api/v1/languages/{code}", tag = "system", params(("code" = String, Path)),
    responses((status = 200, body = LanguageView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_language(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<LanguageView>> {
    caller.require(Function::Languages, Level::View)?;
    Ok(Json(view(&language_of(&state, &caller, &code).await?)))
}

/// Replace a language's name, enabled flag and messages (a built-in one too).
#[utoipa::path(put, path = "/api/v1/languages/{code}", tag = "system", params(("code" = String, Path)),
    request_body = LanguageUpdate, responses((status = 200, body = LanguageView),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_language(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Body(b): Body<LanguageUpdate>,
) -> ApiResult<Json<LanguageView>> {
    caller.require(Function::Languages, Level::Manage)?;
    let old = language_of(&state, &caller, &code).await?;
    let name = b.name.unwrap_or_else(|| old.name.clone());
    check_input(&name, &b.messages)?;
    let row = LanguageRow {
        name: name.trim().to_owned(),
        enabled: b.enabled,
        messages: b.messages,
        ..old
    };
    let mut rows = all(&state, &caller).await?;
    rows.retain(|r| r.code != row.code);
    rows.push(row.clone());
    one_enabled(&rows, "body.enabled")?;
    state.store.put_language(&row).await?;
    state
        .audit(
            &caller,
            "update",
            &format!("language:{}", row.code),
            &row.name,
        )
        .await;
    Ok(Json(view(&row)))
}

/// Delete a language the company added (a built-in one: 409, disable it instead).
#[utoipa::path(delete, path = "/api/v1/languages/{code}", tag = "system", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_language(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Languages, Level::Manage)?;
    let row = language_of(&state, &caller, &code).await?;
    if built_in(&row.code).is_some() {
        return Err(ApiError::conflict(
            format!(
                "`{}` is built in and cannot be deleted (disable it instead)",
                row.code
            ),
            format!("「{}」为内置语言，不能删除（可停用）", row.code),
        ));
    }
    let mut rows = all(&state, &caller).await?;
    rows.retain(|r| r.code != row.code);
    if !rows.iter().any(|r| r.enabled) {
        return Err(ApiError::conflict(
            "it is the only enabled language: enable another first",
            "这是唯一启用的语言，请先启用其他语言",
        ));
    }
    state
        .store
        .delete_language(caller.company_id(), &row.code)
        .await?;
    state
        .audit(
            &caller,
            "delete",
            &format!("language:{}", row.code),
            &row.name,
        )
        .await;
    Ok(no_content())
}
