//! The API catalog's use cases: APIs, published versions (validated, compared with the
//! version before them, refused when they break compatibility without a major bump),
//! consumers, the workspace policy, and the reference documentation of a version.

use crate::{Deps, WorkflowService, WorkspaceService, store_err};
use orbit_apispec::{Diagnostic, Format, RefItem, Spec, SpecFile};
use orbit_core::api::{
    Api, ApiFile, ApiFilter, ApiFormat, ApiId, ApiPolicy, ApiVersion, ApiVersionSummary, Consumer,
    FILES_MAX, Lifecycle, RELEASE_NOTES_MAX, SemVer, validate_file_name, validate_repository,
};
use orbit_core::knowledge::PathSlug;
use orbit_core::{Actor, Cursor, Error, Result, Role, WorkspaceId, clean_text};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub use orbit_apispec::Change;

/// How long validating one upload may take before it is refused.
const VALIDATION_TIME_LIMIT: Duration = Duration::from_secs(20);
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// How the caller names an API.
#[derive(Debug, Clone)]
pub enum ApiRef {
    Id(String),
    Slug(String),
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ApiPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub tags: Option<Vec<String>>,
    pub lifecycle: Option<String>,
}

/// What `ValidateSchema` found.
#[derive(Debug, Clone)]
pub struct Validation {
    pub problems: Vec<Diagnostic>,
    pub format_version: String,
    pub title: String,
    pub operations: usize,
}

/// The changes between two versions, and the consumers a breaking change would hit.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub changes: Vec<Change>,
    pub affected: Vec<Consumer>,
}

impl Comparison {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }
}

/// A published version and what it changed.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: ApiVersion,
    pub previous: Option<String>,
    pub changes: Vec<Change>,
}

/// A version's reference documentation.
#[derive(Debug, Clone)]
pub struct Reference {
    pub format_version: String,
    pub title: String,
    pub items: Vec<RefItem>,
}

fn spec_format(f: ApiFormat) -> Format {
    match f {
        ApiFormat::OpenApi => Format::OpenApi,
        ApiFormat::AsyncApi => Format::AsyncApi,
        ApiFormat::Protobuf => Format::Protobuf,
        ApiFormat::GraphQl => Format::GraphQl,
    }
}

fn parse_format(value: &str) -> Result<ApiFormat> {
    ApiFormat::parse(value).ok_or_else(|| {
        Error::invalid(
            "format",
            format!("{value:?} is not one of openapi, asyncapi, protobuf, graphql"),
        )
    })
}

fn parse_lifecycle(value: &str) -> Result<Lifecycle> {
    Lifecycle::parse(value).ok_or_else(|| {
        Error::invalid(
            "lifecycle",
            format!("{value:?} is not one of experimental, production, deprecated"),
        )
    })
}

/// SHA-256 over the files in name order, each as `name NUL length NUL content`.
pub fn content_hash(files: &[ApiFile]) -> String {
    let mut sorted: Vec<&ApiFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for f in sorted {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(f.content.len().to_string().as_bytes());
        h.update([0]);
        h.update(f.content.as_bytes());
    }
    format!("{:x}", h.finalize())
}

fn problems_message(problems: &[Diagnostic]) -> String {
    let n = problems.len();
    let mut msg = format!(
        "the schema has {n} problem{}:",
        if n == 1 { "" } else { "s" }
    );
    for p in problems {
        msg.push_str("\n  ");
        msg.push_str(&p.to_string());
    }
    msg
}

fn changes_message(changes: &[Change]) -> String {
    let mut msg = String::new();
    for c in changes.iter().filter(|c| c.breaking) {
        msg.push_str("\n  ");
        if !c.location.is_empty() {
            msg.push_str(&c.location);
            msg.push_str(": ");
        }
        msg.push_str(&c.message);
    }
    msg
}

#[derive(Clone)]
pub struct ApiCatalogService {
    deps: Deps,
    workspaces: WorkspaceService,
    workflows: WorkflowService,
}

impl ApiCatalogService {
    pub(crate) fn new(
        deps: Deps,
        workspaces: WorkspaceService,
        workflows: WorkflowService,
    ) -> Self {
        ApiCatalogService {
            deps,
            workspaces,
            workflows,
        }
    }

    fn job_id(&self) -> String {
        format!("api:{}", self.deps.ids.new_id())
    }

    fn signal(&self) {
        (self.deps.index_signal)();
    }

    /// Checks the uploaded files (names, count, size) and parses + validates them off the
    /// async runtime, within a time limit.
    async fn check_files(
        &self,
        format: ApiFormat,
        files: Vec<ApiFile>,
    ) -> Result<(Vec<ApiFile>, std::result::Result<Spec, Vec<Diagnostic>>)> {
        if files.is_empty() {
            return Err(Error::invalid(
                "files",
                "at least one schema file is required",
            ));
        }
        if files.len() > FILES_MAX {
            return Err(Error::invalid(
                "files",
                format!(
                    "{} files were uploaded; the limit is {FILES_MAX}",
                    files.len()
                ),
            ));
        }
        let total: usize = files.iter().map(|f| f.content.len()).sum();
        let limit = self.deps.limits.max_api_version_bytes;
        if total > limit {
            return Err(Error::invalid(
                "files",
                format!(
                    "the schema is {total} bytes; a version may be at most {limit} bytes ({} MiB)",
                    limit / (1024 * 1024)
                ),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for f in &files {
            validate_file_name(&f.name)?;
            if !names.insert(f.name.as_str()) {
                return Err(Error::invalid(
                    "files",
                    format!("{:?} is uploaded twice", f.name),
                ));
            }
            if f.content.contains('\0') {
                return Err(Error::invalid(
                    "files",
                    format!("{:?} contains NUL characters; upload text files", f.name),
                ));
            }
        }
        let spec_files: Vec<SpecFile> = files
            .iter()
            .map(|f| SpecFile {
                name: f.name.clone(),
                content: f.content.clone(),
            })
            .collect();
        let work = tokio::task::spawn_blocking(move || {
            orbit_apispec::validate(spec_format(format), &spec_files)
        });
        let result = match tokio::time::timeout(VALIDATION_TIME_LIMIT, work).await {
            Err(_) => {
                return Err(Error::invalid(
                    "files",
                    format!(
                        "validating the schema took longer than {} s; it is refused",
                        VALIDATION_TIME_LIMIT.as_secs()
                    ),
                ));
            }
            Ok(Err(join)) => {
                return Err(Error::Internal(format!("schema validation failed: {join}")));
            }
            Ok(Ok(result)) => result,
        };
        Ok((files, result))
    }

    async fn parse_stored(&self, api: &Api, version: &ApiVersion) -> Result<Spec> {
        let (_, result) = self.check_files(api.format, version.files.clone()).await?;
        result.map_err(|d| {
            Error::Internal(format!(
                "stored version {} of API {} no longer validates: {}",
                version.version,
                api.slug,
                problems_message(&d)
            ))
        })
    }

    async fn find(&self, ws: &WorkspaceId, reference: &ApiRef) -> Result<Api> {
        let found = match reference {
            ApiRef::Id(id) => {
                let id = ApiId::parse("api_id", id)?;
                self.deps.apis.get_api(ws, &id).await
            }
            ApiRef::Slug(slug) => {
                let slug = PathSlug::parse("slug", slug)?;
                self.deps.apis.get_api_by_slug(ws, &slug).await
            }
        }
        .map_err(store_err)?;
        found.ok_or_else(|| {
            Error::NotFound(match reference {
                ApiRef::Id(id) => format!("API '{id}'"),
                ApiRef::Slug(slug) => format!("API '{slug}'"),
            })
        })
    }

    fn can_write(role: Role, what: &str) -> Result<()> {
        if role.can_write() {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!("viewers cannot {what}")))
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn create_api(
        &self,
        actor: &Actor,
        workspace_id: &str,
        slug: &str,
        name: &str,
        description: &str,
        owner: &str,
        tags: &[String],
        format: &str,
        lifecycle: &str,
    ) -> Result<Api> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "create APIs")?;
        let name = Api::validate_name(name)?;
        let slug = if slug.is_empty() {
            PathSlug::from_title(&name)
        } else {
            PathSlug::parse("slug", slug)?
        };
        let now = self.deps.clock.now();
        let api = Api {
            id: ApiId::new(self.deps.ids.new_id()),
            workspace_id: ws,
            slug,
            name,
            description: Api::validate_description(description)?,
            owner: Api::validate_owner(owner)?,
            tags: Api::validate_tags(tags)?,
            lifecycle: if lifecycle.is_empty() {
                Lifecycle::Experimental
            } else {
                parse_lifecycle(lifecycle)?
            },
            format: parse_format(format)?,
            deprecation_note: String::new(),
            latest_version: String::new(),
            search_terms: String::new(),
            created_at: now,
            updated_at: now,
            created_by: actor.user.id.clone(),
        };
        self.deps
            .apis
            .create_api(&api, &self.job_id())
            .await
            .map_err(store_err)?;
        self.signal();
        tracing::info!(api = %api.id, slug = %api.slug, "API created");
        Ok(api)
    }

    pub async fn get_api(&self, actor: &Actor, workspace_id: &str, r: &ApiRef) -> Result<Api> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        self.find(&ws, r).await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn list_apis(
        &self,
        actor: &Actor,
        workspace_id: &str,
        format: &str,
        owner: &str,
        tag: &str,
        lifecycle: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<Api>, Option<String>)> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let filter = ApiFilter {
            format: (!format.is_empty())
                .then(|| parse_format(format))
                .transpose()?,
            owner: (!owner.is_empty()).then(|| owner.trim().to_owned()),
            tag: (!tag.is_empty()).then(|| tag.trim().to_lowercase()),
            lifecycle: (!lifecycle.is_empty())
                .then(|| parse_lifecycle(lifecycle))
                .transpose()?,
        };
        let limit = match page_size {
            0 => DEFAULT_PAGE,
            n if n < 0 || n as u32 > MAX_PAGE => {
                return Err(Error::invalid(
                    "page_size",
                    format!("must be between 1 and {MAX_PAGE}"),
                ));
            }
            n => n as u32,
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(Cursor::decode(page_token)?)
        };
        let mut rows = self
            .deps
            .apis
            .list_apis(&ws, &filter, after.as_deref(), limit)
            .await
            .map_err(store_err)?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|a| Cursor::encode(a.slug.as_str()))
        } else {
            None
        };
        Ok((rows, next))
    }

    pub async fn update_api(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        patch: ApiPatch,
    ) -> Result<Api> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "change APIs")?;
        let mut api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        if let Some(name) = patch.name {
            api.name = Api::validate_name(&name)?;
        }
        if let Some(d) = patch.description {
            api.description = Api::validate_description(&d)?;
        }
        if let Some(o) = patch.owner {
            api.owner = Api::validate_owner(&o)?;
        }
        if let Some(t) = patch.tags {
            api.tags = Api::validate_tags(&t)?;
        }
        if let Some(l) = patch.lifecycle {
            api.lifecycle = parse_lifecycle(&l)?;
            if api.lifecycle != Lifecycle::Deprecated {
                api.deprecation_note.clear();
            }
        }
        api.updated_at = self.deps.clock.now();
        self.deps
            .apis
            .update_api(&api, &self.job_id())
            .await
            .map_err(store_err)?;
        self.signal();
        Ok(api)
    }

    pub async fn deprecate_api(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        note: &str,
    ) -> Result<Api> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "deprecate APIs")?;
        let mut api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        api.lifecycle = Lifecycle::Deprecated;
        api.deprecation_note = clean_text("note", note, false, 2000)?;
        api.updated_at = self.deps.clock.now();
        self.deps
            .apis
            .update_api(&api, &self.job_id())
            .await
            .map_err(store_err)?;
        self.signal();
        Ok(api)
    }

    /// Validates files without storing anything.
    pub async fn validate_schema(
        &self,
        actor: &Actor,
        workspace_id: &str,
        format: &str,
        files: Vec<ApiFile>,
    ) -> Result<Validation> {
        self.workspaces.authorize(actor, workspace_id).await?;
        let format = parse_format(format)?;
        let (_, result) = self.check_files(format, files).await?;
        Ok(match result {
            Ok(spec) => Validation {
                problems: Vec::new(),
                format_version: spec.format_version.clone(),
                title: spec.title.clone(),
                operations: spec.operation_count(),
            },
            Err(problems) => Validation {
                problems,
                format_version: String::new(),
                title: String::new(),
                operations: 0,
            },
        })
    }

    /// The highest published version strictly below `version`, if any.
    async fn previous(
        &self,
        api: &Api,
        below: Option<&SemVer>,
    ) -> Result<Option<ApiVersionSummary>> {
        let versions = self
            .deps
            .apis
            .list_versions(&api.workspace_id, &api.id)
            .await
            .map_err(store_err)?;
        Ok(versions
            .into_iter()
            .filter(|v| below.is_none_or(|b| &v.version < b))
            .max_by(|a, b| a.version.cmp(&b.version)))
    }

    async fn load_version(&self, api: &Api, version: &SemVer) -> Result<ApiVersion> {
        self.deps
            .apis
            .get_version(&api.workspace_id, &api.id, version)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("version {version} of API '{}'", api.slug)))
    }

    pub async fn publish_version(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
        release_notes: &str,
        files: Vec<ApiFile>,
    ) -> Result<Published> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "publish API versions")?;
        let mut api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        let semver = SemVer::parse("version", version)?;
        let release_notes = clean_text("release_notes", release_notes, false, RELEASE_NOTES_MAX)?;
        let (files, result) = self.check_files(api.format, files).await?;
        let spec = result.map_err(|d| Error::invalid("files", problems_message(&d)))?;
        if self
            .deps
            .apis
            .get_version(&ws, &api.id, &semver)
            .await
            .map_err(store_err)?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "version {semver} of API '{}' (published versions are immutable: publish a new version)",
                api.slug
            )));
        }
        let previous = self.previous(&api, Some(&semver)).await?;
        let mut changes = Vec::new();
        if let Some(prev) = &previous {
            let old = self.load_version(&api, &prev.version).await?;
            let old_spec = self.parse_stored(&api, &old).await?;
            changes = spec.changes_since(&old_spec);
            let breaking = changes.iter().filter(|c| c.breaking).count();
            if breaking > 0 && !prev.version.allows_breaking_to(&semver) {
                let policy = self.deps.apis.get_policy(&ws).await.map_err(store_err)?;
                if !policy.allow_breaking_without_major {
                    let next_major = if prev.version.major == 0 {
                        format!("0.{}.0", prev.version.minor + 1)
                    } else {
                        format!("{}.0.0", prev.version.major + 1)
                    };
                    return Err(Error::FailedPrecondition(format!(
                        "version {semver} has {breaking} breaking change{} against {}; publish it as {next_major} (a major version) or remove the breaking changes:{}",
                        if breaking == 1 { "" } else { "s" },
                        prev.version,
                        changes_message(&changes)
                    )));
                }
            }
        }
        let now = self.deps.clock.now();
        let stored = ApiVersion {
            api_id: api.id.clone(),
            workspace_id: ws.clone(),
            version: semver.clone(),
            content_hash: content_hash(&files),
            release_notes,
            breaking_changes: changes.iter().filter(|c| c.breaking).count() as i64,
            files,
            published_at: now,
            published_by: actor.user.id.clone(),
        };
        let latest = match SemVer::parse("latest_version", &api.latest_version) {
            Ok(current) if current > semver => current,
            _ => semver.clone(),
        };
        if latest == semver {
            api.search_terms = spec.search_terms().join(" ");
        }
        api.latest_version = latest.to_string();
        api.updated_at = now;
        self.deps
            .apis
            .publish_version(&api, &stored, &self.job_id())
            .await
            .map_err(store_err)?;
        self.signal();
        tracing::info!(api = %api.id, version = %semver, changes = changes.len(), "API version published");
        Ok(Published {
            version: stored,
            previous: previous.map(|p| p.version.to_string()),
            changes,
        })
    }

    pub async fn get_version(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
    ) -> Result<(Api, ApiVersion)> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        let v = if version.is_empty() || version == "latest" {
            if api.latest_version.is_empty() {
                return Err(Error::NotFound(format!(
                    "a published version of API '{}'",
                    api.slug
                )));
            }
            SemVer::parse("version", &api.latest_version)?
        } else {
            SemVer::parse("version", version)?
        };
        let found = self.load_version(&api, &v).await?;
        Ok((api, found))
    }

    /// Versions newest first.
    pub async fn list_versions(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
    ) -> Result<Vec<ApiVersionSummary>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        let mut versions = self
            .deps
            .apis
            .list_versions(&ws, &api.id)
            .await
            .map_err(store_err)?;
        versions.sort_by(|a, b| b.version.cmp(&a.version));
        Ok(versions)
    }

    /// Compares two published versions, or a published version (`from`, default: the latest)
    /// with proposed files that are not stored. Lists the consumers on versions older than the
    /// target that a breaking change would hit.
    pub async fn compare_versions(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        from: &str,
        to: &str,
        proposed: Vec<ApiFile>,
    ) -> Result<Comparison> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        let from_v = if from.is_empty() {
            if api.latest_version.is_empty() {
                return Err(Error::FailedPrecondition(format!(
                    "API '{}' has no published version to compare with",
                    api.slug
                )));
            }
            SemVer::parse("from", &api.latest_version)?
        } else {
            SemVer::parse("from", from)?
        };
        let old = self.load_version(&api, &from_v).await?;
        let old_spec = self.parse_stored(&api, &old).await?;
        let (to_label, to_v, new_spec) = if proposed.is_empty() {
            if to.is_empty() {
                return Err(Error::invalid(
                    "to",
                    "name a published version, or upload proposed files",
                ));
            }
            let to_v = SemVer::parse("to", to)?;
            let new = self.load_version(&api, &to_v).await?;
            (
                to_v.to_string(),
                Some(to_v),
                self.parse_stored(&api, &new).await?,
            )
        } else {
            let (_, result) = self.check_files(api.format, proposed).await?;
            let spec = result.map_err(|d| Error::invalid("files", problems_message(&d)))?;
            let to_v = if to.is_empty() {
                None
            } else {
                Some(SemVer::parse("to", to)?)
            };
            (
                if to.is_empty() {
                    "proposed".to_owned()
                } else {
                    format!("{to} (proposed)")
                },
                to_v,
                spec,
            )
        };
        let changes = new_spec.changes_since(&old_spec);
        let mut affected = Vec::new();
        if changes.iter().any(|c| c.breaking) {
            let consumers = self.consumers_of(&api).await?;
            affected = consumers
                .into_iter()
                .filter(|c| to_v.as_ref().is_none_or(|t| &c.version < t))
                .collect();
        }
        Ok(Comparison {
            from: from_v.to_string(),
            to: to_label,
            changes,
            affected,
        })
    }

    pub async fn reference(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
    ) -> Result<(Api, ApiVersion, Reference)> {
        let (api, v) = self
            .get_version(actor, workspace_id, api_id, version)
            .await?;
        let spec = self.parse_stored(&api, &v).await?;
        Ok((
            api,
            v,
            Reference {
                format_version: spec.format_version.clone(),
                title: spec.title.clone(),
                items: spec.reference(),
            },
        ))
    }

    /// Starts the `orbit.api.codegen` workflow for a published version (OpenAPI or protobuf)
    /// and the given languages (empty: every language). Returns the run's id.
    pub async fn generate_clients(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
        languages: &[String],
        force: bool,
    ) -> Result<String> {
        use orbit_workflows::codegen::{CodegenInput, KIND, LANGUAGES, SchemaFile};
        let (api, v) = self
            .get_version(actor, workspace_id, api_id, version)
            .await?;
        if !matches!(api.format, ApiFormat::OpenApi | ApiFormat::Protobuf) {
            return Err(Error::FailedPrecondition(format!(
                "clients are generated from OpenAPI and protobuf APIs; '{}' is {}",
                api.slug,
                api.format.as_str()
            )));
        }
        let languages: Vec<String> = if languages.is_empty() {
            LANGUAGES.iter().map(|(l, _)| (*l).to_owned()).collect()
        } else {
            languages.to_vec()
        };
        let input = CodegenInput {
            workspace_id: api.workspace_id.to_string(),
            api_id: api.id.to_string(),
            version: v.version.to_string(),
            format: api.format.as_str().to_owned(),
            files: v
                .files
                .into_iter()
                .map(|f| SchemaFile {
                    path: f.name,
                    content: f.content,
                })
                .collect(),
            languages,
            force,
        };
        let json = serde_json::to_string(&input)
            .map_err(|e| Error::Internal(format!("encoding the codegen input: {e}")))?;
        let (run, _) = self
            .workflows
            .start(actor, workspace_id, KIND, &json, "")
            .await?;
        Ok(run.id.to_string())
    }

    /// An OpenAPI version's document as JSON (YAML converted), for renderers.
    pub async fn openapi_json(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        version: &str,
    ) -> Result<String> {
        let (api, v) = self
            .get_version(actor, workspace_id, api_id, version)
            .await?;
        if api.format != ApiFormat::OpenApi {
            return Err(Error::FailedPrecondition(format!(
                "API '{}' is not an OpenAPI API",
                api.slug
            )));
        }
        let file = v
            .files
            .first()
            .ok_or_else(|| Error::Internal("a version without files".into()))?;
        orbit_apispec::yaml::parse(&file.name, &file.content, Default::default())
            .map(|doc| doc.root.to_string())
            .map_err(|d| Error::Internal(d.to_string()))
    }

    pub async fn add_consumer(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        repository: &str,
        version: &str,
    ) -> Result<Consumer> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "declare consumers")?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        let repository = validate_repository(repository)?;
        let v = SemVer::parse("version", version)?;
        self.load_version(&api, &v).await?;
        let consumer = Consumer {
            api_id: api.id.clone(),
            workspace_id: ws,
            repository,
            version: v,
            created_at: self.deps.clock.now(),
            created_by: actor.user.id.clone(),
            from_catalog_info: false,
        };
        self.deps
            .apis
            .put_consumer(&consumer)
            .await
            .map_err(store_err)?;
        Ok(consumer)
    }

    pub async fn remove_consumer(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
        repository: &str,
    ) -> Result<()> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::can_write(role, "remove consumers")?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        self.deps
            .apis
            .remove_consumer(&ws, &api.id, repository.trim())
            .await
            .map_err(store_err)
    }

    pub async fn list_consumers(
        &self,
        actor: &Actor,
        workspace_id: &str,
        api_id: &str,
    ) -> Result<Vec<Consumer>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let api = self.find(&ws, &ApiRef::Id(api_id.to_owned())).await?;
        self.consumers_of(&api).await
    }

    /// The API's consumers: those declared through `AddConsumer` and the catalogued
    /// repositories (not archived) whose `catalog-info.yaml` names the API (its slug) in
    /// `consumesApis`, on the latest published version (0.0.0 before the first). A
    /// declared consumer wins over a derived one of the same repository name. Derived
    /// consumers follow the catalog: a repository that stops consuming leaves the list.
    async fn consumers_of(&self, api: &Api) -> Result<Vec<Consumer>> {
        let mut out = self
            .deps
            .apis
            .list_consumers(&api.workspace_id, &api.id)
            .await
            .map_err(store_err)?;
        let repos = self
            .deps
            .repositories
            .repositories_with_api(&api.workspace_id, "consumes", api.slug.as_str())
            .await
            .map_err(store_err)?;
        let version = SemVer::parse("version", &api.latest_version).unwrap_or(SemVer {
            major: 0,
            minor: 0,
            patch: 0,
            pre: String::new(),
            build: String::new(),
        });
        for repo in repos.into_iter().filter(|r| !r.archived) {
            let name = repo.name.to_string();
            if out.iter().any(|c| c.repository == name) {
                continue;
            }
            out.push(Consumer {
                api_id: api.id.clone(),
                workspace_id: api.workspace_id.clone(),
                repository: name,
                version: version.clone(),
                created_at: repo.updated_at,
                created_by: repo.created_by,
                from_catalog_info: true,
            });
        }
        out.sort_by(|a, b| a.repository.cmp(&b.repository));
        Ok(out)
    }

    pub async fn get_policy(&self, actor: &Actor, workspace_id: &str) -> Result<ApiPolicy> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        self.deps.apis.get_policy(&ws).await.map_err(store_err)
    }

    pub async fn set_policy(
        &self,
        actor: &Actor,
        workspace_id: &str,
        policy: ApiPolicy,
    ) -> Result<ApiPolicy> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins can change the API policy".into(),
            ));
        }
        self.deps
            .apis
            .set_policy(&ws, &policy, self.deps.clock.now())
            .await
            .map_err(store_err)?;
        Ok(policy)
    }
}
