//! `step`: apply one command to an instance and collect the actions.
//!
//! Work inside a step goes through a FIFO of [`Op`]s (tokens arriving at
//! elements, scopes to check), so deep models never recurse deeply and the
//! order of effects is deterministic.

mod activity;
mod compensation;
mod events;
mod flow;
mod scope;
mod throw;
pub(crate) mod timer;
mod vars;
pub use vars::visible_vars;

use std::collections::VecDeque;

use baton_model::{El, Fl, Model};

use crate::protocol::{Command, HistoryEvent, HistoryKind, Output, StepError};
use crate::state::{Exec, ExecId, InstanceState, Status, Wait};

/// More ops than this in one step means a loop that never waits: the step
/// stops with an incident instead of spinning forever.
const MAX_OPS: usize = 1_000_000;

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// A token arrives at `el` inside scope instance `scope`.
    Arrive {
        scope: ExecId,
        el: El,
        via: Option<Fl>,
    },
    /// Check whether a scope instance has finished.
    CheckScope(ExecId),
    /// A signal thrown inside this instance reaches its subscriptions. Queued
    /// behind the tokens already moving, so catch events on parallel
    /// branches activated in the same step receive it too.
    Signal(Box<(String, serde_json::Map<String, serde_json::Value>)>),
}

pub(crate) struct Run<'a> {
    pub m: &'a Model,
    pub st: &'a mut InstanceState,
    pub out: &'a mut Output,
    pub now: i64,
    pub queue: VecDeque<Op>,
    pub checks: Vec<ExecId>,
    pub vars_changed: bool,
    pub ops: usize,
}

/// Apply `cmd` to `state` at time `now` (ms since the epoch), appending the
/// resulting actions and history to `out`.
///
/// On `Err` the state is unchanged and nothing was appended.
pub fn step(
    model: &Model,
    state: &mut InstanceState,
    now: i64,
    cmd: Command,
    out: &mut Output,
) -> Result<(), StepError> {
    if state.status.is_ended() {
        return Err(StepError::Ended(state.status));
    }
    let (a, h) = (out.actions.len(), out.history.len());
    let mut run = Run {
        m: model,
        st: state,
        out,
        now,
        queue: VecDeque::new(),
        checks: Vec::new(),
        vars_changed: false,
        ops: 0,
    };
    let res = run.command(cmd);
    if res.is_err() {
        run.out.actions.truncate(a);
        run.out.history.truncate(h);
        return res;
    }
    run.settle();
    Ok(())
}

impl Run<'_> {
    fn command(&mut self, cmd: Command) -> Result<(), StepError> {
        match cmd {
            Command::Start { vars, start } => self.start(vars, start),
            Command::JobCompleted { exec, output, vars } => {
                self.expect(exec, "a job", |w| matches!(w, Wait::Job { .. }))?;
                self.store_output(exec, output);
                self.set_vars(exec, vars);
                self.complete_activity(exec);
                Ok(())
            }
            Command::JobFailed { exec, error } => {
                self.expect(exec, "a job", |w| matches!(w, Wait::Job { .. }))?;
                self.fail(exec, error);
                Ok(())
            }
            Command::TaskCompleted { exec, vars } => {
                self.expect(exec, "a user task", |w| matches!(w, Wait::Task))?;
                self.set_vars(exec, vars);
                self.complete_activity(exec);
                Ok(())
            }
            Command::ChildCompleted { exec, vars } => {
                self.expect(exec, "a child instance", |w| matches!(w, Wait::Child))?;
                self.set_vars(exec, vars);
                self.complete_activity(exec);
                Ok(())
            }
            Command::ChildFailed { exec, error } => {
                self.expect(exec, "a child instance", |w| matches!(w, Wait::Child))?;
                self.fail(exec, error);
                Ok(())
            }
            Command::TimerFired { sub } => self.timer_fired(sub),
            Command::MessageReceived { sub, vars } => self.message_received(sub, vars),
            Command::Signal { name, vars } => {
                self.signal(&name, vars, None);
                Ok(())
            }
            Command::SetVars { vars } => {
                let root = self.root().ok_or(StepError::Ended(self.st.status))?;
                self.set_vars(root, vars);
                Ok(())
            }
            Command::Retry { exec } => self.retry(exec),
            Command::Skip { exec, vars } => self.skip(exec, vars),
            Command::Terminate { reason } => {
                self.st.error = Some(reason);
                self.end_instance(Status::Cancelled);
                Ok(())
            }
        }
    }

    /// Drain the queue; then re-evaluate conditions and joins until quiet.
    fn settle(&mut self) {
        loop {
            while let Some(op) = self.queue.pop_front() {
                self.ops += 1;
                if self.ops > MAX_OPS {
                    self.runaway();
                    return;
                }
                match op {
                    Op::Arrive { scope, el, via } => {
                        if self.st.exec(scope).is_some() {
                            self.arrive(scope, el, via);
                        }
                    }
                    Op::CheckScope(s) => self.checks.push(s),
                    Op::Signal(sig) => {
                        let (name, vars) = *sig;
                        self.signal(&name, vars, None);
                    }
                }
                if self.queue.is_empty() {
                    let checks = std::mem::take(&mut self.checks);
                    for s in checks {
                        self.check_scope(s);
                    }
                }
            }
            if self.st.status.is_ended() {
                return;
            }
            let fired_conditions = self.evaluate_conditions();
            let fired_joins = self.evaluate_joins();
            if !fired_conditions && !fired_joins && self.queue.is_empty() {
                return;
            }
        }
    }

    fn runaway(&mut self) {
        self.queue.clear();
        let msg = format!(
            "more than {MAX_OPS} steps without waiting: the model loops forever; the instance was stopped"
        );
        self.st.error = Some(msg);
        self.end_instance(Status::Failed);
    }

    fn expect(
        &self,
        exec: ExecId,
        expected: &'static str,
        ok: impl Fn(&Wait) -> bool,
    ) -> Result<(), StepError> {
        match self.st.exec(exec) {
            None => Err(StepError::NoExec(exec)),
            Some(e) if ok(&e.wait) => Ok(()),
            Some(_) => Err(StepError::WrongState { exec, expected }),
        }
    }

    pub fn root(&self) -> Option<ExecId> {
        self.st
            .execs
            .first()
            .filter(|e| e.parent.is_none())
            .map(|e| e.id)
    }

    pub fn new_id(&mut self) -> u32 {
        let id = self.st.next_id;
        self.st.next_id += 1;
        id
    }

    /// Create a live execution (ids only grow, so pushing keeps `execs` sorted).
    pub fn push_exec(&mut self, id: ExecId, element: El, parent: Option<ExecId>, wait: Wait) {
        self.st.execs.push(Exec {
            id,
            element,
            parent,
            wait,
            vars: None,
            count: 0,
        });
    }

    pub fn remove_exec(&mut self, id: ExecId) -> Option<Exec> {
        let i = self.st.execs.binary_search_by_key(&id, |e| e.id).ok()?;
        Some(self.st.execs.remove(i))
    }

    pub fn history(&mut self, exec: ExecId, element: El, kind: HistoryKind) {
        self.out.history.push(HistoryEvent {
            exec,
            element,
            kind,
            at: self.now,
        });
    }

    pub fn parent_of(&self, exec: ExecId) -> Option<ExecId> {
        self.st.exec(exec).and_then(|e| e.parent)
    }

    pub fn element_of(&self, exec: ExecId) -> Option<El> {
        self.st.exec(exec).map(|e| e.element)
    }

    pub fn children_of(&self, exec: ExecId) -> Vec<ExecId> {
        self.st
            .execs
            .iter()
            .filter(|e| e.parent == Some(exec))
            .map(|e| e.id)
            .collect()
    }
}
