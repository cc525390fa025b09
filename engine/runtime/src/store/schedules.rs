//! Schedules: save (validated), read, delete, and the claim of due ones.
//!
//! A schedule row holds its next fire (`next_fire_at`, written before it is
//! due) and a claim lease like timers. Performing a tick writes a
//! [`ScheduleFireRow`] (unique on `(schedule_id, fire_at)`) and a
//! [`ScheduleAdvance`] in the same [`Batch`](super::Batch) as the instance it
//! starts: a second engine performing the same tick hits the unique key, its
//! whole batch is a conflict, and it starts nothing.

use baton_schedule::{Schedule, ScheduleSpec};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value};
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::Store;
use super::codec::{Decode, decode_all, select_list};
use super::error::{Context, Error, Result};
use super::rows::{ScheduleAdvance, ScheduleFireRow};
use super::sql::{Dialect, Insert, Sql};

/// What a tick does while the instance the previous tick started still runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlap {
    /// Start anyway.
    #[default]
    Allow,
    /// Do not start; the tick is dropped.
    Skip,
    /// Hold the tick until the previous run ends; held ticks run in order,
    /// one at a time (never dropped: no misfire policy).
    Queue,
}

impl Overlap {
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Allow => "allow",
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
        }
    }

    pub fn parse(s: &str) -> Option<Overlap> {
        match s {
            "allow" => Some(Overlap::Allow),
            "skip" => Some(Overlap::Skip),
            "queue" => Some(Overlap::Queue),
            _ => None,
        }
    }
}

/// A stored schedule. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRow {
    pub id: String,
    pub name: String,
    pub process_key: String,
    /// `None`: the latest version at each tick.
    pub process_version: Option<i32>,
    /// Start variables of every instance it starts.
    pub vars: Map<String, serde_json::Value>,
    pub spec: ScheduleSpec,
    pub enabled: bool,
    pub overlap: Overlap,
    /// The next tick to perform; `None`: it never fires again.
    pub next_fire_at: Option<i64>,
    pub last_fired_at: Option<i64>,
    /// The instance the last performed tick started.
    pub last_instance: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ScheduleRow {
    /// The compiled schedule (the spec was validated on save; a stored spec that no
    /// longer builds is reported, not fired).
    pub fn schedule(&self) -> Result<Schedule> {
        self.spec.build().map_err(|e| Error::Invalid {
            what: format!("schedule {}: {e}", self.id),
        })
    }

    /// Ready to save at `now` (Unix ms): a new id when empty, the spec
    /// validated (a bad expression is rejected with its position), the next
    /// fire computed from `now`, the timestamps set (saving an existing
    /// schedule keeps its `created_at`).
    pub fn prepare(&mut self, now: i64) -> Result<()> {
        if self.id.is_empty() {
            self.id = uuid::Uuid::now_v7().to_string();
        }
        let after =
            chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now).ok_or_else(|| {
                Error::Invalid {
                    what: format!("the time {now} ms is out of range"),
                }
            })?;
        self.next_fire_at = self
            .schedule()?
            .next_fire(after)
            .map(|t| t.timestamp_millis());
        self.created_at = now;
        self.updated_at = now;
        Ok(())
    }
}

const SCHEDULE: &[&str] = &[
    "id",
    "name",
    "process_key",
    "process_version",
    "vars",
    "spec",
    "enabled",
    "overlap",
    "next_fire_at",
    "last_fired_at",
    "last_instance",
    "created_at",
    "updated_at",
];

fn json_err(col: &str, e: serde_json::Error) -> DbErr {
    DbErr::Custom(format!("schedules.{col}: {e}"))
}

impl Decode for ScheduleRow {
    const COLUMNS: &'static [&'static str] = SCHEDULE;
    fn decode(r: &QueryResult) -> std::result::Result<Self, DbErr> {
        let vars: String = r.try_get_by_index(4)?;
        let spec: String = r.try_get_by_index(5)?;
        let overlap: String = r.try_get_by_index(7)?;
        Ok(ScheduleRow {
            id: r.try_get_by_index(0)?,
            name: r.try_get_by_index(1)?,
            process_key: r.try_get_by_index(2)?,
            process_version: r.try_get_by_index(3)?,
            vars: serde_json::from_str(&vars).map_err(|e| json_err("vars", e))?,
            spec: serde_json::from_str(&spec).map_err(|e| json_err("spec", e))?,
            enabled: r.try_get_by_index(6)?,
            overlap: Overlap::parse(&overlap)
                .ok_or_else(|| DbErr::Custom(format!("schedules.overlap: {overlap:?}")))?,
            next_fire_at: r.try_get_by_index(8)?,
            last_fired_at: r.try_get_by_index(9)?,
            last_instance: r.try_get_by_index(10)?,
            created_at: r.try_get_by_index(11)?,
            updated_at: r.try_get_by_index(12)?,
        })
    }
}

impl Insert for ScheduleFireRow {
    const TABLE: &'static str = "schedule_fires";
    const COLUMNS: &'static [&'static str] =
        &["schedule_id", "fire_at", "instance_id", "created_at"];
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.schedule_id.clone().into(),
            self.fire_at.into(),
            self.instance_id.clone().into(),
            self.created_at.into(),
        ]);
    }
}

/// The commit's statement for one [`ScheduleAdvance`]: new next fire, last fire and
/// instance (kept when `None`), lease released.
pub(super) fn advance(dialect: Dialect, a: &ScheduleAdvance) -> Statement {
    let mut sql = Sql::new(dialect);
    sql.push("UPDATE schedules SET next_fire_at = ")
        .bind(a.next_fire_at)
        .push(", last_fired_at = COALESCE(")
        .bind(a.last_fired_at)
        .push(", last_fired_at), last_instance = COALESCE(")
        .bind(a.last_instance.clone())
        .push(", last_instance), lease_until = NULL, worker = NULL WHERE id = ")
        .bind(a.id.clone())
        .push(" AND next_fire_at = ")
        .bind(a.expected_next);
    sql.statement()
}

impl Store {
    /// Insert or replace a schedule (by id). The spec is validated first: a bad
    /// expression (with its position), unknown zone, empty window or bad calendar
    /// range is [`Error::Invalid`] and nothing is written. Replacing keeps
    /// `created_at`, `last_fired_at` and `last_instance`, and releases a claim.
    pub async fn save_schedule(&self, s: &ScheduleRow) -> Result<()> {
        s.spec.validate().map_err(|e| Error::Invalid {
            what: e.to_string(),
        })?;
        let vars = serde_json::to_string(&s.vars).unwrap_or_else(|_| "{}".into());
        let spec = serde_json::to_string(&s.spec).map_err(|e| Error::Invalid {
            what: e.to_string(),
        })?;
        let values: Vec<Value> = vec![
            s.id.clone().into(),
            s.name.clone().into(),
            s.process_key.clone().into(),
            s.process_version.into(),
            vars.into(),
            spec.into(),
            s.enabled.into(),
            s.overlap.as_str().into(),
            s.next_fire_at.into(),
            s.last_fired_at.into(),
            s.last_instance.clone().into(),
            s.created_at.into(),
            s.updated_at.into(),
        ];
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "INSERT INTO schedules ({}) VALUES ",
            select_list::<ScheduleRow>("")
        ))
        .bind_list(values)
        .push(
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             process_key = excluded.process_key, process_version = excluded.process_version, \
             vars = excluded.vars, spec = excluded.spec, enabled = excluded.enabled, \
             overlap = excluded.overlap, next_fire_at = excluded.next_fire_at, \
             updated_at = excluded.updated_at, lease_until = NULL, worker = NULL",
        );
        let txn = self.begin_write().await.during("save schedule: begin")?;
        let done = txn.execute_raw(sql.statement()).await;
        match done {
            Ok(_) => txn.commit().await.during("save schedule"),
            Err(e) => {
                let _ = txn.rollback().await;
                Err(Error::Db {
                    op: "save schedule",
                    source: e,
                })
            }
        }
    }

    pub async fn schedule(&self, id: &str) -> Result<Option<ScheduleRow>> {
        let mut sql = self.select_schedules();
        sql.push(" WHERE id = ").bind(id.to_owned());
        Ok(self.fetch_schedules(sql).await?.into_iter().next())
    }

    /// Every schedule, by id.
    pub async fn list_schedules(&self) -> Result<Vec<ScheduleRow>> {
        let mut sql = self.select_schedules();
        sql.push(" ORDER BY id");
        self.fetch_schedules(sql).await
    }

    /// Delete a schedule and its fire records; whether it existed.
    pub async fn delete_schedule(&self, id: &str) -> Result<bool> {
        let txn = self.begin_write().await.during("delete schedule: begin")?;
        let mut fires = Sql::new(self.dialect());
        fires
            .push("DELETE FROM schedule_fires WHERE schedule_id = ")
            .bind(id.to_owned());
        let mut row = Sql::new(self.dialect());
        row.push("DELETE FROM schedules WHERE id = ")
            .bind(id.to_owned());
        let result = async {
            txn.execute_raw(fires.statement()).await?;
            txn.execute_raw(row.statement()).await
        }
        .await;
        match result {
            Ok(done) => {
                txn.commit().await.during("delete schedule")?;
                Ok(done.rows_affected() > 0)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(Error::Db {
                    op: "delete schedule",
                    source: e,
                })
            }
        }
    }

    /// The ticks performed for a schedule: (fire_at, instance), oldest first.
    pub async fn schedule_fires(&self, id: &str) -> Result<Vec<ScheduleFireRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT schedule_id, fire_at, instance_id, created_at FROM schedule_fires WHERE schedule_id = ")
            .bind(id.to_owned())
            .push(" ORDER BY fire_at");
        let rows = self
            .reader()
            .query_all_raw(sql.statement())
            .await
            .during("schedule fires")?;
        rows.iter()
            .map(|r| {
                Ok(ScheduleFireRow {
                    schedule_id: r.try_get_by_index(0)?,
                    fire_at: r.try_get_by_index(1)?,
                    instance_id: r.try_get_by_index(2)?,
                    created_at: r.try_get_by_index(3)?,
                })
            })
            .collect::<std::result::Result<_, DbErr>>()
            .during("schedule fires")
    }

    /// Lease up to `limit` enabled schedules whose next fire is due (`next_fire_at <=
    /// now`, no live lease) to `worker` until `now + lease_ms`, earliest first. The
    /// commit that performs the tick ([`ScheduleAdvance`]) releases the lease.
    pub async fn claim_due_schedules(
        &self,
        worker: &str,
        now: i64,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<ScheduleRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE schedules SET lease_until = ")
            .bind(now.saturating_add(lease_ms))
            .push(", worker = ")
            .bind(worker.to_owned())
            .push(" WHERE id IN (SELECT id FROM schedules WHERE enabled = ")
            .bind(true)
            .push(" AND next_fire_at <= ")
            .bind(now)
            .push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(now)
            .push(") ORDER BY next_fire_at LIMIT ")
            .bind(i64::from(limit));
        let mut rows: Vec<ScheduleRow> = self.claim(sql, "claim schedules").await?;
        rows.sort_by(|a, b| (a.next_fire_at, &a.id).cmp(&(b.next_fire_at, &b.id)));
        Ok(rows)
    }

    /// Release a claim without performing anything (the tick stays due).
    pub async fn release_schedule(&self, id: &str) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE schedules SET lease_until = NULL, worker = NULL WHERE id = ")
            .bind(id.to_owned());
        self.writer()
            .execute_raw(sql.statement())
            .await
            .during("release schedule")?;
        Ok(())
    }

    fn select_schedules(&self) -> Sql {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {} FROM schedules",
            select_list::<ScheduleRow>("")
        ));
        sql
    }

    async fn fetch_schedules(&self, sql: Sql) -> Result<Vec<ScheduleRow>> {
        let rows = self
            .reader()
            .query_all_raw(sql.statement())
            .await
            .during("read schedules")?;
        decode_all(&rows).during("read schedules")
    }
}
