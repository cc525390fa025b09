//! Pausing an instance: while paused, the work it has running finishes but
//! its new jobs are written held (`run_at` = [`crate::store::HELD`]); resuming
//! makes them due. The paused set lives in the store; each engine keeps a
//! copy, refreshed at every poll, that the cycle consults when it writes jobs.

use super::{Engine, Error, Inner};

impl Engine {
    /// Pauses an instance: the work it has running finishes, but no new job
    /// of it starts (they are written held) until [`Engine::resume`]. Other
    /// servers on the store learn it at their next poll. `false`: it was
    /// paused already.
    pub async fn pause(&self, instance: &str) -> Result<bool, Error> {
        let now = self.inner.clock.now_ms();
        let done = self.inner.store.pause_instance(instance, now).await?;
        self.inner.paused_set().insert(instance.to_owned());
        Ok(done)
    }

    /// Resumes a paused instance: its held jobs become due now. `false`: it
    /// was not paused.
    pub async fn resume(&self, instance: &str) -> Result<bool, Error> {
        let now = self.inner.clock.now_ms();
        let done = self.inner.store.resume_instance(instance, now).await?;
        self.inner.paused_set().remove(instance);
        Ok(done)
    }

    /// Whether the instance is paused (as this server knows it).
    pub fn is_paused(&self, instance: &str) -> bool {
        self.inner.paused_set().contains(instance)
    }
}

impl Inner {
    pub(crate) fn paused_set(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.paused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the paused instances from the store (kept as they were when
    /// the store cannot be read).
    pub(crate) async fn refresh_paused(&self) {
        match self.store.paused_instances().await {
            Ok(ids) => *self.paused_set() = ids.into_iter().collect(),
            Err(e) => tracing::warn!("reading paused instances: {e}"),
        }
    }
}
