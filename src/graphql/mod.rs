//! The GraphQL API: schema root, one file per type, DataLoaders, paging, errors.

mod audit;
mod context;
mod errors;
mod guards;
mod ids;
mod links;
mod loaders;
mod me;
mod mutations;
mod node;
mod organization;
mod paging;
mod project;

use async_graphql::{EmptySubscription, MergedObject, Schema};

pub use context::execute;
pub use errors::code;

use crate::store::Store;

/// The root of every read.
#[derive(MergedObject, Default)]
pub struct Query(
    project::ProjectQuery,
    organization::OrganizationQuery,
    links::CodeAndDataQuery,
    project::TagQuery,
    node::NodeQuery,
    me::MeQuery,
    audit::AuditQuery,
);

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 10;
/// Largest query cost accepted; lists that lead back up the graph count tenfold.
pub const MAX_COMPLEXITY: usize = 1000;

pub type CatalogueSchema = Schema<Query, mutations::Mutation, EmptySubscription>;

/// The one schema builder: serve, the tests and `catalogue-gateway schema` all use it.
pub fn build_schema(store: Option<Store>) -> CatalogueSchema {
    // Organizations and projects refer to each other: without these limits one
    // small query could ask for an exponential answer.
    let mut builder = Schema::build(Query::default(), mutations::Mutation, EmptySubscription)
        .extension(errors::ErrorCodes)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if let Some(store) = store {
        builder = builder.data(store);
    }
    builder.finish()
}
