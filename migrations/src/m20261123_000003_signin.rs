//! The gateway's own token signing keys (shared by every replica) and the
//! sign-in attempts in flight (so a callback may land on any replica, once).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SigningKey {
    Table,
    Kid,
    PrivateKeyPem,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SigninAttempt {
    Table,
    StateHash,
    Nonce,
    CodeVerifier,
    Redirect,
    Mode,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKey::Table)
                    .col(string(SigningKey::Kid).primary_key())
                    .col(text(SigningKey::PrivateKeyPem))
                    .col(timestamp_with_time_zone(SigningKey::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKey::RetiredAt))
                    .to_owned(),
            )
            .await?;
        // Keyed by a hash of `state`: the row alone cannot complete a sign-in.
        manager
            .create_table(
                Table::create()
                    .table(SigninAttempt::Table)
                    .col(string(SigninAttempt::StateHash).primary_key())
                    .col(string(SigninAttempt::Nonce))
                    .col(string(SigninAttempt::CodeVerifier))
                    .col(text(SigninAttempt::Redirect))
                    .col(string(SigninAttempt::Mode))
                    .col(timestamp_with_time_zone(SigninAttempt::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signin_attempt_expires_at")
                    .table(SigninAttempt::Table)
                    .col(SigninAttempt::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigninAttempt::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SigningKey::Table).to_owned())
            .await
    }
}
