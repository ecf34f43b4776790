//! The cache port on Redis. Every command has a short timeout, so a Redis that hangs or is
//! down costs a request a few milliseconds, not a failure: callers treat errors as misses.
//! The connection is made in the background and re-made after outages, so Orbit starts and
//! serves even while Redis is unreachable.

use async_trait::async_trait;
use orbit_ports::{Cache, CacheError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub struct RedisCache {
    conn: Arc<RwLock<Option<ConnectionManager>>>,
    prefix: String,
    timeout: Duration,
    /// A circuit breaker: after a failure, operations fail at once until this instant
    /// (milliseconds since `epoch`), so an outage costs requests one timeout per second,
    /// not one per operation.
    open_until: AtomicU64,
    epoch: Instant,
}

/// How long the breaker stays open after a failure.
const BREAK_FOR: Duration = Duration::from_secs(1);

fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_response_timeout(Duration::from_millis(500))
        .set_number_of_retries(1)
        .set_max_delay(2000)
}

impl RedisCache {
    /// Prepares a cache on `url` (`redis://host:port/db`); keys are namespaced with `prefix`
    /// so several Orbit instances (or test runs) can share one Redis. An invalid URL is an
    /// error; an unreachable Redis is not: the connection is retried in the background
    /// every `retry` until it succeeds, and every operation before then is a miss.
    pub fn connect(url: &str, prefix: &str, retry: Duration) -> Result<Self, CacheError> {
        let client =
            redis::Client::open(url).map_err(|e| CacheError(format!("invalid Redis URL: {e}")))?;
        let conn: Arc<RwLock<Option<ConnectionManager>>> = Arc::default();
        let slot = conn.clone();
        tokio::spawn(async move {
            loop {
                match tokio::time::timeout(
                    Duration::from_secs(5),
                    ConnectionManager::new_with_config(client.clone(), config()),
                )
                .await
                {
                    Ok(Ok(manager)) => {
                        if let Ok(mut guard) = slot.write() {
                            *guard = Some(manager);
                        }
                        tracing::info!("connected to Redis");
                        return;
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "cannot connect to Redis yet; serving from the database")
                    }
                    Err(_) => {
                        tracing::warn!("timed out connecting to Redis; serving from the database")
                    }
                }
                tokio::time::sleep(retry).await;
            }
        });
        Ok(RedisCache {
            conn,
            prefix: prefix.to_owned(),
            timeout: Duration::from_millis(500),
            open_until: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// Whether the first connection has been made.
    pub fn is_connected(&self) -> bool {
        self.conn.read().map(|c| c.is_some()).unwrap_or(false)
    }

    fn handle(&self) -> Result<ConnectionManager, CacheError> {
        self.conn
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| CacheError("not connected to Redis".into()))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    async fn run<T>(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CacheError> {
        if self.now_ms() < self.open_until.load(Ordering::Relaxed) {
            return Err(CacheError(
                "Redis failed moments ago; skipping it for a second".into(),
            ));
        }
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => CacheError(e.to_string()),
            Err(_) => CacheError("Redis did not answer in time".into()),
        };
        self.open_until.store(
            self.now_ms() + BREAK_FOR.as_millis() as u64,
            Ordering::Relaxed,
        );
        Err(result)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.handle()?;
        let key = self.key(key);
        self.run(async move { conn.get::<_, Option<Vec<u8>>>(key).await })
            .await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.handle()?;
        let key = self.key(key);
        let millis = ttl.as_millis().max(1) as u64;
        self.run(async move { conn.pset_ex::<_, _, ()>(key, value, millis).await })
            .await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.handle()?;
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.run(async move { conn.del::<_, ()>(keys).await }).await
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
