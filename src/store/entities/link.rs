//! The `link` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    /// `FILE` (from the catalogue files) or `API` (added through a mutation).
    pub origin: String,
    pub kind: String,
    pub title: String,
    pub access: String,
    pub position: i32,
    /// `CONFIRMED`, or `UNSURE` with the reason in `note`.
    pub confidence: String,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
