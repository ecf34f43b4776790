//! The repository catalog: registering, finding, changing and archiving repositories, and
//! reading their README, branches and recent commits through the git port.

use crate::{Deps, WorkspaceService, store_err};
use orbit_core::repository::{
    Lifecycle, RepoCursor, RepoName, RepoQuery, RepoSort, RepoVisibility, Repository, RepositoryId,
    validate_branch, validate_description, validate_language, validate_owner, validate_remote_url,
    validate_topics,
};
use orbit_core::{Actor, Error, Page, PageRequest, Result, WorkspaceId};
use orbit_ports::{DocKind, GitError, SearchDoc};

/// What a caller gives to register a repository. Empty strings take the defaults
/// (lifecycle `experimental`, visibility `internal`, default branch `main`).
#[derive(Debug, Clone, Default)]
pub struct RepositoryInput {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub language: String,
    pub topics: Vec<String>,
    pub lifecycle: String,
    pub default_branch: String,
    pub remote_url: String,
    pub visibility: String,
}

/// Changes to a repository; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RepositoryPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub language: Option<String>,
    pub topics: Option<Vec<String>>,
    pub lifecycle: Option<String>,
    pub default_branch: Option<String>,
    pub remote_url: Option<String>,
    pub visibility: Option<String>,
}

/// The filters and order of a list, as the caller sent them (empty: no filter).
#[derive(Debug, Clone, Default)]
pub struct RepositoryFilter {
    pub owner: String,
    pub language: String,
    pub topic: String,
    pub lifecycle: String,
    pub visibility: String,
    pub include_archived: bool,
    pub sort: String,
}

/// How a caller names a repository.
#[derive(Debug, Clone)]
pub enum RepositoryRef {
    Id(String),
    Name(String),
}

/// One commit as the details page shows it.
pub use orbit_ports::GitCommit;

/// What the git port tells about a repository, for its details.
#[derive(Debug, Clone, Default)]
pub struct RepositoryDetails {
    /// The README rendered to sanitized HTML (empty when there is none).
    pub readme_html: String,
    /// The README's file name (`README.md`), empty when there is none.
    pub readme_path: String,
    /// Branch names with their tip commit, sorted by name.
    pub branches: Vec<(String, String)>,
    /// The latest commits of the default branch, newest first.
    pub commits: Vec<GitCommit>,
    /// Why the git data could not be read (the catalog entry is still shown), or empty.
    pub git_error: String,
}

pub const MAX_README_BYTES: u64 = 512 * 1024;
pub const RECENT_COMMITS: usize = 20;

fn lifecycle(field: &'static str, value: &str) -> Result<Lifecycle> {
    Lifecycle::parse(value).ok_or_else(|| {
        Error::invalid(
            field,
            format!("{value:?} is not one of experimental, production, deprecated"),
        )
    })
}

fn visibility(field: &'static str, value: &str) -> Result<RepoVisibility> {
    RepoVisibility::parse(value).ok_or_else(|| {
        Error::invalid(
            field,
            format!("{value:?} is not one of public, internal, private"),
        )
    })
}

fn not_found(reference: &str) -> Error {
    Error::NotFound(format!("repository '{reference}'"))
}

/// The search document of a repository: its name, description and README are searched;
/// owner, language, topics and lifecycle are keywords.
pub fn search_doc(repo: &Repository) -> SearchDoc {
    let mut keywords = vec![
        repo.owner.clone(),
        repo.language.clone(),
        repo.lifecycle.as_str().to_owned(),
        repo.visibility.as_str().to_owned(),
    ];
    keywords.extend(repo.topics.iter().cloned());
    SearchDoc {
        workspace_id: repo.workspace_id.clone(),
        kind: DocKind::Repository,
        id: repo.id.to_string(),
        space_id: String::new(),
        title: repo.name.to_string(),
        body: repo.description.clone(),
        keywords: keywords.join(" "),
        updated_at: repo.updated_at.0,
    }
}

#[derive(Clone)]
pub struct RepositoryService {
    pub(crate) deps: Deps,
    workspaces: WorkspaceService,
    workflows: crate::WorkflowService,
    pub(crate) template_cache: crate::templates::TemplateCache,
}

impl RepositoryService {
    pub(crate) fn new(
        deps: Deps,
        workspaces: WorkspaceService,
        workflows: crate::WorkflowService,
    ) -> Self {
        RepositoryService {
            deps,
            workspaces,
            workflows,
            template_cache: Default::default(),
        }
    }

    pub(crate) fn workspaces(&self) -> &WorkspaceService {
        &self.workspaces
    }

    pub(crate) fn workflows(&self) -> &crate::WorkflowService {
        &self.workflows
    }

    fn job_id(&self) -> String {
        format!("repo:{}", self.deps.ids.new_id())
    }

    /// Registers a repository in the catalog (members and above). `already_exists` when the
    /// name (regardless of case) is taken in the workspace.
    pub async fn register(
        &self,
        actor: &Actor,
        workspace_id: &str,
        input: RepositoryInput,
    ) -> Result<Repository> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot register repositories".into(),
            ));
        }
        let repo = self.validate_new(actor, &ws, input, "manual")?;
        self.create(&repo).await?;
        Ok(repo)
    }

    /// Checks a new repository's fields and builds it (no I/O).
    pub fn validate_new(
        &self,
        actor: &Actor,
        ws: &WorkspaceId,
        input: RepositoryInput,
        source: &str,
    ) -> Result<Repository> {
        let now = self.deps.clock.now();
        Ok(Repository {
            id: RepositoryId::new(self.deps.ids.new_id()),
            workspace_id: ws.clone(),
            name: RepoName::parse("name", input.name.trim())?,
            description: validate_description(&input.description)?,
            owner: validate_owner(&input.owner)?,
            language: validate_language(&input.language)?,
            topics: validate_topics(&input.topics)?,
            lifecycle: if input.lifecycle.is_empty() {
                Lifecycle::Experimental
            } else {
                lifecycle("lifecycle", &input.lifecycle)?
            },
            default_branch: if input.default_branch.is_empty() {
                "main".to_owned()
            } else {
                validate_branch("default_branch", &input.default_branch)?
            },
            remote_url: validate_remote_url("remote_url", &input.remote_url)?,
            visibility: if input.visibility.is_empty() {
                RepoVisibility::Internal
            } else {
                visibility("visibility", &input.visibility)?
            },
            archived: false,
            source: source.to_owned(),
            created_at: now,
            updated_at: now,
            created_by: actor.user.id.clone(),
            links: Vec::new(),
            provides_apis: Vec::new(),
            consumes_apis: Vec::new(),
        })
    }

    /// Stores a validated repository (and queues its search document).
    pub async fn create(&self, repo: &Repository) -> Result<()> {
        self.deps
            .repositories
            .create_repository(repo, &self.job_id())
            .await
            .map_err(store_err)?;
        (self.deps.index_signal)();
        tracing::info!(repository = %repo.id, name = %repo.name, workspace = %repo.workspace_id, "repository registered");
        Ok(())
    }

    async fn find(&self, ws: &WorkspaceId, reference: &RepositoryRef) -> Result<Repository> {
        let found = match reference {
            RepositoryRef::Id(id) if !id.is_empty() => {
                let id = RepositoryId::parse("id", id)?;
                self.deps
                    .repositories
                    .get_repository(ws, &id)
                    .await
                    .map_err(store_err)?
            }
            RepositoryRef::Name(name) if !name.is_empty() => {
                let Ok(parsed) = RepoName::parse("name", name) else {
                    return Err(not_found(name));
                };
                self.deps
                    .repositories
                    .get_repository_by_name(ws, &parsed)
                    .await
                    .map_err(store_err)?
            }
            _ => return Err(Error::invalid("id or name", "is required")),
        };
        let label = match reference {
            RepositoryRef::Id(s) | RepositoryRef::Name(s) => s,
        };
        found.ok_or_else(|| not_found(label))
    }

    pub async fn get(
        &self,
        actor: &Actor,
        workspace_id: &str,
        reference: &RepositoryRef,
    ) -> Result<Repository> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        self.find(&ws, reference).await
    }

    pub async fn list(
        &self,
        actor: &Actor,
        workspace_id: &str,
        filter: &RepositoryFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page<Repository>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = PageRequest::parse(page_size, page_token)?;
        let sort = RepoSort::parse(&filter.sort).ok_or_else(|| {
            Error::invalid(
                "sort",
                format!("{:?} is not one of name, updated, created", filter.sort),
            )
        })?;
        let after = match &page.after {
            Some(text) => Some(RepoCursor::parse(text, sort).ok_or_else(|| {
                Error::invalid(
                    "page_token",
                    "belongs to a list in another order; start again without a token",
                )
            })?),
            None => None,
        };
        let text = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        let query = RepoQuery {
            owner: text(&filter.owner),
            language: text(&filter.language),
            topic: text(&filter.topic).map(|t| t.to_lowercase()),
            lifecycle: match filter.lifecycle.as_str() {
                "" => None,
                v => Some(lifecycle("lifecycle", v)?),
            },
            visibility: match filter.visibility.as_str() {
                "" => None,
                v => Some(visibility("visibility", v)?),
            },
            include_archived: filter.include_archived,
            sort,
            after,
            limit: page.limit,
        };
        let rows = self
            .deps
            .repositories
            .list_repositories(&ws, &query)
            .await
            .map_err(store_err)?;
        Ok(Page::from_overfetch(rows, page.limit, |r| {
            RepoCursor::after(r, sort)
        }))
    }

    /// Changes a repository's fields (members and above).
    pub async fn update(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        patch: RepositoryPatch,
    ) -> Result<Repository> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let mut repo = self.find(&ws, &RepositoryRef::Id(id.to_owned())).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot change repositories".into(),
            ));
        }
        if let Some(name) = patch.name {
            repo.name = RepoName::parse("name", name.trim())?;
        }
        if let Some(v) = patch.description {
            repo.description = validate_description(&v)?;
        }
        if let Some(v) = patch.owner {
            repo.owner = validate_owner(&v)?;
        }
        if let Some(v) = patch.language {
            repo.language = validate_language(&v)?;
        }
        if let Some(v) = patch.topics {
            repo.topics = validate_topics(&v)?;
        }
        if let Some(v) = patch.lifecycle {
            repo.lifecycle = lifecycle("lifecycle", &v)?;
        }
        if let Some(v) = patch.default_branch {
            repo.default_branch = validate_branch("default_branch", &v)?;
        }
        if let Some(v) = patch.remote_url {
            repo.remote_url = validate_remote_url("remote_url", &v)?;
        }
        if let Some(v) = patch.visibility {
            repo.visibility = visibility("visibility", &v)?;
        }
        self.save(repo).await
    }

    /// Archives (or un-archives) a repository: archived ones leave lists unless asked for.
    /// Owners and admins only.
    pub async fn archive(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        archived: bool,
    ) -> Result<Repository> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let mut repo = self.find(&ws, &RepositoryRef::Id(id.to_owned())).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins archive repositories".into(),
            ));
        }
        repo.archived = archived;
        self.save(repo).await
    }

    async fn save(&self, mut repo: Repository) -> Result<Repository> {
        repo.updated_at = self.deps.clock.now();
        self.deps
            .repositories
            .update_repository(&repo, &self.job_id())
            .await
            .map_err(store_err)?;
        (self.deps.index_signal)();
        Ok(repo)
    }

    /// The README (rendered), branches and recent commits of a repository, read from its
    /// remote through the git port. A remote that cannot be read is reported in
    /// `git_error`, not as a failure: the catalog entry stands on its own.
    pub async fn details(
        &self,
        actor: &Actor,
        workspace_id: &str,
        reference: &RepositoryRef,
    ) -> Result<(Repository, RepositoryDetails)> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let repo = self.find(&ws, reference).await?;
        let mut details = RepositoryDetails::default();
        if repo.remote_url.is_empty() {
            details.git_error = "this repository has no remote URL".into();
            return Ok((repo, details));
        }
        match self.read_git(&repo, &mut details).await {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(repository = %repo.id, error = %e, "cannot read the repository's remote");
                details.git_error = e.to_string();
            }
        }
        Ok((repo, details))
    }

    async fn read_git(
        &self,
        repo: &Repository,
        details: &mut RepositoryDetails,
    ) -> std::result::Result<(), GitError> {
        let git = &self.deps.git;
        let remote = match self.own_host_remote(repo).await {
            Some(remote) => remote,
            None => orbit_ports::GitRemote::anonymous(repo.remote_url.clone()),
        };
        details.branches = git.branches(&remote).await?;
        if !details
            .branches
            .iter()
            .any(|(name, _)| name == &repo.default_branch)
        {
            return Ok(());
        }
        details.commits = git
            .log(&remote, &repo.default_branch, RECENT_COMMITS)
            .await?;
        for name in ["README.md", "README.markdown", "readme.md", "README"] {
            if let Some(bytes) = git
                .read_file(&remote, &repo.default_branch, name, MAX_README_BYTES)
                .await?
            {
                let text = String::from_utf8_lossy(&bytes);
                details.readme_html = self.deps.markdown.render(&text).html;
                details.readme_path = name.to_owned();
                break;
            }
        }
        Ok(())
    }

    /// When the repository lives on Orbit's own git server (its remote URL is the clone URL
    /// of the workspace's repository of that name there), a remote Orbit reads directly:
    /// the server's HTTP side asks for a token that the catalog does not have.
    async fn own_host_remote(&self, repo: &Repository) -> Option<orbit_ports::GitRemote> {
        let name = repo.name.as_str();
        if !repo.remote_url.ends_with(&format!("/{name}.git")) {
            return None;
        }
        let ws = self
            .deps
            .workspaces
            .get_workspace(&repo.workspace_id)
            .await
            .ok()??;
        let host = self
            .deps
            .git_hosts
            .open(&orbit_ports::GitHostTarget::Embedded {
                workspace: ws.id,
                slug: ws.slug,
            })
            .ok()?;
        let hosted = host.get_repo(name).await.ok()??;
        if hosted.clone_url != repo.remote_url {
            return None;
        }
        host.push_access(name).await.ok()
    }
}
