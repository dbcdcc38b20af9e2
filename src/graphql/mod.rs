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

pub type CatalogueSchema = Schema<Query, mutations::Mutation, EmptySubscription>;

/// The one schema builder: serve, the tests and `catalogue-gateway schema` all use it.
pub fn build_schema(store: Option<Store>) -> CatalogueSchema {
    let mut builder = Schema::build(Query::default(), mutations::Mutation, EmptySubscription)
        .extension(errors::ErrorCodes);
    if let Some(store) = store {
        builder = builder.data(store);
    }
    builder.finish()
}
