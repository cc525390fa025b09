//! Routing between instances within one cycle: signals to every waiting
//! instance and signal start event, a message to one waiting subscription
//! (by name and correlation key) or a message start event, and cancelling
//! the children of an interrupted call activity.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use baton_core::{Command, ExecId};
use baton_model::El;
use serde_json::{Map, Value};

use super::cycle::{Cycle, Work};
use crate::deploy::Deployment;

impl Cycle<'_> {
    /// The caller's call activity was interrupted: its child instances end too.
    pub(super) async fn cancel_children(
        &mut self,
        parent: &str,
        exec: ExecId,
        more: &mut VecDeque<Work>,
    ) {
        let mut children: Vec<String> = match self
            .inner
            .store
            .running_children(parent, i64::from(exec))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(instance = parent, "looking up child instances: {e}");
                Vec::new()
            }
        };
        // Children started in this same cycle are not in the store yet.
        children.extend(
            self.cache
                .iter()
                .filter(|(_, l)| {
                    l.version.is_none()
                        && l.row.parent_instance.as_deref() == Some(parent)
                        && l.row.parent_exec == Some(i64::from(exec))
                })
                .map(|(k, _)| k.clone()),
        );
        for c in children {
            let cmd = Command::Terminate {
                reason: "the calling activity was cancelled".into(),
            };
            more.push_back(Work::Cmd { instance: c, cmd });
        }
    }

    /// A signal thrown in `company` reaches that company's waiting instances
    /// and signal start events only.
    pub(super) async fn route_signal(
        &mut self,
        from: &str,
        company: &str,
        name: &str,
        vars: &Map<String, Value>,
        more: &mut VecDeque<Work>,
    ) {
        let stored = crate::tenancy::qualify_name(company, name);
        let mut targets: HashSet<String> = HashSet::new();
        if let Ok(subs) = self.inner.store.subscriptions("signal", &stored).await {
            targets.extend(subs.into_iter().map(|s| s.instance_id));
        }
        targets.extend(
            self.batch
                .subs_new
                .iter()
                .filter(|s| s.kind == "signal" && s.name == stored)
                .map(|s| s.instance_id.clone()),
        );
        targets.remove(from);
        for t in targets {
            more.push_back(Work::Cmd {
                instance: t,
                cmd: Command::Signal {
                    name: name.to_owned(),
                    vars: vars.clone(),
                },
            });
        }
        for (d, p, s) in self.event_starts(true, company, name) {
            more.push_back(Work::Start {
                key: d.key.clone(),
                vars: vars.clone(),
                way: "signal",
                start: Some((d, p, s)),
                parent: None,
                reply: None,
            });
        }
    }

    /// Deliver a message to one waiting subscription (a keyed one needs the
    /// same key; an unkeyed one takes any), else to a message start event.
    pub(super) async fn route_message(
        &mut self,
        company: &str,
        name: &str,
        key: Option<&str>,
        vars: &Map<String, Value>,
        more: &mut VecDeque<Work>,
    ) {
        let stored = crate::tenancy::qualify_name(company, name);
        let fits = |s: &crate::store::SubscriptionRow, consumed: &HashSet<String>| {
            s.kind == "message"
                && s.name == stored
                && !consumed.contains(&s.id)
                && s.correlation_key.as_deref().is_none_or(|k| Some(k) == key)
        };
        let mut target = self
            .batch
            .subs_new
            .iter()
            .find(|s| fits(s, &self.consumed))
            .cloned();
        if target.is_none() {
            let stored = self
                .inner
                .store
                .subscriptions("message", &stored)
                .await
                .unwrap_or_default();
            let gone: HashSet<&String> = self.batch.subs_done.iter().collect();
            target = stored
                .into_iter()
                .find(|s| !gone.contains(&s.id) && fits(s, &self.consumed));
        }
        if let Some(s) = target {
            self.consumed.insert(s.id.clone());
            let cmd = Command::MessageReceived {
                sub: s.sub as u32,
                vars: vars.clone(),
            };
            more.push_back(Work::Cmd {
                instance: s.instance_id,
                cmd,
            });
            return;
        }
        if let Some((d, p, s)) = self.event_starts(false, company, name).into_iter().next() {
            more.push_back(Work::Start {
                key: d.key.clone(),
                vars: vars.clone(),
                way: "message",
                start: Some((d, p, s)),
                parent: None,
                reply: None,
            });
        } else {
            tracing::warn!(
                message = name,
                key,
                "no instance or message start event waits for this message; dropped"
            );
        }
    }

    /// Latest deployments of `company` with a start event for the signal or message `name`.
    pub(super) fn event_starts(
        &self,
        signal: bool,
        company: &str,
        name: &str,
    ) -> Vec<(Arc<Deployment>, El, El)> {
        let d = self
            .inner
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for id in d.latest.values() {
            if let Some(dep) = d.by_id.get(id)
                && crate::tenancy::company_of(&dep.key) == company
            {
                for (p, s) in dep.event_starts(signal, name) {
                    out.push((dep.clone(), p, s));
                }
            }
        }
        out
    }
}
