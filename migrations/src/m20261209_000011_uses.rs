//! Who uses what: an organization's use of a project (or of one of its
//! repositories or datasets), declared by one of its agents, read from a
//! `publiccode.yml`'s `usedBy`, a data.gouv.fr reuse or a catalogue file.
//!
//! `organization.verified` is false for an organization created from a
//! ProConnect SIRET when its agent first declared a use, until an
//! administrator confirms it. `project.used_by` is how many organizations
//! anyone may see using the project: what lists order by (kept by every
//! write of `project_use`, in its transaction).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProjectUse {
    Table,
    Id,
    ProjectId,
    RepositoryId,
    DatasetId,
    OrganizationId,
    OrganizationName,
    Kind,
    InstanceUrl,
    Since,
    Comment,
    Source,
    SourceKey,
    SourceUrl,
    DeclaredBySub,
    DeclaredByEmail,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organization {
    Table,
    Id,
    Verified,
}

#[derive(DeriveIden, Clone, Copy)]
enum Project {
    Table,
    Id,
    UsedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Repository {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dataset {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .add_column(boolean(Organization::Verified).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Project::Table)
                    .add_column(big_integer(Project::UsedBy).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .table(Project::Table)
                    .col(Project::UsedBy)
                    .col(Project::Id)
                    .name("idx_project_used_by_id")
                    .to_owned(),
            )
            .await?;
        // `source_key` tells one use of a source from another, so that a
        // harvest or an import replaces its own rows and no one else's:
        // `organization:<id>:<kind>` for a declaration, the reuse's id for
        // data.gouv.fr, the organization's name for `usedBy`.
        manager
            .create_table(
                Table::create()
                    .table(ProjectUse::Table)
                    .col(big_pk_auto(ProjectUse::Id))
                    .col(big_integer(ProjectUse::ProjectId))
                    .col(big_integer_null(ProjectUse::RepositoryId))
                    .col(big_integer_null(ProjectUse::DatasetId))
                    .col(big_integer_null(ProjectUse::OrganizationId))
                    .col(string(ProjectUse::OrganizationName))
                    .col(string(ProjectUse::Kind))
                    .col(text_null(ProjectUse::InstanceUrl))
                    .col(string_null(ProjectUse::Since))
                    .col(text_null(ProjectUse::Comment))
                    .col(string(ProjectUse::Source))
                    .col(string(ProjectUse::SourceKey))
                    .col(text_null(ProjectUse::SourceUrl))
                    .col(string_null(ProjectUse::DeclaredBySub))
                    .col(string_null(ProjectUse::DeclaredByEmail))
                    .col(timestamp_with_time_zone(ProjectUse::CreatedAt))
                    .col(timestamp_with_time_zone(ProjectUse::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectUse::Table, ProjectUse::ProjectId)
                            .to(Project::Table, Project::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectUse::Table, ProjectUse::RepositoryId)
                            .to(Repository::Table, Repository::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectUse::Table, ProjectUse::DatasetId)
                            .to(Dataset::Table, Dataset::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectUse::Table, ProjectUse::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .table(ProjectUse::Table)
                    .col(ProjectUse::ProjectId)
                    .col(ProjectUse::Source)
                    .col(ProjectUse::SourceKey)
                    .unique()
                    .name("idx_project_use_source")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .table(ProjectUse::Table)
                    .col(ProjectUse::OrganizationId)
                    .name("idx_project_use_organization_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .table(ProjectUse::Table)
                    .col(ProjectUse::DeclaredBySub)
                    .name("idx_project_use_declared_by_sub")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProjectUse::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .table(Project::Table)
                    .name("idx_project_used_by_id")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Project::Table)
                    .drop_column(Project::UsedBy)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .drop_column(Organization::Verified)
                    .to_owned(),
            )
            .await
    }
}
