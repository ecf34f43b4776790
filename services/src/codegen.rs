//! The activities of `orbit.api.codegen` (one per language): generate a client with the
//! `ClientGenerator` port, store the archive and then its metadata document in object
//! storage. An existing artifact of the same version and language is returned as it is
//! unless the run was started with `force` (a published version never changes).

use async_trait::async_trait;
use orbit_ports::{
    Activity, ActivityContext, ActivityError, ClientGenerator, Clock, GenerateError,
    GenerateRequest, ObjectStore, ObjectStoreError, SourceFile,
};
use orbit_workflows::codegen::{ArtifactMeta, LanguageInput, LanguageOutput, artifact_prefix};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Generates one language's client.
pub struct CodegenActivity {
    /// The language this activity generates (`typescript`…).
    pub language: &'static str,
    /// Its activity name (`codegen.typescript`…).
    pub name: &'static str,
    pub generator: Arc<dyn ClientGenerator>,
    pub objects: Arc<dyn ObjectStore>,
    pub clock: Arc<dyn Clock>,
}

impl CodegenActivity {
    /// One activity per language of `orbit_workflows::codegen::LANGUAGES`.
    pub fn all(
        generator: Arc<dyn ClientGenerator>,
        objects: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
    ) -> Vec<CodegenActivity> {
        orbit_workflows::codegen::LANGUAGES
            .iter()
            .map(|(language, name)| CodegenActivity {
                language,
                name,
                generator: generator.clone(),
                objects: objects.clone(),
                clock: clock.clone(),
            })
            .collect()
    }
}

fn storage_err(e: ObjectStoreError) -> ActivityError {
    match e {
        ObjectStoreError::InvalidKey { .. } => ActivityError::NonRetryable(e.to_string()),
        other => ActivityError::Retryable(other.to_string()),
    }
}

/// The object keys of a version's artifact in one language: (archive, metadata).
pub fn artifact_keys(
    workspace: &str,
    api: &str,
    version: &str,
    language: &str,
) -> (String, String) {
    let prefix = artifact_prefix(workspace, api, version);
    (
        format!("{prefix}{language}.zip"),
        format!("{prefix}{language}.json"),
    )
}

#[async_trait]
impl Activity for CodegenActivity {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let input: LanguageInput = serde_json::from_str(&input)
            .map_err(|e| ActivityError::NonRetryable(format!("invalid input: {e}")))?;
        if input.language != self.language {
            return Err(ActivityError::NonRetryable(format!(
                "{} cannot generate {}",
                self.name, input.language
            )));
        }
        // The run's workspace, never one the input names: artifacts stay in their workspace.
        if input.workspace_id != ctx.workspace_id.as_str() {
            return Err(ActivityError::NonRetryable(
                "the input names another workspace than the run's".into(),
            ));
        }
        for (what, value) in [("api_id", &input.api_id), ("version", &input.version)] {
            orbit_workflows::codegen::check_segment(what, value)
                .map_err(ActivityError::NonRetryable)?;
        }
        let workspace = ctx.workspace_id.to_string();
        let (zip_key, meta_key) =
            artifact_keys(&workspace, &input.api_id, &input.version, self.language);

        if !input.force {
            if let Some(existing) = self.existing(&meta_key, &zip_key).await? {
                tracing::info!(key = %zip_key, "codegen: the artifact exists; reused");
                return to_json(&LanguageOutput {
                    artifact: existing,
                    reused: true,
                });
            }
        }

        let request = GenerateRequest {
            format: input.format.clone(),
            language: self.language.to_owned(),
            package: input.api_id.clone(),
            files: input
                .files
                .iter()
                .map(|f| SourceFile {
                    path: f.path.clone(),
                    content: f.content.clone(),
                })
                .collect(),
        };
        let dir = tempfile::Builder::new()
            .prefix("orbit-artifact-")
            .tempdir()
            .map_err(|e| {
                ActivityError::Retryable(format!("cannot create a temporary directory: {e}"))
            })?;
        let zip_path = dir.path().join("client.zip");
        let generated =
            self.generator
                .generate(&request, &zip_path)
                .await
                .map_err(|e| match e {
                    GenerateError::Unavailable(m) => ActivityError::Retryable(m),
                    other => ActivityError::NonRetryable(other.to_string()),
                })?;
        let path = zip_path.clone();
        let (size, sha256) = tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .map_err(|e| ActivityError::Retryable(e.to_string()))?
            .map_err(|e| ActivityError::Retryable(format!("cannot read the archive: {e}")))?;
        let meta = ArtifactMeta {
            name: format!("{}-{}-{}.zip", input.api_id, input.version, self.language),
            workspace_id: workspace,
            api_id: input.api_id.clone(),
            version: input.version.clone(),
            format: input.format.clone(),
            language: self.language.to_owned(),
            generator: generated.generator,
            generator_version: generated.generator_version,
            size,
            sha256,
            created_ms: self.clock.now().millis(),
            key: zip_key.clone(),
        };
        // The archive first, its metadata last: a listed artifact is always complete.
        self.objects
            .put_file(&zip_key, &zip_path)
            .await
            .map_err(storage_err)?;
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| ActivityError::NonRetryable(e.to_string()))?;
        self.objects
            .put_bytes(&meta_key, json.into())
            .await
            .map_err(storage_err)?;
        tracing::info!(key = %zip_key, size, generator = %meta.generator, "codegen: artifact stored");
        to_json(&LanguageOutput {
            artifact: meta,
            reused: false,
        })
    }
}

impl CodegenActivity {
    async fn existing(
        &self,
        meta_key: &str,
        zip_key: &str,
    ) -> Result<Option<ArtifactMeta>, ActivityError> {
        let bytes = match self.objects.get_bytes(meta_key).await {
            Ok(b) => b,
            Err(ObjectStoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(storage_err(e)),
        };
        let Ok(meta) = serde_json::from_slice::<ArtifactMeta>(&bytes) else {
            return Ok(None);
        };
        match self.objects.head(zip_key).await.map_err(storage_err)? {
            Some(o) if o.size == meta.size => Ok(Some(meta)),
            _ => Ok(None),
        }
    }
}

fn to_json(out: &LanguageOutput) -> Result<String, ActivityError> {
    serde_json::to_string(out).map_err(|e| ActivityError::NonRetryable(e.to_string()))
}

fn hash_file(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
