//! The journal of catalogue changes: each write transaction records, under
//! the next catalogue revision, which projects and organizations it changed.
//! Search indexes replay it to stay fresh on every replica (see the
//! `m20261123_000005_changes` migration for why revisions never skip).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{catalogue_change, catalogue_revision};
use super::{Store, StoreError};

/// What a change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangedSubject {
    /// A project, its code and data links, or what was harvested about them.
    Project(i64),
    Organization(i64),
}

impl ChangedSubject {
    fn to_db(self) -> String {
        match self {
            Self::Project(id) => format!("project:{id}"),
            Self::Organization(id) => format!("organization:{id}"),
        }
    }

    fn from_db(value: &str) -> Option<Self> {
        let (kind, id) = value.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "project" => Some(Self::Project(id)),
            "organization" => Some(Self::Organization(id)),
            _ => None,
        }
    }
}

/// What was committed after some revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangesSince {
    Nothing,
    Changes {
        /// The last revision read: ask from here next time.
        revision: i64,
        subjects: BTreeSet<ChangedSubject>,
    },
    /// Some of the changes are no longer in the journal (pruned): read everything again.
    Incomplete {
        revision: i64,
    },
}

/// Takes the next revision and records `subjects` under it. Call it last in
/// the write's transaction: it queues the other writers until the commit.
pub(super) async fn record_changes(
    txn: &impl ConnectionTrait,
    subjects: impl IntoIterator<Item = ChangedSubject>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let subjects: BTreeSet<ChangedSubject> = subjects.into_iter().collect();
    if subjects.is_empty() {
        return Ok(());
    }
    let revision = catalogue_revision::Entity::update_many()
        .col_expr(
            catalogue_revision::Column::Value,
            Expr::col(catalogue_revision::Column::Value).add(1),
        )
        .filter(catalogue_revision::Column::Id.eq(1))
        .exec_with_returning(txn)
        .await?
        .first()
        .map(|row| row.value)
        .ok_or_else(|| StoreError::Unreadable {
            column: "catalogue_revision.value",
            value: "no row".to_owned(),
        })?;
    let subjects: Vec<ChangedSubject> = subjects.into_iter().collect();
    // Bounded statements: SQLite takes at most 32,766 parameters.
    for chunk in subjects.chunks(1000) {
        let rows = chunk.iter().map(|subject| catalogue_change::ActiveModel {
            revision: Set(revision),
            subject: Set(subject.to_db()),
            at: Set(at),
        });
        catalogue_change::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// The last revision committed.
    pub async fn catalogue_revision(&self) -> Result<i64, StoreError> {
        Ok(catalogue_revision::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .map_or(0, |row| row.value))
    }

    /// When the journal recorded `revision`; `None` when it does not hold it
    /// (never recorded, or pruned).
    pub async fn revision_recorded_at(
        &self,
        revision: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(catalogue_change::Entity::find()
            .filter(catalogue_change::Column::Revision.eq(revision))
            .one(&self.db)
            .await?
            .map(|row| row.at))
    }

    /// What the revisions after `revision` changed: one read of the
    /// revision counter when nothing did.
    pub async fn changes_since(&self, revision: i64) -> Result<ChangesSince, StoreError> {
        let latest = self.catalogue_revision().await?;
        if latest <= revision {
            return Ok(ChangesSince::Nothing);
        }
        // Every revision up to `latest` has committed (see the migration).
        let rows = catalogue_change::Entity::find()
            .filter(catalogue_change::Column::Revision.gt(revision))
            .filter(catalogue_change::Column::Revision.lte(latest))
            .order_by_asc(catalogue_change::Column::Revision)
            .all(&self.db)
            .await?;
        // Revisions have no gaps (each is taken by a transaction that records
        // a change, or rolled back with it): a missing one was pruned.
        let distinct: BTreeSet<i64> = rows.iter().map(|row| row.revision).collect();
        if distinct.len() as i64 != latest - revision {
            return Ok(ChangesSince::Incomplete { revision: latest });
        }
        let mut subjects = BTreeSet::new();
        for row in rows {
            let subject =
                ChangedSubject::from_db(&row.subject).ok_or_else(|| StoreError::Unreadable {
                    column: "catalogue_change.subject",
                    value: row.subject.clone(),
                })?;
            subjects.insert(subject);
        }
        Ok(ChangesSince::Changes {
            revision: latest,
            subjects,
        })
    }

    /// Forgets the revisions up to the last one recorded before `before`;
    /// returns how many rows. Replicas replay the journal every second: old
    /// entries serve nobody. Pruning a prefix of revisions (not by time alone,
    /// as writers' clocks differ) keeps what is left free of holes.
    pub async fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let last_old = catalogue_change::Entity::find()
            .filter(catalogue_change::Column::At.lt(before))
            .order_by_desc(catalogue_change::Column::Revision)
            .one(&self.db)
            .await?;
        let Some(last_old) = last_old else {
            return Ok(0);
        };
        Ok(catalogue_change::Entity::delete_many()
            .filter(catalogue_change::Column::Revision.lte(last_old.revision))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
