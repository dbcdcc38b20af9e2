//! The `organization` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// The name folded to lowercase ASCII: what paging orders by.
    pub sort_key: String,
    pub acronym: Option<String>,
    pub kind: String,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub website: Option<String>,
    /// False for an organization created from an agent's SIRET, until an
    /// administrator confirms it.
    pub verified: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
