//! The Redis store, shared by every replica: answers under
//! `<prefix>answer:<key>`, the generation under `<prefix>generation`.
//! Short timeouts: a slow Redis must cost a request little; the connection
//! manager reconnects by itself.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{CacheError, CacheStore};

pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

fn failed(error: redis::RedisError) -> CacheError {
    CacheError(error.to_string())
}

impl RedisStore {
    /// Connects to `url`; keys start with `prefix` (several deployments may
    /// share one Redis).
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        let client = redis::Client::open(url).map_err(failed)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(failed)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn generation_key(&self) -> String {
        format!("{}generation", self.prefix)
    }
}

#[async_trait::async_trait]
impl CacheStore for RedisStore {
    async fn generation(&self) -> Result<u64, CacheError> {
        let mut connection = self.connection.clone();
        let generation: Option<u64> = connection
            .get(self.generation_key())
            .await
            .map_err(failed)?;
        Ok(generation.unwrap_or(0))
    }

    async fn bump_generation(&self) -> Result<u64, CacheError> {
        let mut connection = self.connection.clone();
        connection
            .incr(self.generation_key(), 1u64)
            .await
            .map_err(failed)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut connection = self.connection.clone();
        connection
            .get(format!("{}answer:{key}", self.prefix))
            .await
            .map_err(failed)
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        connection
            .set_ex::<_, _, ()>(
                format!("{}answer:{key}", self.prefix),
                value,
                ttl.as_secs().max(1),
            )
            .await
            .map_err(failed)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
