//! User tasks as people work them (the to-do and done lists of the API):
//! who delegated a task to its assignee, who completed it and the form
//! values they submitted (JSON). `assignee` changes on claim and delegate;
//! `ended_at` is when it was completed (or cancelled by the engine).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "ALTER TABLE tasks ADD COLUMN delegated_by TEXT",
    "ALTER TABLE tasks ADD COLUMN completed_by TEXT",
    "ALTER TABLE tasks ADD COLUMN form_values TEXT",
    "CREATE INDEX tasks_done ON tasks (completed_by, ended_at)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS tasks_done",
    "ALTER TABLE tasks DROP COLUMN form_values",
    "ALTER TABLE tasks DROP COLUMN completed_by",
    "ALTER TABLE tasks DROP COLUMN delegated_by",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, DOWN).await
    }
}
