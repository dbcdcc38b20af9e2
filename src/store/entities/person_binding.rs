//! The `person_binding` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_binding")]
pub struct Model {
    /// The email the person was named by (maintainer, administrator), lowercased.
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// ProConnect's `sub` at their first sign-in through the gateway.
    #[sea_orm(unique)]
    pub sub: String,
    pub bound_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
