//! Signed approval links: one row per link issued, so a link works once
//! (`used_at`) and can be told apart from a forged one (its signature covers
//! the row's task, user and expiry; the id is the link's nonce); and the
//! notices sent about new tasks.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "CREATE TABLE approval_links (
        id TEXT NOT NULL PRIMARY KEY,
        company_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    )",
    "CREATE INDEX approval_links_task ON approval_links (task_id)",
    // Who was told of a task: one notice per task and user, whichever
    // server hears of the task first sends it.
    "CREATE TABLE task_notices (
        task_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        sent_at BIGINT NOT NULL,
        PRIMARY KEY (task_id, user_id)
    )",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS task_notices",
    "DROP INDEX IF EXISTS approval_links_task",
    "DROP TABLE IF EXISTS approval_links",
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
