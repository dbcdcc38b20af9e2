//! `auditLog`: every write, newest first, for administrators.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};

use crate::graphql::execution::context::store;
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::guards::AdminOnly;
use crate::graphql::schema::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use crate::store::{AuditRecord, SortValue};

const ORDERING: &str = "audit:id:desc";

pub struct AuditEntry(AuditRecord);

/// One write made through the API.
#[Object]
impl AuditEntry {
    /// When it was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Who made it: subject at their token's issuer.
    async fn actor_sub(&self) -> &str {
        &self.0.actor_sub
    }

    /// Who made it: their email.
    async fn actor_email(&self) -> &str {
        &self.0.actor_email
    }

    /// The mutation, e.g. `updateProject`.
    async fn action(&self) -> &str {
        self.0.action.as_db()
    }

    /// What it acted on, e.g. `project:cartiflette`.
    async fn target(&self) -> &str {
        &self.0.target
    }

    /// The row before, as JSON; null for additions.
    async fn before(&self) -> Option<&str> {
        self.0.before.as_deref()
    }

    /// The row after, as JSON; null for removals.
    async fn after(&self) -> Option<&str> {
        self.0.after.as_deref()
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every write, newest first, a page at a time (administrators).
    #[graphql(guard = "AdminOnly", cache_control(private))]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry, ListTotal, EmptyFields>> {
        let page = PageArgs {
            first,
            after,
            last: None,
            before: None,
        }
        .page(ORDERING, CursorKind::Id)?;
        let (rows, more) = store(ctx)?.audit_page(&page).await.or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(ORDERING, &SortValue::None, row.id),
                    AuditEntry(row),
                )
            })
            .collect();
        Ok(connection(&page, more, nodes, ListTotal::AuditLog))
    }
}
