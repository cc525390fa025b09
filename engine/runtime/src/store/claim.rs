//! The queue claims: lease due jobs and timers to one worker.
//!
//! PostgreSQL (several engines on one database): one statement that locks
//! the due rows with `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass
//! each other by instead of waiting, and leases them. SQLite (single node): the
//! same UPDATE … RETURNING inside a `BEGIN IMMEDIATE` transaction on the one
//! writer connection. Either way a row whose lease is live is invisible.
//!
//! Each claim reads an index that matches its filter and ORDER BY, so it
//! stops after `limit` rows instead of sorting the backlog:
//! `jobs_claim_server (run_at, lease_until) WHERE host IS NULL`,
//! `jobs_claim_host (host, run_at, lease_until) WHERE host IS NOT NULL`,
//! `timers_claim (due_at, lease_until)`.

use sea_orm::{ConnectionTrait, Statement};

use super::Store;
use super::codec::{Decode, decode_all, select_list};
use super::error::{Context, Result};
use super::rows::{JobRow, TimerRow};
use super::sql::{Dialect, Sql};

impl Store {
    /// Lease up to `limit` due jobs (`run_at <= now`, no live lease) for
    /// `worker` until `now + lease_ms`, oldest first. `host`: the
    /// Sub-Manager host whose jobs to take; `None` = the server's own jobs.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        host: Option<&str>,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<JobRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET lease_until = ")
            .bind(now.saturating_add(lease_ms))
            .push(", claims = claims + 1, worker = ")
            .bind(worker.to_owned())
            .push(" WHERE id IN (SELECT id FROM jobs WHERE ");
        match host {
            Some(host) => sql.push("host = ").bind(host.to_owned()),
            None => sql.push("host IS NULL"),
        };
        sql.push(" AND run_at <= ")
            .bind(now)
            .push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(now)
            .push(") ORDER BY run_at LIMIT ")
            .bind(i64::from(limit));
        let mut jobs: Vec<JobRow> = self.claim(sql, "claim jobs").await?;
        jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        Ok(jobs)
    }

    /// Lease up to `limit` due timers (`due_at <= now`, no live lease) for
    /// `worker` until `now + lease_ms`, earliest first. (The table's `worker`
    /// column records the claimer for operators; [`TimerRow`] does not carry it.)
    pub async fn claim_timers(
        &self,
        worker: &str,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<TimerRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE timers SET lease_until = ")
            .bind(now.saturating_add(lease_ms))
            .push(", worker = ")
            .bind(worker.to_owned())
            .push(" WHERE id IN (SELECT id FROM timers WHERE due_at <= ")
            .bind(now)
            .push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(now)
            .push(") ORDER BY due_at LIMIT ")
            .bind(i64::from(limit));
        let mut timers: Vec<TimerRow> = self.claim(sql, "claim timers").await?;
        timers.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(timers)
    }

    /// Extend the lease of jobs `worker` still holds (a long-running job
    /// must not look abandoned). Returns how many leases were extended: a job
    /// whose lease another worker took over is not touched.
    pub async fn renew_leases(&self, worker: &str, ids: &[String], until: i64) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET lease_until = ")
            .bind(until)
            .push(" WHERE worker = ")
            .bind(worker.to_owned())
            .push(" AND id IN ")
            .bind_list(ids.iter().cloned());
        let done = self
            .writer()
            .execute_raw(sql.statement())
            .await
            .during("renew leases")?;
        Ok(done.rows_affected())
    }

    /// Close the subquery (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), add
    /// `RETURNING`, and run the claim.
    pub(super) async fn claim<T: Decode>(&self, mut sql: Sql, op: &'static str) -> Result<Vec<T>> {
        match self.dialect() {
            Dialect::Postgres => sql.push(" FOR UPDATE SKIP LOCKED)"),
            Dialect::Sqlite => sql.push(")"),
        };
        sql.push(" RETURNING ").push(&select_list::<T>(""));
        let stmt = sql.statement();
        let rows = match self.dialect() {
            // One statement is its own transaction on PostgreSQL.
            Dialect::Postgres => self.writer().query_all_raw(stmt).await.during(op)?,
            Dialect::Sqlite => self.claim_immediate(stmt).await.during(op)?,
        };
        decode_all(&rows).during(op)
    }

    async fn claim_immediate(
        &self,
        stmt: Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        let txn = self.begin_write().await?;
        let rows = txn.query_all_raw(stmt).await?;
        txn.commit().await?;
        Ok(rows)
    }
}
