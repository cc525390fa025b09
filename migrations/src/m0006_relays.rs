//! Sub-Manager relays: each host's enrolment token (SHA-256 for the lookup
//! at the upgrade, ciphertext under the master key so the download package
//! can carry it again), its backup priority list, availability and the lost
//! host it covers (seed 001), its last heartbeat; failovers; secrets waiting
//! to be delivered to a relay (deleted once sent: the server keeps no terminal
//! secret of a relay's terminals after that); and what happened to each job
//! on the relays (shown in the instance history).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "ALTER TABLE hosts ADD COLUMN token_hash TEXT",
    "ALTER TABLE hosts ADD COLUMN token_enc TEXT",
    "ALTER TABLE hosts ADD COLUMN backups TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE hosts ADD COLUMN available BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE hosts ADD COLUMN covering TEXT",
    "ALTER TABLE hosts ADD COLUMN last_seen BIGINT",
    "ALTER TABLE hosts ADD COLUMN heartbeat TEXT",
    "ALTER TABLE hosts ADD COLUMN server TEXT",
    "ALTER TABLE hosts ADD COLUMN thresholds TEXT",
    "CREATE UNIQUE INDEX hosts_token ON hosts (token_hash)",
    "CREATE TABLE failovers (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     host_id TEXT NOT NULL, backup_id TEXT, at BIGINT NOT NULL, jobs INTEGER NOT NULL, \
     reason TEXT NOT NULL)",
    "CREATE INDEX failovers_company_at ON failovers (company_id, at)",
    "CREATE TABLE relay_secrets (host_id TEXT NOT NULL, account_id TEXT NOT NULL, \
     secret_enc TEXT NOT NULL, passphrase_enc TEXT, at BIGINT NOT NULL, \
     PRIMARY KEY (host_id, account_id))",
    "CREATE TABLE relay_events (instance_id TEXT NOT NULL, job_id TEXT NOT NULL, \
     attempt INTEGER NOT NULL, at BIGINT NOT NULL, host_id TEXT NOT NULL, \
     event TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE INDEX relay_events_instance ON relay_events (instance_id, at)",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS relay_events",
    "DROP TABLE IF EXISTS relay_secrets",
    "DROP TABLE IF EXISTS failovers",
    "DROP INDEX IF EXISTS hosts_token",
    "ALTER TABLE hosts DROP COLUMN thresholds",
    "ALTER TABLE hosts DROP COLUMN server",
    "ALTER TABLE hosts DROP COLUMN heartbeat",
    "ALTER TABLE hosts DROP COLUMN last_seen",
    "ALTER TABLE hosts DROP COLUMN covering",
    "ALTER TABLE hosts DROP COLUMN available",
    "ALTER TABLE hosts DROP COLUMN backups",
    "ALTER TABLE hosts DROP COLUMN token_enc",
    "ALTER TABLE hosts DROP COLUMN token_hash",
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
