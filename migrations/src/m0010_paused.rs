//! Paused instances: an instance listed here starts no new work (its new
//! jobs are written held, far in the future) until it is resumed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &["CREATE TABLE paused_instances (
        instance_id TEXT NOT NULL PRIMARY KEY,
        paused_at BIGINT NOT NULL
    )"];

const DOWN: &[&str] = &["DROP TABLE IF EXISTS paused_instances"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, DOWN).await
    }
}
