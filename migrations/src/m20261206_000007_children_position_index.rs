//! Indexes each project's repositories, datasets, links and participations
//! by (project, position): the lists of a page of projects are read in that
//! order straight from the index, where the indexes they had, on (project,
//! url) or (project, organization), left the database to sort a page's rows
//! by position on every read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables holding a project's children in file order.
const TABLES: [&str; 4] = ["repository", "dataset", "link", "project_organization"];

fn index_name(table: &str) -> String {
    format!("idx_{table}_project_id_position")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .create_index(
                    Index::create()
                        .name(index_name(table))
                        .table(Alias::new(table))
                        .col(Alias::new("project_id"))
                        .col(Alias::new("position"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .drop_index(
                    Index::drop()
                        .name(index_name(table))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
