//! The journal becomes a feed other tools follow: each change says what
//! happened (its kind), to what (its subject), which fields, and who may
//! read it (its audience), under a position in two gapless sequences.
//!
//! - `seq` numbers every change; agents, who may read every change, follow it.
//! - `public_seq` numbers the public changes only (NULL for agents-only ones);
//!   anonymous readers follow it, so the positions they see have no gaps
//!   betraying the changes hidden from them.
//!
//! Both come from counters on the `catalogue_revision` row, which the writer
//! already holds until it commits (see `m20261123_000005_changes`): they
//! become visible in order, as revisions do.
//!
//! The old journal is dropped rather than converted: its rows lack the
//! audience, which nothing could fill in safely. Replicas that were replaying
//! it find revisions missing and reindex once, as after a prune.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CatalogueRevision {
    Table,
    Changes,
    PublicChanges,
}

#[derive(DeriveIden, Clone, Copy)]
enum CatalogueChange {
    Table,
    Seq,
    PublicSeq,
    Revision,
    Subject,
    Kind,
    Fields,
    Audience,
    At,
}

const REVISION_INDEX: &str = "idx_catalogue_change_revision";
const PUBLIC_SEQ_INDEX: &str = "idx_catalogue_change_public_seq";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CatalogueChange::Table).to_owned())
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in [CatalogueRevision::Changes, CatalogueRevision::PublicChanges] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CatalogueRevision::Table)
                        .add_column(big_integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        // `subject` is `project:<id>` or `organization:<id>`; `fields` the
        // changed fields' names, comma-separated.
        manager
            .create_table(
                Table::create()
                    .table(CatalogueChange::Table)
                    .col(big_integer(CatalogueChange::Seq).primary_key())
                    .col(big_integer_null(CatalogueChange::PublicSeq))
                    .col(big_integer(CatalogueChange::Revision))
                    .col(string(CatalogueChange::Subject))
                    .col(string(CatalogueChange::Kind))
                    .col(text(CatalogueChange::Fields))
                    .col(string(CatalogueChange::Audience))
                    .col(timestamp_with_time_zone(CatalogueChange::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REVISION_INDEX)
                    .table(CatalogueChange::Table)
                    .col(CatalogueChange::Revision)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PUBLIC_SEQ_INDEX)
                    .table(CatalogueChange::Table)
                    .col(CatalogueChange::PublicSeq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    /// Back to the journal of `m20261123_000005_changes`, empty.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CatalogueChange::Table).to_owned())
            .await?;
        for column in [CatalogueRevision::Changes, CatalogueRevision::PublicChanges] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CatalogueRevision::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
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
}
