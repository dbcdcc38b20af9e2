//! The last check of each URL the catalogue links to: one row per distinct
//! URL, shared by every link, dataset or project holding it, and only for
//! URLs the catalogue holds.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::changes::{
    Change, ChangeKind, ChangedField, ChangedSubject, link_audience, record_changes,
};
use super::entities::link_check;
use super::{Store, StoreError};
use crate::catalogue::Audience;
use crate::facts::{LinkCheckStatus, checks_dataset, checks_link};

/// Rows deleted per statement when pruning.
const DELETE_BATCH: usize = 500;

/// One redirect followed: the answer's status and where it pointed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub status: u16,
    pub location: String,
}

/// The last check of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCheckRecord {
    pub url: String,
    pub status: LinkCheckStatus,
    /// The status of the last answer, when there was one.
    pub http_status: Option<u16>,
    /// The last URL asked (the URL itself when nothing redirected).
    pub final_url: Option<String>,
    pub redirects: Vec<Redirect>,
    pub message: Option<String>,
    pub checked_at: DateTime<Utc>,
    /// BROKEN checks in a row, up to the last one.
    pub consecutive_failures: u32,
    /// The first of those.
    pub first_failed_at: Option<DateTime<Utc>>,
    /// When the URL had failed as many checks in a row as make it dead.
    pub flagged_at: Option<DateTime<Utc>>,
}

impl TryFrom<link_check::Model> for LinkCheckRecord {
    type Error = StoreError;

    fn try_from(row: link_check::Model) -> Result<Self, StoreError> {
        let status = LinkCheckStatus::from_db(&row.status).ok_or(StoreError::Unreadable {
            column: "link_check.status",
            value: row.status.clone(),
        })?;
        let redirects =
            serde_json::from_str(&row.redirects).map_err(|_| StoreError::Unreadable {
                column: "link_check.redirects",
                value: row.redirects.clone(),
            })?;
        Ok(Self {
            url: row.url,
            status,
            http_status: row.http_status.and_then(|s| u16::try_from(s).ok()),
            final_url: row.final_url,
            redirects,
            message: row.message,
            checked_at: row.checked_at,
            consecutive_failures: u32::try_from(row.consecutive_failures).unwrap_or_default(),
            first_failed_at: row.first_failed_at,
            flagged_at: row.flagged_at,
        })
    }
}

/// A URL to check and the projects holding it (in a link, a dataset, or
/// as their website or documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTarget {
    pub url: String,
    pub project_ids: Vec<i64>,
}

/// What one check found.
pub struct LinkCheckWrite<'a> {
    pub url: &'a str,
    pub status: LinkCheckStatus,
    pub http_status: Option<u16>,
    pub final_url: Option<&'a str>,
    pub redirects: &'a [Redirect],
    pub message: Option<&'a str>,
    pub at: DateTime<Utc>,
    /// BROKEN checks in a row that make a URL dead.
    pub dead_after: u32,
    /// The projects holding the URL: their search documents show its health.
    pub project_ids: &'a [i64],
}

/// How many checked URLs have each status, and how many are dead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkCheckCounts {
    pub by_status: Vec<(LinkCheckStatus, u64)>,
    pub dead: u64,
}

fn url_hash(url: &str) -> String {
    Sha256::digest(url.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Store {
    /// The last checks of `urls` (those checked).
    pub async fn link_checks(&self, urls: &[String]) -> Result<Vec<LinkCheckRecord>, StoreError> {
        let rows = link_check::Entity::find()
            .filter(link_check::Column::UrlHash.is_in(urls.iter().map(|url| url_hash(url))))
            .all(&self.db)
            .await?;
        rows.into_iter().map(LinkCheckRecord::try_from).collect()
    }

    /// Every URL of the catalogue that link checks cover, in URL order: the
    /// links but discussion rooms, the datasets but data.gouv.fr's, and the
    /// projects' own websites and documentation, whoever may read them.
    pub async fn check_targets(&self) -> Result<Vec<CheckTarget>, StoreError> {
        let ids = self.project_ids(None).await?;
        let everything = Audience::Agents;
        let mut targets: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut add = |url: String, project_id: i64| {
            let projects = targets.entry(url).or_default();
            if !projects.contains(&project_id) {
                projects.push(project_id);
            }
        };
        for project in self.projects_by_ids(&ids, everything).await? {
            for url in [project.website, project.documentation]
                .into_iter()
                .flatten()
            {
                add(url, project.id);
            }
        }
        for (project_id, link) in self.links_of_projects(&ids, everything).await? {
            if checks_link(link.kind) {
                add(link.url, project_id);
            }
        }
        for (project_id, dataset) in self.datasets_of_projects(&ids, everything).await? {
            if checks_dataset(dataset.provider) {
                add(dataset.url, project_id);
            }
        }
        Ok(targets
            .into_iter()
            .map(|(url, project_ids)| CheckTarget { url, project_ids })
            .collect())
    }

    /// Records a check: counts the failures in a row and flags the URL dead
    /// at `dead_after` of them. A change in what the API serves of it
    /// (anything but `checked_at`) is journalled for the projects holding the
    /// URL, so every replica's search documents and in-process answer cache
    /// follow. Returns the record and whether it changed so.
    pub async fn record_link_check(
        &self,
        write: &LinkCheckWrite<'_>,
    ) -> Result<(LinkCheckRecord, bool), StoreError> {
        let hash = url_hash(write.url);
        // Read outside the transaction (see `record_harvest`).
        let previous = link_check::Entity::find_by_id(hash.clone())
            .one(&self.db)
            .await?
            .map(LinkCheckRecord::try_from)
            .transpose()?;
        let broken = write.status == LinkCheckStatus::Broken;
        let consecutive_failures = match (&previous, broken) {
            (_, false) => 0,
            (Some(previous), true) => previous.consecutive_failures.saturating_add(1),
            (None, true) => 1,
        };
        let first_failed_at = broken.then(|| {
            previous
                .as_ref()
                .and_then(|p| p.first_failed_at)
                .unwrap_or(write.at)
        });
        let flagged_at =
            (broken && consecutive_failures >= Ord::max(write.dead_after, 1)).then(|| {
                previous
                    .as_ref()
                    .and_then(|p| p.flagged_at)
                    .unwrap_or(write.at)
            });
        let record = LinkCheckRecord {
            url: write.url.to_owned(),
            status: write.status,
            http_status: write.http_status,
            final_url: write.final_url.map(str::to_owned),
            redirects: write.redirects.to_vec(),
            message: write.message.map(str::to_owned),
            checked_at: write.at,
            consecutive_failures,
            first_failed_at,
            flagged_at,
        };
        let changed = previous.as_ref().is_none_or(|previous| {
            LinkCheckRecord {
                checked_at: write.at,
                ..previous.clone()
            } != record
        });
        let row = link_check::ActiveModel {
            url_hash: Set(hash),
            url: Set(record.url.clone()),
            status: Set(record.status.as_db().to_owned()),
            http_status: Set(record.http_status.map(i32::from)),
            final_url: Set(record.final_url.clone()),
            redirects: Set(serde_json::to_string(&record.redirects).expect("redirects serialise")),
            message: Set(record.message.clone()),
            checked_at: Set(record.checked_at),
            consecutive_failures: Set(i32::try_from(consecutive_failures).unwrap_or(i32::MAX)),
            first_failed_at: Set(record.first_failed_at),
            flagged_at: Set(record.flagged_at),
        };
        let txn = self.db.begin().await?;
        // Checks run one run at a time (the harvest's lease): what was read
        // above is still there.
        match previous {
            Some(_) => {
                link_check::Entity::update(row).exec(&txn).await?;
            }
            None => {
                link_check::Entity::insert(row).exec(&txn).await?;
            }
        }
        if changed {
            let mut changes = Vec::with_capacity(write.project_ids.len());
            for &id in write.project_ids {
                changes.push(Change::new(
                    ChangedSubject::Project(id),
                    ChangeKind::FactsChanged,
                    [ChangedField::LinkChecks],
                    link_audience(&txn, id, write.url).await?,
                ));
            }
            record_changes(&txn, changes, write.at).await?;
        }
        txn.commit().await?;
        Ok((record, changed))
    }

    /// Deletes the checks of URLs not in `kept` (the catalogue's); returns
    /// how many.
    pub async fn forget_link_checks_except(&self, kept: &HashSet<&str>) -> Result<u64, StoreError> {
        let kept: HashSet<String> = kept.iter().map(|url| url_hash(url)).collect();
        let stored: Vec<String> = link_check::Entity::find()
            .select_only()
            .column(link_check::Column::UrlHash)
            .into_tuple()
            .all(&self.db)
            .await?;
        let gone: Vec<String> = stored
            .into_iter()
            .filter(|hash| !kept.contains(hash))
            .collect();
        let mut deleted = 0;
        for batch in gone.chunks(DELETE_BATCH) {
            deleted += link_check::Entity::delete_many()
                .filter(link_check::Column::UrlHash.is_in(batch.iter().cloned()))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        Ok(deleted)
    }

    /// How many checked URLs have each status (every stored status, zeros
    /// included), and how many are dead.
    pub async fn link_check_counts(&self) -> Result<LinkCheckCounts, StoreError> {
        let counted: Vec<(String, i64)> = link_check::Entity::find()
            .select_only()
            .column(link_check::Column::Status)
            .column_as(Expr::col(link_check::Column::UrlHash).count(), "count")
            .group_by(link_check::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let dead: i64 = link_check::Entity::find()
            .select_only()
            .column_as(Expr::col(link_check::Column::UrlHash).count(), "count")
            .filter(link_check::Column::FlaggedAt.is_not_null())
            .into_tuple()
            .one(&self.db)
            .await?
            .unwrap_or_default();
        let count_of = |status: LinkCheckStatus| {
            counted
                .iter()
                .find(|(stored, _)| stored == status.as_db())
                .map_or(0, |(_, count)| u64::try_from(*count).unwrap_or_default())
        };
        Ok(LinkCheckCounts {
            by_status: [
                LinkCheckStatus::Ok,
                LinkCheckStatus::Moved,
                LinkCheckStatus::Broken,
                LinkCheckStatus::NotAllowed,
            ]
            .into_iter()
            .map(|status| (status, count_of(status)))
            .collect(),
            dead: u64::try_from(dead).unwrap_or_default(),
        })
    }
}
