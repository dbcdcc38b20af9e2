//! Keyset paging: a page starts after (or ends before) a boundary row given
//! by its ordering value and id, so deep pages cost the same as the first.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select,
};

/// Which way a page runs from its boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageDirection {
    /// The rows after the boundary (Relay `first`/`after`).
    Forward,
    /// The rows before the boundary (Relay `last`/`before`).
    Backward,
}

/// The ordering value of a boundary row.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Text(String),
    Time(DateTime<Utc>),
    /// A number of things (e.g. of organizations using a project).
    Count(i64),
    /// The ordering is by id alone.
    None,
}

/// One page of an ordered list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub limit: u64,
    pub direction: PageDirection,
    /// The row the page starts after (forward) or ends before (backward).
    pub boundary: Option<(SortValue, i64)>,
}

/// Restricts `select` to the rows of `page` in the order (`sort`, `id`),
/// fetching one row more than the limit to tell whether more remain.
pub(super) fn apply_page<E: EntityTrait>(
    select: Select<E>,
    sort: Option<E::Column>,
    id: E::Column,
    ascending: bool,
    page: &Page,
) -> Select<E> {
    let runs_ascending = ascending == (page.direction == PageDirection::Forward);
    let beyond = |column: E::Column, value: sea_orm::Value| -> SimpleExpr {
        if runs_ascending {
            column.gt(value)
        } else {
            column.lt(value)
        }
    };
    let at_or_beyond = |column: E::Column, value: sea_orm::Value| -> SimpleExpr {
        if runs_ascending {
            column.gte(value)
        } else {
            column.lte(value)
        }
    };
    let mut select = select;
    if let Some((value, boundary_id)) = &page.boundary {
        let condition = match (sort, value) {
            (Some(column), SortValue::Text(text)) => tie_broken(
                at_or_beyond(column, text.clone().into()),
                beyond(column, text.clone().into()),
                column.eq(text.clone()),
                beyond(id, (*boundary_id).into()),
            ),
            (Some(column), SortValue::Time(time)) => tie_broken(
                at_or_beyond(column, (*time).into()),
                beyond(column, (*time).into()),
                column.eq(*time),
                beyond(id, (*boundary_id).into()),
            ),
            (Some(column), SortValue::Count(count)) => tie_broken(
                at_or_beyond(column, (*count).into()),
                beyond(column, (*count).into()),
                column.eq(*count),
                beyond(id, (*boundary_id).into()),
            ),
            _ => Condition::all().add(beyond(id, (*boundary_id).into())),
        };
        select = select.filter(condition);
    }
    let order = if runs_ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    if let Some(column) = sort {
        select = select.order_by(column, order.clone());
    }
    select.order_by(id, order).limit(page.limit + 1)
}

/// `sort at or beyond value AND (sort beyond value OR (sort = value AND id
/// beyond boundary id))`. The first term says the same as the rest, but in a
/// form PostgreSQL turns into a start point in the index: without it a page
/// 6,000 rows deep scanned those 6,000 rows (14.6 ms instead of 0.3 ms).
fn tie_broken(
    sort_at_or_beyond: SimpleExpr,
    sort_beyond: SimpleExpr,
    sort_equal: SimpleExpr,
    id_beyond: SimpleExpr,
) -> Condition {
    Condition::all().add(sort_at_or_beyond).add(
        Condition::any()
            .add(sort_beyond)
            .add(Condition::all().add(sort_equal).add(id_beyond)),
    )
}

/// Trims the extra row fetched by `apply_page` and restores reading order;
/// returns the rows and whether more lie beyond them.
pub(super) fn finish_page<T>(mut rows: Vec<T>, page: &Page) -> (Vec<T>, bool) {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if page.direction == PageDirection::Backward {
        rows.reverse();
    }
    (rows, more)
}

/// `column IN (subquery)` as an expression usable in filters.
pub(super) fn in_subquery(
    column: impl sea_orm::sea_query::IntoColumnRef,
    subquery: sea_orm::sea_query::SelectStatement,
) -> SimpleExpr {
    Expr::col(column).in_subquery(subquery)
}
