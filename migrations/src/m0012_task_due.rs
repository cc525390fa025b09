//! User tasks' due dates and helpers: `tasks.due_at` is when a task is due
//! (its `dueDate`, evaluated when the engine created it, or set through the
//! API), and `task_helpers` the users its assignee asked to help: a helper
//! sees the task among its to-dos and may complete it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "ALTER TABLE tasks ADD COLUMN due_at BIGINT",
    "CREATE INDEX tasks_due ON tasks (state, due_at)",
    "CREATE TABLE task_helpers (
        task_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        added_by TEXT NOT NULL,
        added_at BIGINT NOT NULL,
        PRIMARY KEY (task_id, user_id)
    )",
    "CREATE INDEX task_helpers_user ON task_helpers (user_id)",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS task_helpers",
    "DROP INDEX IF EXISTS tasks_due",
    "ALTER TABLE tasks DROP COLUMN due_at",
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
