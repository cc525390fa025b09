//! Running jobs: accepted into the journal, run through `baton_nodes`'
//! registry (at most `max_jobs` at once), cancelled on request, their log
//! lines and results masked with every secret the vault holds and handed
//! to the link. Log lines of a job always leave before its result.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_nodes::secret::mask_all;
use baton_nodes::{Ctx, JobInfo, LogLine, NodeError, Registry, RunResult, Stream};
use baton_relay_protocol::{
    INTERRUPTED, JobRef, LogStream, MAX_FRAME_BYTES, Outcome, RelayJob, ToServer,
};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::journal::Journal;
use crate::resources::RelayResources;
use crate::status::Status;
use crate::vault::Vault;

/// Everything the relay sends goes through here (the link drains it).
pub type Outbox = mpsc::UnboundedSender<ToServer>;

/// How long a node gets to stop after the server's time limit.
const GRACE: Duration = Duration::from_secs(5);

/// Runs jobs. Cheap to clone.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    resources: Arc<RelayResources>,
    vault: Arc<Vault>,
    journal: Journal,
    status: Arc<Status>,
    outbox: Outbox,
    /// Jobs waiting for a slot, in the order they came: the dispatcher
    /// hands each its slot in turn.
    turns: mpsc::UnboundedSender<(oneshot::Sender<OwnedSemaphorePermit>, CancellationToken)>,
    slots: Arc<Semaphore>,
    /// Jobs handed to the dispatcher and not yet given (or denied) a slot.
    waiting: Arc<AtomicU32>,
    max_held: usize,
    cancels: Mutex<HashMap<String, Vec<(u32, CancellationToken)>>>,
    logs: mpsc::UnboundedSender<LogLine>,
    results: mpsc::UnboundedSender<ToServer>,
    queued: AtomicU32,
    running: AtomicU32,
}

/// The relay's node kinds: every node of `baton_nodes` and [`crate::noop::Noop`].
pub fn registry() -> Registry {
    let mut r = Registry::with_defaults();
    r.add(crate::noop::Noop);
    r
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub struct Options {
    pub max_jobs: usize,
    pub max_held: usize,
    pub file_roots: Vec<std::path::PathBuf>,
}

impl Runner {
    /// A runner; starts the task that forwards logs and results to `outbox`.
    pub fn new(
        opts: Options,
        vault: Arc<Vault>,
        journal: Journal,
        status: Arc<Status>,
        outbox: Outbox,
    ) -> Runner {
        let (logs, log_rx) = mpsc::unbounded_channel();
        let (results, result_rx) = mpsc::unbounded_channel();
        let (turns, turn_rx) = mpsc::unbounded_channel();
        let slots = Arc::new(Semaphore::new(opts.max_jobs));
        let waiting = Arc::new(AtomicU32::new(0));
        tokio::spawn(dispatch(turn_rx, slots.clone(), waiting.clone()));
        tokio::spawn(forward(
            log_rx,
            result_rx,
            outbox.clone(),
            vault.clone(),
            status.clone(),
        ));
        Runner {
            inner: Arc::new(Inner {
                registry: registry(),
                resources: Arc::new(RelayResources {
                    vault: vault.clone(),
                    roots: opts.file_roots,
                }),
                vault,
                journal,
                status,
                outbox,
                turns,
                slots,
                waiting,
                max_held: opts.max_held,
                cancels: Mutex::new(HashMap::new()),
                logs,
                results,
                queued: AtomicU32::new(0),
                running: AtomicU32::new(0),
            }),
        }
    }

    pub fn running(&self) -> u32 {
        self.inner.running.load(Ordering::Relaxed)
    }

    pub fn queued(&self) -> u32 {
        self.inner.queued.load(Ordering::Relaxed)
    }

    /// Jobs from the server: new ones are journaled, acknowledged with
    /// `accepted` once on disk, then run; ones already held are
    /// acknowledged again (and their result re-sent), not run again; past
    /// `max_held_jobs` they are `rejected`.
    pub fn submit(&self, jobs: Vec<RelayJob>) {
        let i = &self.inner;
        let mut seen = HashSet::new();
        let mut again = Vec::new();
        let mut fresh = Vec::new();
        for j in jobs {
            let r = j.job_ref();
            if !seen.insert(r.clone()) {
                continue;
            }
            if i.journal.holds(&r) {
                again.push(r);
            } else {
                fresh.push(j);
            }
        }
        if !again.is_empty() {
            let _ = i.outbox.send(ToServer::Accepted {
                jobs: again.clone(),
            });
            for r in again {
                if let Some(outcome) = i.journal.outcome(&r) {
                    let _ = i.outbox.send(result(&r, outcome));
                }
            }
        }
        let room = i.max_held.saturating_sub(i.journal.len());
        if fresh.len() > room {
            let refused: Vec<JobRef> = fresh.split_off(room).iter().map(|j| j.job_ref()).collect();
            tracing::warn!(
                "refusing {} jobs: the relay holds {} (max_held_jobs {})",
                refused.len(),
                i.journal.len(),
                i.max_held
            );
            let _ = i.outbox.send(ToServer::Rejected {
                jobs: refused,
                reason: format!(
                    "the relay's queue is full ({} jobs held, max_held_jobs = {})",
                    i.journal.len(),
                    i.max_held
                ),
            });
        }
        if fresh.is_empty() {
            return;
        }
        let tokens: Vec<CancellationToken> = fresh.iter().map(|j| self.register(j)).collect();
        let durable = i.journal.accept(&fresh);
        let this = self.clone();
        tokio::spawn(async move {
            let refs: Vec<JobRef> = fresh.iter().map(RelayJob::job_ref).collect();
            match durable.await {
                Ok(()) => {
                    let _ = this.inner.outbox.send(ToServer::Accepted { jobs: refs });
                    for (job, token) in fresh.into_iter().zip(tokens) {
                        this.spawn_run(job, token);
                    }
                }
                Err(e) => {
                    tracing::error!("cannot accept {} jobs: {e}", refs.len());
                    this.inner.journal.forget(&refs);
                    for j in &fresh {
                        this.unregister(&j.job_ref());
                        this.inner.status.job_finished(
                            &j.job_ref(),
                            &Outcome::failed("not accepted: the job journal cannot be written"),
                        );
                    }
                    let _ = this.inner.outbox.send(ToServer::Rejected {
                        jobs: refs,
                        reason: format!("the relay cannot write its job journal: {e}"),
                    });
                }
            }
        });
    }

    /// After a restart: jobs the journal holds without a result run again,
    /// except non-idempotent ones that had started, which fail with
    /// [`INTERRUPTED`] for the operator to retry or skip.
    pub fn recover(&self) -> (usize, usize) {
        let (mut rerun, mut interrupted) = (0, 0);
        for (job, started) in self.inner.journal.unfinished() {
            let token = self.register(&job);
            if started && !self.inner.registry.idempotent(&job.kind) {
                interrupted += 1;
                let this = self.clone();
                tokio::spawn(async move {
                    this.finish(&job.job_ref(), &job.kind, Outcome::failed(INTERRUPTED))
                        .await;
                });
            } else {
                rerun += 1;
                self.spawn_run(job, token);
            }
        }
        (rerun, interrupted)
    }

    /// Cancels every attempt of `job_id` held here; how many.
    pub fn cancel(&self, job_id: &str) -> usize {
        let tokens = lock(&self.inner.cancels)
            .get(job_id)
            .cloned()
            .unwrap_or_default();
        for (_, t) in &tokens {
            t.cancel();
        }
        tokens.len()
    }

    fn register(&self, job: &RelayJob) -> CancellationToken {
        let t = CancellationToken::new();
        lock(&self.inner.cancels)
            .entry(job.job_id.clone())
            .or_default()
            .push((job.attempt, t.clone()));
        self.inner.status.job_queued(job);
        t
    }

    fn unregister(&self, r: &JobRef) {
        let mut c = lock(&self.inner.cancels);
        if let Some(v) = c.get_mut(&r.job_id) {
            v.retain(|(a, _)| *a != r.attempt);
            if v.is_empty() {
                c.remove(&r.job_id);
            }
        }
    }

    fn spawn_run(&self, job: RelayJob, token: CancellationToken) {
        let i = &self.inner;
        // Nobody waiting and a slot free: take it now (one hop less);
        // otherwise wait for the dispatcher's turn, in order.
        let now = (i.waiting.load(Ordering::SeqCst) == 0)
            .then(|| i.slots.clone().try_acquire_owned().ok())
            .flatten();
        let turn = match now {
            Some(_) => None,
            None => {
                let (turn, my_turn) = oneshot::channel();
                i.waiting.fetch_add(1, Ordering::SeqCst);
                let _ = i.turns.send((turn, token.clone()));
                Some(my_turn)
            }
        };
        i.queued.fetch_add(1, Ordering::Relaxed);
        let this = self.clone();
        tokio::spawn(async move {
            let i = &this.inner;
            let r = job.job_ref();
            let kind = job.kind.clone();
            let permit = match (now, turn) {
                (Some(p), _) => Some(p),
                (None, Some(my_turn)) => tokio::select! {
                    biased;
                    _ = token.cancelled() => None,
                    p = my_turn => p.ok(),
                },
                (None, None) => None,
            };
            i.queued.fetch_sub(1, Ordering::Relaxed);
            let outcome = match permit {
                None => Outcome::failed("cancelled"),
                Some(_permit) => {
                    i.running.fetch_add(1, Ordering::Relaxed);
                    i.status.job_started(&r);
                    let o = this.execute(job, token).await;
                    i.running.fetch_sub(1, Ordering::Relaxed);
                    o
                }
            };
            this.finish(&r, &kind, outcome).await;
        });
    }

    async fn execute(&self, job: RelayJob, token: CancellationToken) -> Outcome {
        let i = &self.inner;
        let r = job.job_ref();
        if !i.registry.idempotent(&job.kind)
            && let Err(e) = i.journal.start(&r).await
        {
            return Outcome::failed(format!("not run: {e}"));
        }
        let info = JobInfo {
            job_id: job.job_id,
            instance_id: job.instance_id,
            element_id: job.element_id,
            name: job.element_name,
            attempt: job.attempt,
        };
        let ctx = Ctx::new(info, job.props, i.resources.clone())
            .with_vars(job.vars)
            .with_outputs(job.outputs)
            .with_globals(job.globals)
            .with_log(i.logs.clone())
            .with_cancel(token.clone());
        let run = i.registry.run(&job.kind, ctx);
        let result = match job.timeout_ms {
            None => run.await,
            Some(ms) => {
                tokio::pin!(run);
                tokio::select! {
                    r = &mut run => r,
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => {
                        token.cancel();
                        let _ = tokio::time::timeout(GRACE, &mut run).await;
                        return Outcome::failed(format!(
                            "timed out after {} (the server's limit for this job)",
                            human_ms(ms)
                        ));
                    }
                }
            }
        };
        match result {
            RunResult::Done { outputs, vars } => Outcome::Done { outputs, vars },
            RunResult::Failed(NodeError::Bpmn { code, message }) => Outcome::Failed {
                message,
                bpmn_code: Some(code),
            },
            RunResult::Failed(e) => Outcome::failed(e.to_string()),
        }
    }

    /// Masks, journals, then sends the outcome.
    async fn finish(&self, r: &JobRef, kind: &str, outcome: Outcome) {
        let i = &self.inner;
        let outcome = fit(mask_outcome(outcome, &i.vault.masks()));
        if let Err(e) = i.journal.finish(r, kind, &outcome).await {
            tracing::error!("the result of {r} is not on disk (sending it anyway): {e}");
        }
        self.unregister(r);
        i.status.job_finished(r, &outcome);
        let _ = i.results.send(result(r, outcome));
    }
}

fn result(r: &JobRef, outcome: Outcome) -> ToServer {
    ToServer::Result {
        job_id: r.job_id.clone(),
        attempt: r.attempt,
        outcome,
    }
}

fn human_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn mask_value(v: Value, secrets: &[String]) -> Value {
    match v {
        Value::String(s) => Value::String(mask_all(&s, secrets)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| mask_value(x, secrets)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, mask_value(x, secrets)))
                .collect(),
        ),
        other => other,
    }
}

/// Every secret the vault holds replaced by `******` (the node masked the
/// ones it used; this catches a secret that reached an output another way).
fn mask_outcome(o: Outcome, secrets: &[String]) -> Outcome {
    if secrets.is_empty() {
        return o;
    }
    let obj = |m| match mask_value(Value::Object(m), secrets) {
        Value::Object(m) => m,
        _ => unreachable!("masking keeps the shape"),
    };
    match o {
        Outcome::Done { outputs, vars } => Outcome::Done {
            outputs: obj(outputs),
            vars: obj(vars),
        },
        Outcome::Failed { message, bpmn_code } => Outcome::Failed {
            message: mask_all(&message, secrets),
            bpmn_code,
        },
    }
}

/// Hands out the `max_jobs` slots in the order jobs came. A job cancelled
/// while waiting is skipped (its slot goes back if it was already handed).
async fn dispatch(
    mut turns: mpsc::UnboundedReceiver<(oneshot::Sender<OwnedSemaphorePermit>, CancellationToken)>,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicU32>,
) {
    while let Some((turn, token)) = turns.recv().await {
        let permit = tokio::select! {
            biased;
            _ = token.cancelled() => None,
            p = slots.clone().acquire_owned() => p.ok(),
        };
        waiting.fetch_sub(1, Ordering::SeqCst);
        // A closed receiver (the job ended while waiting) drops the permit.
        if let Some(p) = permit {
            let _ = turn.send(p);
        }
    }
}

/// A result too large for one frame becomes a failure that says so.
fn fit(o: Outcome) -> Outcome {
    let size = serde_json::to_vec(&o).map(|v| v.len()).unwrap_or(0);
    // Room for the message around the outcome.
    if size + 4096 <= MAX_FRAME_BYTES {
        return o;
    }
    Outcome::failed(format!(
        "the node's result is {size} bytes, more than a relay frame carries ({MAX_FRAME_BYTES} bytes): reduce its output"
    ))
}

/// Log lines (masked, recorded for the page) and results to the outbox. A
/// result is forwarded only after every log line queued before it.
async fn forward(
    mut logs: mpsc::UnboundedReceiver<LogLine>,
    mut results: mpsc::UnboundedReceiver<ToServer>,
    outbox: Outbox,
    vault: Arc<Vault>,
    status: Arc<Status>,
) {
    let mut buf = Vec::with_capacity(256);
    let send_log = |l: LogLine| {
        let secrets = vault.masks();
        let text = if secrets.is_empty() {
            l.text
        } else {
            mask_all(&l.text, &secrets)
        };
        let stream = match l.stream {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
            Stream::Info => LogStream::Info,
        };
        status.job_log(&JobRef::new(l.job_id.clone(), l.attempt), stream, &text);
        let _ = outbox.send(ToServer::Log {
            job_id: l.job_id,
            attempt: l.attempt,
            stream,
            text,
        });
    };
    loop {
        tokio::select! {
            biased;
            n = logs.recv_many(&mut buf, 256) => {
                if n == 0 {
                    return;
                }
                for l in buf.drain(..) {
                    send_log(l);
                }
            }
            r = results.recv() => {
                let Some(r) = r else { return };
                while let Ok(l) = logs.try_recv() {
                    send_log(l);
                }
                let _ = outbox.send(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_are_masked_everywhere() {
        let secrets = vec!["hunter22".to_owned()];
        let o = Outcome::Done {
            outputs: json!({"stdout": "pw=hunter22\n", "n": 1, "list": ["xhunter22x"]})
                .as_object()
                .unwrap()
                .clone(),
            vars: json!({"v": {"deep": "hunter22"}})
                .as_object()
                .unwrap()
                .clone(),
        };
        let text = serde_json::to_string(&mask_outcome(o, &secrets)).unwrap();
        assert!(!text.contains("hunter22"), "{text}");
        assert_eq!(text.matches("******").count(), 3);
        let f = mask_outcome(Outcome::failed("login hunter22 refused"), &secrets);
        assert_eq!(f, Outcome::failed("login ****** refused"));
    }

    #[test]
    fn an_oversized_result_becomes_a_failure() {
        let big = Outcome::Done {
            outputs: json!({"stdout": "x".repeat(MAX_FRAME_BYTES)})
                .as_object()
                .unwrap()
                .clone(),
            vars: Default::default(),
        };
        let Outcome::Failed { message, .. } = fit(big) else {
            panic!()
        };
        assert!(
            message.contains("more than a relay frame carries"),
            "{message}"
        );
        let small = Outcome::failed("x");
        assert_eq!(fit(small.clone()), small);
    }
}
