//! The Redis store, shared by every replica: keys under a configurable
//! prefix. Short timeouts: a slow Redis must cost a request little. The
//! connection is made on first use, so a gateway starts while Redis is down,
//! and the connection manager reconnects by itself afterwards.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use bytes::Bytes;

use super::{CacheError, CacheStore, unstamped};

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

/// Least time between two attempts to make the first connection.
const CONNECT_RETRY: Duration = Duration::from_secs(1);

pub struct RedisStore {
    client: redis::Client,
    timeout: Duration,
    prefix: String,
    connection: RwLock<Option<ConnectionManager>>,
    connecting: tokio::sync::Mutex<Option<Instant>>,
}

fn failed(error: redis::RedisError) -> CacheError {
    CacheError(error.to_string())
}

impl RedisStore {
    /// A store on `url` (checked now, connected on first use); keys start
    /// with `prefix` (several deployments may share one Redis).
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(failed)?,
            timeout,
            prefix: prefix.to_owned(),
            connection: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(None),
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

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait::async_trait]
impl CacheStore for RedisStore {
    async fn generation(&self) -> Result<u64, CacheError> {
        let generation: Option<u64> = self
            .connection()
            .await?
            .get(self.key("generation"))
            .await
            .map_err(failed)?;
        Ok(generation.unwrap_or(0))
    }

    async fn bump_generation(&self) -> Result<u64, CacheError> {
        self.connection()
            .await?
            .incr(self.key("generation"), 1u64)
            .await
            .map_err(failed)
    }

    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), CacheError> {
        let (generation, value): (Option<u64>, Option<Vec<u8>>) = redis::cmd("MGET")
            .arg(self.key("generation"))
            .arg(self.key(key))
            .query_async(&mut self.connection().await?)
            .await
            .map_err(failed)?;
        let generation = generation.unwrap_or(0);
        let answer = value.and_then(|value| unstamped(generation, value.into()));
        Ok((generation, answer))
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
}
