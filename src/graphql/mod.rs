//! The GraphQL API: the schema's types (`schema`), how requests are executed
//! (`execution`), and the fast path that writes plain answers (`plain`).

mod execution;
mod plain;
mod schema;

use async_graphql::{MergedObject, Schema};

pub use execution::context::{execute, execute_stream};
pub use execution::documents::{Documents, Prepared};
pub use execution::errors::{code, refused_before_execution};
pub use execution::limits::DocumentLimits;
pub use plain::json::answer_body;
pub use plain::{PlainCounters, plain_fields_by_type};

use std::sync::Arc;

use crate::config::Limits;
use crate::search::SearchIndex;
use crate::store::Store;
pub(crate) use schema::changes::encode_position;
pub(crate) use schema::ids::{NodeType, global_id};
use schema::{
    audit, changes, federation, me, mutations, node, organization, project, search, webhooks,
};

/// The root of every read.
#[derive(MergedObject, Default)]
pub struct Query(
    project::ProjectQuery,
    organization::OrganizationQuery,
    schema::links::CodeAndDataQuery,
    project::TagQuery,
    node::NodeQuery,
    me::MeQuery,
    audit::AuditQuery,
    federation::EntityQuery,
    search::SearchQuery,
    changes::ChangesQuery,
    webhooks::WebhookQuery,
);

/// Every write: maintainers edit their projects, administrators everything;
/// anyone signed in registers webhooks. Each catalogue write runs in one
/// transaction and leaves an entry in `auditLog`.
#[derive(MergedObject, Default)]
pub struct Mutation(mutations::CatalogueMutation, webhooks::WebhookMutation);

pub type CatalogueSchema = Schema<Query, Mutation, changes::ChangesSubscription>;

/// The SDL of `schema` as `/schema.graphql` and `catalogue-gateway schema`
/// give it: with `@specifiedBy` on scalars that have a specification
/// (`DateTime`), as introspection says, so that code generated from the
/// file and from the live URL agree.
pub fn sdl(schema: &CatalogueSchema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// The one schema builder: serve, the tests and `catalogue-gateway schema` all use it.
pub fn build_schema(
    store: Option<Store>,
    search: Option<Arc<SearchIndex>>,
    limits: &Limits,
) -> CatalogueSchema {
    // Organizations and projects refer to each other: without these limits one
    // small query could ask for an exponential answer. (Lists that lead back up
    // the graph count tenfold in the complexity.) The depth is limited by
    // `DocumentLimits`, which leaves introspection's to the schema.
    // No extensions: `execute` checks the other limits (and the nesting,
    // under the same limit as the schema's) and gives errors their codes
    // (any extension would slow every field down).
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        changes::ChangesSubscription,
    )
    .enable_federation()
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(execution::limits::MAX_NESTING);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(store) = store {
        builder = builder.data(store);
    }
    if let Some(search) = search {
        builder = builder.data(search);
    }
    builder = builder.data(crate::store::UseBounds {
        per_agent: limits.uses_per_agent,
        per_organization: limits.uses_per_organization,
        unverified_organizations: limits.uses_unverified_organizations,
    });
    builder.finish()
}
