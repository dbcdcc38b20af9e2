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
//! miss, never an error: the database answers. A write whose generation
//! bump the store missed is remembered and the bump retried until it is
//! made; until then this replica serves no cached answer.
//!
//! Rate-limit buckets and persisted documents may live in a store of their
//! own (a Redis that never evicts); while it fails, buckets are counted in
//! process, so limits hold on each replica rather than lapse.

mod generation_watch;
mod key;
mod memory;
mod redis_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use key::{Scope, cache_key, normalise};
pub use memory::MemoryStore;
pub use redis_store::RedisStore;

use memory::Buckets;

/// Why the cache store did not answer.
#[derive(Debug, thiserror::Error)]
#[error("cache: {0}")]
pub struct CacheError(pub String);

/// How much clients may have kept of the documents they register
/// (automatic persisted queries), and for how long.
#[derive(Debug, Clone, Copy)]
pub struct DocumentBounds {
    /// Bytes of documents one client may have kept at once.
    pub client_bytes: u64,
    /// Bytes of documents kept at once, all clients together.
    pub total_bytes: u64,
    pub ttl: Duration,
}

/// What became of a document offered for keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// Kept now, or already.
    Kept,
    /// Not kept: the client's documents would go over its bound.
    OverClientBound,
    /// Not kept: all documents together would go over the total bound.
    OverTotalBound,
}

/// What taking tokens from a bucket did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Tokens the bucket holds afterwards.
    pub left: f64,
    /// `Some(wait)` when there were not enough (none were taken): how long
    /// until there are.
    pub wait: Option<Duration>,
}

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
    /// The document registered under `hash`, while it is kept.
    async fn document(&self, hash: &str) -> Result<Option<String>, CacheError>;
    /// Keeps `document` under `hash` for `bounds.ttl`, counted as `client`'s,
    /// unless that would take the client's documents or all of them over
    /// their bound; a document kept already stays as it is.
    async fn register_document(
        &self,
        hash: &str,
        document: &str,
        client: &str,
        bounds: &DocumentBounds,
    ) -> Result<Registered, CacheError>;
    /// Takes `cost` tokens from the bucket `bucket` (refilled at
    /// `per_minute`, holding at most `burst`), all or none.
    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Draw, CacheError>;
    /// `redis` or `memory`, for health and metrics.
    fn kind(&self) -> &'static str;
    /// Where the generation is known from, for readiness: `local` (in
    /// process), `tracked` (kept in process while Redis tracks it) or
    /// `read` (from Redis at every request).
    fn generation_source(&self) -> &'static str;
}

/// A store whose failures are counted, logged once per episode, and
/// followed by a rest.
struct Guarded {
    store: Arc<dyn CacheStore>,
    degraded: AtomicBool,
    errors: AtomicU64,
    /// When the store last failed, in ms since `clock`; 0: it answers.
    failed_at_ms: AtomicU64,
    clock: Instant,
}

impl Guarded {
    fn new(store: Arc<dyn CacheStore>) -> Self {
        Self {
            store,
            degraded: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            failed_at_ms: AtomicU64::new(0),
            clock: Instant::now(),
        }
    }

    fn outcome<T>(&self, result: Result<T, CacheError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.failed_at_ms.store(0, Ordering::Relaxed);
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(cache = self.store.kind(), "the cache answers again");
                }
                Some(value)
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let now = (self.clock.elapsed().as_millis() as u64).max(1);
                self.failed_at_ms.store(now, Ordering::Relaxed);
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(cache = self.store.kind(), %error, "the cache fails; answering without it, counting rate limits in process");
                }
                None
            }
        }
    }

    /// Whether the store failed less than [`REST`] ago: it is skipped, so a
    /// Redis that hangs costs one timeout per rest, not one per request.
    fn resting(&self) -> bool {
        let failed_at = self.failed_at_ms.load(Ordering::Relaxed);
        failed_at != 0
            && self.clock.elapsed().as_millis() as u64 - failed_at < REST.as_millis() as u64
    }
}

/// The cache as the HTTP layer uses it: failures logged once per episode
/// and reported by readiness, never passed on.
#[derive(Clone)]
pub struct ResponseCache {
    answers: Arc<Guarded>,
    /// Rate-limit buckets and persisted documents: `answers` unless they
    /// have a store of their own.
    state: Arc<Guarded>,
    /// Buckets counted here while `state` fails.
    local_buckets: Arc<Buckets>,
    ttl: Duration,
    /// Nonzero while a bump the store missed is still to be made: the
    /// number of the latest miss.
    bump_pending: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    /// One retry of a missed bump at a time.
    bumping: Arc<tokio::sync::Mutex<()>>,
    /// Whether a task is retrying the missed bump.
    retrying: Arc<AtomicBool>,
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

/// How long a failing store is left alone before it is tried again, and
/// how often a missed bump is retried.
const REST: Duration = Duration::from_secs(1);

impl ResponseCache {
    pub fn new(store: Arc<dyn CacheStore>, ttl: Duration) -> Self {
        let answers = Arc::new(Guarded::new(store));
        Self {
            state: Arc::clone(&answers),
            answers,
            local_buckets: Arc::default(),
            ttl,
            bump_pending: Arc::default(),
            misses: Arc::default(),
            bumping: Arc::default(),
            retrying: Arc::default(),
        }
    }

    /// Keeps rate-limit buckets and persisted documents in `store` rather
    /// than with the answers.
    pub fn with_state_store(mut self, store: Arc<dyn CacheStore>) -> Self {
        self.state = Arc::new(Guarded::new(store));
        self
    }

    pub fn kind(&self) -> &'static str {
        self.answers.store.kind()
    }

    pub fn generation_source(&self) -> &'static str {
        self.answers.store.generation_source()
    }

    /// How many times the stores failed.
    pub fn errors(&self) -> u64 {
        let answers = self.answers.errors.load(Ordering::Relaxed);
        if Arc::ptr_eq(&self.answers, &self.state) {
            answers
        } else {
            answers + self.state.errors.load(Ordering::Relaxed)
        }
    }

    /// The current generation, or `None` when the store cannot say.
    pub async fn generation(&self) -> Option<u64> {
        if self.answers.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.answers.store.generation().await;
        self.answers.outcome(result)
    }

    /// Makes the bump the store missed, if any; false while it is still to be made.
    async fn make_pending_bump(&self) -> bool {
        let missed = self.bump_pending.load(Ordering::Acquire);
        if missed == 0 {
            return true;
        }
        let Ok(_one_bump) = self.bumping.try_lock() else {
            return false;
        };
        let result = self.answers.store.bump_generation().await;
        if self.answers.outcome(result).is_some() {
            // A miss since this bump started may be of a write it came before.
            let _ =
                self.bump_pending
                    .compare_exchange(missed, 0, Ordering::AcqRel, Ordering::Acquire);
        }
        self.bump_pending.load(Ordering::Acquire) == 0
    }

    /// Marks every cached answer out of date (after a write); when the store
    /// misses it, the bump is retried until it is made, and until then this
    /// replica serves no cached answer.
    pub async fn bump_generation(&self) {
        let missed = self.bump_pending.load(Ordering::Acquire);
        let result = self.answers.store.bump_generation().await;
        if self.answers.outcome(result).is_some() {
            // Made after the writes whose bumps were missed: it covers them.
            if missed != 0 {
                let _ = self.bump_pending.compare_exchange(
                    missed,
                    0,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        } else {
            self.remember_missed_bump();
        }
    }

    /// Remembers a missed bump and has a task retry it (one task at a
    /// time) every [`REST`] until it is made: other replicas learn of the
    /// write as soon as the store answers again, whether this one serves
    /// requests or not.
    fn remember_missed_bump(&self) {
        let miss = self.misses.fetch_add(1, Ordering::AcqRel) + 1;
        self.bump_pending.store(miss, Ordering::Release);
        if self.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REST).await;
                if cache.make_pending_bump().await {
                    cache.retrying.store(false, Ordering::Release);
                    // A miss that came meanwhile saw this task running: it is still ours.
                    if cache.bump_pending.load(Ordering::Acquire) == 0
                        || cache.retrying.swap(true, Ordering::AcqRel)
                    {
                        break;
                    }
                }
            }
        });
    }

    /// The value kept under `key` by [`ResponseCache::remember`].
    pub async fn recall(&self, key: &str) -> Option<Vec<u8>> {
        if self.answers.resting() {
            return None;
        }
        let result = self.answers.store.get(key).await;
        self.answers.outcome(result).flatten()
    }

    /// Keeps `value` under `key` for `ttl`, outside the answers' generations
    /// (introspection answers).
    pub async fn remember(&self, key: &str, value: &[u8], ttl: Duration) {
        if self.answers.resting() {
            return;
        }
        let result = self.answers.store.put(key, value, ttl).await;
        self.answers.outcome(result);
    }

    /// The document registered (automatic persisted queries) under `hash`.
    pub async fn document(&self, hash: &str) -> Option<String> {
        if self.state.resting() {
            return None;
        }
        let result = self.state.store.document(hash).await;
        self.state.outcome(result).flatten()
    }

    /// Registers `document` under its `hash` for `client`, within `bounds`;
    /// `None` when the store cannot keep it now.
    pub async fn register_document(
        &self,
        hash: &str,
        document: &str,
        client: &str,
        bounds: &DocumentBounds,
    ) -> Option<Registered> {
        if self.state.resting() {
            return None;
        }
        let result = self
            .state
            .store
            .register_document(hash, document, client, bounds)
            .await;
        self.state.outcome(result)
    }

    /// Takes `cost` tokens from `bucket`, all or none. While the store
    /// fails (down, or full and refusing writes), the bucket is counted in
    /// process: limits hold on each replica.
    pub async fn take_tokens(&self, bucket: &str, cost: u64, per_minute: u64, burst: u64) -> Draw {
        let bucket = format!("rate:{bucket}");
        if !self.state.resting() {
            let result = self
                .state
                .store
                .take_tokens(&bucket, cost, per_minute, burst)
                .await;
            if let Some(draw) = self.state.outcome(result) {
                return draw;
            }
        }
        self.local_buckets.take(&bucket, cost, per_minute, burst)
    }

    /// The answer kept under `key` in the current generation, or the
    /// generation to keep a new one in; `None` when the store cannot say.
    pub async fn answer(&self, key: &str) -> Option<Lookup> {
        if self.answers.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.answers.store.answer(&format!("answer:{key}")).await;
        let (generation, answer) = self.answers.outcome(result)?;
        Some(match answer {
            Some(answer) => Lookup::Hit(answer),
            None => Lookup::Miss { generation },
        })
    }

    /// Keeps `answer` under `key`, computed in `generation`.
    pub async fn put(&self, key: &str, generation: u64, answer: &[u8]) {
        let result = self
            .answers
            .store
            .put_answer(&format!("answer:{key}"), generation, answer, self.ttl)
            .await;
        self.answers.outcome(result);
    }
}
