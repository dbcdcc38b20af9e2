//! Lists of records answered field by field without a resolver per field.
//!
//! async-graphql resolves each field of each object as a boxed future,
//! polled in a `FuturesUnordered`, its value inserted into the object as it
//! completes. For a project's repositories (190 objects, 760 fields in the
//! 20-project 3-level list of the benchmarks) that machinery costs far
//! more than reading the values. When a list's selection asks only fields
//! read from the stored record (no arguments, no directives, no
//! sub-selection; fragments only on the list's own type; async-graphql has
//! already removed what `@skip`/`@include` leave out), `PlainList`
//! answers it by reading those fields from each record, in the selection's
//! order. Any other selection goes through async-graphql as before. The
//! schema is the same: a `PlainList<T>` is a `[T!]!`.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// An object type some of whose fields are read from its record alone.
pub trait PlainFields: OutputType {
    /// The value of the field `name`, when it is one read from the record
    /// alone (the value its resolver gives); None for any other field.
    fn plain_field(&self, name: &str) -> Option<Value>;
}

/// A list of `T`, answered without resolvers when its selection allows.
pub struct PlainList<T>(pub Vec<T>);

impl<T: PlainFields> OutputType for PlainList<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let type_name = T::type_name();
        let mut selected = Vec::new();
        if select_plainly(
            ctx,
            &field.node.selection_set.node,
            &type_name,
            &mut selected,
        ) && let Some(items) = self
            .0
            .iter()
            .map(|item| answer(item, &type_name, &selected))
            .collect::<Option<Vec<Value>>>()
        {
            return Ok(Value::List(items));
        }
        self.0.resolve(ctx, field).await
    }
}

/// Appends the response keys and field names `set` selects on `type_name`
/// to `selected`, in order; false when some selection needs a resolver
/// (arguments, directives, a sub-selection, a fragment on another type).
fn select_plainly<'d>(
    ctx: &ContextSelectionSet<'d>,
    set: &'d SelectionSet,
    type_name: &str,
    selected: &mut Vec<(&'d Name, &'d str)>,
) -> bool {
    set.items.iter().all(|selection| match &selection.node {
        Selection::Field(field) => {
            let field = &field.node;
            let plain = field.arguments.is_empty()
                && field.directives.is_empty()
                && field.selection_set.node.items.is_empty();
            if plain {
                selected.push((&field.response_key().node, field.name.node.as_str()));
            }
            plain
        }
        Selection::InlineFragment(inline) => {
            let inline = &inline.node;
            inline.directives.is_empty()
                && inline
                    .type_condition
                    .as_ref()
                    .is_none_or(|condition| condition.node.on.node == type_name)
                && select_plainly(ctx, &inline.selection_set.node, type_name, selected)
        }
        Selection::FragmentSpread(spread) => {
            let spread = &spread.node;
            spread.directives.is_empty()
                && ctx
                    .query_env
                    .fragments
                    .get(&spread.fragment_name.node)
                    .is_some_and(|fragment| {
                        fragment.node.type_condition.node.on.node == type_name
                            && select_plainly(
                                ctx,
                                &fragment.node.selection_set.node,
                                type_name,
                                selected,
                            )
                    })
        }
    })
}

/// `item`'s object for the `selected` fields; None when one is not plain.
/// A key selected twice keeps its first place (validation made sure it
/// names the same field both times).
fn answer<T: PlainFields>(item: &T, type_name: &str, selected: &[(&Name, &str)]) -> Option<Value> {
    let mut object = IndexMap::with_capacity(selected.len());
    for (key, name) in selected {
        let value = match *name {
            "__typename" => Value::String(type_name.to_owned()),
            name => item.plain_field(name)?,
        };
        object.insert((*key).clone(), value);
    }
    Some(Value::Object(object))
}
