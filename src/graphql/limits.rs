//! Operation limits, checked before any resolver runs: depth and complexity
//! (async-graphql's validation), aliases, root fields and introspection
//! (here, on the parsed document, by [`super::execute`]). Each violation is
//! an error coded OPERATION_LIMIT_EXCEEDED (INTROSPECTION_DISABLED for
//! introspection).

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError};

use super::errors::{code, with_code};

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

fn coded(message: String, code: &str) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// An error for a request over a limit.
fn exceeded(message: String) -> ServerError {
    coded(message, code::OPERATION_LIMIT_EXCEEDED)
}

/// The limits on aliases, root fields and introspection, checked on the
/// parsed document.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    max_aliases: usize,
    max_root_fields: usize,
    introspection: bool,
}

impl From<&Limits> for DocumentLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            max_aliases: limits.max_aliases,
            max_root_fields: limits.max_root_fields,
            introspection: limits.introspection,
        }
    }
}

type Fragments = std::collections::HashMap<Name, Positioned<FragmentDefinition>>;

/// The names of the fields selected at the top of `set`, through
/// fragments; each fragment once.
fn root_fields<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    seen: &mut HashSet<&'a Name>,
    names: &mut Vec<&'a str>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => names.push(field.node.name.node.as_str()),
            Selection::InlineFragment(inline) => {
                root_fields(&inline.node.selection_set.node, fragments, seen, names)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let Some(fragment) = fragments.get(name)
                    && seen.insert(name)
                {
                    root_fields(&fragment.node.selection_set.node, fragments, seen, names);
                }
            }
        }
    }
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

impl DocumentLimits {
    /// The first limit `document` exceeds, as the error to answer.
    pub(super) fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
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
            let mut names = Vec::new();
            root_fields(
                &operation.node.selection_set.node,
                &document.fragments,
                &mut HashSet::new(),
                &mut names,
            );
            if names.len() > self.max_root_fields {
                return Err(exceeded(format!(
                    "an operation selects {} root fields; at most {} are accepted",
                    names.len(),
                    self.max_root_fields
                )));
            }
            if !self.introspection && names.iter().any(|n| *n == "__schema" || *n == "__type") {
                return Err(coded(
                    "introspection is disabled on this gateway; the schema is at /schema.graphql"
                        .into(),
                    code::INTROSPECTION_DISABLED,
                ));
            }
        }
        Ok(())
    }
}
