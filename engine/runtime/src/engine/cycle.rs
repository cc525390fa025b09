//! One engine cycle: fold a handful of inputs into one transaction.
//!
//! Inputs are stepped in order against cached instance states; routing
//! between instances (signals, messages, call activities) adds more work to
//! the same cycle; then everything is committed at once. On a conflict (an
//! instance or job changed under us) the cache is dropped and each input is
//! retried alone.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use baton_core::{Action, Command, ExecId, InstanceState, Output, Status};
use baton_model::El;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::rows::{Persisted, bookkeeping, history_row, job_id};
use super::{Error, Inner, Input};
use crate::deploy::Deployment;
use crate::job::JobInput;
use crate::store::{self, Batch, InstanceRow, InstanceWrite, JobRow};

/// An instance as the engine holds it between cycles.
#[derive(Clone)]
pub(super) struct Live {
    dep: Arc<Deployment>,
    p: Persisted,
    pub(super) row: InstanceRow,
    /// `None`: not in the store yet.
    pub(super) version: Option<i64>,
}

/// An input kept for a retry after a conflict.
enum Retry {
    Start {
        key: String,
        vars: Map<String, Value>,
        way: &'static str,
        at: Option<super::StartAt>,
        reply: usize,
    },
    Input(Input),
}

pub(super) enum Work {
    Start {
        key: String,
        vars: Map<String, Value>,
        way: &'static str,
        start: Option<(Arc<Deployment>, El, El)>,
        parent: Option<(String, ExecId)>,
        reply: Option<usize>,
    },
    Cmd {
        instance: String,
        cmd: Command,
    },
    Message {
        company: String,
        name: String,
        key: Option<String>,
        vars: Map<String, Value>,
    },
    TimerStart(crate::store::TimerRow),
    /// Due ticks of a schedule: starts, then [`Work::ScheduleDone`].
    Schedule(super::scheduler::ScheduleTick),
    /// The ticks' starts ran (their reply slots): record fires and the next fire.
    ScheduleDone(super::scheduler::ScheduleTick, Vec<Option<usize>>),
}

pub(super) async fn run_loop(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Input>) {
    let mut cache: HashMap<String, Live> = HashMap::new();
    while let Some(first) = rx.recv().await {
        let mut inputs = Vec::new();
        let mut flush = None;
        let mut next = Some(first);
        while let Some(i) = next.take() {
            match i {
                // Everything before a flush commits first; then it is answered.
                Input::Flush(tx) => {
                    flush = Some(tx);
                    break;
                }
                i => inputs.push(i),
            }
            if inputs.len() < inner.opts.batch_max {
                next = rx.try_recv().ok();
            }
        }
        if !inputs.is_empty() {
            cycle(&inner, &mut cache, inputs).await;
        }
        if let Some(tx) = flush {
            let _ = tx.send(());
        }
    }
}

async fn cycle(inner: &Arc<Inner>, cache: &mut HashMap<String, Live>, inputs: Vec<Input>) {
    let mut replies = Vec::new();
    let mut work = VecDeque::new();
    let mut guards = (Vec::new(), Vec::new());
    let mut retry = Vec::new();
    for input in inputs {
        match input {
            Input::TimerStart(t) => {
                guards.1.push(t.id.clone());
                retry.push(Retry::Input(Input::TimerStart(t.clone())));
                work.push_back(Work::TimerStart(t));
            }
            Input::Schedule(t) => {
                retry.push(Retry::Input(Input::Schedule(t.clone())));
                work.push_back(Work::Schedule(t));
            }
            Input::Start {
                key,
                vars,
                way,
                at,
                reply,
            } => {
                replies.push(reply);
                retry.push(Retry::Start {
                    key: key.clone(),
                    vars: vars.clone(),
                    way,
                    at: at.clone(),
                    reply: replies.len() - 1,
                });
                work.push_back(Work::Start {
                    key,
                    vars,
                    way,
                    start: at,
                    parent: None,
                    reply: Some(replies.len() - 1),
                });
            }
            Input::Message {
                company,
                name,
                key,
                vars,
            } => {
                retry.push(Retry::Input(Input::Message {
                    company: company.clone(),
                    name: name.clone(),
                    key: key.clone(),
                    vars: vars.clone(),
                }));
                work.push_back(Work::Message {
                    company,
                    name,
                    key,
                    vars,
                });
            }
            Input::Command {
                instance,
                cmd,
                job,
                timer,
            } => {
                guards.0.extend(job.clone());
                guards.1.extend(timer.clone());
                retry.push(Retry::Input(Input::Command {
                    instance: instance.clone(),
                    cmd: cmd.clone(),
                    job,
                    timer,
                }));
                work.push_back(Work::Cmd { instance, cmd });
            }
            // `run_loop` answers flushes between cycles.
            Input::Flush(tx) => {
                let _ = tx.send(());
            }
        }
    }
    let mut c = Cycle {
        inner,
        cache,
        batch: Batch::default(),
        touched: Vec::new(),
        jobs: Vec::new(),
        ids: vec![None; replies.len()],
        errors: vec![None; replies.len()],
        out: Output::default(),
        consumed: HashSet::new(),
    };
    c.batch.jobs_done = guards.0;
    c.batch.timers_done = guards.1;
    while let Some(w) = work.pop_front() {
        c.work(w, &mut work).await;
    }
    let Finished {
        batch,
        touched,
        jobs,
        ids,
        errors,
    } = c.finish();
    match inner.store.commit(&batch).await {
        Ok(()) => {
            for (i, r) in replies.into_iter().enumerate() {
                let res = match (&ids[i], &errors[i]) {
                    (_, Some(e)) => Err(Error::CannotStart(e.clone())),
                    (Some(id), None) => Ok(id.clone()),
                    (None, None) => Err(Error::CannotStart("not started".into())),
                };
                if let Some(r) = r {
                    let _ = r.send(res);
                }
            }
            for id in touched {
                if cache.get(&id).is_some_and(|l| l.p.state.status.is_ended()) {
                    cache.remove(&id);
                }
            }
            for j in &batch.jobs_cancelled {
                inner.handler.cancel(j);
            }
            if inner.feed.wanted() {
                inner.feed.publish(crate::feed::changes_of(&batch));
            }
            if let Some(listener) = inner.listener.get() {
                let mut hosts: Vec<String> = batch
                    .jobs_new
                    .iter()
                    .filter_map(|j| j.host.clone())
                    .collect();
                if !hosts.is_empty() {
                    hosts.sort_unstable();
                    hosts.dedup();
                    listener.routed(&hosts);
                }
                if !batch.jobs_cancelled.is_empty() {
                    listener.cancelled(&batch.jobs_cancelled);
                }
            }
            for j in jobs {
                inner.run_job(j);
            }
        }
        Err(e) => {
            for id in &touched {
                cache.remove(id);
            }
            let conflict = matches!(e, store::Error::Conflict { .. });
            if conflict && retry.len() > 1 {
                // Retry each input alone against fresh state.
                let mut replies: Vec<_> = replies.into_iter().collect();
                for r in retry {
                    let input = match r {
                        Retry::Input(input) => input,
                        Retry::Start {
                            key,
                            vars,
                            way,
                            at,
                            reply,
                        } => Input::Start {
                            key,
                            vars,
                            way,
                            at,
                            reply: replies[reply].take(),
                        },
                    };
                    Box::pin(cycle(inner, cache, vec![input])).await;
                }
            } else {
                if !conflict {
                    tracing::error!("commit failed: {e}");
                }
                for r in replies.into_iter().flatten() {
                    let _ = r.send(Err(Error::Store(store::Error::Conflict {
                        what: e.to_string(),
                    })));
                }
            }
        }
    }
}

/// What a cycle commits, and what follows a successful commit.
struct Finished {
    batch: Batch,
    touched: Vec<String>,
    jobs: Vec<JobInput>,
    ids: Vec<Option<String>>,
    errors: Vec<Option<String>>,
}

pub(super) struct Cycle<'a> {
    pub(super) inner: &'a Arc<Inner>,
    pub(super) cache: &'a mut HashMap<String, Live>,
    pub(super) batch: Batch,
    touched: Vec<String>,
    jobs: Vec<JobInput>,
    pub(super) ids: Vec<Option<String>>,
    pub(super) errors: Vec<Option<String>>,
    out: Output,
    /// Subscriptions a message was routed to in this cycle.
    pub(super) consumed: HashSet<String>,
}

impl Cycle<'_> {
    async fn work(&mut self, w: Work, more: &mut VecDeque<Work>) {
        let now = self.inner.clock.now_ms();
        match w {
            Work::Start {
                key,
                vars,
                way,
                start,
                parent,
                reply,
            } => {
                let (dep, process, start_el) = match start {
                    Some((d, p, s)) => (d, p, Some(s)),
                    None => match self.inner.by_key(&key).await {
                        Some(d) => match d
                            .model
                            .process(crate::tenancy::bare(&key))
                            .or(d.model.main_process())
                        {
                            Some(p) => (d, p, None),
                            None => {
                                return self.fail_start(reply, format!("`{key}` has no process"));
                            }
                        },
                        None => {
                            // A call activity may name a process inside a deployment with another key.
                            match self.find_process(&key) {
                                Some((d, p)) => (d, p, None),
                                None => {
                                    return self.fail_start(
                                        reply,
                                        format!("no deployed process with key `{key}`"),
                                    );
                                }
                            }
                        }
                    },
                };
                let id = uuid::Uuid::now_v7().to_string();
                let row = InstanceRow {
                    id: id.clone(),
                    definition_id: dep.id.clone(),
                    process_id: dep.model.element(process).id.clone(),
                    status: "running".into(),
                    state: Vec::new(),
                    business_key: None,
                    start_way: way.into(),
                    parent_instance: parent.as_ref().map(|p| p.0.clone()),
                    parent_exec: parent.as_ref().map(|p| i64::from(p.1)),
                    started_at: now,
                    ended_at: None,
                    version: 0,
                };
                let mut vars = vars;
                vars.entry("LWAMS_PROCESS_START_WAY")
                    .or_insert_with(|| Value::from(way));
                vars.entry("LWAMS_PROCESS_DEFINITION_ID")
                    .or_insert_with(|| Value::from(dep.id.clone()));
                // When it started, in the server's zone (SPEC §5 built-ins).
                if let Some(at) = chrono::DateTime::from_timestamp_millis(now) {
                    let at = at.with_timezone(&chrono::Local);
                    vars.entry("LWAMS_INIT_DATE")
                        .or_insert_with(|| Value::from(at.format("%Y-%m-%d").to_string()));
                    vars.entry("LWAMS_INIT_TIME")
                        .or_insert_with(|| Value::from(at.format("%H:%M:%S").to_string()));
                }
                let live = Live {
                    p: Persisted {
                        state: InstanceState::new(process),
                        seq: 0,
                    },
                    dep,
                    row,
                    version: None,
                };
                self.cache.insert(id.clone(), live);
                if self
                    .step(
                        &id,
                        Command::Start {
                            vars,
                            start: start_el,
                        },
                        more,
                    )
                    .await
                {
                    if let Some(r) = reply {
                        self.ids[r] = Some(id);
                    }
                } else {
                    self.cache.remove(&id);
                    self.touched.retain(|t| *t != id);
                    if let Some(r) = reply {
                        self.errors[r] = Some("the process could not start (see the log)".into());
                    }
                }
            }
            Work::TimerStart(t) => self.timer_start(t, more),
            Work::Schedule(t) => self.schedule_tick(t, more).await,
            Work::ScheduleDone(t, slots) => self.schedule_done(t, slots),
            Work::Message {
                company,
                name,
                key,
                vars,
            } => {
                self.route_message(&company, &name, key.as_deref(), &vars, more)
                    .await;
            }
            Work::Cmd { instance, cmd } => {
                if !self.cache.contains_key(&instance) && !self.load(&instance).await {
                    tracing::warn!(instance, "command for an unknown instance dropped");
                    return;
                }
                self.step(&instance, cmd, more).await;
            }
        }
    }

    fn fail_start(&mut self, reply: Option<usize>, msg: String) {
        tracing::warn!("start failed: {msg}");
        if let Some(r) = reply {
            self.errors[r] = Some(msg);
        }
    }

    fn find_process(&self, id: &str) -> Option<(Arc<Deployment>, El)> {
        let d = self
            .inner
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Only among the deployments of the key's company.
        let (company, bare) = (crate::tenancy::company_of(id), crate::tenancy::bare(id));
        d.latest
            .values()
            .filter_map(|l| d.by_id.get(l))
            .filter(|d| crate::tenancy::company_of(&d.key) == company)
            .find_map(|d| d.model.process(bare).map(|p| (d.clone(), p)))
    }

    async fn load(&mut self, id: &str) -> bool {
        let Ok(Some(row)) = self.inner.store.load_instance(id).await else {
            return false;
        };
        let Some(dep) = self.inner.deployment(&row.definition_id).await else {
            return false;
        };
        let Ok(p) = serde_json::from_slice::<Persisted>(&row.state) else {
            tracing::error!(instance = id, "unreadable instance state");
            return false;
        };
        let version = Some(row.version);
        self.cache.insert(
            id.to_owned(),
            Live {
                dep,
                p,
                row,
                version,
            },
        );
        true
    }

    /// Step one instance; returns whether the core accepted the command.
    async fn step(&mut self, id: &str, cmd: Command, more: &mut VecDeque<Work>) -> bool {
        let now = self.inner.clock.now_ms();
        let Some(live) = self.cache.get_mut(id) else {
            return false;
        };
        let model = live.dep.model.clone();
        self.out.clear();
        if let Err(e) = baton_core::step(&model, &mut live.p.state, now, cmd, &mut self.out) {
            tracing::warn!(instance = id, "command refused: {e}");
            return false;
        }
        if !self.touched.iter().any(|t| t == id) {
            self.touched.push(id.to_owned());
        }
        let mut settled = Vec::new();
        for h in &self.out.history {
            live.p.seq += 1;
            self.batch
                .history
                .push(history_row(id, live.p.seq, &model, h));
            if matches!(
                h.kind,
                baton_core::HistoryKind::Retried | baton_core::HistoryKind::Skipped
            ) {
                settled.push(i64::from(h.exec));
            }
        }
        let actions = std::mem::take(&mut self.out.actions);
        let parent = live.row.parent_instance.clone().zip(live.row.parent_exec);
        let mut routed = Vec::new();
        let company = crate::tenancy::company_of(&live.dep.key).to_owned();
        for a in &actions {
            bookkeeping(id, &company, &model, &live.p.state, now, a, &mut self.batch);
            match a {
                Action::Dispatch {
                    exec,
                    element,
                    attempt,
                } => {
                    let job =
                        JobInput::for_exec(id, &model, &live.p.state, *exec, *element, *attempt);
                    // A node for a Sub-Manager host waits for that host's link.
                    let host = match self.inner.handler.route(&company, &job) {
                        Some(lookup) => lookup.await,
                        None => None,
                    };
                    // A paused instance's job is held until it is resumed.
                    let held = self.inner.paused_set().contains(id);
                    // A client, or a draining server, leaves the job unclaimed
                    // for a server to take.
                    let here = host.is_none()
                        && !held
                        && self.inner.opts.work
                        && !self
                            .inner
                            .stopping
                            .load(std::sync::atomic::Ordering::SeqCst);
                    self.batch.jobs_new.push(JobRow {
                        id: job.id.clone(),
                        instance_id: id.to_owned(),
                        exec: i64::from(*exec),
                        element_id: job.element_id.clone(),
                        kind: job.kind.clone(),
                        attempt: *attempt as i32,
                        payload: serde_json::to_string(&job).unwrap_or_default(),
                        run_at: if held { crate::store::HELD } else { now },
                        lease_until: here.then_some(now + self.inner.opts.lease_ms),
                        worker: here.then(|| self.inner.opts.worker.clone()),
                        host,
                        claims: i32::from(here),
                    });
                    if here {
                        self.jobs.push(job);
                    }
                }
                Action::CancelJob { exec } => {
                    let jid = job_id(id, *exec);
                    self.jobs.retain(|j| j.id != jid);
                    let before = self.batch.jobs_new.len();
                    self.batch.jobs_new.retain(|j| j.id != jid);
                    if before == self.batch.jobs_new.len() {
                        self.batch.jobs_cancelled.push(jid);
                    }
                }
                Action::StartChild {
                    exec,
                    process,
                    vars,
                    ..
                } => {
                    let mut vars = vars.clone();
                    vars.insert("LWAMS_CALL_PROCESS_INSTANCE_ID".into(), Value::from(id));
                    // A call activity reaches its own company's processes only.
                    more.push_back(Work::Start {
                        key: crate::tenancy::qualify(&company, crate::tenancy::bare(process)),
                        vars,
                        way: "call",
                        start: None,
                        parent: Some((id.to_owned(), *exec)),
                        reply: None,
                    });
                }
                Action::ThrowSignal { .. }
                | Action::SendMessage { .. }
                | Action::CancelChild { .. } => routed.push(a),
                Action::Ended { .. } => {
                    if let Some((p, exec)) = &parent {
                        let cmd = live.p.state.outcome_for_caller(*exec as ExecId);
                        more.push_back(Work::Cmd {
                            instance: p.clone(),
                            cmd,
                        });
                    }
                }
                _ => {}
            }
        }
        // A retried or skipped node's open incidents are resolved.
        if !settled.is_empty()
            && let Ok(open) = self.inner.store.incidents(id).await
        {
            for i in open {
                if i.resolved_at.is_none() && settled.contains(&i.exec) {
                    self.batch.incidents_resolved.push((i.id, now));
                }
            }
        }
        for a in routed {
            match a {
                Action::ThrowSignal { name, vars } => {
                    self.route_signal(id, &company, name, vars, more).await
                }
                Action::SendMessage { name, key, vars } => {
                    self.route_message(&company, name, key.as_deref(), vars, more)
                        .await
                }
                Action::CancelChild { exec } => self.cancel_children(id, *exec, more).await,
                _ => {}
            }
        }
        true
    }

    /// Add the instance rows of everything touched.
    fn finish(mut self) -> Finished {
        for id in &self.touched {
            let Some(live) = self.cache.get_mut(id) else {
                continue;
            };
            let st = &live.p.state;
            live.row.status = status_name(st.status).into();
            if st.status.is_ended() && live.row.ended_at.is_none() {
                live.row.ended_at = Some(self.inner.clock.now_ms());
            }
            live.row.state = serde_json::to_vec(&live.p).unwrap_or_default();
            let expected = live.version;
            live.row.version = expected.map_or(1, |v| v + 1);
            live.version = Some(live.row.version);
            self.batch.instances.push(InstanceWrite {
                row: live.row.clone(),
                expected_version: expected,
            });
        }
        let started: HashSet<&str> = self.batch.jobs_new.iter().map(|j| j.id.as_str()).collect();
        self.jobs.retain(|j| started.contains(j.id.as_str()));
        Finished {
            batch: self.batch,
            touched: self.touched,
            jobs: self.jobs,
            ids: self.ids,
            errors: self.errors,
        }
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Running => "running",
        Status::Completed => "completed",
        Status::Terminated => "terminated",
        Status::Failed => "failed",
        Status::Cancelled => "cancelled",
    }
}
