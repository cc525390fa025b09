//! Deployments: a compiled BPMN document under a key and version, and the
//! deploy-time check that every job kind it needs has a handler.

use std::sync::Arc;

use baton_model::{CallTarget, Diagnostic, El, Kind, Model, Rejected, TaskKind, Trigger};

/// The deploy-time check of one job: its kind and its properties; `Err`
/// says what is wrong (see [`crate::engine::JobHandler::check`]).
pub type JobCheck<'a> =
    dyn Fn(&str, &serde_json::Map<String, serde_json::Value>) -> Result<(), String> + 'a;

/// A user task's literal `dueDate` that no task could be given (an
/// expression is evaluated when the task is created; see
/// [`baton_core::due_date`]).
fn due_dates(model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for e in &model.elements {
        let user = matches!(
            &e.kind,
            Kind::Task(TaskKind::User) | Kind::CallActivity(CallTarget::GlobalTask(TaskKind::User))
        );
        let Some(due) = e
            .ext
            .as_ref()
            .and_then(|x| x.attrs.get("dueDate"))
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
        else {
            continue;
        };
        if !user || due.is_empty() || due.contains("${") || due.contains("#{") {
            continue;
        }
        if let Err(message) = baton_core::due_date(0, due) {
            out.push(Diagnostic::new(
                "invalid",
                Some(&e.id),
                e.pos,
                format!("due date: {message}"),
            ));
        }
    }
    out
}

/// A deployed, compiled definitions document.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// `key:version`.
    pub id: String,
    pub key: String,
    pub version: i32,
    pub model: Arc<Model>,
}

impl Deployment {
    /// Compile `xml` and `check` every job it needs (kind supported,
    /// properties valid; see [`crate::engine::JobHandler::check`]).
    pub fn compile(
        key: Option<&str>,
        version: i32,
        xml: &str,
        check: &JobCheck<'_>,
    ) -> Result<Deployment, Rejected> {
        let model = baton_model::compile(xml)?;
        let mut diags = Vec::new();
        for (el, kind) in model.job_kinds() {
            let e = model.element(el);
            let props = crate::job::job_props(e);
            if let Err(message) = check(&kind, &props) {
                diags.push(Diagnostic::new("unsupported", Some(&e.id), e.pos, message));
            }
        }
        diags.extend(due_dates(&model));
        if !diags.is_empty() {
            return Err(Rejected(diags));
        }
        let key = match key {
            Some(k) => k.to_owned(),
            None => model
                .main_process()
                .map(|p| model.element(p).id.clone())
                .unwrap_or_else(|| "process".to_owned()),
        };
        Ok(Deployment {
            id: format!("{key}:{version}"),
            key,
            version,
            model: Arc::new(model),
        })
    }

    /// Top-level start events with a trigger `pick` accepts: (process, start event, trigger).
    pub fn starts_where(&self, pick: impl Fn(&Trigger) -> bool) -> Vec<(El, El, &Trigger)> {
        let m = &self.model;
        let mut out = Vec::new();
        for &p in &m.processes {
            for &c in &m.element(p).children {
                if let Kind::StartEvent { triggers, .. } = &m.element(c).kind
                    && let Some(t) = triggers.iter().find(|t| pick(t))
                {
                    out.push((p, c, t));
                }
            }
        }
        out
    }

    /// Top-level start events of `process` triggered by a message or signal named `name`.
    pub fn event_starts(&self, signal: bool, name: &str) -> Vec<(El, El)> {
        let m = &self.model;
        let mut out = Vec::new();
        for &p in &m.processes {
            for &c in &m.element(p).children {
                if let Kind::StartEvent { triggers, .. } = &m.element(c).kind {
                    let hit = triggers.iter().any(|t| match t {
                        Trigger::Message(i) if !signal => m.messages[*i as usize].name == name,
                        Trigger::Signal(i) if signal => m.signals[*i as usize].name == name,
                        _ => false,
                    });
                    if hit {
                        out.push((p, c));
                    }
                }
            }
        }
        out
    }
}
