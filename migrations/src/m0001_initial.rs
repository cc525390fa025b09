//! The initial schema: one table per row type of `baton_runtime::store::rows`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Text column (ids, keys, short names); `varchar` so MySQL can index it too.
fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().not_null().take()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().null().take()
}

/// Unbounded text (XML, JSON payloads, messages).
fn long_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn long_text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}

/// Integers and millisecond times.
fn int64(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn int64_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}

fn int32(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().take()
}

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .string()
        .not_null()
        .primary_key()
        .take()
}

fn index(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    index.take()
}

fn unique(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    index(name, table, cols).unique().take()
}

fn tables(backend: DbBackend) -> Vec<TableCreateStatement> {
    let mut history = Table::create();
    history
        .table("history")
        .col(text("instance_id"))
        .col(int64("seq"))
        .col(int64("exec"))
        .col(text("element_id"))
        .col(text("kind"))
        .col(long_text_null("data"))
        .col(int64("at"))
        .primary_key(Index::create().col("instance_id").col("seq"));
    if backend == DbBackend::Sqlite {
        // History rows are small and read by their primary key: clustering
        // them on it saves SQLite a second B-tree insert per row.
        history.extra("WITHOUT ROWID");
    }
    vec![
        Table::create()
            .table("definitions")
            .col(id())
            .col(text("key"))
            .col(int32("version"))
            .col(text_null("name"))
            .col(long_text("xml"))
            .col(text("hash"))
            .col(int64("deployed_at"))
            .take(),
        Table::create()
            .table("instances")
            .col(id())
            .col(text("definition_id"))
            .col(text("process_id"))
            .col(text("status"))
            .col(ColumnDef::new("state").blob().not_null())
            .col(text_null("business_key"))
            .col(text("start_way"))
            .col(text_null("parent_instance"))
            .col(int64_null("parent_exec"))
            .col(int64("started_at"))
            .col(int64_null("ended_at"))
            .col(int64("version"))
            .take(),
        history,
        Table::create()
            .table("jobs")
            .col(id())
            .col(text("instance_id"))
            .col(int64("exec"))
            .col(text("element_id"))
            .col(text("kind"))
            .col(int32("attempt"))
            .col(long_text("payload"))
            .col(int64("run_at"))
            .col(int64_null("lease_until"))
            .col(text_null("worker"))
            .col(text_null("host"))
            .take(),
        Table::create()
            .table("timers")
            .col(id())
            .col(text("instance_id"))
            .col(int64("sub"))
            .col(text("element_id"))
            .col(int64("due_at"))
            .col(int64_null("lease_until"))
            // Who holds the lease; not part of `TimerRow`.
            .col(text_null("worker"))
            .take(),
        Table::create()
            .table("subscriptions")
            .col(id())
            .col(text("instance_id"))
            .col(int64("sub"))
            .col(text("kind"))
            .col(text("name"))
            .col(text_null("correlation_key"))
            .col(int64("created_at"))
            .take(),
        Table::create()
            .table("tasks")
            .col(id())
            .col(text("instance_id"))
            .col(int64("exec"))
            .col(text("element_id"))
            .col(text_null("name"))
            .col(text_null("assignee"))
            .col(long_text_null("candidate_groups"))
            .col(text_null("form_key"))
            .col(text("state"))
            .col(int64("created_at"))
            .col(int64_null("ended_at"))
            .take(),
        Table::create()
            .table("incidents")
            .col(id())
            .col(text("instance_id"))
            .col(int64("exec"))
            .col(text("element_id"))
            .col(long_text("message"))
            .col(int64("created_at"))
            .col(int64_null("resolved_at"))
            .take(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        unique(
            "definitions_key_version",
            "definitions",
            &["key", "version"],
        ),
        unique("definitions_key_hash", "definitions", &["key", "hash"]),
        index("instances_status", "instances", &["status"]),
        index(
            "instances_definition",
            "instances",
            &["definition_id", "started_at"],
        ),
        index("instances_started", "instances", &["started_at"]),
        index("jobs_instance", "jobs", &["instance_id"]),
        // The timer claim: `WHERE due_at <= ? AND (lease ...) ORDER BY due_at`.
        index("timers_claim", "timers", &["due_at", "lease_until"]),
        index("timers_instance", "timers", &["instance_id"]),
        index("subscriptions_name", "subscriptions", &["kind", "name"]),
        index("subscriptions_instance", "subscriptions", &["instance_id"]),
        index("tasks_inbox", "tasks", &["state", "assignee"]),
        index("tasks_instance", "tasks", &["instance_id"]),
        index("incidents_instance", "incidents", &["instance_id"]),
    ]
}

/// The job claim reads `WHERE host = ? (or host IS NULL) AND run_at <= ? AND
/// (lease_until IS NULL OR lease_until < ?) ORDER BY run_at`. PostgreSQL
/// cannot take the order from an index on `(host, run_at)` under `host IS
/// NULL` (it sorts every due job instead), so the server's own jobs and the
/// hosts' jobs get one partial index each.
const JOB_CLAIM_INDEXES: [&str; 2] = [
    "CREATE INDEX jobs_claim_server ON jobs (run_at, lease_until) WHERE host IS NULL",
    "CREATE INDEX jobs_claim_host ON jobs (host, run_at, lease_until) WHERE host IS NOT NULL",
];

const TABLES: [&str; 8] = [
    "incidents",
    "tasks",
    "subscriptions",
    "timers",
    "jobs",
    "history",
    "instances",
    "definitions",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables(manager.get_database_backend()) {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite | DbBackend::Postgres => {
                for sql in JOB_CLAIM_INDEXES {
                    db.execute_unprepared(sql).await?;
                }
            }
            // No partial indexes on MySQL/MariaDB.
            _ => {
                let claim = index("jobs_claim", "jobs", &["host", "run_at", "lease_until"]);
                manager.create_index(claim).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
