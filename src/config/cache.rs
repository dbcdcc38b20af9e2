//! The response cache's settings: Redis (one for answers, optionally one
//! that never evicts for shared state), and how long and how much is kept.

use super::ConfigError;
use super::values::{Secret, bytes, flag, milliseconds, redact_password, seconds, secret, text};

section! {
    /// The response cache and the Redis behind it.
    pub struct Cache in cache {
        /// `redis://…`: the response cache shared by every replica; unset: in-process.
        redis_url: Option<Secret> = None => secret,
        /// `redis://…` of a Redis that never evicts (`noeviction`), for rate-limit
        /// buckets and persisted queries, apart from answers an LRU Redis may
        /// evict; unset: `redis_url`'s.
        redis_state_url: Option<Secret> = None => secret,
        /// Prefix of the gateway's Redis keys (deployments may share a Redis).
        redis_prefix: String = "catalogue:".to_owned() => text,
        /// How long Redis may take to answer before the cache is skipped, in milliseconds.
        redis_timeout_ms: u64 = 250 => milliseconds,
        /// Whether answers are kept in the response cache (off: every request
        /// reaches the database; for diagnosis and benchmarks).
        cache_answers: bool = true => flag,
        /// How long an answer stays in the response cache, in seconds.
        cache_ttl_seconds: u64 = 300 => seconds,
        /// Size of the in-process response cache (with Redis: of the answers
        /// also kept in process), in bytes.
        cache_memory_bytes: u64 = 64 * 1024 * 1024 => bytes,
        /// With Redis: how long an answer kept in process is served before
        /// Redis's copy is read again, in seconds (bounds how long a write whose
        /// generation bump reached no replica can go unseen).
        cache_memory_max_age_seconds: u64 = 60 => seconds,
    }
}

impl Cache {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (name, url) in [
            ("redis_url", &self.redis_url),
            ("redis_state_url", &self.redis_state_url),
        ] {
            if let Some(url) = url
                && !(url.expose().starts_with("redis://") || url.expose().starts_with("rediss://"))
            {
                return Err(ConfigError::Conflict(format!(
                    "{name} `{}` is neither redis://… nor rediss://…",
                    redact_password(url.expose())
                )));
            }
        }
        if self.redis_state_url.is_some() && self.redis_url.is_none() {
            return Err(ConfigError::Conflict(
                "redis_state_url is set without redis_url: set CATALOGUE_REDIS_URL too (answers are cached there)".into(),
            ));
        }
        if self.cache_ttl_seconds == 0 || self.cache_memory_max_age_seconds == 0 {
            return Err(ConfigError::Conflict(
                "cache_ttl_seconds and cache_memory_max_age_seconds must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
