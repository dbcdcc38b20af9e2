//! Webhooks and their delivery log. The secret and the filter are opaque
//! text to this module (the `webhooks` module seals and parses them); the
//! journal position is a number it only compares.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entities::{webhook, webhook_delivery};
use super::paging::{Page, apply_page, finish_page};
use super::records::decode;
use super::{Store, StoreError};
use crate::catalogue::{Audience, vocabulary};

vocabulary! {
    /// Where a delivery stands.
    pub DeliveryStatus {
        /// Not delivered yet: retried until it is, or its webhook is disabled.
        Pending = "PENDING",
        /// A receiver answered 2xx.
        Delivered = "DELIVERED",
        /// Given up: its webhook was disabled while it was pending.
        Failed = "FAILED",
    }
}

fn audience_to_db(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => "PUBLIC",
        Audience::Agents => "AGENTS",
    }
}

fn audience_from_db(value: &str) -> Option<Audience> {
    match value {
        "PUBLIC" => Some(Audience::Public),
        "AGENTS" => Some(Audience::Agents),
        _ => None,
    }
}

/// A registered webhook, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: i64,
    pub owner_sub: String,
    /// What its owner could read when last seen.
    pub audience: Audience,
    pub url: String,
    pub filter: String,
    /// Sealed or plain; never shown.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    /// The journal position it has been served up to.
    pub position: i64,
    /// Since when its deliveries fail without a success in between.
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

impl TryFrom<webhook::Model> for WebhookRecord {
    type Error = StoreError;

    fn try_from(row: webhook::Model) -> Result<Self, StoreError> {
        Ok(Self {
            audience: decode("webhook.audience", &row.audience, audience_from_db)?,
            id: row.id,
            owner_sub: row.owner_sub,
            url: row.url,
            filter: row.filter,
            secret: row.secret,
            created_at: row.created_at,
            position: row.position,
            failing_since: row.failing_since,
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
        })
    }
}

/// A webhook to register.
pub struct NewWebhook<'a> {
    pub owner_sub: &'a str,
    pub audience: Audience,
    pub url: &'a str,
    pub filter: &'a str,
    pub secret: &'a str,
    /// The journal position now: the webhook hears of later changes only.
    pub position: i64,
    pub at: DateTime<Utc>,
}

/// One delivery of one change to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub webhook_id: i64,
    pub delivery_id: String,
    pub position: i64,
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

impl TryFrom<webhook_delivery::Model> for DeliveryRecord {
    type Error = StoreError;

    fn try_from(row: webhook_delivery::Model) -> Result<Self, StoreError> {
        Ok(Self {
            status: decode(
                "webhook_delivery.status",
                &row.status,
                DeliveryStatus::from_db,
            )?,
            id: row.id,
            webhook_id: row.webhook_id,
            delivery_id: row.delivery_id,
            position: row.position,
            body: row.body,
            attempts: row.attempts,
            response_status: row.response_status,
            error: row.error,
            created_at: row.created_at,
            last_attempt_at: row.last_attempt_at,
            next_attempt_at: row.next_attempt_at,
        })
    }
}

/// The change a webhook is served next: a delivery to make, at `position`.
pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub body: &'a str,
    pub at: DateTime<Utc>,
}

/// How one attempt went.
pub struct AttemptOutcome<'a> {
    pub at: DateTime<Utc>,
    pub response_status: Option<i32>,
    /// What went wrong, in the gateway's words; `None` when delivered.
    pub error: Option<&'a str>,
    /// When to try again, for a failure.
    pub next_attempt_at: DateTime<Utc>,
    /// Disables the webhook, for this reason (a failure that lasted too long).
    pub disable: Option<&'a str>,
}

impl Store {
    /// Registers a webhook unless its owner already has `per_owner`; `None`
    /// when they have.
    pub async fn create_webhook(
        &self,
        new: &NewWebhook<'_>,
        per_owner: u64,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        let txn = self.db.begin().await?;
        let owned = webhook::Entity::find()
            .filter(webhook::Column::OwnerSub.eq(new.owner_sub))
            .count(&txn)
            .await?;
        if owned >= per_owner {
            return Ok(None);
        }
        let row = webhook::Entity::insert(webhook::ActiveModel {
            owner_sub: Set(new.owner_sub.to_owned()),
            audience: Set(audience_to_db(new.audience).to_owned()),
            url: Set(new.url.to_owned()),
            filter: Set(new.filter.to_owned()),
            secret: Set(new.secret.to_owned()),
            created_at: Set(new.at),
            position: Set(new.position),
            failing_since: Set(None),
            disabled_at: Set(None),
            disabled_reason: Set(None),
            ..Default::default()
        })
        .exec_with_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(Some(row.try_into()?))
    }

    /// Deletes the webhook `id` of `owner_sub` and its log; false when they
    /// have no such webhook.
    pub async fn delete_webhook(&self, owner_sub: &str, id: i64) -> Result<bool, StoreError> {
        let txn = self.db.begin().await?;
        let deleted = webhook::Entity::delete_many()
            .filter(webhook::Column::Id.eq(id))
            .filter(webhook::Column::OwnerSub.eq(owner_sub))
            .exec(&txn)
            .await?
            .rows_affected;
        if deleted == 1 {
            webhook_delivery::Entity::delete_many()
                .filter(webhook_delivery::Column::WebhookId.eq(id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(deleted == 1)
    }

    /// The webhooks `owner_sub` registered, oldest first.
    pub async fn webhooks_of(&self, owner_sub: &str) -> Result<Vec<WebhookRecord>, StoreError> {
        webhook::Entity::find()
            .filter(webhook::Column::OwnerSub.eq(owner_sub))
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(WebhookRecord::try_from)
            .collect()
    }

    /// Records what `owner_sub` may read now, for their webhooks' next
    /// deliveries (a person who stopped being a public agent stops hearing
    /// of agents-only changes, and the reverse).
    pub async fn confirm_webhook_owner(
        &self,
        owner_sub: &str,
        audience: Audience,
    ) -> Result<(), StoreError> {
        let spelled = audience_to_db(audience);
        webhook::Entity::update_many()
            .col_expr(webhook::Column::Audience, Expr::value(spelled))
            .filter(webhook::Column::OwnerSub.eq(owner_sub))
            .filter(webhook::Column::Audience.ne(spelled))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A page of webhook `webhook_id`'s delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        webhook_id: i64,
        page: &Page,
    ) -> Result<(Vec<DeliveryRecord>, bool), StoreError> {
        let select = apply_page(
            webhook_delivery::Entity::find()
                .filter(webhook_delivery::Column::WebhookId.eq(webhook_id)),
            None,
            webhook_delivery::Column::Id,
            false,
            page,
        );
        let rows = select
            .all(&self.db)
            .await?
            .into_iter()
            .map(DeliveryRecord::try_from)
            .collect::<Result<_, _>>()?;
        Ok(finish_page(rows, page))
    }

    /// How many deliveries webhook `webhook_id`'s log holds.
    pub async fn webhook_delivery_count(&self, webhook_id: i64) -> Result<u64, StoreError> {
        Ok(webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .count(&self.db)
            .await?)
    }

    /// The webhooks deliveries are made to (not disabled), oldest first.
    pub async fn enabled_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        webhook::Entity::find()
            .filter(webhook::Column::DisabledAt.is_null())
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(WebhookRecord::try_from)
            .collect()
    }

    /// The oldest delivery of `webhook_id` still pending.
    pub async fn pending_delivery(
        &self,
        webhook_id: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_db()))
            .order_by_asc(webhook_delivery::Column::Id)
            .one(&self.db)
            .await?
            .map(DeliveryRecord::try_from)
            .transpose()
    }

    /// Moves webhook `webhook_id` from journal position `from` to `to`, with
    /// the delivery of the change at `to` when there is one to make; false
    /// (and nothing written) when the webhook is no longer at `from` (a
    /// replica that took the lease over served it meanwhile) or was deleted.
    pub async fn advance_webhook(
        &self,
        webhook_id: i64,
        from: i64,
        to: i64,
        delivery: Option<&NewDelivery<'_>>,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin().await?;
        let moved = webhook::Entity::update_many()
            .col_expr(webhook::Column::Position, Expr::value(to))
            .filter(webhook::Column::Id.eq(webhook_id))
            .filter(webhook::Column::Position.eq(from))
            .exec(&txn)
            .await?
            .rows_affected;
        if moved != 1 {
            return Ok(false);
        }
        if let Some(delivery) = delivery {
            webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                webhook_id: Set(webhook_id),
                delivery_id: Set(delivery.delivery_id.to_owned()),
                position: Set(to),
                body: Set(delivery.body.to_owned()),
                status: Set(DeliveryStatus::Pending.as_db().to_owned()),
                attempts: Set(0),
                response_status: Set(None),
                error: Set(None),
                created_at: Set(delivery.at),
                last_attempt_at: Set(None),
                next_attempt_at: Set(delivery.at),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Records an attempt of delivery `delivery` (a row id): delivered when
    /// `outcome.error` is `None`, else retried at `next_attempt_at`, or given
    /// up with its webhook disabled.
    pub async fn record_attempt(
        &self,
        delivery: &DeliveryRecord,
        outcome: &AttemptOutcome<'_>,
    ) -> Result<(), StoreError> {
        let status = match (outcome.error, outcome.disable) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), Some(_)) => DeliveryStatus::Failed,
            (Some(_), None) => DeliveryStatus::Pending,
        };
        let txn = self.db.begin().await?;
        webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(status.as_db()),
            )
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::value(delivery.attempts + 1),
            )
            .col_expr(
                webhook_delivery::Column::ResponseStatus,
                Expr::value(outcome.response_status),
            )
            .col_expr(
                webhook_delivery::Column::Error,
                Expr::value(outcome.error.map(str::to_owned)),
            )
            .col_expr(
                webhook_delivery::Column::LastAttemptAt,
                Expr::value(outcome.at),
            )
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(outcome.next_attempt_at),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .exec(&txn)
            .await?;
        let mut hook =
            webhook::Entity::update_many().filter(webhook::Column::Id.eq(delivery.webhook_id));
        hook = match (outcome.error, outcome.disable) {
            (None, _) => hook.col_expr(
                webhook::Column::FailingSince,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
            (Some(_), None) => hook
                .col_expr(webhook::Column::FailingSince, Expr::value(outcome.at))
                .filter(webhook::Column::FailingSince.is_null()),
            (Some(_), Some(reason)) => hook
                .col_expr(webhook::Column::DisabledAt, Expr::value(outcome.at))
                .col_expr(webhook::Column::DisabledReason, Expr::value(reason)),
        };
        hook.exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Forgets webhook `webhook_id`'s oldest deliveries beyond the newest
    /// `keep`, pending ones excepted.
    pub async fn prune_deliveries(&self, webhook_id: i64, keep: u64) -> Result<u64, StoreError> {
        let oldest_kept = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .order_by_desc(webhook_delivery::Column::Id)
            .offset(keep.saturating_sub(1))
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?;
        let Some(oldest_kept) = oldest_kept else {
            return Ok(0);
        };
        Ok(webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .filter(webhook_delivery::Column::Id.lt(oldest_kept))
            .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending.as_db()))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
