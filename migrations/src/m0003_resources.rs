//! Resources the nodes use (script library, data sources, global variables,
//! host groups, hosts, terminals and their accounts), pinned SSH host keys,
//! node logs, and the claim count of a job (a job claimed a second time was
//! interrupted: a non-idempotent node is then handed to the operator).
//!
//! Secrets (`*_enc`) are AES-256-GCM ciphertext under the master key, never
//! plain text. Every resource belongs to a company (`default` until the
//! server's companies exist).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL): TEXT ids, BIGINT millisecond times.
const UP: &[&str] = &[
    "CREATE TABLE global_vars (company_id TEXT NOT NULL, name TEXT NOT NULL, \
     value TEXT NOT NULL, comments TEXT NOT NULL, updated_at BIGINT NOT NULL, \
     PRIMARY KEY (company_id, name))",
    "CREATE TABLE scripts (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, name TEXT NOT NULL, \
     language TEXT NOT NULL, content TEXT NOT NULL, comments TEXT NOT NULL, \
     updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX scripts_name ON scripts (company_id, name)",
    "CREATE TABLE data_sources (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     name TEXT NOT NULL, url TEXT NOT NULL, username TEXT, password_enc TEXT, \
     comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX data_sources_name ON data_sources (company_id, name)",
    "CREATE TABLE host_groups (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     name TEXT NOT NULL, comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX host_groups_name ON host_groups (company_id, name)",
    "CREATE TABLE hosts (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, group_id TEXT, \
     name TEXT NOT NULL, comments TEXT NOT NULL, state TEXT NOT NULL, facts TEXT NOT NULL, \
     updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX hosts_name ON hosts (company_id, name)",
    "CREATE TABLE terminals (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, host_id TEXT, \
     name TEXT NOT NULL, host_name TEXT NOT NULL, host_address TEXT NOT NULL, \
     port INTEGER NOT NULL, connection_type TEXT NOT NULL, os_name TEXT NOT NULL, \
     os_version TEXT NOT NULL, comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX terminals_name ON terminals (company_id, name)",
    "CREATE TABLE terminal_accounts (id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, \
     username TEXT NOT NULL, auth_kind TEXT NOT NULL, secret_enc TEXT NOT NULL, \
     passphrase_enc TEXT, comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX terminal_accounts_user ON terminal_accounts (terminal_id, username)",
    "CREATE TABLE ssh_host_keys (host TEXT NOT NULL, port INTEGER NOT NULL, \
     key TEXT NOT NULL, pinned_at BIGINT NOT NULL, PRIMARY KEY (host, port))",
    "CREATE TABLE job_logs (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, \
     seq BIGINT NOT NULL, at BIGINT NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL, \
     PRIMARY KEY (job_id, attempt, seq))",
    "ALTER TABLE jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS job_logs",
    "DROP TABLE IF EXISTS ssh_host_keys",
    "DROP TABLE IF EXISTS terminal_accounts",
    "DROP TABLE IF EXISTS terminals",
    "DROP TABLE IF EXISTS hosts",
    "DROP TABLE IF EXISTS host_groups",
    "DROP TABLE IF EXISTS data_sources",
    "DROP TABLE IF EXISTS scripts",
    "DROP TABLE IF EXISTS global_vars",
    "ALTER TABLE jobs DROP COLUMN claims",
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
