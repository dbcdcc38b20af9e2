//! The in-process store (moka), for a single gateway without Redis.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

use super::{CacheError, CacheStore};

pub struct MemoryStore {
    generation: AtomicU64,
    entries: Cache<String, (Vec<u8>, Duration)>,
}

/// Gives each entry the time to live it was put with.
struct PerEntryTtl;

impl moka::Expiry<String, (Vec<u8>, Duration)> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &(Vec<u8>, Duration),
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
                .weigher(|key: &String, value: &(Vec<u8>, Duration)| {
                    u32::try_from(key.len() + value.0.len()).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .build(),
        }
    }
}

#[async_trait::async_trait]
impl CacheStore for MemoryStore {
    async fn generation(&self) -> Result<u64, CacheError> {
        Ok(self.generation.load(Ordering::Acquire))
    }

    async fn bump_generation(&self) -> Result<u64, CacheError> {
        // Older generations' entries are unreachable now; drop them.
        self.entries.invalidate_all();
        Ok(self.generation.fetch_add(1, Ordering::AcqRel) + 1)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.get(key).await.map(|(value, _)| value))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.entries
            .insert(key.to_owned(), (value.to_vec(), ttl))
            .await;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
