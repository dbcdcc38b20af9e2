//! What replicas share besides the database: the response cache's answers
//! and catalogue generation (read through `cache`), rate-limit buckets,
//! documents registered by clients (automatic persisted queries),
//! ProConnect's introspection answers and revoked sign-ins. Two stores behind one trait: Redis
//! when `CATALOGUE_REDIS_URL` is set, in process otherwise.
//!
//! A failing store never fails a request: its failures are counted, logged
//! once per episode and followed by a rest ([`Guarded`]); a lookup is then a
//! miss and the work is done without it. Rate-limit buckets and persisted
//! documents may live in a store of their own (a Redis that never evicts);
//! while it fails, buckets are counted in process, so limits hold on each
//! replica rather than lapse.

mod generation_watch;
mod memory;
mod redis_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;

use memory::{Buckets, Revocations};

/// Why a shared store did not answer.
#[derive(Debug, thiserror::Error)]
#[error("shared store: {0}")]
pub struct SharedStateError(pub String);

/// Which store it is, for readiness and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Redis,
    Memory,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Redis => "redis",
            StoreKind::Memory => "memory",
        }
    }
}

/// Where the catalogue generation is known from, for readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationSource {
    /// In process: the store is.
    Local,
    /// Kept in process while Redis tracks it for us.
    Tracked,
    /// Read from Redis at every request.
    Read,
}

impl GenerationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GenerationSource::Local => "local",
            GenerationSource::Tracked => "tracked",
            GenerationSource::Read => "read",
        }
    }
}

/// How much clients may have kept of the documents they register
/// (automatic persisted queries), and for how long, as
/// [`document_weight`] weighs them.
#[derive(Debug, Clone, Copy)]
pub struct DocumentBounds {
    /// Bytes of documents one client may have kept at once.
    pub client_bytes: u64,
    /// Bytes of documents kept at once, all clients together.
    pub total_bytes: u64,
    pub ttl: Duration,
}

/// What keeping a registered document takes besides its text, at most:
/// its hash (twice: by hash and in the expiry order), the map's and the
/// order's slots (the in-process store's test measures them); in Redis, its
/// key and its members in the two indexes, of the same order.
pub const DOCUMENT_BYTES: u64 = 512;

/// What a registered document counts against its bounds: its text and what
/// keeping it takes besides. Weighing the text alone let a client's 1 MiB
/// of one-line documents hold several times that.
pub fn document_weight(document: &str) -> u64 {
    document.len() as u64 + DOCUMENT_BYTES
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

/// A store replicas share: cached answers and the generation counter,
/// plain values, documents and token buckets.
#[async_trait::async_trait]
pub trait SharedStore: Send + Sync {
    /// The current catalogue generation.
    async fn generation(&self) -> Result<u64, SharedStateError>;
    /// Moves to a new generation: every answer cached before is out of date.
    async fn bump_generation(&self) -> Result<u64, SharedStateError>;
    /// The current generation and the answer kept under `key`, in one
    /// round trip; the answer is `None` unless it was kept in that generation.
    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), SharedStateError>;
    /// Keeps `answer` under `key`, stamped with the `generation` it was computed in.
    async fn put_answer(
        &self,
        key: &str,
        generation: u64,
        answer: &[u8],
        ttl: Duration,
    ) -> Result<(), SharedStateError> {
        self.put(key, &stamped(generation, answer), ttl).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedStateError>;
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedStateError>;
    /// The document registered under `hash`, while it is kept.
    async fn document(&self, hash: &str) -> Result<Option<String>, SharedStateError>;
    /// Keeps `document` under `hash` for `bounds.ttl`, counted as `client`'s,
    /// unless that would take the client's documents or all of them over
    /// their bound; a document kept already stays as it is.
    async fn register_document(
        &self,
        hash: &str,
        document: &str,
        client: &str,
        bounds: &DocumentBounds,
    ) -> Result<Registered, SharedStateError>;
    /// Takes `cost` tokens from the bucket `bucket` (refilled at
    /// `per_minute`, holding at most `burst`), all or none.
    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Draw, SharedStateError>;
    fn kind(&self) -> StoreKind;
    fn generation_source(&self) -> GenerationSource;
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

/// How long a failing store is left alone before it is tried again (and
/// how often the response cache retries a generation bump it missed).
pub const REST: Duration = Duration::from_secs(1);

/// A store whose failures are counted, logged once per episode, and
/// followed by a rest.
pub struct Guarded {
    store: Arc<dyn SharedStore>,
    degraded: AtomicBool,
    errors: AtomicU64,
    /// When the store last failed, in ms since `clock`; 0: it answers.
    failed_at_ms: AtomicU64,
    clock: Instant,
}

impl Guarded {
    fn new(store: Arc<dyn SharedStore>) -> Self {
        Self {
            store,
            degraded: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            failed_at_ms: AtomicU64::new(0),
            clock: Instant::now(),
        }
    }

    pub fn store(&self) -> &dyn SharedStore {
        &*self.store
    }

    /// The value, or `None` (counted, and logged when the store just
    /// started failing) when the store failed.
    pub fn outcome<T>(&self, result: Result<T, SharedStateError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.failed_at_ms.store(0, Ordering::Relaxed);
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        store = self.store.kind().as_str(),
                        "the store answers again"
                    );
                }
                Some(value)
            }
            Err(error) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let now = (self.clock.elapsed().as_millis() as u64).max(1);
                self.failed_at_ms.store(now, Ordering::Relaxed);
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(store = self.store.kind().as_str(), %error, "the shared store fails; answering without it, counting rate limits in process");
                }
                None
            }
        }
    }

    /// Whether the store failed less than [`REST`] ago: it is skipped, so a
    /// Redis that hangs costs one timeout per rest, not one per request.
    pub fn resting(&self) -> bool {
        let failed_at = self.failed_at_ms.load(Ordering::Relaxed);
        failed_at != 0
            && self.clock.elapsed().as_millis() as u64 - failed_at < REST.as_millis() as u64
    }
}

/// The shared stores as the gateway uses them: failures logged once per
/// episode and reported by readiness and metrics, never passed on.
#[derive(Clone)]
pub struct SharedState {
    /// Answers, the generation and introspection answers (they can be
    /// rebuilt: a store that evicts them will do).
    answers: Arc<Guarded>,
    /// Rate-limit buckets and persisted documents: `answers` unless they
    /// have a store of their own.
    state: Arc<Guarded>,
    /// Buckets counted here while `state` fails.
    local_buckets: Arc<Buckets>,
    /// Revocations this replica made, kept here too so that it refuses them
    /// even while the shared store fails; the only copy without Redis.
    local_revocations: Arc<Revocations>,
}

impl SharedState {
    pub fn new(store: Arc<dyn SharedStore>) -> Self {
        let answers = Arc::new(Guarded::new(store));
        Self {
            state: Arc::clone(&answers),
            answers,
            local_buckets: Arc::default(),
            local_revocations: Arc::default(),
        }
    }

    /// Keeps rate-limit buckets and persisted documents in `store` rather
    /// than with the answers.
    pub fn with_state_store(mut self, store: Arc<dyn SharedStore>) -> Self {
        self.state = Arc::new(Guarded::new(store));
        self
    }

    /// The store of answers and of the generation, for the response cache.
    pub fn answers(&self) -> &Arc<Guarded> {
        &self.answers
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

    /// The value kept under `key` by [`SharedState::remember`].
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

    /// Marks `key` revoked for `ttl` (until what it names expires anyway):
    /// in the store that never evicts (`state`), and in process.
    pub async fn revoke(&self, key: &str, ttl: Duration) {
        self.local_revocations.revoke(key, ttl);
        if self.state.store.kind() == StoreKind::Memory || self.state.resting() {
            return;
        }
        let result = self
            .state
            .store
            .put(
                &format!("revoked:{key}"),
                b"1",
                ttl + Duration::from_secs(1),
            )
            .await;
        self.state.outcome(result);
    }

    /// Whether `key` was revoked, by this replica or another. While the
    /// shared store fails, only this replica's revocations are seen.
    pub async fn is_revoked(&self, key: &str) -> bool {
        if self.local_revocations.contains(key) {
            return true;
        }
        if self.state.store.kind() == StoreKind::Memory || self.state.resting() {
            return false;
        }
        let result = self.state.store.get(&format!("revoked:{key}")).await;
        self.state.outcome(result).flatten().is_some()
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
}
