//! DataLoaders: one key type per parent-to-children relation, so a page of
//! projects costs one query per relation, not one per project.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;

use super::context::loader;
use super::errors::OrInternal;
use crate::catalogue::Audience;
use crate::store::{
    DatasetRecord, HarvestRecord, LinkRecord, ParticipationRecord, ProjectRecord, RepositoryRecord,
    SourceRecord, Store, StoreError, TagRecord,
};

/// Loads a request's related rows, as `audience` may see them.
pub struct CatalogueLoader {
    pub store: Store,
    pub audience: Audience,
}

/// Groups `(parent id, child)` pairs under their keys; a key without
/// children gets an empty list.
fn group<K: Copy + Eq + Hash, V>(
    keys: &[K],
    key_of: impl Fn(i64) -> K,
    pairs: impl IntoIterator<Item = (i64, V)>,
) -> HashMap<K, Vec<V>> {
    let mut grouped: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (parent, child) in pairs {
        if let Some(children) = grouped.get_mut(&key_of(parent)) {
            children.push(child);
        }
    }
    grouped
}

/// The children of one parent. The DataLoader gives each waiting resolver
/// a clone of the value: of an `Arc`, a count, not a copy of every record.
pub type Children<T> = Arc<Vec<T>>;

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

/// Declares a key type `$key(parent id)` whose value is the list of
/// children `$fetch` returns as `(parent id, child)` pairs.
macro_rules! children_loader {
    ($(#[$meta:meta])* $key:ident => $child:ty, |$loader:ident, $ids:ident| $fetch:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for CatalogueLoader {
            type Value = Children<$child>;
            type Error = Arc<StoreError>;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Children<$child>>, Arc<StoreError>> {
                let $loader = self;
                let $ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
                let pairs = $fetch.await.map_err(Arc::new)?;
                Ok(group(keys, $key, pairs)
                    .into_iter()
                    .map(|(key, children)| (key, Arc::new(children)))
                    .collect())
            }
        }
    };
}

children_loader!(
    /// The organizations taking part in a project.
    ParticipationsOf => ParticipationRecord,
    |loader, ids| loader.store.participations_of_projects(&ids)
);
children_loader!(
    /// A project's tags.
    TagsOf => TagRecord,
    |loader, ids| loader.store.tags_of_projects(&ids)
);
children_loader!(
    /// A project's seasons.
    SeasonsOf => i32,
    |loader, ids| loader.store.seasons_of_projects(&ids)
);
children_loader!(
    /// Where a project's facts come from.
    SourcesOf => SourceRecord,
    |loader, ids| loader.store.sources_of_projects(&ids)
);
children_loader!(
    /// The projects an organization takes part in.
    ProjectsOf => ProjectRecord,
    |loader, ids| loader.store.projects_of_organizations(&ids, loader.audience)
);
children_loader!(
    /// A project's code repositories.
    RepositoriesOf => RepositoryRecord,
    |loader, ids| loader.store.repositories_of_projects(&ids, loader.audience)
);
children_loader!(
    /// A project's datasets.
    DatasetsOf => DatasetRecord,
    |loader, ids| loader.store.datasets_of_projects(&ids, loader.audience)
);
children_loader!(
    /// A project's other links.
    LinksOf => LinkRecord,
    |loader, ids| loader.store.links_of_projects(&ids, loader.audience)
);

children_loader!(
    /// The emails of a project's maintainers.
    MaintainersOf => String,
    |loader, ids| loader.store.maintainers_of_projects(&ids)
);

/// A project by its row id (the project of a repository, dataset or link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectById(pub i64);

impl Loader<ProjectById> for CatalogueLoader {
    type Value = ProjectRecord;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ProjectById],
    ) -> Result<HashMap<ProjectById, ProjectRecord>, Arc<StoreError>> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let projects = self
            .store
            .projects_by_ids(&ids, self.audience)
            .await
            .map_err(Arc::new)?;
        Ok(projects
            .into_iter()
            .map(|p| (ProjectById(p.id), p))
            .collect())
    }
}

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
