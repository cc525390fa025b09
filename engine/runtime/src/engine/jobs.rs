//! Running jobs: each in its own task, its result fed back into the loop;
//! the poll loop that claims due timers and abandoned jobs and renews the
//! leases of the jobs running here.

use std::sync::Arc;

use baton_core::Command;

use super::{Inner, Input};
use crate::job::{JobInput, JobResult};

impl Inner {
    /// A non-idempotent job whose previous holder stopped midway (its lease
    /// ran out): it is not re-run; it fails with an incident the operator
    /// resolves by retrying or skipping the node.
    fn interrupted(self: &Arc<Self>, job: JobInput, kind: &str) {
        let running_here = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&job.id);
        if running_here {
            return;
        }
        tracing::warn!(
            job = job.id,
            kind,
            "interrupted non-idempotent job handed to the operator"
        );
        let message = format!(
            "interrupted: the worker running this `{kind}` node stopped before it finished, and \
             `{kind}` is not safe to run twice, so it was not re-run; check the target, then retry or skip the node"
        );
        let _ = self.tx.send(Input::Command {
            instance: job.instance_id.clone(),
            cmd: JobResult::technical(message).into_command(job.exec),
            job: Some(job.id),
            timer: None,
        });
    }

    /// Run a job and feed its result back into the loop.
    pub fn run_job(self: &Arc<Self>, job: JobInput) {
        let inner = self.clone();
        if !self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job.id.clone())
        {
            return; // already running here (claimed again while it runs)
        }
        tokio::spawn(async move {
            let (instance, exec, id) = (job.instance_id.clone(), job.exec, job.id.clone());
            let result = inner.handler.run(job).await;
            let cmd = result.into_command(exec);
            // Sent before it leaves `running`: a drain that sees no running
            // job and then flushes finds this result ahead of its flush.
            let _ = inner.tx.send(Input::Command {
                instance,
                cmd,
                job: Some(id.clone()),
                timer: None,
            });
            inner
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        });
    }
}

/// Claim due timers and abandoned jobs (expired leases) and feed them in;
/// renew the leases of jobs still running here.
pub(super) async fn poll_loop(inner: Arc<Inner>) {
    let mut renewed = inner.clock.now_ms();
    loop {
        if inner.tx.is_closed() {
            return;
        }
        let now = inner.clock.now_ms();
        let worker = inner.opts.worker.clone();
        if now - renewed >= inner.opts.lease_ms / 3 {
            let ids: Vec<String> = inner
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned()
                .collect();
            if let Err(e) = inner
                .store
                .renew_leases(&worker, &ids, now + inner.opts.lease_ms)
                .await
            {
                tracing::warn!("renewing job leases: {e}");
            }
            renewed = now;
        }
        if inner.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(inner.opts.poll).await;
            continue;
        }
        inner.refresh_paused().await;
        match inner
            .store
            .claim_timers(&worker, 1000, now, inner.opts.lease_ms)
            .await
        {
            Ok(timers) => {
                for t in timers {
                    if t.id.starts_with("start:") {
                        let _ = inner.tx.send(Input::TimerStart(t));
                        continue;
                    }
                    let cmd = Command::TimerFired { sub: t.sub as u32 };
                    let _ = inner.tx.send(Input::Command {
                        instance: t.instance_id,
                        cmd,
                        job: None,
                        timer: Some(t.id),
                    });
                }
            }
            Err(e) => tracing::warn!("claiming timers: {e}"),
        }
        match inner
            .store
            .claim_jobs(&worker, None, 1000, now, inner.opts.lease_ms)
            .await
        {
            Ok(jobs) => {
                for j in jobs {
                    match serde_json::from_str::<JobInput>(&j.payload) {
                        Ok(input) if j.claims >= 2 && !inner.handler.idempotent(&j.kind) => {
                            inner.interrupted(input, &j.kind)
                        }
                        Ok(input) => inner.run_job(input),
                        Err(e) => tracing::error!(job = j.id, "unreadable job payload: {e}"),
                    }
                }
            }
            Err(e) => tracing::warn!("claiming jobs: {e}"),
        }
        tokio::time::sleep(inner.opts.poll).await;
    }
}
