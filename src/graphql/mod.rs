//! The GraphQL API: schema root, one file per type, DataLoaders, paging, errors.

mod context;
mod errors;
mod ids;
mod links;
mod loaders;
mod me;
mod node;
mod organization;
mod paging;
mod project;

use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema};

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
);

pub type CatalogueSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The one schema builder: serve, the tests and `catalogue-gateway schema` all use it.
pub fn build_schema(store: Option<Store>) -> CatalogueSchema {
    let mut builder = Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .extension(errors::ErrorCodes);
    if let Some(store) = store {
        builder = builder.data(store);
    }
    builder.finish()
}
