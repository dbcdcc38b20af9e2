//! Reading organizations and who takes part in which project.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::entities::{organization, project, project_organization};
use super::paging::{Page, SortValue, apply_page, finish_page};
use super::projects::readable;
use super::records::{OrganizationRecord, ParticipationRecord, ProjectRecord, convert_all};
use super::{Store, StoreError};
use crate::catalogue::{Audience, ParticipationRole};

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
        let rows = convert_all(select.all(&self.db).await?)?;
        Ok(finish_page(rows, page))
    }

    pub async fn organization_count(&self) -> Result<u64, StoreError> {
        Ok(organization::Entity::find().count(&self.db).await?)
    }

    pub async fn organization_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        organization::Entity::find()
            .filter(organization::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
            .map(OrganizationRecord::try_from)
            .transpose()
    }

    pub async fn organization_by_siret(
        &self,
        siret: &str,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        organization::Entity::find()
            .filter(organization::Column::Siret.eq(siret))
            .one(&self.db)
            .await?
            .map(OrganizationRecord::try_from)
            .transpose()
    }

    pub async fn organizations_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<OrganizationRecord>, StoreError> {
        convert_all(
            organization::Entity::find()
                .filter(organization::Column::Id.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?,
        )
    }

    /// The organizations taking part in each project among `ids`, in file order.
    pub async fn participations_of_projects(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, ParticipationRecord)>, StoreError> {
        let rows = project_organization::Entity::find()
            .find_also_related(organization::Entity)
            .filter(project_organization::Column::ProjectId.is_in(ids.iter().copied()))
            .order_by_asc(project_organization::Column::Position)
            .all(&self.db)
            .await?;
        let mut participations = Vec::with_capacity(rows.len());
        for (link, organization) in rows {
            // The foreign key guarantees the organization; a missing one is skipped, not invented.
            let Some(organization) = organization else {
                continue;
            };
            let role =
                ParticipationRole::from_db(&link.role).ok_or_else(|| StoreError::Unreadable {
                    column: "project_organization.role",
                    value: link.role.clone(),
                })?;
            participations.push((
                link.project_id,
                ParticipationRecord {
                    role,
                    organization: OrganizationRecord::try_from(organization)?,
                },
            ));
        }
        Ok(participations)
    }

    /// The projects `audience` may read that each organization among `ids` takes part in, by name.
    pub async fn projects_of_organizations(
        &self,
        ids: &[i64],
        audience: Audience,
    ) -> Result<Vec<(i64, ProjectRecord)>, StoreError> {
        let rows = project_organization::Entity::find()
            .find_also_related(project::Entity)
            .filter(project_organization::Column::OrganizationId.is_in(ids.iter().copied()))
            .filter(project::Column::Visibility.is_in(readable(audience)))
            .order_by_asc(project::Column::SortKey)
            .all(&self.db)
            .await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for (link, project) in rows {
            if let Some(project) = project {
                pairs.push((link.organization_id, ProjectRecord::try_from(project)?));
            }
        }
        Ok(pairs)
    }
}
