//! Puts an answer's keys in the order the operation asked for them.
//!
//! async-graphql resolves an object's fields concurrently and inserts each
//! into the answer as it completes, so the same question could get its keys
//! in a different order each time (a project's `repositories` before its
//! `organizations` when that batch came back first). The spec asks for the
//! selection's order; clients that read the JSON as text, and ETags, need
//! the same bytes for the same data. (async-graphql's issue about it:
//! https://github.com/async-graphql/async-graphql/issues/612; the decision:
//! docs/decisions/0005-key-order.md.)

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use async_graphql::Value;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};

/// Orders every object of `data` like the selection of the operation named
/// `operation_name` (the document's only one when None).
pub(crate) fn order_like_selection(
    data: &mut Value,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return,
        },
        (DocumentOperations::Multiple(_), None) => return,
    };
    let plan = Plan::new(&[&operation.node.selection_set.node], document);
    apply(data, &plan, document);
}

/// Whether an answer to `document` may hold objects async-graphql builds by
/// merging: a key that selects an object (or list of objects) selected more
/// than once in one selection set, fragments included. The answers under
/// such a key are merged field by field, which raw JSON (see `plain`)
/// cannot be.
pub(crate) fn merges_objects(document: &ExecutableDocument) -> bool {
    let mut budget = MAX_WALKED_SETS;
    document.operations.iter().any(|(_, operation)| {
        merges(
            &[&operation.node.selection_set.node],
            document,
            0,
            &mut budget,
        )
    })
}

/// How many selection sets, and how deep, `merges_objects` walks at most.
/// It runs before validation, so a document whose fragments spread each
/// other through object fields (refused by validation) or a huge one
/// (refused by the complexity limit) must not make it walk for ever or
/// overflow the stack; such a document is taken as merging, which only
/// costs it the plain lists.
const MAX_WALKED_SETS: usize = 10_000;
const MAX_WALKED_DEPTH: usize = 64;

fn merges(
    sets: &[&SelectionSet],
    document: &ExecutableDocument,
    depth: usize,
    budget: &mut usize,
) -> bool {
    if *budget == 0 || depth > MAX_WALKED_DEPTH {
        return true;
    }
    *budget -= 1;
    keys(sets, document).iter().any(|(_, children)| {
        let selects_object = children.iter().any(|set| !set.items.is_empty());
        selects_object && (children.len() > 1 || merges(children, document, depth + 1, budget))
    })
}

/// The response keys `sets` select, in order, each with the selection sets
/// of the fields answered under it (a key may be selected more than once,
/// through fragments; it keeps its first place). Each fragment is expanded
/// once: a second spread of it selects the same keys, and a fragment that
/// spreads itself (refused by validation, but this runs on every answer)
/// would otherwise be expanded for ever.
///
/// This runs before validation, on selections of any width: past a few
/// keys, a key's place is found through an index rather than by reading
/// the keys before it, so that a selection of thousands of distinct names
/// costs a time linear in its size.
fn keys<'d>(
    sets: &[&'d SelectionSet],
    document: &'d ExecutableDocument,
) -> Vec<(&'d str, Vec<&'d SelectionSet>)> {
    let mut keys: Vec<(&str, Vec<&SelectionSet>)> = Vec::new();
    // Empty (and unallocated) while `keys` is short enough to search.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut expanded = HashSet::new();
    // Depth first, in document order: a fragment's fields take its place.
    let mut stack: Vec<&Selection> = Vec::new();
    for set in sets.iter().rev() {
        stack.extend(set.items.iter().rev().map(|item| &item.node));
    }
    while let Some(selection) = stack.pop() {
        match selection {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.response_key().node.as_str();
                let children = &field.selection_set.node;
                let place = if keys.len() <= SEARCHED_KEYS {
                    keys.iter().position(|(known, _)| *known == key)
                } else {
                    if index.is_empty() {
                        index.extend(keys.iter().enumerate().map(|(i, (known, _))| (*known, i)));
                    }
                    index.get(key).copied()
                };
                match place {
                    Some(place) => keys[place].1.push(children),
                    None => {
                        if !index.is_empty() {
                            index.insert(key, keys.len());
                        }
                        keys.push((key, vec![children]));
                    }
                }
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if expanded.insert(name)
                    && let Some(fragment) = document.fragments.get(name)
                {
                    let items = &fragment.node.selection_set.node.items;
                    stack.extend(items.iter().rev().map(|item| &item.node));
                }
            }
            Selection::InlineFragment(fragment) => {
                let items = &fragment.node.selection_set.node.items;
                stack.extend(items.iter().rev().map(|item| &item.node));
            }
        }
    }
    keys
}

/// Most keys `keys` searches one by one (a project's selection has a dozen).
const SEARCHED_KEYS: usize = 32;

/// The keys a selection asks for, in order, each with the plan of what is
/// answered under it: made when first needed, then used for every item of
/// a list (twenty projects share one plan of a project's keys).
struct Plan<'d> {
    keys: Vec<PlannedKey<'d>>,
}

struct PlannedKey<'d> {
    name: &'d str,
    sets: Vec<&'d SelectionSet>,
    under: OnceCell<Plan<'d>>,
}

impl<'d> Plan<'d> {
    fn new(sets: &[&'d SelectionSet], document: &'d ExecutableDocument) -> Self {
        let keys = keys(sets, document)
            .into_iter()
            .map(|(name, sets)| PlannedKey {
                name,
                sets,
                under: OnceCell::new(),
            })
            .collect();
        Self { keys }
    }

    fn place(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|planned| planned.name == key)
    }
}

/// Orders `value` (each item, for a list) by `plan`, then what is under it.
fn apply<'d>(value: &mut Value, plan: &Plan<'d>, document: &'d ExecutableDocument) {
    match value {
        Value::Object(object) => {
            // Raw JSON written by plain lists (an object under one key no
            // selection names) is in order already, and is left alone.
            // Most objects come out in order already; sorting rebuilds the
            // map's index (rehashing every key), so it is done only when needed.
            if !object.keys().map(|key| plan.place(key)).is_sorted() {
                object.sort_by(|a, _, b, _| plan.place(a).cmp(&plan.place(b)));
            }
            // Only objects and lists have keys of their own to order.
            let nested = object
                .iter_mut()
                .filter(|(_, child)| matches!(child, Value::Object(_) | Value::List(_)));
            for (key, child) in nested {
                if let Some(index) = plan.place(key) {
                    let planned = &plan.keys[index];
                    let under = planned
                        .under
                        .get_or_init(|| Plan::new(&planned.sets, document));
                    apply(child, under, document);
                }
            }
        }
        Value::List(items) => {
            for item in items {
                apply(item, plan, document);
            }
        }
        _ => {}
    }
}
