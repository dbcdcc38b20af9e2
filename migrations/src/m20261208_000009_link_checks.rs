//! The last check of each URL the catalogue links to (websites,
//! documentation, demos, packages, container images, buckets, APIs, the
//! projects' own websites): one row per distinct URL, shared by every link
//! holding it, and only for URLs the catalogue holds (each run removes the
//! others).
//!
//! The key is the SHA-256 of the URL, in hex: a URL has no length limit,
//! and PostgreSQL refuses index entries over about 2.7 kB.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LinkCheck {
    Table,
    UrlHash,
    Url,
    Status,
    HttpStatus,
    FinalUrl,
    Redirects,
    Message,
    CheckedAt,
    ConsecutiveFailures,
    FirstFailedAt,
    FlaggedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `redirects` is the JSON list of the redirects followed, each
        // `{"status": 301, "location": "…"}`; `flagged_at` is set when the
        // URL has failed as many checks in a row as the settings call dead.
        manager
            .create_table(
                Table::create()
                    .table(LinkCheck::Table)
                    .col(string_len(LinkCheck::UrlHash, 64).primary_key())
                    .col(text(LinkCheck::Url))
                    .col(string(LinkCheck::Status))
                    .col(integer_null(LinkCheck::HttpStatus))
                    .col(text_null(LinkCheck::FinalUrl))
                    .col(text(LinkCheck::Redirects))
                    .col(text_null(LinkCheck::Message))
                    .col(timestamp_with_time_zone(LinkCheck::CheckedAt))
                    .col(integer(LinkCheck::ConsecutiveFailures))
                    .col(timestamp_with_time_zone_null(LinkCheck::FirstFailedAt))
                    .col(timestamp_with_time_zone_null(LinkCheck::FlaggedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LinkCheck::Table).to_owned())
            .await
    }
}
