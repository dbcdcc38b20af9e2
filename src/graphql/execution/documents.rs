//! Documents parsed once: the same query text is parsed and checked against
//! the document limits the first time it comes, then taken from memory.
//!
//! Clients send the same few queries again and again; parsing one (pest)
//! cost 3.7 % of the instructions of an uncached 3-level list answer, and
//! more of a small query's (callgrind, docs/decisions/0002-kept-documents.md).

use std::sync::Arc;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Positioned, ServerError};
use async_graphql_value::{ConstValue, Value as Literal};
use moka::future::Cache;

use crate::graphql::execution::errors::{code, with_code};
use crate::graphql::execution::key_order::merges_objects;
use crate::graphql::execution::limits::DocumentLimits;

/// At most this many bytes are kept in parsed documents and their texts,
/// as [`held_bytes`] weighs them, with the cache's own bookkeeping.
const MAX_KEPT_BYTES: u64 = 16 * 1024 * 1024;

/// The documents of the queries seen lately, each within the limits
/// (clones share them).
#[derive(Clone)]
pub struct Documents {
    limits: DocumentLimits,
    parsed: Cache<String, Arc<Parsed>>,
}

/// A document within the limits, with what is known of it before execution.
pub(crate) struct Parsed {
    pub(crate) document: ExecutableDocument,
    /// `key_order::merges_objects`: depends on the document alone, so it is
    /// found once rather than on every request.
    pub(crate) merges_objects: bool,
}

/// A request whose document parsed and is within the limits.
pub struct Prepared {
    pub(crate) request: async_graphql::Request,
    pub(crate) parsed: Arc<Parsed>,
}

impl Documents {
    pub fn new(limits: DocumentLimits) -> Self {
        Self {
            limits,
            parsed: Cache::builder()
                .max_capacity(MAX_KEPT_BYTES)
                .weigher(|query: &String, parsed: &Arc<Parsed>| {
                    let held = held_bytes(query, &parsed.document) + std::mem::size_of::<Parsed>();
                    crate::kept_entry::weight::<String, Arc<Parsed>>(held)
                })
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
                let document =
                    async_graphql::parser::parse_query(&request.query).map_err(parse_error)?;
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

/// A parse error as clients show it: one line (the parser draws the source
/// around the error on several), with its locations.
fn parse_error(error: async_graphql::parser::Error) -> ServerError {
    let locations = error.positions().collect();
    let message = match &error {
        async_graphql::parser::Error::Syntax { message, .. } => {
            // pest's drawing ends with `  = expected selection`.
            let expected = message
                .lines()
                .rev()
                .find_map(|line| line.trim_start().strip_prefix("= "))
                .unwrap_or("unexpected text");
            format!("syntax error: {expected}")
        }
        other => other.to_string(),
    };
    let mut error = ServerError::new(message, None);
    error.locations = locations;
    with_code(error, code::GRAPHQL_PARSE_FAILED)
}

/// What keeping `query` with its parsed `document` takes, at most: the
/// text (the key, and the names the document copies from it) and every
/// node of the document. Weighing by the text alone let 2 MB of short
/// names hold hundreds of MB of syntax trees.
pub(crate) fn held_bytes(query: &str, document: &ExecutableDocument) -> usize {
    let mut tally = Tally::default();
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        for variable in &operation.variable_definitions {
            tally.nodes += 1;
            if let Some(value) = &variable.node.default_value {
                tally.value(&value.node);
            }
        }
        tally.directives(&operation.directives);
        tally.selections(&operation.selection_set.node);
    }
    for fragment in document.fragments.values() {
        tally.nodes += 1;
        tally.directives(&fragment.node.directives);
        tally.selections(&fragment.node.selection_set.node);
    }
    // A node's slot, doubled for what a growing `Vec` leaves spare, and
    // its name's allocation; a selection set's `Vec` starts at 4 slots.
    let slot = std::mem::size_of::<Positioned<Selection>>();
    2 * query.len() + (2 * slot + 64) * tally.nodes + 4 * slot * tally.sets
}

/// The nodes and selection sets of a document.
#[derive(Default)]
struct Tally {
    nodes: usize,
    sets: usize,
}

impl Tally {
    fn selections(&mut self, set: &SelectionSet) {
        // An empty `Vec` (a leaf field's) allocates nothing.
        self.sets += usize::from(!set.items.is_empty());
        for selection in &set.items {
            self.nodes += 1;
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    for (_, value) in &field.arguments {
                        self.nodes += 1;
                        self.value(&value.node);
                    }
                    self.directives(&field.directives);
                    self.selections(&field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => self.directives(&spread.node.directives),
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives);
                    self.selections(&inline.node.selection_set.node);
                }
            }
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        for directive in directives {
            self.nodes += 1;
            for (_, value) in &directive.node.arguments {
                self.nodes += 1;
                self.value(&value.node);
            }
        }
    }

    fn value<V: ValueNodes>(&mut self, value: &V) {
        self.nodes += value.nodes();
    }
}

/// Literal values (with variables) and constant values (defaults) alike.
trait ValueNodes {
    fn nodes(&self) -> usize;
}

impl ValueNodes for Literal {
    fn nodes(&self) -> usize {
        1 + match self {
            Literal::List(items) => items.iter().map(ValueNodes::nodes).sum(),
            Literal::Object(fields) => fields.values().map(ValueNodes::nodes).sum(),
            _ => 0,
        }
    }
}

impl ValueNodes for ConstValue {
    fn nodes(&self) -> usize {
        1 + match self {
            ConstValue::List(items) => items.iter().map(ValueNodes::nodes).sum(),
            ConstValue::Object(fields) => fields.values().map(ValueNodes::nodes).sum(),
            _ => 0,
        }
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

    /// Whether the operation that would run is a subscription.
    pub fn is_subscription(&self) -> bool {
        let is_subscription = |ty: OperationType| ty == OperationType::Subscription;
        match &self.parsed.document.operations {
            DocumentOperations::Single(operation) => is_subscription(operation.node.ty),
            DocumentOperations::Multiple(operations) => match &self.request.operation_name {
                Some(name) => operations
                    .get(name.as_str())
                    .is_some_and(|operation| is_subscription(operation.node.ty)),
                None => false,
            },
        }
    }

    /// Adds `data` to what resolvers may read.
    pub fn data<D: std::any::Any + Send + Sync>(mut self, data: D) -> Self {
        self.request = self.request.data(data);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::held_bytes;
    use crate::heap_count::live;

    /// Documents of every shape: one-letter names (the most nodes per byte
    /// of text), arguments and values, directives, variables, fragments,
    /// and a real client's introspection query.
    fn documents() -> Vec<String> {
        let wide = (0..2000).map(|n| format!("f{n}")).collect::<Vec<_>>();
        let one_letter = "a ".repeat(3000);
        let nested = format!("{}x{}", "a { ".repeat(60), " }".repeat(60));
        let fragments = (1..=20)
            .map(|n| format!("fragment F{n} on Query {{ ...F{} ...F{} }}", n - 1, n - 1))
            .collect::<String>();
        vec![
            format!("{{ {} }}", wide.join(" ")),
            format!("{{ {one_letter} }}"),
            format!("{{ {nested} }}"),
            "query Q($a: Int = 1, $b: [String!] = [\"x\", \"y\"], $c: In = {a: {b: [1, 2]}}) \
             { a(x: [1, 2, 3], y: {z: \"s\", w: $a}, v: ENUM) @include(if: true) @skip(if: false) \
             { b(c: $b) { d } } }"
                .to_owned(),
            format!("query {{ ...F20 }} fragment F0 on Query {{ __typename }} {fragments}"),
            include_str!("../../../tests/fixtures/introspection-query.graphql").to_owned(),
        ]
    }

    #[test]
    fn the_cache_weighs_a_document_at_least_at_what_it_holds() {
        for query in documents() {
            let before = live();
            let document = async_graphql::parser::parse_query(&query).expect(&query);
            let held = usize::try_from(live() - before).unwrap() + query.len();
            let weighed = held_bytes(&query, &document);
            assert!(
                weighed >= held,
                "weighed {weighed} bytes, holds {held}: {}",
                &query[..query.len().min(80)]
            );
            // And not so much more that the cache would keep few documents.
            assert!(
                weighed <= 4 * held,
                "weighed {weighed} bytes, holds only {held}: {}",
                &query[..query.len().min(80)]
            );
            drop(document);
        }
    }
}
