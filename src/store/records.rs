//! What queries return: rows read back into the catalogue's own types.

use chrono::{DateTime, Utc};

use super::StoreError;
use super::entities::{dataset, link, organization, project, repository};
use super::rows::{Columns, ReadRecord, RowReader};
use crate::catalogue::{
    Access, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole, ProjectStatus,
    RepositoryRole,
};

/// Reads a vocabulary value back from its database spelling.
pub(super) fn decode<T>(
    column: &'static str,
    value: &str,
    from_db: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    from_db(value).ok_or_else(|| StoreError::Unreadable {
        column,
        value: value.to_owned(),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub sort_key: String,
    pub summary: String,
    pub description: String,
    pub status: Option<ProjectStatus>,
    pub website: Option<String>,
    pub documentation: Option<String>,
    pub visibility: Access,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<project::Model> for ProjectRecord {
    type Error = StoreError;
    fn try_from(row: project::Model) -> Result<Self, StoreError> {
        Ok(Self {
            status: row
                .status
                .as_deref()
                .map(|s| decode("project.status", s, ProjectStatus::from_db))
                .transpose()?,
            visibility: decode("project.visibility", &row.visibility, Access::from_db)?,
            id: row.id,
            slug: row.slug,
            name: row.name,
            sort_key: row.sort_key,
            summary: row.summary,
            description: row.description,
            website: row.website,
            documentation: row.documentation,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

impl ReadRecord for ProjectRecord {
    type Column = project::Column;
    const COLUMNS: &'static [project::Column] = {
        use project::Column::*;
        &[
            Id,
            Slug,
            Name,
            SortKey,
            Summary,
            Description,
            Status,
            Website,
            Documentation,
            Visibility,
            CreatedAt,
            UpdatedAt,
            Version,
        ]
    };
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.integer("project.id")?,
            slug: row.text("project.slug")?,
            name: row.text("project.name")?,
            sort_key: row.text("project.sort_key")?,
            summary: row.text("project.summary")?,
            description: row.text("project.description")?,
            status: row.optional_word("project.status", ProjectStatus::from_db)?,
            website: row.optional_text()?,
            documentation: row.optional_text()?,
            visibility: row.word("project.visibility", Access::from_db)?,
            created_at: row.time("project.created_at")?,
            updated_at: row.time("project.updated_at")?,
            version: row.integer("project.version")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub sort_key: String,
    pub acronym: Option<String>,
    pub kind: OrganizationKind,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub website: Option<String>,
}

impl ReadRecord for OrganizationRecord {
    type Column = organization::Column;
    const COLUMNS: &'static [organization::Column] = {
        use organization::Column::*;
        &[
            Id, Slug, Name, SortKey, Kind, Acronym, Siret, Siren, Website,
        ]
    };
    const OPTIONAL: usize = 4;
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.integer("organization.id")?,
            slug: row.text("organization.slug")?,
            name: row.text("organization.name")?,
            sort_key: row.text("organization.sort_key")?,
            kind: row.word("organization.kind", OrganizationKind::from_db)?,
            acronym: row.optional_text()?,
            siret: row.optional_text()?,
            siren: row.optional_text()?,
            website: row.optional_text()?,
        })
    }
}

/// The optional columns of an organization, to read only those a question shows.
impl OrganizationRecord {
    pub const ACRONYM: Columns<Self> = Columns::optional(0);
    pub const SIRET: Columns<Self> = Columns::optional(1);
    pub const SIREN: Columns<Self> = Columns::optional(2);
    pub const WEBSITE: Columns<Self> = Columns::optional(3);
}

/// An organization's part in a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipationRecord {
    pub role: ParticipationRole,
    pub organization: OrganizationRecord,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryRecord {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub forge: Forge,
    pub owner: Option<String>,
    pub name: Option<String>,
    pub role: RepositoryRole,
    pub language: Option<String>,
    pub license: Option<String>,
    pub access: Access,
}

impl TryFrom<repository::Model> for RepositoryRecord {
    type Error = StoreError;
    fn try_from(row: repository::Model) -> Result<Self, StoreError> {
        Ok(Self {
            forge: decode("repository.forge", &row.forge, Forge::from_db)?,
            role: decode("repository.role", &row.role, RepositoryRole::from_db)?,
            access: decode("repository.access", &row.access, Access::from_db)?,
            id: row.id,
            project_id: row.project_id,
            url: row.url,
            owner: row.owner,
            name: row.name,
            language: row.language,
            license: row.license,
        })
    }
}

impl ReadRecord for RepositoryRecord {
    type Column = repository::Column;
    const COLUMNS: &'static [repository::Column] = {
        use repository::Column::*;
        &[
            Id, ProjectId, Url, Forge, Role, Access, Owner, Name, Language, License,
        ]
    };
    const OPTIONAL: usize = 4;
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.integer("repository.id")?,
            project_id: row.integer("repository.project_id")?,
            url: row.text("repository.url")?,
            forge: row.word("repository.forge", Forge::from_db)?,
            role: row.word("repository.role", RepositoryRole::from_db)?,
            access: row.word("repository.access", Access::from_db)?,
            owner: row.optional_text()?,
            name: row.optional_text()?,
            language: row.optional_text()?,
            license: row.optional_text()?,
        })
    }
}

/// The optional columns of a repository, to read only those a question shows.
impl RepositoryRecord {
    pub const OWNER: Columns<Self> = Columns::optional(0);
    pub const NAME: Columns<Self> = Columns::optional(1);
    pub const LANGUAGE: Columns<Self> = Columns::optional(2);
    pub const LICENSE: Columns<Self> = Columns::optional(3);
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRecord {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub provider: DataProvider,
    pub title: String,
    pub description: Option<String>,
    pub access: Access,
}

impl TryFrom<dataset::Model> for DatasetRecord {
    type Error = StoreError;
    fn try_from(row: dataset::Model) -> Result<Self, StoreError> {
        Ok(Self {
            provider: decode("dataset.provider", &row.provider, DataProvider::from_db)?,
            access: decode("dataset.access", &row.access, Access::from_db)?,
            id: row.id,
            project_id: row.project_id,
            url: row.url,
            title: row.title,
            description: row.description,
        })
    }
}

impl ReadRecord for DatasetRecord {
    type Column = dataset::Column;
    const COLUMNS: &'static [dataset::Column] = {
        use dataset::Column::*;
        &[Id, ProjectId, Url, Provider, Title, Description, Access]
    };
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.integer("dataset.id")?,
            project_id: row.integer("dataset.project_id")?,
            url: row.text("dataset.url")?,
            provider: row.word("dataset.provider", DataProvider::from_db)?,
            title: row.text("dataset.title")?,
            description: row.optional_text()?,
            access: row.word("dataset.access", Access::from_db)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub kind: LinkKind,
    pub title: String,
    pub access: Access,
}

impl TryFrom<link::Model> for LinkRecord {
    type Error = StoreError;
    fn try_from(row: link::Model) -> Result<Self, StoreError> {
        Ok(Self {
            kind: decode("link.kind", &row.kind, LinkKind::from_db)?,
            access: decode("link.access", &row.access, Access::from_db)?,
            id: row.id,
            project_id: row.project_id,
            url: row.url,
            title: row.title,
        })
    }
}

impl ReadRecord for LinkRecord {
    type Column = link::Column;
    const COLUMNS: &'static [link::Column] = {
        use link::Column::*;
        &[Id, ProjectId, Url, Kind, Title, Access]
    };
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.integer("link.id")?,
            project_id: row.integer("link.project_id")?,
            url: row.text("link.url")?,
            kind: row.word("link.kind", LinkKind::from_db)?,
            title: row.text("link.title")?,
            access: row.word("link.access", Access::from_db)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TagRecord {
    pub slug: String,
    pub label: String,
}

/// A tag and how many projects the reader may see carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct TagCount {
    pub tag: TagRecord,
    pub projects: i64,
}

/// Converts every row, stopping at the first unreadable one.
pub(super) fn convert_all<M, R: TryFrom<M, Error = StoreError>>(
    rows: Vec<M>,
) -> Result<Vec<R>, StoreError> {
    rows.into_iter().map(R::try_from).collect()
}
