//! Link checks: whether each URL the catalogue links to still answers —
//! links of every kind but discussion rooms, datasets but data.gouv.fr's
//! (the harvest asks the portal about those), the projects' own websites
//! and documentation — checked once per distinct URL, under the harvest's
//! lease and on its schedule. The checks of URLs that left the catalogue are
//! forgotten at each run, so the table holds the catalogue's URLs only.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use futures_util::StreamExt;

use super::probe::Prober;
use crate::facts::LinkCheckStatus;
use crate::store::{CheckTarget, LinkCheckRecord, LinkCheckWrite, Store, StoreError};

/// URLs checked at once (each host also has its own limit).
const URLS_AT_ONCE: usize = 16;

/// What the link checks of a run did.
#[derive(Debug, Default)]
pub struct CheckSummary {
    /// The checks made, in URL order.
    pub checks: Vec<LinkCheckRecord>,
    /// URLs whose check changed in what the API serves.
    pub changed: usize,
    /// Checks forgotten: their URLs left the catalogue.
    pub forgotten: u64,
}

impl CheckSummary {
    pub fn count(&self, status: LinkCheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The URLs flagged dead.
    pub fn dead(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.flagged_at.is_some())
            .count()
    }
}

impl std::fmt::Display for CheckSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} URLs checked: {} OK, {} moved, {} broken ({} dead), {} not allowed; {} changed, {} forgotten",
            self.checks.len(),
            self.count(LinkCheckStatus::Ok),
            self.count(LinkCheckStatus::Moved),
            self.count(LinkCheckStatus::Broken),
            self.dead(),
            self.count(LinkCheckStatus::NotAllowed),
            self.changed,
            self.forgotten
        )
    }
}

pub struct LinkChecker {
    store: Store,
    prober: Prober,
    /// BROKEN checks in a row that make a URL dead.
    dead_after: u32,
    /// Runs completed in this process.
    runs: AtomicU64,
}

impl LinkChecker {
    pub fn new(store: Store, prober: Prober, dead_after: u32) -> Self {
        Self {
            store,
            prober,
            dead_after,
            runs: AtomicU64::new(0),
        }
    }

    /// How many runs this process has completed (or cut short by an error).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Checks the URLs of the projects `only` names (every project's when
    /// None) and forgets the checks of URLs no project holds any more.
    /// `progress` hears (done, total) after each URL.
    pub async fn run(
        &self,
        only: Option<&[i64]>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<CheckSummary, StoreError> {
        let outcome = self.check_all(only, progress).await;
        self.runs.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    async fn check_all(
        &self,
        only: Option<&[i64]>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<CheckSummary, StoreError> {
        let targets = self.store.check_targets().await?;
        let forgotten = {
            let kept: HashSet<&str> = targets.iter().map(|t| t.url.as_str()).collect();
            self.store.forget_link_checks_except(&kept).await?
        };
        let chosen: Vec<CheckTarget> = targets
            .into_iter()
            .filter(|target| {
                only.is_none_or(|ids| target.project_ids.iter().any(|id| ids.contains(id)))
            })
            .collect();
        let total = chosen.len();
        let mut summary = CheckSummary {
            forgotten,
            ..CheckSummary::default()
        };
        let mut checks = futures_util::stream::iter(chosen)
            .map(|target| self.check(target))
            .buffer_unordered(URLS_AT_ONCE);
        while let Some(checked) = checks.next().await {
            let (record, changed) = checked?;
            summary.changed += usize::from(changed);
            summary.checks.push(record);
            progress(summary.checks.len(), total);
        }
        summary.checks.sort_by(|a, b| a.url.cmp(&b.url));
        Ok(summary)
    }

    async fn check(&self, target: CheckTarget) -> Result<(LinkCheckRecord, bool), StoreError> {
        let probe = self.prober.probe(&target.url).await;
        let recorded = self
            .store
            .record_link_check(&LinkCheckWrite {
                url: &target.url,
                status: probe.status,
                http_status: probe.http_status,
                final_url: Some(&probe.final_url),
                redirects: &probe.redirects,
                message: probe.message.as_deref(),
                at: Utc::now(),
                dead_after: self.dead_after,
                project_ids: &target.project_ids,
            })
            .await?;
        if recorded.0.flagged_at.is_some() {
            tracing::warn!(url = %target.url, failures = recorded.0.consecutive_failures, message = ?probe.message, "dead link");
        }
        Ok(recorded)
    }
}
