//! The catalogue: organizations, projects and their code, data and other links.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organization {
    Table,
    Id,
    Slug,
    Name,
    SortKey,
    Acronym,
    Kind,
    Siret,
    Siren,
    Website,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Project {
    Table,
    Id,
    Slug,
    Name,
    SortKey,
    Summary,
    Description,
    SearchText,
    Status,
    Website,
    Documentation,
    Visibility,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectSeason {
    Table,
    ProjectId,
    Season,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tag {
    Table,
    Id,
    Slug,
    Label,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectTag {
    Table,
    ProjectId,
    TagId,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectOrganization {
    Table,
    ProjectId,
    OrganizationId,
    Role,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum Repository {
    Table,
    Id,
    ProjectId,
    Url,
    Origin,
    Forge,
    Owner,
    Name,
    Role,
    Language,
    License,
    Access,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dataset {
    Table,
    Id,
    ProjectId,
    Url,
    Origin,
    Provider,
    Title,
    Description,
    Access,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum Link {
    Table,
    Id,
    ProjectId,
    Url,
    Origin,
    Kind,
    Title,
    Access,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectSource {
    Table,
    ProjectId,
    Position,
    Title,
    Url,
}

/// A column that paging orders by. PostgreSQL's default collation orders
/// text by locale rules (hyphens ignored, …) while SQLite compares bytes;
/// `COLLATE "C"` makes both backends page in the same order.
fn sort_column<T: IntoIden>(name: T, backend: DatabaseBackend) -> ColumnDef {
    let mut column = string(name);
    if backend == DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}

fn unique_sort_column<T: IntoIden>(name: T, backend: DatabaseBackend) -> ColumnDef {
    let mut column = sort_column(name, backend);
    column.unique_key();
    column
}

fn project_fk<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("project_id"))
        .to(Project::Table, Project::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(
                Table::create()
                    .table(Organization::Table)
                    .col(big_pk_auto(Organization::Id))
                    .col(unique_sort_column(Organization::Slug, backend))
                    .col(string(Organization::Name))
                    .col(sort_column(Organization::SortKey, backend))
                    .col(string_null(Organization::Acronym))
                    .col(string(Organization::Kind))
                    .col(string_null(Organization::Siret))
                    .col(string_null(Organization::Siren))
                    .col(string_null(Organization::Website))
                    .col(timestamp_with_time_zone(Organization::CreatedAt))
                    .col(timestamp_with_time_zone(Organization::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    Organization::Table,
                    &[Organization::SortKey, Organization::Id],
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Project::Table)
                    .col(big_pk_auto(Project::Id))
                    .col(unique_sort_column(Project::Slug, backend))
                    .col(string(Project::Name))
                    .col(sort_column(Project::SortKey, backend))
                    .col(text(Project::Summary))
                    .col(text(Project::Description))
                    // Name, summary and description folded (accents, case) by
                    // the application, so both backends match text alike.
                    .col(text(Project::SearchText))
                    .col(string_null(Project::Status))
                    .col(string_null(Project::Website))
                    .col(string_null(Project::Documentation))
                    .col(string(Project::Visibility))
                    .col(timestamp_with_time_zone(Project::CreatedAt))
                    .col(timestamp_with_time_zone(Project::UpdatedAt))
                    .col(big_integer(Project::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(Project::Table, &[Project::SortKey, Project::Id]).to_owned())
            .await?;
        manager
            .create_index(index(Project::Table, &[Project::CreatedAt, Project::Id]).to_owned())
            .await?;
        manager
            .create_index(index(Project::Table, &[Project::UpdatedAt, Project::Id]).to_owned())
            .await?;
        manager
            .create_index(index(Project::Table, &[Project::Status]).to_owned())
            .await?;
        manager
            .create_index(index(Project::Table, &[Project::Visibility]).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectSeason::Table)
                    .col(big_integer(ProjectSeason::ProjectId))
                    .col(integer(ProjectSeason::Season))
                    .primary_key(
                        Index::create()
                            .col(ProjectSeason::ProjectId)
                            .col(ProjectSeason::Season),
                    )
                    .foreign_key(&mut project_fk(ProjectSeason::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(ProjectSeason::Table, &[ProjectSeason::Season]).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tag::Table)
                    .col(big_pk_auto(Tag::Id))
                    .col(unique_sort_column(Tag::Slug, backend))
                    .col(string(Tag::Label))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectTag::Table)
                    .col(big_integer(ProjectTag::ProjectId))
                    .col(big_integer(ProjectTag::TagId))
                    .col(integer(ProjectTag::Position))
                    .primary_key(
                        Index::create()
                            .col(ProjectTag::ProjectId)
                            .col(ProjectTag::TagId),
                    )
                    .foreign_key(&mut project_fk(ProjectTag::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectTag::Table, ProjectTag::TagId)
                            .to(Tag::Table, Tag::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(ProjectTag::Table, &[ProjectTag::TagId]).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectOrganization::Table)
                    .col(big_integer(ProjectOrganization::ProjectId))
                    .col(big_integer(ProjectOrganization::OrganizationId))
                    .col(string(ProjectOrganization::Role))
                    .col(integer(ProjectOrganization::Position))
                    .primary_key(
                        Index::create()
                            .col(ProjectOrganization::ProjectId)
                            .col(ProjectOrganization::OrganizationId),
                    )
                    .foreign_key(&mut project_fk(ProjectOrganization::Table))
                    // An organization that still runs a project cannot disappear.
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ProjectOrganization::Table,
                                ProjectOrganization::OrganizationId,
                            )
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    ProjectOrganization::Table,
                    &[ProjectOrganization::OrganizationId],
                )
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Repository::Table)
                    .col(big_pk_auto(Repository::Id))
                    .col(big_integer(Repository::ProjectId))
                    .col(string(Repository::Url))
                    // FILE rows belong to the catalogue files (import may remove them),
                    // API rows to the people who added them.
                    .col(string(Repository::Origin))
                    .col(string(Repository::Forge))
                    .col(string_null(Repository::Owner))
                    .col(string_null(Repository::Name))
                    .col(string(Repository::Role))
                    .col(string_null(Repository::Language))
                    .col(string_null(Repository::License))
                    .col(string(Repository::Access))
                    .col(integer(Repository::Position))
                    .foreign_key(&mut project_fk(Repository::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(Repository::Table, &[Repository::ProjectId, Repository::Url])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(Repository::Table, &[Repository::Forge]).to_owned())
            .await?;
        // The language filter ignores case: index what it compares.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_repository_language_lower ON repository (lower(language))",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Dataset::Table)
                    .col(big_pk_auto(Dataset::Id))
                    .col(big_integer(Dataset::ProjectId))
                    .col(string(Dataset::Url))
                    // FILE rows belong to the catalogue files (import may remove them),
                    // API rows to the people who added them.
                    .col(string(Dataset::Origin))
                    .col(string(Dataset::Provider))
                    .col(string(Dataset::Title))
                    .col(text_null(Dataset::Description))
                    .col(string(Dataset::Access))
                    .col(integer(Dataset::Position))
                    .foreign_key(&mut project_fk(Dataset::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(Dataset::Table, &[Dataset::ProjectId, Dataset::Url])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(Dataset::Table, &[Dataset::Provider]).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Link::Table)
                    .col(big_pk_auto(Link::Id))
                    .col(big_integer(Link::ProjectId))
                    .col(string(Link::Url))
                    // FILE rows belong to the catalogue files (import may remove them),
                    // API rows to the people who added them.
                    .col(string(Link::Origin))
                    .col(string(Link::Kind))
                    .col(string(Link::Title))
                    .col(string(Link::Access))
                    .col(integer(Link::Position))
                    .foreign_key(&mut project_fk(Link::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(Link::Table, &[Link::ProjectId, Link::Url])
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectSource::Table)
                    .col(big_integer(ProjectSource::ProjectId))
                    .col(integer(ProjectSource::Position))
                    .col(string(ProjectSource::Title))
                    .col(string_null(ProjectSource::Url))
                    .primary_key(
                        Index::create()
                            .col(ProjectSource::ProjectId)
                            .col(ProjectSource::Position),
                    )
                    .foreign_key(&mut project_fk(ProjectSource::Table))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProjectSource::Table.into_iden(),
            Link::Table.into_iden(),
            Dataset::Table.into_iden(),
            Repository::Table.into_iden(),
            ProjectOrganization::Table.into_iden(),
            ProjectTag::Table.into_iden(),
            Tag::Table.into_iden(),
            ProjectSeason::Table.into_iden(),
            Project::Table.into_iden(),
            Organization::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn index_name<T: Iden>(table: &T, columns: &[T]) -> String {
    let mut name = format!("idx_{}", table.to_string());
    for column in columns {
        name.push('_');
        name.push_str(&column.to_string());
    }
    name
}

/// An index named after its table and columns, so `down` and humans can find it.
fn index<T: Iden + Copy + 'static>(table: T, columns: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(index_name(&table, columns)).table(table);
    for column in columns {
        index.col(*column);
    }
    index
}
