//! What the search index is built from: each project with everything about
//! it that can be searched or filtered on, read in a few statements per batch.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{harvest_result, organization, project_organization};
use super::harvest::HarvestRecord;
use super::link_checks::LinkCheckRecord;
use super::records::{
    DatasetRecord, LinkRecord, OrganizationRecord, ProjectRecord, RepositoryRecord, TagRecord,
};
use super::rows::Columns;
use super::{Store, StoreError};
use crate::catalogue::{Access, Audience};

/// A project and everything searchable about it, whoever may read it.
#[derive(Debug, Clone)]
pub struct ProjectBundle {
    pub project: ProjectRecord,
    pub tags: Vec<TagRecord>,
    pub seasons: Vec<i32>,
    pub organizations: Vec<OrganizationRecord>,
    pub repositories: Vec<RepositoryRecord>,
    pub datasets: Vec<DatasetRecord>,
    pub links: Vec<LinkRecord>,
    /// The last harvest of each of its links, by subject (`repository:<id>`, …).
    pub harvested: HashMap<String, HarvestRecord>,
    /// The last check of each URL it holds that has one, by URL.
    pub checks: HashMap<String, LinkCheckRecord>,
    /// The catalogue's organizations that use it, each with who may read
    /// the use (that of the repository or dataset it names, if any).
    pub users: Vec<(OrganizationRecord, Access)>,
}

/// Groups `(key, item)` pairs by key, each group in the order read.
pub(super) fn grouped<T>(pairs: Vec<(i64, T)>) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for (project_id, item) in pairs {
        grouped.entry(project_id).or_default().push(item);
    }
    grouped
}

impl Store {
    /// The projects among `ids` with everything searchable about them,
    /// agents-only material included: the index decides who sees what.
    pub async fn project_bundles(&self, ids: &[i64]) -> Result<Vec<ProjectBundle>, StoreError> {
        let projects = self.projects_by_ids(ids, Audience::Agents).await?;
        let mut tags = grouped(self.tags_of_projects(ids).await?);
        let mut seasons = grouped(self.seasons_of_projects(ids).await?);
        let mut organizations = grouped(
            self.participations_of_projects(ids, Columns::ALL)
                .await?
                .into_iter()
                .map(|(id, participation)| (id, participation.organization))
                .collect(),
        );
        let mut repositories = grouped(
            self.repositories_of_projects(ids, Audience::Agents, Columns::ALL)
                .await?,
        );
        let mut datasets = grouped(self.datasets_of_projects(ids, Audience::Agents).await?);
        let mut links = grouped(self.links_of_projects(ids, Audience::Agents).await?);
        // A URL may be held by several projects of the batch: read once.
        let urls: Vec<String> = projects
            .iter()
            .flat_map(|p| [p.website.clone(), p.documentation.clone()])
            .flatten()
            .chain(datasets.values().flatten().map(|d| d.url.clone()))
            .chain(links.values().flatten().map(|l| l.url.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let checks: HashMap<String, LinkCheckRecord> = self
            .link_checks(&urls)
            .await?
            .into_iter()
            .map(|check| (check.url.clone(), check))
            .collect();
        let uses = self.uses_of_projects(ids, Audience::Agents).await?;
        let user_ids: Vec<i64> = uses
            .iter()
            .filter_map(|(_, used)| used.organization_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let user_records: HashMap<i64, OrganizationRecord> = self
            .organizations_by_ids(&user_ids)
            .await?
            .into_iter()
            .map(|organization| (organization.id, organization))
            .collect();
        let mut uses = grouped(uses);
        let mut harvested = grouped(
            harvest_result::Entity::find()
                .filter(harvest_result::Column::ProjectId.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| (row.project_id, HarvestRecord::from(row)))
                .collect(),
        );
        Ok(projects
            .into_iter()
            .map(|project| {
                let id = project.id;
                let mut seasons = seasons.remove(&id).unwrap_or_default();
                seasons.sort_unstable();
                let datasets = datasets.remove(&id).unwrap_or_default();
                let links = links.remove(&id).unwrap_or_default();
                let checks = [&project.website, &project.documentation]
                    .into_iter()
                    .flatten()
                    .chain(datasets.iter().map(|d| &d.url))
                    .chain(links.iter().map(|l| &l.url))
                    .filter_map(|url| Some((url.clone(), checks.get(url)?.clone())))
                    .collect();
                let repositories = repositories.remove(&id).unwrap_or_default();
                let access_of = |used: &crate::store::UseRecord| {
                    let repository = used.repository_id.and_then(|target| {
                        repositories
                            .iter()
                            .find(|r| r.id == target)
                            .map(|r| r.access)
                    });
                    let dataset = used.dataset_id.and_then(|target| {
                        datasets.iter().find(|d| d.id == target).map(|d| d.access)
                    });
                    repository.or(dataset).unwrap_or(Access::Public)
                };
                let users = uses
                    .remove(&id)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|used| {
                        let organization = user_records.get(&used.organization_id?)?;
                        Some((organization.clone(), access_of(used)))
                    })
                    .collect();
                ProjectBundle {
                    users,
                    tags: tags.remove(&id).unwrap_or_default(),
                    seasons,
                    organizations: organizations.remove(&id).unwrap_or_default(),
                    repositories,
                    datasets,
                    links,
                    checks,
                    harvested: harvested
                        .remove(&id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|record| (record.subject.clone(), record))
                        .collect(),
                    project,
                }
            })
            .collect())
    }

    /// The ids of every organization.
    pub async fn organization_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(organization::Entity::find()
            .select_only()
            .column(organization::Column::Id)
            .order_by_asc(organization::Column::Id)
            .into_tuple::<i64>()
            .all(&self.db)
            .await?)
    }

    /// The organizations among `ids`, and the ids of the projects each takes part in.
    pub async fn organizations_with_projects(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(OrganizationRecord, Vec<i64>)>, StoreError> {
        let organizations = self.organizations_by_ids(ids).await?;
        let mut projects = grouped(
            project_organization::Entity::find()
                .filter(project_organization::Column::OrganizationId.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| (row.organization_id, row.project_id))
                .collect(),
        );
        Ok(organizations
            .into_iter()
            .map(|organization| {
                let projects = projects.remove(&organization.id).unwrap_or_default();
                (organization, projects)
            })
            .collect())
    }
}
