//! Files uploaded for a user task's `file` form fields: the file lives under
//! the server's data directory (`path` relative to it), the row says whose
//! task it belongs to, what it is and who sent it. Completing the task turns
//! a reference to one of its rows into a process variable.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "CREATE TABLE task_files (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     task_id TEXT NOT NULL, instance_id TEXT NOT NULL, name TEXT NOT NULL, \
     size BIGINT NOT NULL, content_type TEXT NOT NULL, sha256 TEXT NOT NULL, \
     path TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE INDEX task_files_task ON task_files (task_id)",
    "CREATE INDEX task_files_instance ON task_files (instance_id)",
];

const DOWN: &[&str] = &["DROP TABLE IF EXISTS task_files"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, DOWN).await
    }
}
