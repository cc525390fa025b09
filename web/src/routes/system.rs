//! System: companies (with WeChat settings), users, groups and their
//! permissions, the audit log.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_runtime::store::{AuditFilter, AuditRow, CompanyRow, GroupRow, UserRow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::views::{CompanyView, UserView};
use crate::AppState;
use crate::auth::{Caller, check_new_password, hash_password, now_ms};
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level, check_permissions};

// ---- companies ----------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub wechat_appid: String,
    /// Write-only: stored encrypted, never shown. Omit to keep the stored one;
    /// an empty string removes it.
    pub wechat_appsecret: Option<String>,
}

fn check_code(code: &str) -> ApiResult<()> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "body.code",
            "a company code is 1–64 letters, digits, - or _",
            "公司代码为 1–64 个字母、数字、- 或 _",
        ))
    }
}

async fn company_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<CompanyRow> {
    // Another company is invisible, not forbidden, unless the caller manages companies.
    if id != caller.company_id() && !caller.is_root_admin() {
        return Err(ApiError::not_found("company"));
    }
    state
        .store
        .company(id)
        .await?
        .ok_or_else(|| ApiError::not_found("company"))
}

/// Companies: all of them for the root company's admins, else one's own.
#[utoipa::path(get, path = "/api/v1/companies", tag = "system", params(ListParams),
    responses((status = 200, body = Page<CompanyView>)))]
pub async fn list_companies(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<CompanyView>>> {
    caller.require(Function::Companies, Level::View)?;
    let all = if caller.is_root_admin() {
        state.store.list_companies().await?
    } else {
        vec![caller.company.clone()]
    };
    let views: Vec<CompanyView> = all.iter().map(CompanyView::of).collect();
    Ok(Json(p.apply(
        views,
        |c| format!("{} {}", c.code, c.name),
        &[("code", |c| c.code.clone()), ("name", |c| c.name.clone())],
    )?))
}

#[utoipa::path(post, path = "/api/v1/companies", tag = "system", request_body = CompanyInput,
    responses((status = 201, body = CompanyView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_company(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<CompanyInput>,
) -> ApiResult<(StatusCode, Json<CompanyView>)> {
    caller.require(Function::Companies, Level::Manage)?;
    check_code(&b.code)?;
    if state.store.company_by_code(&b.code).await?.is_some() {
        return Err(ApiError::conflict(
            format!("the company code `{}` is taken", b.code),
            format!("公司代码「{}」已被占用", b.code),
        )
        .field("body.code"));
    }
    let now = now_ms();
    let row = CompanyRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: b.code,
        name: b.name,
        wechat_appid: b.wechat_appid,
        wechat_secret_enc: b
            .wechat_appsecret
            .filter(|s| !s.is_empty())
            .map(|s| state.key.encrypt(&s)),
        created_at: now,
        updated_at: now,
    };
    state.store.put_company(&row).await?;
    state
        .audit(&caller, "create", &format!("company:{}", row.id), &row.code)
        .await;
    Ok((StatusCode::CREATED, Json(CompanyView::of(&row))))
}

#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = CompanyView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_company(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CompanyView>> {
    caller.require(Function::Companies, Level::View)?;
    Ok(Json(CompanyView::of(
        &company_of(&state, &caller, &id).await?,
    )))
}

#[utoipa::path(put, path = "/api/v1/companies/{id}", tag = "system", params(("id" = String, Path)),
    request_body = CompanyInput, responses((status = 200, body = CompanyView)))]
pub async fn update_company(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<CompanyInput>,
) -> ApiResult<Json<CompanyView>> {
    caller.require(Function::Companies, Level::Manage)?;
    let mut row = company_of(&state, &caller, &id).await?;
    check_code(&b.code)?;
    if let Some(other) = state.store.company_by_code(&b.code).await?
        && other.id != row.id
    {
        return Err(ApiError::conflict(
            format!("the company code `{}` is taken", b.code),
            format!("公司代码「{}」已被占用", b.code),
        )
        .field("body.code"));
    }
    row.code = b.code;
    row.name = b.name;
    row.wechat_appid = b.wechat_appid;
    match b.wechat_appsecret {
        Some(s) if s.is_empty() => row.wechat_secret_enc = None,
        Some(s) => row.wechat_secret_enc = Some(state.key.encrypt(&s)),
        None => {}
    }
    state.store.put_company(&row).await?;
    state
        .audit(&caller, "update", &format!("company:{}", row.id), &row.code)
        .await;
    Ok(Json(CompanyView::of(&row)))
}

#[utoipa::path(delete, path = "/api/v1/companies/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody)))]
pub async fn delete_company(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Companies, Level::Manage)?;
    let row = company_of(&state, &caller, &id).await?;
    if row.id == caller.company_id() {
        return Err(ApiError::invalid(
            "path.id",
            "you cannot delete your own company",
            "不能删除自己所在的公司",
        ));
    }
    state.store.delete_company(&row.id).await?;
    state
        .audit(&caller, "delete", &format!("company:{}", row.id), &row.code)
        .await;
    Ok(no_content())
}

// ---- users --------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// Required when creating; on update, omit to keep the password.
    /// The user must change it at first sign-in.
    pub password: Option<String>,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub submanager_login: bool,
    #[serde(default)]
    pub disabled: bool,
}

async fn user_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<UserRow> {
    state
        .store
        .user(id)
        .await?
        .filter(|u| u.company_id == caller.company_id())
        .ok_or_else(|| ApiError::not_found("user"))
}

fn check_user(caller: &Caller, b: &UserInput) -> ApiResult<()> {
    let name_ok = !b.username.trim().is_empty()
        && b.username.len() <= 64
        && !b.username.chars().any(char::is_whitespace);
    if !name_ok {
        return Err(ApiError::invalid(
            "body.username",
            "a username is 1–64 characters without spaces",
            "用户名为 1–64 个字符，不含空格",
        ));
    }
    if !b.email.is_empty() && !b.email.contains('@') {
        return Err(ApiError::invalid(
            "body.email",
            "not an email address",
            "邮箱地址无效",
        ));
    }
    if b.admin && !caller.user.admin {
        return Err(ApiError::forbidden("users (admin flag)", "admin"));
    }
    Ok(())
}

/// Users of the caller's company.
#[utoipa::path(get, path = "/api/v1/users", tag = "system", params(ListParams),
    responses((status = 200, body = Page<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<UserView>>> {
    caller.require(Function::Users, Level::View)?;
    let users = state.store.list_users(caller.company_id()).await?;
    let bound: std::collections::HashSet<String> = state
        .store
        .wechat_bindings(caller.company_id())
        .await?
        .into_iter()
        .map(|b| b.user_id)
        .collect();
    let views: Vec<UserView> = users
        .iter()
        .map(|u| UserView::of(u).with_wechat(bound.contains(&u.id)))
        .collect();
    Ok(Json(p.apply(
        views,
        |u| format!("{} {} {}", u.username, u.name, u.email),
        &[
            ("username", |u| u.username.clone()),
            ("name", |u| u.name.clone()),
            ("createdAt", |u| format!("{:020}", u.created_at)),
        ],
    )?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "system", request_body = UserInput,
    responses((status = 201, body = UserView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<UserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    caller.require(Function::Users, Level::Manage)?;
    check_user(&caller, &b)?;
    let Some(password) = b.password.as_deref() else {
        return Err(ApiError::invalid(
            "body.password",
            "a new user needs a password",
            "新用户需要密码",
        ));
    };
    check_new_password(password)?;
    if state
        .store
        .user_by_name(caller.company_id(), &b.username)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            format!("the username `{}` is taken", b.username),
            format!("用户名「{}」已被占用", b.username),
        )
        .field("body.username"));
    }
    let now = now_ms();
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        company_id: caller.company_id().to_owned(),
        username: b.username,
        name: b.name,
        email: b.email,
        phone: b.phone,
        password_hash: hash_password(password)?,
        admin: b.admin,
        submanager_login: b.submanager_login,
        must_change_password: true,
        disabled: b.disabled,
        created_at: now,
        updated_at: now,
    };
    state.store.put_user(&row).await?;
    state
        .audit(
            &caller,
            "create",
            &format!("user:{}", row.id),
            &row.username,
        )
        .await;
    Ok((StatusCode::CREATED, Json(UserView::of(&row))))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    caller.require(Function::Users, Level::View)?;
    let user = user_of(&state, &caller, &id).await?;
    let bound = state
        .store
        .wechat_binding_of_user(caller.company_id(), &user.id)
        .await?
        .is_some();
    Ok(Json(UserView::of(&user).with_wechat(bound)))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "system", params(("id" = String, Path)),
    request_body = UserInput, responses((status = 200, body = UserView)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<UserInput>,
) -> ApiResult<Json<UserView>> {
    caller.require(Function::Users, Level::Manage)?;
    let mut row = user_of(&state, &caller, &id).await?;
    check_user(&caller, &b)?;
    if row.admin && !caller.user.admin {
        return Err(ApiError::forbidden("users (an admin)", "admin"));
    }
    if let Some(other) = state
        .store
        .user_by_name(caller.company_id(), &b.username)
        .await?
        && other.id != row.id
    {
        return Err(ApiError::conflict(
            format!("the username `{}` is taken", b.username),
            format!("用户名「{}」已被占用", b.username),
        )
        .field("body.username"));
    }
    if row.id == caller.user.id && (b.disabled || (row.admin && !b.admin)) {
        return Err(ApiError::invalid(
            "body",
            "you cannot disable yourself or drop your own admin flag",
            "不能停用自己或取消自己的管理员身份",
        ));
    }
    let kill_sessions = b.disabled || b.password.is_some();
    if let Some(p) = b.password.as_deref() {
        check_new_password(p)?;
        row.password_hash = hash_password(p)?;
        row.must_change_password = true;
    }
    row.username = b.username;
    row.name = b.name;
    row.email = b.email;
    row.phone = b.phone;
    row.admin = b.admin;
    row.submanager_login = b.submanager_login;
    row.disabled = b.disabled;
    state.store.put_user(&row).await?;
    if kill_sessions {
        state.store.delete_sessions_of(&row.id).await?;
    }
    state
        .audit(
            &caller,
            "update",
            &format!("user:{}", row.id),
            &row.username,
        )
        .await;
    Ok(Json(UserView::of(&row)))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Users, Level::Manage)?;
    let row = user_of(&state, &caller, &id).await?;
    if row.id == caller.user.id {
        return Err(ApiError::invalid(
            "path.id",
            "you cannot delete yourself",
            "不能删除自己",
        ));
    }
    if row.admin && !caller.user.admin {
        return Err(ApiError::forbidden("users (an admin)", "admin"));
    }
    state
        .store
        .delete_user(caller.company_id(), &row.id)
        .await?;
    state
        .audit(
            &caller,
            "delete",
            &format!("user:{}", row.id),
            &row.username,
        )
        .await;
    Ok(no_content())
}

// ---- groups -------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupInput {
    pub name: String,
    /// `{"editor": "manage", "monitor": "view", ...}`; a function left out is `none`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub permissions: Map<String, Value>,
    #[serde(default)]
    pub comments: String,
    /// User ids (of the same company).
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub permissions: Map<String, Value>,
    pub comments: String,
    pub members: Vec<String>,
    pub updated_at: i64,
}

async fn group_view(state: &AppState, g: GroupRow) -> ApiResult<GroupView> {
    Ok(GroupView {
        members: state.store.members(&g.id).await?,
        id: g.id,
        name: g.name,
        permissions: g.permissions,
        comments: g.comments,
        updated_at: g.updated_at,
    })
}

async fn check_group(state: &AppState, caller: &Caller, b: &GroupInput) -> ApiResult<()> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a group needs a name",
            "用户组需要名称",
        ));
    }
    check_permissions(&b.permissions)
        .map_err(|e| ApiError::invalid("body.permissions", e.clone(), format!("权限无效：{e}")))?;
    for (i, m) in b.members.iter().enumerate() {
        if user_of(state, caller, m).await.is_err() {
            return Err(ApiError::invalid(
                &format!("body.members[{i}]"),
                format!("no user `{m}` in this company"),
                format!("本公司没有用户「{m}」"),
            ));
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "system", params(ListParams),
    responses((status = 200, body = Page<GroupView>)))]
pub async fn list_groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<GroupView>>> {
    caller.require(Function::Users, Level::View)?;
    let mut views = Vec::new();
    for g in state.store.list_groups(caller.company_id()).await? {
        views.push(group_view(&state, g).await?);
    }
    Ok(Json(p.apply(
        views,
        |g| g.name.clone(),
        &[("name", |g| g.name.clone())],
    )?))
}

#[utoipa::path(post, path = "/api/v1/groups", tag = "system", request_body = GroupInput,
    responses((status = 201, body = GroupView)))]
pub async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<GroupInput>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    caller.require(Function::Users, Level::Manage)?;
    check_group(&state, &caller, &b).await?;
    let row = GroupRow {
        id: uuid::Uuid::now_v7().to_string(),
        company_id: caller.company_id().to_owned(),
        name: b.name,
        permissions: b.permissions,
        comments: b.comments,
        updated_at: 0,
    };
    state.store.put_group(&row).await?;
    state.store.set_members(&row.id, &b.members).await?;
    state
        .audit(&caller, "create", &format!("group:{}", row.id), &row.name)
        .await;
    Ok((StatusCode::CREATED, Json(group_view(&state, row).await?)))
}

async fn group_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<GroupRow> {
    state
        .store
        .group(caller.company_id(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("group"))
}

#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<GroupView>> {
    caller.require(Function::Users, Level::View)?;
    let g = group_of(&state, &caller, &id).await?;
    Ok(Json(group_view(&state, g).await?))
}

#[utoipa::path(put, path = "/api/v1/groups/{id}", tag = "system", params(("id" = String, Path)),
    request_body = GroupInput, responses((status = 200, body = GroupView)))]
pub async fn update_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<GroupInput>,
) -> ApiResult<Json<GroupView>> {
    caller.require(Function::Users, Level::Manage)?;
    let mut row = group_of(&state, &caller, &id).await?;
    check_group(&state, &caller, &b).await?;
    row.name = b.name;
    row.permissions = b.permissions;
    row.comments = b.comments;
    state.store.put_group(&row).await?;
    state.store.set_members(&row.id, &b.members).await?;
    state
        .audit(&caller, "update", &format!("group:{}", row.id), &row.name)
        .await;
    Ok(Json(group_view(&state, row).await?))
}

#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Users, Level::Manage)?;
    let row = group_of(&state, &caller, &id).await?;
    state
        .store
        .delete_group(caller.company_id(), &row.id)
        .await?;
    state
        .audit(&caller, "delete", &format!("group:{}", row.id), &row.name)
        .await;
    Ok(no_content())
}

// ---- audit log ----------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    pub id: String,
    pub at: i64,
    pub user_id: String,
    /// The user's sign-in name (`null`: the user was deleted since).
    pub user_name: Option<String>,
    pub action: String,
    pub object: String,
    pub detail: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// Only this user's actions (a user id).
    pub user_id: Option<String>,
    /// Only this action: `create`, `update`, `delete`, `login`, ...
    pub action: Option<String>,
    /// Only objects of this kind: `host` keeps `host:ID`.
    pub kind: Option<String>,
    /// Text in the object or the detail (any case).
    pub q: Option<String>,
    /// At or after (Unix ms).
    pub from: Option<i64>,
    /// Before (Unix ms).
    pub to: Option<i64>,
    pub offset: Option<u64>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
}

/// A filter value: `None` when absent or blank.
fn given(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Who changed what in the caller's company, newest first, filtered by
/// user, action, object kind, text and time.
#[utoipa::path(get, path = "/api/v1/audit", tag = "system", params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditView>>> {
    caller.require(Function::Users, Level::View)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "query.limit",
            "limit must be between 1 and 500",
            "limit 须在 1 到 500 之间",
        ));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::invalid(
            "query.to",
            "`to` is before `from`",
            "结束时间早于开始时间",
        ));
    }
    let filter = AuditFilter {
        user_id: given(q.user_id),
        action: given(q.action),
        kind: given(q.kind),
        text: given(q.q),
        from: q.from,
        until: q.to,
    };
    let rows = state
        .store
        .find_audit(caller.company_id(), &filter, q.offset.unwrap_or(0), limit)
        .await?;
    let mut names: HashMap<String, String> = state
        .store
        .list_users(caller.company_id())
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    for r in &rows {
        if !names.contains_key(&r.user_id)
            && let Some(u) = state.store.user(&r.user_id).await?
        {
            names.insert(u.id, u.username);
        }
    }
    Ok(Json(
        rows.into_iter()
            .map(|a: AuditRow| AuditView {
                user_name: names.get(&a.user_id).cloned(),
                id: a.id,
                at: a.at,
                user_id: a.user_id,
                action: a.action,
                object: a.object,
                detail: a.detail,
            })
            .collect(),
    ))
}
