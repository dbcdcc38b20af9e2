//! Code and data links (`Repository`, `Dataset`), other links (`Link`), and
//! the cross-project lists agents looking for reusable code and data start from.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object};

use super::context::{audience, loader, store};
use super::errors::OrInternal;
use super::ids::{NodeType, global_id};
use super::loaders::ProjectById;
use super::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use super::project::Project;
use crate::catalogue::{Access, DataProvider, Forge, LinkKind, RepositoryRole};
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
        self.0.forge
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
        self.0.role
    }

    /// Main programming language, when known.
    async fn language(&self) -> Option<&str> {
        self.0.language.as_deref()
    }

    /// Licence as an SPDX identifier (e.g. `EUPL-1.2`), when known.
    async fn license(&self) -> Option<&str> {
        self.0.license.as_deref()
    }

    /// Who may read this link.
    async fn access(&self) -> Access {
        self.0.access
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

#[derive(Clone)]
pub struct Dataset(pub DatasetRecord);

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
        self.0.provider
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
        self.0.access
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

#[derive(Clone)]
pub struct Link(pub LinkRecord);

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
        self.0.kind
    }

    /// What to call it.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Who may read this link.
    async fn access(&self) -> Access {
        self.0.access
    }

    /// The project it belongs to.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        project_of(ctx, self.0.project_id).await
    }
}

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
    ) -> async_graphql::Result<Connection<String, Repository, ListTotal, EmptyFields>> {
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
            forge: input.forge,
            organization: input.organization,
            project: input.project,
        };
        let (rows, more) = store(ctx)?
            .repository_page(&filter, &page, audience(ctx))
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
        Ok(connection(
            &page,
            more,
            nodes,
            ListTotal::Repositories(filter),
        ))
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
    ) -> async_graphql::Result<Connection<String, Dataset, ListTotal, EmptyFields>> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(DATASET_ORDERING, CursorKind::Id)?;
        let input = filter.unwrap_or_default();
        let filter = DatasetFilter {
            provider: input.provider,
            organization: input.organization,
            project: input.project,
        };
        let (rows, more) = store(ctx)?
            .dataset_page(&filter, &page, audience(ctx))
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
        Ok(connection(&page, more, nodes, ListTotal::Datasets(filter)))
    }
}
