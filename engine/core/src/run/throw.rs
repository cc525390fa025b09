//! Throwing: what end events and intermediate throw events do — terminate,
//! errors and escalations (propagated to the nearest catcher), signals,
//! messages, links, cancel and compensation.

use baton_model::{El, Kind, Throw, Trigger};

use super::{Op, Run};
use crate::protocol::{Action, HistoryKind};
use crate::state::{AfterCompensation, ExecId, Status, Wait};

/// How a throw was caught.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caught {
    No,
    /// Caught without cancelling anything.
    Alongside,
    /// Caught by an interrupting catcher: the thrower's token is gone.
    Interrupting,
}

/// What kind of throw is being propagated.
#[derive(Clone, Copy)]
enum Thrown<'a> {
    Error(Option<&'a str>),
    Escalation(Option<&'a str>),
}

impl Run<'_> {
    /// Carry out one result of a throw or end event in `scope`. Returns
    /// whether the token continues (for intermediate throw events).
    pub(super) fn throw_result(
        &mut self,
        scope: ExecId,
        el: El,
        id: ExecId,
        r: &Throw,
        end: bool,
    ) -> bool {
        let m = self.m;
        match r {
            Throw::Terminate => {
                self.terminate_scope(scope);
                false
            }
            Throw::Error(e) => {
                let code = e.map(|i| code_of(&m.errors[i as usize]));
                let msg = format!("error end event `{}`", m.element(el).id);
                self.throw_error(scope, code, &msg, false);
                false
            }
            Throw::Escalation(e) => {
                let code = e.map(|i| code_of(&m.escalations[i as usize]));
                let interrupted = self.throw_escalation(scope, code);
                if end {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                !interrupted
            }
            Throw::Signal(s) => {
                let name = s
                    .map(|i| m.signals[i as usize].name.clone())
                    .unwrap_or_default();
                let vars = self.visible_vars(scope);
                self.out.actions.push(Action::ThrowSignal {
                    name: name.clone(),
                    vars: vars.clone(),
                });
                self.queue.push_back(Op::Signal(Box::new((name, vars))));
                if end {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                true
            }
            Throw::Message(msg) => {
                let name = msg
                    .map(|i| m.messages[i as usize].name.clone())
                    .unwrap_or_default();
                let vars = self.visible_vars(scope);
                let key = self.correlation_key(scope, el);
                self.out
                    .actions
                    .push(Action::SendMessage { name, key, vars });
                if end {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                true
            }
            Throw::Link(name) => {
                let target = m.element(el).parent.and_then(|p| {
                    m.element(p).children.iter().copied().find(|c| {
                        matches!(&m.element(*c).kind, Kind::CatchEvent { triggers, .. }
                            if triggers.iter().any(|t| matches!(t, Trigger::Link(n) if n == name)))
                    })
                });
                if let Some(t) = target {
                    self.queue.push_back(Op::Arrive {
                        scope,
                        el: t,
                        via: None,
                    });
                }
                false
            }
            Throw::Compensation { activity, wait } => {
                let then = if end {
                    AfterCompensation::End
                } else {
                    AfterCompensation::Continue
                };
                let waiting = self.compensate(scope, el, id, *activity, then);
                if !waiting && end {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                // The throw event continues once its handlers finish (or at once).
                !waiting || !*wait
            }
            Throw::Cancel => {
                self.cancel_transaction(scope, el, id);
                false
            }
        }
    }

    /// A terminate end event ends its scope: the whole instance at process
    /// level, only the sub-process inside one.
    fn terminate_scope(&mut self, scope: ExecId) {
        if self.parent_of(scope).is_none() {
            self.end_instance(Status::Terminated);
            return;
        }
        self.cancel_children(scope);
        self.queue.push_back(Op::CheckScope(scope));
    }

    /// Propagate a BPMN error from `from` outwards to the nearest error
    /// boundary event or error event sub-process. `from_activity`: `from` is
    /// the failing activity itself (its own boundaries come first).
    pub(crate) fn throw_error(
        &mut self,
        from: ExecId,
        code: Option<&str>,
        message: &str,
        from_activity: bool,
    ) {
        let el = self.element_of(from).unwrap_or(self.st.process);
        self.history(
            from,
            el,
            HistoryKind::Thrown {
                what: format!("error {}", code.unwrap_or("(any)")),
                caught: true,
            },
        );
        if self.propagate(from, Thrown::Error(code), from_activity) != Caught::No {
            return;
        }
        if let Some(h) = self.out.history.last_mut()
            && let HistoryKind::Thrown { caught, .. } = &mut h.kind
        {
            *caught = false;
        }
        self.st.error = Some(match code {
            Some(c) => format!("uncaught BPMN error `{c}`: {message}"),
            None => format!("uncaught BPMN error: {message}"),
        });
        self.end_instance(Status::Failed);
    }

    /// Returns whether an interrupting catcher took the thrower's scope away.
    fn throw_escalation(&mut self, from: ExecId, code: Option<&str>) -> bool {
        let el = self.element_of(from).unwrap_or(self.st.process);
        let caught = self.propagate(from, Thrown::Escalation(code), false);
        let what = format!("escalation {}", code.unwrap_or("(any)"));
        self.history(
            from,
            el,
            HistoryKind::Thrown {
                what,
                caught: caught != Caught::No,
            },
        );
        caught == Caught::Interrupting
    }

    /// Walk from `from` up the execution tree. At each scope instance look at
    /// its event sub-processes, then at the boundary events of the activity
    /// it is.
    fn propagate(&mut self, from: ExecId, what: Thrown<'_>, from_activity: bool) -> Caught {
        let mut cur = Some(from);
        let mut check_event_subs = !from_activity;
        while let Some(x) = cur {
            let Some(exec) = self.st.exec(x) else {
                return Caught::No;
            };
            let (el, parent) = (exec.element, exec.parent);
            let is_scope = matches!(exec.wait, Wait::Scope) && self.m.element(el).is_scope();
            if check_event_subs && is_scope {
                let c = self.catch_in_event_sub(x, el, what);
                if c != Caught::No {
                    return c;
                }
            }
            check_event_subs = true;
            // Iterations of a multi-instance body share the body's boundary events.
            let is_iteration = parent
                .and_then(|p| self.st.exec(p))
                .is_some_and(|p| matches!(p.wait, Wait::Multi(_)) && p.element == el);
            if !is_iteration {
                let c = self.catch_on_boundary(x, el, what);
                if c != Caught::No {
                    return c;
                }
            }
            cur = parent;
        }
        Caught::No
    }

    fn catch_in_event_sub(&mut self, scope: ExecId, el: El, what: Thrown<'_>) -> Caught {
        let m = self.m;
        for &es in &m.element(el).event_subprocesses {
            for &s in &m.element(es).children {
                let Kind::StartEvent {
                    triggers,
                    interrupting,
                    ..
                } = &m.element(s).kind
                else {
                    continue;
                };
                if triggers.iter().any(|t| self.matches(t, what)) {
                    if *interrupting {
                        self.cancel_children(scope);
                        self.drop_subs_of(scope);
                    }
                    let _ = self.start_event_sub(scope, es, s, serde_json::Map::new());
                    return if *interrupting {
                        Caught::Interrupting
                    } else {
                        Caught::Alongside
                    };
                }
            }
        }
        Caught::No
    }

    fn catch_on_boundary(&mut self, exec: ExecId, el: El, what: Thrown<'_>) -> Caught {
        let m = self.m;
        for &b in &m.element(el).boundaries {
            let Kind::Boundary {
                triggers,
                interrupting,
                ..
            } = &m.element(b).kind
            else {
                continue;
            };
            if triggers.iter().any(|t| self.matches(t, what)) {
                let parent = self.parent_of(exec).unwrap_or(0);
                if *interrupting {
                    self.cancel_exec(exec);
                }
                let id = self.new_id();
                self.history(id, b, HistoryKind::Passed);
                self.leave(parent, b, id);
                return if *interrupting {
                    Caught::Interrupting
                } else {
                    Caught::Alongside
                };
            }
        }
        Caught::No
    }

    fn matches(&self, t: &Trigger, what: Thrown<'_>) -> bool {
        let m = self.m;
        match (t, what) {
            (Trigger::Error(None), Thrown::Error(_)) => true,
            (Trigger::Error(Some(i)), Thrown::Error(Some(code))) => {
                let e = &m.errors[*i as usize];
                code_of(e) == code || e.id == code || e.name == code
            }
            (Trigger::Escalation(None), Thrown::Escalation(_)) => true,
            (Trigger::Escalation(Some(i)), Thrown::Escalation(Some(code))) => {
                let e = &m.escalations[*i as usize];
                code_of(e) == code || e.id == code || e.name == code
            }
            _ => false,
        }
    }

    /// A cancel end event inside a transaction: compensate what the
    /// transaction did, then leave through its cancel boundary event.
    fn cancel_transaction(&mut self, scope: ExecId, el: El, id: ExecId) {
        let waiting = self.compensate(
            scope,
            el,
            id,
            None,
            AfterCompensation::CancelTransaction(scope),
        );
        if !waiting {
            self.after_cancel(scope);
        }
    }

    pub(super) fn after_cancel(&mut self, tx: ExecId) {
        let Some(x) = self.st.exec(tx) else { return };
        let el = x.element;
        let parent = x.parent.unwrap_or(0);
        let m = self.m;
        let cancel = m.element(el).boundaries.iter().copied().find(|b| {
            matches!(&m.element(*b).kind, Kind::Boundary { triggers, .. }
                if triggers.iter().any(|t| matches!(t, Trigger::Cancel)))
        });
        self.cancel_exec(tx);
        if let Some(b) = cancel {
            let id = self.new_id();
            self.history(id, b, HistoryKind::Passed);
            self.leave(parent, b, id);
        } else {
            self.queue.push_back(Op::CheckScope(parent));
        }
    }
}

fn code_of(n: &baton_model::Named) -> &str {
    n.code.as_deref().unwrap_or(&n.id)
}
