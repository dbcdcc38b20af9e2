//! The `audit_entry` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_sub: String,
    pub actor_email: String,
    /// The mutation, e.g. `updateProject`.
    pub action: String,
    /// What it acted on, e.g. `project:cartiflette`.
    pub target: String,
    /// JSON before the write; null for creations.
    #[sea_orm(column_type = "Text", nullable)]
    pub before: Option<String>,
    /// JSON after the write; null for removals.
    #[sea_orm(column_type = "Text", nullable)]
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
