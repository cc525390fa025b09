//! Form templates (user-task forms: their fields as JSON), holiday calendars
//! (the JSON form `baton_schedule::calendar` reads) and the UI's languages
//! (enabled flag and message overrides as JSON). Each belongs to a company;
//! form keys, calendar names and language codes are unique per company.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Portable DDL (SQLite and PostgreSQL): TEXT ids, BIGINT millisecond times.
const UP: &[&str] = &[
    "CREATE TABLE forms (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, key TEXT NOT NULL, \
     name TEXT NOT NULL, fields TEXT NOT NULL, comments TEXT NOT NULL, \
     updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX forms_key ON forms (company_id, key)",
    "CREATE TABLE holiday_calendars (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, \
     name TEXT NOT NULL, calendar TEXT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX holiday_calendars_name ON holiday_calendars (company_id, name)",
    "CREATE TABLE languages (company_id TEXT NOT NULL, code TEXT NOT NULL, \
     name TEXT NOT NULL, enabled BOOLEAN NOT NULL, messages TEXT NOT NULL, \
     updated_at BIGINT NOT NULL, PRIMARY KEY (company_id, code))",
];

const DOWN: &[&str] = &[
    "DROP TABLE IF EXISTS languages",
    "DROP TABLE IF EXISTS holiday_calendars",
    "DROP TABLE IF EXISTS forms",
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
