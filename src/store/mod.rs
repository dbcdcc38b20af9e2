//! Storage: sea-orm entities and the queries the API needs. The only module
//! that speaks SQL; it knows nothing of GraphQL or tokens.

mod changes;
mod connect;
mod counts;
mod entities;
mod harvest;
mod import;
mod link_checks;
mod links;
mod organizations;
mod paging;
mod projects;
mod read_model;
mod readiness;
mod records;
mod rows;
mod search_source;
mod signin;
mod tags;
mod uses;
mod webhooks;
mod writes;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::DatabaseConnection;

use crate::catalogue::vocabulary;

pub use changes::{
    ChangeFeed, ChangeFilter, ChangeKind, ChangedField, ChangedSubject, ChangesSince, FeedPosition,
    RecordedChange,
};
pub use counts::CountedList;
pub use harvest::{FactsWrite, FreshFacts, HarvestRecord, HarvestWrite};
pub use import::ImportReport;
pub use link_checks::{CheckTarget, LinkCheckCounts, LinkCheckRecord, LinkCheckWrite, Redirect};
pub use links::{DatasetFilter, RepositoryFilter};
pub use paging::{Page, PageDirection, SortValue};
pub use projects::{ProjectFilter, ProjectOrderField};
pub use read_model::{ModelState, Snapshot};
pub use readiness::Unready;
pub use records::{
    DatasetRecord, LinkRecord, OrganizationRecord, ParticipationRecord, ProjectRecord,
    RepositoryRecord, SourceRecord, TagCount, TagRecord, UseRecord,
};
pub use rows::Columns;
pub use search_source::ProjectBundle;
pub use signin::{SigninAttempt, SigninMode, StoredSigningKey};
pub use uses::{
    Declaration, DeclaredUse, HarvestScope, HarvestedUse, UseBounds, UseCounts, UseTarget,
};
pub use webhooks::{
    AttemptOutcome, DeliveryRecord, DeliveryStatus, NewDelivery, NewWebhook, WebhookRecord,
};
pub use writes::{
    Actor, AuditAction, AuditRecord, LinkTable, NewProject, ProjectChanges, WriteError,
};

vocabulary! {
    /// Where a link row came from (its `origin`).
    LinkOrigin {
        /// The catalogue files: an import may remove it.
        File = "FILE",
        /// A write through the API: an import leaves it alone.
        Api = "API",
    }
}

/// What can go wrong in storage. Callers log it and answer a generic error:
/// database messages are not for clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot prepare the database at {path}: {source}")]
    Setup {
        path: String,
        source: std::io::Error,
    },
    /// A stored value this version cannot read (written by a newer version?).
    #[error("unreadable value {value:?} in {column}")]
    Unreadable { column: &'static str, value: String },
}

/// The catalogue's database.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    counts: counts::CountsKept,
    read_model: Arc<read_model::ReadModel>,
}

impl Store {
    /// How many SQL statements this store has executed since it was opened.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Connections in the pool, and how many of them are idle.
    pub fn pool_use(&self) -> (u32, usize) {
        match self.db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// Closes the connection pool.
    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.db.close().await?)
    }
}
