//! Objects as files: `<root>/objects/<key>`. A put writes a temporary file in `<root>/tmp`
//! and renames it over the target, so a reader never sees half an object. Keys pass
//! `validate_key` before any path is built, so none can leave `<root>/objects`.

use async_trait::async_trait;
use futures::StreamExt;
use orbit_ports::{
    ByteStream, ObjectMeta, ObjectStore, ObjectStoreError, validate_key, validate_prefix,
};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// The local filesystem under one directory.
#[derive(Debug, Clone)]
pub struct FilesystemStore {
    objects: PathBuf,
    tmp: PathBuf,
}

fn io(what: &str, err: std::io::Error) -> ObjectStoreError {
    ObjectStoreError::Unavailable(format!("{what}: {err}"))
}

impl FilesystemStore {
    /// Uses `root/objects` and `root/tmp`, created on the first write.
    pub fn new(root: impl Into<PathBuf>) -> FilesystemStore {
        let root = root.into();
        FilesystemStore {
            objects: root.join("objects"),
            tmp: root.join("tmp"),
        }
    }

    /// Like [`FilesystemStore::new`], creating the directories now (to fail early).
    pub fn open(root: impl Into<PathBuf>) -> Result<FilesystemStore, ObjectStoreError> {
        let store = Self::new(root);
        for dir in [&store.objects, &store.tmp] {
            std::fs::create_dir_all(dir)
                .map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
        }
        Ok(store)
    }

    async fn ensure_tmp(&self) -> Result<(), ObjectStoreError> {
        tokio::fs::create_dir_all(&self.tmp)
            .await
            .map_err(|e| io(&format!("cannot create {}", self.tmp.display()), e))
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectStoreError> {
        validate_key(key)?;
        Ok(self.objects.join(key))
    }

    fn meta(key: &str, md: &std::fs::Metadata) -> ObjectMeta {
        let modified_ms = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        ObjectMeta {
            key: key.to_owned(),
            size: md.len(),
            modified_ms,
        }
    }

    /// Renames a complete temporary file into place.
    async fn commit(&self, key: &str, tmp: &Path) -> Result<ObjectMeta, ObjectStoreError> {
        let target = self.path(key)?;
        if let Some(parent) = target.parent() {
            if let Err(e) = tokio::fs::create_dir_all(parent).await {
                let _ = tokio::fs::remove_file(tmp).await;
                return Err(
                    if e.kind() == ErrorKind::NotADirectory || e.kind() == ErrorKind::AlreadyExists
                    {
                        ObjectStoreError::InvalidKey {
                            key: key.to_owned(),
                            reason: "a prefix of this key is itself an object".into(),
                        }
                    } else {
                        io("cannot create the object's directory", e)
                    },
                );
            }
        }
        if let Err(e) = tokio::fs::rename(tmp, &target).await {
            let _ = tokio::fs::remove_file(tmp).await;
            return Err(if target.is_dir() {
                ObjectStoreError::InvalidKey {
                    key: key.to_owned(),
                    reason: "this key is a prefix of other objects".into(),
                }
            } else {
                io("cannot move the object into place", e)
            });
        }
        let md = tokio::fs::metadata(&target)
            .await
            .map_err(|e| io("cannot read the stored object", e))?;
        Ok(Self::meta(key, &md))
    }

    fn tmp_path(&self) -> PathBuf {
        self.tmp.join(format!("{}.part", uuid::Uuid::now_v7()))
    }
}

#[async_trait]
impl ObjectStore for FilesystemStore {
    async fn put_stream(
        &self,
        key: &str,
        mut body: ByteStream,
    ) -> Result<ObjectMeta, ObjectStoreError> {
        validate_key(key)?;
        self.ensure_tmp().await?;
        let tmp = self.tmp_path();
        let written = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| io("cannot create a temporary file", e))?;
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| io("cannot write the object", e))?;
            }
            file.sync_all()
                .await
                .map_err(|e| io("cannot flush the object", e))?;
            Ok::<_, ObjectStoreError>(())
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        self.commit(key, &tmp).await
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<ObjectMeta, ObjectStoreError> {
        validate_key(key)?;
        self.ensure_tmp().await?;
        let tmp = self.tmp_path();
        if let Err(e) = tokio::fs::copy(path, &tmp).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(&format!("cannot copy {}", path.display()), e));
        }
        self.commit(key, &tmp).await
    }

    async fn get(&self, key: &str) -> Result<(ObjectMeta, ByteStream), ObjectStoreError> {
        let path = self.path(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                return Err(ObjectStoreError::NotFound(key.to_owned()));
            }
            Err(e) => return Err(io("cannot open the object", e)),
        };
        let md = file
            .metadata()
            .await
            .map_err(|e| io("cannot read the object's metadata", e))?;
        if md.is_dir() {
            return Err(ObjectStoreError::NotFound(key.to_owned()));
        }
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
            .map(|chunk| chunk.map_err(|e| io("cannot read the object", e)));
        Ok((Self::meta(key, &md), Box::pin(stream)))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, ObjectStoreError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(md) if md.is_file() => Ok(Some(Self::meta(key, &md))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                Ok(None)
            }
            Err(e) => Err(io("cannot read the object's metadata", e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, ObjectStoreError> {
        validate_prefix(prefix)?;
        let objects = self.objects.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            // Walk only the deepest directory the prefix names.
            let dir_part = match prefix.rfind('/') {
                Some(i) => &prefix[..i],
                None => "",
            };
            let start = if dir_part.is_empty() {
                objects.clone()
            } else {
                objects.join(dir_part)
            };
            let mut out = Vec::new();
            let mut stack = vec![start];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e)
                        if e.kind() == ErrorKind::NotFound
                            || e.kind() == ErrorKind::NotADirectory =>
                    {
                        continue;
                    }
                    Err(e) => return Err(io("cannot list objects", e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| io("cannot list objects", e))?;
                    let md = entry.metadata().map_err(|e| io("cannot list objects", e))?;
                    let path = entry.path();
                    if md.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let Ok(rel) = path.strip_prefix(&objects) else {
                        continue;
                    };
                    let Some(key) = rel.to_str() else { continue };
                    let key = key.replace(std::path::MAIN_SEPARATOR, "/");
                    if key.starts_with(&prefix) {
                        out.push(Self::meta(&key, &md));
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| ObjectStoreError::Unavailable(format!("listing failed: {e}")))?
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                return Ok(());
            }
            Err(e) if path.is_dir() => {
                tracing::debug!(error = %e, "delete of a prefix, not an object");
                return Ok(());
            }
            Err(e) => return Err(io("cannot delete the object", e)),
        }
        // Prune directories left empty (best effort: a concurrent put may refill one).
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.objects || tokio::fs::remove_dir(&d).await.is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    async fn presigned_get(
        &self,
        key: &str,
        _expires_in: Duration,
    ) -> Result<Option<String>, ObjectStoreError> {
        validate_key(key)?;
        Ok(None)
    }

    fn name(&self) -> &'static str {
        "filesystem"
    }
}

impl FilesystemStore {
    /// Where the object of `key` is (for tests that check nothing escaped).
    pub fn objects_dir(&self) -> &Path {
        &self.objects
    }
}
