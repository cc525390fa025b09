//! What the server keeps for the relays' work: jobs claimed, adopted and
//! moved between relays, failovers (seed 001), terminal secrets waiting to
//! be delivered, the terminals and accounts a relay reaches, and what
//! happened to each job on the relays (shown in the instance history).
//!
//! Like the host rows (`hosts.rs`), every change that decides something is
//! one conditional UPDATE, so several servers can share these rows.

use baton_nodes::resources::Terminal;
use sea_orm::QueryResult;
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Result};
use super::resources::{AccountRow, now_ms, upsert};
use super::rows::JobRow;
use super::sql::Sql;

/// One failover: `host_id` was lost and its jobs went to `backup_id`
/// (`None`: no backup was available; the jobs wait for the host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverRow {
    pub id: String,
    pub company_id: String,
    pub host_id: String,
    pub backup_id: Option<String>,
    pub at: i64,
    pub jobs: i64,
    pub reason: String,
}

/// A terminal account's secret on its way to a relay (ciphertext under the
/// master key); deleted once sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelaySecretRow {
    pub host_id: String,
    pub account_id: String,
    pub secret_enc: String,
    pub passphrase_enc: Option<String>,
}

/// Something that happened to a job on the relays: `sent`, `accepted`,
/// `rejected`, `failover`, `late-result` (a result from a relay the job had
/// moved away from: not applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayEventRow {
    pub instance_id: String,
    pub job_id: String,
    pub attempt: i64,
    pub at: i64,
    pub host_id: String,
    pub event: String,
    pub detail: String,
}

impl Store {
    // ---- jobs on relays ----------------------------------------------------

    /// One job row.
    pub async fn job(&self, id: &str) -> Result<Option<JobRow>> {
        let mut sql = self.select::<JobRow>("jobs");
        sql.push("id = ").bind(id.to_owned());
        self.fetch_one(sql, "read job").await
    }

    /// These job rows (those that exist).
    pub async fn jobs_by_ids(&self, ids: &[String]) -> Result<Vec<JobRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = self.select::<JobRow>("jobs");
        sql.push("id IN ").bind_list(ids.iter().cloned());
        self.fetch(sql, "read jobs").await
    }

    /// A relay that reconnected still holds these jobs: `worker` (its new
    /// link) leases them until `until`.
    pub async fn adopt_jobs(&self, worker: &str, ids: &[String], until: i64) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET worker = ")
            .bind(worker.to_owned())
            .push(", lease_until = ")
            .bind(until)
            .push(" WHERE id IN ")
            .bind_list(ids.iter().cloned());
        self.write(sql, "adopt relay jobs").await
    }

    /// Every job routed to `host`, held or not.
    pub async fn jobs_of_host(&self, host: &str) -> Result<Vec<JobRow>> {
        let mut sql = self.select::<JobRow>("jobs");
        sql.push("host = ")
            .bind(host.to_owned())
            .push(" ORDER BY run_at, id");
        self.fetch(sql, "jobs of host").await
    }

    /// Re-routes these jobs of `from` to `to`, unleased (the link of `to`
    /// claims them next). Returns how many moved.
    pub async fn move_jobs(&self, from: &str, to: &str, ids: &[String]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET host = ")
            .bind(to.to_owned())
            .push(", lease_until = NULL, worker = NULL WHERE host = ")
            .bind(from.to_owned())
            .push(" AND id IN ")
            .bind_list(ids.iter().cloned());
        self.write(sql, "move jobs").await
    }

    /// Gives up the lease of jobs `worker` holds (sent to a relay that did
    /// not take them): they can be claimed again at once.
    pub async fn release_jobs(&self, worker: &str, ids: &[String]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE jobs SET lease_until = NULL, worker = NULL WHERE worker = ")
            .bind(worker.to_owned())
            .push(" AND id IN ")
            .bind_list(ids.iter().cloned());
        self.write(sql, "release jobs").await
    }

    // ---- failovers ---------------------------------------------------------

    pub async fn add_failover(&self, f: &FailoverRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "INSERT INTO failovers (id, company_id, host_id, backup_id, at, jobs, reason) VALUES ",
        )
        .bind_list([
            f.id.clone().into(),
            f.company_id.clone().into(),
            f.host_id.clone().into(),
            f.backup_id.clone().into(),
            sea_orm::Value::from(f.at),
            sea_orm::Value::from(f.jobs),
            f.reason.clone().into(),
        ]);
        self.write(sql, "save failover").await.map(|_| ())
    }

    /// The company's failovers, newest first.
    pub async fn list_failovers(&self, company: &str, limit: u32) -> Result<Vec<FailoverRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT id, company_id, host_id, backup_id, at, jobs, reason FROM failovers \
             WHERE company_id = ",
        )
        .bind(company.to_owned())
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(i64::from(limit));
        let rows = self.rows(sql, "list failovers").await?;
        rows.iter()
            .map(|r| {
                Ok(FailoverRow {
                    id: r.try_get_by_index(0)?,
                    company_id: r.try_get_by_index(1)?,
                    host_id: r.try_get_by_index(2)?,
                    backup_id: r.try_get_by_index(3)?,
                    at: r.try_get_by_index(4)?,
                    jobs: r
                        .try_get_by_index::<i64>(5)
                        .or_else(|_| r.try_get_by_index::<i32>(5).map(i64::from))?,
                    reason: r.try_get_by_index(6)?,
                })
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("failovers")
    }

    // ---- secrets on their way to relays -------------------------------------

    pub async fn queue_relay_secret(&self, s: &RelaySecretRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "relay_secrets",
            &[
                "host_id",
                "account_id",
                "secret_enc",
                "passphrase_enc",
                "at",
            ],
            &["host_id", "account_id"],
            vec![
                s.host_id.clone().into(),
                s.account_id.clone().into(),
                s.secret_enc.clone().into(),
                s.passphrase_enc.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "queue relay secret").await.map(|_| ())
    }

    pub async fn relay_secrets(&self, host: &str) -> Result<Vec<RelaySecretRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT host_id, account_id, secret_enc, passphrase_enc FROM relay_secrets \
             WHERE host_id = ",
        )
        .bind(host.to_owned())
        .push(" ORDER BY at, account_id");
        let rows = self.rows(sql, "relay secrets").await?;
        rows.iter()
            .map(|r| {
                Ok(RelaySecretRow {
                    host_id: r.try_get_by_index(0)?,
                    account_id: r.try_get_by_index(1)?,
                    secret_enc: r.try_get_by_index(2)?,
                    passphrase_enc: r.try_get_by_index(3)?,
                })
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("relay_secrets")
    }

    /// Forgets a delivered secret (`secret_enc` must match: a newer one
    /// queued meanwhile stays).
    pub async fn delete_relay_secret(&self, s: &RelaySecretRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM relay_secrets WHERE host_id = ")
            .bind(s.host_id.clone())
            .push(" AND account_id = ")
            .bind(s.account_id.clone())
            .push(" AND secret_enc = ")
            .bind(s.secret_enc.clone());
        self.write(sql, "delete relay secret").await.map(|_| ())
    }

    // ---- terminals a relay reaches --------------------------------------------

    /// The terminals behind these hosts, by name.
    pub async fn terminals_of_hosts(&self, hosts: &[String]) -> Result<Vec<Terminal>> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT id, host_id, name, host_name, host_address, port, connection_type, os_name, \
             os_version, comments FROM terminals WHERE host_id IN ",
        )
        .bind_list(hosts.iter().cloned())
        .push(" ORDER BY name");
        let rows = self.rows(sql, "terminals of hosts").await?;
        rows.iter()
            .map(terminal_row)
            .collect::<std::result::Result<_, _>>()
            .during("terminals")
    }

    /// Every account of these terminals (secrets as stored: ciphertext, or
    /// empty for accounts whose secret lives on the relays).
    pub async fn accounts_of(&self, terminals: &[String]) -> Result<Vec<AccountRow>> {
        if terminals.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT id, terminal_id, username, auth_kind, secret_enc, passphrase_enc, comments \
             FROM terminal_accounts WHERE terminal_id IN ",
        )
        .bind_list(terminals.iter().cloned())
        .push(" ORDER BY username");
        let rows = self.rows(sql, "accounts of terminals").await?;
        rows.iter()
            .map(|r| {
                Ok(AccountRow {
                    id: r.try_get_by_index(0)?,
                    terminal_id: r.try_get_by_index(1)?,
                    username: r.try_get_by_index(2)?,
                    auth_kind: r.try_get_by_index(3)?,
                    secret_enc: r.try_get_by_index(4)?,
                    passphrase_enc: r.try_get_by_index(5)?,
                    comments: r.try_get_by_index(6)?,
                })
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("terminal_accounts")
    }

    // ---- relay job events ------------------------------------------------------

    pub async fn add_relay_events(&self, events: &[RelayEventRow]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "INSERT INTO relay_events (instance_id, job_id, attempt, at, host_id, event, detail) \
             VALUES ",
        );
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                e.instance_id.clone().into(),
                e.job_id.clone().into(),
                sea_orm::Value::from(e.attempt),
                sea_orm::Value::from(e.at),
                e.host_id.clone().into(),
                e.event.clone().into(),
                e.detail.clone().into(),
            ]);
        }
        self.write(sql, "save relay events").await.map(|_| ())
    }

    /// What happened on the relays to an instance's jobs, oldest first.
    pub async fn relay_events(&self, instance: &str) -> Result<Vec<RelayEventRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT instance_id, job_id, attempt, at, host_id, event, detail FROM relay_events \
             WHERE instance_id = ",
        )
        .bind(instance.to_owned())
        .push(" ORDER BY at");
        let rows = self.rows(sql, "relay events").await?;
        rows.iter()
            .map(|r| {
                Ok(RelayEventRow {
                    instance_id: r.try_get_by_index(0)?,
                    job_id: r.try_get_by_index(1)?,
                    attempt: r
                        .try_get_by_index::<i64>(2)
                        .or_else(|_| r.try_get_by_index::<i32>(2).map(i64::from))?,
                    at: r.try_get_by_index(3)?,
                    host_id: r.try_get_by_index(4)?,
                    event: r.try_get_by_index(5)?,
                    detail: r.try_get_by_index(6)?,
                })
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("relay_events")
    }
}

fn terminal_row(r: &QueryResult) -> std::result::Result<Terminal, sea_orm::DbErr> {
    let port: i32 = r.try_get_by_index(5)?;
    Ok(Terminal {
        id: r.try_get_by_index(0)?,
        host_id: r.try_get_by_index(1)?,
        name: r.try_get_by_index(2)?,
        host_name: r.try_get_by_index(3)?,
        host_address: r.try_get_by_index(4)?,
        port: u16::try_from(port).unwrap_or(0),
        connection_type: r.try_get_by_index(6)?,
        os_name: r.try_get_by_index(7)?,
        os_version: r.try_get_by_index(8)?,
        comments: r.try_get_by_index(9)?,
    })
}
