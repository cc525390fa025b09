//! The link's jobs: adopting what a returning relay still holds, claiming
//! from the store, and taking results back to the engine.

use std::time::Instant;

use baton_relay_protocol::{JobRef, Outcome, RelayJob, ToRelay};
use baton_runtime::job::{JobInput, JobResult};
use baton_runtime::store::{JobRow, RelayEventRow};
use serde_json::{Map, Value};

use super::{Control, Held, Link};

impl Link {
    /// Jobs in the relay's `hello.resumed`: those still ours are held
    /// again (lease renewed under this link); the others moved or ended,
    /// and the relay is told to drop them.
    pub(super) async fn adopt(
        &mut self,
        resumed: &[JobRef],
    ) -> baton_runtime::store::Result<Vec<ToRelay>> {
        if resumed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = resumed.iter().map(|r| r.job_id.clone()).collect();
        let rows = self.hub.store.jobs_by_ids(&ids).await?;
        let serving = self.serving();
        let mut mine = Vec::new();
        let mut out = Vec::new();
        for r in resumed {
            let row = rows.iter().find(|j| j.id == r.job_id);
            match row {
                Some(j)
                    if j.attempt as u32 == r.attempt
                        && j.host.as_ref().is_some_and(|h| serving.contains(h)) =>
                {
                    mine.push(j.id.clone());
                    self.held.insert(
                        j.id.clone(),
                        Held {
                            attempt: r.attempt,
                            exec: j.exec as u32,
                            accepted: true,
                        },
                    );
                }
                // Finished and applied (its result is acknowledged when it
                // comes), or moved to another host or attempt: stop it.
                _ => out.push(ToRelay::Cancel {
                    job_id: r.job_id.clone(),
                }),
            }
        }
        let until = self.now() + self.hub.cfg.lease.as_millis() as i64;
        self.hub
            .store
            .adopt_jobs(&self.worker, &mine, until)
            .await?;
        Ok(out)
    }

    /// Claims due jobs of the hosts this link serves, up to the window.
    pub(super) async fn claim(&mut self, out: &mut Vec<ToRelay>) {
        if self.pause_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let now = self.now();
        let lease = self.hub.cfg.lease.as_millis() as i64;
        self.more = false;
        for host in self.serving() {
            let room = self.hub.cfg.window.saturating_sub(self.held.len());
            if room == 0 {
                self.more = true;
                return;
            }
            let rows = match self
                .hub
                .store
                .claim_jobs(&self.worker, Some(&host), room as u32, now, lease)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(host = self.host.name, "claiming relay jobs: {e}");
                    return;
                }
            };
            self.more |= rows.len() >= room;
            let mut jobs = Vec::with_capacity(rows.len());
            for row in rows {
                match self.relay_job(&row) {
                    Some(job) => jobs.push(job),
                    None => tracing::error!(job = row.id, "unreadable job payload"),
                }
            }
            if !jobs.is_empty() {
                out.push(ToRelay::Jobs { jobs });
            }
        }
    }

    pub(super) fn relay_job(&mut self, row: &JobRow) -> Option<RelayJob> {
        let input: JobInput = serde_json::from_str(&row.payload).ok()?;
        self.held.insert(
            row.id.clone(),
            Held {
                attempt: row.attempt as u32,
                exec: input.exec,
                accepted: false,
            },
        );
        Some(RelayJob {
            job_id: row.id.clone(),
            attempt: row.attempt as u32,
            kind: input.kind,
            element_id: input.element_id,
            element_name: input.name,
            instance_id: input.instance_id,
            props: input.props,
            vars: input.vars,
            outputs: input.outputs,
            globals: self.globals.clone(),
            timeout_ms: None,
        })
    }

    /// Applies results once: only for a job row that still names this
    /// attempt and a host this link serves. Acknowledged after the engine
    /// committed them (a crash before that makes the relay send them again).
    pub(super) async fn results(&mut self, results: Vec<(String, u32, Outcome)>) {
        let ids: Vec<String> = results.iter().map(|r| r.0.clone()).collect();
        let rows = match self.hub.store.jobs_by_ids(&ids).await {
            Ok(r) => r,
            Err(e) => {
                // Not acknowledged: the relay sends them again after a reconnect.
                tracing::warn!("reading jobs for relay results: {e}");
                return;
            }
        };
        let serving = self.serving();
        let mut acks = Vec::new();
        let mut late = Vec::new();
        for (job_id, attempt, outcome) in results {
            acks.push(JobRef::new(job_id.clone(), attempt));
            let held = self.held.remove(&job_id);
            let Some(row) = rows.iter().find(|r| r.id == job_id) else {
                continue; // applied before, or cancelled
            };
            let ours = row.attempt as u32 == attempt
                && row.host.as_ref().is_some_and(|h| serving.contains(h));
            if !ours {
                late.push(RelayEventRow {
                    instance_id: row.instance_id.clone(),
                    job_id: job_id.clone(),
                    attempt: i64::from(attempt),
                    at: self.now(),
                    host_id: self.host.id.clone(),
                    event: "late-result".into(),
                    detail: format!(
                        "a result from `{}` after the job had moved to `{}`: not applied",
                        self.host.name,
                        row.host.as_deref().unwrap_or("the server")
                    ),
                });
                continue;
            }
            let exec = held.map(|h| h.exec).unwrap_or(row.exec as u32);
            let result = self.job_result(outcome);
            if let Err(e) = self
                .hub
                .engine
                .job_result(&row.instance_id, &job_id, exec, result)
            {
                tracing::error!("handing a relay result to the engine: {e}");
                return;
            }
        }
        if let Err(e) = self.hub.store.add_relay_events(&late).await {
            tracing::warn!("recording late relay results: {e}");
        }
        let (engine, ctl) = (self.hub.engine.clone(), self.ctl.clone());
        tokio::spawn(async move {
            if engine.flush().await.is_ok() {
                let _ = ctl.send(Control::Send(ToRelay::Ack { results: acks }));
            }
        });
    }

    /// The engine's form of a relay's outcome; outputs carry `host.*`.
    pub(super) fn job_result(&self, outcome: Outcome) -> JobResult {
        match outcome {
            Outcome::Done { mut outputs, vars } => {
                outputs.insert("host".into(), self.host_value());
                JobResult::Done {
                    output: Some(Value::Object(outputs)),
                    vars,
                }
            }
            Outcome::Failed {
                message,
                bpmn_code: Some(code),
            } => JobResult::bpmn(code, message),
            Outcome::Failed {
                message,
                bpmn_code: None,
            } => JobResult::technical(message),
        }
    }

    /// `${node.host.*}`: the record (id, name, comments) and the relay's facts.
    pub(super) fn host_value(&self) -> Value {
        let mut m = match &self.host.facts {
            Value::Object(f) => f.clone(),
            _ => Map::new(),
        };
        m.insert("id".into(), self.host.id.clone().into());
        m.insert("name".into(), self.host.name.clone().into());
        m.insert("comments".into(), self.host.comments.clone().into());
        Value::Object(m)
    }
}
