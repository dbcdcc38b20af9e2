//! Reading a project's code, data and other links, and the cross-project
//! lists of repositories and datasets.

use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select,
};

use super::counts::CountedList;
use super::entities::{dataset, link, organization, project, project_organization, repository};
use super::paging::{Page, SortValue, apply_page, finish_page, in_subquery};
use super::projects::readable;
use super::records::{DatasetRecord, LinkRecord, RepositoryRecord};
use super::rows::Columns;
use super::{Store, StoreError};
use crate::catalogue::{Audience, DataProvider, Forge};

/// Which repositories a list holds; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RepositoryFilter {
    /// Main language, compared case-insensitively.
    pub language: Option<String>,
    pub forge: Option<Forge>,
    /// Slug of an organization taking part in the repository's project.
    pub organization: Option<String>,
    /// Slug of the repository's project.
    pub project: Option<String>,
}

/// Which datasets a list holds; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DatasetFilter {
    pub provider: Option<DataProvider>,
    /// Slug of an organization taking part in the dataset's project.
    pub organization: Option<String>,
    /// Slug of the dataset's project.
    pub project: Option<String>,
}

/// Ids of the projects `audience` may read, optionally only `project_slug`
/// and only those `organization_slug` takes part in.
fn readable_project_ids(
    audience: Audience,
    project_slug: Option<&str>,
    organization_slug: Option<&str>,
) -> SelectStatement {
    let mut query = Query::select();
    query
        .column((project::Entity, project::Column::Id))
        .from(project::Entity)
        .and_where(
            Expr::col((project::Entity, project::Column::Visibility)).is_in(readable(audience)),
        );
    if let Some(slug) = project_slug {
        query.and_where(Expr::col((project::Entity, project::Column::Slug)).eq(slug));
    }
    if let Some(slug) = organization_slug {
        query
            .inner_join(
                project_organization::Entity,
                Expr::col((
                    project_organization::Entity,
                    project_organization::Column::ProjectId,
                ))
                .equals((project::Entity, project::Column::Id)),
            )
            .inner_join(
                organization::Entity,
                Expr::col((organization::Entity, organization::Column::Id)).equals((
                    project_organization::Entity,
                    project_organization::Column::OrganizationId,
                )),
            )
            .and_where(Expr::col((organization::Entity, organization::Column::Slug)).eq(slug));
    }
    query.to_owned()
}

fn repository_condition(filter: &RepositoryFilter, audience: Audience) -> Condition {
    let mut condition = Condition::all()
        .add(repository::Column::Access.is_in(readable(audience)))
        .add(in_subquery(
            (repository::Entity, repository::Column::ProjectId),
            readable_project_ids(
                audience,
                filter.project.as_deref(),
                filter.organization.as_deref(),
            ),
        ));
    if let Some(language) = &filter.language {
        condition = condition.add(
            Expr::expr(Func::lower(Expr::col((
                repository::Entity,
                repository::Column::Language,
            ))))
            .eq(language.trim().to_lowercase()),
        );
    }
    if let Some(forge) = filter.forge {
        condition = condition.add(repository::Column::Forge.eq(forge.as_db()));
    }
    condition
}

fn dataset_condition(filter: &DatasetFilter, audience: Audience) -> Condition {
    let mut condition = Condition::all()
        .add(dataset::Column::Access.is_in(readable(audience)))
        .add(in_subquery(
            (dataset::Entity, dataset::Column::ProjectId),
            readable_project_ids(
                audience,
                filter.project.as_deref(),
                filter.organization.as_deref(),
            ),
        ));
    if let Some(provider) = filter.provider {
        condition = condition.add(dataset::Column::Provider.eq(provider.as_db()));
    }
    condition
}

fn repositories(filter: &RepositoryFilter, audience: Audience) -> Select<repository::Entity> {
    repository::Entity::find().filter(repository_condition(filter, audience))
}

fn datasets(filter: &DatasetFilter, audience: Audience) -> Select<dataset::Entity> {
    dataset::Entity::find().filter(dataset_condition(filter, audience))
}

/// Cross-project lists are ordered by id: the order links were catalogued in.
fn boundary_id(page: &Page) -> Page {
    Page {
        boundary: page.boundary.as_ref().map(|(_, id)| (SortValue::None, *id)),
        ..page.clone()
    }
}

impl Store {
    /// One page of the repositories `audience` may read that match `filter`.
    pub async fn repository_page(
        &self,
        filter: &RepositoryFilter,
        page: &Page,
        audience: Audience,
    ) -> Result<(Vec<RepositoryRecord>, bool), StoreError> {
        let page = boundary_id(page);
        let select = apply_page(
            repositories(filter, audience),
            None,
            repository::Column::Id,
            true,
            &page,
        );
        let rows = self.read_all(select).await?;
        Ok(finish_page(rows, &page))
    }

    pub async fn repository_count(
        &self,
        filter: &RepositoryFilter,
        audience: Audience,
    ) -> Result<u64, StoreError> {
        let count = async { Ok(repositories(filter, audience).count(&self.db).await?) };
        self.kept_count(CountedList::Repositories(filter.clone()), audience, count)
            .await
    }

    /// One page of the datasets `audience` may read that match `filter`.
    pub async fn dataset_page(
        &self,
        filter: &DatasetFilter,
        page: &Page,
        audience: Audience,
    ) -> Result<(Vec<DatasetRecord>, bool), StoreError> {
        let page = boundary_id(page);
        let select = apply_page(
            datasets(filter, audience),
            None,
            dataset::Column::Id,
            true,
            &page,
        );
        let rows = self.read_all(select).await?;
        Ok(finish_page(rows, &page))
    }

    pub async fn dataset_count(
        &self,
        filter: &DatasetFilter,
        audience: Audience,
    ) -> Result<u64, StoreError> {
        let count = async { Ok(datasets(filter, audience).count(&self.db).await?) };
        self.kept_count(CountedList::Datasets(filter.clone()), audience, count)
            .await
    }

    /// The repositories among `ids` that `audience` may read (link and project both readable).
    pub async fn repositories_by_ids(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<RepositoryRecord>, StoreError> {
        self.read_all(
            repositories(&RepositoryFilter::default(), audience)
                .filter(repository::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    pub async fn datasets_by_ids(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<DatasetRecord>, StoreError> {
        self.read_all(
            datasets(&DatasetFilter::default(), audience)
                .filter(dataset::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    pub async fn links_by_ids(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<LinkRecord>, StoreError> {
        self.read_all(
            link::Entity::find()
                .filter(link::Column::Access.is_in(readable(audience)))
                .filter(in_subquery(
                    (link::Entity, link::Column::ProjectId),
                    readable_project_ids(audience, None, None),
                ))
                .filter(link::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    /// The readable repositories of each project among `project_ids`,
    /// project by project, each in file order, as (project id, repository) pairs.
    pub async fn repositories_of_projects(
        &self,
        project_ids: &[i64],
        audience: Audience,
        columns: Columns<RepositoryRecord>,
    ) -> Result<Vec<(i64, RepositoryRecord)>, StoreError> {
        let select = repository::Entity::find()
            .filter(repository::Column::ProjectId.is_in(project_ids.iter().copied()))
            .filter(repository::Column::Access.is_in(readable(audience)))
            .order_by_asc(repository::Column::ProjectId)
            .order_by_asc(repository::Column::Position);
        let records = self.read_selected(select, columns).await?;
        Ok(records.into_iter().map(|r| (r.project_id, r)).collect())
    }

    /// The readable datasets of each project among `project_ids`, project by
    /// project, each in file order.
    pub async fn datasets_of_projects(
        &self,
        project_ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, DatasetRecord)>, StoreError> {
        let select = dataset::Entity::find()
            .filter(dataset::Column::ProjectId.is_in(project_ids.iter().copied()))
            .filter(dataset::Column::Access.is_in(readable(audience)))
            .order_by_asc(dataset::Column::ProjectId)
            .order_by_asc(dataset::Column::Position);
        let records: Vec<DatasetRecord> = self.read_all(select).await?;
        Ok(records.into_iter().map(|r| (r.project_id, r)).collect())
    }

    /// The readable other links of each project among `project_ids`, project
    /// by project, each in file order.
    pub async fn links_of_projects(
        &self,
        project_ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, LinkRecord)>, StoreError> {
        let select = link::Entity::find()
            .filter(link::Column::ProjectId.is_in(project_ids.iter().copied()))
            .filter(link::Column::Access.is_in(readable(audience)))
            .order_by_asc(link::Column::ProjectId)
            .order_by_asc(link::Column::Position);
        let records: Vec<LinkRecord> = self.read_all(select).await?;
        Ok(records.into_iter().map(|r| (r.project_id, r)).collect())
    }
}
