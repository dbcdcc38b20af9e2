//! The `repository` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "repository")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    /// `FILE` (from the catalogue files) or `API` (added through a mutation).
    pub origin: String,
    pub forge: String,
    pub owner: Option<String>,
    pub name: Option<String>,
    pub role: String,
    pub language: Option<String>,
    pub license: Option<String>,
    pub access: String,
    pub position: i32,
    /// `CONFIRMED`, or `UNSURE` with the reason in `note`.
    pub confidence: String,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
