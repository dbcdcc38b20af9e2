//! What the upstream sources (forges, data.gouv.fr, PyPI) last said about each
//! code, data and package link, and the lease that lets one harvester run at
//! a time across replicas.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Project {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum HarvestResult {
    Table,
    Subject,
    ProjectId,
    Url,
    Status,
    Message,
    HarvestedAt,
    Etag,
    LastModified,
    Facts,
    FactsChangedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HarvestLease {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `subject` is `repository:<id>`, `dataset:<id>` or `link:<id>`; `facts`
        // is the last good answer, as JSON, kept when a later harvest fails.
        manager
            .create_table(
                Table::create()
                    .table(HarvestResult::Table)
                    .col(string(HarvestResult::Subject).primary_key())
                    .col(big_integer(HarvestResult::ProjectId))
                    .col(text(HarvestResult::Url))
                    .col(string(HarvestResult::Status))
                    .col(text_null(HarvestResult::Message))
                    .col(timestamp_with_time_zone(HarvestResult::HarvestedAt))
                    .col(text_null(HarvestResult::Etag))
                    .col(text_null(HarvestResult::LastModified))
                    .col(text_null(HarvestResult::Facts))
                    .col(timestamp_with_time_zone_null(HarvestResult::FactsChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HarvestResult::Table, HarvestResult::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_harvest_result_project")
                    .table(HarvestResult::Table)
                    .col(HarvestResult::ProjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HarvestLease::Table)
                    .col(string(HarvestLease::Name).primary_key())
                    .col(string(HarvestLease::Holder))
                    .col(timestamp_with_time_zone(HarvestLease::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HarvestLease::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(HarvestResult::Table).to_owned())
            .await
    }
}
