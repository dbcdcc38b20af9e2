//! Operation limits, checked before any resolver runs: depth and complexity
//! (async-graphql's validation), aliases and root fields (here, on the
//! parsed document). Each violation is an error coded OPERATION_LIMIT_EXCEEDED.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError, ServerResult, Variables};

use super::errors::code;

/// The limits (from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    /// Whether `__schema` and `__type` may be asked.
    pub introspection: bool,
}

/// An error for a request over a limit.
pub fn exceeded(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::OPERATION_LIMIT_EXCEEDED);
    error
}

/// The extension counting aliases and root fields.
pub struct AliasAndRootFieldLimits {
    pub max_aliases: usize,
    pub max_root_fields: usize,
}

impl ExtensionFactory for AliasAndRootFieldLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasAndRootFieldLimits {
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
        })
    }
}

type Fragments = std::collections::HashMap<Name, Positioned<FragmentDefinition>>;

/// Fields selected at the top of `set`, through fragments; each fragment once.
fn root_fields(set: &SelectionSet, fragments: &Fragments, seen: &mut HashSet<Name>) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(inline) => {
                root_fields(&inline.node.selection_set.node, fragments, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match fragments.get(name) {
                    Some(fragment) if seen.insert(name.clone()) => {
                        root_fields(&fragment.node.selection_set.node, fragments, seen)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// Aliased fields anywhere in `set` (fragments are counted where defined).
fn aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(inline) => aliases(&inline.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

impl AliasAndRootFieldLimits {
    fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
        let operations: Vec<_> = match &document.operations {
            DocumentOperations::Single(operation) => vec![operation],
            DocumentOperations::Multiple(operations) => operations.values().collect(),
        };
        let alias_count: usize = operations
            .iter()
            .map(|operation| aliases(&operation.node.selection_set.node))
            .chain(
                document
                    .fragments
                    .values()
                    .map(|fragment| aliases(&fragment.node.selection_set.node)),
            )
            .sum();
        if alias_count > self.max_aliases {
            return Err(exceeded(format!(
                "the document has {alias_count} aliases; at most {} are accepted",
                self.max_aliases
            )));
        }
        for operation in operations {
            let count = root_fields(
                &operation.node.selection_set.node,
                &document.fragments,
                &mut HashSet::new(),
            );
            if count > self.max_root_fields {
                return Err(exceeded(format!(
                    "an operation selects {count} root fields; at most {} are accepted",
                    self.max_root_fields
                )));
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Extension for AliasAndRootFieldLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        self.check(&document)?;
        Ok(document)
    }
}

/// Whether a validation error is async-graphql's depth or complexity limit.
pub fn is_depth_or_complexity(error: &ServerError) -> bool {
    matches!(
        error.message.as_str(),
        "Query is nested too deep." | "Query is too complex."
    )
}
