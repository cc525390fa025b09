//! Telling people of their tasks by mail: when a user task gets an assignee
//! (created assigned, claimed or delegated) or a helper, that user receives
//! a mail with a signed approval link (`routes/approvals.rs`) that opens the
//! task on the mobile page; when an open task passes its due date, its
//! assignee and helpers are reminded the same way, once per due date. The
//! live feed says when (`baton_runtime::feed`); the `task_notices` table
//! (and `tasks.overdue_notice_at` for reminders) makes one server send each
//! notice once, however many servers hear of the task. Mail goes through the `mail` node, so SMTP,
//! STARTTLS / TLS and credentials behave exactly as in a process.

use std::sync::Arc;
use std::time::Duration;

use baton_nodes::resources::MemResources;
use baton_nodes::{Ctx, JobInfo, Registry, RunResult};
use baton_runtime::feed::Change;
use baton_runtime::store::{UserRow, UserTaskRow};
use serde_json::{Map, Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::now_ms;

/// Where notices are sent from (`serve --smtp-*`).
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls` (default by port, as the mail node does).
    pub security: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `Baton <baton@example.com>`.
    pub from: String,
    /// The server's address as people reach it, e.g. `https://baton.example.com`.
    pub public_url: String,
}

/// Sends notices for as long as the engine runs.
pub fn spawn(state: AppState, mail: MailSettings) {
    let Some(engine) = state.engine.get() else {
        return;
    };
    let mut rx = engine.feed().subscribe();
    let (reminders, mail2) = (state.clone(), mail.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(OVERDUE_EVERY);
        loop {
            every.tick().await;
            remind_overdue(&reminders, &mail2).await;
        }
    });
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(batch) => {
                    for c in batch.iter() {
                        let Change::Task {
                            company,
                            id,
                            state: s,
                            assignee,
                            helpers,
                            ..
                        } = c
                        else {
                            continue;
                        };
                        if s != "open" {
                            continue;
                        }
                        // The assignee and every helper, each once per task.
                        for who in assignee.iter().chain(helpers) {
                            if let Err(e) = notify(&state, &mail, company, id, who).await {
                                tracing::warn!(task = id, "task notice: {e}");
                            }
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("task notices: {n} batches of changes missed (busy)")
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Mails `assignee` (or a helper) a link to task `id`, unless somebody did already.
async fn notify(
    state: &AppState,
    mail: &MailSettings,
    company: &str,
    id: &str,
    assignee: &str,
) -> Result<(), String> {
    let store = &state.store;
    let err = |e: baton_runtime::store::Error| e.to_string();
    let Some(user) = person(state, company, assignee).await? else {
        return Ok(()); // Nobody to write to: the live feed tells the UI.
    };
    let Some(task) = store.user_task(id).await.map_err(err)? else {
        return Ok(());
    };
    if task.state != "open"
        || !store
            .claim_task_notice(id, &user.id, now_ms())
            .await
            .map_err(err)?
    {
        return Ok(());
    }
    mail_link(state, mail, company, &task, &user, false).await
}

/// How often open tasks are checked for a due date just passed.
const OVERDUE_EVERY: Duration = Duration::from_secs(60);

/// Reminds the assignee and the helpers of every open task that passed its
/// due date (once per due date, whichever server gets there first), each
/// with a fresh link; returns how many tasks. `spawn` runs it every minute.
pub async fn remind_overdue(state: &AppState, mail: &MailSettings) -> usize {
    let store = &state.store;
    let now = now_ms();
    let ids = match store.overdue_unnoticed(now, 100).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!("listing overdue tasks: {e}");
            return 0;
        }
    };
    let mut reminded = 0;
    for id in ids {
        match store.claim_overdue_notice(&id, now).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(task = id, "claiming an overdue notice: {e}");
                continue;
            }
        }
        let task = match store.user_task(&id).await {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(task = id, "reading an overdue task: {e}");
                continue;
            }
        };
        reminded += 1;
        let company = baton_runtime::tenancy::company_of(&task.definition_id).to_owned();
        for who in task.assignee.iter().chain(&task.helpers) {
            let sent = match person(state, &company, who).await {
                Ok(Some(user)) => mail_link(state, mail, &company, &task, &user, true).await,
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                tracing::warn!(task = id, "overdue notice: {e}");
            }
        }
    }
    reminded
}

/// The active user of `company` that `who` (an id or a username) names,
/// if it has a mail address.
async fn person(state: &AppState, company: &str, who: &str) -> Result<Option<UserRow>, String> {
    let store = &state.store;
    let err = |e: baton_runtime::store::Error| e.to_string();
    let user = match store.user(who).await.map_err(err)? {
        Some(u) if u.company_id == company => Some(u),
        _ => store.user_by_name(company, who).await.map_err(err)?,
    };
    Ok(user.filter(|u| !u.disabled && !u.email.trim().is_empty()))
}

/// Mails `user` a signed link to `task`: that it waits for them or, when
/// `overdue`, that it is past its due date.
async fn mail_link(
    state: &AppState,
    mail: &MailSettings,
    company: &str,
    task: &UserTaskRow,
    user: &UserRow,
    overdue: bool,
) -> Result<(), String> {
    let link = crate::routes::approvals::issue(
        state,
        company,
        &task.id,
        &user.id,
        crate::routes::approvals::DEFAULT_HOURS,
    )
    .await
    .map_err(|e| e.en)?;
    let what = task.name.clone().unwrap_or_else(|| task.element_id.clone());
    let process = task
        .process_name
        .clone()
        .unwrap_or_else(|| baton_runtime::tenancy::bare(&task.definition_id).to_owned());
    let url = format!("{}{}", mail.public_url.trim_end_matches('/'), link.url);
    let utc = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let until = utc(link.expires_at);
    let name = &user.name;
    let (subject, text) = if overdue {
        let due = task.due_at.map(utc).unwrap_or_default();
        (
            format!("[Baton] 已逾期 Overdue: {what}"),
            format!(
                "{name}，待办已逾期：{what}（流程 {process}，截止 {due}）。\n打开并办理：{url}\n\
                 （链接仅可使用一次，{until} 前有效）\n\n\
                 {name}, a task is past its due date: {what} (process {process}, due {due}).\n\
                 Open and act on it: {url}\n(the link works once, until {until})\n"
            ),
        )
    } else {
        (
            format!("[Baton] {what}"),
            format!(
                "{name}，您有一项待办：{what}（流程 {process}）。\n打开并办理：{url}\n\
                 （链接仅可使用一次，{until} 前有效）\n\n\
                 {name}, a task waits for you: {what} (process {process}).\n\
                 Open and act on it: {url}\n(the link works once, until {until})\n"
            ),
        )
    };
    send(mail, &user.email, &subject, &text).await
}

/// One plain-text mail through the `mail` node. Every value is a variable,
/// so nothing in a task's name is read as `${}`.
async fn send(mail: &MailSettings, to: &str, subject: &str, text: &str) -> Result<(), String> {
    let mut props = Map::new();
    let mut vars = Map::new();
    let mut set = |name: &str, value: Value| {
        props.insert(name.into(), json!(format!("${{{name}}}")));
        vars.insert(name.into(), value);
    };
    set("smtpHost", json!(mail.host));
    set("smtpPort", json!(mail.port));
    if let Some(s) = &mail.security {
        set("smtpSecurity", json!(s));
    }
    if let Some(u) = &mail.user {
        set("smtpUser", json!(u));
    }
    if let Some(p) = &mail.password {
        set("smtpPassword", json!(p));
    }
    set("from", json!(mail.from));
    set("to", json!(to));
    set("subject", json!(subject));
    set("text", json!(text));
    let ctx = Ctx::new(
        JobInfo {
            element_id: "task-notice".into(),
            ..Default::default()
        },
        props,
        Arc::new(MemResources::default()),
    )
    .with_vars(vars);
    match Registry::with_defaults().run("mail", ctx).await {
        RunResult::Done { .. } => Ok(()),
        RunResult::Failed(e) => Err(e.to_string()),
    }
}
