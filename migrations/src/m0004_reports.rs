//! Report templates (the uploaded xlsx kept as it came, with the placeholders
//! found in it) and report data (one filled workbook per report node run: the
//! file lives under the server's data directory, the row says where).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL).
const UP: &[&str] = &[
    "CREATE TABLE report_templates (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     name TEXT NOT NULL, file_name TEXT NOT NULL, content BLOB NOT NULL, \
     placeholders TEXT NOT NULL, comments TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX report_templates_name ON report_templates (company_id, name)",
    "CREATE TABLE report_data (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     template_id TEXT NOT NULL, name TEXT NOT NULL, comments TEXT NOT NULL, \
     instance_id TEXT NOT NULL, definition_key TEXT NOT NULL, element_id TEXT NOT NULL, \
     path TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE INDEX report_data_instance ON report_data (company_id, instance_id)",
    "CREATE INDEX report_data_created ON report_data (created_at)",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS report_data",
    "DROP TABLE IF EXISTS report_templates",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let blob = match manager.get_database_backend() {
            DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        for sql in UP {
            db.execute_unprepared(&sql.replace("BLOB", blob)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::exec_all(manager, DOWN).await
    }
}
