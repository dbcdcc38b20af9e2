//! Code and data links (`Repository`, `Dataset`), other links (`Link`), and
//! the cross-project lists agents looking for reusable code and data start from.

use async_graphql::{Context, ID, InputObject, Object};

use chrono::{DateTime, Utc};

use crate::catalogue;
use crate::facts::{DatasetFacts, PackageFacts, RepositoryFacts, checks_dataset, checks_link};
use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::plain::connection::PlainConnection;
use crate::graphql::plain::{plain_enum, plain_fields};
use crate::graphql::schema::enums::{
    Access, Confidence, DataProvider, Forge, LinkKind, RepositoryRole,
};
use crate::graphql::schema::harvest::{
    DatasetResource, Harvest, PackageRelease, Release, facts_of, harvest_of,
};
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::link_checks::{LinkCheck, check_of};
use crate::graphql::schema::loaders::{ProjectById, UsesOfDataset, UsesOfRepository, children};
use crate::graphql::schema::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use crate::graphql::schema::project::Project;
use crate::graphql::schema::uses::{Use, UsedByCount};
use crate::store::{
    DatasetFilter, DatasetRecord, LinkRecord, RepositoryFilter, RepositoryRecord, SortValue,
};

const REPOSITORY_ORDERING: &str = "repositories:id";
const DATASET_ORDERING: &str = "datasets:id";

async fn project_of(ctx: &Context<'_>, project_id: i64) -> async_graphql::Result<Option<Project>> {
    Ok(loader(ctx)?
        .load_one(ProjectById(project_id))
        .await
        .or_internal()?
        .map(Project))
}

#[derive(Clone)]
pub struct Repository(pub RepositoryRecord);

impl Repository {
    pub(crate) fn subject(&self) -> String {
        format!("repository:{}", self.0.id)
    }

    async fn upstream(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RepositoryFacts>> {
        facts_of(ctx, self.subject()).await
    }
}

/// A code repository of a project.
#[Object]
impl Repository {
    /// Global id (Relay `Node`).
    pub async fn id(&self) -> ID {
        global_id(NodeType::Repository, self.0.id)
    }

    /// Where to browse the code.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The forge hosting it.
    async fn forge(&self) -> Forge {
        self.0.forge.into()
    }

    /// The account or group owning it on its forge (GitLab groups may nest: `a/b`).
    async fn owner(&self) -> Option<&str> {
        self.0.owner.as_deref()
    }

    /// Its name on its forge.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// What it is to its project: main code, mirror, companion, predecessor.
    async fn role(&self) -> RepositoryRole {
        self.0.role.into()
    }

    /// Main programming language: the catalogue's, else the forge's.
    async fn language(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(language) = &self.0.language {
            return Ok(Some(language.clone()));
        }
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.language))
    }

    /// Licence as an SPDX identifier (e.g. `EUPL-1.2`): the catalogue's, else the forge's.
    async fn license(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if let Some(license) = &self.0.license {
            return Ok(Some(license.clone()));
        }
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.license))
    }

    /// Who may read this link.
    async fn access(&self) -> Access {
        self.0.access.into()
    }

    /// The organizations that use this one in particular (declared or harvested).
    #[graphql(complexity = "10 * child_complexity")]
    async fn uses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Use>> {
        let uses = children(ctx, UsesOfRepository(self.0.id)).await?;
        Ok(uses.into_iter().map(Use).collect())
    }

    /// How many organizations use this one in particular, in all and by kind.
    async fn used_by_count(&self, ctx: &Context<'_>) -> async_graphql::Result<UsedByCount> {
        Ok(UsedByCount::of(
            &children(ctx, UsesOfRepository(self.0.id)).await?,
        ))
    }

    /// How sure the catalogue is of this link.
    async fn confidence(&self) -> Confidence {
        self.0.confidence.into()
    }

    /// Why the catalogue is unsure of this link, or any other remark on it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The forge's description of the repository (harvested).
    async fn upstream_description(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<String>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.description))
    }

    /// The forge's topics (harvested).
    async fn topics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self
            .upstream(ctx)
            .await?
            .map(|facts| facts.topics)
            .unwrap_or_default())
    }

    /// Stars on the forge (harvested).
    async fn stars(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.stars))
    }

    /// Forks on the forge (harvested).
    async fn forks(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.forks))
    }

    /// Open issues on the forge (harvested).
    async fn open_issues(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.open_issues))
    }

    /// The default branch (harvested).
    async fn default_branch(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.default_branch))
    }

    /// Whether the forge marks the repository archived (harvested; null before any harvest).
    async fn archived(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        Ok(self.upstream(ctx).await?.map(|facts| facts.archived))
    }

    /// Last push (GitHub) or activity (GitLab) (harvested).
    async fn last_activity_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.last_activity_at))
    }

    /// The latest release (harvested).
    async fn latest_release(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Release>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.latest_release)
            .map(Release::from))
    }

    /// How the last harvest went; null before the first.
    async fn harvest(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Harvest>> {
        Ok(harvest_of(ctx, self.subject())
            .await?
            .as_ref()
            .map(Harvest::of))
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

plain_fields!(
    Repository,
    columns of RepositoryRecord,
    // Not plain: their resolvers fall back to the forge's facts when the
    // column is empty.
    resolved { "language" reads LANGUAGE, "license" reads LICENSE },
    |repository| {
        "id" => global_id(NodeType::Repository, repository.0.id).0,
        "url" => repository.0.url.as_str(),
        "forge" => plain_enum(repository.0.forge),
        "owner" reads OWNER => repository.0.owner.as_deref(),
        "name" reads NAME => repository.0.name.as_deref(),
        "role" => plain_enum(repository.0.role),
        "access" => plain_enum(repository.0.access),
        "confidence" => plain_enum(repository.0.confidence),
        "note" => repository.0.note.as_deref(),
    }
);

#[derive(Clone)]
pub struct Dataset(pub DatasetRecord);

impl Dataset {
    fn subject(&self) -> String {
        format!("dataset:{}", self.0.id)
    }

    async fn upstream(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DatasetFacts>> {
        facts_of(ctx, self.subject()).await
    }
}

/// A dataset of a project.
#[Object]
impl Dataset {
    /// Global id (Relay `Node`).
    pub async fn id(&self) -> ID {
        global_id(NodeType::Dataset, self.0.id)
    }

    /// Where to find the data.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// Who serves it.
    async fn provider(&self) -> DataProvider {
        self.0.provider.into()
    }

    /// What the data is.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// More about the data, when the catalogue says more.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Who may read this link.
    async fn access(&self) -> Access {
        self.0.access.into()
    }

    /// The organizations that use this one in particular (declared or harvested).
    #[graphql(complexity = "10 * child_complexity")]
    async fn uses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Use>> {
        let uses = children(ctx, UsesOfDataset(self.0.id)).await?;
        Ok(uses.into_iter().map(Use).collect())
    }

    /// How many organizations use this one in particular, in all and by kind.
    async fn used_by_count(&self, ctx: &Context<'_>) -> async_graphql::Result<UsedByCount> {
        Ok(UsedByCount::of(
            &children(ctx, UsesOfDataset(self.0.id)).await?,
        ))
    }

    /// How sure the catalogue is of this link.
    async fn confidence(&self) -> Confidence {
        self.0.confidence.into()
    }

    /// Why the catalogue is unsure of this link, or any other remark on it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The portal's licence identifier (harvested; e.g. `lov2`).
    async fn license(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.license))
    }

    /// The organization that publishes it on the portal (harvested).
    async fn publisher(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self
            .upstream(ctx)
            .await?
            .and_then(|facts| facts.organization))
    }

    /// When the portal says it was last updated (harvested).
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(self.upstream(ctx).await?.and_then(|facts| facts.updated_at))
    }

    /// Its files, as the portal lists them (harvested).
    async fn resources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DatasetResource>> {
        Ok(self
            .upstream(ctx)
            .await?
            .map(|facts| {
                facts
                    .resources
                    .into_iter()
                    .map(DatasetResource::from)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// How the last harvest went; null before the first.
    async fn harvest(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Harvest>> {
        Ok(harvest_of(ctx, self.subject())
            .await?
            .as_ref()
            .map(Harvest::of))
    }

    /// Whether its URL still answers (status UNCHECKED before the first
    /// check); null for data.gouv.fr datasets, which the harvest asks the
    /// portal about instead.
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LinkCheck>> {
        if !checks_dataset(self.0.provider) {
            return Ok(None);
        }
        Ok(Some(check_of(ctx, &self.0.url).await?))
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

plain_fields!(Dataset, |dataset| {
    "id" => global_id(NodeType::Dataset, dataset.0.id).0,
    "url" => dataset.0.url.as_str(),
    "provider" => plain_enum(dataset.0.provider),
    "title" => dataset.0.title.as_str(),
    "description" => dataset.0.description.as_deref(),
    "access" => plain_enum(dataset.0.access),
    "confidence" => plain_enum(dataset.0.confidence),
    "note" => dataset.0.note.as_deref(),
});

#[derive(Clone)]
pub struct Link(pub LinkRecord);

impl Link {
    fn subject(&self) -> String {
        format!("link:{}", self.0.id)
    }
}

/// Another link of a project: documentation, demo, package, video, …
#[Object]
impl Link {
    /// Global id (Relay `Node`).
    pub async fn id(&self) -> ID {
        global_id(NodeType::Link, self.0.id)
    }

    /// Where it points.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What it points to.
    async fn kind(&self) -> LinkKind {
        self.0.kind.into()
    }

    /// What to call it.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Who may read this link.
    async fn access(&self) -> Access {
        self.0.access.into()
    }

    /// How sure the catalogue is of this link.
    async fn confidence(&self) -> Confidence {
        self.0.confidence.into()
    }

    /// Why the catalogue is unsure of this link, or any other remark on it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// For a package: its latest release, as its registry lists it (harvested).
    async fn package(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PackageRelease>> {
        if self.0.kind != catalogue::LinkKind::Package {
            return Ok(None);
        }
        Ok(facts_of::<PackageFacts>(ctx, self.subject())
            .await?
            .map(PackageRelease::from))
    }

    /// How the last harvest went; null before the first (and for links no
    /// upstream service describes).
    async fn harvest(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Harvest>> {
        Ok(harvest_of(ctx, self.subject())
            .await?
            .as_ref()
            .map(Harvest::of))
    }

    /// Whether its URL still answers (status UNCHECKED before the first
    /// check); null for discussion rooms (Tchap's open only with an account).
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LinkCheck>> {
        if !checks_link(self.0.kind) {
            return Ok(None);
        }
        Ok(Some(check_of(ctx, &self.0.url).await?))
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

plain_fields!(Link, |link| {
    "id" => global_id(NodeType::Link, link.0.id).0,
    "url" => link.0.url.as_str(),
    "kind" => plain_enum(link.0.kind),
    "title" => link.0.title.as_str(),
    "access" => plain_enum(link.0.access),
    "confidence" => plain_enum(link.0.confidence),
    "note" => link.0.note.as_deref(),
});

/// Which repositories to list; every condition given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "RepositoryFilter")]
pub struct RepositoryFilterInput {
    /// Main language (case-insensitive), e.g. `Python`.
    language: Option<String>,
    /// The forge hosting the repository.
    forge: Option<Forge>,
    /// Slug of an organization taking part in the repository's project.
    organization: Option<String>,
    /// Slug of the repository's project.
    project: Option<String>,
}

/// Which datasets to list; every condition given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "DatasetFilter")]
pub struct DatasetFilterInput {
    /// Who serves the dataset.
    provider: Option<DataProvider>,
    /// Slug of an organization taking part in the dataset's project.
    organization: Option<String>,
    /// Slug of the dataset's project.
    project: Option<String>,
}

#[derive(Default)]
pub struct CodeAndDataQuery;

#[Object]
impl CodeAndDataQuery {
    /// Code repositories across all projects, in catalogue order, a page at a
    /// time (at most 100 per page).
    async fn repositories(
        &self,
        ctx: &Context<'_>,
        filter: Option<RepositoryFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Repository>> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(REPOSITORY_ORDERING, CursorKind::Id)?;
        let input = filter.unwrap_or_default();
        let filter = RepositoryFilter {
            language: input.language,
            forge: input.forge.map(Into::into),
            organization: input.organization,
            project: input.project,
        };
        let (rows, more) = loader(ctx)?
            .loader()
            .repository_page(&filter, &page)
            .await
            .or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(REPOSITORY_ORDERING, &SortValue::None, row.id),
                    Repository(row),
                )
            })
            .collect();
        Ok(PlainConnection(connection(
            &page,
            more,
            nodes,
            ListTotal::Repositories(filter),
        )))
    }

    /// Datasets across all projects, in catalogue order, a page at a time
    /// (at most 100 per page).
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        filter: Option<DatasetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Dataset>> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(DATASET_ORDERING, CursorKind::Id)?;
        let input = filter.unwrap_or_default();
        let filter = DatasetFilter {
            provider: input.provider.map(Into::into),
            organization: input.organization,
            project: input.project,
        };
        let (rows, more) = loader(ctx)?
            .loader()
            .dataset_page(&filter, &page)
            .await
            .or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(DATASET_ORDERING, &SortValue::None, row.id),
                    Dataset(row),
                )
            })
            .collect();
        Ok(PlainConnection(connection(
            &page,
            more,
            nodes,
            ListTotal::Datasets(filter),
        )))
    }
}
