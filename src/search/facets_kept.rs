//! Facet counts kept per index generation. Counting facets reads every
//! matching document on every dimension (tens of milliseconds for the empty
//! query at 10,000 projects, whatever dimensions a request shows), and a
//! portal asks the same selections again and again in documents the answer
//! cache tells apart (other fields, other variables). The counts change only
//! when a replay commits, which starts a new searcher generation: so each
//! selection is counted once per generation and audience.

use std::sync::Arc;

use crate::catalogue::Audience;

use super::{Facets, Selection};

/// What the facet counts kept may weigh, keys included.
const BUDGET_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct FacetsKey {
    /// The searcher generation counted.
    pub generation: u64,
    pub audience: Audience,
    pub selection: Selection,
    pub limit: usize,
    pub each_without_its_filter: bool,
}

pub(super) type FacetsKept = moka::future::Cache<FacetsKey, Arc<Facets>>;

pub(super) fn facets_kept() -> FacetsKept {
    moka::future::Cache::builder()
        .max_capacity(BUDGET_BYTES)
        .weigher(|key: &FacetsKey, facets: &Arc<Facets>| {
            let values: usize = facets
                .dimensions
                .iter()
                .flat_map(|(_, values)| values.iter().map(|v| v.value.len() + v.label.len() + 64))
                .sum();
            crate::kept_entry::weight::<FacetsKey, Arc<Facets>>(
                key.selection.held_bytes() + values + std::mem::size_of::<Facets>(),
            )
        })
        .build()
}
