//! Activities: starting one (with its loop or multi-instance body), running
//! its work, completing it, failures, and the operator's retry and skip.

use baton_model::{CallTarget, El, Kind, Loop, MiBehavior, TaskKind};
use serde_json::{Map, Value};

use super::{Op, Run};
use crate::protocol::{Action, Failure, HistoryKind, StepError};
use crate::state::{Compensable, ExecId, MultiState, RetryAs, Wait};

impl Run<'_> {
    /// An activity's token has arrived: set up its loop, then run it.
    pub(super) fn start_activity(&mut self, scope: ExecId, el: El) {
        match &self.m.element(el).looping {
            Some(Loop::Multi(_)) => self.start_multi(scope, el),
            Some(Loop::Standard {
                condition,
                test_before: true,
                ..
            }) => {
                let go = match condition {
                    Some(c) => self.eval_bool(scope, c),
                    None => Ok(true),
                };
                match go {
                    Ok(true) => {
                        self.run_activity(scope, el, None, 0, true);
                    }
                    Ok(false) => {
                        let id = self.new_id();
                        self.history(id, el, HistoryKind::Passed);
                        self.leave(scope, el, id);
                    }
                    Err(e) => {
                        let id = self.new_id();
                        self.incident(
                            scope,
                            el,
                            id,
                            format!("loop condition: {e}"),
                            RetryAs::Enter,
                        );
                    }
                }
            }
            _ => {
                self.run_activity(scope, el, None, 0, true);
            }
        }
    }

    /// Run the activity's own work once, as a child of `parent`.
    pub(super) fn run_activity(
        &mut self,
        parent: ExecId,
        el: El,
        locals: Option<Map<String, Value>>,
        count: u32,
        boundaries: bool,
    ) -> ExecId {
        let id = self.new_id();
        let m = self.m;
        let e = m.element(el);
        let wait = match &e.kind {
            Kind::Task(t) | Kind::CallActivity(CallTarget::GlobalTask(t)) => match t {
                TaskKind::Plain => None,
                TaskKind::Send { message } if baton_model::job_kind(e).is_none() => {
                    let name = message
                        .map(|i| m.messages[i as usize].name.clone())
                        .unwrap_or_default();
                    let vars = self.visible_vars(parent);
                    let key = self.correlation_key(parent, el);
                    self.out
                        .actions
                        .push(Action::SendMessage { name, key, vars });
                    None
                }
                TaskKind::User => Some(Wait::Task),
                TaskKind::Receive { .. } => Some(Wait::Event),
                _ => Some(Wait::Job { attempt: 1 }),
            },
            Kind::SubProcess { .. } => Some(Wait::Scope),
            Kind::CallActivity(CallTarget::Process(_)) => Some(Wait::Child),
            _ => None,
        };
        let Some(wait) = wait else {
            // Plain work completes at once; it still goes through completion
            // so loops, compensation and multi-instance bookkeeping apply.
            self.push_exec(id, el, Some(parent), Wait::Scope);
            self.set_exec_state(id, locals, count);
            self.history(id, el, HistoryKind::Passed);
            self.finish_activity(id, true);
            return id;
        };
        self.push_exec(id, el, Some(parent), wait.clone());
        self.set_exec_state(id, locals, count);
        self.history(id, el, HistoryKind::Started);
        if boundaries {
            self.subscribe_boundaries(id, el);
        }
        match wait {
            Wait::Job { attempt } => self.out.actions.push(Action::Dispatch {
                exec: id,
                element: el,
                attempt,
            }),
            Wait::Task => match self.task_due(id, e) {
                Ok(due) => self.out.actions.push(Action::CreateTask {
                    exec: id,
                    element: el,
                    due,
                }),
                Err(err) => self.incident(
                    parent,
                    el,
                    id,
                    format!("user task `{}` due date {err}", e.id),
                    RetryAs::Enter,
                ),
            },
            Wait::Event => self.subscribe_receive(id, el),
            Wait::Scope => self.start_scope(id, None),
            Wait::Child => {
                if let Kind::CallActivity(CallTarget::Process(t)) = &e.kind {
                    let param = self.call_param(id, e);
                    match self.render(id, t).and_then(|p| param.map(|x| (p, x))) {
                        Ok((process, param)) => {
                            let mut vars = self.visible_vars(id);
                            vars.insert(
                                "LWAMS_CALL_PROCESS_TASK_ID".into(),
                                Value::from(e.id.clone()),
                            );
                            if let Some(p) = param {
                                vars.insert("LWAMS_CALL_PARAM".into(), p);
                            }
                            self.out.actions.push(Action::StartChild {
                                exec: id,
                                element: el,
                                process,
                                vars,
                            });
                        }
                        Err(err) => self.incident(
                            parent,
                            el,
                            id,
                            format!("called process: {err}"),
                            RetryAs::Enter,
                        ),
                    }
                }
            }
            _ => {}
        }
        id
    }

    fn set_exec_state(&mut self, id: ExecId, locals: Option<Map<String, Value>>, count: u32) {
        if let Some(x) = self.st.exec_mut(id) {
            x.vars = locals.map(Box::new);
            x.count = count;
        }
    }

    /// The activity's work is done (job, task, child, sub-process, or skip).
    pub(super) fn complete_activity(&mut self, exec: ExecId) {
        if let Some(el) = self.element_of(exec) {
            self.history(exec, el, HistoryKind::Completed);
        }
        self.finish_activity(exec, false);
    }

    /// Bookkeeping after an activity instance: compensation, loops, the
    /// multi-instance body, then the outgoing flows.
    fn finish_activity(&mut self, exec: ExecId, _passed: bool) {
        let Some(x) = self.st.exec(exec) else { return };
        let (el, parent, count) = (x.element, x.parent.unwrap_or(0), x.count);
        let locals = x.vars.clone();
        self.drop_subs_of(exec);
        self.remove_exec(exec);
        let e = self.m.element(el);
        let nested = self.st.compensable.iter().any(|c| c.scope == exec);
        if e.compensation_handler.is_some() || nested || has_compensation_event_sub(self.m, el) {
            self.st.compensable.push(Compensable {
                scope: parent,
                activity: el,
                exec,
            });
        }
        if e.for_compensation {
            // A compensation handler has no outgoing flows; its parent waits for it.
            self.queue.push_back(Op::CheckScope(parent));
            return;
        }
        if let Some(p) = self.st.exec(parent)
            && matches!(p.wait, Wait::Multi(_))
            && p.element == el
        {
            self.iteration_done(parent, el);
            return;
        }
        if let Some(Loop::Standard {
            condition, maximum, ..
        }) = &e.looping
        {
            let done = count + 1;
            let again = match (maximum, condition) {
                (Some(max), _) if u64::from(done) >= *max => Ok(false),
                (_, Some(c)) => self.eval_bool(parent, c),
                (_, None) => Ok(maximum.is_some()),
            };
            match again {
                Ok(true) => {
                    self.run_activity(parent, el, locals.map(|b| *b), done, true);
                    return;
                }
                Ok(false) => {}
                Err(err) => {
                    let id = self.new_id();
                    self.incident(
                        parent,
                        el,
                        id,
                        format!("loop condition: {err}"),
                        RetryAs::Leave,
                    );
                    return;
                }
            }
        }
        self.leave(parent, el, exec);
    }

    /// A `call-process` node's `param` property, evaluated for the child's
    /// `LWAMS_CALL_PARAM` (the model checked it parses).
    fn call_param(
        &self,
        exec: ExecId,
        e: &baton_model::Element,
    ) -> Result<Option<Value>, baton_expr::EvalError> {
        let Some(src) = e
            .ext
            .as_ref()
            .and_then(|x| x.props.get("param").or(x.attrs.get("param")))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        match baton_expr::parse_template(src) {
            Ok(t) => t
                .eval(&super::vars::ExecScope {
                    st: self.st,
                    exec,
                    extra: None,
                })
                .map(Some),
            Err(_) => Ok(Some(Value::String(src.to_owned()))),
        }
    }

    pub(super) fn store_output(&mut self, exec: ExecId, output: Option<Value>) {
        let (Some(out), Some(el)) = (output, self.element_of(exec)) else {
            return;
        };
        let id = self.m.element(el).id.clone();
        self.st.outputs.insert(id, out);
    }

    pub(super) fn fail(&mut self, exec: ExecId, error: Failure) {
        match error {
            Failure::Bpmn { code, message } => self.throw_error(exec, Some(&code), &message, true),
            Failure::Technical { message } => {
                let Some(x) = self.st.exec(exec) else { return };
                let (el, parent) = (x.element, x.parent.unwrap_or(0));
                let attempt = match x.wait {
                    Wait::Job { attempt } => attempt,
                    _ => 0,
                };
                let retry = if attempt > 0 {
                    RetryAs::Job {
                        attempt: attempt + 1,
                    }
                } else {
                    RetryAs::Enter
                };
                self.incident(parent, el, exec, message, retry);
            }
        }
    }

    pub(super) fn retry(&mut self, exec: ExecId) -> Result<(), StepError> {
        let x = self.st.exec(exec).ok_or(StepError::NoExec(exec))?;
        let Wait::Incident { retry, .. } = x.wait.clone() else {
            return Err(StepError::WrongState {
                exec,
                expected: "an operator (incident)",
            });
        };
        let (el, parent) = (x.element, x.parent.unwrap_or(0));
        self.history(exec, el, HistoryKind::Retried);
        match retry {
            RetryAs::Job { attempt } => {
                if let Some(x) = self.st.exec_mut(exec) {
                    x.wait = Wait::Job { attempt };
                }
                self.out.actions.push(Action::Dispatch {
                    exec,
                    element: el,
                    attempt,
                });
            }
            RetryAs::Leave => {
                self.remove_exec(exec);
                self.leave(parent, el, exec);
            }
            RetryAs::Enter => {
                self.drop_subs_of(exec);
                self.remove_exec(exec);
                self.start_activity(parent, el);
            }
        }
        Ok(())
    }

    pub(super) fn skip(&mut self, exec: ExecId, vars: Map<String, Value>) -> Result<(), StepError> {
        let x = self.st.exec(exec).ok_or(StepError::NoExec(exec))?;
        let (el, wait) = (x.element, x.wait.clone());
        match wait {
            Wait::Job { .. } | Wait::Task | Wait::Child | Wait::Event | Wait::Incident { .. } => {}
            _ => {
                return Err(StepError::WrongState {
                    exec,
                    expected: "work an operator can skip",
                });
            }
        }
        match wait {
            Wait::Job { .. } => self.out.actions.push(Action::CancelJob { exec }),
            Wait::Task => self.out.actions.push(Action::CancelTask { exec }),
            Wait::Child => self.out.actions.push(Action::CancelChild { exec }),
            _ => {}
        }
        self.history(exec, el, HistoryKind::Skipped);
        self.set_vars(exec, vars);
        if self.m.element(el).is_activity() {
            self.finish_activity(exec, false);
        } else {
            let parent = self.parent_of(exec).unwrap_or(0);
            self.drop_subs_of(exec);
            self.remove_exec(exec);
            self.leave(parent, el, exec);
        }
        Ok(())
    }

    fn start_multi(&mut self, scope: ExecId, el: El) {
        let Some(Loop::Multi(mi)) = &self.m.element(el).looping else {
            return;
        };
        let body = self.new_id();
        let (total, items) = match self.multi_size(scope, mi) {
            Ok(x) => x,
            Err(msg) => return self.incident(scope, el, body, msg, RetryAs::Enter),
        };
        let state = MultiState {
            total,
            started: 0,
            completed: 0,
            active: 0,
            items,
            one_thrown: false,
        };
        self.push_exec(body, el, Some(scope), Wait::Multi(Box::new(state)));
        self.history(body, el, HistoryKind::Started);
        self.subscribe_boundaries(body, el);
        if total == 0 {
            self.multi_done(body, el);
            return;
        }
        let n = if mi.sequential { 1 } else { total };
        for _ in 0..n {
            self.start_iteration(body, el);
        }
    }

    /// How many iterations, and the items to iterate (when there is a collection).
    fn multi_size(
        &self,
        scope: ExecId,
        mi: &baton_model::MultiInstance,
    ) -> Result<(u32, Option<Vec<Value>>), String> {
        let items = match &mi.collection {
            Some(c) => match self.eval(scope, c) {
                Ok(Value::Array(a)) => Some(a),
                Ok(Value::Null) => Some(Vec::new()),
                Ok(other) => {
                    return Err(format!(
                        "multi-instance collection `{}` is not a list: {other}",
                        c.source()
                    ));
                }
                Err(e) => return Err(format!("multi-instance collection: {e}")),
            },
            None => None,
        };
        let total = match (&mi.cardinality, &items) {
            (Some(c), _) => {
                let v = self
                    .eval(scope, c)
                    .map_err(|e| format!("loopCardinality: {e}"))?;
                let n = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
                match n {
                    Some(n) if (0..=i64::from(u32::MAX)).contains(&n) => n as u32,
                    _ => {
                        return Err(format!(
                            "loopCardinality `{}` must evaluate to a non-negative integer, got {v}",
                            c.source()
                        ));
                    }
                }
            }
            (None, Some(items)) => items.len() as u32,
            (None, None) => 0,
        };
        Ok((total, items))
    }

    fn start_iteration(&mut self, body: ExecId, el: El) {
        let Some(Loop::Multi(mi)) = &self.m.element(el).looping else {
            return;
        };
        let Some(Wait::Multi(s)) = self.st.exec_mut(body).map(|b| &mut b.wait) else {
            return;
        };
        let index = s.started;
        s.started += 1;
        s.active += 1;
        let mut locals = Map::new();
        locals.insert("loopCounter".into(), index.into());
        if let Some(var) = &mi.element_variable {
            let item = s
                .items
                .as_ref()
                .and_then(|i| i.get(index as usize))
                .cloned()
                .unwrap_or(Value::Null);
            locals.insert(var.clone(), item);
        }
        self.run_activity(body, el, Some(locals), 0, false);
    }

    fn iteration_done(&mut self, body: ExecId, el: El) {
        let Some(Loop::Multi(mi)) = &self.m.element(el).looping else {
            return;
        };
        let (total, started, completed, active, one_thrown) = {
            let Some(Wait::Multi(s)) = self.st.exec_mut(body).map(|b| &mut b.wait) else {
                return;
            };
            s.completed += 1;
            s.active -= 1;
            (s.total, s.started, s.completed, s.active, s.one_thrown)
        };
        match mi.behavior {
            MiBehavior::None { signal: Some(sig) } => self.behavior_signal(body, sig),
            MiBehavior::One { signal: Some(sig) } if !one_thrown => {
                if let Some(Wait::Multi(s)) = self.st.exec_mut(body).map(|b| &mut b.wait) {
                    s.one_thrown = true;
                }
                self.behavior_signal(body, sig);
            }
            _ => {}
        }
        if self.st.exec(body).is_none() {
            return; // an interrupting event took the body away
        }
        let finished = match &mi.completion {
            Some(c) => match self.eval_bool(body, c) {
                Ok(b) => b,
                Err(e) => {
                    let id = self.new_id();
                    return self.incident(
                        body,
                        el,
                        id,
                        format!("completionCondition: {e}"),
                        RetryAs::Leave,
                    );
                }
            },
            None => false,
        };
        if finished {
            self.cancel_children(body);
            self.multi_done(body, el);
        } else if mi.sequential && started < total {
            self.start_iteration(body, el);
        } else if completed >= total || (active == 0 && started >= total) {
            self.multi_done(body, el);
        }
    }

    fn multi_done(&mut self, body: ExecId, el: El) {
        let parent = self.parent_of(body).unwrap_or(0);
        self.history(body, el, HistoryKind::Completed);
        self.drop_subs_of(body);
        self.remove_exec(body);
        self.leave(parent, el, body);
    }
}

fn has_compensation_event_sub(m: &baton_model::Model, el: El) -> bool {
    m.element(el).event_subprocesses.iter().any(|es| {
        m.element(*es).children.iter().any(|c| {
            matches!(&m.element(*c).kind, Kind::StartEvent { triggers, .. }
                if triggers.iter().any(|t| matches!(t, baton_model::Trigger::Compensation)))
        })
    })
}
