//! Host groups and hosts (Sub-Manager relays): the record, the enrolment
//! token, the link state relays report (not initialised → connected →
//! lost), backup priority lists and who covers a lost host (seed 001).
//! The relays' jobs, failovers, secrets and events are in `relays.rs`.
//!
//! Several servers share these rows: every state change that decides
//! something (a host is lost, a backup is taken) is one conditional UPDATE,
//! so exactly one server acts on it.

use sea_orm::QueryResult;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Store;
use super::error::{Context, Error, Result};
use super::resources::{now_ms, upsert};
use super::sql::Sql;

/// A host that never connected.
pub const NOT_INITIALISED: &str = "not-initialised";
/// Its relay's link is up and heartbeats arrive.
pub const CONNECTED: &str = "connected";
/// Heartbeats stopped: its work went to a backup.
pub const LOST: &str = "lost";

/// A host group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostGroupRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub comments: String,
}

/// A host (a Sub-Manager): the record, and what its relay reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRow {
    pub id: String,
    pub company_id: String,
    pub group_id: Option<String>,
    pub name: String,
    pub comments: String,
    /// [`NOT_INITIALISED`] | [`CONNECTED`] | [`LOST`].
    pub state: String,
    /// The relay's machine (`HostFacts`), from its last hello.
    pub facts: Value,
    /// The hosts that take this one's work when it is lost, first first.
    pub backups: Vec<String>,
    /// The relay's own verdict in its last heartbeat (seed 001).
    pub available: bool,
    /// The lost host whose work this one runs (a backup counts as taken).
    pub covering: Option<String>,
    /// The last hello or heartbeat, Unix ms.
    pub last_seen: Option<i64>,
    /// The last heartbeat as sent.
    pub heartbeat: Option<Value>,
    /// The server holding the relay's link now.
    pub server: Option<String>,
    /// Whether an enrolment token is issued (not revoked).
    pub has_token: bool,
    /// When this host's relay reports itself not available
    /// (`baton_relay_protocol::Thresholds` as JSON); `None`: the server's.
    pub thresholds: Option<Value>,
}

impl HostRow {
    /// A new host record: never connected, no token yet.
    pub fn new(id: &str, company: &str, name: &str) -> HostRow {
        HostRow {
            id: id.into(),
            company_id: company.into(),
            group_id: None,
            name: name.into(),
            comments: String::new(),
            state: NOT_INITIALISED.into(),
            facts: Value::Object(Default::default()),
            backups: Vec::new(),
            available: false,
            covering: None,
            last_seen: None,
            heartbeat: None,
            server: None,
            has_token: false,
            thresholds: None,
        }
    }
}

const HOST_COLS: &str = "id, company_id, group_id, name, comments, state, facts, backups, \
     available, covering, last_seen, heartbeat, server, token_hash, thresholds";

fn host_row(r: &QueryResult) -> std::result::Result<HostRow, sea_orm::DbErr> {
    let facts: String = r.try_get_by_index(6)?;
    let backups: String = r.try_get_by_index(7)?;
    let heartbeat: Option<String> = r.try_get_by_index(11)?;
    let token: Option<String> = r.try_get_by_index(13)?;
    let thresholds: Option<String> = r.try_get_by_index(14)?;
    Ok(HostRow {
        id: r.try_get_by_index(0)?,
        company_id: r.try_get_by_index(1)?,
        group_id: r.try_get_by_index(2)?,
        name: r.try_get_by_index(3)?,
        comments: r.try_get_by_index(4)?,
        state: r.try_get_by_index(5)?,
        facts: serde_json::from_str(&facts).unwrap_or_default(),
        backups: serde_json::from_str(&backups).unwrap_or_default(),
        available: r.try_get_by_index(8)?,
        covering: r.try_get_by_index(9)?,
        last_seen: r.try_get_by_index(10)?,
        heartbeat: heartbeat.and_then(|h| serde_json::from_str(&h).ok()),
        server: r.try_get_by_index(12)?,
        has_token: token.is_some(),
        thresholds: thresholds.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

impl Store {
    // ---- host groups ---------------------------------------------------

    pub async fn put_host_group(&self, g: &HostGroupRow) -> Result<()> {
        if g.name.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a host group needs a name".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "host_groups",
            &["id", "company_id", "name", "comments", "updated_at"],
            &["id"],
            vec![
                g.id.clone().into(),
                g.company_id.clone().into(),
                g.name.clone().into(),
                g.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save host group").await.map(|_| ())
    }

    pub async fn host_group(&self, company: &str, key: &str) -> Result<Option<HostGroupRow>> {
        let sql = self.by_key(
            "host_groups",
            "id, company_id, name, comments",
            company,
            key,
        );
        let rows = self.rows(sql, "read host group").await?;
        rows.first()
            .map(group_row)
            .transpose()
            .during("host_groups")
    }

    pub async fn list_host_groups(&self, company: &str) -> Result<Vec<HostGroupRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT id, company_id, name, comments FROM host_groups WHERE company_id = ")
            .bind(company.to_owned())
            .push(" ORDER BY name");
        let rows = self.rows(sql, "list host groups").await?;
        rows.iter()
            .map(group_row)
            .collect::<std::result::Result<_, _>>()
            .during("host_groups")
    }

    /// Deletes the group; its hosts stay, in no group.
    pub async fn delete_host_group(&self, company: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET group_id = NULL WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND group_id = ")
            .bind(id.to_owned());
        self.write(sql, "ungroup hosts").await?;
        self.delete_where("host_groups", company, id).await
    }

    // ---- hosts -----------------------------------------------------------

    /// Saves the record (group, name, comments); a new host starts
    /// [`NOT_INITIALISED`]. What relays report is not touched.
    pub async fn put_host(&self, h: &HostRow) -> Result<()> {
        if h.name.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a host needs a name".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "INSERT INTO hosts (id, company_id, group_id, name, comments, state, facts, \
             backups, updated_at) VALUES ",
        )
        .bind_list([
            h.id.clone().into(),
            h.company_id.clone().into(),
            h.group_id.clone().into(),
            h.name.clone().into(),
            h.comments.clone().into(),
            NOT_INITIALISED.into(),
            "{}".into(),
            "[]".into(),
            sea_orm::Value::from(now_ms()),
        ])
        .push(
            " ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, \
             name = excluded.name, comments = excluded.comments, updated_at = excluded.updated_at",
        );
        self.write(sql, "save host").await.map(|_| ())
    }

    /// The company's host with this id or name.
    pub async fn host(&self, company: &str, key: &str) -> Result<Option<HostRow>> {
        let sql = self.by_key("hosts", HOST_COLS, company, key);
        let rows = self.rows(sql, "read host").await?;
        rows.first().map(host_row).transpose().during("hosts")
    }

    /// Any company's host by id (relays, failover).
    pub async fn host_by_id(&self, id: &str) -> Result<Option<HostRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {HOST_COLS} FROM hosts WHERE id = "))
            .bind(id.to_owned());
        let rows = self.rows(sql, "read host").await?;
        rows.first().map(host_row).transpose().during("hosts")
    }

    /// The host whose enrolment token hashes to `hash`.
    pub async fn host_by_token(&self, hash: &str) -> Result<Option<HostRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {HOST_COLS} FROM hosts WHERE token_hash = "
        ))
        .bind(hash.to_owned());
        let rows = self.rows(sql, "read host by token").await?;
        rows.first().map(host_row).transpose().during("hosts")
    }

    pub async fn list_hosts(&self, company: &str) -> Result<Vec<HostRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {HOST_COLS} FROM hosts WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY name");
        self.host_rows(sql, "list hosts").await
    }

    pub async fn delete_host(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("hosts", company, id).await
    }

    /// Issues (`Some`) or revokes (`None`) the host's enrolment token: its
    /// SHA-256 (hex) and its ciphertext under the master key.
    pub async fn set_host_token(&self, id: &str, token: Option<(&str, &str)>) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET token_hash = ")
            .bind(token.map(|t| t.0.to_owned()))
            .push(", token_enc = ")
            .bind(token.map(|t| t.1.to_owned()))
            .push(" WHERE id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "set host token").await? > 0)
    }

    /// The ciphertext of the host's enrolment token, if one is issued.
    pub async fn host_token_enc(&self, id: &str) -> Result<Option<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT token_enc FROM hosts WHERE id = ")
            .bind(id.to_owned());
        let rows = self.rows(sql, "read host token").await?;
        match rows.first() {
            Some(r) => r.try_get_by_index(0).during("hosts.token_enc"),
            None => Ok(None),
        }
    }

    /// Sets the host's backups, first first: hosts of the same company,
    /// not itself, each once.
    pub async fn set_host_backups(
        &self,
        company: &str,
        id: &str,
        backups: &[String],
    ) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for b in backups {
            if b == id {
                return Err(Error::Invalid {
                    what: "a host cannot be its own backup".into(),
                });
            }
            if !seen.insert(b) {
                return Err(Error::Invalid {
                    what: format!("backup `{b}` is listed twice"),
                });
            }
            match self.host(company, b).await? {
                Some(h) if h.id == *b => {}
                _ => {
                    return Err(Error::Invalid {
                        what: format!("backup `{b}` is not a host of this company"),
                    });
                }
            }
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET backups = ")
            .bind(serde_json::to_string(backups).unwrap_or_else(|_| "[]".into()))
            .push(" WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        if self.write(sql, "set host backups").await? == 0 {
            return Err(Error::Invalid {
                what: format!("no host `{id}`"),
            });
        }
        Ok(())
    }

    /// Sets (or, `None`, clears) the host's availability thresholds.
    pub async fn set_host_thresholds(
        &self,
        company: &str,
        id: &str,
        thresholds: Option<&Value>,
    ) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET thresholds = ")
            .bind(thresholds.map(Value::to_string))
            .push(" WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "set host thresholds").await? > 0)
    }

    // ---- link state ------------------------------------------------------

    /// A relay said hello through `server`: connected, with its facts.
    pub async fn host_connected(
        &self,
        id: &str,
        server: &str,
        facts: &Value,
        now: i64,
    ) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET state = ")
            .bind(CONNECTED)
            .push(", facts = ")
            .bind(facts.to_string())
            .push(", server = ")
            .bind(server.to_owned())
            .push(", last_seen = ")
            .bind(now)
            .push(", available = ")
            .bind(true)
            .push(" WHERE id = ")
            .bind(id.to_owned());
        self.write(sql, "host connected").await.map(|_| ())
    }

    /// A heartbeat: last seen, load, and the relay's availability verdict.
    /// A host marked lost meanwhile is connected again.
    pub async fn host_heartbeat(
        &self,
        id: &str,
        server: &str,
        heartbeat: &Value,
        available: bool,
        now: i64,
    ) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET state = ")
            .bind(CONNECTED)
            .push(", heartbeat = ")
            .bind(heartbeat.to_string())
            .push(", available = ")
            .bind(available)
            .push(", last_seen = ")
            .bind(now)
            .push(", server = ")
            .bind(server.to_owned())
            .push(" WHERE id = ")
            .bind(id.to_owned());
        self.write(sql, "host heartbeat").await.map(|_| ())
    }

    /// The link through `server` closed (heartbeats stop; the sweep decides
    /// when the host counts as lost).
    pub async fn host_link_closed(&self, id: &str, server: &str) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET server = NULL WHERE id = ")
            .bind(id.to_owned())
            .push(" AND server = ")
            .bind(server.to_owned());
        self.write(sql, "host link closed").await.map(|_| ())
    }

    /// Connected hosts not seen since `before`.
    pub async fn stale_hosts(&self, before: i64) -> Result<Vec<HostRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {HOST_COLS} FROM hosts WHERE state = "))
            .bind(CONNECTED)
            .push(" AND (last_seen IS NULL OR last_seen < ")
            .bind(before)
            .push(")");
        self.host_rows(sql, "stale hosts").await
    }

    /// Marks the host lost if it is still connected and unseen since
    /// `before`. `true`: this call did it (and so handles the failover).
    pub async fn mark_host_lost(&self, id: &str, before: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET state = ")
            .bind(LOST)
            .push(", available = ")
            .bind(false)
            .push(", server = NULL WHERE id = ")
            .bind(id.to_owned())
            .push(" AND state = ")
            .bind(CONNECTED)
            .push(" AND (last_seen IS NULL OR last_seen < ")
            .bind(before)
            .push(")");
        Ok(self.write(sql, "mark host lost").await? > 0)
    }

    /// Takes `backup` for the lost host `lost` if it is connected, available
    /// and covers no other host. `true`: taken by this call.
    pub async fn take_backup(&self, backup: &str, lost: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET covering = ")
            .bind(lost.to_owned())
            .push(" WHERE id = ")
            .bind(backup.to_owned())
            .push(" AND covering IS NULL AND available = ")
            .bind(true)
            .push(" AND state = ")
            .bind(CONNECTED);
        Ok(self.write(sql, "take backup").await? > 0)
    }

    /// Lost hosts no backup covers (their jobs wait for one).
    pub async fn uncovered_lost_hosts(&self) -> Result<Vec<HostRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {HOST_COLS} FROM hosts WHERE state = "))
            .bind(LOST)
            .push(
                " AND id NOT IN (SELECT covering FROM hosts WHERE covering IS NOT NULL) \
                 AND backups <> '[]'",
            );
        self.host_rows(sql, "uncovered lost hosts").await
    }

    /// The host stops covering another (it was lost itself).
    pub async fn stop_covering(&self, id: &str) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET covering = NULL WHERE id = ")
            .bind(id.to_owned());
        self.write(sql, "stop covering").await.map(|_| ())
    }

    /// The host `lost` is back: whoever covered it is free again.
    pub async fn release_cover(&self, lost: &str) -> Result<u64> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE hosts SET covering = NULL WHERE covering = ")
            .bind(lost.to_owned());
        self.write(sql, "release backup").await
    }

    async fn host_rows(&self, sql: Sql, op: &'static str) -> Result<Vec<HostRow>> {
        let rows = self.rows(sql, op).await?;
        rows.iter()
            .map(host_row)
            .collect::<std::result::Result<_, _>>()
            .during("hosts")
    }
}

fn group_row(r: &QueryResult) -> std::result::Result<HostGroupRow, sea_orm::DbErr> {
    Ok(HostGroupRow {
        id: r.try_get_by_index(0)?,
        company_id: r.try_get_by_index(1)?,
        name: r.try_get_by_index(2)?,
        comments: r.try_get_by_index(3)?,
    })
}
