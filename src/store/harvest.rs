//! What upstream sources said about links, and the harvest lease. The facts
//! are opaque JSON to this module; `facts` gives them their shape.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use super::changes::{
    Change, ChangeKind, ChangedField, ChangedSubject, link_audience, record_changes,
};
use super::entities::{harvest_lease, harvest_result, project};
use super::{Store, StoreError};
use crate::facts::HarvestStatus;

/// The last harvest of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestRecord {
    /// `repository:<id>`, `dataset:<id>` or `link:<id>`.
    pub subject: String,
    pub project_id: i64,
    pub url: String,
    pub status: HarvestStatus,
    pub message: Option<String>,
    pub harvested_at: DateTime<Utc>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The last good answer, as JSON.
    pub facts: Option<String>,
    pub facts_changed_at: Option<DateTime<Utc>>,
}

impl From<harvest_result::Model> for HarvestRecord {
    fn from(row: harvest_result::Model) -> Self {
        Self {
            subject: row.subject,
            project_id: row.project_id,
            url: row.url,
            // A status this version does not know reads as an error: the
            // record's facts stay usable.
            status: HarvestStatus::from_db(&row.status).unwrap_or(HarvestStatus::Error),
            message: row.message,
            harvested_at: row.harvested_at,
            etag: row.etag,
            last_modified: row.last_modified,
            facts: row.facts,
            facts_changed_at: row.facts_changed_at,
        }
    }
}

/// One harvest's outcome for one link.
pub struct HarvestWrite<'a> {
    pub subject: &'a str,
    pub project_id: i64,
    pub url: &'a str,
    pub status: HarvestStatus,
    pub message: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub facts: FactsWrite<'a>,
}

/// What a harvest does to a link's stored facts.
pub enum FactsWrite<'a> {
    /// Keeps the last good ones (a failure, or nothing changed).
    Keep,
    /// New facts and their validators.
    Replace(FreshFacts<'a>),
    /// Drops them: the link may no longer be harvested.
    Forget,
}

pub struct FreshFacts<'a> {
    pub facts: &'a str,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

impl Store {
    /// The ids of every project, or of the one with `slug`.
    pub async fn project_ids(&self, slug: Option<&str>) -> Result<Vec<i64>, StoreError> {
        let mut query = project::Entity::find()
            .select_only()
            .column(project::Column::Id);
        if let Some(slug) = slug {
            query = query.filter(project::Column::Slug.eq(slug));
        }
        Ok(query.into_tuple::<i64>().all(&self.db).await?)
    }

    /// The last harvests of `subjects`.
    pub async fn harvest_results(
        &self,
        subjects: &[String],
    ) -> Result<Vec<HarvestRecord>, StoreError> {
        Ok(harvest_result::Entity::find()
            .filter(harvest_result::Column::Subject.is_in(subjects.iter().cloned()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(HarvestRecord::from)
            .collect())
    }

    /// Records a harvest; failures keep the last good facts, a link that may
    /// no longer be harvested loses them. Returns whether
    /// what the API serves changed (the facts, or the status and message).
    pub async fn record_harvest(&self, write: &HarvestWrite<'_>) -> Result<bool, StoreError> {
        // Read outside the transaction: on SQLite, a transaction that reads
        // before it writes cannot wait for another writer (SQLITE_BUSY at once).
        let previous = harvest_result::Entity::find_by_id(write.subject.to_owned())
            .one(&self.db)
            .await?;
        let stored = previous.as_ref().and_then(|p| p.facts.as_deref());
        let facts_changed = match &write.facts {
            FactsWrite::Keep => false,
            FactsWrite::Replace(fresh) => stored != Some(fresh.facts),
            FactsWrite::Forget => stored.is_some(),
        };
        // NOT_MODIFIED after OK serves the same facts: not a change worth a new cache generation.
        let served_status = |status| match status {
            HarvestStatus::NotModified => HarvestStatus::Ok,
            status => status,
        };
        let status_changed = previous.as_ref().is_none_or(|p| {
            HarvestStatus::from_db(&p.status).map(served_status)
                != Some(served_status(write.status))
                || p.message.as_deref() != write.message
        });
        let changed = facts_changed;
        let mut row = harvest_result::ActiveModel {
            subject: Set(write.subject.to_owned()),
            project_id: Set(write.project_id),
            url: Set(write.url.to_owned()),
            status: Set(write.status.as_db().to_owned()),
            message: Set(write.message.map(str::to_owned)),
            harvested_at: Set(write.at),
            ..Default::default()
        };
        match &write.facts {
            FactsWrite::Keep => {}
            FactsWrite::Replace(fresh) => {
                row.etag = Set(fresh.etag.map(str::to_owned));
                row.last_modified = Set(fresh.last_modified.map(str::to_owned));
                row.facts = Set(Some(fresh.facts.to_owned()));
            }
            FactsWrite::Forget => {
                row.etag = Set(None);
                row.last_modified = Set(None);
                row.facts = Set(None);
            }
        }
        if changed {
            row.facts_changed_at = Set(Some(write.at));
        }
        let txn = self.db.begin().await?;
        let inserted = match previous {
            Some(_) => false,
            None => {
                let mut first = row.clone();
                if matches!(write.facts, FactsWrite::Keep) {
                    first.etag = Set(None);
                    first.last_modified = Set(None);
                    first.facts = Set(None);
                }
                if !changed {
                    first.facts_changed_at = Set(None);
                }
                // Another writer may have inserted it meanwhile: then update.
                matches!(
                    harvest_result::Entity::insert(first)
                        .on_conflict_do_nothing_on([harvest_result::Column::Subject])
                        .exec(&txn)
                        .await?,
                    sea_orm::TryInsertResult::Inserted(_)
                )
            }
        };
        if !inserted {
            harvest_result::Entity::update(row).exec(&txn).await?;
        }
        if facts_changed {
            let audience = link_audience(&txn, write.project_id, write.url).await?;
            let change = Change::new(
                ChangedSubject::Project(write.project_id),
                ChangeKind::FactsChanged,
                [ChangedField::Facts],
                audience,
            );
            record_changes(&txn, [change], write.at).await?;
        }
        txn.commit().await?;
        Ok(facts_changed || status_changed)
    }

    /// Takes the lease `name` for `holder` until `until`, if nobody else
    /// holds it unexpired; true when taken (or renewed).
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let renewed = harvest_lease::Entity::update_many()
            .col_expr(harvest_lease::Column::Holder, Expr::value(holder))
            .col_expr(harvest_lease::Column::ExpiresAt, Expr::value(until))
            .filter(harvest_lease::Column::Name.eq(name))
            .filter(
                Condition::any()
                    .add(harvest_lease::Column::ExpiresAt.lt(Utc::now()))
                    .add(harvest_lease::Column::Holder.eq(holder)),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        if renewed == 1 {
            return Ok(true);
        }
        let inserted = harvest_lease::Entity::insert(harvest_lease::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            expires_at: Set(until),
        })
        .on_conflict_do_nothing_on([harvest_lease::Column::Name])
        .exec(&self.db)
        .await?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(_)))
    }

    /// Gives the lease back, if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        harvest_lease::Entity::delete_many()
            .filter(harvest_lease::Column::Name.eq(name))
            .filter(harvest_lease::Column::Holder.eq(holder))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
