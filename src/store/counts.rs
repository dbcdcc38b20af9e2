//! The counts of filtered lists (`totalCount`), kept per catalogue revision.
//! Counting a filtered list reads the whole catalogue (tens of milliseconds
//! at 10,000 projects), portals ask the same counts on every page, and a
//! count changes only when a write commits a new revision: so a count is
//! computed once per revision, filter and audience, at the price of one read
//! of the one-row revision counter.

use crate::catalogue::Audience;

use super::{DatasetFilter, ProjectFilter, RepositoryFilter, Snapshot, Store, StoreError};

/// What the counts kept may weigh, keys included (their filters' text) and
/// the cache's own bookkeeping.
const BUDGET_BYTES: u64 = 4 * 1024 * 1024;

/// A list whose count is kept per revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CountedList {
    Projects(ProjectFilter),
    Repositories(RepositoryFilter),
    Datasets(DatasetFilter),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct CountKey {
    revision: i64,
    audience: Audience,
    list: CountedList,
}

pub(super) type CountsKept = moka::future::Cache<CountKey, u64>;

pub(super) fn counts_kept() -> CountsKept {
    moka::future::Cache::builder()
        .max_capacity(BUDGET_BYTES)
        .weigher(|key: &CountKey, _| {
            // The filters' text, at least what their strings allocate.
            let text = format!("{:?}", key.list).len();
            crate::kept_entry::weight::<CountKey, u64>(text)
        })
        .build()
}

impl Store {
    /// The count of `list` as `audience` sees it at the current revision:
    /// kept, or `count` run and kept.
    pub(super) async fn kept_count(
        &self,
        list: CountedList,
        audience: Audience,
        count: impl std::future::Future<Output = Result<u64, StoreError>>,
    ) -> Result<u64, StoreError> {
        // Read before counting: a write committing meanwhile is counted under
        // the revision before it, never missing from a later one.
        let revision = self.catalogue_revision().await?;
        let key = CountKey {
            revision,
            audience,
            list,
        };
        if let Some(count) = self.counts.get(&key).await {
            return Ok(count);
        }
        let counted = count.await?;
        self.counts.insert(key, counted).await;
        Ok(counted)
    }

    /// The count of `list` in `snapshot`, kept under its revision with the
    /// counts the statements make; `None` for a filter the read model
    /// cannot tell.
    pub async fn count_in(
        &self,
        snapshot: &Snapshot,
        list: CountedList,
        audience: Audience,
    ) -> Option<u64> {
        let key = CountKey {
            revision: snapshot.revision(),
            audience,
            list,
        };
        if let Some(count) = self.counts.get(&key).await {
            return Some(count);
        }
        let counted = snapshot.count(&key.list, audience)?;
        self.counts.insert(key, counted).await;
        Some(counted)
    }
}
