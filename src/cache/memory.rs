//! The in-process store (moka), for a single gateway without Redis.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;

use bytes::Bytes;

use super::{CacheError, CacheStore, unstamped};

pub struct MemoryStore {
    generation: AtomicU64,
    entries: Cache<String, (Bytes, Duration)>,
    /// Token buckets: tokens left and when they were counted.
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Past this many buckets, full ones are forgotten (a full bucket and a
/// missing one are the same).
const MAX_BUCKETS: usize = 100_000;

/// Gives each entry the time to live it was put with.
struct PerEntryTtl;

impl moka::Expiry<String, (Bytes, Duration)> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &(Bytes, Duration),
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

impl MemoryStore {
    /// A store holding at most `max_bytes` of answers.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, value: &(Bytes, Duration)| {
                    u32::try_from(key.len() + value.0.len()).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .build(),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl CacheStore for MemoryStore {
    async fn generation(&self) -> Result<u64, CacheError> {
        Ok(self.generation.load(Ordering::Acquire))
    }

    async fn bump_generation(&self) -> Result<u64, CacheError> {
        // Older generations' answers are never served again; they are
        // replaced or age out.
        Ok(self.generation.fetch_add(1, Ordering::AcqRel) + 1)
    }

    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), CacheError> {
        let generation = self.generation.load(Ordering::Acquire);
        let answer = self
            .entries
            .get(key)
            .await
            .and_then(|(value, _)| unstamped(generation, value));
        Ok((generation, answer))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.get(key).await.map(|(value, _)| value.to_vec()))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.entries
            .insert(key.to_owned(), (Bytes::copy_from_slice(value), ttl))
            .await;
        Ok(())
    }

    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Option<Duration>, CacheError> {
        let cost = cost as f64;
        let per_second = per_minute as f64 / 60.0;
        let burst = burst.max(1) as f64;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
            // Still full: forget everyone rather than grow without bound.
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry(bucket.to_owned()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(burst);
        *at = now;
        if *tokens >= cost {
            *tokens -= cost;
            Ok(None)
        } else {
            Ok(Some(Duration::from_secs_f64((cost - *tokens) / per_second)))
        }
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn generation_source(&self) -> &'static str {
        "local"
    }
}
