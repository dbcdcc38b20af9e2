//! Documents parsed once: the same query text is parsed and checked against
//! the document limits the first time it comes, then taken from memory.
//!
//! Clients send the same few queries again and again; parsing one (pest)
//! cost 3.7 % of the instructions of an uncached 3-level list answer, and
//! more of a small query's (callgrind, docs/BENCHMARKS.md).

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use moka::future::Cache;

use super::errors::{code, with_code};
use super::key_order::merges_objects;
use super::limits::DocumentLimits;

/// At most this many bytes of query text are kept with their documents
/// (a document takes a few times its text's size).
const MAX_KEPT_QUERY_BYTES: u64 = 2 * 1024 * 1024;

/// The documents of the queries seen lately, each within the limits
/// (clones share them).
#[derive(Clone)]
pub struct Documents {
    limits: DocumentLimits,
    parsed: Cache<String, Arc<Parsed>>,
}

/// A document within the limits, with what is known of it before execution.
pub(super) struct Parsed {
    pub(super) document: ExecutableDocument,
    /// `key_order::merges_objects`: depends on the document alone, so it is
    /// found once rather than on every request.
    pub(super) merges_objects: bool,
}

/// A request whose document parsed and is within the limits.
pub struct Prepared {
    pub(super) request: async_graphql::Request,
    pub(super) parsed: Arc<Parsed>,
}

impl Documents {
    pub fn new(limits: DocumentLimits) -> Self {
        Self {
            limits,
            parsed: Cache::builder()
                .max_capacity(MAX_KEPT_QUERY_BYTES)
                .weigher(|query: &String, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// `request` with its document, or the error to answer (with its code):
    /// the document does not parse or exceeds a limit. Only documents that
    /// pass are kept.
    pub async fn prepare(
        &self,
        mut request: async_graphql::Request,
    ) -> Result<Prepared, ServerError> {
        let parsed = match self.parsed.get(&request.query).await {
            Some(parsed) => parsed,
            None => {
                let document = async_graphql::parser::parse_query(&request.query)
                    .map_err(|error| with_code(error.into(), code::GRAPHQL_PARSE_FAILED))?;
                self.limits.check(&document)?;
                let parsed = Arc::new(Parsed {
                    merges_objects: merges_objects(&document),
                    document,
                });
                self.parsed
                    .insert(request.query.clone(), Arc::clone(&parsed))
                    .await;
                parsed
            }
        };
        // The executor takes a document of its own.
        request.set_parsed_query(parsed.document.clone());
        Ok(Prepared { request, parsed })
    }
}

impl Prepared {
    /// Whether the operation that would run is a mutation.
    pub fn is_mutation(&self) -> bool {
        let is_mutation = |ty: OperationType| ty == OperationType::Mutation;
        match &self.parsed.document.operations {
            DocumentOperations::Single(operation) => is_mutation(operation.node.ty),
            DocumentOperations::Multiple(operations) => match &self.request.operation_name {
                Some(name) => operations
                    .get(name.as_str())
                    .is_some_and(|operation| is_mutation(operation.node.ty)),
                None => operations
                    .values()
                    .any(|operation| is_mutation(operation.node.ty)),
            },
        }
    }

    /// Adds `data` to what resolvers may read.
    pub fn data<D: std::any::Any + Send + Sync>(mut self, data: D) -> Self {
        self.request = self.request.data(data);
        self
    }
}
