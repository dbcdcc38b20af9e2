//! The `project` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "project")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// The name folded to lowercase ASCII: what paging orders by.
    pub sort_key: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// Name, summary and description folded to lowercase ASCII: what the text filter searches.
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    pub status: Option<String>,
    pub website: Option<String>,
    pub documentation: Option<String>,
    pub visibility: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped by every change, so writers can detect concurrent edits.
    pub version: i64,
    /// How many organizations anyone may see using it (kept by the writes of `project_use`).
    pub used_by: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
