//! Apollo Federation v2: the gateway is a subgraph a supergraph can compose.
//! `Project` is an entity keyed by `id` and by `slug`, `Organization` by
//! `slug` and by `siret`; other subgraphs extend them. Entities are resolved
//! with the reader's visibility, like every other read.

use async_graphql::{Context, ID, Object};

use super::context::{audience, store};
use super::errors::OrInternal;
use super::ids::{NodeType, parse_global_id};
use super::organization::{Organization, organization_by_slug};
use super::project::{Project, project_by_slug};

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
        Ok(store(ctx)?
            .projects_by_ids(&[row_id], audience(ctx))
            .await
            .or_internal()?
            .into_iter()
            .next()
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
        Ok(store(ctx)?
            .organization_by_siret(&siret)
            .await
            .or_internal()?
            .map(Organization))
    }
}
