//! Resources in the store: global variables, script library, data sources,
//! host groups, hosts, terminals and their accounts, pinned SSH host keys,
//! and node logs.
//!
//! Secrets arrive here already encrypted (`*_enc`, see
//! `baton_nodes::MasterKey`); the store never sees plain text.
//! Lookups by "id or name" are scoped to a company.

use baton_nodes::resources::{Script, Terminal};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::Store;
use super::error::{Context, Error, Result};
use super::sql::Sql;

/// A data source row; the password is ciphertext.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSourceRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub url: String,
    pub username: Option<String>,
    pub password_enc: Option<String>,
    pub comments: String,
}

/// A terminal account row; the secret (password or private key) and the
/// key's passphrase are ciphertext.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub terminal_id: String,
    pub username: String,
    /// `password` or `key`.
    pub auth_kind: String,
    pub secret_enc: String,
    pub passphrase_enc: Option<String>,
    pub comments: String,
}

/// One stored line of a node's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLogRow {
    pub job_id: String,
    pub attempt: i32,
    pub seq: i64,
    pub at: i64,
    pub stream: String,
    pub line: String,
}

const SCRIPT_COLS: &str = "id, name, language, content, comments";
const DATA_SOURCE_COLS: &str = "id, company_id, name, url, username, password_enc, comments";

fn script_row(r: &QueryResult) -> Result<Script> {
    Ok(Script {
        id: r.try_get_by_index(0).during("scripts")?,
        name: r.try_get_by_index(1).during("scripts")?,
        language: r.try_get_by_index(2).during("scripts")?,
        content: r.try_get_by_index(3).during("scripts")?,
        comments: r.try_get_by_index(4).during("scripts")?,
    })
}

fn data_source_row(r: &QueryResult) -> Result<DataSourceRow> {
    Ok(DataSourceRow {
        id: r.try_get_by_index(0).during("data_sources")?,
        company_id: r.try_get_by_index(1).during("data_sources")?,
        name: r.try_get_by_index(2).during("data_sources")?,
        url: r.try_get_by_index(3).during("data_sources")?,
        username: r.try_get_by_index(4).during("data_sources")?,
        password_enc: r.try_get_by_index(5).during("data_sources")?,
        comments: r.try_get_by_index(6).during("data_sources")?,
    })
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `INSERT … ON CONFLICT (key) DO UPDATE SET` every other column.
pub(super) fn upsert(sql: &mut Sql, table: &str, cols: &[&str], key: &[&str], values: Vec<Value>) {
    sql.push(&format!(
        "INSERT INTO {table} ({}) VALUES ",
        cols.join(", ")
    ))
    .bind_list(values)
    .push(&format!(" ON CONFLICT ({}) DO UPDATE SET ", key.join(", ")));
    let sets: Vec<String> = cols
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push(&sets.join(", "));
}

impl Store {
    pub(super) async fn write(&self, sql: Sql, op: &'static str) -> Result<u64> {
        match self.writer().execute_raw(sql.statement()).await {
            Ok(r) => Ok(r.rows_affected()),
            Err(e) if e.to_string().to_ascii_lowercase().contains("unique") => {
                Err(Error::Invalid {
                    what: format!("{op}: the name is already taken"),
                })
            }
            Err(source) => Err(Error::Db { op, source }),
        }
    }

    pub(super) async fn rows(&self, sql: Sql, op: &'static str) -> Result<Vec<QueryResult>> {
        self.reader()
            .query_all_raw(sql.statement())
            .await
            .during(op)
    }

    /// `WHERE company_id = ? AND (id = ? OR name = ?)`, preferring the id.
    pub(super) fn by_key(&self, table: &str, cols: &str, company: &str, key: &str) -> Sql {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {cols} FROM {table} WHERE company_id = "))
            .bind(company.to_owned())
            .push(" AND (id = ")
            .bind(key.to_owned())
            .push(" OR name = ")
            .bind(key.to_owned())
            .push(") ORDER BY CASE WHEN id = ")
            .bind(key.to_owned())
            .push(" THEN 0 ELSE 1 END LIMIT 1");
        sql
    }

    pub(super) async fn delete_where(&self, table: &str, company: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("DELETE FROM {table} WHERE company_id = "))
            .bind(company.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "delete resource").await? > 0)
    }

    // ---- global variables ---------------------------------------------

    pub async fn put_global(
        &self,
        company: &str,
        name: &str,
        value: &serde_json::Value,
        comments: &str,
    ) -> Result<()> {
        if name.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a global variable needs a name".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "global_vars",
            &["company_id", "name", "value", "comments", "updated_at"],
            &["company_id", "name"],
            vec![
                company.into(),
                name.into(),
                value.to_string().into(),
                comments.into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save global variable").await.map(|_| ())
    }

    pub async fn globals(&self, company: &str) -> Result<Map<String, serde_json::Value>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT name, value FROM global_vars WHERE company_id = ")
            .bind(company.to_owned())
            .push(" ORDER BY name");
        let mut out = Map::new();
        for r in self.rows(sql, "read global variables").await? {
            let name: String = r.try_get_by_index(0).during("global_vars.name")?;
            let value: String = r.try_get_by_index(1).during("global_vars.value")?;
            let v = serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value));
            out.insert(name, v);
        }
        Ok(out)
    }

    pub async fn delete_global(&self, company: &str, name: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM global_vars WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND name = ")
            .bind(name.to_owned());
        Ok(self.write(sql, "delete global variable").await? > 0)
    }

    // ---- script library -------------------------------------------------

    pub async fn put_script(&self, company: &str, s: &Script) -> Result<()> {
        baton_expr::parse_template(&s.content).map_err(|e| Error::Invalid {
            what: format!("script `{}`: {e}", s.name),
        })?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "scripts",
            &[
                "id",
                "company_id",
                "name",
                "language",
                "content",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                s.id.clone().into(),
                company.into(),
                s.name.clone().into(),
                s.language.clone().into(),
                s.content.clone().into(),
                s.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save script").await.map(|_| ())
    }

    pub async fn script(&self, company: &str, key: &str) -> Result<Option<Script>> {
        let sql = self.by_key("scripts", SCRIPT_COLS, company, key);
        let rows = self.rows(sql, "read script").await?;
        rows.first().map(script_row).transpose()
    }

    /// The company's script library, by name.
    pub async fn list_scripts(&self, company: &str) -> Result<Vec<Script>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {SCRIPT_COLS} FROM scripts WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY name");
        self.rows(sql, "list scripts")
            .await?
            .iter()
            .map(script_row)
            .collect()
    }

    pub async fn delete_script(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("scripts", company, id).await
    }

    // ---- data sources ---------------------------------------------------

    pub async fn put_data_source(&self, d: &DataSourceRow) -> Result<()> {
        if d.url.trim().is_empty() {
            return Err(Error::Invalid {
                what: format!("data source `{}` has no URL", d.name),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "data_sources",
            &[
                "id",
                "company_id",
                "name",
                "url",
                "username",
                "password_enc",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                d.id.clone().into(),
                d.company_id.clone().into(),
                d.name.clone().into(),
                d.url.clone().into(),
                d.username.clone().into(),
                d.password_enc.clone().into(),
                d.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save data source").await.map(|_| ())
    }

    pub async fn data_source(&self, company: &str, key: &str) -> Result<Option<DataSourceRow>> {
        let sql = self.by_key("data_sources", DATA_SOURCE_COLS, company, key);
        let rows = self.rows(sql, "read data source").await?;
        rows.first().map(data_source_row).transpose()
    }

    /// The company's data sources, by name (passwords still ciphertext).
    pub async fn list_data_sources(&self, company: &str) -> Result<Vec<DataSourceRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {DATA_SOURCE_COLS} FROM data_sources WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY name");
        self.rows(sql, "list data sources")
            .await?
            .iter()
            .map(data_source_row)
            .collect()
    }

    pub async fn delete_data_source(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("data_sources", company, id).await
    }

    // ---- terminals, accounts (host groups and hosts: hosts.rs) ------

    pub async fn put_terminal(&self, company: &str, t: &Terminal) -> Result<()> {
        if t.host_address.trim().is_empty() || t.port == 0 {
            return Err(Error::Invalid {
                what: format!("terminal `{}` needs an address and a port", t.name),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "terminals",
            &[
                "id",
                "company_id",
                "host_id",
                "name",
                "host_name",
                "host_address",
                "port",
                "connection_type",
                "os_name",
                "os_version",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                t.id.clone().into(),
                company.into(),
                t.host_id.clone().into(),
                t.name.clone().into(),
                t.host_name.clone().into(),
                t.host_address.clone().into(),
                i32::from(t.port).into(),
                t.connection_type.clone().into(),
                t.os_name.clone().into(),
                t.os_version.clone().into(),
                t.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save terminal").await.map(|_| ())
    }

    pub async fn terminal(&self, company: &str, key: &str) -> Result<Option<Terminal>> {
        let sql = self.by_key(
            "terminals",
            "id, host_id, name, host_name, host_address, port, connection_type, os_name, os_version, comments",
            company,
            key,
        );
        let rows = self.rows(sql, "read terminal").await?;
        rows.first()
            .map(|r| {
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
            })
            .transpose()
            .during("terminals")
    }

    pub async fn put_account(&self, a: &AccountRow) -> Result<()> {
        if !matches!(a.auth_kind.as_str(), "password" | "key") {
            return Err(Error::Invalid {
                what: format!(
                    "account `{}`: auth must be `password` or `key`, not `{}`",
                    a.username, a.auth_kind
                ),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "terminal_accounts",
            &[
                "id",
                "terminal_id",
                "username",
                "auth_kind",
                "secret_enc",
                "passphrase_enc",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                a.id.clone().into(),
                a.terminal_id.clone().into(),
                a.username.clone().into(),
                a.auth_kind.clone().into(),
                a.secret_enc.clone().into(),
                a.passphrase_enc.clone().into(),
                a.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save terminal account").await.map(|_| ())
    }

    /// The terminal's account with this id or username; its first account
    /// (by username) when `key` is `None`.
    pub async fn account(
        &self,
        terminal_id: &str,
        key: Option<&str>,
    ) -> Result<Option<AccountRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT id, terminal_id, username, auth_kind, secret_enc, passphrase_enc, comments \
             FROM terminal_accounts WHERE terminal_id = ",
        )
        .bind(terminal_id.to_owned());
        if let Some(k) = key {
            sql.push(" AND (id = ")
                .bind(k.to_owned())
                .push(" OR username = ")
                .bind(k.to_owned())
                .push(")");
        }
        sql.push(" ORDER BY username LIMIT 1");
        let rows = self.rows(sql, "read terminal account").await?;
        rows.first()
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
            .transpose()
            .during("terminal_accounts")
    }

    /// The company's terminals, by name.
    pub async fn list_terminals(&self, company: &str) -> Result<Vec<Terminal>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "SELECT id, host_id, name, host_name, host_address, port, connection_type, os_name, \
             os_version, comments FROM terminals WHERE company_id = ",
        )
        .bind(company.to_owned())
        .push(" ORDER BY name");
        let rows = self.rows(sql, "list terminals").await?;
        rows.iter()
            .map(|r| {
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
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("terminals")
    }

    /// Deletes the company's terminal, its accounts and their secrets still
    /// waiting for a relay.
    pub async fn delete_terminal(&self, company: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "DELETE FROM relay_secrets WHERE account_id IN (SELECT a.id FROM terminal_accounts a \
             JOIN terminals t ON t.id = a.terminal_id WHERE t.company_id = ",
        )
        .bind(company.to_owned())
        .push(" AND t.id = ")
        .bind(id.to_owned())
        .push(")");
        self.write(sql, "forget relay secrets of terminal").await?;
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "DELETE FROM terminal_accounts WHERE terminal_id IN (SELECT id FROM terminals \
             WHERE company_id = ",
        )
        .bind(company.to_owned())
        .push(" AND id = ")
        .bind(id.to_owned())
        .push(")");
        self.write(sql, "delete terminal accounts").await?;
        self.delete_where("terminals", company, id).await
    }

    /// Deletes a terminal's account and its secrets still waiting for a relay.
    pub async fn delete_account(&self, terminal_id: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM relay_secrets WHERE account_id = ")
            .bind(id.to_owned());
        self.write(sql, "forget relay secrets of account").await?;
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM terminal_accounts WHERE terminal_id = ")
            .bind(terminal_id.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "delete terminal account").await? > 0)
    }

    /// Forgets the secrets still waiting for these accounts on `host`
    /// (every host: `None`).
    pub async fn forget_relay_secrets(
        &self,
        host: Option<&str>,
        accounts: &[String],
    ) -> Result<()> {
        if accounts.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM relay_secrets WHERE account_id IN ")
            .bind_list(accounts.iter().cloned());
        if let Some(h) = host {
            sql.push(" AND host_id = ").bind(h.to_owned());
        }
        self.write(sql, "forget relay secrets").await.map(|_| ())
    }

    /// Forgets every secret waiting for `host` (the host is deleted).
    pub async fn forget_relay_secrets_of_host(&self, host: &str) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM relay_secrets WHERE host_id = ")
            .bind(host.to_owned());
        self.write(sql, "forget relay secrets of host")
            .await
            .map(|_| ())
    }

    // ---- SSH host keys ---------------------------------------------------

    /// The pinned key of `host:port`, pinning `key` if there is none yet
    /// (first use). Returns the key pinned after the call and whether this
    /// call pinned it.
    pub async fn pin_host_key(&self, host: &str, port: u16, key: &str) -> Result<(String, bool)> {
        let mut sql = Sql::new(self.dialect());
        sql.push("INSERT INTO ssh_host_keys (host, port, key, pinned_at) VALUES ")
            .bind_list::<Value>(vec![
                host.into(),
                i32::from(port).into(),
                key.into(),
                now_ms().into(),
            ])
            .push(" ON CONFLICT (host, port) DO NOTHING");
        let inserted = self.write(sql, "pin host key").await? > 0;
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT key FROM ssh_host_keys WHERE host = ")
            .bind(host.to_owned())
            .push(" AND port = ")
            .bind(i32::from(port));
        let rows = self.rows(sql, "read host key").await?;
        match rows.first() {
            Some(r) => Ok((r.try_get_by_index(0).during("ssh_host_keys.key")?, inserted)),
            None => Ok((key.to_owned(), inserted)),
        }
    }

    /// Forget the pinned key of `host:port` (after a server was reinstalled).
    pub async fn unpin_host_key(&self, host: &str, port: u16) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM ssh_host_keys WHERE host = ")
            .bind(host.to_owned())
            .push(" AND port = ")
            .bind(i32::from(port));
        Ok(self.write(sql, "unpin host key").await? > 0)
    }

    // ---- node logs -------------------------------------------------------

    pub async fn append_job_logs(&self, rows: &[JobLogRow]) -> Result<()> {
        for chunk in rows.chunks(256) {
            let mut sql = Sql::new(self.dialect());
            sql.push("INSERT INTO job_logs (job_id, attempt, seq, at, stream, line) VALUES ");
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_list::<Value>(vec![
                    r.job_id.clone().into(),
                    r.attempt.into(),
                    r.seq.into(),
                    r.at.into(),
                    r.stream.clone().into(),
                    r.line.clone().into(),
                ]);
            }
            sql.push(" ON CONFLICT (job_id, attempt, seq) DO NOTHING");
            self.write(sql, "append node logs").await?;
        }
        Ok(())
    }

    /// The log lines of every node of an instance, by job then in order.
    pub async fn instance_logs(&self, instance_id: &str) -> Result<Vec<JobLogRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT job_id, attempt, seq, at, stream, line FROM job_logs WHERE job_id LIKE ")
            .bind(format!("{}:%", instance_id.replace(['%', '_'], "")))
            .push(" ORDER BY job_id, attempt, seq");
        self.log_rows(sql).await
    }

    /// A job's log lines (all attempts), in order.
    pub async fn job_logs(&self, job_id: &str) -> Result<Vec<JobLogRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT job_id, attempt, seq, at, stream, line FROM job_logs WHERE job_id = ")
            .bind(job_id.to_owned())
            .push(" ORDER BY attempt, seq");
        self.log_rows(sql).await
    }

    /// Decodes rows of `SELECT job_id, attempt, seq, at, stream, line`.
    pub(super) async fn log_rows(&self, sql: Sql) -> Result<Vec<JobLogRow>> {
        self.rows(sql, "read node logs")
            .await?
            .iter()
            .map(|r| {
                Ok(JobLogRow {
                    job_id: r.try_get_by_index(0)?,
                    attempt: r.try_get_by_index(1)?,
                    seq: r.try_get_by_index(2)?,
                    at: r.try_get_by_index(3)?,
                    stream: r.try_get_by_index(4)?,
                    line: r.try_get_by_index(5)?,
                })
            })
            .collect::<std::result::Result<_, sea_orm::DbErr>>()
            .during("job_logs")
    }
}
