//! The response cache: answers to read-only GraphQL requests, keyed by what
//! decides them (normalised document, operation name, variables, the
//! reader's visibility scope) and by the catalogue generation, which every
//! write bumps so that every replica stops serving older answers at once.
//!
//! Two stores behind one trait: Redis when `CATALOGUE_REDIS_URL` is set
//! (shared by replicas), in-process otherwise. A failing store is a cache
//! miss, never an error: the database answers.

mod key;
mod memory;
mod redis_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub use key::{Scope, cache_key, normalise};
pub use memory::MemoryStore;
pub use redis_store::RedisStore;

/// Why the cache store did not answer.
#[derive(Debug, thiserror::Error)]
#[error("cache: {0}")]
pub struct CacheError(pub String);

/// Where cached answers and the generation counter live.
#[async_trait::async_trait]
pub trait CacheStore: Send + Sync {
    /// The current catalogue generation.
    async fn generation(&self) -> Result<u64, CacheError>;
    /// Moves to a new generation: every answer cached before is out of date.
    async fn bump_generation(&self) -> Result<u64, CacheError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Takes `cost` tokens from the bucket `bucket` (refilled at
    /// `per_minute`, holding at most `burst`), all or none: `Ok(None)` when
    /// there were enough, else how long until there are.
    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Option<Duration>, CacheError>;
    /// `redis` or `memory`, for health and metrics.
    fn kind(&self) -> &'static str;
}

/// The cache as the HTTP layer uses it: failures logged once per episode
/// and reported by readiness, never passed on.
#[derive(Clone)]
pub struct ResponseCache {
    store: Arc<dyn CacheStore>,
    ttl: Duration,
    degraded: Arc<AtomicBool>,
    bump_pending: Arc<AtomicBool>,
    errors: Arc<AtomicU64>,
    /// When the store last failed, in ms since `clock`; 0: it answers.
    failed_at_ms: Arc<AtomicU64>,
    clock: std::time::Instant,
}

/// How long a failing store is left alone before it is tried again.
const REST: Duration = Duration::from_secs(1);

impl ResponseCache {
    pub fn new(store: Arc<dyn CacheStore>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            degraded: Arc::new(AtomicBool::new(false)),
            bump_pending: Arc::new(AtomicBool::new(false)),
            errors: Arc::default(),
            failed_at_ms: Arc::default(),
            clock: std::time::Instant::now(),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.store.kind()
    }

    /// How many times the store failed.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn outcome<T>(&self, result: Result<T, CacheError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.failed_at_ms.store(0, Ordering::Relaxed);
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(cache = self.kind(), "the cache answers again");
                }
                Some(value)
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let now = (self.clock.elapsed().as_millis() as u64).max(1);
                self.failed_at_ms.store(now, Ordering::Relaxed);
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(cache = self.kind(), %error, "the cache fails; answering from the database");
                }
                None
            }
        }
    }

    /// The current generation, or `None` when the store cannot say. A bump
    /// the store missed (it was down during a write) is made first.
    pub async fn generation(&self) -> Option<u64> {
        if self.resting() {
            return None;
        }
        if self.bump_pending.swap(false, Ordering::AcqRel) {
            let result = self.store.bump_generation().await;
            let bumped = self.outcome(result);
            if bumped.is_none() {
                self.bump_pending.store(true, Ordering::Release);
            }
            return bumped;
        }
        let result = self.store.generation().await;
        self.outcome(result)
    }

    /// Marks every cached answer out of date (after a write); when the store
    /// is down, the bump is made as soon as it answers again.
    pub async fn bump_generation(&self) {
        let result = self.store.bump_generation().await;
        if self.outcome(result).is_none() {
            self.bump_pending.store(true, Ordering::Release);
        }
    }

    /// Whether the store failed less than [`REST`] ago: it is skipped, so a
    /// Redis that hangs costs one timeout per rest, not one per request.
    fn resting(&self) -> bool {
        let failed_at = self.failed_at_ms.load(Ordering::Relaxed);
        failed_at != 0
            && self.clock.elapsed().as_millis() as u64 - failed_at < REST.as_millis() as u64
    }

    /// The value kept under `key` by [`ResponseCache::remember`].
    pub async fn recall(&self, key: &str) -> Option<Vec<u8>> {
        if self.resting() {
            return None;
        }
        let result = self.store.get(key).await;
        self.outcome(result).flatten()
    }

    /// Keeps `value` under `key` for `ttl`, outside the answers' generations
    /// (persisted documents, introspection answers).
    pub async fn remember(&self, key: &str, value: &[u8], ttl: Duration) {
        if self.resting() {
            return;
        }
        let result = self.store.put(key, value, ttl).await;
        self.outcome(result);
    }

    /// The document registered (automatic persisted queries) under `hash`.
    pub async fn document(&self, hash: &str) -> Option<String> {
        self.recall(&format!("document:{hash}"))
            .await
            .and_then(|bytes| String::from_utf8(bytes).ok())
    }

    /// Registers `document` under its `hash` for `ttl`.
    pub async fn remember_document(&self, hash: &str, document: &str, ttl: Duration) {
        self.remember(&format!("document:{hash}"), document.as_bytes(), ttl)
            .await;
    }

    /// Takes `cost` tokens from `bucket`; `Some(wait)` when there are not
    /// enough. A cache that does not answer lets the request through.
    pub async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Option<Duration> {
        if self.resting() {
            return None;
        }
        let result = self
            .store
            .take_tokens(&format!("rate:{bucket}"), cost, per_minute, burst)
            .await;
        self.outcome(result).flatten()
    }

    /// The cached answer under `key`.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if self.resting() {
            return None;
        }
        let result = self.store.get(&format!("answer:{key}")).await;
        self.outcome(result).flatten()
    }

    pub async fn put(&self, key: &str, value: &[u8]) {
        let result = self
            .store
            .put(&format!("answer:{key}"), value, self.ttl)
            .await;
        self.outcome(result);
    }
}
