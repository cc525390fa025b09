//! Scopes: starting a process or sub-process instance, noticing when it has
//! finished, and cancelling executions with everything inside them.

use baton_model::{El, Kind};
use serde_json::{Map, Value};

use super::{Op, Run};
use crate::protocol::{Action, HistoryKind, StepError};
use crate::state::{ExecId, Status, Wait};

impl Run<'_> {
    pub(super) fn start(
        &mut self,
        vars: Map<String, Value>,
        start: Option<El>,
    ) -> Result<(), StepError> {
        if !self.st.execs.is_empty() || self.st.next_id != 1 {
            return Err(StepError::AlreadyStarted);
        }
        let p = self.st.process;
        if let Some(s) = start {
            let ok = self.m.element(s).parent == Some(p)
                && matches!(self.m.element(s).kind, Kind::StartEvent { .. });
            if !ok {
                return Err(StepError::CannotStart(format!(
                    "`{}` is not a start event of process `{}`",
                    self.m.element(s).id,
                    self.m.element(p).id
                )));
            }
        } else if !has_plain_start(self, p) {
            return Err(StepError::CannotStart(format!(
                "process `{}` has no none start event; it starts by message, signal or timer",
                self.m.element(p).id
            )));
        }
        self.st.vars = vars;
        let root = self.new_id();
        self.push_exec(root, p, None, Wait::Scope);
        self.history(root, p, HistoryKind::Started);
        self.start_scope(root, start);
        Ok(())
    }

    /// Subscribe the scope's event sub-processes and send tokens to its start.
    pub(super) fn start_scope(&mut self, scope: ExecId, start: Option<El>) {
        let el = self.element_of(scope).expect("scope exists");
        let e = self.m.element(el);
        for &es in &e.event_subprocesses {
            if let Some(&s) = self
                .m
                .element(es)
                .children
                .iter()
                .find(|c| matches!(self.m.element(**c).kind, Kind::StartEvent { .. }))
            {
                self.subscribe_all(scope, s);
            }
        }
        if let Some(s) = start {
            self.queue.push_back(Op::Arrive {
                scope,
                el: s,
                via: None,
            });
            return;
        }
        let m = self.m;
        let mut started = false;
        for &c in &e.children {
            if matches!(&m.element(c).kind, Kind::StartEvent { triggers, .. } if triggers.is_empty())
            {
                self.queue.push_back(Op::Arrive {
                    scope,
                    el: c,
                    via: None,
                });
                started = true;
            }
        }
        if started {
            return;
        }
        if let Kind::SubProcess {
            ad_hoc: Some(ah), ..
        } = &e.kind
        {
            let sequential = ah.sequential;
            let firsts: Vec<El> = e
                .children
                .iter()
                .copied()
                .filter(|c| ad_hoc_member(m, *c))
                .collect();
            for c in firsts.iter().take(if sequential { 1 } else { usize::MAX }) {
                self.queue.push_back(Op::Arrive {
                    scope,
                    el: *c,
                    via: None,
                });
            }
            if let Some(x) = self.st.exec_mut(scope) {
                x.count = if sequential { 1 } else { firsts.len() as u32 };
            }
            self.queue.push_back(Op::CheckScope(scope));
            return;
        }
        for &c in &e.children {
            if implicit_start(m, c) {
                self.queue.push_back(Op::Arrive {
                    scope,
                    el: c,
                    via: None,
                });
            }
        }
        self.queue.push_back(Op::CheckScope(scope));
    }

    /// A scope with no children and no waiting tokens has finished.
    pub(super) fn check_scope(&mut self, scope: ExecId) {
        let Some(x) = self.st.exec(scope) else { return };
        if matches!(x.wait, Wait::Compensating { .. }) {
            self.compensation_step_done(scope);
            return;
        }
        if !matches!(x.wait, Wait::Scope) {
            return;
        }
        let busy = self.st.execs.iter().any(|e| e.parent == Some(scope))
            || self
                .st
                .joins
                .iter()
                .any(|j| j.scope == scope && j.counts.iter().any(|c| *c > 0));
        if busy {
            return;
        }
        let el = x.element;
        if let Kind::SubProcess {
            ad_hoc: Some(ah), ..
        } = &self.m.element(el).kind
            && ah.sequential
        {
            let members: Vec<El> = self
                .m
                .element(el)
                .children
                .iter()
                .copied()
                .filter(|c| ad_hoc_member(self.m, *c))
                .collect();
            let next = x.count as usize;
            if let Some(&c) = members.get(next) {
                if let Some(x) = self.st.exec_mut(scope) {
                    x.count += 1;
                }
                self.queue.push_back(Op::Arrive {
                    scope,
                    el: c,
                    via: None,
                });
                return;
            }
        }
        self.complete_scope(scope);
    }

    fn complete_scope(&mut self, scope: ExecId) {
        let Some(x) = self.st.exec(scope) else { return };
        let (el, parent) = (x.element, x.parent);
        self.drop_subs_of(scope);
        self.st.joins.retain(|j| j.scope != scope);
        match parent {
            None => {
                self.history(scope, el, HistoryKind::Completed);
                self.remove_exec(scope);
                let status = if self.st.status == Status::Running {
                    Status::Completed
                } else {
                    self.st.status
                };
                self.finish_instance(status);
            }
            Some(p) => {
                if matches!(
                    self.m.element(el).kind,
                    Kind::SubProcess {
                        triggered_by_event: true,
                        ..
                    }
                ) {
                    self.history(scope, el, HistoryKind::Completed);
                    self.remove_exec(scope);
                    self.queue.push_back(Op::CheckScope(p));
                } else {
                    self.complete_activity(scope);
                }
            }
        }
    }

    /// Cancel an execution and everything below it, telling the runtime what to stop.
    pub(super) fn cancel_exec(&mut self, exec: ExecId) {
        for c in self.children_of(exec) {
            self.cancel_exec(c);
        }
        self.drop_subs_of(exec);
        self.st.joins.retain(|j| j.scope != exec);
        self.st.compensable.retain(|c| c.scope != exec);
        let Some(x) = self.remove_exec(exec) else {
            return;
        };
        match x.wait {
            Wait::Job { .. } => self.out.actions.push(Action::CancelJob { exec }),
            Wait::Task => self.out.actions.push(Action::CancelTask { exec }),
            Wait::Child => self.out.actions.push(Action::CancelChild { exec }),
            _ => {}
        }
        self.history(exec, x.element, HistoryKind::Terminated);
    }

    /// Cancel all children of a scope, keeping the scope itself.
    pub(super) fn cancel_children(&mut self, scope: ExecId) {
        for c in self.children_of(scope) {
            self.cancel_exec(c);
        }
        self.st.joins.retain(|j| j.scope != scope);
    }

    /// End the whole instance now, cancelling whatever still runs.
    pub(super) fn end_instance(&mut self, status: Status) {
        if let Some(root) = self.root() {
            let el = self
                .st
                .exec(root)
                .map(|e| e.element)
                .unwrap_or(self.st.process);
            self.cancel_children(root);
            self.drop_subs_of(root);
            self.remove_exec(root);
            let kind = if status == Status::Failed {
                HistoryKind::Failed {
                    message: self.st.error.clone().unwrap_or_default(),
                }
            } else {
                HistoryKind::Terminated
            };
            self.history(root, el, kind);
        }
        self.finish_instance(status);
    }

    fn finish_instance(&mut self, status: Status) {
        self.queue.clear();
        self.checks.clear();
        for s in std::mem::take(&mut self.st.subs) {
            self.unsubscribe_action(&s);
        }
        self.st.execs.clear();
        self.st.joins.clear();
        self.st.status = status;
        self.out.actions.push(Action::Ended { status });
    }
}

fn has_plain_start(run: &Run<'_>, p: El) -> bool {
    let e = run.m.element(p);
    let mut any_start = false;
    for &c in &e.children {
        if let Kind::StartEvent { triggers, .. } = &run.m.element(c).kind {
            any_start = true;
            if triggers.is_empty() {
                return true;
            }
        }
    }
    !any_start
}

/// Elements of an ad-hoc sub-process that run as its members.
fn ad_hoc_member(m: &baton_model::Model, c: El) -> bool {
    let e = m.element(c);
    e.incoming.is_empty() && !e.for_compensation && !matches!(e.kind, Kind::Boundary { .. })
}

fn implicit_start(m: &baton_model::Model, c: El) -> bool {
    let e = m.element(c);
    e.incoming.is_empty()
        && !e.for_compensation
        && !matches!(&e.kind, Kind::Boundary { .. } | Kind::StartEvent { .. })
        && !matches!(&e.kind, Kind::CatchEvent { triggers, .. }
            if triggers.iter().any(|t| matches!(t, baton_model::Trigger::Link(_))))
}
