//! Repository templates (registered from git), workspace policies, and creating a
//! repository from a template as the durable workflow `orbit.repository.create`.

use crate::repositories::{RepositoryInput, RepositoryService};
use crate::{GitHostService, githost_err, store_err};
use async_trait::async_trait;
use orbit_core::repository::{
    RepoPolicy, RepoTemplate, RepoVisibility, validate_branch, validate_remote_url,
};
use orbit_core::{Actor, Error, Result, UserId, WorkspaceId};
use orbit_ports::{
    Activity, ActivityContext, ActivityError, GitAuthor, GitError, GitFile, GitRemote,
    NewHostedRepo, StoreError,
};
use orbit_template::{Limits, MANIFEST_FILE, Manifest, RenderedFile, TemplateError};
use orbit_workflows::repository_create::{
    CreateInput, GENERATE, Generated, KIND, NewRepository, REGISTER,
};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

fn template_err(err: TemplateError) -> Error {
    match err {
        TemplateError::Manifest { .. } => Error::invalid("template", err.to_string()),
        TemplateError::Parameters(_) => Error::invalid("parameters", err.to_string()),
        TemplateError::Render { .. } | TemplateError::Path { .. } | TemplateError::Limit(_) => {
            Error::FailedPrecondition(format!("the template cannot be rendered: {err}"))
        }
    }
}

fn git_err(err: GitError) -> Error {
    match err {
        GitError::NotFound(m) => {
            Error::FailedPrecondition(format!("cannot read the template: {m}"))
        }
        GitError::TooLarge(m) => {
            Error::FailedPrecondition(format!("the template is too large: {m}"))
        }
        GitError::Refused(m) => Error::FailedPrecondition(format!("the git remote refused: {m}")),
        GitError::Unavailable(m) => Error::Unavailable(format!("git is unavailable: {m}")),
    }
}

/// A template with its manifest, as shown in the gallery and the form.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub template: RepoTemplate,
    pub manifest: Manifest,
}

/// Template folders read recently, by (source URL, commit, folder): a template at a commit
/// never changes, so starting a run (which renders once to refuse bad parameters) and the
/// run's generate step read it once. At most [`TemplateCache::ENTRIES`] folders.
#[derive(Clone, Default)]
pub struct TemplateCache(Arc<std::sync::Mutex<Vec<CachedTemplate>>>);

type TemplateKey = (String, String, String);
type CachedTemplate = (TemplateKey, Arc<Vec<GitFile>>);

impl TemplateCache {
    const ENTRIES: usize = 4;

    fn get(&self, key: &TemplateKey) -> Option<Arc<Vec<GitFile>>> {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(i);
        let files = entry.1.clone();
        entries.push(entry);
        Some(files)
    }

    fn put(&self, key: TemplateKey, files: Arc<Vec<GitFile>>) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| k != &key);
        if entries.len() >= Self::ENTRIES {
            entries.remove(0);
        }
        entries.push((key, files));
    }
}

impl RepositoryService {
    fn limits() -> Limits {
        Limits::default()
    }

    /// Reads a template folder at its ref and parses its manifest.
    async fn fetch_template(
        &self,
        url: &str,
        git_ref: &str,
        path: &str,
    ) -> Result<(Manifest, String, Vec<GitFile>)> {
        let limits = Self::limits();
        // The branch's tip names the content: a folder read at that commit is reused.
        let tip = self
            .deps
            .git
            .branches(&GitRemote::anonymous(url))
            .await
            .ok()
            .and_then(|b| b.into_iter().find(|(name, _)| name == git_ref))
            .map(|(_, commit)| commit);
        let cached = tip.as_ref().and_then(|commit| {
            self.template_cache
                .get(&(url.to_owned(), commit.clone(), path.to_owned()))
        });
        let files = match cached {
            Some(files) => files,
            None => {
                let (commit, files) = self
                    .deps
                    .git
                    .read(
                        url,
                        git_ref,
                        path,
                        limits.max_files,
                        limits.max_total_bytes as u64,
                    )
                    .await
                    .map_err(git_err)?;
                let files = Arc::new(files);
                self.template_cache
                    .put((url.to_owned(), commit, path.to_owned()), files.clone());
                files
            }
        };
        let files = files.as_ref().clone();
        let Some((_, bytes)) = files.iter().find(|(p, _)| p == MANIFEST_FILE) else {
            return Err(Error::invalid(
                "path",
                format!("the folder has no {MANIFEST_FILE}"),
            ));
        };
        let source = String::from_utf8_lossy(bytes).into_owned();
        let manifest = Manifest::parse(&source).map_err(template_err)?;
        Ok((manifest, source, files))
    }

    /// Registers a template: a folder (`path`, "" for the root) of the git repository
    /// `source_url` at branch `git_ref`. Members and above.
    pub async fn register_template(
        &self,
        actor: &Actor,
        workspace_id: &str,
        source_url: &str,
        git_ref: &str,
        path: &str,
    ) -> Result<TemplateView> {
        let (ws, role) = self.workspaces().authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot register templates".into(),
            ));
        }
        let url = validate_remote_url("source_url", source_url)?;
        if url.is_empty() {
            return Err(Error::invalid("source_url", "is required"));
        }
        let git_ref = validate_branch("ref", if git_ref.is_empty() { "main" } else { git_ref })?;
        let path = path.trim_matches('/').to_owned();
        if !path.is_empty() {
            orbit_template::check_path(&path).map_err(|e| Error::invalid("path", e.to_string()))?;
        }
        let (manifest, source, _) = self.fetch_template(&url, &git_ref, &path).await?;
        let template = RepoTemplate {
            id: self.deps.ids.new_id(),
            workspace_id: ws,
            name: manifest.name.clone(),
            source_url: url,
            git_ref,
            path,
            manifest: source,
            created_at: self.deps.clock.now(),
            created_by: actor.user.id.clone(),
        };
        self.deps
            .repositories
            .create_template(&template)
            .await
            .map_err(store_err)?;
        Ok(TemplateView { template, manifest })
    }

    pub async fn list_templates(
        &self,
        actor: &Actor,
        workspace_id: &str,
    ) -> Result<Vec<TemplateView>> {
        let (ws, _) = self.workspaces().authorize(actor, workspace_id).await?;
        let list = self
            .deps
            .repositories
            .list_templates(&ws)
            .await
            .map_err(store_err)?;
        list.into_iter()
            .map(|template| {
                let manifest = Manifest::parse(&template.manifest).map_err(template_err)?;
                Ok(TemplateView { template, manifest })
            })
            .collect()
    }

    /// A template by id or name, with its parameters.
    pub async fn get_template(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id_or_name: &str,
    ) -> Result<TemplateView> {
        let (ws, _) = self.workspaces().authorize(actor, workspace_id).await?;
        self.template_in(&ws, id_or_name).await
    }

    async fn template_in(&self, ws: &WorkspaceId, id_or_name: &str) -> Result<TemplateView> {
        if id_or_name.is_empty() {
            return Err(Error::invalid("template", "is required"));
        }
        let template = self
            .deps
            .repositories
            .get_template(ws, id_or_name)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("template '{id_or_name}'")))?;
        let manifest = Manifest::parse(&template.manifest).map_err(template_err)?;
        Ok(TemplateView { template, manifest })
    }

    /// Renders a template with `parameters` at its ref, creating nothing: the tree and
    /// the contents the new repository would get.
    pub async fn dry_run(
        &self,
        actor: &Actor,
        workspace_id: &str,
        template: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Vec<RenderedFile>> {
        let (ws, _) = self.workspaces().authorize(actor, workspace_id).await?;
        let view = self.template_in(&ws, template).await?;
        self.render_template(&view.template, parameters).await
    }

    async fn render_template(
        &self,
        template: &RepoTemplate,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Vec<RenderedFile>> {
        Ok(self.render_template_timed(template, parameters).await?.0)
    }

    /// [`Self::render_template`], also returning how long fetching and rendering took (ms).
    async fn render_template_timed(
        &self,
        template: &RepoTemplate,
        parameters: &BTreeMap<String, String>,
    ) -> Result<(Vec<RenderedFile>, u64, u64)> {
        let t = std::time::Instant::now();
        let (manifest, _, files) = self
            .fetch_template(&template.source_url, &template.git_ref, &template.path)
            .await?;
        let fetch_ms = t.elapsed().as_millis() as u64;
        let t = std::time::Instant::now();
        let rendered = Self::render_files(&manifest, &files, parameters)?;
        Ok((rendered, fetch_ms, t.elapsed().as_millis() as u64))
    }

    fn render_files(
        manifest: &Manifest,
        files: &[GitFile],
        parameters: &BTreeMap<String, String>,
    ) -> Result<Vec<RenderedFile>> {
        let input: BTreeMap<String, serde_json::Value> = parameters
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let values = manifest.validate(&input).map_err(template_err)?;
        orbit_template::render(manifest, files, &values, &Self::limits()).map_err(template_err)
    }

    pub async fn get_policy(&self, actor: &Actor, workspace_id: &str) -> Result<RepoPolicy> {
        let (ws, _) = self.workspaces().authorize(actor, workspace_id).await?;
        self.deps
            .repositories
            .get_policy(&ws)
            .await
            .map_err(store_err)
    }

    /// Replaces the workspace's policy (owners and admins).
    pub async fn set_policy(
        &self,
        actor: &Actor,
        workspace_id: &str,
        policy: RepoPolicy,
    ) -> Result<RepoPolicy> {
        let (ws, role) = self.workspaces().authorize(actor, workspace_id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins set repository policies".into(),
            ));
        }
        if !policy.name_pattern.is_empty() {
            regex::Regex::new(&format!("^(?:{})$", policy.name_pattern)).map_err(|e| {
                Error::invalid(
                    "name_pattern",
                    format!("is not a valid regular expression: {e}"),
                )
            })?;
        }
        self.deps
            .repositories
            .put_policy(&ws, &policy, self.deps.clock.now())
            .await
            .map_err(store_err)?;
        Ok(policy)
    }

    /// Checks everything, then starts `orbit.repository.create`. Returns the run's id.
    /// Policy violations are `failed_precondition`, listing every broken rule.
    pub async fn create_from_template(
        &self,
        actor: &Actor,
        workspace_id: &str,
        template: &str,
        input: RepositoryInput,
        parameters: BTreeMap<String, String>,
    ) -> Result<String> {
        let (ws, role) = self.workspaces().authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot create repositories".into(),
            ));
        }
        let view = self.template_in(&ws, template).await?;
        let owner_given = !input.owner.trim().is_empty();
        let policy = self
            .deps
            .repositories
            .get_policy(&ws)
            .await
            .map_err(store_err)?;
        let visibility = RepoVisibility::parse(if input.visibility.is_empty() {
            "internal"
        } else {
            &input.visibility
        });
        if let Some(visibility) = visibility {
            let name_matches = policy.name_pattern.is_empty()
                || regex::Regex::new(&format!("^(?:{})$", policy.name_pattern))
                    .is_ok_and(|re| re.is_match(input.name.trim()));
            let broken = policy.violations(
                input.name.trim(),
                name_matches,
                if owner_given { &input.owner } else { "" },
                visibility,
                &view.template.name,
            );
            if !broken.is_empty() {
                return Err(Error::FailedPrecondition(format!(
                    "the workspace's repository policy refuses this: {}",
                    broken.join("; ")
                )));
            }
        }
        let repo = self.validate_new(actor, &ws, input, "template")?;
        if let Some(existing) = self
            .deps
            .repositories
            .get_repository_by_name(&ws, &repo.name)
            .await
            .map_err(store_err)?
        {
            return Err(Error::AlreadyExists(format!(
                "repository '{}'",
                existing.name
            )));
        }
        // Fail fast on bad parameters or a template that does not render.
        self.render_template(&view.template, &parameters).await?;
        let create = CreateInput {
            template_id: view.template.id.clone(),
            repository: NewRepository {
                name: repo.name.to_string(),
                description: repo.description,
                owner: repo.owner,
                language: repo.language,
                topics: repo.topics,
                lifecycle: repo.lifecycle.as_str().to_owned(),
                visibility: repo.visibility.as_str().to_owned(),
                default_branch: repo.default_branch,
            },
            parameters,
            user_id: actor.user.id.to_string(),
            clone_url: String::new(),
        };
        let json = serde_json::to_string(&create).map_err(|e| Error::Internal(e.to_string()))?;
        let (run, _) = self
            .workflows()
            .start(actor, workspace_id, KIND, &json, "")
            .await?;
        Ok(run.id.to_string())
    }
}

/// Lets the activities reach the services once the composition root has built them.
#[derive(Clone, Default)]
pub struct RepoHandle(Arc<OnceLock<(RepositoryService, GitHostService)>>);

impl RepoHandle {
    pub fn set(&self, repositories: RepositoryService, git_hosts: GitHostService) {
        let _ = self.0.set((repositories, git_hosts));
    }

    fn get(&self) -> Result<(RepositoryService, GitHostService), ActivityError> {
        self.0
            .get()
            .cloned()
            .ok_or_else(|| ActivityError::Retryable("services are starting".into()))
    }
}

fn activity_err(err: Error) -> ActivityError {
    match err {
        Error::Unavailable(m) | Error::Internal(m) => ActivityError::Retryable(m),
        other => ActivityError::NonRetryable(other.to_string()),
    }
}

fn decode(input: &str) -> Result<CreateInput, ActivityError> {
    serde_json::from_str(input).map_err(|e| ActivityError::NonRetryable(e.to_string()))
}

/// `repository.generate`: render, create or adopt the remote, push the first commit once.
pub struct GenerateActivity {
    pub handle: RepoHandle,
}

#[async_trait]
impl Activity for GenerateActivity {
    fn name(&self) -> &'static str {
        GENERATE
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let create = decode(&input)?;
        let (repos, hosts) = self.handle.get()?;
        let ws = &ctx.workspace_id;
        let template = repos
            .deps
            .repositories
            .get_template(ws, &create.template_id)
            .await
            .map_err(|e| ActivityError::Retryable(e.to_string()))?
            .ok_or_else(|| ActivityError::NonRetryable("the template was removed".into()))?;
        let (files, fetch_ms, render_ms) = repos
            .render_template_timed(&template, &create.parameters)
            .await
            .map_err(activity_err)?;
        let t = std::time::Instant::now();
        let host = hosts
            .open_for_workspace(ws, None)
            .await
            .map_err(activity_err)?;
        let r = &create.repository;
        let visibility = match r.visibility.as_str() {
            "public" => orbit_ports::RepoVisibility::Public,
            "private" => orbit_ports::RepoVisibility::Private,
            _ => orbit_ports::RepoVisibility::Internal,
        };
        let created = host
            .create_repo(&NewHostedRepo {
                name: r.name.clone(),
                description: r.description.lines().next().unwrap_or("").to_owned(),
                visibility,
                default_branch: r.default_branch.clone(),
            })
            .await
            .map_err(|e| activity_err(githost_err(e)))?;
        let remote: GitRemote = host
            .push_access(&r.name)
            .await
            .map_err(|e| activity_err(githost_err(e)))?;
        let create_ms = t.elapsed().as_millis() as u64;
        let t = std::time::Instant::now();
        let git_files: Vec<GitFile> = files
            .iter()
            .map(|f| (f.path.clone(), f.content.clone()))
            .collect();
        let git = &repos.deps.git;
        // A previous attempt pushed already: the branch must hold exactly our files.
        let adopt = |present: Vec<GitFile>| {
            let mut ours = git_files.clone();
            ours.sort();
            let mut theirs = present;
            theirs.sort();
            if ours == theirs {
                Ok(())
            } else {
                Err(ActivityError::NonRetryable(format!(
                    "the repository '{}' already exists on the git host with other content; choose another name",
                    r.name
                )))
            }
        };
        let branches = git.branches(&remote).await.map_err(git_activity_err)?;
        let commit = match branches.iter().find(|(b, _)| b == &r.default_branch) {
            Some((_, tip)) => {
                let (_, present) = git
                    .read_from(&remote, &r.default_branch, "", 100_000, u64::MAX)
                    .await
                    .map_err(git_activity_err)?;
                adopt(present)?;
                tip.clone()
            }
            None => {
                let author = GitAuthor {
                    name: "Orbit".into(),
                    email: "orbit@localhost".into(),
                };
                let message = format!("Initial commit from the template {}", template.name);
                match git
                    .publish_to(
                        &remote,
                        &r.default_branch,
                        "",
                        &git_files,
                        &message,
                        &author,
                    )
                    .await
                {
                    Ok(commit) => commit.unwrap_or_default(),
                    // The push was refused because the branch appeared meanwhile (a push
                    // of a previous attempt that the server finished after its client
                    // died): adopt it when it holds our files.
                    Err(GitError::Refused(m)) => {
                        let Ok((tip, present)) = git
                            .read_from(&remote, &r.default_branch, "", 100_000, u64::MAX)
                            .await
                        else {
                            return Err(git_activity_err(GitError::Refused(m)));
                        };
                        adopt(present)?;
                        tip
                    }
                    Err(e) => return Err(git_activity_err(e)),
                }
            }
        };
        let out = Generated {
            clone_url: created.repo.clone_url,
            commit,
            files: files.len(),
            adopted: created.already_existed,
            fetch_ms,
            render_ms,
            create_ms,
            push_ms: t.elapsed().as_millis() as u64,
        };
        serde_json::to_string(&out).map_err(|e| ActivityError::NonRetryable(e.to_string()))
    }
}

fn git_activity_err(err: GitError) -> ActivityError {
    match err {
        GitError::Unavailable(m) => ActivityError::Retryable(m),
        other => ActivityError::NonRetryable(other.to_string()),
    }
}

/// `repository.register`: add the new repository to the catalog once.
pub struct RegisterActivity {
    pub handle: RepoHandle,
}

#[async_trait]
impl Activity for RegisterActivity {
    fn name(&self) -> &'static str {
        REGISTER
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let create = decode(&input)?;
        let (repos, _) = self.handle.get()?;
        let user = repos
            .deps
            .users
            .get_user(&UserId::new(create.user_id.clone()))
            .await
            .map_err(|e| ActivityError::Retryable(e.to_string()))?
            .ok_or_else(|| {
                ActivityError::NonRetryable("the user who started this is gone".into())
            })?;
        let actor = Actor {
            user,
            token_id: None,
        };
        let r = create.repository;
        let repo = repos
            .validate_new(
                &actor,
                &ctx.workspace_id,
                RepositoryInput {
                    name: r.name,
                    description: r.description,
                    owner: r.owner,
                    language: r.language,
                    topics: r.topics,
                    lifecycle: r.lifecycle,
                    default_branch: r.default_branch,
                    remote_url: create.clone_url.clone(),
                    visibility: r.visibility,
                },
                "template",
            )
            .map_err(activity_err)?;
        match repos.create(&repo).await {
            Ok(()) => Ok(repo.id.to_string()),
            Err(Error::AlreadyExists(_)) => {
                let existing = repos
                    .deps
                    .repositories
                    .get_repository_by_name(&ctx.workspace_id, &repo.name)
                    .await
                    .map_err(|e: StoreError| ActivityError::Retryable(e.to_string()))?
                    .ok_or_else(|| ActivityError::Retryable("the repository vanished".into()))?;
                if existing.remote_url == repo.remote_url {
                    Ok(existing.id.to_string())
                } else {
                    Err(ActivityError::NonRetryable(format!(
                        "the catalog already has a repository named '{}'",
                        repo.name
                    )))
                }
            }
            Err(e) => Err(activity_err(e)),
        }
    }
}
