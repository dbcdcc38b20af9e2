//! Writing the catalogue files' content into the database, in one
//! transaction. Importing the same catalogue twice leaves the database as it
//! was: rows keep their ids, and timestamps and versions move only when
//! something changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, Statement, TransactionTrait,
    TryIntoModel,
};

use super::changes::{
    Change, ChangeKind, ChangedField, ChangedSubject, narrower, project_audience, project_update,
    record_changes, visibility, wider,
};
use super::entities::{
    dataset, link, organization, organization_source, project, project_organization,
    project_season, project_source, project_tag, repository, tag,
};
use super::projects::search_text;
use super::uses::{HarvestScope, HarvestedUse, UseTarget, recount, replace_uses, use_changes};
use super::{LinkOrigin, Store, StoreError};
use crate::catalogue::{Access, Catalogue, Organization, Project, Slug, UseSource};

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub organizations_created: usize,
    pub organizations_updated: usize,
    pub projects_created: usize,
    pub projects_updated: usize,
    pub projects_unchanged: usize,
}

impl ImportReport {
    /// Whether the import changed anything.
    pub fn changed(&self) -> bool {
        self.organizations_created
            + self.organizations_updated
            + self.projects_created
            + self.projects_updated
            > 0
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "organizations: {} created, {} updated; projects: {} created, {} updated, {} unchanged",
            self.organizations_created,
            self.organizations_updated,
            self.projects_created,
            self.projects_updated,
            self.projects_unchanged
        )
    }
}

/// Whether a row was created, changed (which fields) or left as it was.
#[derive(PartialEq, Eq)]
enum Outcome {
    Created,
    Updated(BTreeSet<ChangedField>),
    Unchanged,
}

fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

impl Store {
    /// Writes `catalogue` into the database: organizations and projects are
    /// matched by slug, links by URL. Rows the catalogue does not mention are
    /// kept. All or nothing.
    pub async fn import(
        &self,
        catalogue: &Catalogue,
        now: DateTime<Utc>,
    ) -> Result<ImportReport, StoreError> {
        let txn = self.db.begin().await?;
        let usual_settings = prepare_for_bulk_writes(&txn).await?;
        let written = write_catalogue(&txn, catalogue, now).await;
        // The connection goes back to the pool: as it was.
        for (name, value) in usual_settings {
            txn.execute_unprepared(&format!("PRAGMA {name} = {value}"))
                .await?;
        }
        let report = written?;
        txn.commit().await?;
        if report.changed()
            && let Err(error) = self.refresh_statistics().await
        {
            // The import has committed: a stale plan is no reason to report it failed.
            tracing::warn!(%error, "imported, but could not refresh the planner's statistics");
        }
        Ok(report)
    }

    /// Whether the catalogue holds no project yet.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(project::Entity::find().one(&self.db).await?.is_none())
    }
}

/// SQLite settings of the import's connection while it writes, and why.
/// The statement journal (where each statement of the one transaction
/// copies the pages it changes that the transaction had changed already)
/// stays in memory: in a temporary file it took 4 GB of `pwrite`s to import
/// 10,000 projects into a 48 MiB database (56 s; 48 s without). The page
/// cache (SQLite's default is 2 MiB; here 256 MiB, in KiB) keeps the indexes
/// each project updates at random: 100,000 projects imported in 448 s
/// instead of 503 s.
const SQLITE_IMPORT_SETTINGS: [(&str, &str); 2] =
    [("temp_store", "MEMORY"), ("cache_size", "-262144")];

/// Sets the transaction `txn` up for an import's many writes. Returns the
/// SQLite settings to give its connection back when done, with their usual
/// values.
async fn prepare_for_bulk_writes(
    txn: &DatabaseTransaction,
) -> Result<Vec<(&'static str, i64)>, StoreError> {
    match txn.get_database_backend() {
        DatabaseBackend::Postgres => {
            // The import's statements repeat for every project. After five
            // runs PostgreSQL would keep a generic plan made while the tables
            // were still empty (a sequential scan), and each lookup would then
            // read every row inserted so far: 8.5 min instead of about one
            // for 10,000 projects into a new database. Planning each
            // execution sees the tables grow.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
            Ok(Vec::new())
        }
        DatabaseBackend::Sqlite => {
            let mut usual = Vec::new();
            for (name, value) in SQLITE_IMPORT_SETTINGS {
                let statement =
                    Statement::from_string(DatabaseBackend::Sqlite, format!("PRAGMA {name}"));
                if let Some(row) = txn.query_one_raw(statement).await? {
                    usual.push((name, row.try_get_by_index::<i64>(0)?));
                }
                txn.execute_unprepared(&format!("PRAGMA {name} = {value}"))
                    .await?;
            }
            Ok(usual)
        }
        _ => Ok(Vec::new()),
    }
}

/// Writes `catalogue` in the transaction `txn`.
async fn write_catalogue(
    txn: &DatabaseTransaction,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();

    let mut changed = Vec::new();
    let mut organization_ids = HashMap::new();
    for organization in &catalogue.organizations {
        let (id, outcome) = upsert_organization(txn, organization, now).await?;
        organization_ids.insert(organization.slug.clone(), id);
        let subject = ChangedSubject::Organization(id);
        // Organizations are public.
        match outcome {
            Outcome::Created => {
                report.organizations_created += 1;
                changed.push(Change::new(
                    subject,
                    ChangeKind::OrganizationCreated,
                    [],
                    Access::Public,
                ));
            }
            Outcome::Updated(fields) => {
                report.organizations_updated += 1;
                changed.push(Change::new(
                    subject,
                    ChangeKind::OrganizationUpdated,
                    fields,
                    Access::Public,
                ));
            }
            Outcome::Unchanged => {}
        }
    }
    // Projects may name organizations imported earlier and absent from these files.
    for row in organization::Entity::find().all(txn).await? {
        if let Ok(slug) = Slug::parse(&row.slug) {
            organization_ids.entry(slug).or_insert(row.id);
        }
    }

    let tags = upsert_tags(txn, catalogue).await?;
    let tag_ids = tags.ids;
    // Projects keep a relabelled tag unchanged, yet show its new label.
    if !tags.relabelled.is_empty() {
        let carrying = project_tag::Entity::find()
            .filter(project_tag::Column::TagId.is_in(tags.relabelled))
            .all(txn)
            .await?;
        for row in carrying {
            changed.push(Change::new(
                ChangedSubject::Project(row.project_id),
                ChangeKind::ProjectUpdated,
                [ChangedField::Tags],
                project_audience(txn, row.project_id).await?,
            ));
        }
    }
    for project in &catalogue.projects {
        let (id, project_changes) =
            upsert_project(txn, project, &organization_ids, &tag_ids, now).await?;
        changed.extend(catalogue_uses(txn, id, project, &organization_ids, now).await?);
        if !project_changes.is_empty() {
            // A repository or dataset the files no longer list took its uses with it.
            recount(txn, id).await?;
        }
        match project_changes.first().map(|change| change.kind) {
            Some(ChangeKind::ProjectCreated) => report.projects_created += 1,
            Some(_) => report.projects_updated += 1,
            None => report.projects_unchanged += 1,
        }
        changed.extend(project_changes);
    }
    record_changes(txn, changed, now).await?;
    Ok(report)
}

async fn upsert_organization(
    txn: &DatabaseTransaction,
    organization: &Organization,
    now: DateTime<Utc>,
) -> Result<(i64, Outcome), StoreError> {
    let (id, outcome) = upsert_organization_row(txn, organization, now).await?;
    let sources = organization
        .sources
        .iter()
        .enumerate()
        .map(|(i, source)| organization_source::Model {
            organization_id: id,
            position: position(i),
            title: source.title.to_string(),
            url: source.url.to_string(),
            date: source.date.map(|date| date.to_string()),
        })
        .collect();
    let sources_changed = replace_rows::<organization_source::Entity>(
        txn,
        organization_source::Column::OrganizationId,
        id,
        sources,
    )
    .await?;
    match outcome {
        Outcome::Unchanged if sources_changed => {
            Ok((id, Outcome::Updated([ChangedField::Sources].into())))
        }
        Outcome::Updated(mut fields) if sources_changed => {
            fields.insert(ChangedField::Sources);
            Ok((id, Outcome::Updated(fields)))
        }
        outcome => Ok((id, outcome)),
    }
}

/// The organization's own row, created or brought up to date.
async fn upsert_organization_row(
    txn: &DatabaseTransaction,
    organization: &Organization,
    now: DateTime<Utc>,
) -> Result<(i64, Outcome), StoreError> {
    let current = organization::Entity::find()
        .filter(organization::Column::Slug.eq(organization.slug.as_str()))
        .one(txn)
        .await?;
    let wanted = organization::Model {
        id: current.as_ref().map_or(0, |c| c.id),
        slug: organization.slug.to_string(),
        name: organization.name.to_string(),
        sort_key: organization.name.sort_key(),
        acronym: organization.acronym.as_ref().map(ToString::to_string),
        kind: organization.kind.as_db().to_owned(),
        siret: organization.siret.as_ref().map(ToString::to_string),
        siren: organization.siren.as_ref().map(ToString::to_string),
        website: organization.website.as_ref().map(ToString::to_string),
        // The files are the catalogue's own word.
        verified: true,
        created_at: current.as_ref().map_or(now, |c| c.created_at),
        updated_at: current.as_ref().map_or(now, |c| c.updated_at),
    };
    match current {
        None => {
            let mut row = wanted.into_active_model().reset_all();
            row.not_set(organization::Column::Id);
            let inserted = row.insert(txn).await?;
            Ok((inserted.id, Outcome::Created))
        }
        Some(current) if current == wanted => Ok((current.id, Outcome::Unchanged)),
        Some(current) => {
            let fields = organization_fields(&current, &wanted);
            let row = organization::Model {
                updated_at: now,
                ..wanted
            }
            .into_active_model()
            .reset_all();
            row.update(txn).await?;
            Ok((current.id, Outcome::Updated(fields)))
        }
    }
}

/// The fields of an organization's own row that differ.
fn organization_fields(
    before: &organization::Model,
    after: &organization::Model,
) -> BTreeSet<ChangedField> {
    [
        (before.name != after.name, ChangedField::Name),
        (before.acronym != after.acronym, ChangedField::Acronym),
        (before.kind != after.kind, ChangedField::Kind),
        (before.siret != after.siret, ChangedField::Siret),
        (before.siren != after.siren, ChangedField::Siren),
        (before.website != after.website, ChangedField::Website),
    ]
    .into_iter()
    .filter_map(|(changed, field)| changed.then_some(field))
    .collect()
}

/// The tags of an import: ids by slug, and the tags whose label changed.
struct Tags {
    ids: HashMap<String, i64>,
    relabelled: Vec<i64>,
}

/// Creates the tags the catalogue uses; a slug's label is the first one met
/// in file order, so importing twice gives the same labels.
async fn upsert_tags(txn: &DatabaseTransaction, catalogue: &Catalogue) -> Result<Tags, StoreError> {
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for project in &catalogue.projects {
        for label in &project.tags {
            if let Ok(slug) = Slug::from_label(label) {
                labels
                    .entry(slug.to_string())
                    .or_insert_with(|| label.to_string());
            }
        }
    }
    let existing: HashMap<String, tag::Model> = tag::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|row| (row.slug.clone(), row))
        .collect();
    let mut ids = HashMap::new();
    let mut relabelled = Vec::new();
    for (slug, label) in labels {
        let id = match existing.get(&slug) {
            Some(row) if row.label == label => row.id,
            Some(row) => {
                relabelled.push(row.id);
                tag::Model {
                    label,
                    ..row.clone()
                }
                .into_active_model()
                .reset_all()
                .update(txn)
                .await?;
                row.id
            }
            None => {
                let mut row = tag::Model {
                    id: 0,
                    slug: slug.clone(),
                    label,
                }
                .into_active_model()
                .reset_all();
                row.not_set(tag::Column::Id);
                row.insert(txn).await?.id
            }
        };
        ids.insert(slug, id);
    }
    Ok(Tags { ids, relabelled })
}

/// Creates or brings up to date project `project` and its children; returns
/// the changes to record (none when it was already so).
async fn upsert_project(
    txn: &DatabaseTransaction,
    project: &Project,
    organization_ids: &HashMap<Slug, i64>,
    tag_ids: &HashMap<String, i64>,
    now: DateTime<Utc>,
) -> Result<(i64, Vec<Change>), StoreError> {
    let current = project::Entity::find()
        .filter(project::Column::Slug.eq(project.slug.as_str()))
        .one(txn)
        .await?;
    let wanted = project::Model {
        id: current.as_ref().map_or(0, |c| c.id),
        slug: project.slug.to_string(),
        name: project.name.to_string(),
        sort_key: project.name.sort_key(),
        summary: project.summary.to_string(),
        description: project.description.trim().to_owned(),
        search_text: search_text(
            project.name.as_str(),
            project.summary.as_str(),
            project.description.trim(),
        ),
        status: project.status.map(|s| s.as_db().to_owned()),
        website: project.website.as_ref().map(ToString::to_string),
        documentation: project.documentation.as_ref().map(ToString::to_string),
        visibility: project.visibility.as_db().to_owned(),
        created_at: current.as_ref().map_or(now, |c| c.created_at),
        updated_at: current.as_ref().map_or(now, |c| c.updated_at),
        version: current.as_ref().map_or(1, |c| c.version),
        used_by: current.as_ref().map_or(0, |c| c.used_by),
    };
    let id = match &current {
        None => {
            let mut row = wanted.clone().into_active_model().reset_all();
            row.not_set(project::Column::Id);
            row.insert(txn).await?.id
        }
        Some(current) => current.id,
    };
    let children = sync_children(txn, id, project, organization_ids, tag_ids).await?;
    let subject = ChangedSubject::Project(id);
    let Some(current) = current else {
        let created = Change::new(subject, ChangeKind::ProjectCreated, [], visibility(&wanted));
        return Ok((id, vec![created]));
    };
    if current == wanted && children.is_empty() {
        return Ok((id, Vec::new()));
    }
    let updated = project::Model {
        id,
        updated_at: now,
        version: wanted.version + 1,
        ..wanted
    };
    updated
        .clone()
        .into_active_model()
        .reset_all()
        .update(txn)
        .await?;
    let mut changes = Vec::new();
    let mut own = project_update(&current, &updated);
    own.fields.extend(children.fields);
    if !own.fields.is_empty() {
        changes.push(own);
    }
    if let Some(access) = children.links_access {
        changes.push(Change::new(
            subject,
            ChangeKind::ProjectUpdated,
            children.link_fields,
            narrower(visibility(&updated), access),
        ));
    }
    Ok((id, changes))
}

/// What syncing a project's child tables changed: fields of the project
/// itself, and fields listing links with the widest access among the links
/// added, changed or removed.
#[derive(Default)]
struct ChildrenChanges {
    fields: BTreeSet<ChangedField>,
    link_fields: BTreeSet<ChangedField>,
    links_access: Option<Access>,
}

impl ChildrenChanges {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.link_fields.is_empty()
    }

    fn child(&mut self, changed: bool, field: ChangedField) {
        if changed {
            self.fields.insert(field);
        }
    }

    fn links(&mut self, access: Option<Access>, field: ChangedField) {
        if let Some(access) = access {
            self.link_fields.insert(field);
            self.links_access = Some(match self.links_access {
                Some(seen) => wider(seen, access),
                None => access,
            });
        }
    }
}

/// The project's uses the files state (source CATALOGUE), in place of
/// those they stated before; what changed.
async fn catalogue_uses(
    txn: &DatabaseTransaction,
    id: i64,
    project: &Project,
    organization_ids: &HashMap<Slug, i64>,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, StoreError> {
    let uses: Vec<HarvestedUse> = project
        .uses
        .iter()
        .filter_map(|used| {
            let organization_id = *organization_ids.get(&used.organization)?;
            Some(HarvestedUse {
                key: format!("{}:{}", used.organization, used.kind.as_db()),
                organization_name: String::new(),
                organization_id: Some(organization_id),
                kind: used.kind,
                since: used.since.map(|date| date.to_string()),
                comment: used.comment.as_ref().map(ToString::to_string),
                instance_url: used.instance_url.as_ref().map(ToString::to_string),
                source_url: None,
            })
        })
        .collect();
    let scope = HarvestScope {
        project_id: id,
        source: UseSource::Catalogue,
        target: UseTarget::Project,
    };
    let changed = replace_uses(txn, scope, &uses, now).await?;
    use_changes(txn, id, changed, ChangeKind::ProjectUpdated).await
}

/// Brings every child table of project `id` in line with `project`; tells
/// what changed.
async fn sync_children(
    txn: &DatabaseTransaction,
    id: i64,
    project: &Project,
    organization_ids: &HashMap<Slug, i64>,
    tag_ids: &HashMap<String, i64>,
) -> Result<ChildrenChanges, StoreError> {
    let seasons = project
        .seasons
        .iter()
        .map(|season| project_season::Model {
            project_id: id,
            season: i32::from(season.number()),
        })
        .collect();
    let tags = project
        .tags
        .iter()
        .enumerate()
        .filter_map(|(i, label)| {
            let slug = Slug::from_label(label).ok()?;
            Some(project_tag::Model {
                project_id: id,
                tag_id: *tag_ids.get(slug.as_str())?,
                position: position(i),
            })
        })
        .collect();
    let participations = project
        .organizations
        .iter()
        .enumerate()
        .filter_map(|(i, participation)| {
            Some(project_organization::Model {
                project_id: id,
                organization_id: *organization_ids.get(&participation.organization)?,
                role: participation.role.as_db().to_owned(),
                position: position(i),
                confidence: participation.confidence.as_db().to_owned(),
                note: participation.note.as_ref().map(ToString::to_string),
            })
        })
        .collect();
    let sources = project
        .sources
        .iter()
        .enumerate()
        .map(|(i, source)| project_source::Model {
            project_id: id,
            position: position(i),
            title: source.title.to_string(),
            url: Some(source.url.to_string()),
            date: source.date.map(|date| date.to_string()),
        })
        .collect();
    let repositories = project
        .repositories
        .iter()
        .enumerate()
        .map(|(i, code)| repository::Model {
            id: 0,
            project_id: id,
            url: code.url.to_string(),
            origin: LinkOrigin::File.as_db().to_owned(),
            forge: code.forge.as_db().to_owned(),
            owner: code.owner.clone(),
            name: code.name.clone(),
            role: code.role.as_db().to_owned(),
            language: code.language.as_ref().map(ToString::to_string),
            license: code.license.as_ref().map(ToString::to_string),
            access: code.access.as_db().to_owned(),
            position: position(i),
            confidence: code.confidence.as_db().to_owned(),
            note: code.note.as_ref().map(ToString::to_string),
        })
        .collect();
    let datasets = project
        .datasets
        .iter()
        .enumerate()
        .map(|(i, data)| dataset::Model {
            id: 0,
            project_id: id,
            url: data.url.to_string(),
            origin: LinkOrigin::File.as_db().to_owned(),
            provider: data.provider.as_db().to_owned(),
            title: data.title.to_string(),
            description: data.description.as_ref().map(ToString::to_string),
            access: data.access.as_db().to_owned(),
            position: position(i),
            confidence: data.confidence.as_db().to_owned(),
            note: data.note.as_ref().map(ToString::to_string),
        })
        .collect();
    let links = project
        .links
        .iter()
        .enumerate()
        .map(|(i, other)| link::Model {
            id: 0,
            project_id: id,
            url: other.url.to_string(),
            origin: LinkOrigin::File.as_db().to_owned(),
            kind: other.kind.as_db().to_owned(),
            title: other.title.to_string(),
            access: other.access.as_db().to_owned(),
            position: position(i),
            confidence: other.confidence.as_db().to_owned(),
            note: other.note.as_ref().map(ToString::to_string),
        })
        .collect();

    let mut changed = ChildrenChanges::default();
    changed.child(
        replace_rows::<project_season::Entity>(txn, project_season::Column::ProjectId, id, seasons)
            .await?,
        ChangedField::Seasons,
    );
    changed.child(
        replace_rows::<project_tag::Entity>(txn, project_tag::Column::ProjectId, id, tags).await?,
        ChangedField::Tags,
    );
    changed.child(
        replace_rows::<project_organization::Entity>(
            txn,
            project_organization::Column::ProjectId,
            id,
            participations,
        )
        .await?,
        ChangedField::Organizations,
    );
    changed.child(
        replace_rows::<project_source::Entity>(txn, project_source::Column::ProjectId, id, sources)
            .await?,
        ChangedField::Sources,
    );
    changed.links(
        sync_by_url(txn, &REPOSITORIES, id, repositories).await?,
        ChangedField::Repositories,
    );
    changed.links(
        sync_by_url(txn, &DATASETS, id, datasets).await?,
        ChangedField::Datasets,
    );
    changed.links(
        sync_by_url(txn, &LINKS, id, links).await?,
        ChangedField::Links,
    );
    Ok(changed)
}

/// Replaces a project's (or an organization's) rows in a table without ids
/// of its own, when they differ.
async fn replace_rows<E>(
    txn: &DatabaseTransaction,
    project_column: E::Column,
    project_id: i64,
    wanted: Vec<E::Model>,
) -> Result<bool, StoreError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + PartialEq + Send + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    let current = E::find()
        .filter(project_column.eq(project_id))
        .all(txn)
        .await?;
    let same = current.len() == wanted.len() && wanted.iter().all(|row| current.contains(row));
    if same {
        return Ok(false);
    }
    E::delete_many()
        .filter(project_column.eq(project_id))
        .exec(txn)
        .await?;
    if !wanted.is_empty() {
        E::insert_many(
            wanted
                .into_iter()
                .map(|row| row.into_active_model().reset_all()),
        )
        .exec(txn)
        .await?;
    }
    Ok(true)
}

/// How to read a link table: links have ids of their own and are matched by URL.
struct LinkTable<E: EntityTrait> {
    project_column: E::Column,
    id_column: E::Column,
    url: fn(&E::Model) -> &String,
    id: fn(&E::Model) -> i64,
    access: fn(&E::Model) -> &String,
    /// Whether the row came from the files; only those may be removed by an import.
    from_files: fn(&E::Model) -> bool,
}

const REPOSITORIES: LinkTable<repository::Entity> = LinkTable {
    project_column: repository::Column::ProjectId,
    id_column: repository::Column::Id,
    url: |row| &row.url,
    id: |row| row.id,
    access: |row| &row.access,
    from_files: |row| LinkOrigin::from_db(&row.origin) == Some(LinkOrigin::File),
};

const DATASETS: LinkTable<dataset::Entity> = LinkTable {
    project_column: dataset::Column::ProjectId,
    id_column: dataset::Column::Id,
    url: |row| &row.url,
    id: |row| row.id,
    access: |row| &row.access,
    from_files: |row| LinkOrigin::from_db(&row.origin) == Some(LinkOrigin::File),
};

const LINKS: LinkTable<link::Entity> = LinkTable {
    project_column: link::Column::ProjectId,
    id_column: link::Column::Id,
    url: |row| &row.url,
    id: |row| row.id,
    access: |row| &row.access,
    from_files: |row| LinkOrigin::from_db(&row.origin) == Some(LinkOrigin::File),
};

/// Updates, inserts and deletes a project's links so they match `wanted`,
/// keeping the id of every link whose URL stays; tells the widest access
/// among the links it touched, `None` when it touched none.
async fn sync_by_url<E>(
    txn: &DatabaseTransaction,
    table: &LinkTable<E>,
    project_id: i64,
    wanted: Vec<E::Model>,
) -> Result<Option<Access>, StoreError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + PartialEq + Send + Sync,
    E::ActiveModel:
        ActiveModelTrait<Entity = E> + ActiveModelBehavior + TryIntoModel<E::Model> + Send,
{
    let mut touched: Option<Access> = None;
    let mut touch = |row: &E::Model| {
        let access = Access::from_db((table.access)(row)).unwrap_or(Access::Agents);
        touched = Some(touched.map_or(access, |seen| wider(seen, access)));
    };
    let mut current: HashMap<String, E::Model> = E::find()
        .filter(table.project_column.eq(project_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|row| ((table.url)(&row).clone(), row))
        .collect();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for row in wanted {
        match current.remove((table.url)(&row)) {
            Some(existing) => {
                let mut candidate = row.into_active_model().reset_all();
                candidate.set(table.id_column, (table.id)(&existing).into());
                let updated = candidate.clone().try_into_model()?;
                if updated != existing {
                    touch(&existing);
                    touch(&updated);
                    updates.push(candidate);
                }
            }
            None => {
                touch(&row);
                let mut candidate = row.into_active_model().reset_all();
                candidate.not_set(table.id_column);
                inserts.push(candidate);
            }
        }
    }
    // Links added through the API are not the files' to remove.
    current.retain(|_, row| (table.from_files)(row));
    current.values().for_each(&mut touch);
    if !current.is_empty() {
        let gone: Vec<i64> = current.values().map(table.id).collect();
        E::delete_many()
            .filter(table.id_column.is_in(gone))
            .exec(txn)
            .await?;
    }
    for row in updates {
        row.update(txn).await?;
    }
    for row in inserts {
        row.insert(txn).await?;
    }
    Ok(touched)
}
