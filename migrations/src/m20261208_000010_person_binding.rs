//! Maintainers and administrators are named by email, before they ever sign
//! in; at their first ProConnect sign-in the email is bound to ProConnect's
//! `sub` (stable for the gateway's client), which recognises them afterwards,
//! even once their email changes at their identity provider.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum PersonBinding {
    Table,
    Email,
    Sub,
    BoundAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonBinding::Table)
                    .col(string(PersonBinding::Email).primary_key())
                    .col(string_uniq(PersonBinding::Sub))
                    .col(timestamp_with_time_zone(PersonBinding::BoundAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonBinding::Table).to_owned())
            .await
    }
}
