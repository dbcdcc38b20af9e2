//! Reading projects: filtered, ordered pages, counts and lookups.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select,
};

use super::counts::CountedList;
use super::entities::{
    dataset, organization, project, project_organization, project_season, project_source,
    project_tag, project_use, repository, tag,
};
use super::paging::{Page, SortValue, apply_page, finish_page, in_subquery};
use super::records::{ProjectRecord, SourceRecord};
use super::uses::readable_targets;
use super::{Store, StoreError};
use crate::catalogue::{Audience, Forge, OrganizationKind, ProjectStatus, Season, folded};

/// Which projects a list holds; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    /// Words found in the name, summary or description (case-insensitive).
    pub text: Option<String>,
    pub tag: Option<String>,
    pub organization: Option<String>,
    pub status: Option<ProjectStatus>,
    pub season: Option<Season>,
    pub forge: Option<Forge>,
    pub has_code: Option<bool>,
    pub has_data: Option<bool>,
    /// Only projects that at least this many organizations use (as anyone sees them).
    pub used_by_at_least: Option<i64>,
    /// Only projects used by an organization of this kind.
    pub used_by_kind: Option<OrganizationKind>,
    /// Only projects used by the organization with this slug.
    pub used_by_organization: Option<String>,
}

/// What project lists are ordered by (then by id, for a total order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectOrderField {
    Name,
    CreatedAt,
    UpdatedAt,
    /// How many organizations use the project (`project.used_by`).
    UsedBy,
}

impl ProjectOrderField {
    fn column(self) -> project::Column {
        match self {
            Self::Name => project::Column::SortKey,
            Self::CreatedAt => project::Column::CreatedAt,
            Self::UpdatedAt => project::Column::UpdatedAt,
            Self::UsedBy => project::Column::UsedBy,
        }
    }

    /// The value of this ordering for `record`, as a page boundary.
    pub fn value_of(self, record: &ProjectRecord) -> SortValue {
        match self {
            Self::Name => SortValue::Text(record.sort_key.clone()),
            Self::CreatedAt => SortValue::Time(record.created_at),
            Self::UpdatedAt => SortValue::Time(record.updated_at),
            Self::UsedBy => SortValue::Count(record.used_by),
        }
    }
}

/// The database spellings of the access levels `audience` may read.
pub(super) fn readable(audience: Audience) -> Vec<&'static str> {
    audience
        .readable()
        .iter()
        .map(|access| access.as_db())
        .collect()
}

/// `project.id IN (SELECT project_id FROM <table> WHERE …)`.
fn project_id_in(subquery: SelectStatement) -> sea_orm::sea_query::SimpleExpr {
    in_subquery((project::Entity, project::Column::Id), subquery)
}

/// The projects `audience` may read.
pub(super) fn visible_projects(audience: Audience) -> Select<project::Entity> {
    project::Entity::find().filter(project::Column::Visibility.is_in(readable(audience)))
}

/// Ids of the projects with a repository `audience` may read, optionally on `forge`.
fn projects_with_code(audience: Audience, forge: Option<Forge>) -> SelectStatement {
    let mut query = Query::select();
    query
        .column(repository::Column::ProjectId)
        .from(repository::Entity)
        .and_where(repository::Column::Access.is_in(readable(audience)));
    if let Some(forge) = forge {
        query.and_where(repository::Column::Forge.eq(forge.as_db()));
    }
    query.to_owned()
}

fn projects_with_data(audience: Audience) -> SelectStatement {
    Query::select()
        .column(dataset::Column::ProjectId)
        .from(dataset::Entity)
        .and_where(dataset::Column::Access.is_in(readable(audience)))
        .to_owned()
}

/// Ids of the projects used by an organization of `kind`, or the one with
/// `slug`, among the uses `audience` may read.
fn projects_used_by(
    kind: Option<OrganizationKind>,
    slug: Option<&str>,
    audience: Audience,
) -> SelectStatement {
    let mut query = Query::select();
    query
        .column((project_use::Entity, project_use::Column::ProjectId))
        .from(project_use::Entity)
        .inner_join(
            organization::Entity,
            Expr::col((organization::Entity, organization::Column::Id))
                .equals((project_use::Entity, project_use::Column::OrganizationId)),
        )
        .cond_where(readable_targets(audience));
    if let Some(kind) = kind {
        query.and_where(
            Expr::col((organization::Entity, organization::Column::Kind)).eq(kind.as_db()),
        );
    }
    if let Some(slug) = slug {
        query.and_where(Expr::col((organization::Entity, organization::Column::Slug)).eq(slug));
    }
    query.to_owned()
}

/// What the text filter searches for a project.
pub(super) fn search_text(name: &str, summary: &str, description: &str) -> String {
    folded(&format!("{name}\n{summary}\n{description}"))
}

/// `search_text LIKE %needle%`, the needle folded like the column and its
/// own wildcards escaped.
fn contains(needle: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped = folded(needle)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::col((project::Entity, project::Column::SearchText))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

fn filter_condition(filter: &ProjectFilter, audience: Audience) -> Condition {
    let mut condition = Condition::all();
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        condition = condition.add(contains(text));
    }
    if let Some(slug) = &filter.tag {
        condition = condition.add(project_id_in(
            Query::select()
                .column((project_tag::Entity, project_tag::Column::ProjectId))
                .from(project_tag::Entity)
                .inner_join(
                    tag::Entity,
                    Expr::col((tag::Entity, tag::Column::Id))
                        .equals((project_tag::Entity, project_tag::Column::TagId)),
                )
                .and_where(Expr::col((tag::Entity, tag::Column::Slug)).eq(slug.as_str()))
                .to_owned(),
        ));
    }
    if let Some(slug) = &filter.organization {
        condition = condition.add(project_id_in(
            Query::select()
                .column((
                    project_organization::Entity,
                    project_organization::Column::ProjectId,
                ))
                .from(project_organization::Entity)
                .inner_join(
                    organization::Entity,
                    Expr::col((organization::Entity, organization::Column::Id)).equals((
                        project_organization::Entity,
                        project_organization::Column::OrganizationId,
                    )),
                )
                .and_where(
                    Expr::col((organization::Entity, organization::Column::Slug)).eq(slug.as_str()),
                )
                .to_owned(),
        ));
    }
    if let Some(status) = filter.status {
        condition = condition.add(project::Column::Status.eq(status.as_db()));
    }
    if let Some(season) = filter.season {
        condition = condition.add(project_id_in(
            Query::select()
                .column(project_season::Column::ProjectId)
                .from(project_season::Entity)
                .and_where(project_season::Column::Season.eq(i32::from(season.number())))
                .to_owned(),
        ));
    }
    if let Some(forge) = filter.forge {
        condition = condition.add(project_id_in(projects_with_code(audience, Some(forge))));
    }
    match filter.has_code {
        Some(true) => condition = condition.add(project_id_in(projects_with_code(audience, None))),
        Some(false) => {
            condition = condition.add(project_id_in(projects_with_code(audience, None)).not())
        }
        None => {}
    }
    match filter.has_data {
        Some(true) => condition = condition.add(project_id_in(projects_with_data(audience))),
        Some(false) => condition = condition.add(project_id_in(projects_with_data(audience)).not()),
        None => {}
    }
    if let Some(at_least) = filter.used_by_at_least {
        condition = condition.add(project::Column::UsedBy.gte(at_least));
    }
    if filter.used_by_kind.is_some() || filter.used_by_organization.is_some() {
        condition = condition.add(project_id_in(projects_used_by(
            filter.used_by_kind,
            filter.used_by_organization.as_deref(),
            audience,
        )));
    }
    condition
}

impl Store {
    /// One page of the projects `audience` may read that match `filter`;
    /// also tells whether more lie beyond the page.
    pub async fn project_page(
        &self,
        filter: &ProjectFilter,
        order: ProjectOrderField,
        ascending: bool,
        page: &Page,
        audience: Audience,
    ) -> Result<(Vec<ProjectRecord>, bool), StoreError> {
        let select = visible_projects(audience).filter(filter_condition(filter, audience));
        let select = apply_page(
            select,
            Some(order.column()),
            project::Column::Id,
            ascending,
            page,
        );
        let rows = self.read_all(select).await?;
        Ok(finish_page(rows, page))
    }

    /// How many projects `audience` may read match `filter`.
    pub async fn project_count(
        &self,
        filter: &ProjectFilter,
        audience: Audience,
    ) -> Result<u64, StoreError> {
        let count = async {
            Ok(visible_projects(audience)
                .filter(filter_condition(filter, audience))
                .count(&self.db)
                .await?)
        };
        self.kept_count(CountedList::Projects(filter.clone()), audience, count)
            .await
    }

    pub async fn project_by_slug(
        &self,
        slug: &str,
        audience: Audience,
    ) -> Result<Option<ProjectRecord>, StoreError> {
        self.read_one(visible_projects(audience).filter(project::Column::Slug.eq(slug)))
            .await
    }

    /// The projects with one of `slugs` that `audience` may read, in no order.
    pub async fn projects_by_slugs(
        &self,
        slugs: &[String],
        audience: Audience,
    ) -> Result<Vec<ProjectRecord>, StoreError> {
        self.read_all(
            visible_projects(audience).filter(project::Column::Slug.is_in(slugs.iter().cloned())),
        )
        .await
    }

    /// The projects among `ids` that `audience` may read, in no order.
    pub async fn projects_by_ids(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<ProjectRecord>, StoreError> {
        self.read_all(
            visible_projects(audience).filter(project::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    /// The seasons of each project among `ids`, as (project id, season) pairs.
    pub async fn seasons_of_projects(&self, ids: &[i64]) -> Result<Vec<(i64, i32)>, StoreError> {
        Ok(project_season::Entity::find()
            .filter(project_season::Column::ProjectId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (row.project_id, row.season))
            .collect())
    }

    /// The sources of each project among `ids`, in file order.
    pub async fn sources_of_projects(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, SourceRecord)>, StoreError> {
        Ok(project_source::Entity::find()
            .filter(project_source::Column::ProjectId.is_in(ids.iter().copied()))
            .order_by_asc(project_source::Column::Position)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                (
                    row.project_id,
                    SourceRecord {
                        title: row.title,
                        url: row.url,
                        date: row.date,
                    },
                )
            })
            .collect())
    }
}
