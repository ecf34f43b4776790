//! Generated client archives of API versions: listing them and handing them out, to the
//! members of their workspace only.

use crate::WorkspaceService;
use orbit_core::{Actor, Error, Result};
use orbit_ports::{ByteStream, ObjectMeta, ObjectStore, ObjectStoreError};
use orbit_workflows::codegen::{ArtifactMeta, artifact_prefix, check_segment};
use std::sync::Arc;
use std::time::Duration;

/// How long a presigned download URL stays valid.
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(300);

/// How a download is served.
pub enum Download {
    /// A short-lived URL of the object storage (S3): the caller is redirected there.
    Redirect(String),
    /// The bytes themselves (filesystem storage).
    Stream {
        meta: ObjectMeta,
        name: String,
        body: ByteStream,
    },
}

#[derive(Clone)]
pub struct ArtifactService {
    workspaces: WorkspaceService,
    objects: Arc<dyn ObjectStore>,
}

fn storage_err(e: ObjectStoreError) -> Error {
    match e {
        ObjectStoreError::NotFound(_) => Error::NotFound("artifact".into()),
        ObjectStoreError::InvalidKey { reason, .. } => Error::invalid("artifact", reason),
        ObjectStoreError::Unavailable(m) => Error::Unavailable(m),
    }
}

fn check(api_id: &str, version: &str) -> Result<()> {
    check_segment("api_id", api_id).map_err(|m| Error::invalid("api_id", m))?;
    check_segment("version", version).map_err(|m| Error::invalid("version", m))?;
    Ok(())
}

impl ArtifactService {
    pub fn new(workspaces: WorkspaceService, objects: Arc<dyn ObjectStore>) -> Self {
        ArtifactService {
            workspaces,
            objects,
        }
    }

    /// The storage backend's name ("filesystem", "s3").
    pub fn storage(&self) -> &'static str {
        self.objects.name()
    }

    /// The artifacts of one API version, by language. Non-members get `NotFound`.
    pub async fn list(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
    ) -> Result<Vec<ArtifactMeta>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        check(api_id, version)?;
        let prefix = artifact_prefix(ws.as_str(), api_id, version);
        let objects = self.objects.list(&prefix).await.map_err(storage_err)?;
        let mut out = Vec::new();
        for o in objects.iter().filter(|o| o.key.ends_with(".json")) {
            let bytes = match self.objects.get_bytes(&o.key).await {
                Ok(b) => b,
                Err(ObjectStoreError::NotFound(_)) => continue,
                Err(e) => return Err(storage_err(e)),
            };
            match serde_json::from_slice::<ArtifactMeta>(&bytes) {
                // Only what belongs here (a metadata document names its own key).
                Ok(meta) if meta.key.starts_with(&prefix) && meta.workspace_id == ws.as_str() => {
                    out.push(meta)
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(key = %o.key, error = %e, "unreadable artifact metadata"),
            }
        }
        out.sort_by(|a, b| a.language.cmp(&b.language));
        Ok(out)
    }

    /// The path (under the HTTP server) that downloads an artifact.
    pub fn download_path(meta: &ArtifactMeta) -> String {
        format!(
            "/artifacts/{}/{}/{}/{}",
            meta.workspace_id, meta.api_id, meta.version, meta.language
        )
    }

    /// An artifact's archive, for a member of its workspace: a presigned URL where the
    /// storage has them, else the bytes. Non-members and missing artifacts get `NotFound`.
    pub async fn download(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
        language: &str,
    ) -> Result<Download> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        check(api_id, version)?;
        if orbit_workflows::codegen::activity_for(language).is_none() {
            return Err(Error::NotFound(format!("artifact {language}")));
        }
        let prefix = artifact_prefix(ws.as_str(), api_id, version);
        let meta_key = format!("{prefix}{language}.json");
        let zip_key = format!("{prefix}{language}.zip");
        let meta: ArtifactMeta = match self.objects.get_bytes(&meta_key).await {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| Error::Internal(format!("unreadable artifact metadata: {e}")))?,
            Err(ObjectStoreError::NotFound(_)) => {
                return Err(Error::NotFound(format!(
                    "no {language} client of {api_id} {version}"
                )));
            }
            Err(e) => return Err(storage_err(e)),
        };
        if let Some(url) = self
            .objects
            .presigned_get(&zip_key, DOWNLOAD_URL_TTL)
            .await
            .map_err(storage_err)?
        {
            return Ok(Download::Redirect(url));
        }
        let (object, body) = self.objects.get(&zip_key).await.map_err(storage_err)?;
        Ok(Download::Stream {
            meta: object,
            name: meta.name,
            body,
        })
    }
}
