//! What queries return: rows read back into the catalogue's own types.

use chrono::{DateTime, Utc};

use super::StoreError;
use super::entities::{dataset, link, organization, project, project_use, repository};
use super::rows::record;
use crate::catalogue::{
    Access, Confidence, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole,
    ProjectStatus, RepositoryRole, UseKind, UseSource,
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

record! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct ProjectRecord in project {
        id: i64 = Id,
        slug: String = Slug,
        name: String = Name,
        sort_key: String = SortKey,
        summary: String = Summary,
        description: String = Description,
        status: Option<ProjectStatus> = Status,
        website: Option<String> = Website,
        documentation: Option<String> = Documentation,
        visibility: Access = Visibility,
        created_at: DateTime<Utc> = CreatedAt,
        updated_at: DateTime<Utc> = UpdatedAt,
        version: i64 = Version,
        used_by: i64 = UsedBy,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct OrganizationRecord in organization {
        id: i64 = Id,
        slug: String = Slug,
        name: String = Name,
        sort_key: String = SortKey,
        kind: OrganizationKind = Kind,
        verified: bool = Verified,
    }
    optional {
        ACRONYM => acronym: Option<String> = Acronym,
        SIRET => siret: Option<String> = Siret,
        SIREN => siren: Option<String> = Siren,
        WEBSITE => website: Option<String> = Website,
    }
}

/// An organization's part in a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipationRecord {
    pub role: ParticipationRole,
    pub confidence: Confidence,
    pub note: Option<String>,
    pub organization: OrganizationRecord,
}

record! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct RepositoryRecord in repository {
        id: i64 = Id,
        project_id: i64 = ProjectId,
        url: String = Url,
        forge: Forge = Forge,
        role: RepositoryRole = Role,
        access: Access = Access,
        confidence: Confidence = Confidence,
        note: Option<String> = Note,
    }
    optional {
        OWNER => owner: Option<String> = Owner,
        NAME => name: Option<String> = Name,
        LANGUAGE => language: Option<String> = Language,
        LICENSE => license: Option<String> = License,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct DatasetRecord in dataset {
        id: i64 = Id,
        project_id: i64 = ProjectId,
        url: String = Url,
        provider: DataProvider = Provider,
        title: String = Title,
        description: Option<String> = Description,
        access: Access = Access,
        confidence: Confidence = Confidence,
        note: Option<String> = Note,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct LinkRecord in link {
        id: i64 = Id,
        project_id: i64 = ProjectId,
        url: String = Url,
        kind: LinkKind = Kind,
        title: String = Title,
        access: Access = Access,
        confidence: Confidence = Confidence,
        note: Option<String> = Note,
    }
}

record! {
    /// An organization's use of a project (or of one of its repositories or datasets).
    #[derive(Debug, Clone, PartialEq)]
    pub struct UseRecord in project_use {
        id: i64 = Id,
        project_id: i64 = ProjectId,
        repository_id: Option<i64> = RepositoryId,
        dataset_id: Option<i64> = DatasetId,
        organization_id: Option<i64> = OrganizationId,
        organization_name: String = OrganizationName,
        kind: UseKind = Kind,
        instance_url: Option<String> = InstanceUrl,
        since: Option<String> = Since,
        comment: Option<String> = Comment,
        source: UseSource = Source,
        source_url: Option<String> = SourceUrl,
        declared_by_email: Option<String> = DeclaredByEmail,
        created_at: DateTime<Utc> = CreatedAt,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub title: String,
    pub url: Option<String>,
    /// `YYYY-MM-DD`, for a page not pinned to a commit.
    pub date: Option<String>,
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

#[cfg(test)]
mod tests {
    use sea_orm::IdenStatic;

    use super::*;
    use crate::store::rows::ReadRecord;

    /// The names of `R`'s columns, in the order `read` reads them.
    fn column_names<R: ReadRecord>() -> Vec<&'static str> {
        R::COLUMNS.iter().map(|column| column.as_str()).collect()
    }

    /// A field declared with another field's column (`siret: … = Siren`)
    /// would read that column's value.
    #[test]
    fn each_field_reads_the_column_of_its_name() {
        assert_eq!(column_names::<ProjectRecord>(), ProjectRecord::FIELDS);
        assert_eq!(
            column_names::<OrganizationRecord>(),
            OrganizationRecord::FIELDS
        );
        assert_eq!(column_names::<RepositoryRecord>(), RepositoryRecord::FIELDS);
        assert_eq!(column_names::<DatasetRecord>(), DatasetRecord::FIELDS);
        assert_eq!(column_names::<LinkRecord>(), LinkRecord::FIELDS);
        assert_eq!(column_names::<UseRecord>(), UseRecord::FIELDS);
    }
}
