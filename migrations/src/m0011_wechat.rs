//! WeChat account bindings: which system user a WeChat openid (as seen by
//! one company's official account) signs in as. One binding per openid and
//! per user within a company.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "CREATE TABLE wechat_bindings (
        company_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        user_id TEXT NOT NULL,
        bound_at BIGINT NOT NULL,
        PRIMARY KEY (company_id, openid)
    )",
    "CREATE UNIQUE INDEX wechat_bindings_user ON wechat_bindings (company_id, user_id)",
];

const DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS wechat_bindings_user",
    "DROP TABLE IF EXISTS wechat_bindings",
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
