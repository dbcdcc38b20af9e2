//! A connection answered without resolvers when its selection allows: what
//! every connection's plain answer shares (the page's `totalCount`,
//! `edges { cursor node }` and `pageInfo`), around nodes each kind of
//! connection writes with what it loads for the whole page
//! (`project_connection`, `item_connection`).

use std::borrow::Cow;

use async_graphql::connection::{Connection, Edge, EmptyFields, PageInfo};
use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, OutputType, Positioned, SelectionField, ServerResult, Value,
};

use crate::graphql::plain::json::JsonText;
use crate::graphql::plain::{Nested, PlainFields, PlainValue, answers_plainly, plain_or_resolved};
use crate::graphql::schema::paging::ListTotal;

/// A page of `T`s: a `TConnection` in the schema.
pub type Page<T> = Connection<String, T, ListTotal, EmptyFields>;

/// A node type whose pages may be answered plainly.
pub trait PlainPaged: OutputType + Sized {
    /// `page`'s answer to `field`'s selection, as raw JSON; None when it
    /// needs resolvers (decided from the selection before anything is
    /// loaded; what cannot be loaded is left to the resolvers too, which
    /// load it again and answer its error where it belongs).
    fn plain_page(
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
        page: &Page<Self>,
    ) -> impl Future<Output = Option<Value>> + Send;
}

/// A page of `T`s, answered plainly when its selection allows.
pub struct PlainConnection<T: OutputType>(pub Page<T>);

impl<T: PlainPaged> OutputType for PlainConnection<T> {
    fn type_name() -> Cow<'static, str> {
        Page::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Page::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Page::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let plain = T::plain_page(ctx, field, &self.0);
        plain_or_resolved(ctx, plain, self.0.resolve(ctx, field)).await
    }
}

/// A node of a page's plain answer: an item of the page with what was
/// loaded for it.
pub trait PlainNode: PlainFields {
    /// The connection's node type.
    type Item: OutputType;
}

/// A page, as its plain answer sees it: its `totalCount` (when loaded) and
/// its edges with their nodes.
pub struct PlainPage<'a, N> {
    total_count: Option<u64>,
    has_previous_page: bool,
    has_next_page: bool,
    edges: Vec<PlainEdge<'a, N>>,
}

impl<'a, N: PlainNode> PlainPage<'a, N> {
    /// `page` counted `total_count`, each item's node made by `node` from
    /// its place in the page and the item.
    pub fn new(
        page: &'a Page<N::Item>,
        total_count: Option<u64>,
        node: impl Fn(usize, &'a N::Item) -> N,
    ) -> Self {
        let edges = (page.edges.iter().enumerate())
            .map(|(index, edge)| PlainEdge {
                cursor: &edge.cursor,
                node: node(index, &edge.node),
            })
            .collect();
        Self {
            total_count,
            has_previous_page: page.has_previous_page,
            has_next_page: page.has_next_page,
            edges,
        }
    }
}

impl<'a, N: PlainNode> PlainFields for PlainPage<'a, N> {
    fn type_name() -> Cow<'static, str> {
        Page::<N::Item>::type_name()
    }

    const FIELDS: &'static [&'static str] = &["totalCount"];

    fn has_plain_field(name: &str) -> bool {
        name == "totalCount"
    }

    /// `totalCount`, which is loaded when the selection shows it.
    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>> {
        match name {
            "totalCount" => self.total_count.map(PlainValue::Integer),
            _ => None,
        }
    }

    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        match name {
            "edges" => answers_plainly::<PlainEdge<'a, N>>(ctx, set),
            "pageInfo" => answers_plainly::<PlainPageInfo<'_>>(ctx, set),
            _ => false,
        }
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        match name {
            "edges" => nested.answer_list(&self.edges, out),
            "pageInfo" => {
                let info = PlainPageInfo {
                    has_previous_page: self.has_previous_page,
                    has_next_page: self.has_next_page,
                    start_cursor: self.edges.first().map(|edge| edge.cursor),
                    end_cursor: self.edges.last().map(|edge| edge.cursor),
                };
                nested.answer(&info, out)
            }
            _ => false,
        }
    }
}

pub struct PlainEdge<'a, N> {
    cursor: &'a str,
    node: N,
}

impl<N: PlainNode> PlainFields for PlainEdge<'_, N> {
    fn type_name() -> Cow<'static, str> {
        Edge::<String, N::Item, EmptyFields>::type_name()
    }

    const FIELDS: &'static [&'static str] = &["cursor"];

    fn has_plain_field(name: &str) -> bool {
        name == "cursor"
    }

    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>> {
        (name == "cursor").then_some(PlainValue::Text(self.cursor))
    }

    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        name == "node" && answers_plainly::<N>(ctx, set)
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        name == "node" && nested.answer(&self.node, out)
    }
}

pub struct PlainPageInfo<'a> {
    has_previous_page: bool,
    has_next_page: bool,
    start_cursor: Option<&'a str>,
    end_cursor: Option<&'a str>,
}

crate::graphql::plain::plain_fields!(PlainPageInfo<'_> as PageInfo, |info| {
    "hasPreviousPage" => info.has_previous_page,
    "hasNextPage" => info.has_next_page,
    "startCursor" => info.start_cursor,
    "endCursor" => info.end_cursor,
});

/// Whether the selection of `connection` shows its `totalCount`; gives
/// `node_field` each field its nodes select, under every alias of `edges`
/// and `node`.
pub fn walk_page_selection<'a>(
    connection: SelectionField<'a>,
    mut node_field: impl FnMut(SelectionField<'a>),
) -> bool {
    let mut total_count = false;
    for field in connection.selection_set() {
        match field.name() {
            "totalCount" => total_count = true,
            "edges" => {
                for node in field.selection_set().filter(|f| f.name() == "node") {
                    node.selection_set().for_each(&mut node_field);
                }
            }
            _ => {}
        }
    }
    total_count
}

/// The fast path's types of the connection of `N`s (its page and edges),
/// with their plain fields (see `plain::plain_fields_by_type`).
pub fn plain_fields_of_connection<N: PlainNode>()
-> [(Cow<'static, str>, &'static [&'static str]); 2] {
    fn of<T: PlainFields>() -> (Cow<'static, str>, &'static [&'static str]) {
        (T::type_name(), T::FIELDS)
    }
    [of::<PlainPage<'_, N>>(), of::<PlainEdge<'_, N>>()]
}

/// `PageInfo`'s plain fields, shared by every connection.
pub fn plain_fields_of_page_info() -> (Cow<'static, str>, &'static [&'static str]) {
    (PlainPageInfo::type_name(), PlainPageInfo::FIELDS)
}
