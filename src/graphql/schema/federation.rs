//! Apollo Federation v2: the gateway is a subgraph a supergraph can compose.
//! `Project` is an entity keyed by `id` and by `slug`, `Organization` by
//! `slug` and by `siret`; other subgraphs extend them. Entities are resolved
//! with the reader's visibility, like every other read.
//!
//! async-graphql calls an entity resolver once per representation, all of
//! them at once: each looks its entity up through the request's DataLoader,
//! so the representations of one request cost one statement per type and
//! key, and the fields under them are batched like a page's.

use async_graphql::{Context, ID, Object};

use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::ids::{NodeType, parse_global_id};
use crate::graphql::schema::loaders::{OrganizationBySiret, ProjectById};
use crate::graphql::schema::organization::{Organization, organization_by_slug};
use crate::graphql::schema::project::{Project, project_by_slug};

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_project_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Project>> {
        let (NodeType::Project, row_id) = parse_global_id(&id)? else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(ProjectById(row_id))
            .await
            .or_internal()?
            .map(Project))
    }

    #[graphql(entity)]
    async fn find_project_by_slug(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Option<Project>> {
        project_by_slug(ctx, &slug).await
    }

    #[graphql(entity)]
    async fn find_organization_by_slug(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Option<Organization>> {
        organization_by_slug(ctx, &slug).await
    }

    #[graphql(entity)]
    async fn find_organization_by_siret(
        &self,
        ctx: &Context<'_>,
        siret: String,
    ) -> async_graphql::Result<Option<Organization>> {
        Ok(loader(ctx)?
            .load_one(OrganizationBySiret(siret))
            .await
            .or_internal()?
            .map(Organization))
    }
}
