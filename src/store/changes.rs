//! The journal of catalogue changes: each write transaction records, under
//! the next catalogue revision, what it changed: the kind of change, its
//! subject (a project or an organization), which fields, and who may read
//! it. Search indexes replay it to stay fresh on every replica; other tools
//! follow it as a feed (see the `m20261123_000005_changes` migration for why
//! revisions never skip, and `m20261209_000012_change_journal` for the two
//! sequences readers follow).
//!
//! A change's audience is decided when it is recorded, from what the subject
//! and the changed link were then, and never revised: a reader's filter is
//! one comparison per row, without reading the catalogue. When visibility
//! itself changes, the change is recorded for the wider of the audiences
//! before and after: readers who could see the subject learn that it left
//! their view, readers who could not learn that it entered it. What a change
//! points to is always read again with the reader's current rights.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::entities::{catalogue_change, catalogue_revision, dataset, link, project, repository};
use super::records::decode;
use super::{Store, StoreError};
use crate::catalogue::{Access, Audience, ProjectStatus, vocabulary};

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

vocabulary! {
    /// What happened to a change's subject.
    pub ChangeKind {
        /// A project entered the catalogue.
        ProjectCreated = "PROJECT_CREATED",
        /// A project's own fields, or the things it lists, changed.
        ProjectUpdated = "PROJECT_UPDATED",
        /// A project's status became archived.
        ProjectArchived = "PROJECT_ARCHIVED",
        /// A code, data or other link was added to a project.
        LinkAdded = "LINK_ADDED",
        /// A code, data or other link was removed from a project.
        LinkRemoved = "LINK_REMOVED",
        /// A harvest or a link check changed what is known about a project's links.
        FactsChanged = "FACTS_CHANGED",
        /// An organization entered the catalogue.
        OrganizationCreated = "ORGANIZATION_CREATED",
        /// An organization's fields changed.
        OrganizationUpdated = "ORGANIZATION_UPDATED",
        /// An agent declared that their organization uses a project.
        UseDeclared = "USE_DECLARED",
        /// A declared use was withdrawn.
        UseWithdrawn = "USE_WITHDRAWN",
    }
}

vocabulary! {
    /// A field of a project or an organization that a change touched, named
    /// after the API's field.
    #[derive(PartialOrd, Ord)]
    pub ChangedField {
        Name = "NAME",
        Acronym = "ACRONYM",
        Kind = "KIND",
        Siret = "SIRET",
        Siren = "SIREN",
        Summary = "SUMMARY",
        Description = "DESCRIPTION",
        Status = "STATUS",
        Website = "WEBSITE",
        Documentation = "DOCUMENTATION",
        Visibility = "VISIBILITY",
        Seasons = "SEASONS",
        Tags = "TAGS",
        Organizations = "ORGANIZATIONS",
        Sources = "SOURCES",
        Repositories = "REPOSITORIES",
        Datasets = "DATASETS",
        Links = "LINKS",
        Maintainers = "MAINTAINERS",
        /// What upstream services say about the project's links.
        Facts = "FACTS",
        /// The last checks of the project's URLs.
        LinkChecks = "LINK_CHECKS",
        /// Which organizations use the project, or what an organization uses.
        Uses = "USES",
        /// Whether an administrator confirmed an organization.
        Verified = "VERIFIED",
    }
}

/// A change to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub subject: ChangedSubject,
    pub kind: ChangeKind,
    pub fields: BTreeSet<ChangedField>,
    /// Who may read that it happened.
    pub audience: Access,
}

impl Change {
    pub fn new(
        subject: ChangedSubject,
        kind: ChangeKind,
        fields: impl IntoIterator<Item = ChangedField>,
        audience: Access,
    ) -> Self {
        Self {
            subject,
            kind,
            fields: fields.into_iter().collect(),
            audience,
        }
    }
}

/// Who may read a change to a link: readers of both the project and the link.
pub(super) fn narrower(project: Access, link: Access) -> Access {
    match (project, link) {
        (Access::Public, Access::Public) => Access::Public,
        _ => Access::Agents,
    }
}

/// Who may read a change between two states: readers of either.
pub(super) fn wider(before: Access, after: Access) -> Access {
    match (before, after) {
        (Access::Agents, Access::Agents) => Access::Agents,
        _ => Access::Public,
    }
}

/// Who may read project `id` now; agents when it is gone or unreadable.
pub(super) async fn project_audience(
    txn: &impl ConnectionTrait,
    id: i64,
) -> Result<Access, StoreError> {
    let row = project::Entity::find_by_id(id).one(txn).await?;
    Ok(row.as_ref().map_or(Access::Agents, visibility))
}

/// Who may read a change to the links at `url` of project `id`: public when
/// one of them is, within a public project.
pub(super) async fn link_audience(
    txn: &impl ConnectionTrait,
    id: i64,
    url: &str,
) -> Result<Access, StoreError> {
    let Some(project) = project::Entity::find_by_id(id).one(txn).await? else {
        return Ok(Access::Agents);
    };
    // The project's own website and documentation are as public as it is.
    if project.website.as_deref() == Some(url) || project.documentation.as_deref() == Some(url) {
        return Ok(visibility(&project));
    }
    let public = Access::Public.as_db();
    let public_links = repository::Entity::find()
        .filter(repository::Column::ProjectId.eq(id))
        .filter(repository::Column::Url.eq(url))
        .filter(repository::Column::Access.eq(public))
        .count(txn)
        .await?
        + dataset::Entity::find()
            .filter(dataset::Column::ProjectId.eq(id))
            .filter(dataset::Column::Url.eq(url))
            .filter(dataset::Column::Access.eq(public))
            .count(txn)
            .await?
        + link::Entity::find()
            .filter(link::Column::ProjectId.eq(id))
            .filter(link::Column::Url.eq(url))
            .filter(link::Column::Access.eq(public))
            .count(txn)
            .await?;
    let link = if public_links > 0 {
        Access::Public
    } else {
        Access::Agents
    };
    Ok(narrower(visibility(&project), link))
}

/// Who may read project `row`; agents when its stored word is unknown.
pub(super) fn visibility(row: &project::Model) -> Access {
    Access::from_db(&row.visibility).unwrap_or(Access::Agents)
}

/// What an update did to a project's own row: archiving it, or changing
/// fields; readable by whoever could read it before or can now.
pub(super) fn project_update(before: &project::Model, after: &project::Model) -> Change {
    let mut fields = Vec::new();
    let mut compare = |changed: bool, field| {
        if changed {
            fields.push(field);
        }
    };
    compare(before.name != after.name, ChangedField::Name);
    compare(before.summary != after.summary, ChangedField::Summary);
    compare(
        before.description != after.description,
        ChangedField::Description,
    );
    compare(before.status != after.status, ChangedField::Status);
    compare(before.website != after.website, ChangedField::Website);
    compare(
        before.documentation != after.documentation,
        ChangedField::Documentation,
    );
    compare(
        before.visibility != after.visibility,
        ChangedField::Visibility,
    );
    let archived = ProjectStatus::Archived.as_db();
    let kind = if after.status.as_deref() == Some(archived)
        && before.status.as_deref() != Some(archived)
    {
        ChangeKind::ProjectArchived
    } else {
        ChangeKind::ProjectUpdated
    };
    Change::new(
        ChangedSubject::Project(after.id),
        kind,
        fields,
        wider(visibility(before), visibility(after)),
    )
}

/// Takes the next revision and records `changes` under it, numbering them in
/// the journal's sequences. Changes of one subject, kind and audience merge
/// into one. Call it last in the write's transaction: it queues the other
/// writers until the commit.
pub(super) async fn record_changes(
    txn: &impl ConnectionTrait,
    changes: impl IntoIterator<Item = Change>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut merged: Vec<Change> = Vec::new();
    let mut index: HashMap<(ChangedSubject, ChangeKind, Access), usize> = HashMap::new();
    for change in changes {
        let key = (change.subject, change.kind, change.audience);
        match index.get(&key) {
            Some(&i) => merged[i].fields.extend(change.fields),
            None => {
                index.insert(key, merged.len());
                merged.push(change);
            }
        }
    }
    if merged.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(merged.len()).unwrap_or(i64::MAX);
    let public = i64::try_from(
        merged
            .iter()
            .filter(|c| c.audience == Access::Public)
            .count(),
    )
    .unwrap_or(i64::MAX);
    let counters = catalogue_revision::Entity::update_many()
        .col_expr(
            catalogue_revision::Column::Value,
            Expr::col(catalogue_revision::Column::Value).add(1),
        )
        .col_expr(
            catalogue_revision::Column::Changes,
            Expr::col(catalogue_revision::Column::Changes).add(count),
        )
        .col_expr(
            catalogue_revision::Column::PublicChanges,
            Expr::col(catalogue_revision::Column::PublicChanges).add(public),
        )
        .filter(catalogue_revision::Column::Id.eq(1))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Unreadable {
            column: "catalogue_revision.value",
            value: "no row".to_owned(),
        })?;
    let mut seq = counters.changes - count;
    let mut public_seq = counters.public_changes - public;
    let rows: Vec<catalogue_change::ActiveModel> = merged
        .into_iter()
        .map(|change| {
            seq += 1;
            let public_seq = (change.audience == Access::Public).then(|| {
                public_seq += 1;
                public_seq
            });
            catalogue_change::ActiveModel {
                seq: Set(seq),
                public_seq: Set(public_seq),
                revision: Set(counters.value),
                subject: Set(change.subject.to_db()),
                kind: Set(change.kind.as_db().to_owned()),
                fields: Set(change
                    .fields
                    .iter()
                    .map(|field| field.as_db())
                    .collect::<Vec<_>>()
                    .join(",")),
                audience: Set(change.audience.as_db().to_owned()),
                at: Set(at),
            }
        })
        .collect();
    // Bounded statements: SQLite takes at most 32,766 parameters.
    for chunk in rows.chunks(1000) {
        catalogue_change::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
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

/// A place in the journal as one audience reads it: after the `ordinal`-th
/// change that audience may read. Public readers count public changes only,
/// so their positions have no gaps where agents-only changes were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPosition {
    pub reader: Audience,
    pub ordinal: i64,
}

impl FeedPosition {
    /// Before the first change `reader` may read.
    pub fn start(reader: Audience) -> Self {
        Self { reader, ordinal: 0 }
    }
}

/// Which changes a feed reader wants; `None` for all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeFilter {
    pub kinds: Option<Vec<ChangeKind>>,
    pub subjects: Option<Vec<ChangedSubject>>,
}

impl ChangeFilter {
    /// Whether the filter wants `change` (as `changes_after` filters in SQL).
    pub fn wants(&self, change: &RecordedChange) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&change.kind))
            && self
                .subjects
                .as_ref()
                .is_none_or(|subjects| subjects.contains(&change.subject))
    }
}

/// One change read back from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedChange {
    /// Its place among all changes.
    pub seq: i64,
    /// Its place among public changes; `None` for an agents-only change.
    pub public_seq: Option<i64>,
    pub revision: i64,
    pub at: DateTime<Utc>,
    pub subject: ChangedSubject,
    pub kind: ChangeKind,
    pub fields: Vec<ChangedField>,
    pub audience: Access,
}

impl RecordedChange {
    /// Where a reader of `reader`'s audience stands once it has read this
    /// change; `None` when that reader may not read it.
    pub fn position(&self, reader: Audience) -> Option<FeedPosition> {
        let ordinal = match reader {
            Audience::Agents => Some(self.seq),
            Audience::Public => self.public_seq,
        }?;
        Some(FeedPosition { reader, ordinal })
    }

    fn from_row(row: catalogue_change::Model) -> Result<Self, StoreError> {
        let fields = row
            .fields
            .split(',')
            .filter(|field| !field.is_empty())
            .map(|field| decode("catalogue_change.fields", field, ChangedField::from_db))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            seq: row.seq,
            public_seq: row.public_seq,
            revision: row.revision,
            at: row.at,
            subject: decode(
                "catalogue_change.subject",
                &row.subject,
                ChangedSubject::from_db,
            )?,
            kind: decode("catalogue_change.kind", &row.kind, ChangeKind::from_db)?,
            fields,
            audience: decode("catalogue_change.audience", &row.audience, Access::from_db)?,
        })
    }
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeFeed {
    Page {
        /// Oldest first, each readable by the position's reader and wanted by the filter.
        changes: Vec<RecordedChange>,
        /// Where to ask from next: past the filtered-out changes too.
        next: FeedPosition,
        /// Whether more changes follow `next` already.
        has_more: bool,
    },
    /// The journal no longer holds (or never held) the changes right after
    /// this position: the reader must read the catalogue again.
    Pruned,
}

/// The sequence `reader` follows.
fn ordinal_column(reader: Audience) -> catalogue_change::Column {
    match reader {
        Audience::Public => catalogue_change::Column::PublicSeq,
        Audience::Agents => catalogue_change::Column::Seq,
    }
}

impl Store {
    /// The last revision committed.
    pub async fn catalogue_revision(&self) -> Result<i64, StoreError> {
        Ok(self.journal_counters().await?.map_or(0, |row| row.value))
    }

    async fn journal_counters(&self) -> Result<Option<catalogue_revision::Model>, StoreError> {
        Ok(catalogue_revision::Entity::find_by_id(1)
            .one(&self.db)
            .await?)
    }

    /// The position after the last change committed that `reader` may read.
    pub async fn feed_head(&self, reader: Audience) -> Result<FeedPosition, StoreError> {
        let counters = self.journal_counters().await?;
        let ordinal = counters.map_or(0, |row| match reader {
            Audience::Public => row.public_changes,
            Audience::Agents => row.changes,
        });
        Ok(FeedPosition { reader, ordinal })
    }

    /// The position before the oldest change `reader` may read that the
    /// journal still holds.
    pub async fn feed_tail(&self, reader: Audience) -> Result<FeedPosition, StoreError> {
        let head = self.feed_head(reader).await?;
        let oldest = self.oldest_kept(reader, head).await?;
        Ok(FeedPosition {
            reader,
            ordinal: oldest.saturating_sub(1),
        })
    }

    /// Up to `first` changes after `after` that its reader may read and
    /// `filter` wants, oldest first. Every change up to the head read first
    /// has committed (see the migrations), so a reader that asks again from
    /// `next` misses nothing and reads nothing twice.
    pub async fn changes_after(
        &self,
        after: FeedPosition,
        first: u64,
        filter: &ChangeFilter,
    ) -> Result<ChangeFeed, StoreError> {
        let head = self.feed_head(after.reader).await?;
        if after.ordinal > head.ordinal || after.ordinal < 0 {
            return Ok(ChangeFeed::Pruned);
        }
        let ordinal = ordinal_column(after.reader);
        let mut select = catalogue_change::Entity::find()
            .filter(ordinal.gt(after.ordinal))
            .filter(ordinal.lte(head.ordinal));
        if let Some(kinds) = &filter.kinds {
            select = select
                .filter(catalogue_change::Column::Kind.is_in(kinds.iter().map(|k| k.as_db())));
        }
        if let Some(subjects) = &filter.subjects {
            select = select.filter(
                catalogue_change::Column::Subject.is_in(subjects.iter().map(|s| s.to_db())),
            );
        }
        let rows = select
            .order_by_asc(ordinal)
            .limit(first.saturating_add(1))
            .all(&self.db)
            .await?;
        // Checked after reading: a prune that ran meanwhile cannot have
        // taken rows unnoticed.
        if after.ordinal.saturating_add(1) < self.oldest_kept(after.reader, head).await? {
            return Ok(ChangeFeed::Pruned);
        }
        let has_more = rows.len() as u64 > first;
        let changes = rows
            .into_iter()
            .take(usize::try_from(first).unwrap_or(usize::MAX))
            .map(RecordedChange::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match changes.last() {
            Some(last) if has_more => last.position(after.reader).unwrap_or(head),
            _ => head,
        };
        Ok(ChangeFeed::Page {
            changes,
            next,
            has_more,
        })
    }

    /// The last `limit` changes `reader` may read and `filter` wants, newest
    /// first (the Atom feeds).
    pub async fn latest_changes(
        &self,
        reader: Audience,
        limit: u64,
        filter: &ChangeFilter,
    ) -> Result<Vec<RecordedChange>, StoreError> {
        let ordinal = ordinal_column(reader);
        let mut select = catalogue_change::Entity::find().filter(ordinal.is_not_null());
        if let Some(kinds) = &filter.kinds {
            select = select
                .filter(catalogue_change::Column::Kind.is_in(kinds.iter().map(|k| k.as_db())));
        }
        if let Some(subjects) = &filter.subjects {
            select = select.filter(
                catalogue_change::Column::Subject.is_in(subjects.iter().map(|s| s.to_db())),
            );
        }
        select
            .order_by_desc(ordinal)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(RecordedChange::from_row)
            .collect()
    }

    /// The ordinal of the oldest change `reader` may read still in the
    /// journal; past `head` when none is.
    async fn oldest_kept(&self, reader: Audience, head: FeedPosition) -> Result<i64, StoreError> {
        let ordinal = ordinal_column(reader);
        let oldest: Option<Option<i64>> = catalogue_change::Entity::find()
            .select_only()
            .column_as(ordinal.min(), "oldest")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(oldest
            .flatten()
            .unwrap_or_else(|| head.ordinal.saturating_add(1)))
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
        let rows: Vec<(i64, String)> = catalogue_change::Entity::find()
            .select_only()
            .column(catalogue_change::Column::Revision)
            .column(catalogue_change::Column::Subject)
            .filter(catalogue_change::Column::Revision.gt(revision))
            .filter(catalogue_change::Column::Revision.lte(latest))
            .order_by_asc(catalogue_change::Column::Seq)
            .into_tuple()
            .all(&self.db)
            .await?;
        // Revisions have no gaps (each is taken by a transaction that records
        // a change, or rolled back with it): a missing one was pruned.
        let distinct: BTreeSet<i64> = rows.iter().map(|(revision, _)| *revision).collect();
        if distinct.len() as i64 != latest - revision {
            return Ok(ChangesSince::Incomplete { revision: latest });
        }
        let mut subjects = BTreeSet::new();
        for (_, subject) in rows {
            subjects.insert(decode(
                "catalogue_change.subject",
                &subject,
                ChangedSubject::from_db,
            )?);
        }
        Ok(ChangesSince::Changes {
            revision: latest,
            subjects,
        })
    }

    /// Forgets the revisions up to the last one recorded before `before`;
    /// returns how many rows. Pruning a prefix of revisions (not by time
    /// alone, as writers' clocks differ) keeps what is left free of holes.
    pub async fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let last_old = catalogue_change::Entity::find()
            .filter(catalogue_change::Column::At.lt(before))
            .order_by_desc(catalogue_change::Column::Seq)
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
