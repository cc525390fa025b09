//! Terminals (machines reached over SSH, WinRM or rexec, from the cloud or
//! from a host) and their accounts.
//!
//! An account's password or private key is write-only. For a terminal
//! reached from the cloud it is kept encrypted under the master key. For a
//! terminal behind a host the cloud keeps no secret: the account row holds
//! none, and the secret (encrypted) waits in `relay_secrets` for the host
//! and each of its backups until their links deliver it into the relays'
//! vaults.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_nodes::resources::Terminal;
use baton_runtime::store::{AccountRow, RelaySecretRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::hosts::refresh;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

// ---- views and inputs ---------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub terminal_id: String,
    pub username: String,
    /// `password` or `key`.
    pub auth: String,
    /// Where the secret is kept (it is never shown): `cloud` (encrypted on
    /// the server), `relays` (in the vaults of the host and its backups),
    /// `none` (no secret: set one).
    pub secret_at: String,
    pub comments: String,
}

impl AccountView {
    fn of(a: &AccountRow, t: &Terminal) -> AccountView {
        let secret_at = if !a.secret_enc.is_empty() {
            "cloud"
        } else if t.host_id.is_some() {
            "relays"
        } else {
            "none"
        };
        AccountView {
            id: a.id.clone(),
            terminal_id: a.terminal_id.clone(),
            username: a.username.clone(),
            auth: a.auth_kind.clone(),
            secret_at: secret_at.into(),
            comments: a.comments.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TerminalView {
    pub id: String,
    pub name: String,
    /// The host (Sub-Manager) that reaches it; `null`: reached from the cloud.
    pub host_id: Option<String>,
    /// The terminal's own host name.
    pub host_name: String,
    pub host_address: String,
    pub port: u16,
    /// `ssh`, `winrm` or `rexec`.
    pub connection_type: String,
    pub os_name: String,
    pub os_version: String,
    pub comments: String,
    pub accounts: Vec<AccountView>,
    /// After a move away from a host: the accounts whose secrets stayed in
    /// the old host's relays. Set them again (PUT the account with a
    /// `password` or `privateKey`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets_to_set_again: Vec<String>,
}

impl TerminalView {
    fn of(t: Terminal, accounts: &[AccountRow]) -> TerminalView {
        let accounts = accounts
            .iter()
            .filter(|a| a.terminal_id == t.id)
            .map(|a| AccountView::of(a, &t))
            .collect();
        TerminalView {
            id: t.id,
            name: t.name,
            host_id: t.host_id,
            host_name: t.host_name,
            host_address: t.host_address,
            port: t.port,
            connection_type: t.connection_type,
            os_name: t.os_name,
            os_version: t.os_version,
            comments: t.comments,
            accounts,
            secrets_to_set_again: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TerminalInput {
    pub name: String,
    /// The host that reaches it; `null`: reached from the cloud. Moving a
    /// terminal to a host hands its accounts' secrets to that host's relays
    /// (the cloud keeps none after that).
    pub host_id: Option<String>,
    /// The terminal's own host name.
    #[serde(default)]
    pub host_name: String,
    /// IP address or DNS name, as seen from the host (or the cloud).
    pub host_address: String,
    /// Default: 22 (ssh), 5985 (winrm), 512 (rexec).
    pub port: Option<i64>,
    /// `ssh` (default), `winrm` or `rexec`.
    pub connection_type: Option<String>,
    #[serde(default)]
    pub os_name: String,
    #[serde(default)]
    pub os_version: String,
    #[serde(default)]
    pub comments: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountInput {
    pub username: String,
    /// Write-only. A new account needs a password or a private key; on an
    /// update, omit both to keep the secret.
    pub password: Option<String>,
    /// Write-only: an OpenSSH or PEM private key.
    pub private_key: Option<String>,
    /// Write-only: the private key's passphrase, if it has one.
    pub passphrase: Option<String>,
    #[serde(default)]
    pub comments: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TerminalFilter {
    /// Only the terminals behind this host (`cloud`: those reached from the cloud).
    pub host_id: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub sort: Option<String>,
    pub q: Option<String>,
}

// ---- helpers --------------------------------------------------------------------

async fn terminal_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Terminal> {
    state
        .store
        .terminal(caller.company_id(), id)
        .await?
        .filter(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found("terminal"))
}

async fn view(state: &AppState, t: Terminal) -> ApiResult<TerminalView> {
    let accounts = state.store.accounts_of(std::slice::from_ref(&t.id)).await?;
    Ok(TerminalView::of(t, &accounts))
}

/// The hosts whose relays need a terminal of `host`: the host and its
/// backups, first first.
async fn relays_of(state: &AppState, host: Option<&str>) -> ApiResult<Vec<String>> {
    let Some(host) = host else {
        return Ok(Vec::new());
    };
    let backups = state
        .store
        .host_by_id(host)
        .await?
        .map(|h| h.backups)
        .unwrap_or_default();
    Ok(std::iter::once(host.to_owned()).chain(backups).collect())
}

/// Queues ciphertexts (under the master key) of an account's secret for
/// these relays.
async fn queue(
    state: &AppState,
    relays: &[String],
    account: &str,
    secret_enc: &str,
    passphrase_enc: Option<&str>,
) -> ApiResult<()> {
    for h in relays {
        state
            .store
            .queue_relay_secret(&RelaySecretRow {
                host_id: h.clone(),
                account_id: account.to_owned(),
                secret_enc: secret_enc.to_owned(),
                passphrase_enc: passphrase_enc.map(str::to_owned),
            })
            .await?;
    }
    Ok(())
}

fn port_of(kind: &str, port: Option<i64>) -> ApiResult<u16> {
    match port {
        None => Ok(match kind {
            "winrm" => 5985,
            "rexec" => 512,
            _ => 22,
        }),
        Some(p) => u16::try_from(p).ok().filter(|p| *p > 0).ok_or_else(|| {
            ApiError::invalid(
                "body.port",
                format!("the port must be 1–65535 (got {p})"),
                format!("端口须在 1–65535 之间（收到 {p}）"),
            )
        }),
    }
}

/// The terminal the input describes, checked.
async fn terminal_from(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: TerminalInput,
) -> ApiResult<Terminal> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.name",
            "a terminal needs a name",
            "终端机需要名称",
        ));
    }
    if b.host_address.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.hostAddress",
            "a terminal needs an address",
            "终端机需要地址",
        ));
    }
    let kind = b
        .connection_type
        .as_deref()
        .unwrap_or("ssh")
        .trim()
        .to_ascii_lowercase();
    if !matches!(kind.as_str(), "ssh" | "winrm" | "rexec") {
        return Err(ApiError::invalid(
            "body.connectionType",
            format!("the connection type must be ssh, winrm or rexec (got `{kind}`)"),
            format!("连接方式须为 ssh、winrm 或 rexec（收到「{kind}」）"),
        ));
    }
    let port = port_of(&kind, b.port)?;
    if let Some(h) = &b.host_id {
        let found = state.store.host(caller.company_id(), h).await?;
        if found.is_none_or(|f| &f.id != h) {
            return Err(ApiError::invalid(
                "body.hostId",
                format!("`{h}` is not a host of this company"),
                format!("「{h}」不是本公司的主机"),
            ));
        }
    }
    Ok(Terminal {
        id,
        name: b.name.trim().to_owned(),
        host_name: b.host_name,
        host_address: b.host_address.trim().to_owned(),
        port,
        connection_type: kind,
        os_name: b.os_name,
        os_version: b.os_version,
        comments: b.comments,
        host_id: b.host_id,
    })
}

async fn put_terminal(state: &AppState, caller: &Caller, t: &Terminal) -> ApiResult<()> {
    state
        .store
        .put_terminal(caller.company_id(), t)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))
}

/// A terminal moved from `old` to `new` (hosts; `None`: the cloud): its
/// accounts' secrets follow where the server still has them. Returns the
/// accounts whose secrets stayed in the old host's relays only.
async fn move_secrets(
    state: &AppState,
    accounts: &[AccountRow],
    old: Option<&str>,
    new: Option<&str>,
) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let old_relays = relays_of(state, old).await?;
    let new_relays = relays_of(state, new).await?;
    // Secrets the server holds: in the account row (cloud), or still queued
    // for the old host's relays.
    let mut held: HashMap<String, (String, Option<String>)> = HashMap::new();
    for a in accounts.iter().filter(|a| !a.secret_enc.is_empty()) {
        held.insert(
            a.id.clone(),
            (a.secret_enc.clone(), a.passphrase_enc.clone()),
        );
    }
    for h in &old_relays {
        for s in state.store.relay_secrets(h).await? {
            if ids.contains(&s.account_id) {
                held.entry(s.account_id)
                    .or_insert((s.secret_enc, s.passphrase_enc));
            }
        }
    }
    state.store.forget_relay_secrets(None, &ids).await?;
    let mut stayed = Vec::new();
    for a in accounts {
        let mut row = a.clone();
        match (held.get(&a.id), new) {
            (Some((secret, passphrase)), None) => {
                row.secret_enc = secret.clone();
                row.passphrase_enc = passphrase.clone();
            }
            (Some((secret, passphrase)), Some(_)) => {
                queue(state, &new_relays, &a.id, secret, passphrase.as_deref()).await?;
                row.secret_enc = String::new();
                row.passphrase_enc = None;
            }
            (None, _) => {
                // Delivered to the old relays: the new place has it only if
                // it is one of them.
                let kept = new.is_some_and(|n| old_relays.iter().any(|h| h == n));
                if old.is_some() && !kept {
                    stayed.push(a.id.clone());
                }
            }
        }
        if row != *a {
            state.store.put_account(&row).await?;
        }
    }
    Ok(stayed)
}

// ---- terminals -----------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/terminals", tag = "hosts", params(TerminalFilter),
    responses((status = 200, body = Page<TerminalView>)))]
pub async fn list_terminals(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<TerminalFilter>,
) -> ApiResult<Json<Page<TerminalView>>> {
    caller.require(Function::Hosts, Level::View)?;
    let terminals: Vec<Terminal> = state
        .store
        .list_terminals(caller.company_id())
        .await?
        .into_iter()
        .filter(|t| match f.host_id.as_deref() {
            None => true,
            Some("cloud") => t.host_id.is_none(),
            Some(h) => t.host_id.as_deref() == Some(h),
        })
        .collect();
    let ids: Vec<String> = terminals.iter().map(|t| t.id.clone()).collect();
    let accounts = state.store.accounts_of(&ids).await?;
    let views = terminals
        .into_iter()
        .map(|t| TerminalView::of(t, &accounts))
        .collect();
    let list = ListParams {
        offset: f.offset,
        limit: f.limit,
        sort: f.sort,
        q: f.q,
    };
    Ok(Json(list.apply(
        views,
        |t| {
            format!(
                "{} {} {} {}",
                t.name, t.host_name, t.host_address, t.comments
            )
        },
        &[
            ("name", |t| t.name.clone()),
            ("hostAddress", |t| t.host_address.clone()),
            ("hostId", |t| t.host_id.clone().unwrap_or_default()),
        ],
    )?))
}

#[utoipa::path(post, path = "/api/v1/terminals", tag = "hosts", request_body = TerminalInput,
    responses((status = 201, body = TerminalView)))]
pub async fn create_terminal(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<TerminalInput>,
) -> ApiResult<(StatusCode, Json<TerminalView>)> {
    caller.require(Function::Hosts, Level::Manage)?;
    let t = terminal_from(&state, &caller, uuid::Uuid::now_v7().to_string(), b).await?;
    put_terminal(&state, &caller, &t).await?;
    refresh(&state, &relays_of(&state, t.host_id.as_deref()).await?);
    state
        .audit(&caller, "create", &format!("terminal:{}", t.id), &t.name)
        .await;
    Ok((StatusCode::CREATED, Json(view(&state, t).await?)))
}

/// A terminal with its accounts (never their secrets).
#[utoipa::path(get, path = "/api/v1/terminals/{id}", tag = "hosts", params(("id" = String, Path)),
    responses((status = 200, body = TerminalView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_terminal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TerminalView>> {
    caller.require(Function::Hosts, Level::View)?;
    let t = terminal_of(&state, &caller, &id).await?;
    Ok(Json(view(&state, t).await?))
}

#[utoipa::path(put, path = "/api/v1/terminals/{id}", tag = "hosts", params(("id" = String, Path)),
    request_body = TerminalInput, responses((status = 200, body = TerminalView)))]
pub async fn update_terminal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<TerminalInput>,
) -> ApiResult<Json<TerminalView>> {
    caller.require(Function::Hosts, Level::Manage)?;
    let old = terminal_of(&state, &caller, &id).await?;
    let t = terminal_from(&state, &caller, id.clone(), b).await?;
    put_terminal(&state, &caller, &t).await?;
    let mut stayed = Vec::new();
    if old.host_id != t.host_id {
        let accounts = state.store.accounts_of(std::slice::from_ref(&id)).await?;
        stayed = move_secrets(
            &state,
            &accounts,
            old.host_id.as_deref(),
            t.host_id.as_deref(),
        )
        .await?;
    }
    let mut relays = relays_of(&state, old.host_id.as_deref()).await?;
    relays.extend(relays_of(&state, t.host_id.as_deref()).await?);
    refresh(&state, &relays);
    state
        .audit(&caller, "update", &format!("terminal:{id}"), &t.name)
        .await;
    let mut v = view(&state, t).await?;
    v.secrets_to_set_again = stayed;
    Ok(Json(v))
}

/// Deletes the terminal and its accounts.
#[utoipa::path(delete, path = "/api/v1/terminals/{id}", tag = "hosts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_terminal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Hosts, Level::Manage)?;
    let t = terminal_of(&state, &caller, &id).await?;
    if !state
        .store
        .delete_terminal(caller.company_id(), &id)
        .await?
    {
        return Err(ApiError::not_found("terminal"));
    }
    refresh(&state, &relays_of(&state, t.host_id.as_deref()).await?);
    state
        .audit(&caller, "delete", &format!("terminal:{id}"), &t.name)
        .await;
    Ok(no_content())
}

// ---- accounts ---------------------------------------------------------------------

/// A secret given in an account input.
enum NewSecret {
    Password(String),
    Key {
        private_key: String,
        passphrase: Option<String>,
    },
}

impl NewSecret {
    fn kind(&self) -> &'static str {
        match self {
            NewSecret::Password(_) => "password",
            NewSecret::Key { .. } => "key",
        }
    }
}

fn new_secret(b: &AccountInput, creating: bool) -> ApiResult<Option<NewSecret>> {
    let passphrase = b.passphrase.clone().filter(|p| !p.is_empty());
    match (&b.password, &b.private_key) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "body.privateKey",
            "give a password or a private key, not both",
            "密码和私钥只能给一个",
        )),
        (Some(p), None) if p.is_empty() => Err(ApiError::invalid(
            "body.password",
            "the password is empty",
            "密码为空",
        )),
        (None, Some(k)) if k.trim().is_empty() => Err(ApiError::invalid(
            "body.privateKey",
            "the private key is empty",
            "私钥为空",
        )),
        (Some(_), None) | (None, None) if passphrase.is_some() => Err(ApiError::invalid(
            "body.passphrase",
            "a passphrase goes with a private key",
            "口令须与私钥一起提供",
        )),
        (Some(p), None) => Ok(Some(NewSecret::Password(p.clone()))),
        (None, Some(k)) => Ok(Some(NewSecret::Key {
            private_key: k.clone(),
            passphrase,
        })),
        (None, None) if creating => Err(ApiError::invalid(
            "body.password",
            "a new account needs a password or a private key",
            "新账户需要密码或私钥",
        )),
        (None, None) => Ok(None),
    }
}

/// Saves the account: its secret kept encrypted (a terminal reached from
/// the cloud) or queued for the host's relays (a terminal behind a host).
async fn save_account(
    state: &AppState,
    t: &Terminal,
    mut row: AccountRow,
    secret: Option<NewSecret>,
) -> ApiResult<AccountRow> {
    if row.username.trim().is_empty() {
        return Err(ApiError::invalid(
            "body.username",
            "an account needs a username",
            "账户需要用户名",
        ));
    }
    let enc = secret.as_ref().map(|s| match s {
        NewSecret::Password(p) => (state.key.encrypt(p), None),
        NewSecret::Key {
            private_key,
            passphrase,
        } => (
            state.key.encrypt(private_key),
            passphrase.as_ref().map(|p| state.key.encrypt(p)),
        ),
    });
    if let Some(s) = &secret {
        row.auth_kind = s.kind().into();
    }
    let relays = relays_of(state, t.host_id.as_deref()).await?;
    let mut to_relays = None;
    if t.host_id.is_some() {
        // A secret the row still held (saved before the terminal had a
        // host) goes to the relays too: the cloud keeps none.
        let held = (!row.secret_enc.is_empty()).then(|| {
            (
                std::mem::take(&mut row.secret_enc),
                row.passphrase_enc.take(),
            )
        });
        to_relays = enc.or(held);
        row.passphrase_enc = None;
    } else if let Some((secret, passphrase)) = enc {
        row.secret_enc = secret;
        row.passphrase_enc = passphrase;
    }
    state
        .store
        .put_account(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.username"))?;
    if let Some((secret, passphrase)) = to_relays {
        queue(state, &relays, &row.id, &secret, passphrase.as_deref()).await?;
        refresh(state, &relays);
    }
    Ok(row)
}

#[utoipa::path(post, path = "/api/v1/terminals/{id}/accounts", tag = "hosts", params(("id" = String, Path)),
    request_body = AccountInput, responses((status = 201, body = AccountView)))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<AccountInput>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    caller.require(Function::Hosts, Level::Manage)?;
    let t = terminal_of(&state, &caller, &id).await?;
    let secret = new_secret(&b, true)?;
    let row = AccountRow {
        id: uuid::Uuid::now_v7().to_string(),
        terminal_id: t.id.clone(),
        username: b.username.trim().to_owned(),
        auth_kind: String::new(),
        secret_enc: String::new(),
        passphrase_enc: None,
        comments: b.comments,
    };
    let row = save_account(&state, &t, row, secret).await?;
    state
        .audit(
            &caller,
            "create",
            &format!("terminalAccount:{}", row.id),
            &format!("{}@{}", row.username, t.name),
        )
        .await;
    Ok((StatusCode::CREATED, Json(AccountView::of(&row, &t))))
}

async fn account_of(state: &AppState, t: &Terminal, id: &str) -> ApiResult<AccountRow> {
    state
        .store
        .account(&t.id, Some(id))
        .await?
        .filter(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found("terminal account"))
}

/// Username and comments; a `password` or `privateKey` replaces the secret.
#[utoipa::path(put, path = "/api/v1/terminals/{id}/accounts/{accountId}", tag = "hosts",
    params(("id" = String, Path), ("accountId" = String, Path)),
    request_body = AccountInput, responses((status = 200, body = AccountView)))]
pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, account_id)): Path<(String, String)>,
    Body(b): Body<AccountInput>,
) -> ApiResult<Json<AccountView>> {
    caller.require(Function::Hosts, Level::Manage)?;
    let t = terminal_of(&state, &caller, &id).await?;
    let mut row = account_of(&state, &t, &account_id).await?;
    let secret = new_secret(&b, false)?;
    row.username = b.username.trim().to_owned();
    row.comments = b.comments;
    let row = save_account(&state, &t, row, secret).await?;
    state
        .audit(
            &caller,
            "update",
            &format!("terminalAccount:{account_id}"),
            &format!("{}@{}", row.username, t.name),
        )
        .await;
    Ok(Json(AccountView::of(&row, &t)))
}

#[utoipa::path(delete, path = "/api/v1/terminals/{id}/accounts/{accountId}", tag = "hosts",
    params(("id" = String, Path), ("accountId" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, account_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Function::Hosts, Level::Manage)?;
    let t = terminal_of(&state, &caller, &id).await?;
    let row = account_of(&state, &t, &account_id).await?;
    state.store.delete_account(&t.id, &row.id).await?;
    refresh(&state, &relays_of(&state, t.host_id.as_deref()).await?);
    state
        .audit(
            &caller,
            "delete",
            &format!("terminalAccount:{account_id}"),
            &format!("{}@{}", row.username, t.name),
        )
        .await;
    Ok(no_content())
}
