//! Webhooks: `createWebhook`, `deleteWebhook`, the caller's `webhooks` and
//! a webhook's delivery log (`webhookDeliveries`). Anyone signed in may
//! register; a webhook hears of the changes its owner may read.

use std::sync::Arc;

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::Agent;
use crate::graphql::execution::context::{audience, loader, principal, store};
use crate::graphql::execution::errors::{OrInternal, bad_input, code, internal};
use crate::graphql::schema::changes::ChangeFilterInput;
use crate::graphql::schema::enums::ChangeKind;
use crate::graphql::schema::ids::{NodeType, global_id, parse_global_id};
use crate::graphql::schema::loaders::{OrganizationById, ProjectById};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use crate::graphql::schema::project::Project;
use crate::store::{DeliveryRecord, DeliveryStatus as StoredStatus, SortValue, WebhookRecord};
use crate::webhooks::{Owner, Registration, RegistrationError, Registry, WebhookFilter};

const ORDERING: &str = "webhook-delivery:id:desc";

/// The person signed in (public agent or not); UNAUTHENTICATED otherwise.
fn signed_in_person<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Agent> {
    principal(ctx).and_then(|p| p.person()).ok_or_else(|| {
        async_graphql::Error::new("sign in: send `Authorization: Bearer <token>`")
            .extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
    })
}

/// The caller as a webhook owner, and their webhooks, told what the caller
/// may read now when it changed (written only then).
async fn own_webhooks<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<(Owner<'a>, Vec<WebhookRecord>)> {
    let person = signed_in_person(ctx)?;
    let owner = Owner {
        sub: &person.sub,
        audience: audience(ctx),
    };
    let store = store(ctx)?;
    let mut webhooks = store.webhooks_of(owner.sub).await.or_internal()?;
    if webhooks
        .iter()
        .any(|webhook| webhook.audience != owner.audience)
    {
        store
            .confirm_webhook_owner(owner.sub, owner.audience)
            .await
            .or_internal()?;
        for webhook in &mut webhooks {
            webhook.audience = owner.audience;
        }
    }
    Ok((owner, webhooks))
}

fn registry<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Registry>> {
    ctx.data::<Arc<Registry>>()
}

/// The caller's webhook `id`; NOT_FOUND for anyone else's.
async fn own_webhook(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<WebhookRecord> {
    let (NodeType::Webhook, row) = parse_global_id(id)? else {
        return Err(bad_input("id: not the id of a webhook"));
    };
    let (_, webhooks) = own_webhooks(ctx).await?;
    webhooks
        .into_iter()
        .find(|webhook| webhook.id == row)
        .ok_or_else(|| {
            async_graphql::Error::new("you have no webhook with this id")
                .extend_with(|_, e| e.set("code", code::NOT_FOUND))
        })
}

pub struct Webhook(WebhookRecord);

impl Webhook {
    fn filter(&self) -> async_graphql::Result<WebhookFilter> {
        WebhookFilter::from_json(&self.0.filter).map_err(|e| internal(&e))
    }
}

/// A webhook: where the catalogue's changes are delivered, signed with its
/// secret (which is never shown again).
#[Object]
impl Webhook {
    /// Its id, for `deleteWebhook` and `webhookDeliveries`.
    async fn id(&self) -> ID {
        global_id(NodeType::Webhook, self.0.id)
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The kinds of change it wants; null: all.
    async fn kinds(&self) -> async_graphql::Result<Option<Vec<ChangeKind>>> {
        Ok(self
            .filter()?
            .kinds()
            .map(|kinds| kinds.into_iter().map(Into::into).collect()))
    }

    /// The projects whose changes it wants, as the caller may see them
    /// (with `organizations`: either's); both empty: every one's.
    async fn projects(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Project>> {
        let ids = self.filter()?.projects();
        let found = loader(ctx)?
            .load_many(ids.iter().copied().map(ProjectById))
            .await
            .or_internal()?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(&ProjectById(*id)).cloned().map(Project))
            .collect())
    }

    /// The organizations whose changes it wants.
    async fn organizations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Organization>> {
        let ids = self.filter()?.organizations();
        let found = loader(ctx)?
            .load_many(ids.iter().copied().map(OrganizationById))
            .await
            .or_internal()?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(&OrganizationById(*id)).cloned().map(Organization))
            .collect())
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Since when its deliveries have failed without a success; null when
    /// the last one succeeded.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// When it was disabled for failing too long; null while it delivers.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// Why it was disabled.
    async fn reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
}

/// Where a delivery stands.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: retried with backoff until it is.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: the webhook was disabled while it was pending.
    Failed,
}

impl From<StoredStatus> for DeliveryStatus {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::Pending => Self::Pending,
            StoredStatus::Delivered => Self::Delivered,
            StoredStatus::Failed => Self::Failed,
        }
    }
}

pub struct WebhookDelivery(DeliveryRecord);

/// One change delivered (or being delivered) to a webhook.
#[Object]
impl WebhookDelivery {
    /// The `X-Catalogue-Delivery` header it is sent with, the same on every attempt.
    async fn delivery_id(&self) -> &str {
        &self.0.delivery_id
    }

    /// Whether it was delivered, is being retried, or was given up.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// The HTTP status of the last answer; null when there was none.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }

    /// What went wrong with the last attempt; null when it succeeded.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// When the change was queued for this webhook.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last attempted.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }

    /// When it is attempted next, while pending.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == StoredStatus::Pending).then_some(self.0.next_attempt_at)
    }

    /// The JSON body sent (no secret is in it).
    async fn body(&self) -> &str {
        &self.0.body
    }
}

/// A webhook to register.
#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// An `https://` URL at a public address; deliveries are POSTed to it
    /// and redirects are not followed.
    url: String,
    /// Which changes it wants, as `changes` takes it (slugs the caller cannot
    /// see match nothing); absent: all the caller may read.
    filter: Option<ChangeFilterInput>,
    /// The key deliveries are signed with (HMAC-SHA256); it cannot be read back.
    secret: String,
}

/// What `createWebhook` registered.
#[derive(SimpleObject)]
pub struct CreateWebhookPayload {
    /// The webhook, without its secret.
    webhook: Webhook,
}

/// What `deleteWebhook` removed.
#[derive(SimpleObject)]
pub struct DeleteWebhookPayload {
    /// The id of the webhook deleted.
    id: ID,
}

fn refused(error: RegistrationError) -> async_graphql::Error {
    let message = error.to_string();
    match error {
        RegistrationError::Store(error) => internal(&error),
        RegistrationError::Target(refusal) => bad_input(format!("input.url: {message}"))
            .extend_with(|_, e| {
                e.set("field", "input.url");
                e.set("reason", refusal.reason());
            }),
        RegistrationError::SecretLength { .. } => bad_input(format!("input.secret: {message}"))
            .extend_with(|_, e| e.set("field", "input.secret")),
        RegistrationError::FilterTooLarge { .. } => bad_input(format!("input.filter: {message}"))
            .extend_with(|_, e| e.set("field", "input.filter")),
        RegistrationError::TooMany { limit } => {
            async_graphql::Error::new(message).extend_with(|_, e| {
                e.set("code", code::LIMIT_EXCEEDED);
                e.set("limit", limit);
            })
        }
    }
}

/// The filter `input` asks for, its slugs as the caller may see them.
async fn filter(
    ctx: &Context<'_>,
    input: Option<ChangeFilterInput>,
) -> async_graphql::Result<WebhookFilter> {
    let parsed = input
        .unwrap_or_default()
        .parse(ctx)
        .await
        .map_err(|e| e.extend_with(|_, x| x.set("field", "input.filter")))?;
    Ok(WebhookFilter::from(&parsed))
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The webhooks the caller registered, oldest first (signed in).
    #[graphql(cache_control(private))]
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        let (_, webhooks) = own_webhooks(ctx).await?;
        Ok(webhooks.into_iter().map(Webhook).collect())
    }

    /// The delivery log of one of the caller's webhooks, newest first; the
    /// oldest deliveries are pruned beyond the operator's bound.
    #[graphql(cache_control(private))]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, WebhookDelivery, ListTotal, EmptyFields>> {
        let webhook = own_webhook(ctx, &webhook_id).await?;
        let page = PageArgs {
            first,
            after,
            last: None,
            before: None,
        }
        .page(ORDERING, CursorKind::Id)?;
        let (rows, more) = store(ctx)?
            .webhook_deliveries(webhook.id, &page)
            .await
            .or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(ORDERING, &SortValue::None, row.id),
                    WebhookDelivery(row),
                )
            })
            .collect();
        Ok(connection(
            &page,
            more,
            nodes,
            ListTotal::WebhookDeliveries(webhook.id),
        ))
    }
}

/// The caller's webhooks disabled for failing too long, for `me`.
pub(crate) async fn disabled_webhooks(ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
    let (_, webhooks) = own_webhooks(ctx).await?;
    Ok(webhooks
        .into_iter()
        .filter(|webhook| webhook.disabled_at.is_some())
        .map(Webhook)
        .collect())
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook (anyone signed in): the changes committed from
    /// now on that the caller may read, and the filter wants, are POSTed to
    /// `url`, signed with `secret` (see the API guide).
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<CreateWebhookPayload> {
        let (owner, _) = own_webhooks(ctx).await?;
        let filter = filter(ctx, input.filter).await?;
        let webhook = registry(ctx)?
            .register(
                &owner,
                Registration {
                    url: &input.url,
                    filter,
                    secret: &input.secret,
                },
            )
            .await
            .map_err(refused)?;
        Ok(CreateWebhookPayload {
            webhook: Webhook(webhook),
        })
    }

    /// Deletes one of the caller's webhooks and its delivery log.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeleteWebhookPayload> {
        let webhook = own_webhook(ctx, &id).await?;
        store(ctx)?
            .delete_webhook(&webhook.owner_sub, webhook.id)
            .await
            .or_internal()?;
        Ok(DeleteWebhookPayload { id })
    }
}
