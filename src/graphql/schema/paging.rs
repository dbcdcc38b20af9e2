//! Relay connections: page arguments, opaque cursors and `totalCount`.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::{OrInternal, bad_input};
use crate::graphql::schema::loaders::CatalogueLoader;
use crate::store::{
    DatasetFilter, Page, PageDirection, ProjectFilter, RepositoryFilter, SortValue, StoreError,
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// The Relay arguments of a connection field.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// What a cursor holds: the ordering it belongs to and the row's place in it.
#[derive(Serialize, Deserialize)]
struct CursorData {
    #[serde(rename = "o")]
    ordering: String,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    time: Option<DateTime<Utc>>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    count: Option<i64>,
    #[serde(rename = "i")]
    id: i64,
}

/// An opaque cursor for the row `id` whose ordering value is `value`.
pub fn encode_cursor(ordering: &str, value: &SortValue, id: i64) -> String {
    let (text, time, count) = match value {
        SortValue::Text(text) => (Some(text.clone()), None, None),
        SortValue::Time(time) => (None, Some(*time), None),
        SortValue::Count(count) => (None, None, Some(*count)),
        SortValue::None => (None, None, None),
    };
    let data = CursorData {
        ordering: ordering.to_owned(),
        text,
        time,
        count,
        id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

/// What kind of value an ordering's cursors carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Text,
    Time,
    Count,
    /// Ordered by id alone.
    Id,
}

fn decode_cursor(
    cursor: &str,
    ordering: &str,
    kind: CursorKind,
) -> async_graphql::Result<(SortValue, i64)> {
    let invalid = || bad_input(format!("`{cursor}` is not a cursor of this list"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if data.ordering != ordering {
        return Err(bad_input(format!(
            "`{cursor}` belongs to another ordering of this list; start again without `after`/`before`"
        )));
    }
    let value = match (kind, data.text, data.time, data.count) {
        (CursorKind::Text, Some(text), None, None) => SortValue::Text(text),
        (CursorKind::Time, None, Some(time), None) => SortValue::Time(time),
        (CursorKind::Count, None, None, Some(count)) => SortValue::Count(count),
        (CursorKind::Id, None, None, None) => SortValue::None,
        _ => return Err(invalid()),
    };
    Ok((value, data.id))
}

fn page_size(name: &str, value: i32) -> async_graphql::Result<u64> {
    if !(0..=MAX_PAGE_SIZE).contains(&value) {
        return Err(bad_input(format!(
            "`{name}` must be between 0 and {MAX_PAGE_SIZE}, not {value}"
        )));
    }
    Ok(u64::try_from(value).unwrap_or_default())
}

impl PageArgs {
    /// The page these arguments ask for, in the list ordered by `ordering`.
    pub fn page(&self, ordering: &str, kind: CursorKind) -> async_graphql::Result<Page> {
        if self.first.is_some() && self.last.is_some() {
            return Err(bad_input("give `first` or `last`, not both"));
        }
        if self.after.is_some() && self.before.is_some() {
            return Err(bad_input("give `after` or `before`, not both"));
        }
        let backward = self.last.is_some() || self.before.is_some();
        if backward && (self.first.is_some() || self.after.is_some()) {
            return Err(bad_input(
                "page forward with `first`/`after` or backward with `last`/`before`",
            ));
        }
        let (direction, size, cursor) = if backward {
            (PageDirection::Backward, self.last, &self.before)
        } else {
            (PageDirection::Forward, self.first, &self.after)
        };
        let limit = page_size(
            if backward { "last" } else { "first" },
            size.unwrap_or(DEFAULT_PAGE_SIZE),
        )?;
        let boundary = cursor
            .as_deref()
            .map(|c| decode_cursor(c, ordering, kind))
            .transpose()?;
        Ok(Page {
            limit,
            direction,
            boundary,
        })
    }
}

/// The list a connection's `totalCount` counts; counted only when asked for.
#[derive(Clone)]
pub enum ListTotal {
    Projects(ProjectFilter),
    Organizations,
    Repositories(RepositoryFilter),
    Datasets(DatasetFilter),
    AuditLog,
    /// The log of one webhook (its owner checked).
    WebhookDeliveries(i64),
}

impl ListTotal {
    /// How many items the whole list holds, as `loader`'s reader may see them.
    pub async fn count(&self, loader: &CatalogueLoader) -> Result<u64, StoreError> {
        let store = &loader.store;
        match self {
            Self::Projects(filter) => loader.project_count(filter).await,
            Self::Organizations => store.organization_count().await,
            Self::Repositories(filter) => loader.repository_count(filter).await,
            Self::Datasets(filter) => loader.dataset_count(filter).await,
            Self::AuditLog => store.audit_count().await,
            Self::WebhookDeliveries(webhook) => store.webhook_delivery_count(*webhook).await,
        }
    }
}

#[Object]
impl ListTotal {
    /// How many items the whole list holds, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        self.count(loader(ctx)?.loader()).await.or_internal()
    }
}

/// A list page as a Relay connection of `(cursor, node)` pairs.
pub fn connection<N: OutputType>(
    page: &Page,
    more: bool,
    nodes: Vec<(String, N)>,
    total: ListTotal,
) -> Connection<String, N, ListTotal, EmptyFields> {
    let from_boundary = page.boundary.is_some();
    let (has_previous, has_next) = match page.direction {
        PageDirection::Forward => (from_boundary, more),
        PageDirection::Backward => (more, from_boundary),
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(
        nodes
            .into_iter()
            .map(|(cursor, node)| Edge::new(cursor, node)),
    );
    connection
}
