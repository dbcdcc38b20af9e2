//! The API's enums: each shows a vocabulary of the domain (`catalogue`,
//! `facts`) under the same name, with its descriptions. async-graphql's
//! `remote` derive converts both ways with exhaustive matches, so a variant
//! added on one side only does not compile.

use async_graphql::Enum;
use async_graphql::resolver_utils::EnumType;

use crate::{catalogue, facts, store};

/// A vocabulary of the domain and the GraphQL enum that shows it.
pub trait Shown: Copy {
    type Enum: EnumType + From<Self>;
}

/// The GraphQL name of `value`.
pub fn graphql_name<T: Shown>(value: T) -> Option<&'static str> {
    let shown = T::Enum::from(value);
    T::Enum::items()
        .iter()
        .find(|item| item.value == shown)
        .map(|item| item.name)
}

/// Who may read a project or a link.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::Access")]
pub enum Access {
    /// Anyone, without signing in.
    Public,
    /// Public agents signed in through ProConnect (or another trusted issuer).
    Agents,
}

/// Where a project stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::ProjectStatus")]
pub enum ProjectStatus {
    /// Being built or improved.
    Active,
    /// Delivered; kept available but no longer developed.
    Completed,
    /// Stopped; kept for reference.
    Archived,
}

/// How sure the catalogue is of a fact: an unsure one says why in its note.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::Confidence")]
pub enum Confidence {
    /// Read in a source the entry lists.
    Confirmed,
    /// Inferred or contradicted by another source; its note says why.
    Unsure,
}

/// What kind of public body an organization is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::OrganizationKind")]
pub enum OrganizationKind {
    /// A ministry.
    Ministry,
    /// A central or interministerial directorate (DINUM, INSEE, DITP, …).
    Directorate,
    /// A public agency or operator of the State (établissement public, …).
    Agency,
    /// An independent public authority.
    IndependentAuthority,
    /// A parliamentary assembly.
    Parliament,
    /// A deconcentrated State service (préfecture de région, DREAL, …).
    DeconcentratedService,
    /// Any other body.
    Other,
}

/// The part an organization plays in a project.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::ParticipationRole")]
pub enum ParticipationRole {
    /// Leads or funds the project.
    Sponsor,
    /// Contributes people or use cases.
    Contributor,
}

/// The forge that hosts a code repository.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::Forge")]
pub enum Forge {
    /// github.com.
    Github,
    /// gitlab.com or a self-hosted GitLab instance.
    Gitlab,
    /// Any other forge.
    Other,
}

/// What a repository is to its project.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::RepositoryRole")]
pub enum RepositoryRole {
    /// The project's own code.
    Main,
    /// A copy of the main repository kept in sync elsewhere.
    Mirror,
    /// A companion repository (client in another language, website, …).
    Companion,
    /// Code of an earlier project this one continues.
    Predecessor,
}

/// Who serves a dataset.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::DataProvider")]
pub enum DataProvider {
    /// The national open data portal, data.gouv.fr.
    DataGouv,
    /// An S3-compatible object store.
    ObjectStorage,
    /// A web API.
    Api,
    /// A file published at a URL.
    File,
    /// Anything else.
    Other,
}

/// What another link points to.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::LinkKind")]
pub enum LinkKind {
    /// The project's own website or page.
    Website,
    /// Documentation.
    Documentation,
    /// A running demonstration.
    Demo,
    /// A published package (PyPI, npm, …).
    Package,
    /// A container image.
    ContainerImage,
    /// A video.
    Video,
    /// Presentation slides.
    Slides,
    /// A discussion room (Tchap, …).
    Chat,
    /// A tool the project uses but does not develop.
    Tool,
    /// Anything else.
    Other,
}

/// How the last harvest of a link went.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "facts::HarvestStatus")]
pub enum HarvestStatus {
    /// The upstream service answered; its facts are current.
    Ok,
    /// The upstream service said nothing changed since the previous harvest.
    NotModified,
    /// The upstream service failed or could not be reached; the last good facts are kept.
    Error,
    /// The upstream service does not know the link.
    NotFound,
    /// The link's host is not one the harvest may ask (see the harvesting
    /// settings): nothing was fetched, and no facts are kept for it.
    NotAllowed,
}

/// What the last check of a URL found.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "facts::LinkCheckStatus")]
pub enum LinkCheckStatus {
    /// Not checked yet.
    Unchecked,
    /// It answered 2xx, directly or after temporary redirects.
    Ok,
    /// It answered 2xx after a permanent redirect (301, 308) from the URL
    /// itself: `finalUrl` says where it went, for the catalogue to follow.
    Moved,
    /// It answered 4xx or 5xx, or did not answer: no such host, connection
    /// refused, TLS failure, timeout, redirect loop, too many redirects.
    Broken,
    /// It, or a redirect, leads to an address the gateway does not connect
    /// to (private, loopback, …) or to a scheme other than http(s): nothing
    /// was asked there.
    NotAllowed,
}

/// How an organization uses a project.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::UseKind")]
pub enum UseKind {
    /// Runs or uses it.
    User,
    /// Contributes back to it.
    Contributor,
    /// Answers other administrations' questions about it.
    Referent,
    /// Runs an instance of it for others.
    Deploys,
}

/// Where the fact that an organization uses a project comes from.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "catalogue::UseSource")]
pub enum UseSource {
    /// Declared by one of the organization's agents, signed in.
    Declared,
    /// The `usedBy` list of the project's `publiccode.yml`.
    Publiccode,
    /// A reuse, on data.gouv.fr, of one of the project's datasets.
    DatagouvReuse,
    /// A catalogue file.
    Catalogue,
}

/// What happened to a change's subject.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "store::ChangeKind")]
pub enum ChangeKind {
    /// A project entered the catalogue.
    ProjectCreated,
    /// A project's own fields, or the things it lists, changed.
    ProjectUpdated,
    /// A project's status became archived.
    ProjectArchived,
    /// A code, data or other link was added to a project.
    LinkAdded,
    /// A code, data or other link was removed from a project.
    LinkRemoved,
    /// A harvest or a link check changed what is known about a project's links.
    FactsChanged,
    /// An organization entered the catalogue.
    OrganizationCreated,
    /// An organization's fields changed.
    OrganizationUpdated,
    /// An agent declared that their organization uses a project.
    UseDeclared,
    /// A declared use was withdrawn.
    UseWithdrawn,
}

/// A field of a project or an organization that a change touched, named
/// after the field of `Project` or `Organization`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "store::ChangedField")]
pub enum ChangedField {
    /// `name`.
    Name,
    /// `Organization.acronym`.
    Acronym,
    /// `Organization.kind`.
    Kind,
    /// `Organization.siret`.
    Siret,
    /// `Organization.siren`.
    Siren,
    /// `Project.summary`.
    Summary,
    /// `Project.description`.
    Description,
    /// `Project.status`.
    Status,
    /// `website`.
    Website,
    /// `Project.documentation`.
    Documentation,
    /// `Project.visibility`.
    Visibility,
    /// `Project.seasons`.
    Seasons,
    /// `Project.tags`.
    Tags,
    /// `Project.organizations`.
    Organizations,
    /// `sources`.
    Sources,
    /// `Project.repositories`.
    Repositories,
    /// `Project.datasets`.
    Datasets,
    /// `Project.links`.
    Links,
    /// `Project.maintainers`.
    Maintainers,
    /// What upstream services say about the project's links.
    Facts,
    /// The last checks of the project's URLs.
    LinkChecks,
    /// Which organizations use the project, or what an organization uses.
    Uses,
    /// Whether an administrator confirmed an organization.
    Verified,
}

macro_rules! shown {
    ($($domain:ident :: $name:ident),+ $(,)?) => {
        $(impl Shown for $domain::$name {
            type Enum = $name;
        })+
    };
}

shown!(
    catalogue::Access,
    catalogue::ProjectStatus,
    catalogue::Confidence,
    catalogue::OrganizationKind,
    catalogue::ParticipationRole,
    catalogue::Forge,
    catalogue::RepositoryRole,
    catalogue::DataProvider,
    catalogue::LinkKind,
    catalogue::UseKind,
    catalogue::UseSource,
    facts::HarvestStatus,
    facts::LinkCheckStatus,
    store::ChangeKind,
    store::ChangedField,
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's names are the database spellings: search filters and
    /// facets pass from one to the other.
    fn names_are_database_spellings<T: Shown>(as_db: fn(T) -> &'static str)
    where
        T::Enum: Into<T>,
    {
        for item in T::Enum::items() {
            let value: T = item.value.into();
            assert_eq!(as_db(value), item.name);
            assert_eq!(graphql_name(value), Some(item.name));
        }
    }

    #[test]
    fn every_enum_is_named_as_its_database_spelling() {
        names_are_database_spellings(catalogue::Access::as_db);
        names_are_database_spellings(catalogue::ProjectStatus::as_db);
        names_are_database_spellings(catalogue::Confidence::as_db);
        names_are_database_spellings(catalogue::OrganizationKind::as_db);
        names_are_database_spellings(catalogue::ParticipationRole::as_db);
        names_are_database_spellings(catalogue::Forge::as_db);
        names_are_database_spellings(catalogue::RepositoryRole::as_db);
        names_are_database_spellings(catalogue::DataProvider::as_db);
        names_are_database_spellings(catalogue::LinkKind::as_db);
        names_are_database_spellings(catalogue::UseKind::as_db);
        names_are_database_spellings(catalogue::UseSource::as_db);
        names_are_database_spellings(facts::HarvestStatus::as_db);
        names_are_database_spellings(facts::LinkCheckStatus::as_db);
        names_are_database_spellings(store::ChangeKind::as_db);
        names_are_database_spellings(store::ChangedField::as_db);
    }
}
