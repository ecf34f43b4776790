//! Objects in an S3-compatible bucket (AWS S3, MinIO, Garage…) through the `object_store`
//! crate (arrow-rs), path-style addressing. A put of up to 5 MiB is one `PutObject`; a larger
//! stream is a multipart upload, completed only when the whole stream was read (and aborted
//! otherwise), so readers never see part of an object. Downloads can be handed out as
//! presigned GET URLs.

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as OsPath;
use object_store::signer::Signer;
use object_store::{ObjectStore as _, PutPayload, WriteMultipart};
use orbit_ports::{
    ByteStream, ObjectMeta, ObjectStore, ObjectStoreError, validate_key, validate_prefix,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How to reach the bucket (`ORBIT_S3_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `http://127.0.0.1:9000` for MinIO; `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Objects of this size or less are sent in one request; larger ones in parts of this size.
const PART: usize = 5 * 1024 * 1024;

/// An S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    store: Arc<AmazonS3>,
}

fn err(e: object_store::Error) -> ObjectStoreError {
    match e {
        object_store::Error::NotFound { path, .. } => ObjectStoreError::NotFound(path),
        other => ObjectStoreError::Unavailable(other.to_string()),
    }
}

fn meta(m: object_store::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        key: m.location.to_string(),
        size: m.size,
        modified_ms: m.last_modified.timestamp_millis(),
    }
}

impl S3Store {
    /// Checks the configuration and builds the client (no request is made).
    pub fn new(config: &S3Config) -> Result<S3Store, String> {
        if config.bucket.is_empty() {
            return Err("ORBIT_S3_BUCKET is required".into());
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|e| format!("invalid S3 configuration: {e}"))?;
        Ok(S3Store {
            store: Arc::new(store),
        })
    }

    fn path(key: &str) -> Result<OsPath, ObjectStoreError> {
        validate_key(key)?;
        OsPath::parse(key).map_err(|e| ObjectStoreError::InvalidKey {
            key: key.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn meta_of(&self, path: &OsPath) -> Result<ObjectMeta, ObjectStoreError> {
        self.store.head(path).await.map(meta).map_err(err)
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put_stream(
        &self,
        key: &str,
        mut body: ByteStream,
    ) -> Result<ObjectMeta, ObjectStoreError> {
        let path = Self::path(key)?;
        let mut buffered: Vec<Bytes> = Vec::new();
        let mut buffered_len = 0usize;
        let mut upload: Option<WriteMultipart> = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    if let Some(u) = upload {
                        let _ = u.abort().await;
                    }
                    return Err(e);
                }
            };
            match upload.as_mut() {
                Some(u) => {
                    if let Err(e) = u.wait_for_capacity(4).await {
                        let _ = upload.take().map(|u| u.abort());
                        return Err(err(e));
                    }
                    u.write(&chunk);
                }
                None => {
                    buffered_len += chunk.len();
                    buffered.push(chunk);
                    if buffered_len > PART {
                        let multipart = self.store.put_multipart(&path).await.map_err(err)?;
                        let mut u = WriteMultipart::new_with_chunk_size(multipart, PART);
                        for b in buffered.drain(..) {
                            u.write(&b);
                        }
                        upload = Some(u);
                    }
                }
            }
        }
        match upload {
            Some(u) => {
                u.finish().await.map_err(err)?;
            }
            None => {
                let payload: PutPayload = buffered.into_iter().collect();
                self.store.put(&path, payload).await.map_err(err)?;
            }
        }
        self.meta_of(&path).await
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<ObjectMeta, ObjectStoreError> {
        validate_key(key)?;
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            ObjectStoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
        })?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).map(|c| {
            c.map_err(|e| ObjectStoreError::Unavailable(format!("cannot read the file: {e}")))
        });
        self.put_stream(key, Box::pin(stream)).await
    }

    async fn get(&self, key: &str) -> Result<(ObjectMeta, ByteStream), ObjectStoreError> {
        let path = Self::path(key)?;
        let result = self.store.get(&path).await.map_err(err)?;
        let m = meta(result.meta.clone());
        let stream = result.into_stream().map(|c| c.map_err(err));
        Ok((m, Box::pin(stream)))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, ObjectStoreError> {
        let path = Self::path(key)?;
        match self.store.head(&path).await {
            Ok(m) => Ok(Some(meta(m))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, ObjectStoreError> {
        validate_prefix(prefix)?;
        // object_store lists by whole path segments: list the deepest folder the prefix
        // names and keep the keys that start with the prefix.
        let folder = prefix.rfind('/').map(|i| &prefix[..i]).unwrap_or("");
        let folder = if folder.is_empty() {
            None
        } else {
            Some(
                OsPath::parse(folder).map_err(|e| ObjectStoreError::InvalidKey {
                    key: prefix.to_owned(),
                    reason: e.to_string(),
                })?,
            )
        };
        let mut stream = self.store.list(folder.as_ref());
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            let m = meta(item.map_err(err)?);
            if m.key.starts_with(prefix) {
                out.push(m);
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    async fn presigned_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<Option<String>, ObjectStoreError> {
        let path = Self::path(key)?;
        let url = self
            .store
            .signed_url(http::Method::GET, &path, expires_in)
            .await
            .map_err(err)?;
        Ok(Some(url.to_string()))
    }

    fn name(&self) -> &'static str {
        "s3"
    }
}
