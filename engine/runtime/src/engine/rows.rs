//! Turning one step's actions and history into store rows, and the
//! persisted form of an instance.

use baton_core::{Action, HistoryEvent, HistoryKind, InstanceState};
use baton_model::Model;
use serde::{Deserialize, Serialize};

use crate::store::{Batch, HistoryRow, IncidentRow, SubscriptionRow, TaskRow, TimerRow};

/// What an instance row's `state` column holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Persisted {
    pub state: InstanceState,
    /// The last history sequence number written.
    pub seq: i64,
}

pub fn history_row(instance: &str, seq: i64, model: &Model, h: &HistoryEvent) -> HistoryRow {
    let (kind, data) = match &h.kind {
        HistoryKind::Passed => ("passed", None),
        HistoryKind::Started => ("started", None),
        HistoryKind::Completed => ("completed", None),
        HistoryKind::Terminated => ("terminated", None),
        HistoryKind::Retried => ("retried", None),
        HistoryKind::Skipped => ("skipped", None),
        HistoryKind::Failed { message } => {
            ("failed", Some(serde_json::json!({ "message": message })))
        }
        HistoryKind::Thrown { what, caught } => (
            "thrown",
            Some(serde_json::json!({ "what": what, "caught": caught })),
        ),
    };
    HistoryRow {
        instance_id: instance.to_owned(),
        seq,
        exec: i64::from(h.exec),
        element_id: model.element(h.element).id.clone(),
        kind: kind.to_owned(),
        data: data.map(|d| d.to_string()),
        at: h.at,
    }
}

/// One row per activity instance: a retry replaces the failed attempt's row.
pub fn job_id(instance: &str, exec: u32) -> String {
    format!("{instance}:{exec}")
}

pub fn sub_id(instance: &str, sub: u32) -> String {
    format!("{instance}:{sub}")
}

/// Rows for the actions that only touch this instance's own bookkeeping
/// (timers, subscriptions, tasks, incidents). Jobs, children, signals and
/// messages need the engine and are handled there.
/// `company`: the instance's; signal and message names are stored qualified
/// with it ([`crate::tenancy`]).
pub fn bookkeeping(
    instance: &str,
    company: &str,
    model: &Model,
    state: &InstanceState,
    now: i64,
    a: &Action,
    b: &mut Batch,
) {
    match a {
        Action::SetTimer { sub, element, due } => {
            let id = sub_id(instance, *sub);
            // A cycle re-arms the same timer: replace the fired row.
            b.timers_cancelled.push(id.clone());
            b.timers_new.push(TimerRow {
                id,
                instance_id: instance.to_owned(),
                sub: i64::from(*sub),
                element_id: model.element(*element).id.clone(),
                due_at: *due,
                lease_until: None,
            });
        }
        Action::CancelTimer { sub } => {
            // Armed earlier in this same batch: then it never reaches the store.
            let id = sub_id(instance, *sub);
            b.timers_new.retain(|t| t.id != id);
            b.timers_cancelled.push(id);
        }
        Action::SubscribeMessage { sub, name, .. } | Action::SubscribeSignal { sub, name, .. } => {
            let (kind, key) = match a {
                Action::SubscribeMessage { key, .. } => ("message", key.clone()),
                _ => ("signal", None),
            };
            b.subs_new.push(SubscriptionRow {
                id: sub_id(instance, *sub),
                instance_id: instance.to_owned(),
                sub: i64::from(*sub),
                kind: kind.to_owned(),
                name: crate::tenancy::qualify_name(company, name),
                correlation_key: key,
                created_at: now,
            });
        }
        Action::Unsubscribe { sub } => {
            let id = sub_id(instance, *sub);
            let before = b.subs_new.len();
            b.subs_new.retain(|s| s.id != id);
            if before == b.subs_new.len() {
                b.subs_done.push(id);
            }
        }
        Action::CreateTask { exec, element, due } => {
            let e = model.element(*element);
            let attr = |k: &str| {
                e.ext
                    .as_ref()
                    .and_then(|x| x.attrs.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let who = |k: &str| resolve(instance, &e.id, k, attr(k), state, *exec);
            b.tasks_new.push(TaskRow {
                id: sub_id(instance, *exec),
                instance_id: instance.to_owned(),
                exec: i64::from(*exec),
                element_id: e.id.clone(),
                name: e.name.clone(),
                assignee: who("assignee"),
                candidate_groups: who("candidateGroups"),
                form_key: attr("formKey"),
                state: "open".to_owned(),
                created_at: now,
                ended_at: None,
                due_at: *due,
            });
        }
        Action::CancelTask { exec } => {
            b.tasks_ended
                .push((sub_id(instance, *exec), "cancelled".to_owned(), now))
        }
        Action::Incident {
            exec,
            element,
            message,
        } => b.incidents_new.push(IncidentRow {
            id: format!("{instance}:{exec}:{now}"),
            instance_id: instance.to_owned(),
            exec: i64::from(*exec),
            element_id: model.element(*element).id.clone(),
            message: message.clone(),
            created_at: now,
            resolved_at: None,
        }),
        _ => {}
    }
}

/// A task's `assignee` or `candidateGroups` as written, or — when it holds
/// `${…}` (`${initiator}`, `${approvers}`) — evaluated over the variables the
/// task sees: a list becomes a comma list. An expression that cannot be
/// evaluated is kept as written (nobody holds such a task; an admin can
/// delegate it) and logged.
fn resolve(
    instance: &str,
    element: &str,
    what: &str,
    written: Option<String>,
    state: &InstanceState,
    exec: u32,
) -> Option<String> {
    let text = written?;
    if !text.contains("${") && !text.contains("#{") {
        return Some(text);
    }
    let vars = baton_core::visible_vars(state, exec);
    let value = baton_expr::parse_template(&text)
        .map_err(|e| e.to_string())
        .and_then(|t| t.eval(&vars).map_err(|e| e.to_string()));
    match value {
        Ok(serde_json::Value::Null) => None,
        Ok(serde_json::Value::String(s)) => Some(s),
        Ok(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
        ),
        Ok(other) => Some(other.to_string()),
        Err(e) => {
            tracing::warn!(
                instance,
                element,
                "task {what} `{text}`: {e}; kept as written"
            );
            Some(text)
        }
    }
}
