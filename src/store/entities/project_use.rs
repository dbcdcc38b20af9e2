//! The `project_use` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "project_use")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub repository_id: Option<i64>,
    pub dataset_id: Option<i64>,
    /// None: an organization the catalogue does not know, named as its source names it.
    pub organization_id: Option<i64>,
    pub organization_name: String,
    pub kind: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub instance_url: Option<String>,
    /// `YYYY-MM-DD`.
    pub since: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    pub source: String,
    /// Tells this use from the source's others (see the migration).
    pub source_key: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub source_url: Option<String>,
    pub declared_by_sub: Option<String>,
    pub declared_by_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
