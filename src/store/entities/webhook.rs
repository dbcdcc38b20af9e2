//! The `webhook` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_sub: String,
    /// `PUBLIC` or `AGENTS`: what the owner could read when last seen.
    pub audience: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// JSON.
    #[sea_orm(column_type = "Text")]
    pub filter: String,
    /// Sealed (`aes256gcm:…`) or plain.
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    pub created_at: DateTimeUtc,
    /// The journal position served up to.
    pub position: i64,
    pub failing_since: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
