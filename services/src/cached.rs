//! Read-through caching over the cache port. The cache is an optimisation only: every cache
//! error counts as a miss, is logged and counted, and the request goes on to the store.

use orbit_ports::Cache;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a cached entry may live. Writes delete the keys they affect, so this only bounds
/// the window of a read racing a concurrent write.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub errors: AtomicU64,
}

#[derive(Clone)]
pub struct CachedReads {
    cache: Arc<dyn Cache>,
    pub stats: Arc<CacheStats>,
}

impl CachedReads {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        CachedReads {
            cache,
            stats: Arc::default(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.cache.name()
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        match self.cache.get(key).await {
            Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(value) => {
                    self.stats.hits.fetch_add(1, Ordering::Relaxed);
                    Some(value)
                }
                Err(err) => {
                    tracing::warn!(key, error = %err, "ignoring an undecodable cache entry");
                    self.stats.misses.fetch_add(1, Ordering::Relaxed);
                    None
                }
            },
            Ok(None) => {
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(err) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(key, error = %err, "cache read failed; reading from the database");
                None
            }
        }
    }

    pub(crate) async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        if let Err(err) = self.cache.set(key, &bytes, CACHE_TTL).await {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(key, error = %err, "cache write failed");
        }
    }

    pub(crate) async fn invalidate(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        if let Err(err) = self.cache.delete(&keys).await {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(?keys, error = %err, "cache invalidation failed; entries expire within the TTL");
        }
    }
}
