//! Reading organizations and who takes part in which project.

use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use super::entities::{organization, organization_source, project, project_organization};
use super::paging::{Page, SortValue, apply_page, finish_page};
use super::projects::readable;
use super::records::{OrganizationRecord, ParticipationRecord, ProjectRecord, SourceRecord};
use super::rows::{Columns, ReadRecord};
use super::{Store, StoreError};
use crate::catalogue::{Audience, Confidence, ParticipationRole};

impl OrganizationRecord {
    /// The value organization lists are ordered by, as a page boundary.
    pub fn sort_value(&self) -> SortValue {
        SortValue::Text(self.sort_key.clone())
    }
}

impl Store {
    /// One page of organizations in name order; organizations are public.
    pub async fn organization_page(
        &self,
        page: &Page,
    ) -> Result<(Vec<OrganizationRecord>, bool), StoreError> {
        let select = apply_page(
            organization::Entity::find(),
            Some(organization::Column::SortKey),
            organization::Column::Id,
            true,
            page,
        );
        let rows = self.read_all(select).await?;
        Ok(finish_page(rows, page))
    }

    pub async fn organization_count(&self) -> Result<u64, StoreError> {
        Ok(organization::Entity::find().count(&self.db).await?)
    }

    /// The organizations with one of `slugs`, in no order.
    pub async fn organizations_by_slugs(
        &self,
        slugs: &[String],
    ) -> Result<Vec<OrganizationRecord>, StoreError> {
        self.read_all(
            organization::Entity::find()
                .filter(organization::Column::Slug.is_in(slugs.iter().cloned())),
        )
        .await
    }

    /// The organizations with one of `sirets`, in no order.
    pub async fn organizations_by_sirets(
        &self,
        sirets: &[String],
    ) -> Result<Vec<OrganizationRecord>, StoreError> {
        self.read_all(
            organization::Entity::find()
                .filter(organization::Column::Siret.is_in(sirets.iter().cloned())),
        )
        .await
    }

    /// Whether one of the catalogue's organizations has the SIRET `siret`,
    /// or the SIREN it starts with.
    pub async fn is_catalogue_organization(&self, siret: &str) -> Result<bool, StoreError> {
        let siren = siret.get(..9).unwrap_or(siret);
        let found = organization::Entity::find()
            .filter(
                Condition::any()
                    .add(organization::Column::Siret.eq(siret))
                    .add(organization::Column::Siren.eq(siren)),
            )
            .count(&self.db)
            .await?;
        Ok(found > 0)
    }

    pub async fn organizations_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<OrganizationRecord>, StoreError> {
        self.read_all(
            organization::Entity::find()
                .filter(organization::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    /// The organizations taking part in each project among `ids`, project by
    /// project, each in file order.
    pub async fn participations_of_projects(
        &self,
        ids: &[i64],
        columns: Columns<OrganizationRecord>,
    ) -> Result<Vec<(i64, ParticipationRecord)>, StoreError> {
        let mut select = project_organization::Entity::find()
            .filter(project_organization::Column::ProjectId.is_in(ids.iter().copied()))
            .order_by_asc(project_organization::Column::ProjectId)
            .order_by_asc(project_organization::Column::Position)
            .select_only()
            .columns([
                project_organization::Column::ProjectId,
                project_organization::Column::Role,
                project_organization::Column::Confidence,
                project_organization::Column::Note,
            ])
            .columns(columns.selected());
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            // PostgreSQL would hash every organization to join a page's few
            // participations; looked up one by one through the primary key
            // they cost it a third less (a lateral subquery with LIMIT, which
            // the planner cannot turn back into a join; the id is unique, so
            // the LIMIT drops nothing). SQLite has no LATERAL, and joins by
            // nested loops only.
            let organization_of_participation = Query::select()
                .columns(columns.selected())
                .from(organization::Entity)
                .and_where(
                    Expr::col((organization::Entity, organization::Column::Id)).equals((
                        project_organization::Entity,
                        project_organization::Column::OrganizationId,
                    )),
                )
                .limit(1)
                .to_owned();
            QueryTrait::query(&mut select).join_lateral(
                JoinType::InnerJoin,
                organization_of_participation,
                organization::Entity,
                Condition::all(),
            );
        } else {
            select = select.inner_join(organization::Entity);
        }
        self.read_rows(select, columns.skips(4), |row| {
            let project_id: i64 = row.value("project_organization.project_id")?;
            let role: ParticipationRole = row.value("project_organization.role")?;
            let confidence: Confidence = row.value("project_organization.confidence")?;
            let note: Option<String> = row.value("project_organization.note")?;
            let organization = OrganizationRecord::read(row)?;
            Ok((
                project_id,
                ParticipationRecord {
                    role,
                    confidence,
                    note,
                    organization,
                },
            ))
        })
        .await
    }

    /// Where the facts of each organization among `ids` were read, in file order.
    pub async fn sources_of_organizations(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, SourceRecord)>, StoreError> {
        Ok(organization_source::Entity::find()
            .filter(organization_source::Column::OrganizationId.is_in(ids.iter().copied()))
            .order_by_asc(organization_source::Column::Position)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                (
                    row.organization_id,
                    SourceRecord {
                        title: row.title,
                        url: Some(row.url),
                        date: row.date,
                    },
                )
            })
            .collect())
    }

    /// The projects `audience` may read that each organization among `ids` takes part in, by name.
    pub async fn projects_of_organizations(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, ProjectRecord)>, StoreError> {
        let select = project_organization::Entity::find()
            .inner_join(project::Entity)
            .filter(project_organization::Column::OrganizationId.is_in(ids.iter().copied()))
            .filter(project::Column::Visibility.is_in(readable(audience)))
            .order_by_asc(project::Column::SortKey)
            .order_by_asc(project::Column::Id)
            .select_only()
            .column(project_organization::Column::OrganizationId)
            .columns(ProjectRecord::COLUMNS.iter().copied());
        self.read_rows(select, Columns::<ProjectRecord>::ALL.skips(1), |row| {
            let organization_id: i64 = row.value("project_organization.organization_id")?;
            Ok((organization_id, ProjectRecord::read(row)?))
        })
        .await
    }
}
