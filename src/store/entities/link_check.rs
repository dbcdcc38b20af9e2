//! The `link_check` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link_check")]
pub struct Model {
    /// SHA-256 of `url`, in hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub url_hash: String,
    pub url: String,
    pub status: String,
    pub http_status: Option<i32>,
    pub final_url: Option<String>,
    /// JSON: `[{"status": 301, "location": "…"}, …]`.
    pub redirects: String,
    pub message: Option<String>,
    pub checked_at: DateTimeUtc,
    pub consecutive_failures: i32,
    pub first_failed_at: Option<DateTimeUtc>,
    pub flagged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
