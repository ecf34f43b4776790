use async_trait::async_trait;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

/// A shared key-value cache for hot reads (Redis at scale; nothing on the embedded default).
///
/// The cache is never the source of truth: callers treat every error as a miss, write
/// through to the store first and delete affected keys after every write.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError>;
    /// A short name for logs and metrics ("none", "redis").
    fn name(&self) -> &'static str;
}
