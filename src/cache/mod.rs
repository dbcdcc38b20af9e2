//! The response cache: answers to read-only GraphQL requests, keyed by what
//! decides them (normalised document, operation name, variables, the
//! reader's visibility scope) and stamped with the catalogue generation they
//! were computed in, which every write bumps so that every replica stops
//! serving older answers (the writer before it answers, the others as soon
//! as Redis's invalidation reaches them). The generation and the answer are read
//! together: at most one round trip per cached answer (none while Redis
//! tracks the generation for us).
//!
//! Two stores behind one trait: Redis when `CATALOGUE_REDIS_URL` is set
//! (shared by replicas), in-process otherwise. A failing store is a cache
//! miss, never an error: the database answers.

mod generation_watch;
mod key;
mod memory;
mod redis_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

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
    /// The current generation and the answer kept under `key`, in one
    /// round trip; the answer is `None` unless it was kept in that generation.
    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), CacheError>;
    /// Keeps `answer` under `key`, stamped with the `generation` it was computed in.
    async fn put_answer(
        &self,
        key: &str,
        generation: u64,
        answer: &[u8],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.put(key, &stamped(generation, answer), ttl).await
    }
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
    /// Where the generation is known from, for readiness: `local` (in
    /// process), `tracked` (kept in process while Redis tracks it) or
    /// `read` (from Redis at every request).
    fn generation_source(&self) -> &'static str;
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

/// What the cache holds for a request.
pub enum Lookup {
    /// The answer, computed in the current generation.
    Hit(Bytes),
    /// None yet: compute it, and keep it stamped with `generation`.
    Miss { generation: u64 },
}

/// An answer as stores keep it: the generation it was computed in (8 bytes,
/// little-endian), then the answer.
fn stamped(generation: u64, answer: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + answer.len());
    value.extend_from_slice(&generation.to_le_bytes());
    value.extend_from_slice(answer);
    value
}

/// The answer in a stamped `value` if it was computed in `generation`
/// (a view of `value`, not a copy).
fn unstamped(generation: u64, value: Bytes) -> Option<Bytes> {
    let stamp: [u8; 8] = value.get(..8)?.try_into().ok()?;
    (u64::from_le_bytes(stamp) == generation).then(|| value.slice(8..))
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

    pub fn generation_source(&self) -> &'static str {
        self.store.generation_source()
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

    /// The current generation, or `None` when the store cannot say.
    pub async fn generation(&self) -> Option<u64> {
        if self.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.store.generation().await;
        self.outcome(result)
    }

    /// Makes the bump the store missed (it was down during a write), if
    /// any; false when the store still fails.
    async fn make_pending_bump(&self) -> bool {
        if !self.bump_pending.swap(false, Ordering::AcqRel) {
            return true;
        }
        let result = self.store.bump_generation().await;
        let bumped = self.outcome(result).is_some();
        if !bumped {
            self.bump_pending.store(true, Ordering::Release);
        }
        bumped
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

    /// The answer kept under `key` in the current generation, or the
    /// generation to keep a new one in; `None` when the store cannot say.
    pub async fn answer(&self, key: &str) -> Option<Lookup> {
        if self.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.store.answer(&format!("answer:{key}")).await;
        let (generation, answer) = self.outcome(result)?;
        Some(match answer {
            Some(answer) => Lookup::Hit(answer),
            None => Lookup::Miss { generation },
        })
    }

    /// Keeps `answer` under `key`, computed in `generation`.
    pub async fn put(&self, key: &str, generation: u64, answer: &[u8]) {
        let result = self
            .store
            .put_answer(&format!("answer:{key}"), generation, answer, self.ttl)
            .await;
        self.outcome(result);
    }
}
