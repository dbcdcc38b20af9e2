//! The Redis store, shared by every replica: keys under a configurable
//! prefix. Short timeouts: a slow Redis must cost a request little. The
//! connection is made on first use, so a gateway starts while Redis is down,
//! and the connection manager reconnects by itself afterwards.
//!
//! Answers are also kept near, in process, stamped like in Redis, and so is
//! the generation while Redis tracks it for us ([`GenerationWatch`]): a hit
//! then costs no Redis round trip. Without tracking, it costs one `GET` of
//! the generation (a few bytes) instead of the answer's bytes.

use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use bytes::Bytes;

use moka::future::Cache;

use super::generation_watch::GenerationWatch;
use super::{CacheError, CacheStore, stamped, unstamped};

/// A token bucket, atomically in Redis: refill by elapsed time (Redis's
/// clock, the same for every replica), take `cost` tokens or say how long to wait.
const TAKE_TOKEN: &str = r#"
local per_ms = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.ceil((cost - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_ms) + 1000)
return wait
"#;

/// The first value of a generation counter Redis lost: the time in µs,
/// above every generation counted before (from an earlier time, one per
/// write), so no answer kept in process before can pass for current.
fn fresh_generation() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_micros() as u64)
}

/// Least time between two attempts to make the first connection.
const CONNECT_RETRY: Duration = Duration::from_secs(1);

pub struct RedisStore {
    client: redis::Client,
    timeout: Duration,
    prefix: String,
    connection: RwLock<Option<ConnectionManager>>,
    connecting: tokio::sync::Mutex<Option<Instant>>,
    /// Stamped answers as in Redis, by key (without the prefix).
    near: Cache<String, Bytes>,
    /// Started by the first read, so that commands that only bump the
    /// generation (`import`, `harvest`) do not have Redis track it.
    watch: OnceLock<GenerationWatch>,
}

fn failed(error: redis::RedisError) -> CacheError {
    CacheError(error.to_string())
}

impl RedisStore {
    /// A store on `url` (checked now, connected on first use); keys start
    /// with `prefix` (several deployments may share one Redis). At most
    /// `near_bytes` of answers are kept in process too.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        near_bytes: u64,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(failed)?,
            watch: OnceLock::new(),
            timeout,
            prefix: prefix.to_owned(),
            connection: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(None),
            near: Cache::builder()
                .max_capacity(near_bytes)
                .weigher(|key: &String, value: &Bytes| {
                    u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
                })
                .build(),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        if let Some(connection) = self
            .connection
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(connection.clone());
        }
        let mut last_attempt = self.connecting.lock().await;
        if let Some(connection) = self
            .connection
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(connection.clone());
        }
        if last_attempt.is_some_and(|at| at.elapsed() < CONNECT_RETRY) {
            return Err(CacheError("Redis is not connected yet".into()));
        }
        *last_attempt = Some(Instant::now());
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = self
            .client
            .get_connection_manager_with_config(config)
            .await
            .map_err(failed)?;
        *self.connection.write().unwrap_or_else(|p| p.into_inner()) = Some(connection.clone());
        Ok(connection)
    }

    fn watch(&self) -> &GenerationWatch {
        self.watch.get_or_init(|| {
            GenerationWatch::start(&self.client, self.key("generation"), self.timeout)
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// `generation` as read, or, when Redis has lost it (restarted empty,
    /// evicted it), a fresh one set for every replica (the first to ask sets it).
    async fn or_fresh(
        &self,
        connection: &mut ConnectionManager,
        generation: Option<u64>,
    ) -> Result<u64, CacheError> {
        if let Some(generation) = generation {
            return Ok(generation);
        }
        let fresh = fresh_generation();
        let earlier: Option<u64> = redis::cmd("SET")
            .arg(self.key("generation"))
            .arg(fresh)
            .arg("NX")
            .arg("GET")
            .query_async(connection)
            .await
            .map_err(failed)?;
        Ok(earlier.unwrap_or(fresh))
    }
}

#[async_trait::async_trait]
impl CacheStore for RedisStore {
    /// Asks Redis (readiness wants to know that it answers).
    async fn generation(&self) -> Result<u64, CacheError> {
        let ticket = self.watch().ticket();
        let mut connection = self.connection().await?;
        let generation: Option<u64> = connection
            .get(self.key("generation"))
            .await
            .map_err(failed)?;
        let generation = self.or_fresh(&mut connection, generation).await?;
        self.watch().keep(ticket, generation);
        Ok(generation)
    }

    async fn bump_generation(&self) -> Result<u64, CacheError> {
        let key = self.key("generation");
        let bumped: Result<(u64,), _> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(fresh_generation())
            .arg("NX")
            .ignore()
            .incr(&key, 1u64)
            .query_async(&mut self.connection().await?)
            .await;
        // Even a failed bump may have been made: this replica's next reader
        // asks Redis rather than wait for the invalidation.
        if let Some(watch) = self.watch.get() {
            watch.forget();
        }
        Ok(bumped.map_err(failed)?.0)
    }

    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), CacheError> {
        if let Some(near) = self.near.get(key).await {
            let generation = match self.watch().known() {
                Some(generation) => generation,
                None => self.generation().await?,
            };
            if let Some(answer) = unstamped(generation, near) {
                return Ok((generation, Some(answer)));
            }
            // Out of date here; Redis may hold a newer one from another replica.
            self.near.invalidate(key).await;
        }
        let ticket = self.watch().ticket();
        let mut connection = self.connection().await?;
        let (generation, value): (Option<u64>, Option<Vec<u8>>) = redis::cmd("MGET")
            .arg(self.key("generation"))
            .arg(self.key(key))
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        let generation = self.or_fresh(&mut connection, generation).await?;
        self.watch().keep(ticket, generation);
        let Some(value) = value.map(Bytes::from) else {
            return Ok((generation, None));
        };
        let answer = unstamped(generation, value.clone());
        if answer.is_some() {
            self.near.insert(key.to_owned(), value).await;
        }
        Ok((generation, answer))
    }

    async fn put_answer(
        &self,
        key: &str,
        generation: u64,
        answer: &[u8],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let value = stamped(generation, answer);
        self.put(key, &value, ttl).await?;
        self.near.insert(key.to_owned(), value.into()).await;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.connection()
            .await?
            .get(self.key(key))
            .await
            .map_err(failed)
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.connection()
            .await?
            .set_ex::<_, _, ()>(self.key(key), value, ttl.as_secs().max(1))
            .await
            .map_err(failed)
    }

    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Option<Duration>, CacheError> {
        let per_ms = per_minute as f64 / 60_000.0;
        let wait_ms: u64 = redis::Script::new(TAKE_TOKEN)
            .key(self.key(bucket))
            .arg(per_ms)
            .arg(burst.max(1))
            .arg(cost)
            .invoke_async(&mut self.connection().await?)
            .await
            .map_err(failed)?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn generation_source(&self) -> &'static str {
        if self.watch.get().is_some_and(GenerationWatch::tracking) {
            "tracked"
        } else {
            "read"
        }
    }
}
