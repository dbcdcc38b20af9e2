//! The `harvest_result` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "harvest_result")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    pub project_id: i64,
    pub url: String,
    pub status: String,
    pub message: Option<String>,
    pub harvested_at: DateTimeUtc,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub facts: Option<String>,
    pub facts_changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
