//! Operation limits, checked before any resolver runs: complexity
//! (async-graphql's validation), and here, on the parsed document before
//! validation: aliases, root fields, introspection, and the size and depth
//! of each operation with its fragments expanded (introspection's depth is
//! the schema's to bound, so `__schema` and `__type` do not count: every
//! GraphQL tool introspects 15 levels deep). Each violation is an error coded
//! OPERATION_LIMIT_EXCEEDED (INTROSPECTION_DISABLED for introspection).
//! Last, the nesting of selection sets that async-graphql's parser bounds
//! (GRAPHQL_PARSE_FAILED), checked here so that its error has its code.
//!
//! The expanded size is what validation and execution walk: fragments that
//! each spread the previous one twice make a 1 kB document select millions
//! of fields, all of them `__typename` (which costs nothing to the
//! complexity limit) and none deeper than the first (so the depth limit
//! never sees them). It is counted here in one pass over the document, each
//! fragment's size computed once, before anything walks the expansion.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError};

use crate::config::Limits;
use crate::graphql::execution::errors::{code, with_code};

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
    max_depth: usize,
    max_aliases: usize,
    max_root_fields: usize,
    max_selections: usize,
    max_fragment_depth: usize,
    introspection: bool,
}

impl From<&Limits> for DocumentLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            max_depth: limits.max_depth,
            max_aliases: limits.max_aliases,
            max_root_fields: limits.max_root_fields,
            max_selections: limits.max_selections,
            max_fragment_depth: limits.max_fragment_depth,
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

/// What a selection asks for once its fragments are expanded.
#[derive(Clone, Copy, Default)]
struct Expanded {
    /// Fields selected, each spread counted as often as it is spread.
    fields: usize,
    /// Fields on the longest path down, introspection's excepted.
    levels: usize,
    /// Fragments on the longest chain of spreads.
    spreads: usize,
}

/// Counts what operations select with their fragments expanded, each
/// fragment expanded once (so counting is linear in the document's size)
/// and never deeper than the limit (so a chain of thousands of fragments
/// cannot exhaust the stack).
struct Expansion<'a> {
    fragments: &'a Fragments,
    max_spreads: usize,
    /// None while the fragment is being expanded: a fragment reached again
    /// through itself (a cycle, which validation refuses) counts nothing.
    known: HashMap<&'a Name, Option<Expanded>>,
}

/// A chain of spreads longer than the limit was met.
struct TooDeep;

/// The introspection fields, whose depth the schema bounds: `ofType` goes
/// no deeper than the schema's most wrapped type, whatever a client asks.
/// Clients ask them 15 levels deep (graphql-js's `getIntrospectionQuery`).
fn is_introspection(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

impl<'a> Expansion<'a> {
    fn new(fragments: &'a Fragments, max_spreads: usize) -> Self {
        Self {
            fragments,
            max_spreads,
            known: HashMap::new(),
        }
    }

    /// What `set` asks for, when `set` is `spreads` spreads down from its
    /// operation.
    fn of(&mut self, set: &'a SelectionSet, spreads: usize) -> Result<Expanded, TooDeep> {
        let mut total = Expanded::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => {
                    let under = self.of(&field.node.selection_set.node, spreads)?;
                    let below = if is_introspection(&field.node.name.node) {
                        0
                    } else {
                        under.levels
                    };
                    Expanded {
                        fields: under.fields.saturating_add(1),
                        levels: below + 1,
                        spreads: under.spreads,
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.of(&inline.node.selection_set.node, spreads)?
                }
                Selection::FragmentSpread(spread) => {
                    self.spread(&spread.node.fragment_name.node, spreads + 1)?
                }
            };
            total.fields = total.fields.saturating_add(part.fields);
            total.levels = total.levels.max(part.levels);
            total.spreads = total.spreads.max(part.spreads);
        }
        Ok(total)
    }

    /// The expansion of the fragment `name`, spread `spreads` spreads down.
    fn spread(&mut self, name: &'a Name, spreads: usize) -> Result<Expanded, TooDeep> {
        if spreads > self.max_spreads {
            return Err(TooDeep);
        }
        let Some(fragment) = self.fragments.get(name) else {
            // Unknown fragments are validation's to report.
            return Ok(Expanded::default());
        };
        let expanded = match self.known.get(name) {
            Some(known) => known.unwrap_or_default(),
            None => {
                self.known.insert(name, None);
                let under = self.of(&fragment.node.selection_set.node, spreads)?;
                let expanded = Expanded {
                    spreads: under.spreads + 1,
                    ..under
                };
                self.known.insert(name, Some(expanded));
                expanded
            }
        };
        // Known from a shallower spread: its chain may reach too deep here.
        if spreads - 1 + expanded.spreads > self.max_spreads {
            return Err(TooDeep);
        }
        Ok(expanded)
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
    pub(crate) fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
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
        let mut expansion = Expansion::new(&document.fragments, self.max_fragment_depth);
        for operation in &operations {
            let expanded = expansion
                .of(&operation.node.selection_set.node, 0)
                .map_err(|TooDeep| {
                    exceeded(format!(
                        "fragments spread fragments more than {} deep",
                        self.max_fragment_depth
                    ))
                })?;
            if expanded.fields > self.max_selections {
                return Err(exceeded(format!(
                    "an operation selects more than {} fields once its fragments are expanded",
                    self.max_selections
                )));
            }
            if expanded.levels > self.max_depth {
                return Err(exceeded(format!(
                    "Query is nested too deep: {} levels of fields; at most {} are accepted",
                    expanded.levels, self.max_depth
                )));
            }
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
        check_nesting(document)
    }
}

/// How deep selection sets may nest, counting inline fragments and the
/// fragments spread where they are spread (so a cycle of spreads nests
/// without end). The schema is given the same limit
/// (`limit_recursive_depth`), whose check, run after this one, never fires
/// first: async-graphql's error has no kind to give it a code by.
pub(crate) const MAX_NESTING: usize = 32;

/// How deep selection sets nest below a selection set, at most
/// `MAX_NESTING + 1`; each fragment's nesting is found once, however often
/// it is spread.
struct Nesting<'a> {
    fragments: &'a Fragments,
    /// None while the fragment is being walked: met again, it is a cycle.
    known: HashMap<&'a Name, Option<usize>>,
}

impl<'a> Nesting<'a> {
    fn below(&mut self, set: &'a SelectionSet) -> usize {
        let mut deepest = 0;
        for selection in &set.items {
            let nested = match &selection.node {
                Selection::Field(field) if field.node.selection_set.node.items.is_empty() => 0,
                Selection::Field(field) => 1 + self.below(&field.node.selection_set.node),
                Selection::FragmentSpread(spread) => self
                    .fragment(&spread.node.fragment_name.node)
                    .map_or(0, |nesting| 1 + nesting),
                Selection::InlineFragment(inline) => {
                    1 + self.below(&inline.node.selection_set.node)
                }
            };
            deepest = deepest.max(nested);
            if deepest > MAX_NESTING {
                break;
            }
        }
        deepest.min(MAX_NESTING + 1)
    }

    /// How deep selections nest below the fragment `name`; None for an
    /// unknown fragment (validation's to report), which nests nothing.
    fn fragment(&mut self, name: &'a Name) -> Option<usize> {
        let fragment = self.fragments.get(name)?;
        Some(match self.known.get(name) {
            Some(Some(nesting)) => *nesting,
            Some(None) => MAX_NESTING + 1,
            None => {
                self.known.insert(name, None);
                let nesting = self.below(&fragment.node.selection_set.node);
                self.known.insert(name, Some(nesting));
                nesting
            }
        })
    }
}

/// The error for a document whose selections nest deeper than
/// [`MAX_NESTING`], as async-graphql's parser counts them.
fn check_nesting(document: &ExecutableDocument) -> Result<(), ServerError> {
    let mut nesting = Nesting {
        fragments: &document.fragments,
        known: HashMap::new(),
    };
    for (_, operation) in document.operations.iter() {
        if nesting.below(&operation.node.selection_set.node) > MAX_NESTING {
            return Err(with_code(
                ServerError::new(
                    format!("selections nest more than {MAX_NESTING} deep, fragments included"),
                    Some(operation.pos),
                ),
                code::GRAPHQL_PARSE_FAILED,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn a(&self) -> Query {
            Query
        }

        async fn n(&self) -> i32 {
            1
        }
    }

    /// `inner` under `levels` fields.
    fn nested(levels: usize, inner: &str) -> String {
        format!("{}{inner}{}", "a { ".repeat(levels), " }".repeat(levels))
    }

    #[tokio::test]
    async fn nesting_is_counted_as_async_graphql_counts_it() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .limit_recursive_depth(MAX_NESTING)
            .finish();
        let mut documents = vec![
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(),
            "{ a { ...A } } fragment A on Query { n }".to_owned(),
        ];
        for levels in MAX_NESTING - 1..=MAX_NESTING + 1 {
            documents.extend([
                format!("{{ {} }}", nested(levels, "n")),
                format!("{{ {} }}", nested(levels - 1, "... on Query { n }")),
                format!(
                    "{{ {} }} fragment F on Query {{ n }}",
                    nested(levels - 1, "...F")
                ),
                format!(
                    "{{ {} }} fragment F on Query {{ a {{ n }} }}",
                    nested(levels - 2, "...F")
                ),
                format!("{{ {} }}", nested(levels, "...Unknown n")),
            ]);
        }
        for query in documents {
            let ours = check_nesting(&parse_query(&query).unwrap());
            let theirs = schema.execute(query.as_str()).await;
            let refused = theirs.errors.iter().any(|error| {
                error
                    .message
                    .starts_with("The recursion depth of the query")
            });
            assert_eq!(ours.is_err(), refused, "{query}: {:?}", theirs.errors);
        }
    }

    #[test]
    fn cycles_of_fragments_nest_without_end() {
        let query = "{ ...A } fragment A on Query { n ...B } fragment B on Query { ...A ...B }";
        let error = check_nesting(&parse_query(query).unwrap()).unwrap_err();
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(
            code,
            Some(async_graphql::Value::from(code::GRAPHQL_PARSE_FAILED))
        );
    }
}
