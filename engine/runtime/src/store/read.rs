//! Reads: instances, their history and what they wait on, definitions,
//! tasks and incidents. All go to the reader connections.

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use super::Store;
use super::codec::{Decode, decode_all, select_list};
use super::error::{Context, Result};
use super::rows::*;
use super::sql::{self, Sql};

/// Which instances [`Store::list_instances`] returns; `None` fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceFilter {
    pub status: Option<String>,
    /// The deployment key: every version of the definition.
    pub definition_key: Option<String>,
    pub start_way: Option<String>,
    /// `started_at >= from`.
    pub from: Option<i64>,
    /// `started_at < to`.
    pub to: Option<i64>,
    /// Only this company's instances ([`crate::tenancy`]: by the definition's key).
    pub company: Option<String>,
}

/// A window of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            offset: 0,
            limit: 100,
        }
    }
}

/// An [`InstanceRow`] without its (large) serialised state, for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSummary {
    pub id: String,
    pub definition_id: String,
    pub process_id: String,
    pub status: String,
    pub business_key: Option<String>,
    pub start_way: String,
    pub parent_instance: Option<String>,
    pub parent_exec: Option<i64>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub version: i64,
}

/// A [`DefinitionRow`] without its XML, for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionSummary {
    pub id: String,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub hash: String,
    pub deployed_at: i64,
}

impl Store {
    pub async fn load_instance(&self, id: &str) -> Result<Option<InstanceRow>> {
        let mut sql = self.select::<InstanceRow>("instances");
        sql.push("id = ").bind(id.to_owned());
        self.fetch_one(sql, "load instance").await
    }

    /// The instances among `ids` that exist, in no particular order.
    pub async fn load_instances(&self, ids: &[String]) -> Result<Vec<InstanceRow>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in sql::chunks(ids, 1, self.dialect()) {
            let mut sql = self.select::<InstanceRow>("instances");
            sql.push("id IN ").bind_list(chunk.iter().cloned());
            found.extend(self.fetch::<InstanceRow>(sql, "load instances").await?);
        }
        Ok(found)
    }

    /// Instances matching `filter`, newest first.
    pub async fn list_instances(
        &self,
        filter: &InstanceFilter,
        page: Page,
    ) -> Result<Vec<InstanceSummary>> {
        let mut sql = self.select::<InstanceSummary>("instances");
        instance_conditions(&mut sql, filter);
        sql.push(" ORDER BY started_at DESC, id DESC");
        paginate(&mut sql, page);
        self.fetch(sql, "list instances").await
    }

    /// How many instances match `filter`.
    pub async fn count_instances(&self, filter: &InstanceFilter) -> Result<i64> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT COUNT(*) FROM instances WHERE ");
        instance_conditions(&mut sql, filter);
        self.scalar(sql, "count instances").await
    }

    /// `(status, count)` for every status present.
    pub async fn count_instances_by_status(&self) -> Result<Vec<(String, i64)>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT status, COUNT(*) FROM instances GROUP BY status ORDER BY status");
        let op = "count instances by status";
        let rows = self.query(sql, op).await?;
        rows.iter()
            .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()
            .during(op)
    }

    /// Ids of all running instances (to resume them after a restart).
    pub async fn running_instance_ids(&self) -> Result<Vec<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT id FROM instances WHERE status = 'running' ORDER BY started_at, id");
        let op = "running instance ids";
        let rows = self.query(sql, op).await?;
        rows.iter()
            .map(|r| r.try_get_by_index(0))
            .collect::<Result<_, sea_orm::DbErr>>()
            .during(op)
    }

    /// The earliest tick of any enabled schedule (the scheduler sleeps until then).
    pub async fn next_schedule_due(&self) -> Result<Option<i64>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT MIN(next_fire_at) FROM schedules WHERE enabled = ")
            .bind(true)
            .push(" AND next_fire_at IS NOT NULL");
        let op = "next schedule due";
        let rows = self.query(sql, op).await?;
        match rows.first() {
            Some(r) => r.try_get_by_index::<Option<i64>>(0).during(op),
            None => Ok(None),
        }
    }

    /// Running instances started by call activity `parent_exec` of `parent`.
    pub async fn running_children(&self, parent: &str, parent_exec: i64) -> Result<Vec<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT id FROM instances WHERE status = 'running' AND parent_instance = ")
            .bind(parent.to_owned())
            .push(" AND parent_exec = ")
            .bind(parent_exec);
        let op = "running children";
        let rows = self.query(sql, op).await?;
        rows.iter()
            .map(|r| r.try_get_by_index(0))
            .collect::<Result<_, sea_orm::DbErr>>()
            .during(op)
    }

    /// An instance's history, in `seq` order.
    pub async fn history(&self, instance_id: &str) -> Result<Vec<HistoryRow>> {
        let mut sql = self.select::<HistoryRow>("history");
        sql.push("instance_id = ")
            .bind(instance_id.to_owned())
            .push(" ORDER BY seq");
        self.fetch(sql, "history").await
    }

    /// Who waits for the message or signal `name` (`kind`: `message` or
    /// `signal`), oldest first.
    pub async fn subscriptions(&self, kind: &str, name: &str) -> Result<Vec<SubscriptionRow>> {
        let mut sql = self.select::<SubscriptionRow>("subscriptions");
        sql.push("kind = ")
            .bind(kind.to_owned())
            .push(" AND name = ")
            .bind(name.to_owned())
            .push(" ORDER BY created_at, id");
        self.fetch(sql, "subscriptions").await
    }

    pub async fn subscriptions_of(&self, instance_id: &str) -> Result<Vec<SubscriptionRow>> {
        self.of_instance(
            "subscriptions",
            instance_id,
            "created_at, id",
            "subscriptions of",
        )
        .await
    }

    pub async fn jobs_of(&self, instance_id: &str) -> Result<Vec<JobRow>> {
        self.of_instance("jobs", instance_id, "run_at, id", "jobs of")
            .await
    }

    pub async fn timers_of(&self, instance_id: &str) -> Result<Vec<TimerRow>> {
        self.of_instance("timers", instance_id, "due_at, id", "timers of")
            .await
    }

    pub async fn tasks_of(&self, instance_id: &str) -> Result<Vec<TaskRow>> {
        self.of_instance("tasks", instance_id, "created_at, id", "tasks of")
            .await
    }

    /// An instance's incidents, open and resolved, oldest first.
    pub async fn incidents(&self, instance_id: &str) -> Result<Vec<IncidentRow>> {
        self.of_instance("incidents", instance_id, "created_at, id", "incidents")
            .await
    }

    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>> {
        let mut sql = self.select::<TaskRow>("tasks");
        sql.push("id = ").bind(id.to_owned());
        self.fetch_one(sql, "task").await
    }

    /// Open user tasks, oldest first; `assignee: Some(..)` only theirs.
    pub async fn open_tasks(&self, assignee: Option<&str>, page: Page) -> Result<Vec<TaskRow>> {
        let mut sql = self.select::<TaskRow>("tasks");
        sql.push("state = 'open'");
        if let Some(assignee) = assignee {
            sql.push(" AND assignee = ").bind(assignee.to_owned());
        }
        sql.push(" ORDER BY created_at, id");
        paginate(&mut sql, page);
        self.fetch(sql, "open tasks").await
    }

    pub async fn definition(&self, id: &str) -> Result<Option<DefinitionRow>> {
        let mut sql = self.select::<DefinitionRow>("definitions");
        sql.push("id = ").bind(id.to_owned());
        self.fetch_one(sql, "definition").await
    }

    /// The highest version deployed under `key`.
    pub async fn latest_definition(&self, key: &str) -> Result<Option<DefinitionRow>> {
        let mut sql = self.select::<DefinitionRow>("definitions");
        sql.push("\"key\" = ")
            .bind(key.to_owned())
            .push(" ORDER BY version DESC LIMIT 1");
        self.fetch_one(sql, "latest definition").await
    }

    /// The version of `key` whose XML hashes to `hash`, if deployed.
    pub async fn definition_by_hash(&self, key: &str, hash: &str) -> Result<Option<DefinitionRow>> {
        let mut sql = self.select::<DefinitionRow>("definitions");
        sql.push("\"key\" = ")
            .bind(key.to_owned())
            .push(" AND hash = ")
            .bind(hash.to_owned());
        self.fetch_one(sql, "definition by hash").await
    }

    /// Every deployed version of every key, by key then version.
    pub async fn list_definitions(&self) -> Result<Vec<DefinitionSummary>> {
        let mut sql = self.select::<DefinitionSummary>("definitions");
        sql.push("1 = 1 ORDER BY \"key\", version");
        self.fetch(sql, "list definitions").await
    }

    /// The version a new deployment of `key` gets: one past the highest.
    pub async fn next_version(&self, key: &str) -> Result<i32> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM definitions WHERE \"key\" = ")
            .bind(key.to_owned());
        let next = self.scalar(sql, "next version").await?;
        Ok(i32::try_from(next).unwrap_or(i32::MAX))
    }

    /// `SELECT <T's columns> FROM table WHERE ` — the caller adds the rest.
    pub(super) fn select<T: Decode>(&self, table: &str) -> Sql {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {} FROM \"{table}\" WHERE ",
            select_list::<T>("")
        ));
        sql
    }

    async fn of_instance<T: Decode>(
        &self,
        table: &str,
        instance_id: &str,
        order: &str,
        op: &'static str,
    ) -> Result<Vec<T>> {
        let mut sql = self.select::<T>(table);
        sql.push("instance_id = ")
            .bind(instance_id.to_owned())
            .push(" ORDER BY ")
            .push(order);
        self.fetch(sql, op).await
    }

    async fn query(&self, sql: Sql, op: &'static str) -> Result<Vec<sea_orm::QueryResult>> {
        self.reader()
            .query_all_raw(sql.statement())
            .await
            .during(op)
    }

    pub(super) async fn fetch<T: Decode>(&self, sql: Sql, op: &'static str) -> Result<Vec<T>> {
        let rows = self.query(sql, op).await?;
        decode_all(&rows).during(op)
    }

    pub(super) async fn fetch_one<T: Decode>(
        &self,
        sql: Sql,
        op: &'static str,
    ) -> Result<Option<T>> {
        Ok(self.fetch(sql, op).await?.into_iter().next())
    }

    pub(super) async fn scalar(&self, sql: Sql, op: &'static str) -> Result<i64> {
        let rows = self.query(sql, op).await?;
        match rows.first() {
            Some(row) => row.try_get_by_index(0).during(op),
            None => Ok(0),
        }
    }
}

fn instance_conditions(sql: &mut Sql, f: &InstanceFilter) {
    sql.push("1 = 1");
    if let Some(status) = &f.status {
        sql.push(" AND status = ").bind(status.clone());
    }
    if let Some(key) = &f.definition_key {
        sql.push(" AND definition_id IN (SELECT id FROM definitions WHERE \"key\" = ")
            .bind(key.clone())
            .push(")");
    }
    if let Some(way) = &f.start_way {
        sql.push(" AND start_way = ").bind(way.clone());
    }
    if let Some(from) = f.from {
        sql.push(" AND started_at >= ").bind(from);
    }
    if let Some(to) = f.to {
        sql.push(" AND started_at < ").bind(to);
    }
    match f.company.as_deref() {
        None => {}
        Some(c) if c == crate::tenancy::DEFAULT_COMPANY => {
            sql.push(" AND definition_id NOT LIKE '%/%'");
        }
        Some(c) => {
            let escaped = c
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sql.push(" AND definition_id LIKE ")
                .bind(format!("{escaped}/%"))
                .push(" ESCAPE '\\'");
        }
    }
}

fn paginate(sql: &mut Sql, page: Page) {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    sql.push(" LIMIT ")
        .bind(clamp(page.limit))
        .push(" OFFSET ")
        .bind(clamp(page.offset));
}

/// Why a process version cannot be deleted ([`Store::delete_unused_definition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InUse {
    /// Instances of it exist (any status: their history needs it).
    Instances(i64),
    /// A schedule starts this very version.
    Schedule(String),
    /// It is the latest version of its key: new starts use it.
    Latest,
}

impl Store {
    /// Deletes version `id` (`key:version`) of `key` when nothing uses it:
    /// no instance of any status, no schedule pinned to it, and a later
    /// version exists. `Ok(None)`: deleted (or it did not exist).
    pub async fn delete_unused_definition(
        &self,
        id: &str,
        key: &str,
        version: i32,
    ) -> Result<Option<InUse>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM definitions WHERE id = ")
            .bind(id.to_owned())
            .push(" AND NOT EXISTS (SELECT 1 FROM instances WHERE definition_id = ")
            .bind(id.to_owned())
            .push(") AND NOT EXISTS (SELECT 1 FROM schedules WHERE process_key = ")
            .bind(key.to_owned())
            .push(" AND process_version = ")
            .bind(version)
            .push(") AND version < (SELECT MAX(d.version) FROM definitions d WHERE d.\"key\" = ")
            .bind(key.to_owned())
            .push(")");
        if self.write(sql, "delete definition").await? > 0 || self.definition(id).await?.is_none() {
            return Ok(None);
        }
        // Kept: say why.
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT COUNT(*) FROM instances WHERE definition_id = ")
            .bind(id.to_owned());
        let n: i64 = self
            .query(sql, "count instances of a definition")
            .await?
            .first()
            .map(|r| r.try_get_by_index(0))
            .transpose()
            .during("count instances of a definition")?
            .unwrap_or(0);
        if n > 0 {
            return Ok(Some(InUse::Instances(n)));
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT name FROM schedules WHERE process_key = ")
            .bind(key.to_owned())
            .push(" AND process_version = ")
            .bind(version);
        if let Some(r) = self.query(sql, "schedules of a definition").await?.first() {
            let name: String = r.try_get_by_index(0).during("schedules of a definition")?;
            return Ok(Some(InUse::Schedule(name)));
        }
        Ok(Some(InUse::Latest))
    }
}
