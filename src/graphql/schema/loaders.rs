//! DataLoaders: one key type per parent-to-children relation, so a page of
//! projects costs one query per relation, not one per project.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, SelectionField};

use crate::catalogue::Audience;
use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::OrInternal;
use crate::store::{
    Columns, CountedList, DatasetFilter, DatasetRecord, HarvestRecord, LinkCheckRecord, LinkRecord,
    OrganizationRecord, Page, ParticipationRecord, ProjectFilter, ProjectOrderField, ProjectRecord,
    RepositoryFilter, RepositoryRecord, Snapshot, SourceRecord, Store, StoreError, TagRecord,
    UseRecord,
};

/// Loads a request's related rows, as `audience` may see them.
pub struct CatalogueLoader {
    pub store: Store,
    pub audience: Audience,
    /// For a query, the read model as of the request's first read (one
    /// snapshot for the whole answer); none for a mutation, whose answer
    /// reads what it has just written, nor for a subscription's events.
    model: Option<tokio::sync::OnceCell<Option<Arc<Snapshot>>>>,
}

impl CatalogueLoader {
    pub fn new(store: Store, audience: Audience, reads_model: bool) -> Self {
        Self {
            store,
            audience,
            model: reads_model.then(tokio::sync::OnceCell::new),
        }
    }

    /// The request's snapshot of the read model; none for a mutation or
    /// while there is none.
    async fn snapshot(&self) -> Result<Option<&Arc<Snapshot>>, StoreError> {
        Ok(match &self.model {
            Some(taken) => taken
                .get_or_try_init(|| self.store.read_snapshot())
                .await?
                .as_ref(),
            None => None,
        })
    }

    /// The catalogue revision of the request's snapshot of the read model,
    /// read after the request arrived; none without a snapshot.
    pub async fn revision_read(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.snapshot().await?.map(|snapshot| snapshot.revision()))
    }

    /// What `model` reads from the request's snapshot of the read model,
    /// or, while there is none, what `statements` read.
    async fn read_model_or<T>(
        &self,
        model: impl FnOnce(&Snapshot) -> T,
        statements: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match self.snapshot().await? {
            Some(snapshot) => Ok(model(snapshot)),
            None => statements.await,
        }
    }

    /// A page of the projects matching `filter`: from the read model when it
    /// can tell that list, else by a statement.
    pub async fn project_page(
        &self,
        filter: &ProjectFilter,
        order: ProjectOrderField,
        ascending: bool,
        page: &Page,
    ) -> Result<(Vec<ProjectRecord>, bool), StoreError> {
        if let Some(snapshot) = self.snapshot().await?
            && let Some(answer) =
                snapshot.project_page(filter, order, ascending, page, self.audience)
        {
            return Ok(answer);
        }
        self.store
            .project_page(filter, order, ascending, page, self.audience)
            .await
    }

    /// How many items `list` holds: counted in the read model when it can
    /// tell that list (once per revision), else by `statement`.
    async fn count(
        &self,
        list: CountedList,
        statement: impl Future<Output = Result<u64, StoreError>>,
    ) -> Result<u64, StoreError> {
        if let Some(snapshot) = self.snapshot().await?
            && let Some(count) = self.store.count_in(snapshot, list, self.audience).await
        {
            return Ok(count);
        }
        statement.await
    }

    pub async fn project_count(&self, filter: &ProjectFilter) -> Result<u64, StoreError> {
        let list = CountedList::Projects(filter.clone());
        self.count(list, self.store.project_count(filter, self.audience))
            .await
    }

    /// A page of the repositories across projects matching `filter`.
    pub async fn repository_page(
        &self,
        filter: &RepositoryFilter,
        page: &Page,
    ) -> Result<(Vec<RepositoryRecord>, bool), StoreError> {
        self.read_model_or(
            |model| model.repository_page(filter, page, self.audience),
            self.store.repository_page(filter, page, self.audience),
        )
        .await
    }

    pub async fn repository_count(&self, filter: &RepositoryFilter) -> Result<u64, StoreError> {
        let list = CountedList::Repositories(filter.clone());
        self.count(list, self.store.repository_count(filter, self.audience))
            .await
    }

    /// A page of the datasets across projects matching `filter`.
    pub async fn dataset_page(
        &self,
        filter: &DatasetFilter,
        page: &Page,
    ) -> Result<(Vec<DatasetRecord>, bool), StoreError> {
        self.read_model_or(
            |model| model.dataset_page(filter, page, self.audience),
            self.store.dataset_page(filter, page, self.audience),
        )
        .await
    }

    pub async fn dataset_count(&self, filter: &DatasetFilter) -> Result<u64, StoreError> {
        let list = CountedList::Datasets(filter.clone());
        self.count(list, self.store.dataset_count(filter, self.audience))
            .await
    }
}

/// Groups `(parent id, child)` pairs under the keys of their parents; a
/// key without children gets an empty list. Children keep the order they
/// came in; they are grouped by runs of one parent, without hashing every
/// child (the lists' statements give them parent by parent already; other
/// pairs are sorted by parent first).
fn group<K: Clone + Eq + Hash, V>(
    keys: &[K],
    parent_of: impl Fn(&K) -> i64,
    pairs: impl IntoIterator<Item = (i64, V)>,
) -> HashMap<K, Children<V>> {
    let mut pairs: Vec<(i64, V)> = pairs.into_iter().collect();
    if !pairs.is_sorted_by_key(|(parent, _)| *parent) {
        // Stable: each parent's children stay in the order read.
        pairs.sort_by_key(|(parent, _)| *parent);
    }
    let mut by_parent: Vec<(i64, Children<V>)> = Vec::with_capacity(keys.len());
    let mut pairs = pairs.into_iter().peekable();
    while let Some((parent, first)) = pairs.next() {
        let mut children = vec![first];
        while let Some((_, child)) = pairs.next_if(|(next, _)| *next == parent) {
            children.push(child);
        }
        by_parent.push((parent, Arc::new(children)));
    }
    keys.iter()
        .map(|key| {
            let children = by_parent
                .binary_search_by_key(&parent_of(key), |(parent, _)| *parent)
                .map_or_else(|_| Children::default(), |at| Arc::clone(&by_parent[at].1));
            (key.clone(), children)
        })
        .collect()
}

/// The children of one parent. The DataLoader gives each waiting resolver
/// a clone of the value: of an `Arc`, a count, not a copy of every record.
pub type Children<T> = Arc<Vec<T>>;

/// The columns of `R` that `fields` show, by `columns_of` each of them.
pub fn columns_of_all<'a, R>(
    mut fields: impl Iterator<Item = SelectionField<'a>>,
    columns_of: impl Fn(SelectionField<'a>) -> Option<Columns<R>>,
) -> Columns<R> {
    fields
        .try_fold(Columns::REQUIRED, |shown, field| {
            Some(shown.and(columns_of(field)?))
        })
        .unwrap_or(Columns::ALL)
}

/// The children `key` names, loaded by the request's DataLoader and owned:
/// moved out when nobody else holds them (the batch has usually let go by
/// the time the resolver runs), else copied; none when the parent has no
/// entry.
pub async fn children<K, T>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Vec<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    T: Clone + Send + Sync + 'static,
    CatalogueLoader: Loader<K, Value = Children<T>, Error = Arc<StoreError>>,
{
    let loaded = loader(ctx)?.load_one(key).await.or_internal()?;
    Ok(loaded.map(Arc::unwrap_or_clone).unwrap_or_default())
}

/// A list of a project's children, read through the request's DataLoader
/// with the same keys (and so in the same statements) whether `Project`'s
/// resolver loads one project's or the projects connection a whole page's
/// (`children_of_projects`).
pub trait ProjectChildren: Sized {
    /// The DataLoader key of one project's children.
    type Key: Send + Sync + Hash + Eq + Clone + 'static;
    /// What the key loads of each child.
    type Record: Clone + Send + Sync + 'static;

    /// The key of each project's children (by project id) for `fields`,
    /// the selections of the list: under every alias of it, with what they
    /// all show.
    fn keys(fields: &[SelectionField<'_>]) -> impl Fn(i64) -> Self::Key;

    fn from_record(record: Self::Record) -> Self;
}

/// The children `T` of each of the projects `ids`, in that order, for the
/// selections `fields` of the list: one DataLoader request for them all.
pub async fn children_of_projects<T: ProjectChildren>(
    loader: &DataLoader<CatalogueLoader>,
    ids: &[i64],
    fields: &[SelectionField<'_>],
) -> Result<Vec<Vec<T>>, Arc<StoreError>>
where
    CatalogueLoader: Loader<T::Key, Value = Children<T::Record>, Error = Arc<StoreError>>,
{
    let keys: Vec<T::Key> = {
        let key = T::keys(fields);
        ids.iter().map(|&id| key(id)).collect()
    };
    let mut loaded = loader.load_many(keys.iter().cloned()).await?;
    Ok(keys
        .iter()
        .map(|key| {
            let children = loaded.remove(key).map(Arc::unwrap_or_clone);
            children
                .unwrap_or_default()
                .into_iter()
                .map(T::from_record)
                .collect()
        })
        .collect())
}

/// The children `T` of the project `id` that the current field (a list of
/// them) asks for.
pub async fn children_of_project<T: ProjectChildren>(
    ctx: &Context<'_>,
    id: i64,
) -> async_graphql::Result<Vec<T>>
where
    CatalogueLoader: Loader<T::Key, Value = Children<T::Record>, Error = Arc<StoreError>>,
{
    let loaded = children_of_projects(loader(ctx)?, &[id], &[ctx.field()])
        .await
        .or_internal()?;
    Ok(loaded.into_iter().next().unwrap_or_default())
}

/// Declares a key type `$key(parent id)` whose value is the list of
/// children `$fetch` returns as `(parent id, child)` pairs; with `columns
/// of $record`, `$key(parent id, columns)`, the children read with at least
/// those columns of `$record` (`$columns`: those of all the batch's keys).
macro_rules! children_loader {
    ($(#[$meta:meta])* $key:ident => $child:ty $(, columns of $record:ty)?,
     |$loader:ident, $ids:ident $(, $columns:ident)?| $fetch:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i64 $(, pub Columns<$record>)?);

        impl Loader<$key> for CatalogueLoader {
            type Value = Children<$child>;
            type Error = Arc<StoreError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Children<$child>>, Arc<StoreError>> {
                let $loader = self;
                let $ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
                $(let $columns = keys.iter().fold(Columns::REQUIRED, |all, key| all.and(key.1));)?
                let pairs = $fetch.await.map_err(Arc::new)?;
                Ok(group(keys, |key| key.0, pairs))
            }
        }
    };
}

children_loader!(
    /// The organizations taking part in a project.
    ParticipationsOf => ParticipationRecord, columns of OrganizationRecord,
    |loader, ids, columns| loader.read_model_or(
        |model| model.participations_of_projects(&ids),
        loader.store.participations_of_projects(&ids, columns),
    )
);
children_loader!(
    /// A project's tags.
    TagsOf => TagRecord,
    |loader, ids| loader.read_model_or(
        |model| model.tags_of_projects(&ids),
        loader.store.tags_of_projects(&ids),
    )
);
children_loader!(
    /// A project's seasons.
    SeasonsOf => i32,
    |loader, ids| loader.read_model_or(
        |model| model.seasons_of_projects(&ids),
        loader.store.seasons_of_projects(&ids),
    )
);
children_loader!(
    /// Where a project's facts come from.
    SourcesOf => SourceRecord,
    |loader, ids| loader.store.sources_of_projects(&ids)
);
children_loader!(
    /// Where an organization's facts come from.
    OrganizationSourcesOf => SourceRecord,
    |loader, ids| loader.store.sources_of_organizations(&ids)
);
children_loader!(
    /// The projects an organization takes part in.
    ProjectsOf => ProjectRecord,
    |loader, ids| loader.read_model_or(
        |model| model.projects_of_organizations(&ids, loader.audience),
        loader.store.projects_of_organizations(&ids, loader.audience),
    )
);
children_loader!(
    /// A project's code repositories.
    RepositoriesOf => RepositoryRecord, columns of RepositoryRecord,
    |loader, ids, columns| loader.read_model_or(
        |model| model.repositories_of_projects(&ids, loader.audience),
        loader.store.repositories_of_projects(&ids, loader.audience, columns),
    )
);
children_loader!(
    /// A project's datasets.
    DatasetsOf => DatasetRecord,
    |loader, ids| loader.read_model_or(
        |model| model.datasets_of_projects(&ids, loader.audience),
        loader.store.datasets_of_projects(&ids, loader.audience),
    )
);
children_loader!(
    /// A project's other links.
    LinksOf => LinkRecord,
    |loader, ids| loader.read_model_or(
        |model| model.links_of_projects(&ids, loader.audience),
        loader.store.links_of_projects(&ids, loader.audience),
    )
);

children_loader!(
    /// The uses of a project (and of its repositories and datasets).
    UsesOf => UseRecord,
    |loader, ids| loader.read_model_or(
        |model| model.uses_of_projects(&ids, loader.audience),
        loader.store.uses_of_projects(&ids, loader.audience),
    )
);
children_loader!(
    /// The uses of a repository.
    UsesOfRepository => UseRecord,
    |loader, ids| loader.read_model_or(
        |model| model.uses_of_repositories(&ids),
        loader.store.uses_of_repositories(&ids),
    )
);
children_loader!(
    /// The uses of a dataset.
    UsesOfDataset => UseRecord,
    |loader, ids| loader.read_model_or(
        |model| model.uses_of_datasets(&ids),
        loader.store.uses_of_datasets(&ids),
    )
);
children_loader!(
    /// What an organization uses.
    UsesByOrganization => UseRecord,
    |loader, ids| loader.read_model_or(
        |model| model.uses_of_organizations(&ids, loader.audience),
        loader.store.uses_of_organizations(&ids, loader.audience),
    )
);

children_loader!(
    /// The emails of a project's maintainers.
    MaintainersOf => String,
    |loader, ids| loader.store.maintainers_of_projects(&ids)
);

/// Declares a key type `$key($field)` whose value is the record `$fetch`
/// finds for it (none when it finds none): the keys of a batch are looked
/// up in one statement, `$key_of` telling which key a record answers.
macro_rules! lookup_loader {
    ($(#[$meta:meta])* $key:ident($field:ty) => $record:ty,
     |$loader:ident, $keys:ident| $fetch:expr,
     |$found:ident| $key_of:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $key(pub $field);

        impl Loader<$key> for CatalogueLoader {
            type Value = $record;
            type Error = Arc<StoreError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $record>, Arc<StoreError>> {
                let $loader = self;
                let $keys: Vec<$field> = keys.iter().map(|key| key.0.clone()).collect();
                let records = $fetch.await.map_err(Arc::new)?;
                Ok(records
                    .into_iter()
                    .map(|$found| ($key($key_of), $found))
                    .collect())
            }
        }
    };
}

lookup_loader!(
    /// A project by its row id (the project of a repository, dataset or
    /// link, federation's entity by id).
    ProjectById(i64) => ProjectRecord,
    |loader, ids| loader.read_model_or(
        |model| model.projects_by_ids(&ids, loader.audience),
        loader.store.projects_by_ids(&ids, loader.audience),
    ),
    |project| project.id
);
lookup_loader!(
    /// A project by its slug.
    ProjectBySlug(String) => ProjectRecord,
    |loader, slugs| loader.read_model_or(
        |model| model.projects_by_slugs(&slugs, loader.audience),
        loader.store.projects_by_slugs(&slugs, loader.audience),
    ),
    |project| project.slug.clone()
);
lookup_loader!(
    /// A repository by its row id (a search hit).
    RepositoryById(i64) => RepositoryRecord,
    |loader, ids| loader.read_model_or(
        |model| model.repositories_by_ids(&ids, loader.audience),
        loader.store.repositories_by_ids(&ids, loader.audience),
    ),
    |repository| repository.id
);
lookup_loader!(
    /// A dataset by its row id (a search hit).
    DatasetById(i64) => DatasetRecord,
    |loader, ids| loader.read_model_or(
        |model| model.datasets_by_ids(&ids, loader.audience),
        loader.store.datasets_by_ids(&ids, loader.audience),
    ),
    |dataset| dataset.id
);
lookup_loader!(
    /// An organization by its row id (the subject of a change, the organization of a use, a search hit).
    OrganizationById(i64) => OrganizationRecord,
    |loader, ids| loader.read_model_or(
        |model| model.organizations_by_ids(&ids),
        loader.store.organizations_by_ids(&ids),
    ),
    |organization| organization.id
);
lookup_loader!(
    /// An organization by its slug.
    OrganizationBySlug(String) => OrganizationRecord,
    |loader, slugs| loader.read_model_or(
        |model| model.organizations_by_slugs(&slugs),
        loader.store.organizations_by_slugs(&slugs),
    ),
    |organization| organization.slug.clone()
);
lookup_loader!(
    /// An organization by its SIRET (those found have one).
    OrganizationBySiret(String) => OrganizationRecord,
    |loader, sirets| loader.store.organizations_by_sirets(&sirets),
    |organization| organization.siret.clone().unwrap_or_default()
);

lookup_loader!(
    /// The last check of a URL (shared by every link holding it).
    CheckOf(String) => LinkCheckRecord,
    |loader, urls| loader.store.link_checks(&urls),
    |check| check.url.clone()
);

/// The last harvest of a link, by subject (`repository:<id>`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HarvestOf(pub String);

impl Loader<HarvestOf> for CatalogueLoader {
    type Value = HarvestRecord;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[HarvestOf],
    ) -> Result<HashMap<HarvestOf, HarvestRecord>, Arc<StoreError>> {
        let subjects: Vec<String> = keys.iter().map(|key| key.0.clone()).collect();
        let records = self
            .store
            .harvest_results(&subjects)
            .await
            .map_err(Arc::new)?;
        Ok(records
            .into_iter()
            .map(|r| (HarvestOf(r.subject.clone()), r))
            .collect())
    }
}
