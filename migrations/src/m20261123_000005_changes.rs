//! The journal of catalogue changes that replicas replay to keep their search
//! index fresh.
//!
//! Every write transaction takes the next `catalogue_revision` (an
//! `UPDATE … SET value = value + 1` on its one row, which also makes writers
//! queue on that row until they commit) and records which projects and
//! organizations it changed under that revision. So revisions become visible
//! in increasing order, and a reader that has replayed up to revision `r`
//! misses nothing by asking for `revision > r`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CatalogueRevision {
    Table,
    Id,
    Value,
}

#[derive(DeriveIden, Clone, Copy)]
enum CatalogueChange {
    Table,
    Revision,
    Subject,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogueRevision::Table)
                    .col(integer(CatalogueRevision::Id).primary_key())
                    .col(big_integer(CatalogueRevision::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(CatalogueRevision::Table)
                    .columns([CatalogueRevision::Id, CatalogueRevision::Value])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        // `subject` is `project:<id>` or `organization:<id>`.
        manager
            .create_table(
                Table::create()
                    .table(CatalogueChange::Table)
                    .col(big_integer(CatalogueChange::Revision))
                    .col(string(CatalogueChange::Subject))
                    .col(timestamp_with_time_zone(CatalogueChange::At))
                    .primary_key(
                        Index::create()
                            .col(CatalogueChange::Revision)
                            .col(CatalogueChange::Subject),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CatalogueChange::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CatalogueRevision::Table).to_owned())
            .await
    }
}
