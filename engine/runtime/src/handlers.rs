//! The job handlers built into the engine: script tasks and `noop` (an
//! optionally delayed no-op, for tests and benchmarks). The node library
//! adds the operations nodes (remote command, SQL, HTTP, ...).

use std::sync::Arc;
use std::time::Duration;

use crate::engine::{BoxFuture, JobHandler};
use crate::job::{JobInput, JobResult};
use crate::machine::Worker;
use crate::script::{Limits, ScriptEngine};

/// Script tasks through the sandboxed script engine, and `noop` tasks.
#[derive(Clone)]
pub struct Builtin {
    scripts: Arc<ScriptEngine>,
}

impl Default for Builtin {
    fn default() -> Self {
        Builtin {
            scripts: Arc::new(ScriptEngine::new(Limits::default())),
        }
    }
}

impl Builtin {
    pub fn supports(kind: &str) -> bool {
        match kind.split_once(':') {
            Some(("script", format)) => ScriptEngine::supports(format),
            _ => kind == "noop",
        }
    }

    /// `noop` waits `delayMs` (a property), if given.
    fn delay(job: &JobInput) -> Option<Duration> {
        let v = job.props.get("delayMs")?;
        let ms = v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?;
        Some(Duration::from_millis(ms))
    }

    fn run_now(&self, job: &JobInput) -> JobResult {
        if job.kind == "noop" {
            return JobResult::done();
        }
        if job.kind.starts_with("script:") {
            return self.scripts.run(job);
        }
        JobResult::technical(format!("no handler for `{}` work", job.kind))
    }
}

impl JobHandler for Builtin {
    fn supports(&self, kind: &str) -> bool {
        Builtin::supports(kind)
    }

    fn run(&self, job: JobInput) -> BoxFuture<JobResult> {
        let me = self.clone();
        Box::pin(async move {
            if let Some(d) = Builtin::delay(&job) {
                tokio::time::sleep(d).await;
            }
            if job.kind.starts_with("script:") {
                // Scripts are CPU work with their own time limit: keep them off the async threads.
                return tokio::task::spawn_blocking(move || me.run_now(&job))
                    .await
                    .unwrap_or_else(|e| {
                        JobResult::technical(format!("the script task panicked: {e}"))
                    });
            }
            me.run_now(&job)
        })
    }
}

impl Worker for Builtin {
    fn run(&mut self, job: &JobInput, _now: i64) -> JobResult {
        self.run_now(job)
    }
    fn duration_ms(&self, job: &JobInput) -> i64 {
        Builtin::delay(job).map_or(0, |d| d.as_millis() as i64)
    }
}
