//! Database schema migrations for Baton's store (sea-orm-migration), portable
//! across SQLite and PostgreSQL: text ids, BIGINT millisecond times, BLOB/BYTEA
//! for serialised instance state.
//!
//! The runtime runs [`Migrator`] on connect; the table and column names here
//! are the contract of the runtime's hand-written SQL in `baton_runtime::store`.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_schedules;
mod m0003_resources;
mod m0004_reports;
mod m0005_accounts;
mod m0006_relays;
mod m0007_tasks;
mod m0008_forms;
mod m0009_approval_links;
mod m0010_paused;
mod m0011_wechat;
mod m0012_task_due;
mod m0013_task_files;
mod m0014_task_overdue;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_schedules::Migration),
            Box::new(m0003_resources::Migration),
            Box::new(m0004_reports::Migration),
            Box::new(m0005_accounts::Migration),
            Box::new(m0006_relays::Migration),
            Box::new(m0007_tasks::Migration),
            Box::new(m0008_forms::Migration),
            Box::new(m0009_approval_links::Migration),
            Box::new(m0010_paused::Migration),
            Box::new(m0011_wechat::Migration),
            Box::new(m0012_task_due::Migration),
            Box::new(m0013_task_files::Migration),
            Box::new(m0014_task_overdue::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "baton_migrations".into_iden()
    }
}

/// Run raw portable DDL statements in order.
pub(crate) async fn exec_all(
    manager: &SchemaManager<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Re-exported so callers can run `Migrator::up` without depending on
/// sea-orm-migration themselves.
pub use sea_orm_migration::MigratorTrait;
