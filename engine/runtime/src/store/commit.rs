//! The commit: one write transaction that applies a whole [`Batch`], all or
//! nothing. Instance updates are optimistic (`version = expected`), and a
//! finished job or fired timer must still exist: either failing is a
//! [`Error::Conflict`] and nothing of the batch is applied. That is what
//! makes a job's completion apply exactly once.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, RuntimeErr, SqlErr, Statement, Value};

use super::Store;
use super::codec::bind_instance_fields;
use super::error::{Context, Error, Result};
use super::rows::{Batch, InstanceRow, InstanceWrite};
use super::sql::{self, Dialect, Insert};

impl Store {
    /// Apply everything in `batch` in one transaction.
    pub async fn commit(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.begin_write().await.during("commit: begin")?;
        let applied = Apply {
            txn: &txn,
            dialect: self.dialect(),
        }
        .batch(batch)
        .await;
        match applied {
            Ok(()) => txn.commit().await.during("commit"),
            Err(err) => {
                // The rollback's own failure would hide the cause; the
                // connection is discarded by the driver if it is broken.
                let _ = txn.rollback().await;
                Err(err)
            }
        }
    }
}

struct Apply<'a> {
    txn: &'a DatabaseTransaction,
    dialect: Dialect,
}

impl Apply<'_> {
    async fn batch(&self, b: &Batch) -> Result<()> {
        self.insert(&b.definitions).await?;
        let (new, updated): (Vec<&InstanceWrite>, Vec<&InstanceWrite>) = b
            .instances
            .iter()
            .partition(|w| w.expected_version.is_none());
        let new: Vec<&InstanceRow> = new.into_iter().map(|w| &w.row).collect();
        self.insert(&new).await?;
        for mut round in rounds(updated, |w| w.row.id.as_str()) {
            // One lock order for every engine: fewer deadlocks on PostgreSQL.
            round.sort_unstable_by(|a, b| a.row.id.cmp(&b.row.id));
            self.update_instances(&round).await?;
        }
        self.insert(&b.history).await?;

        self.delete_exactly("jobs", "job", &b.jobs_done).await?;
        self.delete("jobs", &b.jobs_cancelled).await?;
        self.insert(&b.jobs_new).await?;

        self.delete_exactly("timers", "timer", &b.timers_done)
            .await?;
        self.delete("timers", &b.timers_cancelled).await?;
        self.insert(&b.timers_new).await?;

        self.delete("subscriptions", &b.subs_done).await?;
        self.insert(&b.subs_new).await?;

        self.insert(&b.tasks_new).await?;
        for round in rounds(&b.tasks_ended, |t| t.0.as_str()) {
            let values = round
                .iter()
                .flat_map(|(id, state, at)| {
                    [Value::from(id.clone()), state.clone().into(), (*at).into()]
                })
                .collect();
            self.update("tasks", &["state", "ended_at"], values).await?;
        }

        self.insert(&b.incidents_new).await?;
        for round in rounds(&b.incidents_resolved, |i| i.0.as_str()) {
            let values = round
                .iter()
                .flat_map(|(id, at)| [Value::from(id.clone()), (*at).into()])
                .collect();
            self.update("incidents", &["resolved_at"], values).await?;
        }

        self.insert(&b.schedule_fires).await?;
        for a in &b.schedule_next {
            let stmt = super::schedules::advance(self.dialect, a);
            if self.execute(stmt, "commit: advance schedule").await? == 0 {
                return Err(Error::Conflict {
                    what: format!(
                        "schedule {} was deleted, changed or moved on from {}",
                        a.id, a.expected_next
                    ),
                });
            }
        }
        Ok(())
    }

    async fn execute(&self, stmt: Statement, op: &'static str) -> Result<u64> {
        match self.txn.execute_raw(stmt).await {
            Ok(done) => Ok(done.rows_affected()),
            Err(err) => Err(conflict_or_db(err, op)),
        }
    }

    async fn returned_ids(&self, stmt: Statement, op: &'static str) -> Result<HashSet<String>> {
        let rows = self
            .txn
            .query_all_raw(stmt)
            .await
            .map_err(|err| conflict_or_db(err, op))?;
        rows.iter()
            .map(|r| r.try_get_by_index::<String>(0))
            .collect::<Result<_, DbErr>>()
            .during(op)
    }

    async fn insert<T: Insert>(&self, rows: &[T]) -> Result<()> {
        for chunk in sql::chunks(rows, T::COLUMNS.len(), self.dialect) {
            self.execute(sql::insert(self.dialect, chunk), "commit: insert")
                .await?;
        }
        Ok(())
    }

    async fn update_instances(&self, writes: &[&InstanceWrite]) -> Result<()> {
        // Keys `id`, `version` (the expected one), then every column but `id`.
        let sets = &<InstanceRow as Insert>::COLUMNS[1..];
        for chunk in sql::chunks(writes, 2 + sets.len(), self.dialect) {
            let mut values = Vec::with_capacity(chunk.len() * (2 + sets.len()));
            for w in chunk {
                values.push(w.row.id.clone().into());
                values.push(w.expected_version.into());
                bind_instance_fields(&w.row, &mut values);
            }
            let stmt = sql::update_from_values(
                self.dialect,
                "instances",
                &["id", "version"],
                sets,
                values,
                true,
            );
            let updated = self.returned_ids(stmt, "commit: update instances").await?;
            if let Some(stale) = chunk.iter().find(|w| !updated.contains(&w.row.id)) {
                return Err(Error::Conflict {
                    what: format!(
                        "instance {} is no longer at version {}",
                        stale.row.id,
                        stale.expected_version.unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Update rows by `id`; missing rows are skipped. `values` holds, per
    /// row, the id and then one value per column of `sets`.
    async fn update(&self, table: &str, sets: &[&str], values: Vec<Value>) -> Result<()> {
        let cols = 1 + sets.len();
        let sizes = sql::chunk_sizes(values.len() / cols, cols, self.dialect);
        let mut rest = values.into_iter();
        for size in sizes {
            let chunk = rest.by_ref().take(size * cols).collect();
            let stmt = sql::update_from_values(self.dialect, table, &["id"], sets, chunk, false);
            self.execute(stmt, "commit: update").await?;
        }
        Ok(())
    }

    /// Delete rows by id; missing rows are fine.
    async fn delete(&self, table: &str, ids: &[String]) -> Result<()> {
        for chunk in sql::chunks(ids, 1, self.dialect) {
            let stmt = sql::delete_ids(self.dialect, table, chunk, false);
            self.execute(stmt, "commit: delete").await?;
        }
        Ok(())
    }

    /// Delete rows by id, each of which must exist (and be listed once).
    async fn delete_exactly(&self, table: &str, what: &str, ids: &[String]) -> Result<()> {
        let mut seen = HashSet::with_capacity(ids.len());
        if let Some(twice) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(Error::Conflict {
                what: format!("{what} {twice} is finished twice in one batch"),
            });
        }
        for chunk in sql::chunks(ids, 1, self.dialect) {
            let stmt = sql::delete_ids(self.dialect, table, chunk, true);
            let deleted = self.returned_ids(stmt, "commit: delete finished").await?;
            if let Some(gone) = chunk.iter().find(|id| !deleted.contains(*id)) {
                return Err(Error::Conflict {
                    what: format!("{what} {gone} is already finished or cancelled"),
                });
            }
        }
        Ok(())
    }
}

/// A unique-key violation means someone else wrote the same row first; a
/// PostgreSQL deadlock or serialization failure, that another transaction
/// won. Either way the batch was not applied and may be retried.
fn conflict_or_db(err: DbErr, op: &'static str) -> Error {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err() {
        return Error::Conflict {
            what: format!("duplicate key: {msg}"),
        };
    }
    let code = match &err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error().and_then(|d| d.code())
        }
        _ => None,
    };
    match code.as_deref() {
        Some("40P01") | Some("40001") => Error::Conflict {
            what: format!("lost a race with another transaction: {err}"),
        },
        _ => Error::Db { op, source: err },
    }
}

/// Split `items` into rounds in which every key appears at most once, keeping
/// each key's items in order: one multi-row UPDATE per round then applies
/// them in sequence.
fn rounds<'a, T: Copy>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(T) -> &'a str,
) -> Vec<Vec<T>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<Vec<T>> = Vec::new();
    for item in items {
        let n = seen.entry(key(item)).or_insert(0);
        if *n == rounds.len() {
            rounds.push(Vec::new());
        }
        rounds[*n].push(item);
        *n += 1;
    }
    rounds
}
