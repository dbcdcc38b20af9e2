//! Webhooks other administrations' tools register to hear of catalogue
//! changes, and the log of their deliveries.
//!
//! `webhook.position` is how far in the journal of changes the webhook has
//! been served: each change after it is either skipped (filtered out, or not
//! visible to the owner) or becomes a `webhook_delivery`, one at a time, so
//! a webhook has at most one delivery pending and its deliveries keep the
//! journal's order. `secret` is what signs the deliveries: sealed with
//! AES-256-GCM when the operator gives a key (see decision 0025).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Webhook {
    Table,
    Id,
    OwnerSub,
    Audience,
    Url,
    Filter,
    Secret,
    CreatedAt,
    Position,
    FailingSince,
    DisabledAt,
    DisabledReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDelivery {
    Table,
    Id,
    WebhookId,
    DeliveryId,
    Position,
    Body,
    Status,
    Attempts,
    ResponseStatus,
    Error,
    CreatedAt,
    LastAttemptAt,
    NextAttemptAt,
}

const OWNER_INDEX: &str = "idx_webhook_owner_sub";
const LOG_INDEX: &str = "idx_webhook_delivery_webhook_id_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `audience` is PUBLIC or AGENTS: what the owner could read when last
        // seen; `filter` is JSON.
        manager
            .create_table(
                Table::create()
                    .table(Webhook::Table)
                    .col(big_pk_auto(Webhook::Id))
                    .col(string(Webhook::OwnerSub))
                    .col(string(Webhook::Audience))
                    .col(text(Webhook::Url))
                    .col(text(Webhook::Filter))
                    .col(text(Webhook::Secret))
                    .col(timestamp_with_time_zone(Webhook::CreatedAt))
                    .col(big_integer(Webhook::Position))
                    .col(timestamp_with_time_zone_null(Webhook::FailingSince))
                    .col(timestamp_with_time_zone_null(Webhook::DisabledAt))
                    .col(text_null(Webhook::DisabledReason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OWNER_INDEX)
                    .table(Webhook::Table)
                    .col(Webhook::OwnerSub)
                    .to_owned(),
            )
            .await?;
        // `status` is PENDING, DELIVERED or FAILED; `error` says what went
        // wrong with the last attempt, in the gateway's words.
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(big_pk_auto(WebhookDelivery::Id))
                    .col(big_integer(WebhookDelivery::WebhookId))
                    .col(string_len(WebhookDelivery::DeliveryId, 64))
                    .col(big_integer(WebhookDelivery::Position))
                    .col(text(WebhookDelivery::Body))
                    .col(string(WebhookDelivery::Status))
                    .col(integer(WebhookDelivery::Attempts))
                    .col(integer_null(WebhookDelivery::ResponseStatus))
                    .col(text_null(WebhookDelivery::Error))
                    .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDelivery::LastAttemptAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookDelivery::NextAttemptAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDelivery::Table, WebhookDelivery::WebhookId)
                            .to(Webhook::Table, Webhook::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(LOG_INDEX)
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::WebhookId)
                    .col(WebhookDelivery::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDelivery::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Webhook::Table).to_owned())
            .await
    }
}
