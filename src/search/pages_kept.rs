//! Search pages kept per index generation. Ranking reads every matching
//! document (all 120,000 for the empty query at 10,000 projects: about
//! 5 ms), and a portal asks the same first pages again and again in
//! documents the answer cache tells apart (other fields, other variables).
//! A page changes only when a replay commits, which starts a new searcher
//! generation: so each page is ranked once per generation and audience.

use std::sync::Arc;

use crate::catalogue::Audience;

use super::{SearchPage, Selection};

/// What the pages kept may weigh, keys included.
const BUDGET_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct PageKey {
    /// The searcher generation ranked.
    pub generation: u64,
    pub audience: Audience,
    pub selection: Selection,
    pub offset: usize,
    pub limit: usize,
}

pub(super) type PagesKept = moka::future::Cache<PageKey, Arc<SearchPage>>;

pub(super) fn pages_kept() -> PagesKept {
    moka::future::Cache::builder()
        .max_capacity(BUDGET_BYTES)
        .weigher(|key: &PageKey, page: &Arc<SearchPage>| {
            let hits: usize = page
                .hits
                .iter()
                .map(|hit| {
                    let snippets: usize = hit
                        .snippets
                        .iter()
                        .map(|s| s.text.len() + s.html.len() + std::mem::size_of_val(s))
                        .sum();
                    snippets + std::mem::size_of_val(hit)
                })
                .sum();
            crate::kept_entry::weight::<PageKey, Arc<SearchPage>>(
                key.selection.held_bytes() + hits + std::mem::size_of::<SearchPage>(),
            )
        })
        .build()
}
