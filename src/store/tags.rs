//! Reading tags: those of each project, and how many readable projects carry each.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};

use super::entities::{project, project_tag, tag};
use super::projects::readable;
use super::records::{TagCount, TagRecord};
use super::{Store, StoreError};
use crate::catalogue::Audience;

#[derive(FromQueryResult)]
struct TagCountRow {
    slug: String,
    label: String,
    projects: i64,
}

impl Store {
    /// The tags of each project among `ids`, in file order.
    pub async fn tags_of_projects(&self, ids: &[i64]) -> Result<Vec<(i64, TagRecord)>, StoreError> {
        let rows = project_tag::Entity::find()
            .find_also_related(tag::Entity)
            .filter(project_tag::Column::ProjectId.is_in(ids.iter().copied()))
            .order_by_asc(project_tag::Column::Position)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(link, tag)| {
                tag.map(|tag| {
                    (
                        link.project_id,
                        TagRecord {
                            slug: tag.slug,
                            label: tag.label,
                        },
                    )
                })
            })
            .collect())
    }

    /// Every tag carried by a project `audience` may read, with how many
    /// such projects carry it; most used first.
    pub async fn tag_counts(&self, audience: Audience) -> Result<Vec<TagCount>, StoreError> {
        let rows = tag::Entity::find()
            .select_only()
            .column(tag::Column::Slug)
            .column(tag::Column::Label)
            .column_as(
                Expr::expr(Func::count(Expr::col((
                    project_tag::Entity,
                    project_tag::Column::ProjectId,
                )))),
                "projects",
            )
            .join(JoinType::InnerJoin, tag::Relation::ProjectTag.def())
            .join(JoinType::InnerJoin, project_tag::Relation::Project.def())
            .filter(project::Column::Visibility.is_in(readable(audience)))
            .group_by(tag::Column::Id)
            .group_by(tag::Column::Slug)
            .group_by(tag::Column::Label)
            .order_by_desc(Expr::expr(Func::count(Expr::col((
                project_tag::Entity,
                project_tag::Column::ProjectId,
            )))))
            .order_by_asc(tag::Column::Slug)
            .into_model::<TagCountRow>()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| TagCount {
                tag: TagRecord {
                    slug: row.slug,
                    label: row.label,
                },
                projects: row.projects,
            })
            .collect())
    }
}
