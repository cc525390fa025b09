//! The store: Baton's durable state in SQLite (embedded default) or
//! PostgreSQL (production, several engines on one database), through sea-orm.
//!
//! Writes go through [`Store::commit`], one transaction per [`Batch`]; the
//! queue is drained with [`Store::claim_jobs`] and [`Store::claim_timers`].
//! The hot paths (commit, claim) use hand-written per-dialect SQL through
//! sea-orm's raw statement API: multi-row statements with a bounded number of
//! shapes, so prepared statements are reused.
//!
//! SQLite has one writer connection (writes are serialised in process, and
//! `BEGIN IMMEDIATE` takes the write lock up front so a transaction never
//! fails halfway on an upgrade) and a small pool of readers (WAL lets them
//! read while the writer writes). PostgreSQL uses one pool for both.

mod accounts;
mod approvals;
mod claim;
mod codec;
mod commit;
mod error;
mod forms;
mod hosts;
mod node_logs;
mod paused;
mod read;
mod relays;
mod reports;
mod resources;
pub mod rows;
mod schedules;
mod sql;
mod task_files;
mod task_helpers;
mod tasks;
mod wechat;

use std::sync::Arc;
use std::time::Duration;

use baton_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use accounts::{AuditFilter, AuditRow, CompanyRow, GroupRow, SessionRow, TokenRow, UserRow};
pub use approvals::ApprovalLinkRow;
use error::Context;
pub use error::{Error, Result};
pub use forms::{FormRow, HolidayCalendarRow, LanguageRow};
pub use hosts::{CONNECTED, HostGroupRow, HostRow, LOST, NOT_INITIALISED};
pub use paused::HELD;
pub use read::{DefinitionSummary, InUse, InstanceFilter, InstanceSummary, Page};
pub use relays::{FailoverRow, RelayEventRow, RelaySecretRow};
pub use reports::{ReportDataRow, ReportTemplateRow};
pub use resources::{AccountRow, DataSourceRow, JobLogRow};
pub use rows::*;
pub use schedules::{Overlap, ScheduleRow};
pub use sql::Dialect;
pub use task_files::TaskFileRow;
pub use tasks::{TaskScope, UserTaskRow, split_groups};
pub use wechat::WeChatBindingRow;

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reader connections on a SQLite file.
const SQLITE_READERS: u32 = 4;
/// Connections to PostgreSQL.
const POSTGRES_CONNECTIONS: u32 = 10;
/// Prepared statements kept per connection: the commit's multi-row
/// statements come in a bounded set of shapes; keep all of them.
const STATEMENT_CACHE: usize = 512;
/// The PostgreSQL advisory lock that serialises schema migrations of
/// engines starting together.
const MIGRATION_LOCK: i64 = 0x0062_6174_6f6e; // "baton"

/// A handle on the database. Cheap to clone: clones share the pools.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dialect: Dialect,
    /// SQLite: the one writer connection. PostgreSQL: the pool.
    write: DatabaseConnection,
    /// SQLite: the readers (the writer itself for `:memory:`). PostgreSQL: the pool.
    read: DatabaseConnection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.inner.dialect)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open the database at `url` and bring its schema up to date.
    ///
    /// `sqlite://path/to/baton.db?mode=rwc` (create if missing),
    /// `sqlite::memory:`, or `postgres://user@host:port/db`.
    pub async fn connect(url: &str) -> Result<Store> {
        let (dialect, write, read) = if url.starts_with("sqlite:") {
            url.parse::<SqliteConnectOptions>()
                .map_err(|e| Error::BadUrl {
                    reason: format!("not a SQLite URL: {e}"),
                })?;
            connect_sqlite(url).await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<PgConnectOptions>().map_err(|e| Error::BadUrl {
                reason: format!("not a PostgreSQL URL: {e}"),
            })?;
            let pool = connect_postgres(url).await?;
            (Dialect::Postgres, pool.clone(), pool)
        } else {
            return Err(Error::BadUrl {
                reason: "expected sqlite:… or postgres://…".to_owned(),
            });
        };
        Ok(Store {
            inner: Arc::new(Inner {
                dialect,
                write,
                read,
            }),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    pub fn is_postgres(&self) -> bool {
        self.inner.dialect == Dialect::Postgres
    }

    /// PostgreSQL `pg_notify(channel, payload)` (the live feed between
    /// servers). An error on SQLite.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        let pool = self.pg_pool("notify")?;
        sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(|e| Error::Db {
                op: "notify",
                source: sea_orm::DbErr::Custom(e.to_string()),
            })
    }

    /// A PostgreSQL listener on `channel`, on its own connection.
    pub async fn listen(&self, channel: &str) -> Result<sea_orm::sqlx::postgres::PgListener> {
        let pool = self.pg_pool("listen")?;
        let mut l = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|e| Error::Db {
                op: "listen",
                source: sea_orm::DbErr::Custom(e.to_string()),
            })?;
        l.listen(channel).await.map_err(|e| Error::Db {
            op: "listen",
            source: sea_orm::DbErr::Custom(e.to_string()),
        })?;
        Ok(l)
    }

    fn pg_pool(&self, op: &'static str) -> Result<&sea_orm::sqlx::PgPool> {
        if !self.is_postgres() {
            return Err(Error::Db {
                op,
                source: sea_orm::DbErr::Custom("only on PostgreSQL".into()),
            });
        }
        Ok(self.inner.write.get_postgres_connection_pool())
    }

    /// The PostgreSQL `LISTEN/NOTIFY` channel on which engines wake each
    /// other when they commit due work; `None` on SQLite (single node, the
    /// engine wakes itself).
    pub fn notify_channel(&self) -> Option<&'static str> {
        match self.inner.dialect {
            Dialect::Postgres => Some("baton_wake"),
            Dialect::Sqlite => None,
        }
    }

    /// Close every connection; further calls fail.
    pub async fn close(&self) -> Result<()> {
        self.inner.write.close_by_ref().await.during("close")?;
        self.inner.read.close_by_ref().await.during("close")
    }

    pub(crate) fn writer(&self) -> &DatabaseConnection {
        &self.inner.write
    }

    pub(crate) fn reader(&self) -> &DatabaseConnection {
        &self.inner.read
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite, a plain `BEGIN`
    /// (READ COMMITTED) on PostgreSQL, where the commit's version checks and
    /// the claims' row locks do the rest.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.inner.dialect {
            Dialect::Sqlite => {
                self.inner
                    .write
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await
            }
            Dialect::Postgres => self.inner.write.begin().await,
        }
    }
}

/// The writer (migrated), then the readers.
async fn connect_sqlite(url: &str) -> Result<(Dialect, DatabaseConnection, DatabaseConnection)> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    if memory {
        // The database lives as long as its one connection: never recycle it.
        options.idle_timeout(None).max_lifetime(None);
    }
    options.map_sqlx_sqlite_opts(move |o| sqlite_tuning(o, memory));
    let write = Database::connect(options).await.during("connect")?;
    Migrator::up(&write, None).await.map_err(Error::Migration)?;
    if memory {
        return Ok((Dialect::Sqlite, write.clone(), write));
    }
    let mut options = ConnectOptions::new(url);
    options.max_connections(SQLITE_READERS).sqlx_logging(false);
    options.map_sqlx_sqlite_opts(|o| sqlite_tuning(o, false));
    let read = Database::connect(options).await.during("connect")?;
    Ok((Dialect::Sqlite, write, read))
}

fn sqlite_tuning(options: SqliteConnectOptions, memory: bool) -> SqliteConnectOptions {
    let options = options
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .statement_cache_capacity(STATEMENT_CACHE);
    if memory {
        options
    } else {
        // WAL: readers never block the writer. NORMAL: no fsync per commit;
        // the database stays consistent, and a power cut (not a process
        // crash) may lose the last few commits.
        options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    }
}

async fn connect_postgres(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(POSTGRES_CONNECTIONS)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(STATEMENT_CACHE));
    let pool = Database::connect(options).await.during("connect")?;
    // Engines starting together take turns: the first migrates, the others
    // then find nothing pending.
    let txn = pool.begin().await.during("migrate: begin")?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await
        .during("migrate: lock")?;
    Migrator::up(&txn, None).await.map_err(Error::Migration)?;
    txn.commit().await.during("migrate: commit")?;
    Ok(pool)
}
