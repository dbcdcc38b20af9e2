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
//! in the selection's order, written straight into JSON text (see `json`:
//! no map of values to build, hash, order again and serialise later). Any
//! other selection goes through async-graphql as before. The schema is the
//! same: a `PlainList<T>` is a `[T!]!`. `answers_plainly` and `plain_answer`
//! do the same for one object whose children must be loaded first (the
//! projects connection, `project_connection`): whether the selection can be
//! answered so is known from its field names before anything is loaded.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

use crate::graphql::plain::PlainCounters;
use crate::graphql::plain::json::JsonText;
use crate::graphql::schema::enums::{Shown, graphql_name};

/// An object type some of whose fields are read from its record alone.
/// Which fields those are depends on their names only, never on a record's
/// values: `answers_plainly` tells before any record is read.
pub trait PlainFields {
    /// The GraphQL type these are fields of.
    fn type_name() -> Cow<'static, str>;

    /// The scalar fields `plain_field` gives.
    const FIELDS: &'static [&'static str];

    /// Whether `plain_field` gives the scalar field `name` (one of `FIELDS`).
    fn has_plain_field(name: &str) -> bool;

    /// The value of the scalar field `name`, when it is one read from the
    /// record alone (the value its resolver gives); None for any other field.
    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>>;

    /// Whether `plain_object` writes the object field `name` for the
    /// selection `set` (`answers_plainly` the object's type).
    fn has_plain_object(_name: &str, _ctx: &ContextSelectionSet<'_>, _set: &SelectionSet) -> bool {
        false
    }

    /// Writes the object field `name` for the selection `nested`, when the
    /// record holds that object (`nested.answer` it, or `answer_list`);
    /// false for any other field.
    fn plain_object(&self, _name: &str, _nested: &Nested<'_, '_>, _out: &mut JsonText) -> bool {
        false
    }
}

/// Implements `PlainFields` for `$type` (the GraphQL type `$graphql`,
/// itself by default) from one list of its scalar fields, `"name" =>`
/// their value read from `$object` (anything a `PlainValue` converts
/// from), so that `FIELDS` and `has_plain_field` name exactly the fields
/// `plain_field` reads; further items (`has_plain_object`,
/// `plain_object`) go into the impl as they are.
///
/// With `columns of $record` (a `store` record some of whose columns are
/// read only when shown), it also gives `$type::columns_of_field`, the
/// optional columns of `$record` a field shows: for a plain field, the one
/// it `reads` (`"acronym" reads ACRONYM =>`, a constant of `$record`), else
/// none; for a field under `resolved` (answered by its resolver), the one
/// it `reads`; for any other field, None: it may read them all. A plain
/// field showing an optional column must say so, or it reads it empty (the
/// tests ask each field alone and compare with a full read).
///
/// A type given plain fields is listed in `plain::plain_fields_by_type()`
/// too, which the tests check them from.
macro_rules! plain_fields {
    ($type:ty, columns of $record:ty,
     $(resolved { $($resolved:literal reads $resolved_column:ident),+ $(,)? },)?
     |$object:ident| { $($name:literal $(reads $column:ident)? => $value:expr),+ $(,)? }
     $($item:item)*) => {
        impl $type {
            /// The optional columns of its record the field shows; None for
            /// a field that may read any of them.
            pub fn columns_of_field(
                field: async_graphql::SelectionField<'_>,
            ) -> Option<$crate::store::Columns<$record>> {
                Some(match field.name() {
                    "__typename" => $crate::store::Columns::REQUIRED,
                    $($name => $crate::graphql::plain::plain_fields!(@columns $record $(, $column)?),)+
                    $($($resolved => <$record>::$resolved_column,)+)?
                    _ => return None,
                })
            }
        }

        $crate::graphql::plain::plain_fields!($type, |$object| { $($name => $value),+ } $($item)*);
    };
    ($type:ty $(as $graphql:ty)?, |$object:ident| { $($name:literal => $value:expr),+ $(,)? }
     $($item:item)*) => {
        impl $crate::graphql::plain::PlainFields for $type {
            fn type_name() -> std::borrow::Cow<'static, str> {
                $crate::graphql::plain::plain_fields!(@type_name $type $(, $graphql)?)
            }

            const FIELDS: &'static [&'static str] = &[$($name),+];

            fn has_plain_field(name: &str) -> bool {
                matches!(name, $($name)|+)
            }

            fn plain_field(&self, name: &str) -> Option<$crate::graphql::plain::PlainValue<'_>> {
                let $object = self;
                Some(match name {
                    $($name => $value.into(),)+
                    _ => return None,
                })
            }

            $($item)*
        }
    };
    (@columns $record:ty) => { $crate::store::Columns::REQUIRED };
    (@columns $record:ty, $column:ident) => { <$record>::$column };
    (@type_name $type:ty) => { <$type as async_graphql::OutputType>::type_name() };
    (@type_name $type:ty, $graphql:ty) => { <$graphql as async_graphql::OutputType>::type_name() };
}
pub(crate) use plain_fields;

/// A scalar field's value, read from a record.
pub enum PlainValue<'a> {
    Text(&'a str),
    Null,
    Owned(String),
    Boolean(bool),
    Integer(u64),
}

impl From<bool> for PlainValue<'_> {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl<'a> From<&'a str> for PlainValue<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<Option<&'a str>> for PlainValue<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Self::Null, Self::Text)
    }
}

impl From<String> for PlainValue<'_> {
    fn from(text: String) -> Self {
        Self::Owned(text)
    }
}

/// The value of an enum field: its GraphQL name.
pub fn plain_enum<T: Shown>(value: T) -> PlainValue<'static> {
    graphql_name(value).map_or(PlainValue::Null, PlainValue::Text)
}

/// The selection of an object field, to answer plainly.
pub struct Nested<'c, 'd> {
    ctx: &'c ContextSelectionSet<'d>,
    set: &'d SelectionSet,
    /// The fields `set` selects, planned for the first object and kept
    /// for the others of the list.
    plan: &'c OnceCell<Option<Vec<Selected<'d>>>>,
}

impl Nested<'_, '_> {
    /// Writes `object`'s answer to this selection; false when it needs resolvers.
    pub fn answer<T: PlainFields>(&self, object: &T, out: &mut JsonText) -> bool {
        let type_name = T::type_name();
        self.plan
            .get_or_init(|| plain_selection(self.ctx, self.set, &type_name))
            .as_deref()
            .is_some_and(|selected| write_object(self.ctx, object, &type_name, selected, out))
    }

    /// Writes the list of `objects`' answers; false when they need resolvers.
    pub fn answer_list<'o, T: PlainFields + 'o>(
        &self,
        objects: impl IntoIterator<Item = &'o T>,
        out: &mut JsonText,
    ) -> bool {
        out.push('[');
        for (index, object) in objects.into_iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            if !self.answer(object, out) {
                return false;
            }
        }
        out.push(']');
        true
    }
}

/// Whether `set`'s selection on `T` is answered without resolvers, whatever
/// the records (see `PlainFields`): known before reading them.
pub fn answers_plainly<T: PlainFields>(ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
    plain_selection(ctx, set, &T::type_name())
        .is_some_and(|selected| all_plain::<T>(ctx, &selected))
}

/// Whether every field of `selected` is one `T` answers plainly.
fn all_plain<T: PlainFields>(ctx: &ContextSelectionSet<'_>, selected: &[Selected<'_>]) -> bool {
    selected.iter().all(|field| match field.nested {
        None => field.name == "__typename" || T::has_plain_field(field.name),
        Some(nested) => T::has_plain_object(field.name, ctx, nested),
    })
}

/// `plain`'s answer when the fast path may look at this request's
/// selections and `plain` gives one, else `resolved`'s; counted either way
/// (`PlainCounters`). The fast path may look when it is on and the answer
/// merges no objects (a request whose answer may merge some counts a
/// fallback).
pub(super) async fn plain_or_resolved(
    ctx: &ContextSelectionSet<'_>,
    plain: impl Future<Output = Option<Value>>,
    resolved: impl Future<Output = ServerResult<Value>>,
) -> ServerResult<Value> {
    if let Some(counters) = ctx.data_opt::<Arc<PlainCounters>>() {
        if ctx.data_opt::<MergedObjects>().is_some() {
            counters.fell_back();
        } else if let Some(answer) = plain.await {
            counters.answered();
            return Ok(answer);
        } else {
            counters.fell_back();
        }
    }
    resolved.await
}

/// `object`'s answer to the selection `set`, as raw JSON (written into
/// room for `expected_len` bytes); None when it needs resolvers.
pub fn plain_answer<T: PlainFields>(
    ctx: &ContextSelectionSet<'_>,
    set: &SelectionSet,
    object: &T,
    expected_len: usize,
) -> Option<Value> {
    let type_name = T::type_name();
    let selected = plain_selection(ctx, set, &type_name)?;
    let mut out = JsonText::with_capacity(expected_len);
    write_object(ctx, object, &type_name, &selected, &mut out).then(|| out.into_raw_value())
}

/// A selected field.
struct Selected<'d> {
    key: &'d Name,
    /// `"key":`, written once for all the objects of a list.
    key_text: String,
    name: &'d str,
    /// The field's selection, when it is an object.
    nested: Option<&'d SelectionSet>,
    /// What the object's selection selects (see `Nested`).
    nested_plan: OnceCell<Option<Vec<Selected<'d>>>>,
}

/// In a request's data when its answer may hold objects async-graphql
/// merges (`key_order::merges_objects`: a key selecting objects more than
/// once, as `repositories { url } repositories { forge }`, or through two
/// fragments): plain lists then leave their answers to the resolvers, since
/// raw JSON cannot be merged.
pub struct MergedObjects;

/// A list of `T`, answered without resolvers when its selection allows.
pub struct PlainList<T>(pub Vec<T>);

impl<T: PlainFields + OutputType> OutputType for PlainList<T> {
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
        let plain = async { self.plain_answer(ctx, field) };
        plain_or_resolved(ctx, plain, self.0.resolve(ctx, field)).await
    }
}

impl<T: PlainFields> PlainList<T> {
    /// The list's answer to `field`'s selection, as raw JSON; None when it
    /// needs resolvers.
    fn plain_answer(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> Option<Value> {
        let type_name = T::type_name();
        let selected = plain_selection(ctx, &field.node.selection_set.node, &type_name)?;
        // The objects' fields are checked as they are written; with no
        // objects, from their names, so that an empty list is answered
        // plainly for the selections a full one would be.
        if self.0.is_empty() && !all_plain::<T>(ctx, &selected) {
            return None;
        }
        // Room for objects of a few short fields, to grow it seldom.
        let mut out = JsonText::with_capacity(2 + self.0.len() * 32 * selected.len());
        out.push('[');
        let written = self.0.iter().enumerate().all(|(index, item)| {
            if index > 0 {
                out.push(',');
            }
            write_object(ctx, item, &type_name, &selected, &mut out)
        });
        out.push(']');
        written.then(|| out.into_raw_value())
    }
}

/// The fields `set` selects on `type_name`, in order, each key once; None
/// when some selection needs a resolver.
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
/// directives, a fragment on another type, an object selected twice under
/// one key: the resolvers merge its selections). A scalar key selected
/// twice keeps its first place (validation made sure it names the same
/// field both times). A request whose document selects an object twice
/// does not come here (`MergedObjects`); the refusal stays so that this
/// function alone never drops a selection.
fn select_plainly<'d>(
    ctx: &ContextSelectionSet<'d>,
    set: &'d SelectionSet,
    type_name: &str,
    selected: &mut Vec<Selected<'d>>,
) -> bool {
    set.items.iter().all(|selection| match &selection.node {
        Selection::Field(field) => {
            let field = &field.node;
            if !field.arguments.is_empty() || !field.directives.is_empty() {
                return false;
            }
            let key = &field.response_key().node;
            let nested = &field.selection_set.node;
            let nested = (!nested.items.is_empty()).then_some(nested);
            match selected.iter().find(|known| known.key == key) {
                Some(known) => nested.is_none() && known.nested.is_none(),
                None => {
                    let mut key_text = JsonText::default();
                    key_text.string(key);
                    key_text.push(':');
                    selected.push(Selected {
                        key,
                        key_text: key_text.into_string(),
                        name: field.name.node.as_str(),
                        nested,
                        nested_plan: OnceCell::new(),
                    });
                    true
                }
            }
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

/// Writes `item`'s object for the `selected` fields; false when one is not plain.
fn write_object<'d, T: PlainFields>(
    ctx: &ContextSelectionSet<'d>,
    item: &T,
    type_name: &str,
    selected: &[Selected<'d>],
    out: &mut JsonText,
) -> bool {
    out.push('{');
    for (index, field) in selected.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.text(&field.key_text);
        match (field.name, field.nested) {
            ("__typename", _) => out.string(type_name),
            (name, None) => match item.plain_field(name) {
                Some(PlainValue::Text(text)) => out.string(text),
                Some(PlainValue::Owned(text)) => out.string(&text),
                Some(PlainValue::Null) => out.null(),
                Some(PlainValue::Boolean(value)) => out.boolean(value),
                Some(PlainValue::Integer(value)) => out.integer(value),
                None => return false,
            },
            (name, Some(set)) => {
                let nested = Nested {
                    ctx,
                    set,
                    plan: &field.nested_plan,
                };
                if !item.plain_object(name, &nested, out) {
                    return false;
                }
            }
        }
    }
    out.push('}');
    true
}
