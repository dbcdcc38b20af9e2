//! The Redis store, shared by every replica: keys under a configurable
//! prefix. Short timeouts: a slow Redis must cost a request little. The
//! connection is made on first use, so a gateway starts while Redis is down,
//! and the connection manager reconnects by itself afterwards.
//!
//! Answers are also kept near, in process, stamped like in Redis, for a
//! bounded time (a write whose bump reached no replica is seen once they
//! age out), and so is the generation while Redis tracks it for us
//! ([`GenerationWatch`]): a hit then costs no Redis round trip. Without
//! tracking, it costs one `GET` of the generation (a few bytes) instead of
//! the answer's bytes.
//!
//! Documents registered by clients (automatic persisted queries) are kept
//! with an index of their sizes by client and in all, so that one script
//! keeps them within their bounds.

use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use bytes::Bytes;

use moka::future::Cache;

use super::generation_watch::GenerationWatch;
use super::{
    DocumentBounds, Draw, GenerationSource, Registered, SharedStateError, SharedStore, StoreKind,
    document_weight, stamped, unstamped,
};
use crate::background::BackgroundTasks;
use crate::kept_entry;

/// A token bucket, atomically in Redis: refill by elapsed time (Redis's
/// clock, the same for every replica), take `cost` tokens or say how long to
/// wait; answers the wait (ms) and the tokens left (thousandths).
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
return {wait, math.floor(tokens * 1000)}
"#;

/// Moves the generation to `ARGV[2]` unless it is at `ARGV[1]` or above
/// already (another replica moved it); answers the generation. Numbers stay
/// strings but for the comparison (Lua's are doubles, exact below 2^53).
const RAISE: &str = r#"
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
  return tonumber(current)
end
redis.call('SET', KEYS[1], ARGV[2])
return tonumber(ARGV[2])
"#;

/// Keeps a document within its bounds. KEYS: the document, the index of
/// all documents and their total size, the client's index and total size.
/// ARGV: life in ms, the client's bound, the total bound, the hash, the
/// document, its weight (`document_weight`). An index is a sorted set of `<hash>:<size>` scored by when
/// the document stops being kept. Answers 0: kept (or kept already),
/// 1: over the client's bound, 2: over the total bound.
const REGISTER_DOCUMENT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function kept(index, bytes)
  local expired = redis.call('ZRANGEBYSCORE', index, '-inf', now)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do
      freed = freed + tonumber(string.match(member, ':(%d+)$'))
    end
    redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
    redis.call('DECRBY', bytes, freed)
  end
  return tonumber(redis.call('GET', bytes) or '0')
end
local ttl = tonumber(ARGV[1])
local size = tonumber(ARGV[6])
if kept(KEYS[4], KEYS[5]) + size > tonumber(ARGV[2]) then
  return 1
end
if kept(KEYS[2], KEYS[3]) + size > tonumber(ARGV[3]) then
  return 2
end
redis.call('SET', KEYS[1], ARGV[5], 'PX', ttl)
local member = ARGV[4] .. ':' .. size
for _, pair in ipairs({{KEYS[2], KEYS[3]}, {KEYS[4], KEYS[5]}}) do
  redis.call('ZADD', pair[1], now + ttl, member)
  redis.call('INCRBY', pair[2], size)
  redis.call('PEXPIRE', pair[1], ttl)
  redis.call('PEXPIRE', pair[2], ttl)
end
return 0
"#;

/// Moves the generation at `key` above `seen` (answers kept here may be
/// stamped with it) and past every generation counted before, unless
/// another replica did.
pub(super) async fn raise_generation(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
    seen: u64,
) -> Result<u64, redis::RedisError> {
    tracing::warn!(
        "Redis holds an older catalogue generation than this gateway saw (restored or failed over): moving it past every earlier one"
    );
    redis::Script::new(RAISE)
        .key(key)
        .arg(seen + 1)
        .arg(fresh_generation().max(seen + 1))
        .invoke_async(connection)
        .await
}

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
    /// Where the watch runs.
    tasks: BackgroundTasks,
}

fn failed(error: redis::RedisError) -> SharedStateError {
    SharedStateError(error.to_string())
}

impl RedisStore {
    /// A store on `url` (checked now, connected on first use); keys start
    /// with `prefix` (several deployments may share one Redis). At most
    /// `near_bytes` of answers are kept in process too, each for `near_max_age`
    /// at most. The generation watch runs among `tasks`.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        near_bytes: u64,
        near_max_age: Duration,
        tasks: &BackgroundTasks,
    ) -> Result<Self, SharedStateError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(failed)?,
            watch: OnceLock::new(),
            tasks: tasks.clone(),
            timeout,
            prefix: prefix.to_owned(),
            connection: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(None),
            near: Cache::builder()
                .max_capacity(near_bytes)
                .weigher(|key: &String, value: &Bytes| {
                    kept_entry::weight::<String, Bytes>(key.len() + value.len())
                })
                .time_to_live(near_max_age)
                .build(),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, SharedStateError> {
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
            return Err(SharedStateError("Redis is not connected yet".into()));
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
            GenerationWatch::start(
                &self.client,
                self.key("generation"),
                self.timeout,
                &self.tasks,
            )
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// `generation` as read, or, when Redis has lost it (restarted empty,
    /// evicted it), a fresh one set for every replica (the first to ask sets
    /// it); moved on when it is older than one this replica saw.
    async fn current(
        &self,
        connection: &mut ConnectionManager,
        generation: Option<u64>,
    ) -> Result<u64, SharedStateError> {
        let generation = match generation {
            Some(generation) => generation,
            None => {
                let fresh = fresh_generation();
                let earlier: Option<u64> = redis::cmd("SET")
                    .arg(self.key("generation"))
                    .arg(fresh)
                    .arg("NX")
                    .arg("GET")
                    .query_async(&mut *connection)
                    .await
                    .map_err(failed)?;
                earlier.unwrap_or(fresh)
            }
        };
        self.not_older(connection, generation).await
    }

    /// `generation`, or when it is older than one seen before, the
    /// generation moved past it.
    async fn not_older(
        &self,
        connection: &mut ConnectionManager,
        generation: u64,
    ) -> Result<u64, SharedStateError> {
        let Some(floor) = self.watch().observe(generation) else {
            return Ok(generation);
        };
        let raised = raise_generation(connection, &self.key("generation"), floor)
            .await
            .map_err(failed)?;
        self.watch().observe(raised);
        Ok(raised)
    }
}

#[async_trait::async_trait]
impl SharedStore for RedisStore {
    /// Asks Redis (readiness wants to know that it answers).
    async fn generation(&self) -> Result<u64, SharedStateError> {
        let ticket = self.watch().ticket();
        let mut connection = self.connection().await?;
        let generation: Option<u64> = connection
            .get(self.key("generation"))
            .await
            .map_err(failed)?;
        let generation = self.current(&mut connection, generation).await?;
        self.watch().keep(ticket, generation);
        Ok(generation)
    }

    async fn bump_generation(&self) -> Result<u64, SharedStateError> {
        let key = self.key("generation");
        let mut connection = self.connection().await?;
        let bumped: Result<(u64,), _> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(fresh_generation())
            .arg("NX")
            .ignore()
            .incr(&key, 1u64)
            .query_async(&mut connection)
            .await;
        // Even a failed bump may have been made: this replica's next reader
        // asks Redis rather than wait for the invalidation.
        if let Some(watch) = self.watch.get() {
            watch.forget();
        }
        let bumped = bumped.map_err(failed)?.0;
        match self.watch.get() {
            // Counted on from an older generation: past it.
            Some(_) => self.not_older(&mut connection, bumped).await,
            None => Ok(bumped),
        }
    }

    async fn answer(&self, key: &str) -> Result<(u64, Option<Bytes>), SharedStateError> {
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
        let generation = self.current(&mut connection, generation).await?;
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
    ) -> Result<(), SharedStateError> {
        let value = stamped(generation, answer);
        self.put(key, &value, ttl).await?;
        self.near.insert(key.to_owned(), value.into()).await;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SharedStateError> {
        self.connection()
            .await?
            .get(self.key(key))
            .await
            .map_err(failed)
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedStateError> {
        self.connection()
            .await?
            .set_ex::<_, _, ()>(self.key(key), value, ttl.as_secs().max(1))
            .await
            .map_err(failed)
    }

    async fn document(&self, hash: &str) -> Result<Option<String>, SharedStateError> {
        self.connection()
            .await?
            .get(self.key(&format!("document:{hash}")))
            .await
            .map_err(failed)
    }

    async fn register_document(
        &self,
        hash: &str,
        document: &str,
        client: &str,
        bounds: &DocumentBounds,
    ) -> Result<Registered, SharedStateError> {
        let outcome: u8 = redis::Script::new(REGISTER_DOCUMENT)
            .key(self.key(&format!("document:{hash}")))
            .key(self.key("documents:index"))
            .key(self.key("documents:bytes"))
            .key(self.key(&format!("documents:client:{client}:index")))
            .key(self.key(&format!("documents:client:{client}:bytes")))
            .arg(bounds.ttl.as_millis().max(1) as u64)
            .arg(bounds.client_bytes)
            .arg(bounds.total_bytes)
            .arg(hash)
            .arg(document)
            .arg(document_weight(document))
            .invoke_async(&mut self.connection().await?)
            .await
            .map_err(failed)?;
        Ok(match outcome {
            0 => Registered::Kept,
            1 => Registered::OverClientBound,
            _ => Registered::OverTotalBound,
        })
    }

    async fn take_tokens(
        &self,
        bucket: &str,
        cost: u64,
        per_minute: u64,
        burst: u64,
    ) -> Result<Draw, SharedStateError> {
        let per_ms = per_minute as f64 / 60_000.0;
        // Lua numbers come back as integers: the tokens left in thousandths.
        let (wait_ms, left_thousandths): (u64, u64) = redis::Script::new(TAKE_TOKEN)
            .key(self.key(bucket))
            .arg(per_ms)
            .arg(burst.max(1))
            .arg(cost)
            .invoke_async(&mut self.connection().await?)
            .await
            .map_err(failed)?;
        Ok(Draw {
            left: left_thousandths as f64 / 1000.0,
            wait: (wait_ms > 0).then(|| Duration::from_millis(wait_ms)),
        })
    }

    fn kind(&self) -> StoreKind {
        StoreKind::Redis
    }

    fn generation_source(&self) -> GenerationSource {
        if self.watch.get().is_some_and(GenerationWatch::tracking) {
            GenerationSource::Tracked
        } else {
            GenerationSource::Read
        }
    }
}
