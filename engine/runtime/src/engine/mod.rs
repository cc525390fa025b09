//! The durable engine: one loop that takes inputs (starts, job results,
//! due timers), steps the instances they concern, and writes the new states,
//! history, jobs, timers and subscriptions of many instances in one
//! transaction (group commit). Jobs run under a lease; after a crash the
//! lease runs out and the job is claimed again; its completion applies once
//! because the commit that applies it must delete its row.

mod clock;
mod cycle;
mod deployments;
mod jobs;
mod pause;
mod route;
mod rows;
mod scheduler;
mod starts;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_core::Command;
use baton_model::Rejected;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::deploy::Deployment;
use crate::job::{JobInput, JobResult};
use crate::store::{self, Batch, DefinitionRow, Store};

pub use clock::{Clock, SystemClock, TestClock, WarpClock};
pub use rows::Persisted;
pub use scheduler::MISFIRE_GRACE_MS;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Does the work of jobs.
pub trait JobHandler: Send + Sync + 'static {
    /// Whether this handler runs jobs of `kind` (checked at deploy time).
    fn supports(&self, kind: &str) -> bool;

    /// Deploy-time check of one element's job: its kind is supported and its
    /// properties are valid. The message says what is wrong.
    fn check(
        &self,
        kind: &str,
        _props: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        if self.supports(kind) {
            Ok(())
        } else {
            Err(format!(
                "no handler for `{kind}` work: this element cannot run here"
            ))
        }
    }

    /// Whether running a job of `kind` again after a crash is harmless. A
    /// job found abandoned midway (its lease ran out) whose kind is not
    /// idempotent is not re-run: it becomes an incident for the operator.
    fn idempotent(&self, _kind: &str) -> bool {
        true
    }

    fn run(&self, job: JobInput) -> BoxFuture<JobResult>;

    /// The engine no longer wants job `job_id` (instance terminated, an
    /// interrupting boundary event): stop it if it runs here.
    fn cancel(&self, _job_id: &str) {}

    /// Where a job runs: `None` here (the server's workers), or a future
    /// that names the Sub-Manager host it is routed to (`None` again when
    /// the lookup finds no host: the job then runs here, and its handler
    /// fails it if it needed one). `company` is the job's company.
    fn route(&self, _company: &str, _job: &JobInput) -> Option<BoxFuture<Option<String>>> {
        None
    }
}

/// Told after each commit about work that left this process's hands: jobs
/// routed to Sub-Manager hosts, and jobs the engine no longer wants.
pub trait WorkListener: Send + Sync + 'static {
    /// Jobs were routed to these hosts.
    fn routed(&self, hosts: &[String]);
    /// These jobs were cancelled (their rows are gone).
    fn cancelled(&self, job_ids: &[String]);
}

/// Engine errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the definition was rejected")]
    Rejected(#[from] Rejected),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("no deployed process with key `{0}`")]
    UnknownKey(String),
    #[error("cannot start: {0}")]
    CannotStart(String),
    #[error("no schedule `{0}`")]
    UnknownSchedule(String),
    #[error("the engine has stopped")]
    Stopped,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// This engine's name in job and timer leases.
    pub worker: String,
    /// How long a claimed job or timer stays invisible to other claimers.
    pub lease_ms: i64,
    /// Most inputs folded into one commit.
    pub batch_max: usize,
    /// How often due timers and abandoned jobs are looked for.
    pub poll: Duration,
    /// Run jobs, timers and schedules in this process (a server). `false`: a
    /// client (`baton start`) that deploys and starts instances and leaves
    /// every job, timer and tick to the servers sharing its store.
    pub work: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            worker: format!("baton-{}", std::process::id()),
            lease_ms: 30_000,
            batch_max: 1000,
            poll: Duration::from_millis(100),
            work: true,
        }
    }
}

/// A resolved start event: deployment, process, start event.
pub(crate) type StartAt = (Arc<Deployment>, baton_model::El, baton_model::El);

pub(crate) enum Input {
    Start {
        key: String,
        vars: Map<String, Value>,
        way: &'static str,
        /// A triggered start event (timer, condition) instead of the none start.
        at: Option<StartAt>,
        reply: Option<oneshot::Sender<Result<String, Error>>>,
    },
    /// A top-level timer start event is due.
    TimerStart(crate::store::TimerRow),
    /// A schedule's due ticks (claimed by the scheduler loop).
    Schedule(scheduler::ScheduleTick),
    /// A message from outside (API, queue): correlated like a thrown one,
    /// within `company`.
    Message {
        company: String,
        name: String,
        key: Option<String>,
        vars: Map<String, Value>,
    },
    Command {
        instance: String,
        cmd: Command,
        /// The job whose completion this is (its row must still exist).
        job: Option<String>,
        /// The timer that fired (its row must still exist).
        timer: Option<String>,
    },
    /// Answered once every input sent before it is committed.
    Flush(oneshot::Sender<()>),
}

/// A cheap-to-clone handle on a running engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub handler: Arc<dyn JobHandler>,
    pub opts: Options,
    pub tx: mpsc::UnboundedSender<Input>,
    pub deployments: Mutex<Deployments>,
    /// Jobs running in this process: their leases are renewed while they run.
    pub running: Mutex<std::collections::HashSet<String>>,
    /// Draining ([`Engine::drain`]): claim nothing, start no job here.
    pub stopping: std::sync::atomic::AtomicBool,
    /// Told about routed and cancelled jobs ([`Engine::listen`]).
    pub listener: std::sync::OnceLock<Arc<dyn WorkListener>>,
    /// What changed, after each commit ([`Engine::feed`]).
    pub feed: crate::feed::Feed,
    /// Paused instances ([`Engine::pause`]): their new jobs are held. Read
    /// from the store at start and at every poll (other servers pause too).
    pub paused: Mutex<std::collections::HashSet<String>>,
}

#[derive(Default)]
pub(crate) struct Deployments {
    pub by_id: HashMap<String, Arc<Deployment>>,
    pub latest: HashMap<String, String>,
}

impl Engine {
    /// Start the engine's loops on the current tokio runtime.
    pub async fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        handler: Arc<dyn JobHandler>,
        opts: Options,
    ) -> Result<Engine, Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let feed = crate::feed::Feed::new(&store, &opts.worker);
        let inner = Arc::new(Inner {
            feed,
            store,
            clock,
            handler,
            opts,
            tx,
            deployments: Mutex::new(Deployments::default()),
            running: Mutex::new(Default::default()),
            stopping: Default::default(),
            listener: std::sync::OnceLock::new(),
            paused: Mutex::new(Default::default()),
        });
        let engine = Engine { inner };
        engine.inner.refresh_paused().await;
        engine.load_deployments().await?;
        tokio::spawn(cycle::run_loop(engine.inner.clone(), rx));
        if engine.inner.opts.work {
            tokio::spawn(jobs::poll_loop(engine.inner.clone()));
            tokio::spawn(scheduler::scheduler_loop(engine.inner.clone()));
        }
        Ok(engine)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Deletes an unused version (`key:version`): none of its instances
    /// exist, no schedule pins it, and a later version does. `Ok(None)`:
    /// deleted; otherwise what uses it. Engines that loaded it before keep
    /// it in memory until they restart (nothing starts it: it is not the
    /// latest version).
    pub async fn delete_version(
        &self,
        key: &str,
        version: i32,
    ) -> Result<Option<store::InUse>, Error> {
        let id = format!("{key}:{version}");
        let kept = self
            .inner
            .store
            .delete_unused_definition(&id, key, version)
            .await?;
        if kept.is_none() {
            self.inner
                .deployments
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .by_id
                .remove(&id);
        }
        Ok(kept)
    }

    /// The live feed: this engine's changes after each commit and, on
    /// PostgreSQL, those of every other engine on the database.
    pub fn feed(&self) -> &crate::feed::Feed {
        &self.inner.feed
    }

    /// Graceful stop: claim no more jobs, timers or ticks; start no new job
    /// here (jobs the remaining steps create are left unclaimed, for another
    /// server or the next start); wait up to `timeout` for the jobs running
    /// here to finish, and until their results are committed. Returns how
    /// many were still running at the deadline (their leases will run out
    /// and another engine takes them).
    pub async fn drain(&self, timeout: Duration) -> usize {
        use std::sync::atomic::Ordering;
        self.inner.stopping.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + timeout;
        let running = || {
            self.inner
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len()
        };
        while running() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (tx, rx) = oneshot::channel();
        if self.inner.tx.send(Input::Flush(tx)).is_ok() {
            let _ = tokio::time::timeout_at(deadline + Duration::from_secs(5), rx).await;
        }
        running()
    }

    async fn load_deployments(&self) -> Result<(), Error> {
        for d in self.inner.store.list_definitions().await? {
            let _ = self.inner.deployment(&d.id).await;
        }
        Ok(())
    }

    /// Deploy a BPMN document under `key` (default: its main process id).
    /// The same text again returns the existing version.
    pub async fn deploy(&self, xml: &str, key: Option<&str>) -> Result<DefinitionRow, Error> {
        let handler = self.inner.handler.clone();
        let probe = Deployment::compile(key, 0, xml, &|k, p| handler.check(k, p))?;
        let key = probe.key.clone();
        let hash = sha256_hex(xml);
        if let Some(existing) = self.inner.store.definition_by_hash(&key, &hash).await? {
            return Ok(existing);
        }
        let version = self.inner.store.next_version(&key).await?;
        let row = DefinitionRow {
            id: format!("{key}:{version}"),
            key: key.clone(),
            version,
            name: probe
                .model
                .main_process()
                .and_then(|p| probe.model.element(p).name.clone()),
            xml: xml.to_owned(),
            hash,
            deployed_at: self.inner.clock.now_ms(),
        };
        // The new version's timer start events replace the previous version's.
        let now = self.inner.clock.now_ms();
        let previous = self.inner.latest(&key).await;
        let batch = Batch {
            definitions: vec![row.clone()],
            timers_cancelled: previous
                .map(|p| {
                    starts::timer_rows(&p, now)
                        .into_iter()
                        .map(|t| t.id)
                        .collect()
                })
                .unwrap_or_default(),
            timers_new: starts::timer_rows(&probe, now),
            ..Batch::default()
        };
        self.inner.store.commit(&batch).await?;
        let dep = Deployment {
            id: row.id.clone(),
            version,
            ..probe
        };
        let mut d = self
            .inner
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        d.by_id.insert(row.id.clone(), Arc::new(dep));
        d.latest.insert(key, row.id.clone());
        Ok(row)
    }

    /// Start an instance of the latest version of `key`; resolves once it is committed.
    pub async fn start_instance(
        &self,
        key: &str,
        vars: Map<String, Value>,
        way: &'static str,
    ) -> Result<String, Error> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Input::Start {
                key: key.to_owned(),
                vars,
                way,
                at: None,
                reply: Some(reply),
            })
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Queue a start without waiting for it (bulk loads).
    pub fn start_detached(
        &self,
        key: &str,
        vars: Map<String, Value>,
        way: &'static str,
    ) -> Result<(), Error> {
        self.inner
            .tx
            .send(Input::Start {
                key: key.to_owned(),
                vars,
                way,
                at: None,
                reply: None,
            })
            .map_err(|_| Error::Stopped)
    }

    /// Start an instance of every latest process of `company` whose
    /// conditional start event holds for `vars`; returns the new instance ids.
    pub async fn evaluate_conditions(
        &self,
        company: &str,
        vars: Map<String, Value>,
    ) -> Result<Vec<String>, Error> {
        let latest: Vec<Arc<Deployment>> = {
            let d = self
                .inner
                .deployments
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            d.latest
                .values()
                .filter_map(|id| d.by_id.get(id).cloned())
                .filter(|dep| crate::tenancy::company_of(&dep.key) == company)
                .collect()
        };
        let mut waits = Vec::new();
        for dep in &latest {
            for at in starts::conditional_starts(dep, &vars) {
                let (reply, rx) = oneshot::channel();
                let input = Input::Start {
                    key: dep.key.clone(),
                    vars: vars.clone(),
                    way: "condition",
                    at: Some(at),
                    reply: Some(reply),
                };
                self.inner.tx.send(input).map_err(|_| Error::Stopped)?;
                waits.push(rx);
            }
        }
        let mut ids = Vec::new();
        for rx in waits {
            ids.push(rx.await.map_err(|_| Error::Stopped)??);
        }
        Ok(ids)
    }

    /// Deliver a message by name (and correlation key) to the instance waiting
    /// for it, or to a message start event.
    pub fn correlate(
        &self,
        name: &str,
        key: Option<&str>,
        vars: Map<String, Value>,
    ) -> Result<(), Error> {
        self.correlate_in(crate::tenancy::DEFAULT_COMPANY, name, key, vars)
    }

    /// [`Engine::correlate`] within a company: only its instances and
    /// message start events can receive it.
    pub fn correlate_in(
        &self,
        company: &str,
        name: &str,
        key: Option<&str>,
        vars: Map<String, Value>,
    ) -> Result<(), Error> {
        self.inner
            .tx
            .send(Input::Message {
                company: company.to_owned(),
                name: name.to_owned(),
                key: key.map(str::to_owned),
                vars,
            })
            .map_err(|_| Error::Stopped)
    }

    /// Create or replace a schedule (a new id when `id` is empty). The spec is
    /// validated (a bad expression is rejected with its position); the next fire is
    /// computed from now; `created_at`, `last_fired_at` and `last_instance` of an
    /// existing schedule are kept.
    pub async fn save_schedule(
        &self,
        mut s: store::ScheduleRow,
    ) -> Result<store::ScheduleRow, Error> {
        s.prepare(self.inner.clock.now_ms())?;
        self.inner.store.save_schedule(&s).await?;
        self.inner
            .store
            .schedule(&s.id)
            .await?
            .ok_or(Error::UnknownSchedule(s.id))
    }

    pub async fn list_schedules(&self) -> Result<Vec<store::ScheduleRow>, Error> {
        Ok(self.inner.store.list_schedules().await?)
    }

    /// Delete a schedule; whether it existed.
    pub async fn delete_schedule(&self, id: &str) -> Result<bool, Error> {
        Ok(self.inner.store.delete_schedule(id).await?)
    }

    /// The next `n` fires (Unix ms) of a stored schedule after now, with its window
    /// and holiday calendar applied.
    pub async fn preview_schedule(&self, id: &str, n: usize) -> Result<Vec<i64>, Error> {
        let row = self
            .inner
            .store
            .schedule(id)
            .await?
            .ok_or_else(|| Error::UnknownSchedule(id.to_owned()))?;
        let now = scheduler::to_dt(self.inner.clock.now_ms());
        Ok(row
            .schedule()?
            .next_fires(now, n)
            .into_iter()
            .map(|t| t.timestamp_millis())
            .collect())
    }

    /// Set once: told after each commit which hosts jobs were routed to (a
    /// relay link on this server claims them at once instead of at its next
    /// poll) and which jobs were cancelled (a relay stops them).
    pub fn listen(&self, listener: Arc<dyn WorkListener>) {
        let _ = self.inner.listener.set(listener);
    }

    /// The result of job `job_id` (activity instance `exec`) done elsewhere
    /// (a Sub-Manager). Applied once, and only while the job's row exists.
    pub fn job_result(
        &self,
        instance: &str,
        job_id: &str,
        exec: u32,
        result: JobResult,
    ) -> Result<(), Error> {
        self.inner
            .tx
            .send(Input::Command {
                instance: instance.to_owned(),
                cmd: result.into_command(exec),
                job: Some(job_id.to_owned()),
                timer: None,
            })
            .map_err(|_| Error::Stopped)
    }

    /// The engine's clock, Unix ms (jobs' `run_at` and leases are in it).
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Waits until every input sent before this call is committed.
    pub async fn flush(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Input::Flush(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Deliver a command to an instance (operator actions, messages, tasks).
    pub fn send(&self, instance: &str, cmd: Command) -> Result<(), Error> {
        self.inner
            .tx
            .send(Input::Command {
                instance: instance.to_owned(),
                cmd,
                job: None,
                timer: None,
            })
            .map_err(|_| Error::Stopped)
    }
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
