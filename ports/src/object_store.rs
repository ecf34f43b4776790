//! The object storage port: named blobs (generated client archives and their metadata, and
//! later other large files) kept outside the database. Embedded default: the local
//! filesystem under the data directory; at scale: an S3-compatible bucket.
//!
//! Keys are `/`-separated relative paths (`artifacts/<workspace>/<api>/<version>/ts.zip`).
//! [`validate_key`] is the one rule every adapter applies, so no key can escape its root
//! (no `..`, no absolute path, no backslash, no control character).

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;
use thiserror::Error;

/// A stream of object bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ObjectStoreError>> + Send>>;

/// What the store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Last modification, in ms since the Unix epoch.
    pub modified_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ObjectStoreError {
    /// The key (or prefix) breaks [`validate_key`]'s rules.
    #[error("invalid object key '{key}': {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("object '{0}' not found")]
    NotFound(String),
    /// The backend could not be reached or answered with an error (worth a retry).
    #[error("object storage unavailable: {0}")]
    Unavailable(String),
}

/// The longest key accepted (S3's limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks a key: 1 to 1024 bytes, segments separated by `/`, none empty, `.` or `..`, no
/// leading or trailing `/`, no backslash and no control character.
pub fn validate_key(key: &str) -> Result<(), ObjectStoreError> {
    let bad = |reason: &str| {
        Err(ObjectStoreError::InvalidKey {
            key: key.chars().take(200).collect(),
            reason: reason.to_owned(),
        })
    };
    if key.is_empty() {
        return bad("a key cannot be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad("a key is at most 1024 bytes");
    }
    if key.chars().any(|c| c.is_control()) {
        return bad("a key cannot contain control characters");
    }
    if key.contains('\\') {
        return bad("a key cannot contain a backslash");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("a key has no empty segment and no leading or trailing '/'"),
            "." | ".." => return bad("a key cannot contain '.' or '..' segments"),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a listing prefix: empty (everything), or a key's rules where a trailing `/` is
/// allowed.
pub fn validate_prefix(prefix: &str) -> Result<(), ObjectStoreError> {
    if prefix.is_empty() {
        return Ok(());
    }
    validate_key(prefix.strip_suffix('/').unwrap_or(prefix)).map_err(|e| match e {
        ObjectStoreError::InvalidKey { reason, .. } => ObjectStoreError::InvalidKey {
            key: prefix.chars().take(200).collect(),
            reason,
        },
        other => other,
    })
}

/// Blob storage.
///
/// Every method validates its key with [`validate_key`] (or its prefix with
/// [`validate_prefix`]) first and returns `InvalidKey` when it breaks the rules; backend
/// failures are `Unavailable`. A `put` is atomic: a reader sees the old object or the
/// whole new one, never a part.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Stores the bytes of a stream under `key`, replacing any object there.
    async fn put_stream(&self, key: &str, body: ByteStream)
    -> Result<ObjectMeta, ObjectStoreError>;

    /// Stores `bytes` under `key`, replacing any object there.
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<ObjectMeta, ObjectStoreError> {
        let body: ByteStream = Box::pin(Once(Some(Ok(bytes))));
        self.put_stream(key, body).await
    }

    /// Stores a local file under `key`, streaming it.
    async fn put_file(&self, key: &str, path: &Path) -> Result<ObjectMeta, ObjectStoreError>;

    /// The object's metadata and its bytes as a stream; `NotFound` when there is none.
    async fn get(&self, key: &str) -> Result<(ObjectMeta, ByteStream), ObjectStoreError>;

    /// The whole object in memory (for small objects such as metadata documents).
    async fn get_bytes(&self, key: &str) -> Result<Bytes, ObjectStoreError> {
        let (meta, mut stream) = self.get(key).await?;
        let mut out = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        while let Some(chunk) = next_chunk(&mut stream).await {
            out.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(out))
    }

    /// The object's metadata, or `None`.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, ObjectStoreError>;

    /// Every object whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, ObjectStoreError>;

    /// Deletes the object; deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError>;

    /// A URL anyone holding it can GET the object from until `expires_in` has passed, where
    /// the backend has them (S3); `None` where it has not (the filesystem: the HTTP edge
    /// streams the object itself).
    async fn presigned_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<Option<String>, ObjectStoreError>;

    /// A short name for logs ("filesystem", "s3").
    fn name(&self) -> &'static str;
}

/// A stream of one item.
struct Once(Option<Result<Bytes, ObjectStoreError>>);

impl Stream for Once {
    type Item = Result<Bytes, ObjectStoreError>;
    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take())
    }
}

/// The next item of a byte stream (without pulling in a stream-extension crate).
pub async fn next_chunk(stream: &mut ByteStream) -> Option<Result<Bytes, ObjectStoreError>> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_or_confuse_are_refused() {
        for key in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\..\\b",
            "a\0b",
            "a\nb",
        ] {
            assert!(
                matches!(validate_key(key), Err(ObjectStoreError::InvalidKey { .. })),
                "{key:?} was accepted"
            );
        }
        assert!(validate_key(&"k".repeat(1025)).is_err());
        for key in [
            "a",
            "a/b.zip",
            "artifacts/w1/api/1.0.0/ts.zip",
            "..a/b..",
            "é/ü",
        ] {
            validate_key(key).unwrap();
        }
        validate_prefix("").unwrap();
        validate_prefix("a/b/").unwrap();
        assert!(validate_prefix("../").is_err());
        assert!(validate_prefix("/").is_err());
    }
}
