//! The Relay `Node` interface: any object with a global id can be fetched back by it.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface, Object};

use crate::graphql::execution::context::{audience, store};
use crate::graphql::execution::errors::{OrInternal, bad_input};
use crate::graphql::schema::ids::{NodeType, parse_global_id};
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::paging::MAX_PAGE_SIZE;
use crate::graphql::schema::project::Project;

/// An object with a global id.
#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id, accepted by `node(id:)`."))]
pub enum Node {
    Project(Project),
    Organization(Organization),
    Repository(Repository),
    Dataset(Dataset),
    Link(Link),
}

/// The objects behind `ids` that the caller may see: one query per type asked for.
async fn fetch(
    ctx: &Context<'_>,
    ids: &[(NodeType, i64)],
) -> async_graphql::Result<HashMap<(NodeType, i64), Node>> {
    let store = store(ctx)?;
    let audience = audience(ctx);
    let rows_of = |wanted: NodeType| -> Vec<i64> {
        ids.iter()
            .filter(|(t, _)| *t == wanted)
            .map(|(_, row)| *row)
            .collect()
    };
    let mut found = HashMap::new();
    for node_type in [
        NodeType::Project,
        NodeType::Organization,
        NodeType::Repository,
        NodeType::Dataset,
        NodeType::Link,
    ] {
        let rows = rows_of(node_type);
        if rows.is_empty() {
            continue;
        }
        let nodes: Vec<(i64, Node)> = match node_type {
            NodeType::Project => store
                .projects_by_ids(&rows, audience)
                .await
                .or_internal()?
                .into_iter()
                .map(|r| (r.id, Node::Project(Project(r))))
                .collect(),
            NodeType::Organization => store
                .organizations_by_ids(&rows)
                .await
                .or_internal()?
                .into_iter()
                .map(|r| (r.id, Node::Organization(Organization(r))))
                .collect(),
            NodeType::Repository => store
                .repositories_by_ids(&rows, audience)
                .await
                .or_internal()?
                .into_iter()
                .map(|r| (r.id, Node::Repository(Repository(r))))
                .collect(),
            NodeType::Dataset => store
                .datasets_by_ids(&rows, audience)
                .await
                .or_internal()?
                .into_iter()
                .map(|r| (r.id, Node::Dataset(Dataset(r))))
                .collect(),
            NodeType::Link => store
                .links_by_ids(&rows, audience)
                .await
                .or_internal()?
                .into_iter()
                .map(|r| (r.id, Node::Link(Link(r))))
                .collect(),
            NodeType::Use => Vec::new(),
            // Not a node: read by its owner through `webhooks` only.
            NodeType::Webhook => Vec::new(),
        };
        found.extend(
            nodes
                .into_iter()
                .map(|(row, node)| ((node_type, row), node)),
        );
    }
    Ok(found)
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id; null when there is none (or the caller may not see it).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let key = parse_global_id(&id)?;
        Ok(fetch(ctx, &[key]).await?.remove(&key))
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
        let keys = ids
            .iter()
            .map(parse_global_id)
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let found = fetch(ctx, &keys).await?;
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }
}
