//! The in-process store (moka), for a single gateway without Redis; and the
//! in-process token buckets that also stand in for Redis's while it fails.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::future::Cache;

use bytes::Bytes;

use super::{
    DocumentBounds, Draw, GenerationSource, Registered, SharedStateError, SharedStore, StoreKind,
    document_weight, unstamped,
};
use crate::kept_entry;

pub struct MemoryStore {
    generation: AtomicU64,
    entries: Cache<String, (Bytes, Duration)>,
    buckets: Buckets,
    documents: Mutex<Documents>,
}

/// Token buckets: tokens left and when they were counted.
#[derive(Default)]
pub struct Buckets(Mutex<HashMap<String, (f64, Instant)>>);

/// Past this many buckets, full ones are forgotten (a full bucket and a
/// missing one are the same).
const MAX_BUCKETS: usize = 100_000;

impl Buckets {
    /// Takes `cost` tokens from `bucket` (refilled at `per_minute`, holding
    /// at most `burst`), all or none.
    pub fn take(&self, bucket: &str, cost: u64, per_minute: u64, burst: u64) -> Draw {
        let cost = cost as f64;
        let per_second = per_minute as f64 / 60.0;
        let burst = burst.max(1) as f64;
        let now = Instant::now();
        let mut buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
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
        let wait = if *tokens >= cost {
            *tokens -= cost;
            None
        } else {
            Some(Duration::from_secs_f64((cost - *tokens) / per_second))
        };
        Draw {
            left: *tokens,
            wait,
        }
    }
}

/// Revoked keys and when each stops mattering. Pruned as entries are added:
/// an entry lives until what it names would have expired anyway, so the map
/// holds at most the revocations of one token lifetime.
#[derive(Default)]
pub struct Revocations(Mutex<HashMap<String, Instant>>);

impl Revocations {
    pub fn revoke(&self, key: &str, ttl: Duration) {
        let now = Instant::now();
        let mut revoked = self.0.lock().unwrap_or_else(|p| p.into_inner());
        revoked.retain(|_, until| *until > now);
        revoked.insert(key.to_owned(), now + ttl);
    }

    pub fn contains(&self, key: &str) -> bool {
        let revoked = self.0.lock().unwrap_or_else(|p| p.into_inner());
        revoked
            .get(key)
            .is_some_and(|until| *until > Instant::now())
    }
}

/// Documents registered by clients (automatic persisted queries), with
/// what each client and all of them keep, as `document_weight` weighs them.
#[derive(Default)]
struct Documents {
    kept: HashMap<String, KeptDocument>,
    /// When each document stops being kept, soonest first.
    expiries: BTreeSet<(Instant, String)>,
    bytes: u64,
    by_client: HashMap<Arc<str>, u64>,
}

struct KeptDocument {
    text: String,
    /// The key of `by_client`, shared: a client's name is kept once.
    client: Arc<str>,
    until: Instant,
}

impl Documents {
    fn forget_expired(&mut self, now: Instant) {
        while let Some((until, hash)) = self.expiries.first().cloned() {
            if until > now {
                break;
            }
            self.expiries.pop_first();
            let Some(document) = self.kept.remove(&hash) else {
                continue;
            };
            let size = document_weight(&document.text);
            self.bytes -= size;
            if let Some(bytes) = self.by_client.get_mut(&document.client) {
                *bytes -= size;
                if *bytes == 0 {
                    self.by_client.remove(&document.client);
                }
            }
        }
    }
}

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
                    kept_entry::weight::<String, (Bytes, Duration)>(key.len() + value.0.len())
                })
                .expire_after(PerEntryTtl)
                .build(),
            buckets: Buckets::default(),
            documents: Mutex::default(),
        }
    }
}

#[async_trait::async_trait]
impl SharedStore for MemoryStore {
    async fn generation(&self) -> Result<u64, SharedStateError> {
        Ok(self.generation.load(Ordering::Acquire))
    }

    async fn bump_generation(&self) -> Result<u64, SharedStateError> {
        // Older generations' answers are never served again; they are
        // replaced or age out.
        Ok(self.generation.fetch_add(1, Ordering::AcqRel) + 1)
    }

    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), SharedStateError> {
        let generation = self.generation.load(Ordering::Acquire);
        let answer = self
            .entries
            .get(key)
            .await
            .and_then(|(value, _)| unstamped(generation, value));
        Ok((generation, answer))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedStateError> {
        Ok(self.entries.get(key).await.map(|(value, _)| value.to_vec()))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedStateError> {
        self.entries
            .insert(key.to_owned(), (Bytes::copy_from_slice(value), ttl))
            .await;
        Ok(())
    }

    async fn document(&self, hash: &str) -> Result<Option<String>, SharedStateError> {
        let documents = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        Ok(documents
            .kept
            .get(hash)
            .filter(|document| document.until > Instant::now())
            .map(|document| document.text.clone()))
    }

    async fn register_document(
        &self,
        hash: &str,
        document: &str,
        client: &str,
        bounds: &DocumentBounds,
    ) -> Result<Registered, SharedStateError> {
        let now = Instant::now();
        let mut documents = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        documents.forget_expired(now);
        if documents.kept.contains_key(hash) {
            return Ok(Registered::Kept);
        }
        let size = document_weight(document);
        let client_bytes = documents.by_client.get(client).copied().unwrap_or(0);
        if client_bytes + size > bounds.client_bytes {
            return Ok(Registered::OverClientBound);
        }
        if documents.bytes + size > bounds.total_bytes {
            return Ok(Registered::OverTotalBound);
        }
        let until = now + bounds.ttl;
        let client = match documents.by_client.get_key_value(client) {
            Some((name, _)) => Arc::clone(name),
            None => Arc::from(client),
        };
        documents.kept.insert(
            hash.to_owned(),
            KeptDocument {
                text: document.to_owned(),
                client: Arc::clone(&client),
                until,
            },
        );
        documents.expiries.insert((until, hash.to_owned()));
        documents.bytes += size;
        *documents.by_client.entry(client).or_insert(0) += size;
        Ok(Registered::Kept)
    }

    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Draw, SharedStateError> {
        Ok(self.buckets.take(bucket, cost, per_minute, burst))
    }

    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    fn generation_source(&self) -> GenerationSource {
        GenerationSource::Local
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{DocumentBounds, MemoryStore, Registered, SharedStore, document_weight};
    use crate::heap_count::live;

    /// One-line documents, the most entries per byte of text.
    #[tokio::test(flavor = "current_thread")]
    async fn kept_documents_take_at_most_what_they_weigh() {
        let bounds = DocumentBounds {
            client_bytes: u64::MAX,
            total_bytes: u64::MAX,
            ttl: Duration::from_secs(3600),
        };
        for count in [1_000, 20_000, 70_000] {
            let store = MemoryStore::new(1024);
            let before = live();
            let mut weighed = 0;
            for n in 0..count {
                let document = format!("{{a{n}}}");
                let hash = format!("{n:064x}");
                let client = format!("198.51.100.{}", n % 7);
                let registered = store
                    .register_document(&hash, &document, &client, &bounds)
                    .await
                    .unwrap();
                assert_eq!(registered, Registered::Kept);
                weighed += document_weight(&document);
            }
            let held = u64::try_from(live() - before).unwrap();
            eprintln!(
                "{count} documents: {} bytes held each, {} weighed",
                held / count,
                weighed / count
            );
            assert!(weighed >= held, "{count}: weighed {weighed}, hold {held}");
        }
    }

    /// Small answers under the store's keys, the most entries per byte.
    #[tokio::test(flavor = "current_thread")]
    async fn the_answers_take_at_most_what_they_weigh() {
        for count in [1_000, 20_000, 70_000] {
            let store = MemoryStore::new(u64::MAX);
            let before = live();
            for n in 0..count {
                let key = format!("catalogue:answer:public:{n:064x}");
                store
                    .put(&key, &[b'x'; 100], Duration::from_secs(300))
                    .await
                    .unwrap();
            }
            store.entries.run_pending_tasks().await;
            let held = u64::try_from(live() - before).unwrap();
            let weighed = store.entries.weighted_size();
            assert!(weighed >= held, "{count}: weighed {weighed}, hold {held}");
        }
    }
}
