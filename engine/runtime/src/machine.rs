//! An in-process engine: many instances in memory, a virtual clock, and the
//! routing between them (jobs, timers, messages, signals, call activities).
//!
//! It runs `baton run`, the in-memory benchmark and the conformance
//! harnesses. Time only moves when [`Machine::advance`] says so.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use baton_core::{Action, Command, ExecId, HistoryEvent, InstanceState, Output, SubId};
use baton_model::El;
use serde_json::{Map, Value};

use crate::deploy::Deployment;
use crate::job::{JobInput, JobResult};

/// Does the work of jobs for a [`Machine`], synchronously.
pub trait Worker {
    /// Do the work; `now` is the virtual time the job starts at.
    fn run(&mut self, job: &JobInput, now: i64) -> JobResult;
    /// How long the job takes in virtual time (0: it completes at once).
    fn duration_ms(&self, _job: &JobInput) -> i64 {
        0
    }
}

/// One instance in the machine.
#[derive(Debug)]
pub struct Inst {
    pub deployment: Arc<Deployment>,
    pub state: InstanceState,
    pub parent: Option<(usize, ExecId)>,
    pub history: Vec<HistoryEvent>,
    pub incidents: Vec<String>,
    pub start_way: &'static str,
}

#[derive(Default)]
pub struct Machine {
    pub now: i64,
    deployments: Vec<Arc<Deployment>>,
    pub instances: Vec<Inst>,
    queue: VecDeque<(usize, Command)>,
    /// (due, instance, sub)
    timers: BTreeSet<(i64, usize, SubId)>,
    /// Dispatched jobs not yet run.
    pending: Vec<(usize, ExecId, JobInput)>,
    /// Jobs run, waiting for their (virtual) finish time: (ready at, order, instance, exec).
    jobs: BTreeSet<(i64, u64, usize, ExecId)>,
    results: std::collections::HashMap<(usize, ExecId), JobResult>,
    job_seq: u64,
    /// (name, correlation key, instance, sub)
    messages: Vec<(String, Option<String>, usize, SubId)>,
    signals: Vec<(String, usize, SubId)>,
    /// Open user tasks: (instance, exec, element).
    pub tasks: Vec<(usize, ExecId, El)>,
    /// Commands the core refused: a bug in the routing if ever non-empty.
    pub refused: Vec<String>,
    /// Keep history events (off for benchmarks).
    pub keep_history: bool,
    out: Output,
}

impl Machine {
    pub fn new(now: i64) -> Self {
        Machine {
            now,
            keep_history: true,
            ..Machine::default()
        }
    }

    pub fn deploy(&mut self, d: Deployment) -> Arc<Deployment> {
        let d = Arc::new(d);
        self.deployments.push(d.clone());
        d
    }

    /// Start `process` (an id in one of the deployments) with `vars`.
    pub fn start(&mut self, process: &str, vars: Map<String, Value>) -> Result<usize, String> {
        let (d, p) = self
            .deployments
            .iter()
            .rev()
            .find_map(|d| d.model.process(process).map(|p| (d.clone(), p)))
            .ok_or_else(|| format!("no deployed process `{process}`"))?;
        let i = self.spawn(d, p, None, "manual");
        self.step(i, Command::Start { vars, start: None })
            .map_err(|e| e.to_string())?;
        Ok(i)
    }

    fn spawn(
        &mut self,
        d: Arc<Deployment>,
        p: El,
        parent: Option<(usize, ExecId)>,
        way: &'static str,
    ) -> usize {
        self.instances.push(Inst {
            deployment: d,
            state: InstanceState::new(p),
            parent,
            history: Vec::new(),
            incidents: Vec::new(),
            start_way: way,
        });
        self.instances.len() - 1
    }

    /// Queue a command for an instance (processed by [`Machine::run`]).
    pub fn send(&mut self, inst: usize, cmd: Command) {
        self.queue.push_back((inst, cmd));
    }

    /// Process queued commands and ready jobs until nothing is left to do now.
    pub fn run(&mut self, worker: &mut dyn Worker) {
        loop {
            while let Some((i, cmd)) = self.queue.pop_front() {
                if let Err(e) = self.step(i, cmd) {
                    self.refused.push(format!("instance {i}: {e}"));
                }
            }
            for (i, exec, job) in std::mem::take(&mut self.pending) {
                let at = self.now + worker.duration_ms(&job).max(0);
                let result = worker.run(&job, self.now);
                self.job_seq += 1;
                self.jobs.insert((at, self.job_seq, i, exec));
                self.results.insert((i, exec), result);
            }
            while let Some(&(at, seq, i, exec)) = self.jobs.first() {
                if at > self.now {
                    break;
                }
                self.jobs.remove(&(at, seq, i, exec));
                let cmd = match self.results.remove(&(i, exec)) {
                    Some(result) => result.into_command(exec),
                    None => continue, // cancelled meanwhile
                };
                self.queue.push_back((i, cmd));
            }
            if self.queue.is_empty() && self.pending.is_empty() {
                break;
            }
        }
    }

    /// Move the clock forward by `ms`, firing timers and finishing timed jobs in order.
    pub fn advance(&mut self, ms: i64, worker: &mut dyn Worker) {
        let target = self.now + ms;
        self.run(worker);
        loop {
            let next_timer = self.timers.first().map(|t| t.0);
            let next_job = self.jobs.first().map(|j| j.0);
            let next = match (next_timer, next_job) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            if next > target {
                break;
            }
            self.now = self.now.max(next);
            while let Some(&(due, i, sub)) = self.timers.first() {
                if due > self.now {
                    break;
                }
                self.timers.remove(&(due, i, sub));
                self.queue.push_back((i, Command::TimerFired { sub }));
            }
            self.run(worker);
        }
        self.now = target;
    }

    /// Start and run an instance, running its jobs with `worker`.
    pub fn start_and_run(
        &mut self,
        process: &str,
        vars: Map<String, Value>,
        worker: &mut dyn Worker,
    ) -> Result<usize, String> {
        let i = self.start(process, vars)?;
        self.run(worker);
        Ok(i)
    }

    fn step(&mut self, i: usize, cmd: Command) -> Result<(), baton_core::StepError> {
        let inst = &mut self.instances[i];
        let model = inst.deployment.model.clone();
        self.out.clear();
        baton_core::step(&model, &mut inst.state, self.now, cmd, &mut self.out)?;
        if self.keep_history {
            inst.history.append(&mut self.out.history);
        }
        let actions = std::mem::take(&mut self.out.actions);
        for a in actions {
            self.apply(i, &model, a);
        }
        Ok(())
    }

    fn apply(&mut self, i: usize, model: &baton_model::Model, a: Action) {
        match a {
            Action::Dispatch {
                exec,
                element,
                attempt,
            } => {
                let job = JobInput::for_exec(
                    &i.to_string(),
                    model,
                    &self.instances[i].state,
                    exec,
                    element,
                    attempt,
                );
                self.pending.push((i, exec, job));
            }
            Action::CancelJob { exec } => {
                self.results.remove(&(i, exec));
                self.jobs.retain(|j| !(j.2 == i && j.3 == exec));
                self.pending.retain(|p| !(p.0 == i && p.1 == exec));
            }
            Action::CreateTask { exec, element, .. } => self.tasks.push((i, exec, element)),
            Action::CancelTask { exec } => self.tasks.retain(|t| !(t.0 == i && t.1 == exec)),
            Action::SetTimer { sub, due, .. } => {
                self.timers.insert((due, i, sub));
            }
            Action::CancelTimer { sub } => self.timers.retain(|t| !(t.1 == i && t.2 == sub)),
            Action::SubscribeMessage { sub, name, key, .. } => {
                self.messages.push((name, key, i, sub))
            }
            Action::SubscribeSignal { sub, name, .. } => self.signals.push((name, i, sub)),
            Action::Unsubscribe { sub } => {
                self.messages.retain(|m| !(m.2 == i && m.3 == sub));
                self.signals.retain(|m| !(m.1 == i && m.2 == sub));
            }
            Action::StartChild {
                exec,
                process,
                vars,
                ..
            } => {
                let found = self
                    .deployments
                    .iter()
                    .rev()
                    .find_map(|d| d.model.process(&process).map(|p| (d.clone(), p)));
                match found {
                    Some((d, p)) => {
                        let c = self.spawn(d, p, Some((i, exec)), "call");
                        let mut vars = vars;
                        vars.insert(
                            "LWAMS_CALL_PROCESS_INSTANCE_ID".into(),
                            Value::from(i.to_string()),
                        );
                        self.queue
                            .push_back((c, Command::Start { vars, start: None }));
                    }
                    None => {
                        let error = baton_core::Failure::Technical {
                            message: format!("called process `{process}` is not deployed"),
                        };
                        self.queue
                            .push_back((i, Command::ChildFailed { exec, error }));
                    }
                }
            }
            Action::CancelChild { exec } => {
                let child = self
                    .instances
                    .iter()
                    .position(|c| c.parent == Some((i, exec)) && !c.state.status.is_ended());
                if let Some(c) = child {
                    self.queue.push_back((
                        c,
                        Command::Terminate {
                            reason: "the caller was cancelled".into(),
                        },
                    ));
                }
            }
            Action::ThrowSignal { name, vars } => {
                let targets: BTreeSet<usize> = self
                    .signals
                    .iter()
                    .filter(|s| s.0 == name && s.1 != i)
                    .map(|s| s.1)
                    .collect();
                for o in targets {
                    self.queue.push_back((
                        o,
                        Command::Signal {
                            name: name.clone(),
                            vars: vars.clone(),
                        },
                    ));
                }
                self.event_start(true, &name, vars);
            }
            Action::SendMessage { name, key, vars } => {
                // A keyed subscription needs the same key; an unkeyed one takes any.
                let fits = |m: &(String, Option<String>, usize, SubId)| {
                    m.0 == name && m.1.as_ref().is_none_or(|k| Some(k) == key.as_ref())
                };
                if let Some(&(_, _, o, sub)) = self.messages.iter().find(|m| fits(m)) {
                    self.queue
                        .push_back((o, Command::MessageReceived { sub, vars }));
                } else {
                    self.event_start(false, &name, vars);
                }
            }
            Action::Incident {
                message, element, ..
            } => {
                let id = model.element(element).id.clone();
                self.instances[i].incidents.push(format!("{id}: {message}"));
            }
            Action::Ended { .. } => {
                self.timers.retain(|t| t.1 != i);
                self.messages.retain(|m| m.2 != i);
                self.signals.retain(|m| m.1 != i);
                self.tasks.retain(|t| t.0 != i);
                if let Some((p, exec)) = self.instances[i].parent {
                    let cmd = self.instances[i].state.outcome_for_caller(exec);
                    self.queue.push_back((p, cmd));
                }
            }
        }
    }

    fn event_start(&mut self, signal: bool, name: &str, vars: Map<String, Value>) {
        let mut starts = Vec::new();
        for d in &self.deployments {
            for (p, s) in d.event_starts(signal, name) {
                starts.push((d.clone(), p, s));
            }
        }
        for (d, p, s) in starts {
            let c = self.spawn(d, p, None, if signal { "signal" } else { "message" });
            self.queue.push_back((
                c,
                Command::Start {
                    vars: vars.clone(),
                    start: Some(s),
                },
            ));
            if !signal {
                break; // a message starts one instance
            }
        }
    }
}
