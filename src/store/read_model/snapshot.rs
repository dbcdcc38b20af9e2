//! One revision of the read model: every project with its organizations,
//! code, data, links, tags, seasons and uses, whoever may read them; the queries
//! answer as the statements they stand for would (same rows, same order,
//! same audience rules).

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalogue::{Access, Audience};
use crate::store::counts::CountedList;
use crate::store::paging::{Page, PageDirection, SortValue, finish_page};
use crate::store::{
    DatasetFilter, DatasetRecord, LinkRecord, OrganizationRecord, ParticipationRecord,
    ProjectFilter, ProjectOrderField, ProjectRecord, RepositoryFilter, RepositoryRecord, TagRecord,
    UseRecord,
};

/// A project and what hangs off it, each list in file order.
#[derive(Debug, Clone)]
pub struct ProjectEntry {
    pub project: ProjectRecord,
    pub participations: Vec<ParticipationRecord>,
    pub repositories: Vec<RepositoryRecord>,
    pub datasets: Vec<DatasetRecord>,
    pub links: Vec<LinkRecord>,
    pub tags: Vec<TagRecord>,
    pub seasons: Vec<i32>,
    /// The uses of the project and of its repositories and datasets, by
    /// organization name then id (as `Store::uses_of_projects` reads them).
    pub uses: Vec<UseRecord>,
}

impl ProjectEntry {
    /// The organizations its uses name, each once.
    fn using_organizations(&self) -> impl Iterator<Item = i64> {
        let ids: Vec<i64> = self.uses.iter().filter_map(|u| u.organization_id).collect();
        distinct(&ids)
    }

    /// Whether `audience` may read the repository or dataset `used` names
    /// (a use of the whole project hides with the project itself), as
    /// `store::uses::readable_targets` tells.
    fn use_target_readable(&self, used: &UseRecord, audience: Audience) -> bool {
        let readable = |access: &Access| audience.readable().contains(access);
        let repository = used
            .repository_id
            .is_none_or(|id| (self.repositories.iter()).any(|r| r.id == id && readable(&r.access)));
        let dataset = used
            .dataset_id
            .is_none_or(|id| (self.datasets.iter()).any(|d| d.id == id && readable(&d.access)));
        repository && dataset
    }
}

/// The catalogue as of `revision`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub(super) revision: i64,
    projects: HashMap<i64, Arc<ProjectEntry>>,
    by_slug: HashMap<String, i64>,
    /// Project ids in `(sort_key, id)` order: the name ordering.
    by_name: Vec<i64>,
    /// Project ids in `(used_by, id)` order.
    by_used_by: Vec<i64>,
    /// `(repository id, project id)` in id order: the catalogue order of the
    /// cross-project list.
    repositories: Vec<(i64, i64)>,
    /// `(dataset id, project id)` in id order.
    datasets: Vec<(i64, i64)>,
    /// Every organization, whether it takes part in a project or not (so
    /// that one missing is missing from the database too).
    organizations: HashMap<i64, OrganizationRecord>,
    organization_by_slug: HashMap<String, i64>,
    /// The ids of the projects each organization takes part in, in the
    /// name ordering.
    projects_of_organization: HashMap<i64, Vec<i64>>,
    /// The ids of the projects each organization uses (or uses a
    /// repository or dataset of), in id order.
    projects_used_by_organization: HashMap<i64, Vec<i64>>,
}

/// What a replay read again: the rows the journal named (`ids`), and those
/// of them still there (`found`; one missing was deleted).
pub(super) struct Reread<T> {
    pub ids: Vec<i64>,
    pub found: Vec<T>,
}

impl Snapshot {
    /// `organizations` and `entries` as of `revision`.
    pub(super) fn new(
        revision: i64,
        organizations: Vec<OrganizationRecord>,
        entries: Vec<ProjectEntry>,
    ) -> Self {
        let mut snapshot = Self {
            revision,
            ..Self::default()
        };
        snapshot.replace_organizations(&[], organizations);
        snapshot.replace(&[], entries);
        snapshot
    }

    /// The same catalogue at `revision`, with the organizations and
    /// projects the journal named read again.
    pub(super) fn with(
        &self,
        revision: i64,
        organizations: Reread<OrganizationRecord>,
        projects: Reread<ProjectEntry>,
    ) -> Self {
        let mut next = self.clone();
        next.revision = revision;
        next.replace_organizations(&organizations.ids, organizations.found);
        next.replace(&projects.ids, projects.found);
        next
    }

    fn replace_organizations(&mut self, removed: &[i64], found: Vec<OrganizationRecord>) {
        for id in removed {
            if let Some(organization) = self.organizations.remove(id) {
                self.organization_by_slug.remove(&organization.slug);
            }
        }
        for organization in found {
            self.organization_by_slug
                .insert(organization.slug.clone(), organization.id);
            self.organizations.insert(organization.id, organization);
        }
    }

    fn replace(&mut self, removed: &[i64], entries: Vec<ProjectEntry>) {
        if !removed.is_empty() {
            let removed: std::collections::HashSet<i64> = removed.iter().copied().collect();
            for id in &removed {
                if let Some(entry) = self.projects.remove(id) {
                    self.by_slug.remove(&entry.project.slug);
                    for participation in &entry.participations {
                        let organization = participation.organization.id;
                        if let Some(ids) = self.projects_of_organization.get_mut(&organization) {
                            ids.retain(|other| other != id);
                        }
                    }
                    for organization in entry.using_organizations() {
                        if let Some(ids) = self.projects_used_by_organization.get_mut(&organization)
                        {
                            ids.retain(|other| other != id);
                        }
                    }
                }
            }
            self.by_name.retain(|id| !removed.contains(id));
            self.by_used_by.retain(|id| !removed.contains(id));
            self.repositories
                .retain(|(_, project)| !removed.contains(project));
            self.datasets
                .retain(|(_, project)| !removed.contains(project));
        }
        // A few projects go in place; many (a build) are sorted once.
        let many = entries.len() > 64;
        for entry in entries {
            let id = entry.project.id;
            self.by_slug.insert(entry.project.slug.clone(), id);
            let repositories = entry.repositories.iter().map(|r| (r.id, id));
            let datasets = entry.datasets.iter().map(|d| (d.id, id));
            if many {
                self.repositories.extend(repositories);
                self.datasets.extend(datasets);
            } else {
                for pair in repositories {
                    let at = self.repositories.partition_point(|other| *other < pair);
                    self.repositories.insert(at, pair);
                }
                for pair in datasets {
                    let at = self.datasets.partition_point(|other| *other < pair);
                    self.datasets.insert(at, pair);
                }
            }
            let organizations: Vec<i64> = (entry.participations.iter())
                .map(|p| p.organization.id)
                .collect();
            for organization in entry.using_organizations() {
                let ids = (self.projects_used_by_organization.entry(organization)).or_default();
                if many {
                    ids.push(id);
                } else if let Err(at) = ids.binary_search(&id) {
                    ids.insert(at, id);
                }
            }
            self.projects.insert(id, Arc::new(entry));
            if many {
                self.by_name.push(id);
                self.by_used_by.push(id);
                for organization in organizations {
                    (self.projects_of_organization.entry(organization))
                        .or_default()
                        .push(id);
                }
                continue;
            }
            let projects = &self.projects;
            let record = &projects[&id].project;
            let before = |other: &i64| name_key(&projects[other].project) < name_key(record);
            let at = self.by_name.partition_point(before);
            self.by_name.insert(at, id);
            for organization in organizations {
                let ids = self
                    .projects_of_organization
                    .entry(organization)
                    .or_default();
                ids.insert(ids.partition_point(before), id);
            }
            let at = self.by_used_by.partition_point(|other| {
                used_by_key(&projects[other].project) < used_by_key(record)
            });
            self.by_used_by.insert(at, id);
        }
        if many {
            let projects = &self.projects;
            let by_name = |a: &i64, b: &i64| {
                name_key(&projects[a].project).cmp(&name_key(&projects[b].project))
            };
            self.by_name.sort_unstable_by(by_name);
            for ids in self.projects_of_organization.values_mut() {
                ids.sort_unstable_by(by_name);
            }
            for ids in self.projects_used_by_organization.values_mut() {
                ids.sort_unstable();
                ids.dedup();
            }
            self.by_used_by
                .sort_unstable_by_key(|id| used_by_key(&projects[id].project));
            self.repositories.sort_unstable();
            self.datasets.sort_unstable();
        }
    }

    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// How many projects it holds, whoever may read them.
    pub fn projects_held(&self) -> usize {
        self.projects.len()
    }

    fn project(&self, id: i64) -> Option<&ProjectEntry> {
        self.projects.get(&id).map(Arc::as_ref)
    }

    /// The projects among `ids` that `audience` may read, in no order.
    pub fn projects_by_ids(&self, ids: &[i64], audience: Audience) -> Vec<ProjectRecord> {
        ids.iter()
            .filter_map(|id| self.project(*id))
            .map(|entry| &entry.project)
            .filter(|project| audience.readable().contains(&project.visibility))
            .cloned()
            .collect()
    }

    /// The projects with one of `slugs` that `audience` may read, in no order.
    pub fn projects_by_slugs(&self, slugs: &[String], audience: Audience) -> Vec<ProjectRecord> {
        let ids: Vec<i64> = slugs
            .iter()
            .filter_map(|slug| self.by_slug.get(slug).copied())
            .collect();
        self.projects_by_ids(&ids, audience)
    }

    /// The organizations with one of `slugs`, in no order.
    pub fn organizations_by_slugs(&self, slugs: &[String]) -> Vec<OrganizationRecord> {
        let ids: Vec<i64> = (slugs.iter())
            .filter_map(|slug| self.organization_by_slug.get(slug).copied())
            .collect();
        self.organizations_by_ids(&ids)
    }

    /// The organizations among `ids`, in no order.
    pub fn organizations_by_ids(&self, ids: &[i64]) -> Vec<OrganizationRecord> {
        (ids.iter())
            .filter_map(|id| self.organizations.get(id))
            .cloned()
            .collect()
    }

    /// `(organization id, project)` for the projects `audience` may read
    /// that each organization among `ids` takes part in, organization by
    /// organization, each in the name ordering.
    pub fn projects_of_organizations(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Vec<(i64, ProjectRecord)> {
        distinct(ids)
            .filter_map(|id| Some((id, self.projects_of_organization.get(&id)?)))
            .flat_map(|(id, projects)| {
                (projects.iter())
                    .map(|project| &self.projects[project].project)
                    .filter(|project| audience.readable().contains(&project.visibility))
                    .map(move |project| (id, project.clone()))
            })
            .collect()
    }

    /// `(project id, use)` for the uses of each project among `ids` that
    /// `audience` may read, as `Store::uses_of_projects` gives them.
    pub fn uses_of_projects(&self, ids: &[i64], audience: Audience) -> Vec<(i64, UseRecord)> {
        self.children(
            ids,
            |entry| &entry.uses,
            |entry, used| entry.use_target_readable(used, audience),
        )
    }

    /// `(repository id, use)` for the uses of each repository among `ids`,
    /// as `Store::uses_of_repositories` gives them.
    pub fn uses_of_repositories(&self, ids: &[i64]) -> Vec<(i64, UseRecord)> {
        self.uses_of_items(&self.repositories, ids, |used| used.repository_id)
    }

    /// `(dataset id, use)` for the uses of each dataset among `ids`, as
    /// `Store::uses_of_datasets` gives them.
    pub fn uses_of_datasets(&self, ids: &[i64]) -> Vec<(i64, UseRecord)> {
        self.uses_of_items(&self.datasets, ids, |used| used.dataset_id)
    }

    /// The uses naming each item among `ids` (`target` of a use: the item
    /// it names), item by item in id order, each by organization name.
    fn uses_of_items(
        &self,
        pairs: &[(i64, i64)],
        ids: &[i64],
        target: impl Fn(&UseRecord) -> Option<i64>,
    ) -> Vec<(i64, UseRecord)> {
        let target = &target;
        distinct(ids)
            .filter_map(|id| pair_of(pairs, id))
            .filter_map(|&(id, project)| Some((id, self.project(project)?)))
            .flat_map(|(id, entry)| {
                (entry.uses.iter())
                    .filter(move |used| target(used) == Some(id))
                    .map(move |used| (id, used.clone()))
            })
            .collect()
    }

    /// `(organization id, use)` for what each organization among `ids` uses
    /// among what `audience` may read, organization by organization, then
    /// by project and use id, as `Store::uses_of_organizations` gives them.
    pub fn uses_of_organizations(&self, ids: &[i64], audience: Audience) -> Vec<(i64, UseRecord)> {
        let mut found = Vec::new();
        for organization in distinct(ids) {
            let Some(projects) = self.projects_used_by_organization.get(&organization) else {
                continue;
            };
            for entry in projects.iter().filter_map(|id| self.project(*id)) {
                if !audience.readable().contains(&entry.project.visibility) {
                    continue;
                }
                let start = found.len();
                found.extend(
                    (entry.uses.iter())
                        .filter(|used| used.organization_id == Some(organization))
                        .filter(|used| entry.use_target_readable(used, audience))
                        .map(|used| (organization, used.clone())),
                );
                found[start..].sort_unstable_by_key(|(_, used)| used.id);
            }
        }
        found
    }

    /// How many items of `list` `audience` may read, as the store's counts
    /// count them; `None` for a filter the model cannot tell.
    pub(in crate::store) fn count(&self, list: &CountedList, audience: Audience) -> Option<u64> {
        let count = match list {
            CountedList::Projects(filter) => {
                let listed = listed(filter, audience)?;
                self.projects.values().filter(|entry| listed(entry)).count()
            }
            CountedList::Repositories(filter) => {
                let listed = self.repository_listed(filter, audience);
                self.repositories
                    .iter()
                    .filter(|pair| listed(pair).is_some())
                    .count()
            }
            CountedList::Datasets(filter) => {
                let listed = self.dataset_listed(filter, audience);
                self.datasets
                    .iter()
                    .filter(|pair| listed(pair).is_some())
                    .count()
            }
        };
        Some(count as u64)
    }

    /// A page of the repositories `audience` may read that match `filter`,
    /// in id order, as `Store::repository_page` gives it.
    pub fn repository_page(
        &self,
        filter: &RepositoryFilter,
        page: &Page,
        audience: Audience,
    ) -> (Vec<RepositoryRecord>, bool) {
        let listed = self.repository_listed(filter, audience);
        id_page(&self.repositories, page, |pair| listed(pair).cloned())
    }

    /// A page of the datasets `audience` may read that match `filter`, in id
    /// order, as `Store::dataset_page` gives it.
    pub fn dataset_page(
        &self,
        filter: &DatasetFilter,
        page: &Page,
        audience: Audience,
    ) -> (Vec<DatasetRecord>, bool) {
        let listed = self.dataset_listed(filter, audience);
        id_page(&self.datasets, page, |pair| listed(pair).cloned())
    }

    /// The repositories among `ids` that `audience` may read, in no order,
    /// as `Store::repositories_by_ids` gives them.
    pub fn repositories_by_ids(&self, ids: &[i64], audience: Audience) -> Vec<RepositoryRecord> {
        let everywhere = RepositoryFilter::default();
        let listed = self.repository_listed(&everywhere, audience);
        (ids.iter())
            .filter_map(|id| pair_of(&self.repositories, *id))
            .filter_map(|pair| listed(pair).cloned())
            .collect()
    }

    /// The datasets among `ids` that `audience` may read, in no order, as
    /// `Store::datasets_by_ids` gives them.
    pub fn datasets_by_ids(&self, ids: &[i64], audience: Audience) -> Vec<DatasetRecord> {
        let everywhere = DatasetFilter::default();
        let listed = self.dataset_listed(&everywhere, audience);
        (ids.iter())
            .filter_map(|id| pair_of(&self.datasets, *id))
            .filter_map(|pair| listed(pair).cloned())
            .collect()
    }

    /// The project of a cross-project list's item, when `audience` may read
    /// it and it is the one `project` names (when named) and `organization`
    /// takes part in (when named): `store::links::readable_project_ids`.
    fn listing_project(
        &self,
        project_id: i64,
        audience: Audience,
        project: Option<&str>,
        organization: Option<&str>,
    ) -> Option<&ProjectEntry> {
        let entry = self.project(project_id)?;
        let readable = audience.readable().contains(&entry.project.visibility)
            && project.is_none_or(|slug| entry.project.slug == slug)
            && organization.is_none_or(|slug| {
                (entry.participations.iter()).any(|p| p.organization.slug == slug)
            });
        readable.then_some(entry)
    }

    /// The repository a `(repository id, project id)` pair names, when it is
    /// in the list `filter` asks for (`store::links::repository_condition`).
    fn repository_listed<'a>(
        &'a self,
        filter: &'a RepositoryFilter,
        audience: Audience,
    ) -> impl Fn(&(i64, i64)) -> Option<&'a RepositoryRecord> {
        let language = filter.language.as_deref().map(|l| l.trim().to_lowercase());
        move |&(id, project_id)| {
            let entry = self.listing_project(
                project_id,
                audience,
                filter.project.as_deref(),
                filter.organization.as_deref(),
            )?;
            let repository = entry.repositories.iter().find(|r| r.id == id)?;
            let listed = audience.readable().contains(&repository.access)
                && language.as_deref().is_none_or(|wanted| {
                    (repository.language.as_deref()).is_some_and(|l| l.to_lowercase() == wanted)
                })
                && filter.forge.is_none_or(|forge| repository.forge == forge);
            listed.then_some(repository)
        }
    }

    /// The dataset a `(dataset id, project id)` pair names, when it is in the
    /// list `filter` asks for (`store::links::dataset_condition`).
    fn dataset_listed<'a>(
        &'a self,
        filter: &'a DatasetFilter,
        audience: Audience,
    ) -> impl Fn(&(i64, i64)) -> Option<&'a DatasetRecord> {
        move |&(id, project_id)| {
            let entry = self.listing_project(
                project_id,
                audience,
                filter.project.as_deref(),
                filter.organization.as_deref(),
            )?;
            let dataset = entry.datasets.iter().find(|d| d.id == id)?;
            let listed = audience.readable().contains(&dataset.access)
                && filter
                    .provider
                    .is_none_or(|provider| dataset.provider == provider);
            listed.then_some(dataset)
        }
    }

    /// A page of the projects `audience` may read that match `filter`, as
    /// `Store::project_page` gives it; `None` for a filter the model cannot
    /// tell, an ordering it does not keep (by time: left to the database,
    /// whose own time comparison the cursors were made with) or a boundary
    /// of another ordering's kind.
    pub fn project_page(
        &self,
        filter: &ProjectFilter,
        order: ProjectOrderField,
        ascending: bool,
        page: &Page,
        audience: Audience,
    ) -> Option<(Vec<ProjectRecord>, bool)> {
        let runs_ascending = ascending == (page.direction == PageDirection::Forward);
        let listed = listed(filter, audience)?;
        let readable = |id: &&i64| self.project(**id).is_some_and(&listed);
        let (order_ids, start, end) = match order {
            ProjectOrderField::Name => {
                let boundary = match &page.boundary {
                    None => None,
                    Some((SortValue::Text(text), id)) => Some((text.as_str(), *id)),
                    Some(_) => return None,
                };
                let key = |id: &i64| name_key(&self.projects[id].project);
                let (start, end) = bounds(&self.by_name, key, boundary, runs_ascending);
                (&self.by_name, start, end)
            }
            ProjectOrderField::UsedBy => {
                let boundary = match &page.boundary {
                    None => None,
                    Some((SortValue::Count(count), id)) => Some((*count, *id)),
                    Some(_) => return None,
                };
                let key = |id: &i64| used_by_key(&self.projects[id].project);
                let (start, end) = bounds(&self.by_used_by, key, boundary, runs_ascending);
                (&self.by_used_by, start, end)
            }
            ProjectOrderField::CreatedAt | ProjectOrderField::UpdatedAt => return None,
        };
        let limit = usize::try_from(page.limit)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let within = &order_ids[start..end];
        let ids: Vec<i64> = if runs_ascending {
            within
                .iter()
                .filter(readable)
                .take(limit)
                .copied()
                .collect()
        } else {
            within
                .iter()
                .rev()
                .filter(readable)
                .take(limit)
                .copied()
                .collect()
        };
        let rows = ids
            .into_iter()
            .map(|id| self.projects[&id].project.clone())
            .collect();
        Some(finish_page(rows, page))
    }

    /// The organizations taking part in each project among `ids`.
    pub fn participations_of_projects(&self, ids: &[i64]) -> Vec<(i64, ParticipationRecord)> {
        self.children(ids, |entry| &entry.participations, |_, _| true)
    }

    pub fn tags_of_projects(&self, ids: &[i64]) -> Vec<(i64, TagRecord)> {
        self.children(ids, |entry| &entry.tags, |_, _| true)
    }

    pub fn seasons_of_projects(&self, ids: &[i64]) -> Vec<(i64, i32)> {
        self.children(ids, |entry| &entry.seasons, |_, _| true)
    }

    pub fn repositories_of_projects(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Vec<(i64, RepositoryRecord)> {
        self.children(
            ids,
            |entry| &entry.repositories,
            |_, r| audience.readable().contains(&r.access),
        )
    }

    pub fn datasets_of_projects(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Vec<(i64, DatasetRecord)> {
        self.children(
            ids,
            |entry| &entry.datasets,
            |_, d| audience.readable().contains(&d.access),
        )
    }

    pub fn links_of_projects(&self, ids: &[i64], audience: Audience) -> Vec<(i64, LinkRecord)> {
        self.children(
            ids,
            |entry| &entry.links,
            |_, l| audience.readable().contains(&l.access),
        )
    }

    /// `(project id, child)` pairs of the projects among `ids`, project by
    /// project in id order (as the statements read them), each in the
    /// entry's order (file order; uses by organization name).
    fn children<T: Clone>(
        &self,
        ids: &[i64],
        of: impl Fn(&ProjectEntry) -> &Vec<T>,
        readable: impl Fn(&ProjectEntry, &T) -> bool,
    ) -> Vec<(i64, T)> {
        let readable = &readable;
        distinct(ids)
            .filter_map(|id| Some((id, self.project(id)?)))
            .flat_map(|(id, entry)| {
                of(entry)
                    .iter()
                    .filter(move |child| readable(entry, child))
                    .map(move |child| (id, child.clone()))
            })
            .collect()
    }
}

/// `ids` in order, each once.
fn distinct(ids: &[i64]) -> impl Iterator<Item = i64> + use<> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
}

/// The `(item id, project id)` pair of item `id` in `pairs` (in id order).
fn pair_of(pairs: &[(i64, i64)], id: i64) -> Option<&(i64, i64)> {
    let at = pairs.partition_point(|(other, _)| *other < id);
    pairs.get(at).filter(|(found, _)| *found == id)
}

/// A page of a list in id order (`pairs`: item id, project id), of the items
/// `listed` gives, boundary by id alone (as `store::links::boundary_id`).
fn id_page<T>(
    pairs: &[(i64, i64)],
    page: &Page,
    listed: impl Fn(&(i64, i64)) -> Option<T>,
) -> (Vec<T>, bool) {
    let boundary = page.boundary.as_ref().map(|(_, id)| *id);
    let forward = page.direction == PageDirection::Forward;
    let (start, end) = bounds(pairs, |(id, _)| *id, boundary, forward);
    let limit = usize::try_from(page.limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let within = &pairs[start..end];
    let rows = if forward {
        within.iter().filter_map(&listed).take(limit).collect()
    } else {
        within
            .iter()
            .rev()
            .filter_map(&listed)
            .take(limit)
            .collect()
    };
    finish_page(rows, page)
}

/// The part of `order` (sorted by `key`) a page runs through: after the
/// boundary when it runs ascending, before it otherwise.
fn bounds<T, K: Ord>(
    order: &[T],
    key: impl Fn(&T) -> K,
    boundary: Option<K>,
    runs_ascending: bool,
) -> (usize, usize) {
    match boundary {
        None => (0, order.len()),
        Some(boundary) if runs_ascending => {
            (order.partition_point(|id| key(id) <= boundary), order.len())
        }
        Some(boundary) => (0, order.partition_point(|id| key(id) < boundary)),
    }
}

/// The name ordering's key: the column paging orders by, then the id.
fn name_key(project: &ProjectRecord) -> (&str, i64) {
    (project.sort_key.as_str(), project.id)
}

fn used_by_key(project: &ProjectRecord) -> (i64, i64) {
    (project.used_by, project.id)
}

/// Whether a project is in the list `filter` asks for, as `audience` sees
/// it (the conditions of `store::projects::filter_condition`); `None` for
/// words of the text (the database's `LIKE` on a column the model does not
/// keep) and uses by an organization's kind or slug (left to the database's
/// join).
fn listed(filter: &ProjectFilter, audience: Audience) -> Option<impl Fn(&ProjectEntry) -> bool> {
    let has_text = filter.text.as_deref().is_some_and(|t| !t.trim().is_empty());
    if has_text || filter.used_by_kind.is_some() || filter.used_by_organization.is_some() {
        return None;
    }
    let filter = filter.clone();
    let readable = move |access: &Access| audience.readable().contains(access);
    Some(move |entry: &ProjectEntry| {
        let project = &entry.project;
        let code = || entry.repositories.iter().filter(|r| readable(&r.access));
        readable(&project.visibility)
            && (filter.tag.as_ref()).is_none_or(|slug| entry.tags.iter().any(|t| &t.slug == slug))
            && (filter.organization.as_ref()).is_none_or(|slug| {
                (entry.participations.iter()).any(|p| &p.organization.slug == slug)
            })
            && filter
                .status
                .is_none_or(|status| project.status == Some(status))
            && (filter.season).is_none_or(|s| entry.seasons.contains(&i32::from(s.number())))
            && filter
                .forge
                .is_none_or(|forge| code().any(|r| r.forge == forge))
            && filter
                .has_code
                .is_none_or(|wanted| code().next().is_some() == wanted)
            && filter
                .has_data
                .is_none_or(|wanted| entry.datasets.iter().any(|d| readable(&d.access)) == wanted)
            && (filter.used_by_at_least).is_none_or(|at_least| project.used_by >= at_least)
    })
}
