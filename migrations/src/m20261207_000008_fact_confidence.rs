//! How sure the catalogue is of each fact, and where organizations' facts
//! come from.
//!
//! Participations, repositories, datasets and links get a `confidence`
//! (`CONFIRMED` unless the catalogue says `UNSURE`) and a `note` saying why;
//! sources get the `date` of a page not pinned to a commit; organizations
//! get sources of their own (`organization_source`), read from the public
//! register or dataset that gave their SIRET, SIREN or website.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables holding a project's facts that may be unsure.
const UNSURE_TABLES: [&str; 4] = ["project_organization", "repository", "dataset", "link"];

#[derive(DeriveIden, Clone, Copy)]
enum OrganizationSource {
    Table,
    OrganizationId,
    Position,
    Title,
    Url,
    Date,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organization {
    Table,
    Id,
}

/// SQLite alters one column per statement.
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(column)
                .to_owned(),
        )
        .await
}

async fn drop_column(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(column))
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in UNSURE_TABLES {
            add_column(
                manager,
                table,
                string(Alias::new("confidence"))
                    .default("CONFIRMED")
                    .to_owned(),
            )
            .await?;
            add_column(manager, table, string_null(Alias::new("note"))).await?;
        }
        add_column(manager, "project_source", string_null(Alias::new("date"))).await?;
        manager
            .create_table(
                Table::create()
                    .table(OrganizationSource::Table)
                    .col(big_integer(OrganizationSource::OrganizationId))
                    .col(integer(OrganizationSource::Position))
                    .col(string(OrganizationSource::Title))
                    .col(string(OrganizationSource::Url))
                    .col(string_null(OrganizationSource::Date))
                    .primary_key(
                        Index::create()
                            .col(OrganizationSource::OrganizationId)
                            .col(OrganizationSource::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OrganizationSource::Table,
                                OrganizationSource::OrganizationId,
                            )
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrganizationSource::Table).to_owned())
            .await?;
        drop_column(manager, "project_source", "date").await?;
        for table in UNSURE_TABLES {
            drop_column(manager, table, "note").await?;
            drop_column(manager, table, "confidence").await?;
        }
        Ok(())
    }
}
