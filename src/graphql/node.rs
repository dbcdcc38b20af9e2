//! The Relay `Node` interface: any object with a global id can be fetched back by it.

use async_graphql::{Context, ID, Interface, Object};

use super::context::{audience, store};
use super::errors::{OrInternal, bad_input};
use super::ids::{NodeType, parse_global_id};
use super::links::{Dataset, Link, Repository};
use super::organization::Organization;
use super::paging::MAX_PAGE_SIZE;
use super::project::Project;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id, accepted by `node(id:)`."))]
pub enum Node {
    Project(Project),
    Organization(Organization),
    Repository(Repository),
    Dataset(Dataset),
    Link(Link),
}

async fn fetch(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let (node_type, row) = parse_global_id(id)?;
    let store = store(ctx)?;
    let audience = audience(ctx);
    let ids = [row];
    Ok(match node_type {
        NodeType::Project => store
            .projects_by_ids(&ids, audience)
            .await
            .or_internal()?
            .pop()
            .map(|r| Node::Project(Project(r))),
        NodeType::Organization => store
            .organizations_by_ids(&ids)
            .await
            .or_internal()?
            .pop()
            .map(|r| Node::Organization(Organization(r))),
        NodeType::Repository => store
            .repositories_by_ids(&ids, audience)
            .await
            .or_internal()?
            .pop()
            .map(|r| Node::Repository(Repository(r))),
        NodeType::Dataset => store
            .datasets_by_ids(&ids, audience)
            .await
            .or_internal()?
            .pop()
            .map(|r| Node::Dataset(Dataset(r))),
        NodeType::Link => store
            .links_by_ids(&ids, audience)
            .await
            .or_internal()?
            .pop()
            .map(|r| Node::Link(Link(r))),
    })
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id; null when there is none (or the caller may not see it).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        fetch(ctx, &id).await
    }

    /// The objects with these global ids, in the same order (at most 100).
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > usize::try_from(MAX_PAGE_SIZE).unwrap_or_default() {
            return Err(bad_input(format!(
                "ask for at most {MAX_PAGE_SIZE} ids at once"
            )));
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            nodes.push(fetch(ctx, id).await?);
        }
        Ok(nodes)
    }
}
