//! Lists of records answered field by field without a resolver per field.
//!
//! async-graphql resolves each field of each object as a boxed future,
//! polled in a `FuturesUnordered`, its value inserted into the object as it
//! completes. For a project's repositories (190 objects, 760 fields in the
//! 20-project 3-level list of the benchmarks) that machinery costs far
//! more than reading the values. When a list's selection asks only fields
//! read from the stored record, or objects held in it whose selection does
//! too (no arguments, no directives; fragments only on the object's own
//! type; async-graphql has already removed what `@skip`/`@include` leave
//! out), `PlainList` answers it by reading those fields from each record,
//! in the selection's order. Any other selection goes through async-graphql
//! as before. The schema is the same: a `PlainList<T>` is a `[T!]!`.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// An object type some of whose fields are read from its record alone.
pub trait PlainFields: OutputType {
    /// The value of the scalar field `name`, when it is one read from the
    /// record alone (the value its resolver gives); None for any other field.
    fn plain_field(&self, name: &str) -> Option<Value>;

    /// The value of the object field `name` for the selection `nested`,
    /// when the record holds that object (`nested.answer` it); None for
    /// any other field.
    fn plain_object(&self, _name: &str, _nested: &Nested<'_, '_>) -> Option<Value> {
        None
    }
}

/// The selection of an object field, to answer plainly.
pub struct Nested<'c, 'd> {
    ctx: &'c ContextSelectionSet<'d>,
    set: &'d SelectionSet,
}

impl Nested<'_, '_> {
    /// `object`'s answer to this selection; None when it needs resolvers.
    pub fn answer<T: PlainFields>(&self, object: &T) -> Option<Value> {
        let type_name = T::type_name();
        let selected = plain_selection(self.ctx, self.set, &type_name)?;
        answer(self.ctx, object, &type_name, &selected)
    }
}

/// A selected field: its response key, its name, and its selection when
/// it is an object.
type Selected<'d> = (&'d Name, &'d str, Option<&'d SelectionSet>);

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
        if let Some(selected) = plain_selection(ctx, &field.node.selection_set.node, &type_name)
            && let Some(items) = self
                .0
                .iter()
                .map(|item| answer(ctx, item, &type_name, &selected))
                .collect::<Option<Vec<Value>>>()
        {
            return Ok(Value::List(items));
        }
        self.0.resolve(ctx, field).await
    }
}

/// The fields `set` selects on `type_name`, in order; None when some
/// selection needs a resolver.
fn plain_selection<'d>(
    ctx: &ContextSelectionSet<'d>,
    set: &'d SelectionSet,
    type_name: &str,
) -> Option<Vec<Selected<'d>>> {
    let mut selected = Vec::new();
    select_plainly(ctx, set, type_name, &mut selected).then_some(selected)
}

/// Appends the fields `set` selects on `type_name` to `selected`, in
/// order; false when some selection needs a resolver (arguments,
/// directives, a fragment on another type).
fn select_plainly<'d>(
    ctx: &ContextSelectionSet<'d>,
    set: &'d SelectionSet,
    type_name: &str,
    selected: &mut Vec<Selected<'d>>,
) -> bool {
    set.items.iter().all(|selection| match &selection.node {
        Selection::Field(field) => {
            let field = &field.node;
            let plain = field.arguments.is_empty() && field.directives.is_empty();
            if plain {
                let nested = &field.selection_set.node;
                selected.push((
                    &field.response_key().node,
                    field.name.node.as_str(),
                    (!nested.items.is_empty()).then_some(nested),
                ));
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
/// names the same field both times); an object selected twice is left to
/// the resolvers, which merge its selections.
fn answer<'d, T: PlainFields>(
    ctx: &ContextSelectionSet<'d>,
    item: &T,
    type_name: &str,
    selected: &[Selected<'d>],
) -> Option<Value> {
    let mut object = IndexMap::with_capacity(selected.len());
    for (key, name, nested) in selected {
        let value = match (*name, nested) {
            ("__typename", _) => Value::String(type_name.to_owned()),
            (name, None) => item.plain_field(name)?,
            (name, Some(set)) => item.plain_object(name, &Nested { ctx, set })?,
        };
        if object.insert((*key).clone(), value).is_some() && nested.is_some() {
            return None;
        }
    }
    Some(Value::Object(object))
}
