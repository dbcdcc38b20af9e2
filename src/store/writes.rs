//! Writes made through the API. Each runs in one transaction, bumps the
//! project's version and appends an audit entry: who, when, what, and the
//! rows before and after as JSON.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use super::changes::{
    Change, ChangeKind, ChangedField, ChangedSubject, narrower, project_update, record_changes,
    visibility,
};
use super::entities::{audit_entry, dataset, link, project, project_maintainer, repository};
use super::paging::{Page, apply_page, finish_page};
use super::projects::search_text;
use super::records::{
    DatasetRecord, LinkRecord, ProjectRecord, RepositoryRecord, convert_all, decode,
};
use super::uses::recount;
use super::{LinkOrigin, Store, StoreError};
use crate::catalogue::{
    Access, CodeLink, DataLink, Label, OtherLink, ProjectStatus, Slug, vocabulary,
};

/// Who writes, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub email: String,
}

/// Why a write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("there is no project `{0}`")]
    ProjectNotFound(String),
    #[error("there is no such link")]
    LinkNotFound,
    #[error("there is no such use")]
    UseNotFound,
    #[error("there is no organization `{0}`")]
    OrganizationNotFound(String),
    #[error(
        "the project is at version {current}, not {expected}: read it again and reapply your change"
    )]
    Conflict { expected: i64, current: i64 },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl From<sea_orm::DbErr> for WriteError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

/// A project created through the API.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub slug: Slug,
    pub name: Label,
    pub summary: Label,
    pub description: String,
    pub visibility: Access,
}

/// Changes to a project: each field given replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<Label>,
    pub summary: Option<Label>,
    pub description: Option<String>,
    pub status: Option<Option<ProjectStatus>>,
    pub visibility: Option<Access>,
}

/// Which link table a removal targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTable {
    Repository,
    Dataset,
    Link,
}

vocabulary! {
    /// What a write through the API did: its mutation, as the audit trail names it.
    pub AuditAction {
        CreateProject = "createProject",
        UpdateProject = "updateProject",
        AddRepository = "addRepository",
        AddDataset = "addDataset",
        AddLink = "addLink",
        RemoveLink = "removeLink",
        SetMaintainers = "setMaintainers",
        DeclareUse = "declareUse",
        WithdrawUse = "withdrawUse",
        /// An organization created from an agent's SIRET when they declared a use.
        CreateOrganization = "createOrganization",
        ConfirmOrganization = "confirmOrganization",
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_sub: String,
    pub actor_email: String,
    pub action: AuditAction,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

pub(super) async fn audit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    action: AuditAction,
    target: String,
    before: Option<String>,
    after: Option<String>,
) -> Result<(), WriteError> {
    audit_entry::ActiveModel {
        at: Set(now),
        actor_sub: Set(actor.sub.clone()),
        actor_email: Set(actor.email.clone()),
        action: Set(action.as_db().to_owned()),
        target: Set(target),
        before: Set(before),
        after: Set(after),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The project `slug`, locked until the transaction ends (PostgreSQL's
/// `FOR UPDATE`; SQLite lets one writer at a time anyway), so concurrent
/// writes to one project run one after the other.
async fn project_for_update(
    txn: &DatabaseTransaction,
    slug: &str,
) -> Result<project::Model, WriteError> {
    project::Entity::find()
        .filter(project::Column::Slug.eq(slug))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| WriteError::ProjectNotFound(slug.to_owned()))
}

/// Bumps the version and `updatedAt` of a project whose links or
/// maintainers changed, and records `change` in the journal.
async fn touch(
    txn: &DatabaseTransaction,
    project: &project::Model,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    project::Entity::update_many()
        .col_expr(
            project::Column::Version,
            Expr::col(project::Column::Version).add(1),
        )
        .col_expr(project::Column::UpdatedAt, Expr::value(now))
        .filter(project::Column::Id.eq(project.id))
        .exec(txn)
        .await?;
    record_changes(txn, [change], now).await?;
    Ok(())
}

/// A unique index refused the row: another write added the same thing first.
fn unique_violation(error: sea_orm::DbErr, field: &'static str, message: String) -> WriteError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            WriteError::Invalid { field, message }
        }
        _ => WriteError::from(error),
    }
}

impl Store {
    /// Whether `email` maintains the project `slug`.
    pub async fn is_maintainer(&self, slug: &str, email: &str) -> Result<bool, StoreError> {
        let Some(project) = project::Entity::find()
            .filter(project::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
        else {
            return Ok(false);
        };
        Ok(project_maintainer::Entity::find()
            .filter(project_maintainer::Column::ProjectId.eq(project.id))
            .filter(project_maintainer::Column::Email.eq(email.to_lowercase()))
            .count(&self.db)
            .await?
            > 0)
    }

    /// The projects `email` maintains, by name.
    pub async fn projects_maintained_by(
        &self,
        email: &str,
    ) -> Result<Vec<ProjectRecord>, StoreError> {
        let ids: Vec<i64> = project_maintainer::Entity::find()
            .filter(project_maintainer::Column::Email.eq(email.to_lowercase()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| row.project_id)
            .collect();
        convert_all(
            project::Entity::find()
                .filter(project::Column::Id.is_in(ids))
                .order_by_asc(project::Column::SortKey)
                .all(&self.db)
                .await?,
        )
    }

    /// The maintainers' emails of each project among `ids`.
    pub async fn maintainers_of_projects(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(project_maintainer::Entity::find()
            .filter(project_maintainer::Column::ProjectId.is_in(ids.iter().copied()))
            .order_by_asc(project_maintainer::Column::Email)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (row.project_id, row.email))
            .collect())
    }

    pub async fn create_project(
        &self,
        actor: &Actor,
        new: NewProject,
        now: DateTime<Utc>,
    ) -> Result<ProjectRecord, WriteError> {
        let txn = self.db.begin().await?;
        let taken = project::Entity::find()
            .filter(project::Column::Slug.eq(new.slug.as_str()))
            .count(&txn)
            .await?;
        if taken > 0 {
            return Err(WriteError::Invalid {
                field: "input.slug",
                message: format!("`{}` is already the slug of a project", new.slug),
            });
        }
        let row = project::ActiveModel {
            slug: Set(new.slug.to_string()),
            name: Set(new.name.to_string()),
            sort_key: Set(new.name.sort_key()),
            summary: Set(new.summary.to_string()),
            description: Set(new.description.trim().to_owned()),
            search_text: Set(search_text(
                new.name.as_str(),
                new.summary.as_str(),
                new.description.trim(),
            )),
            status: Set(Some(ProjectStatus::Active.as_db().to_owned())),
            website: Set(None),
            documentation: Set(None),
            visibility: Set(new.visibility.as_db().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            unique_violation(
                e,
                "input.slug",
                format!("`{}` is already the slug of a project", new.slug),
            )
        })?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::CreateProject,
            format!("project:{}", row.slug),
            None,
            json(&row),
        )
        .await?;
        let created = Change::new(
            ChangedSubject::Project(row.id),
            ChangeKind::ProjectCreated,
            [],
            new.visibility,
        );
        record_changes(&txn, [created], now).await?;
        txn.commit().await?;
        Ok(ProjectRecord::try_from(row)?)
    }

    pub async fn update_project(
        &self,
        actor: &Actor,
        slug: &str,
        changes: ProjectChanges,
        expected_version: i64,
        now: DateTime<Utc>,
    ) -> Result<ProjectRecord, WriteError> {
        let txn = self.db.begin().await?;
        let current = project_for_update(&txn, slug).await?;
        if current.version != expected_version {
            return Err(WriteError::Conflict {
                expected: expected_version,
                current: current.version,
            });
        }
        let mut row = current.clone().into_active_model();
        if let Some(name) = changes.name {
            row.sort_key = Set(name.sort_key());
            row.name = Set(name.to_string());
        }
        if let Some(summary) = changes.summary {
            row.summary = Set(summary.to_string());
        }
        if let Some(description) = changes.description {
            row.description = Set(description.trim().to_owned());
        }
        if let Some(status) = changes.status {
            row.status = Set(status.map(|s| s.as_db().to_owned()));
        }
        if let Some(visibility) = changes.visibility {
            row.visibility = Set(visibility.as_db().to_owned());
        }
        let text_of = |value: &sea_orm::ActiveValue<String>, current: &str| match value {
            sea_orm::ActiveValue::Set(text) | sea_orm::ActiveValue::Unchanged(text) => text.clone(),
            sea_orm::ActiveValue::NotSet => current.to_owned(),
        };
        row.search_text = Set(search_text(
            &text_of(&row.name, &current.name),
            &text_of(&row.summary, &current.summary),
            &text_of(&row.description, &current.description),
        ));
        row.version = Set(current.version + 1);
        row.updated_at = Set(now);
        // The version in the WHERE clause makes the check and the write one step.
        let changed = project::Entity::update_many()
            .set(row)
            .filter(project::Column::Id.eq(current.id))
            .filter(project::Column::Version.eq(expected_version))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            return Err(WriteError::Conflict {
                expected: expected_version,
                current: current.version + 1,
            });
        }
        let updated = project::Entity::find_by_id(current.id)
            .one(&txn)
            .await?
            .ok_or_else(|| WriteError::ProjectNotFound(slug.to_owned()))?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::UpdateProject,
            format!("project:{slug}"),
            json(&current),
            json(&updated),
        )
        .await?;
        record_changes(&txn, [project_update(&current, &updated)], now).await?;
        txn.commit().await?;
        Ok(ProjectRecord::try_from(updated)?)
    }

    pub async fn add_repository(
        &self,
        actor: &Actor,
        slug: &str,
        code: CodeLink,
        now: DateTime<Utc>,
    ) -> Result<RepositoryRecord, WriteError> {
        let txn = self.db.begin().await?;
        let project = project_for_update(&txn, slug).await?;
        let urls = repository::Entity::find()
            .filter(repository::Column::ProjectId.eq(project.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| (row.url, row.position));
        let url = code.url.as_str();
        let position = free_slot(urls, url)?;
        let row = repository::ActiveModel {
            project_id: Set(project.id),
            url: Set(code.url.to_string()),
            origin: Set(LinkOrigin::Api.as_db().to_owned()),
            forge: Set(code.forge.as_db().to_owned()),
            owner: Set(code.owner),
            name: Set(code.name),
            role: Set(code.role.as_db().to_owned()),
            language: Set(code.language.map(|l| l.to_string())),
            license: Set(code.license.map(|l| l.to_string())),
            access: Set(code.access.as_db().to_owned()),
            position: Set(position),
            confidence: Set(code.confidence.as_db().to_owned()),
            note: Set(code.note.map(|n| n.to_string())),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_violation(e, "input.url", duplicate_link_message(url)))?;
        let added = link_change(
            &project,
            ChangeKind::LinkAdded,
            ChangedField::Repositories,
            code.access,
        );
        link_added(
            txn,
            actor,
            &project,
            added,
            now,
            AuditAction::AddRepository,
            json(&row),
        )
        .await?;
        Ok(RepositoryRecord::try_from(row)?)
    }

    pub async fn add_dataset(
        &self,
        actor: &Actor,
        slug: &str,
        data: DataLink,
        now: DateTime<Utc>,
    ) -> Result<DatasetRecord, WriteError> {
        let txn = self.db.begin().await?;
        let project = project_for_update(&txn, slug).await?;
        let urls = dataset::Entity::find()
            .filter(dataset::Column::ProjectId.eq(project.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| (row.url, row.position));
        let url = data.url.as_str();
        let position = free_slot(urls, url)?;
        let row = dataset::ActiveModel {
            project_id: Set(project.id),
            url: Set(data.url.to_string()),
            origin: Set(LinkOrigin::Api.as_db().to_owned()),
            provider: Set(data.provider.as_db().to_owned()),
            title: Set(data.title.to_string()),
            description: Set(data.description.map(|d| d.to_string())),
            access: Set(data.access.as_db().to_owned()),
            position: Set(position),
            confidence: Set(data.confidence.as_db().to_owned()),
            note: Set(data.note.map(|n| n.to_string())),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_violation(e, "input.url", duplicate_link_message(url)))?;
        let added = link_change(
            &project,
            ChangeKind::LinkAdded,
            ChangedField::Datasets,
            data.access,
        );
        link_added(
            txn,
            actor,
            &project,
            added,
            now,
            AuditAction::AddDataset,
            json(&row),
        )
        .await?;
        Ok(DatasetRecord::try_from(row)?)
    }

    pub async fn add_link(
        &self,
        actor: &Actor,
        slug: &str,
        other: OtherLink,
        now: DateTime<Utc>,
    ) -> Result<LinkRecord, WriteError> {
        let txn = self.db.begin().await?;
        let project = project_for_update(&txn, slug).await?;
        let urls = link::Entity::find()
            .filter(link::Column::ProjectId.eq(project.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| (row.url, row.position));
        let url = other.url.as_str();
        let position = free_slot(urls, url)?;
        let row = link::ActiveModel {
            project_id: Set(project.id),
            url: Set(other.url.to_string()),
            origin: Set(LinkOrigin::Api.as_db().to_owned()),
            kind: Set(other.kind.as_db().to_owned()),
            title: Set(other.title.to_string()),
            access: Set(other.access.as_db().to_owned()),
            position: Set(position),
            confidence: Set(other.confidence.as_db().to_owned()),
            note: Set(other.note.map(|n| n.to_string())),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_violation(e, "input.url", duplicate_link_message(url)))?;
        let added = link_change(
            &project,
            ChangeKind::LinkAdded,
            ChangedField::Links,
            other.access,
        );
        link_added(
            txn,
            actor,
            &project,
            added,
            now,
            AuditAction::AddLink,
            json(&row),
        )
        .await?;
        Ok(LinkRecord::try_from(row)?)
    }

    /// The slug of the project link `id` of `table` belongs to.
    pub async fn project_of_link(
        &self,
        table: LinkTable,
        id: i64,
    ) -> Result<Option<String>, StoreError> {
        let project_id = match table {
            LinkTable::Repository => repository::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|r| r.project_id),
            LinkTable::Dataset => dataset::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|r| r.project_id),
            LinkTable::Link => link::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|r| r.project_id),
        };
        let Some(project_id) = project_id else {
            return Ok(None);
        };
        Ok(project::Entity::find_by_id(project_id)
            .one(&self.db)
            .await?
            .map(|p| p.slug))
    }

    /// Removes a repository, dataset or other link.
    pub async fn remove_link(
        &self,
        actor: &Actor,
        table: LinkTable,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        let txn = self.db.begin().await?;
        let (project_id, before, field, access) = match table {
            LinkTable::Repository => {
                let row = repository::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .ok_or(WriteError::LinkNotFound)?;
                repository::Entity::delete_by_id(id).exec(&txn).await?;
                let access = row.access.clone();
                (
                    row.project_id,
                    json(&row),
                    ChangedField::Repositories,
                    access,
                )
            }
            LinkTable::Dataset => {
                let row = dataset::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .ok_or(WriteError::LinkNotFound)?;
                dataset::Entity::delete_by_id(id).exec(&txn).await?;
                let access = row.access.clone();
                (row.project_id, json(&row), ChangedField::Datasets, access)
            }
            LinkTable::Link => {
                let row = link::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .ok_or(WriteError::LinkNotFound)?;
                link::Entity::delete_by_id(id).exec(&txn).await?;
                let access = row.access.clone();
                (row.project_id, json(&row), ChangedField::Links, access)
            }
        };
        let project = project::Entity::find_by_id(project_id)
            .one(&txn)
            .await?
            .ok_or(WriteError::LinkNotFound)?;
        // The uses of a removed repository or dataset went with it.
        recount(&txn, project.id).await?;
        let access = Access::from_db(&access).unwrap_or(Access::Agents);
        let removed = link_change(&project, ChangeKind::LinkRemoved, field, access);
        touch(&txn, &project, removed, now).await?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::RemoveLink,
            format!("project:{}", project.slug),
            before,
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Replaces the maintainers of project `slug`.
    pub async fn set_maintainers(
        &self,
        actor: &Actor,
        slug: &str,
        emails: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, WriteError> {
        let txn = self.db.begin().await?;
        let project = project_for_update(&txn, slug).await?;
        let before: Vec<String> = project_maintainer::Entity::find()
            .filter(project_maintainer::Column::ProjectId.eq(project.id))
            .order_by_asc(project_maintainer::Column::Email)
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| row.email)
            .collect();
        let mut after: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).collect();
        after.sort();
        after.dedup();
        project_maintainer::Entity::delete_many()
            .filter(project_maintainer::Column::ProjectId.eq(project.id))
            .exec(&txn)
            .await?;
        if !after.is_empty() {
            project_maintainer::Entity::insert_many(after.iter().map(|email| {
                project_maintainer::ActiveModel {
                    project_id: Set(project.id),
                    email: Set(email.clone()),
                }
            }))
            .exec(&txn)
            .await?;
        }
        // Maintainers are for agents' eyes only.
        let maintainers = Change::new(
            ChangedSubject::Project(project.id),
            ChangeKind::ProjectUpdated,
            [ChangedField::Maintainers],
            Access::Agents,
        );
        touch(&txn, &project, maintainers, now).await?;
        audit(
            &txn,
            actor,
            now,
            AuditAction::SetMaintainers,
            format!("project:{slug}"),
            json(&before),
            json(&after),
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    pub async fn audit_count(&self) -> Result<u64, StoreError> {
        Ok(audit_entry::Entity::find().count(&self.db).await?)
    }

    /// One page of the audit trail, newest first.
    pub async fn audit_page(&self, page: &Page) -> Result<(Vec<AuditRecord>, bool), StoreError> {
        let select = apply_page(
            audit_entry::Entity::find(),
            None,
            audit_entry::Column::Id,
            false,
            page,
        );
        let rows = select
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                Ok(AuditRecord {
                    id: row.id,
                    at: row.at,
                    actor_sub: row.actor_sub,
                    actor_email: row.actor_email,
                    action: decode("audit_entry.action", &row.action, AuditAction::from_db)?,
                    target: row.target,
                    before: row.before,
                    after: row.after,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(finish_page(rows, page))
    }
}

fn duplicate_link_message(url: &str) -> String {
    format!("`{url}` is already a link of this project")
}

/// The position after a project's `existing` links (URL, position), unless
/// `url` is among them.
fn free_slot(existing: impl Iterator<Item = (String, i32)>, url: &str) -> Result<i32, WriteError> {
    let mut next = 0;
    for (existing, position) in existing {
        if existing == url {
            return Err(WriteError::Invalid {
                field: "input.url",
                message: duplicate_link_message(url),
            });
        }
        next = std::cmp::max(next, position.saturating_add(1));
    }
    Ok(next)
}

/// Ends a write that added a link: bumps the project, audits, commits.
async fn link_added(
    txn: DatabaseTransaction,
    actor: &Actor,
    project: &project::Model,
    change: Change,
    now: DateTime<Utc>,
    action: AuditAction,
    after: Option<String>,
) -> Result<(), WriteError> {
    touch(&txn, project, change, now).await?;
    audit(
        &txn,
        actor,
        now,
        action,
        format!("project:{}", project.slug),
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A link of `project` with `access` added or removed: readers of both may
/// know it.
fn link_change(
    project: &project::Model,
    kind: ChangeKind,
    field: ChangedField,
    access: Access,
) -> Change {
    Change::new(
        ChangedSubject::Project(project.id),
        kind,
        [field],
        narrower(visibility(project), access),
    )
}
