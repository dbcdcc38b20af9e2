//! Webhooks: how many each owner may register, how large their secrets and
//! filters may be, how deliveries are retried, when a failing endpoint is
//! disabled, and how much of the delivery log is kept.

use super::ConfigError;
use super::values::{EncryptionKey, bytes, count, encryption_key, flag, milliseconds, seconds};

section! {
    /// Webhooks and their deliveries.
    pub struct Webhooks in webhooks {
        /// Whether this replica takes part in delivering (one replica delivers at
        /// a time, holding the `webhooks` lease); off: it only serves the API.
        deliver_webhooks: bool = true => flag,
        /// Webhooks one principal (token `sub`) may have registered at once.
        webhooks_per_owner: u64 = 10 => count,
        /// Shortest webhook secret accepted, in bytes.
        webhook_secret_min_bytes: usize = 16 => bytes,
        /// Longest webhook secret accepted, in bytes.
        webhook_secret_max_bytes: usize = 256 => bytes,
        /// Largest webhook filter accepted (its JSON), in bytes.
        webhook_filter_max_bytes: usize = 2048 => bytes,
        /// Deliveries kept in each webhook's log; older ones are pruned.
        webhook_log_per_webhook: u64 = 200 => count,
        /// Time a receiver may take to answer a delivery, in seconds.
        webhook_timeout_seconds: u64 = 10 => seconds,
        /// Wait before the first retry of a failed delivery, in seconds; it
        /// doubles at each failure.
        webhook_retry_base_seconds: u64 = 10 => seconds,
        /// Longest wait between two attempts of a delivery, in seconds.
        webhook_retry_max_seconds: u64 = 3600 => seconds,
        /// A webhook whose deliveries have failed for this long without a
        /// success in between is disabled, in seconds.
        webhook_disable_after_seconds: u64 = 24 * 3600 => seconds,
        /// How often the delivering replica looks for changes and due retries, in milliseconds.
        webhook_poll_ms: u64 = 1000 => milliseconds,
        /// How long the delivery lease lasts unless renewed, in seconds: another
        /// replica takes over this long after the holder died.
        webhook_lease_seconds: u64 = 60 => seconds,
        /// Accept `http://` targets and loopback addresses (tests and development
        /// only; private and link-local addresses stay refused).
        webhook_allow_local_http: bool = false => flag,
        /// Encrypts webhook secrets in the database (base64 of 32 bytes); unset:
        /// they are kept in plain text, with a warning at start.
        webhook_secret_encryption_key: Option<EncryptionKey> = None => encryption_key,
    }
}

impl Webhooks {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.webhook_secret_min_bytes == 0
            || self.webhook_secret_min_bytes > self.webhook_secret_max_bytes
        {
            return Err(ConfigError::Conflict(format!(
                "webhook_secret_min_bytes = {} must be at least 1 and at most webhook_secret_max_bytes = {}",
                self.webhook_secret_min_bytes, self.webhook_secret_max_bytes
            )));
        }
        if self.webhook_log_per_webhook == 0 {
            return Err(ConfigError::Conflict(
                "webhook_log_per_webhook = 0 would keep no delivery, not even the one in flight; use at least 1".into(),
            ));
        }
        if self.webhook_poll_ms == 0
            || self.webhook_timeout_seconds == 0
            || self.webhook_lease_seconds == 0
        {
            return Err(ConfigError::Conflict(
                "webhook_poll_ms, webhook_timeout_seconds and webhook_lease_seconds must be at least 1".into(),
            ));
        }
        if self.webhook_lease_seconds * 1000 <= 2 * self.webhook_poll_ms {
            return Err(ConfigError::Conflict(format!(
                "webhook_lease_seconds = {} must last more than two polls (webhook_poll_ms = {}): the holder renews it at each poll",
                self.webhook_lease_seconds, self.webhook_poll_ms
            )));
        }
        if self.webhook_lease_seconds <= 2 * self.webhook_timeout_seconds {
            return Err(ConfigError::Conflict(format!(
                "webhook_lease_seconds = {} must exceed twice webhook_timeout_seconds = {}: a delivery started in the first half of the lease ends before it expires",
                self.webhook_lease_seconds, self.webhook_timeout_seconds
            )));
        }
        if self.webhook_retry_base_seconds > self.webhook_retry_max_seconds {
            return Err(ConfigError::Conflict(
                "webhook_retry_base_seconds must not exceed webhook_retry_max_seconds".into(),
            ));
        }
        Ok(())
    }
}
