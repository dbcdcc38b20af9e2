//! Delivering: one replica at a time (the `webhooks` lease in
//! `harvest_lease`, renewed at each poll, taken over by another replica once
//! it expires), each webhook served in the journal's order.
//!
//! A webhook has at most one delivery pending. While it has one, that one
//! is attempted, and retried with exponential backoff on any answer but 2xx
//! (redirects are not followed) and on timeouts, until it succeeds; the next
//! change waits. When a webhook's deliveries have failed without a success
//! for `webhook_disable_after_seconds`, it is disabled and its pending
//! delivery marked FAILED: order is never broken, and a receiver that was
//! down misses nothing while it is enabled. Without a pending delivery, the
//! journal is read after the webhook's position for the next change it
//! wants and its owner may read now, which becomes its pending delivery.
//! At least once: a replica that dies between sending and recording sends
//! again after the takeover, with the same `X-Catalogue-Delivery` id.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::body::{change_body, resynchronise_body};
use super::signature::signature;
use super::{Registry, WebhookFilter};
use crate::background::BackgroundTasks;
use crate::catalogue::Audience;
use crate::config;
use crate::graphql::{NodeType, global_id};
use crate::harvest::egress::{PublicOnly, PublicOrLoopback, RefusedAddress};
use crate::store::{
    AttemptOutcome, ChangeFeed, DeliveryRecord, FeedPosition, NewDelivery, Store, StoreError,
    WebhookRecord,
};

/// The lease the delivering replica holds.
const LEASE: &str = "webhooks";
/// Webhooks served at once.
const WEBHOOKS_AT_ONCE: usize = 16;
/// Changes read from the journal at once for one webhook.
const JOURNAL_PAGE: u64 = 100;
/// Deliveries made to one webhook in one pass, so that a pass ends in time.
const DELIVERIES_PER_PASS: usize = 20;

/// Delivers webhooks' changes.
pub struct Deliverer {
    store: Store,
    registry: Arc<Registry>,
    client: reqwest::Client,
    settings: config::Webhooks,
    holder: String,
}

/// Why an attempt got no answer, in the words its owner reads.
#[derive(Debug, thiserror::Error)]
enum NoAnswer {
    #[error("the target is no longer allowed: {0}")]
    Target(#[from] super::TargetRefusal),
    #[error("the target's name resolves to an address that is not public")]
    NotPublic,
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("could not connect")]
    Connect,
    #[error("the request failed")]
    Failed,
    #[error("the secret cannot be read (the gateway's log says why); register the webhook again")]
    Secret,
}

impl Deliverer {
    pub fn new(
        settings: &config::Webhooks,
        store: Store,
        registry: Arc<Registry>,
    ) -> Result<Self, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.webhook_timeout_seconds))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "catalogue-gateway-webhooks/",
                env!("CARGO_PKG_VERSION")
            ));
        let client = if settings.webhook_allow_local_http {
            builder.dns_resolver(Arc::new(PublicOrLoopback))
        } else {
            builder.https_only(true).dns_resolver(Arc::new(PublicOnly))
        }
        .build()?;
        Ok(Self {
            store,
            registry,
            client,
            settings: settings.clone(),
            holder: format!(
                "{}:{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "gateway".into()),
                std::process::id(),
                rand::random::<u32>()
            ),
        })
    }

    fn seconds(seconds: u64) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000))
    }

    /// Serves every enabled webhook once; stops starting attempts at `until`.
    pub async fn pass(&self, until: DateTime<Utc>) -> Result<(), StoreError> {
        let webhooks = self.store.enabled_webhooks().await?;
        futures_util::stream::iter(webhooks)
            .for_each_concurrent(WEBHOOKS_AT_ONCE, |webhook| async move {
                let id = webhook.id;
                if let Err(error) = self.serve(webhook, until).await {
                    tracing::warn!(%error, webhook = id, "cannot serve a webhook; retried at the next poll");
                }
            })
            .await;
        Ok(())
    }

    async fn serve(
        &self,
        mut webhook: WebhookRecord,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for _ in 0..DELIVERIES_PER_PASS {
            let pending = match self.store.pending_delivery(webhook.id).await? {
                Some(pending) => pending,
                None => match self.next_delivery(&mut webhook).await? {
                    Some(pending) => pending,
                    None => return Ok(()),
                },
            };
            let now = Utc::now();
            if pending.next_attempt_at > now || now >= until {
                return Ok(());
            }
            if !self.attempt(&mut webhook, &pending).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The next change `webhook` wants and its owner may read, made its
    /// pending delivery; `None` when the journal has none yet.
    async fn next_delivery(
        &self,
        webhook: &mut WebhookRecord,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let filter = match WebhookFilter::from_json(&webhook.filter)
            .and_then(|filter| filter.to_change_filter())
        {
            Ok(filter) => filter,
            Err(error) => {
                tracing::error!(%error, webhook = webhook.id, "a webhook's stored filter is unreadable; skipped");
                return Ok(None);
            }
        };
        let hook_id = global_id(NodeType::Webhook, webhook.id).0;
        loop {
            // Read as agents read (every change numbered), then filtered by
            // what the owner may read now.
            let after = FeedPosition {
                reader: Audience::Agents,
                ordinal: webhook.position,
            };
            let (to, body, more) = match self
                .store
                .changes_after(after, JOURNAL_PAGE, &filter)
                .await?
            {
                ChangeFeed::Pruned => {
                    let head = self.store.feed_head(Audience::Agents).await?.ordinal;
                    let delivery_id = new_delivery_id();
                    (
                        head,
                        Some((
                            delivery_id.clone(),
                            resynchronise_body(&hook_id, &delivery_id),
                        )),
                        false,
                    )
                }
                ChangeFeed::Page {
                    changes,
                    next,
                    has_more,
                } => match changes
                    .iter()
                    .find_map(|change| Some((change, change.position(webhook.audience)?)))
                {
                    Some((change, position)) => {
                        let delivery_id = new_delivery_id();
                        let body = change_body(&hook_id, &delivery_id, change, position);
                        (change.seq, Some((delivery_id, body)), false)
                    }
                    None => (next.ordinal, None, has_more),
                },
            };
            if to == webhook.position && body.is_none() {
                return Ok(None);
            }
            let at = Utc::now();
            let delivery = body.as_ref().map(|(delivery_id, body)| NewDelivery {
                delivery_id,
                body,
                at,
            });
            if !self
                .store
                .advance_webhook(webhook.id, webhook.position, to, delivery.as_ref())
                .await?
            {
                // Served meanwhile by another replica: its turn.
                return Ok(None);
            }
            webhook.position = to;
            if body.is_some() {
                return self.store.pending_delivery(webhook.id).await;
            }
            if !more {
                return Ok(None);
            }
        }
    }

    /// Attempts `delivery` once and records how it went; true when delivered.
    async fn attempt(
        &self,
        webhook: &mut WebhookRecord,
        delivery: &DeliveryRecord,
    ) -> Result<bool, StoreError> {
        let at = Utc::now();
        let (response_status, error) = match self.send(webhook, delivery, at).await {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) if (300..400).contains(&status) => (
                Some(status),
                Some(format!("answered {status}; redirects are not followed")),
            ),
            Ok(status) => (Some(status), Some(format!("answered {status}"))),
            Err(no_answer) => (None, Some(no_answer.to_string())),
        };
        let failing_since = webhook.failing_since.unwrap_or(at);
        let disable = (error.is_some()
            && at - failing_since >= Self::seconds(self.settings.webhook_disable_after_seconds))
        .then(|| {
            format!(
                "its deliveries failed for {} s without a success (last: {})",
                self.settings.webhook_disable_after_seconds,
                error.as_deref().unwrap_or_default()
            )
        });
        let backoff = self
            .settings
            .webhook_retry_base_seconds
            .saturating_mul(1u64 << delivery.attempts.clamp(0, 30))
            .min(self.settings.webhook_retry_max_seconds);
        self.store
            .record_attempt(
                delivery,
                &AttemptOutcome {
                    at,
                    response_status: response_status.map(i32::from),
                    error: error.as_deref(),
                    next_attempt_at: at + Self::seconds(backoff),
                    disable: disable.as_deref(),
                },
            )
            .await?;
        match (&error, &disable) {
            (None, _) => {
                webhook.failing_since = None;
                self.store
                    .prune_deliveries(webhook.id, self.settings.webhook_log_per_webhook)
                    .await?;
            }
            (Some(_), None) => webhook.failing_since = Some(failing_since),
            (Some(_), Some(_)) => {
                tracing::warn!(
                    webhook = webhook.id,
                    "disabled a webhook failing for too long"
                );
            }
        }
        Ok(error.is_none())
    }

    /// Sends `delivery` to `webhook`, signed at `at`; the answer's status.
    async fn send(
        &self,
        webhook: &WebhookRecord,
        delivery: &DeliveryRecord,
        at: DateTime<Utc>,
    ) -> Result<u16, NoAnswer> {
        // The address in the URL itself is never resolved: judged again here.
        let url = self.registry.targets().check_url(&webhook.url)?;
        let secret = self.registry.secrets.open(webhook).ok_or_else(|| {
            tracing::error!(
                webhook = webhook.id,
                "a webhook's secret does not open with CATALOGUE_WEBHOOK_SECRET_ENCRYPTION_KEY"
            );
            NoAnswer::Secret
        })?;
        let timestamp = at.timestamp();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Catalogue-Delivery", &delivery.delivery_id)
            .header("X-Catalogue-Timestamp", timestamp.to_string())
            .header(
                "X-Catalogue-Signature",
                signature(secret.as_bytes(), timestamp, &delivery.body),
            )
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|error| self.no_answer(webhook, &error))?;
        Ok(response.status().as_u16())
    }

    fn no_answer(&self, webhook: &WebhookRecord, error: &reqwest::Error) -> NoAnswer {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(cause) = source {
            if cause.downcast_ref::<RefusedAddress>().is_some() {
                return NoAnswer::NotPublic;
            }
            source = cause.source();
        }
        tracing::info!(webhook = webhook.id, %error, "a webhook delivery got no answer");
        if error.is_timeout() {
            NoAnswer::Timeout(self.settings.webhook_timeout_seconds)
        } else if error.is_connect() {
            NoAnswer::Connect
        } else {
            NoAnswer::Failed
        }
    }
}

/// A delivery's id: 128 random bits in hex.
fn new_delivery_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Every `webhook_poll_ms`, takes (or renews) the delivery lease and, when
/// held, serves the webhooks; gives the lease back when stopped, so another
/// replica takes over at once. Runs among `tasks`.
pub fn schedule(tasks: &BackgroundTasks, deliverer: Arc<Deliverer>) {
    if !deliverer.settings.deliver_webhooks {
        return;
    }
    let poll = Duration::from_millis(deliverer.settings.webhook_poll_ms);
    let lease = Deliverer::seconds(deliverer.settings.webhook_lease_seconds);
    let release = ReleaseOnStop {
        deliverer: Arc::clone(&deliverer),
        tasks: tasks.clone(),
    };
    tasks.spawn(async move {
        let _release = release;
        let mut failing = false;
        loop {
            tokio::time::sleep(poll).await;
            let now = Utc::now();
            let held = deliverer
                .store
                .take_lease(LEASE, &deliverer.holder, now + lease)
                .await;
            // Attempts start only in the first half of the lease, so that
            // the pass ends (at most a timeout later) before it expires.
            let outcome = match held {
                Ok(true) => deliverer.pass(now + lease / 2).await,
                Ok(false) => Ok(()),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => failing = false,
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot deliver webhooks; retried at the next poll");
                }
                Err(_) => {}
            }
        }
    });
}

/// Gives the delivery lease back when the delivering task is stopped.
struct ReleaseOnStop {
    deliverer: Arc<Deliverer>,
    tasks: BackgroundTasks,
}

impl Drop for ReleaseOnStop {
    fn drop(&mut self) {
        let deliverer = Arc::clone(&self.deliverer);
        self.tasks.spawn_to_end(async move {
            if let Err(error) = deliverer
                .store
                .release_lease(LEASE, &deliverer.holder)
                .await
            {
                tracing::warn!(%error, "cannot release the webhooks lease; it expires by itself");
            }
        });
    }
}
