//! Companies, users, groups and their permissions, sessions, API tokens and
//! the audit log: the server's accounts. Passwords are argon2id hashes;
//! session ids and API tokens are stored only as SHA-256 hashes; the WeChat
//! app secret is ciphertext under the master key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "CREATE TABLE companies (id TEXT PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, \
     wechat_appid TEXT NOT NULL, wechat_secret_enc TEXT, created_at BIGINT NOT NULL, \
     updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX companies_code ON companies (code)",
    "CREATE TABLE users (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, username TEXT NOT NULL, \
     name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL, password_hash TEXT NOT NULL, \
     admin BOOLEAN NOT NULL, submanager_login BOOLEAN NOT NULL, \
     must_change_password BOOLEAN NOT NULL, disabled BOOLEAN NOT NULL, \
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX users_name ON users (company_id, username)",
    "CREATE TABLE user_groups (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, name TEXT NOT NULL, \
     permissions TEXT NOT NULL, comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX user_groups_name ON user_groups (company_id, name)",
    "CREATE TABLE group_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, \
     PRIMARY KEY (group_id, user_id))",
    "CREATE INDEX group_members_user ON group_members (user_id)",
    "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, \
     created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
    "CREATE INDEX sessions_user ON sessions (user_id)",
    "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL, user_id TEXT NOT NULL, \
     name TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT)",
    "CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash)",
    "CREATE TABLE audit_log (id TEXT PRIMARY KEY, at BIGINT NOT NULL, company_id TEXT NOT NULL, \
     user_id TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE INDEX audit_log_company_at ON audit_log (company_id, at)",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS audit_log",
    "DROP TABLE IF EXISTS api_tokens",
    "DROP TABLE IF EXISTS sessions",
    "DROP TABLE IF EXISTS group_members",
    "DROP TABLE IF EXISTS user_groups",
    "DROP TABLE IF EXISTS users",
    "DROP TABLE IF EXISTS companies",
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
