//! Reminders of overdue tasks: `tasks.overdue_notice_at` is when the
//! people of an open task were told it is past its due date (once per due
//! date: changing the due date clears it).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &["ALTER TABLE tasks ADD COLUMN overdue_notice_at BIGINT"];

const DOWN: &[&str] = &["ALTER TABLE tasks DROP COLUMN overdue_notice_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, DOWN).await
    }
}
