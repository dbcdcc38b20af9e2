//! Who uses what: organizations' uses of projects, declared by their agents,
//! harvested (a `publiccode.yml`'s `usedBy`, data.gouv.fr reuses) or read
//! from the catalogue files. Every write keeps `project.used_by` (what lists
//! order by) and records the projects and organizations it touched in the
//! journal, in its transaction.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use super::changes::{
    Change, ChangeKind, ChangedField, ChangedSubject, project_audience, record_changes,
};
use super::entities::{dataset, organization, project, project_use, repository};
use super::paging::in_subquery;
use super::projects::readable;
use super::records::{OrganizationRecord, UseRecord};
use super::writes::{Actor, AuditAction, WriteError, audit};
use super::{Store, StoreError};
use crate::catalogue::{Access, Audience, OrganizationKind, UseKind, UseSource, folded};

/// How much declarations may grow the tables (`CATALOGUE_USES_*`).
#[derive(Debug, Clone, Copy)]
pub struct UseBounds {
    /// Uses one agent may have declared at once.
    pub per_agent: u64,
    /// Declared uses one organization may have at once.
    pub per_organization: u64,
    /// Organizations created from agents' SIRETs awaiting confirmation.
    pub unverified_organizations: u64,
}

/// What a use names: the project, or one of its repositories or datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseTarget {
    Project,
    Repository(i64),
    Dataset(i64),
}

/// A use an agent declares for their organization.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub project_slug: String,
    pub target: UseTarget,
    pub kind: UseKind,
    pub since: Option<chrono::NaiveDate>,
    pub comment: Option<String>,
    pub instance_url: Option<String>,
    /// The agent's SIRET (ProConnect's `siret` claim, 14 digits).
    pub siret: String,
    /// The organization's name, should it be new to the catalogue.
    pub organization_name: Option<String>,
}

/// A use read from an upstream source or a catalogue file.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestedUse {
    /// Tells it from the source's other uses of the same target.
    pub key: String,
    /// The organization as the source names it.
    pub organization_name: String,
    /// The organization, when the source names it by slug (catalogue files).
    pub organization_id: Option<i64>,
    pub kind: UseKind,
    pub since: Option<String>,
    pub comment: Option<String>,
    pub instance_url: Option<String>,
    pub source_url: Option<String>,
}

/// Which of a source's uses a harvest replaces: those of one repository
/// (`usedBy`), one dataset (reuses) or one project (catalogue files).
#[derive(Debug, Clone, Copy)]
pub struct HarvestScope {
    pub project_id: i64,
    pub source: UseSource,
    pub target: UseTarget,
}

/// An organization's uses counted: how many distinct organizations use a
/// project, in all and by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UseCounts {
    pub total: i64,
    pub by_kind: BTreeMap<&'static str, i64>,
}

impl UseCounts {
    /// Counts `uses`: an organization counts once however many uses it has
    /// (matched ones by id, others by their folded name).
    pub fn of<'a>(uses: impl IntoIterator<Item = &'a UseRecord>) -> Self {
        let mut all = HashSet::new();
        let mut by_kind: BTreeMap<&'static str, HashSet<String>> = BTreeMap::new();
        for used in uses {
            let who = who(used.organization_id, &used.organization_name);
            by_kind
                .entry(used.kind.as_db())
                .or_default()
                .insert(who.clone());
            all.insert(who);
        }
        Self {
            total: all.len() as i64,
            by_kind: by_kind
                .into_iter()
                .map(|(kind, set)| (kind, set.len() as i64))
                .collect(),
        }
    }

    pub fn of_kind(&self, kind: UseKind) -> i64 {
        self.by_kind.get(kind.as_db()).copied().unwrap_or(0)
    }
}

/// One organization, whether the catalogue knows it or not.
fn who(organization_id: Option<i64>, name: &str) -> String {
    match organization_id {
        Some(id) => format!("#{id}"),
        None => folded(name.trim()),
    }
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Uses whose repository or dataset `audience` may read (a use of the
/// whole project hides with the project itself).
pub(super) fn readable_targets(audience: Audience) -> Condition {
    let repositories = Query::select()
        .column(repository::Column::Id)
        .from(repository::Entity)
        .and_where(repository::Column::Access.is_in(readable(audience)))
        .to_owned();
    let datasets = Query::select()
        .column(dataset::Column::Id)
        .from(dataset::Entity)
        .and_where(dataset::Column::Access.is_in(readable(audience)))
        .to_owned();
    Condition::all()
        .add(
            Condition::any()
                .add(project_use::Column::RepositoryId.is_null())
                .add(in_subquery(
                    (project_use::Entity, project_use::Column::RepositoryId),
                    repositories,
                )),
        )
        .add(
            Condition::any()
                .add(project_use::Column::DatasetId.is_null())
                .add(in_subquery(
                    (project_use::Entity, project_use::Column::DatasetId),
                    datasets,
                )),
        )
}

/// Uses of projects `audience` may read.
fn of_readable_projects(audience: Audience) -> sea_orm::sea_query::SimpleExpr {
    in_subquery(
        (project_use::Entity, project_use::Column::ProjectId),
        Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .and_where(project::Column::Visibility.is_in(readable(audience)))
            .to_owned(),
    )
}

/// Recounts `project.used_by` of `project_id`: the organizations anyone
/// may see using it.
pub(super) async fn recount(txn: &impl ConnectionTrait, project_id: i64) -> Result<(), StoreError> {
    let uses: Vec<(Option<i64>, String)> = project_use::Entity::find()
        .filter(project_use::Column::ProjectId.eq(project_id))
        .filter(readable_targets(Audience::Public))
        .select_only()
        .column(project_use::Column::OrganizationId)
        .column(project_use::Column::OrganizationName)
        .into_tuple()
        .all(txn)
        .await?;
    let count = uses
        .iter()
        .map(|(id, name)| who(*id, name))
        .collect::<HashSet<_>>()
        .len() as i64;
    project::Entity::update_many()
        .col_expr(project::Column::UsedBy, Expr::value(count))
        .filter(project::Column::Id.eq(project_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The organization of the SIRET `siret`: one of the catalogue's with that
/// SIRET, else with its SIREN.
async fn organization_of_siret(
    txn: &impl ConnectionTrait,
    siret: &str,
) -> Result<Option<organization::Model>, StoreError> {
    if let Some(found) = organization::Entity::find()
        .filter(organization::Column::Siret.eq(siret))
        .order_by_asc(organization::Column::Id)
        .one(txn)
        .await?
    {
        return Ok(Some(found));
    }
    let siren = siret.get(..9).unwrap_or(siret);
    Ok(organization::Entity::find()
        .filter(organization::Column::Siren.eq(siren))
        .order_by_asc(organization::Column::Id)
        .one(txn)
        .await?)
}

fn invalid(field: &'static str, message: impl Into<String>) -> WriteError {
    WriteError::Invalid {
        field,
        message: message.into(),
    }
}

impl Store {
    /// The uses of each project among `ids` that `audience` may read, by
    /// organization name.
    pub async fn uses_of_projects(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, UseRecord)>, StoreError> {
        let select = project_use::Entity::find()
            .filter(project_use::Column::ProjectId.is_in(ids.iter().copied()))
            .filter(readable_targets(audience))
            .order_by_asc(project_use::Column::ProjectId)
            .order_by_asc(project_use::Column::OrganizationName)
            .order_by_asc(project_use::Column::Id);
        let records: Vec<UseRecord> = self.read_all(select).await?;
        Ok(records.into_iter().map(|r| (r.project_id, r)).collect())
    }

    /// The uses of each repository among `ids` (which the reader may read).
    pub async fn uses_of_repositories(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, UseRecord)>, StoreError> {
        let select = project_use::Entity::find()
            .filter(project_use::Column::RepositoryId.is_in(ids.iter().copied()))
            .order_by_asc(project_use::Column::RepositoryId)
            .order_by_asc(project_use::Column::OrganizationName)
            .order_by_asc(project_use::Column::Id);
        let records: Vec<UseRecord> = self.read_all(select).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| Some((r.repository_id?, r)))
            .collect())
    }

    /// The uses of each dataset among `ids` (which the reader may read).
    pub async fn uses_of_datasets(&self, ids: &[i64]) -> Result<Vec<(i64, UseRecord)>, StoreError> {
        let select = project_use::Entity::find()
            .filter(project_use::Column::DatasetId.is_in(ids.iter().copied()))
            .order_by_asc(project_use::Column::DatasetId)
            .order_by_asc(project_use::Column::OrganizationName)
            .order_by_asc(project_use::Column::Id);
        let records: Vec<UseRecord> = self.read_all(select).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| Some((r.dataset_id?, r)))
            .collect())
    }

    /// What each organization among `ids` uses, among what `audience` may read.
    pub async fn uses_of_organizations(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, UseRecord)>, StoreError> {
        let select = project_use::Entity::find()
            .filter(project_use::Column::OrganizationId.is_in(ids.iter().copied()))
            .filter(of_readable_projects(audience))
            .filter(readable_targets(audience))
            .order_by_asc(project_use::Column::OrganizationId)
            .order_by_asc(project_use::Column::ProjectId)
            .order_by_asc(project_use::Column::Id);
        let records: Vec<UseRecord> = self.read_all(select).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| Some((r.organization_id?, r)))
            .collect())
    }

    /// The organization an agent with the SIRET `siret` belongs to, if the
    /// catalogue has it.
    pub async fn organization_of_agent(
        &self,
        siret: &str,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        organization_of_siret(&self.db, siret)
            .await?
            .map(OrganizationRecord::try_from)
            .transpose()
    }

    /// Declares that the organization of `declaration.siret` uses a project;
    /// creates that organization, unverified, when the catalogue does not
    /// have it and the agent named it.
    pub async fn declare_use(
        &self,
        actor: &Actor,
        declaration: Declaration,
        bounds: UseBounds,
        now: DateTime<Utc>,
    ) -> Result<UseRecord, WriteError> {
        let txn = self.db.begin().await?;
        let project = project::Entity::find()
            .filter(project::Column::Slug.eq(declaration.project_slug.as_str()))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| WriteError::ProjectNotFound(declaration.project_slug.clone()))?;
        match declaration.target {
            UseTarget::Project => {}
            UseTarget::Repository(id) => {
                let found = repository::Entity::find_by_id(id).one(&txn).await?;
                if found.is_none_or(|r| r.project_id != project.id) {
                    return Err(invalid(
                        "input.on",
                        "not the id of one of this project's repositories or datasets",
                    ));
                }
            }
            UseTarget::Dataset(id) => {
                let found = dataset::Entity::find_by_id(id).one(&txn).await?;
                if found.is_none_or(|d| d.project_id != project.id) {
                    return Err(invalid(
                        "input.on",
                        "not the id of one of this project's repositories or datasets",
                    ));
                }
            }
        }
        let declared = project_use::Entity::find()
            .filter(project_use::Column::DeclaredBySub.eq(actor.sub.as_str()))
            .count(&txn)
            .await?;
        if declared >= bounds.per_agent {
            return Err(invalid(
                "input",
                format!(
                    "you have declared {declared} uses, the most one agent may (CATALOGUE_USES_PER_AGENT): withdraw one first"
                ),
            ));
        }
        let mut changed = vec![ChangedSubject::Project(project.id)];
        let organization = match organization_of_siret(&txn, &declaration.siret).await? {
            Some(found) => found,
            None => {
                self.organization_from_siret(&txn, actor, &declaration, bounds, now)
                    .await?
            }
        };
        changed.push(ChangedSubject::Organization(organization.id));
        let of_organization = project_use::Entity::find()
            .filter(project_use::Column::OrganizationId.eq(organization.id))
            .filter(project_use::Column::Source.eq(UseSource::Declared.as_db()))
            .count(&txn)
            .await?;
        if of_organization >= bounds.per_organization {
            return Err(invalid(
                "input",
                format!(
                    "your organization has {of_organization} declared uses, the most one organization may (CATALOGUE_USES_PER_ORGANIZATION)"
                ),
            ));
        }
        let (repository_id, dataset_id, target) = match declaration.target {
            UseTarget::Project => (None, None, "project".to_owned()),
            UseTarget::Repository(id) => (Some(id), None, format!("repository:{id}")),
            UseTarget::Dataset(id) => (None, Some(id), format!("dataset:{id}")),
        };
        let key = format!(
            "organization:{}:{}:{target}",
            organization.id,
            declaration.kind.as_db()
        );
        let taken = project_use::Entity::find()
            .filter(project_use::Column::ProjectId.eq(project.id))
            .filter(project_use::Column::Source.eq(UseSource::Declared.as_db()))
            .filter(project_use::Column::SourceKey.eq(key.as_str()))
            .count(&txn)
            .await?;
        if taken > 0 {
            return Err(invalid(
                "input.kind",
                format!(
                    "{} has already declared this use of `{}`",
                    organization.name, project.slug
                ),
            ));
        }
        let row = project_use::ActiveModel {
            project_id: Set(project.id),
            repository_id: Set(repository_id),
            dataset_id: Set(dataset_id),
            organization_id: Set(Some(organization.id)),
            organization_name: Set(organization.name.clone()),
            kind: Set(declaration.kind.as_db().to_owned()),
            instance_url: Set(declaration.instance_url),
            since: Set(declaration.since.map(|d| d.to_string())),
            comment: Set(declaration.comment),
            source: Set(UseSource::Declared.as_db().to_owned()),
            source_key: Set(key),
            source_url: Set(None),
            declared_by_sub: Set(Some(actor.sub.clone())),
            declared_by_email: Set(Some(actor.email.clone())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        recount(&txn, project.id).await?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::DeclareUse,
            format!("project:{}", project.slug),
            None,
            json(&row),
        )
        .await?;
        let changes = use_changes(&txn, project.id, changed, ChangeKind::UseDeclared).await?;
        record_changes(&txn, changes, now).await?;
        txn.commit().await?;
        Ok(UseRecord::try_from(row)?)
    }

    /// A new, unverified organization for an agent's SIRET.
    async fn organization_from_siret(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        declaration: &Declaration,
        bounds: UseBounds,
        now: DateTime<Utc>,
    ) -> Result<organization::Model, WriteError> {
        let Some(name) = declaration.organization_name.as_deref() else {
            return Err(invalid(
                "input.organizationName",
                format!(
                    "the catalogue has no organization with your SIRET {} (or its SIREN): give its name in `organizationName` to add it",
                    declaration.siret
                ),
            ));
        };
        let waiting = organization::Entity::find()
            .filter(organization::Column::Verified.eq(false))
            .count(txn)
            .await?;
        if waiting >= bounds.unverified_organizations {
            return Err(invalid(
                "input.organizationName",
                "too many organizations await an administrator's confirmation (CATALOGUE_USES_UNVERIFIED_ORGANIZATIONS): try again later",
            ));
        }
        let row = organization::ActiveModel {
            slug: Set(format!("siret-{}", declaration.siret)),
            name: Set(name.to_owned()),
            sort_key: Set(folded(name)),
            acronym: Set(None),
            kind: Set(OrganizationKind::Other.as_db().to_owned()),
            siret: Set(Some(declaration.siret.clone())),
            siren: Set(declaration.siret.get(..9).map(str::to_owned)),
            website: Set(None),
            verified: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        audit(
            txn,
            actor,
            now,
            AuditAction::CreateOrganization,
            format!("organization:{}", row.slug),
            None,
            json(&OrganizationAudit::of(&row)),
        )
        .await?;
        Ok(row)
    }

    /// Removes the declared use `id`.
    pub async fn withdraw_use(
        &self,
        actor: &Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<UseRecord, WriteError> {
        let txn = self.db.begin().await?;
        let row = project_use::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(WriteError::UseNotFound)?;
        if UseSource::from_db(&row.source) != Some(UseSource::Declared) {
            return Err(invalid(
                "id",
                "only declared uses are withdrawn: harvested ones follow their source, the catalogue's its files",
            ));
        }
        let project = project::Entity::find_by_id(row.project_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(WriteError::UseNotFound)?;
        project_use::Entity::delete_by_id(id).exec(&txn).await?;
        recount(&txn, project.id).await?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::WithdrawUse,
            format!("project:{}", project.slug),
            json(&row),
            None,
        )
        .await?;
        let mut changed = vec![ChangedSubject::Project(project.id)];
        changed.extend(row.organization_id.map(ChangedSubject::Organization));
        let changes = use_changes(&txn, project.id, changed, ChangeKind::UseWithdrawn).await?;
        record_changes(&txn, changes, now).await?;
        txn.commit().await?;
        Ok(UseRecord::try_from(row)?)
    }

    /// Confirms an organization created from an agent's SIRET.
    pub async fn confirm_organization(
        &self,
        actor: &Actor,
        slug: &str,
        now: DateTime<Utc>,
    ) -> Result<OrganizationRecord, WriteError> {
        let txn = self.db.begin().await?;
        let current = organization::Entity::find()
            .filter(organization::Column::Slug.eq(slug))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| WriteError::OrganizationNotFound(slug.to_owned()))?;
        let mut row: organization::ActiveModel = current.clone().into();
        row.verified = Set(true);
        row.updated_at = Set(now);
        let updated = row.update(&txn).await?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::ConfirmOrganization,
            format!("organization:{slug}"),
            json(&OrganizationAudit::of(&current)),
            json(&OrganizationAudit::of(&updated)),
        )
        .await?;
        let confirmed = Change::new(
            ChangedSubject::Organization(updated.id),
            ChangeKind::OrganizationUpdated,
            [ChangedField::Verified],
            Access::Public,
        );
        record_changes(&txn, [confirmed], now).await?;
        txn.commit().await?;
        Ok(OrganizationRecord::try_from(updated)?)
    }

    /// The declared use `id`: its project's slug, its organization and who
    /// declared it, for the guard of `withdrawUse`.
    pub async fn declared_use(&self, id: i64) -> Result<Option<DeclaredUse>, StoreError> {
        let Some(row) = project_use::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let slug = project::Entity::find_by_id(row.project_id)
            .one(&self.db)
            .await?
            .map(|p| p.slug)
            .unwrap_or_default();
        Ok(Some(DeclaredUse {
            project_slug: slug,
            organization_id: row.organization_id,
        }))
    }

    /// Replaces the uses `scope` holds with `uses` (at most what the caller
    /// bounded), matching organizations by name or acronym; returns whether
    /// anything changed.
    pub async fn replace_harvested_uses(
        &self,
        scope: HarvestScope,
        uses: &[HarvestedUse],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin().await?;
        let changed = replace_uses(&txn, scope, uses, now).await?;
        let any = !changed.is_empty();
        let changes =
            use_changes(&txn, scope.project_id, changed, ChangeKind::FactsChanged).await?;
        record_changes(&txn, changes, now).await?;
        txn.commit().await?;
        Ok(any)
    }
}

/// The journal's changes of `subjects`, touched by a use of project
/// `project_id`: as readable as that project, so a use of an agents-only
/// project is news to agents only.
pub(super) async fn use_changes(
    txn: &impl ConnectionTrait,
    project_id: i64,
    subjects: impl IntoIterator<Item = ChangedSubject>,
    kind: ChangeKind,
) -> Result<Vec<Change>, StoreError> {
    let audience = project_audience(txn, project_id).await?;
    Ok(subjects
        .into_iter()
        .map(|subject| Change::new(subject, kind, [ChangedField::Uses], audience))
        .collect())
}

/// The organizations `uses` may name: those whose ids they give, or every
/// one when a use gives only a name to match. An import calls this for each
/// project: reading every organization each time made it grow with projects
/// × organizations.
async fn organizations_named_in(
    txn: &impl ConnectionTrait,
    uses: &[HarvestedUse],
) -> Result<Vec<organization::Model>, StoreError> {
    if uses.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Option<Vec<i64>> = uses.iter().map(|used| used.organization_id).collect();
    let select = organization::Entity::find();
    let select = match ids {
        Some(ids) => select.filter(organization::Column::Id.is_in(ids)),
        None => select,
    };
    Ok(select.all(txn).await?)
}

/// Replaces the uses of `scope` in `txn`; returns what changed (empty: nothing).
pub(super) async fn replace_uses(
    txn: &impl ConnectionTrait,
    scope: HarvestScope,
    uses: &[HarvestedUse],
    now: DateTime<Utc>,
) -> Result<BTreeSet<ChangedSubject>, StoreError> {
    let mut select = project_use::Entity::find()
        .filter(project_use::Column::ProjectId.eq(scope.project_id))
        .filter(project_use::Column::Source.eq(scope.source.as_db()));
    let (repository_id, dataset_id) = match scope.target {
        UseTarget::Project => (None, None),
        UseTarget::Repository(id) => (Some(id), None),
        UseTarget::Dataset(id) => (None, Some(id)),
    };
    select = match scope.target {
        UseTarget::Project => select
            .filter(project_use::Column::RepositoryId.is_null())
            .filter(project_use::Column::DatasetId.is_null()),
        UseTarget::Repository(id) => select.filter(project_use::Column::RepositoryId.eq(id)),
        UseTarget::Dataset(id) => select.filter(project_use::Column::DatasetId.eq(id)),
    };
    let current = select.all(txn).await?;
    let organizations = organizations_named_in(txn, uses).await?;
    let matched = |name: &str| {
        let name = folded(name.trim());
        organizations
            .iter()
            .find(|o| {
                o.sort_key == name
                    || folded(&o.name) == name
                    || o.acronym.as_deref().is_some_and(|a| folded(a) == name)
            })
            .map(|o| (o.id, o.name.clone()))
    };
    let mut changed = BTreeSet::new();
    let mut wanted_keys = HashSet::new();
    for used in uses {
        let key = scope_key(scope.target, &used.key);
        if !wanted_keys.insert(key.clone()) {
            continue;
        }
        let known = match used.organization_id {
            Some(id) => organizations
                .iter()
                .find(|o| o.id == id)
                .map(|o| (o.id, o.name.clone())),
            None => matched(&used.organization_name),
        };
        // An organization the catalogue does not know keeps its name as given.
        let (organization_id, organization_name) = match known {
            Some((id, name)) => (Some(id), name),
            None => (None, used.organization_name.trim().to_owned()),
        };
        let existing = current.iter().find(|row| row.source_key == key);
        let same = existing.is_some_and(|row| {
            row.organization_id == organization_id
                && row.organization_name == organization_name
                && row.kind == used.kind.as_db()
                && row.since == used.since
                && row.comment == used.comment
                && row.instance_url == used.instance_url
                && row.source_url == used.source_url
        });
        if same {
            continue;
        }
        changed.extend(organization_id.map(ChangedSubject::Organization));
        if let Some(existing) = existing {
            changed.extend(existing.organization_id.map(ChangedSubject::Organization));
            project_use::Entity::delete_by_id(existing.id)
                .exec(txn)
                .await?;
        }
        project_use::ActiveModel {
            project_id: Set(scope.project_id),
            repository_id: Set(repository_id),
            dataset_id: Set(dataset_id),
            organization_id: Set(organization_id),
            organization_name: Set(organization_name),
            kind: Set(used.kind.as_db().to_owned()),
            instance_url: Set(used.instance_url.clone()),
            since: Set(used.since.clone()),
            comment: Set(used.comment.clone()),
            source: Set(scope.source.as_db().to_owned()),
            source_key: Set(key),
            source_url: Set(used.source_url.clone()),
            declared_by_sub: Set(None),
            declared_by_email: Set(None),
            created_at: Set(existing.map_or(now, |row| row.created_at)),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        changed.insert(ChangedSubject::Project(scope.project_id));
    }
    let gone: Vec<&project_use::Model> = current
        .iter()
        .filter(|row| !wanted_keys.contains(&row.source_key))
        .collect();
    if !gone.is_empty() {
        project_use::Entity::delete_many()
            .filter(project_use::Column::Id.is_in(gone.iter().map(|row| row.id)))
            .exec(txn)
            .await?;
        changed.insert(ChangedSubject::Project(scope.project_id));
        changed.extend(
            gone.iter()
                .filter_map(|row| row.organization_id)
                .map(ChangedSubject::Organization),
        );
    }
    if !changed.is_empty() {
        recount(txn, scope.project_id).await?;
    }
    Ok(changed)
}

/// The key of a harvested use: its target and the source's own key, so
/// the same organization may use two datasets of one project.
fn scope_key(target: UseTarget, key: &str) -> String {
    match target {
        UseTarget::Project => key.to_owned(),
        UseTarget::Repository(id) => format!("repository:{id}:{key}"),
        UseTarget::Dataset(id) => format!("dataset:{id}:{key}"),
    }
}

/// An organization as the audit trail shows it.
#[derive(Serialize)]
struct OrganizationAudit<'a> {
    id: i64,
    slug: &'a str,
    name: &'a str,
    siret: Option<&'a str>,
    verified: bool,
}

impl<'a> OrganizationAudit<'a> {
    fn of(row: &'a organization::Model) -> Self {
        Self {
            id: row.id,
            slug: &row.slug,
            name: &row.name,
            siret: row.siret.as_deref(),
            verified: row.verified,
        }
    }
}

/// What the guard of `withdrawUse` needs to know of a use.
#[derive(Debug, Clone)]
pub struct DeclaredUse {
    pub project_slug: String,
    pub organization_id: Option<i64>,
}
