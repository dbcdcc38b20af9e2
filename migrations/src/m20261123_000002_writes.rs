//! Who maintains which project, and the audit trail of every write.

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
enum ProjectMaintainer {
    Table,
    ProjectId,
    Email,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntry {
    Table,
    Id,
    At,
    ActorSub,
    ActorEmail,
    Action,
    Target,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProjectMaintainer::Table)
                    .col(big_integer(ProjectMaintainer::ProjectId))
                    .col(string(ProjectMaintainer::Email))
                    .primary_key(
                        Index::create()
                            .col(ProjectMaintainer::ProjectId)
                            .col(ProjectMaintainer::Email),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectMaintainer::Table, ProjectMaintainer::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_project_maintainer_email")
                    .table(ProjectMaintainer::Table)
                    .col(ProjectMaintainer::Email)
                    .to_owned(),
            )
            .await?;
        // The audit trail outlives what it describes: no foreign keys.
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(big_pk_auto(AuditEntry::Id))
                    .col(timestamp_with_time_zone(AuditEntry::At))
                    .col(string(AuditEntry::ActorSub))
                    .col(string(AuditEntry::ActorEmail))
                    .col(string(AuditEntry::Action))
                    .col(string(AuditEntry::Target))
                    .col(text_null(AuditEntry::Before))
                    .col(text_null(AuditEntry::After))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntry::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProjectMaintainer::Table).to_owned())
            .await
    }
}
