//! The cache port on Redis. Every command has a short timeout, so a Redis that hangs or is
//! down costs a request a few milliseconds, not a failure: callers treat errors as misses.

use async_trait::async_trait;
use orbit_ports::{Cache, CacheError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl RedisCache {
    /// Connects to `url` (`redis://host:port/db`). Keys are namespaced with `prefix`, so that
    /// several Orbit instances (or test runs) can share one Redis. Fails if Redis cannot be
    /// reached now; once connected, it reconnects by itself after outages.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url).map_err(|e| CacheError(format!("invalid Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_millis(500))
            .set_number_of_retries(1)
            .set_max_delay(2000);
        let conn = tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| CacheError("timed out connecting to Redis".into()))?
            .map_err(|e| CacheError(format!("cannot connect to Redis: {e}")))?;
        Ok(RedisCache { conn, prefix: prefix.to_owned(), timeout: Duration::from_millis(500) })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn run<T>(&self, fut: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T, CacheError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CacheError(e.to_string())),
            Err(_) => Err(CacheError("Redis did not answer in time".into())),
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        self.run(async move { conn.get::<_, Option<Vec<u8>>>(key).await }).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let millis = ttl.as_millis().max(1) as u64;
        self.run(async move { conn.pset_ex::<_, _, ()>(key, value, millis).await }).await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.run(async move { conn.del::<_, ()>(keys).await }).await
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
