//! Paused instances ([`crate::engine::Engine::pause`]): their new jobs are
//! written with `run_at` = [`HELD`], which no claim reaches, and resuming
//! makes them due again.

use super::Store;
use super::error::Result;
use super::sql::Sql;

/// The `run_at` of a held job: later than any clock reading.
pub const HELD: i64 = i64::MAX / 4;

impl Store {
    /// Pauses `instance`: `false` if it was paused already. Its jobs not
    /// running (unclaimed, or their lease ran out) are held too.
    pub async fn pause_instance(&self, instance: &str, now: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("INSERT INTO paused_instances (instance_id, paused_at) VALUES (")
            .bind(instance.to_owned())
            .push(", ")
            .bind(now)
            .push(") ON CONFLICT DO NOTHING");
        if self.write(sql, "pause instance").await? == 0 {
            return Ok(false);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET run_at = ")
            .bind(HELD)
            .push(" WHERE instance_id = ")
            .bind(instance.to_owned())
            .push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(now)
            .push(")");
        self.write(sql, "hold jobs").await?;
        Ok(true)
    }

    /// Resumes `instance`: its held jobs are due at `now`. `false` if it was
    /// not paused.
    pub async fn resume_instance(&self, instance: &str, now: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM paused_instances WHERE instance_id = ")
            .bind(instance.to_owned());
        if self.write(sql, "resume instance").await? == 0 {
            return Ok(false);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET run_at = ")
            .bind(now)
            .push(" WHERE instance_id = ")
            .bind(instance.to_owned())
            .push(" AND run_at >= ")
            .bind(HELD);
        self.write(sql, "release held jobs").await?;
        Ok(true)
    }

    /// Every paused instance.
    pub async fn paused_instances(&self) -> Result<Vec<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT instance_id FROM paused_instances");
        let rows = self.rows(sql, "read paused instances").await?;
        rows.iter()
            .map(|r| {
                use super::error::Context;
                r.try_get_by_index::<String>(0)
                    .during("read paused instances")
            })
            .collect()
    }
}
