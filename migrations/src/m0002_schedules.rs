//! Schedules: `schedules` (one row per schedule, with its next fire and a
//! claim lease) and `schedule_fires` (one row per performed tick; its unique
//! key on `(schedule_id, fire_at)` makes each tick start once across engines).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().not_null().take()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().null().take()
}

fn int64(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn int64_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("schedules")
                    .col(
                        ColumnDef::new("id")
                            .string()
                            .not_null()
                            .primary_key()
                            .take(),
                    )
                    .col(text("name"))
                    .col(text("process_key"))
                    // NULL: the latest version when the tick fires.
                    .col(ColumnDef::new("process_version").integer().null().take())
                    // JSON object: the start variables.
                    .col(ColumnDef::new("vars").text().not_null().take())
                    // JSON: the serialized `baton_schedule::ScheduleSpec`.
                    .col(ColumnDef::new("spec").text().not_null().take())
                    .col(ColumnDef::new("enabled").boolean().not_null().take())
                    // `allow` | `skip` | `queue`.
                    .col(text("overlap"))
                    .col(int64_null("next_fire_at"))
                    .col(int64_null("last_fired_at"))
                    // The instance the last tick started (overlap `skip`).
                    .col(text_null("last_instance"))
                    .col(int64_null("lease_until"))
                    .col(text_null("worker"))
                    .col(int64("created_at"))
                    .col(int64("updated_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("schedules_due")
                    .table("schedules")
                    .col("enabled")
                    .col("next_fire_at")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("schedule_fires")
                    .col(text("schedule_id"))
                    .col(int64("fire_at"))
                    .col(text_null("instance_id"))
                    .col(int64("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("schedule_fires_once")
                    .table("schedule_fires")
                    .col("schedule_id")
                    .col("fire_at")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["schedule_fires", "schedules"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
