//! Webhooks: other administrations' tools register an HTTPS endpoint and a
//! secret, and hear of each catalogue change their owner may read, signed,
//! in the journal's order, at least once (see
//! docs/decisions/0025-webhook-deliveries.md).
//!
//! [`Registry`] registers them within the operator's bounds and keeps their
//! secrets; [`delivery`] delivers, one replica at a time.

mod body;
pub mod delivery;
mod filter;
mod signature;
mod target;

use chrono::Utc;

use crate::auth::signing_keys::{SealingKey, is_sealed};
use crate::catalogue::Audience;
use crate::config;
use crate::store::{NewWebhook, Store, StoreError, WebhookRecord};
pub use filter::{UnreadableFilter, WebhookFilter};
pub use signature::signature;
pub use target::{TargetPolicy, TargetRefusal};

/// Who registers a webhook: the token's subject, and what they may read now.
pub struct Owner<'a> {
    pub sub: &'a str,
    pub audience: Audience,
}

/// A webhook to register, its target not checked yet.
pub struct Registration<'a> {
    pub url: &'a str,
    pub filter: WebhookFilter,
    pub secret: &'a str,
}

/// Why a registration is refused; each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("{0}")]
    Target(#[from] TargetRefusal),
    #[error("the secret must be {min} to {max} bytes long")]
    SecretLength { min: usize, max: usize },
    #[error("the filter is larger than {max} bytes")]
    FilterTooLarge { max: usize },
    #[error("you already have {limit} webhooks, as many as one may register; delete one first")]
    TooMany { limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers webhooks and keeps their secrets.
pub struct Registry {
    store: Store,
    settings: config::Webhooks,
    secrets: Secrets,
}

impl Registry {
    pub fn new(settings: &config::Webhooks, store: Store) -> Self {
        if settings.webhook_secret_encryption_key.is_none() {
            tracing::warn!(
                "webhook secrets are kept unencrypted in the database: anyone who reads it can sign deliveries; \
                 set CATALOGUE_WEBHOOK_SECRET_ENCRYPTION_KEY"
            );
        }
        Self {
            store,
            secrets: Secrets(
                settings
                    .webhook_secret_encryption_key
                    .as_ref()
                    .map(SealingKey::new),
            ),
            settings: settings.clone(),
        }
    }

    /// The targets the operator allows.
    pub fn targets(&self) -> TargetPolicy {
        TargetPolicy {
            allow_local_http: self.settings.webhook_allow_local_http,
        }
    }

    /// Registers a webhook for `owner`; it hears of changes committed from now on.
    pub async fn register(
        &self,
        owner: &Owner<'_>,
        registration: Registration<'_>,
    ) -> Result<WebhookRecord, RegistrationError> {
        let (min, max) = (
            self.settings.webhook_secret_min_bytes,
            self.settings.webhook_secret_max_bytes,
        );
        if !(min..=max).contains(&registration.secret.len()) {
            return Err(RegistrationError::SecretLength { min, max });
        }
        let filter = registration.filter.to_json();
        if filter.len() > self.settings.webhook_filter_max_bytes {
            return Err(RegistrationError::FilterTooLarge {
                max: self.settings.webhook_filter_max_bytes,
            });
        }
        let url = self.targets().check(registration.url).await?;
        let limit = self.settings.webhooks_per_owner;
        let position = self.store.feed_head(Audience::Agents).await?.ordinal;
        let record = self
            .store
            .create_webhook(
                &NewWebhook {
                    owner_sub: owner.sub,
                    audience: owner.audience,
                    url: url.as_str(),
                    filter: &filter,
                    secret: &self
                        .secrets
                        .seal(owner.sub, url.as_str(), registration.secret),
                    position,
                    at: Utc::now(),
                },
                limit,
            )
            .await?;
        record.ok_or(RegistrationError::TooMany { limit })
    }
}

/// Marks a secret kept in plain text (no key configured when it was registered).
const PLAIN_PREFIX: &str = "plain:";

/// Keeps secrets sealed when the operator gave a key. A secret is bound to
/// its owner and target: moved to another webhook's row, it does not open.
struct Secrets(Option<SealingKey>);

impl Secrets {
    fn seal(&self, owner_sub: &str, url: &str, secret: &str) -> String {
        match &self.0 {
            Some(key) => key.seal(&Self::binding(owner_sub, url), secret),
            None => format!("{PLAIN_PREFIX}{secret}"),
        }
    }

    /// The secret of `webhook`, or `None` when it is sealed by another key
    /// (or none is configured any more).
    fn open(&self, webhook: &WebhookRecord) -> Option<String> {
        if let Some(plain) = webhook.secret.strip_prefix(PLAIN_PREFIX) {
            return Some(plain.to_owned());
        }
        if !is_sealed(&webhook.secret) {
            return None;
        }
        self.0.as_ref()?.open(
            &Self::binding(&webhook.owner_sub, &webhook.url),
            &webhook.secret,
        )
    }

    fn binding(owner_sub: &str, url: &str) -> String {
        format!("webhook\n{owner_sub}\n{url}")
    }
}
