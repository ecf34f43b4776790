//! Orbit's use cases. Each service method takes the authenticated [`Actor`], checks what the
//! actor may do inside the workspace it names, and talks to the outside world only through
//! the ports. Errors are `orbit_core::Error`, mapped to protocol codes once, at the edge.
//!
//! Architecture invariant: no method reads or writes a workspace's data before it has
//! resolved the actor's role in that workspace (`WorkspaceService::role_of`).

mod apis;
mod artifacts;
mod cached;
pub mod codegen;
pub mod githost;
pub mod import;
mod knowledge;
pub mod repositories;
mod search;
pub mod sync;
pub mod templates;
mod tokens;
mod users;
pub mod webhooks;
mod workflows;
mod workspaces;

use std::sync::Arc;

pub use apis::{
    ApiCatalogService, ApiPatch, ApiRef, Change, Comparison, Published, Reference, Validation,
    content_hash,
};
pub use artifacts::{ArtifactService, DOWNLOAD_URL_TTL, Download};
pub use cached::{CacheStats, CachedReads};
pub use githost::{
    GitHostConnectionPatch, GitHostService, NewGitHostConnection, githost_err, rotate_git_secrets,
    token_context,
};
pub use knowledge::{
    KnowledgeService, PagePatch, PageView, SpacePatch, SpaceRef, SpaceView, TreeEntry,
};
pub use repositories::{
    RepositoryDetails, RepositoryFilter, RepositoryInput, RepositoryPatch, RepositoryRef,
    RepositoryService,
};
pub use search::{SearchIndexer, SearchPage, SearchService};
pub use tokens::{Bootstrap, TOKEN_PREFIX, TokenService, hash_secret};
pub use users::UserService;
pub use webhooks::{WebhookOutcome, WebhookRequest, WebhookService, rotate_webhook_secrets};
pub use workflows::WorkflowService;
pub use workspaces::{WorkspaceRef, WorkspaceService};

use orbit_core::Error;
use orbit_ports::{
    ApiStore, Cache, Clock, GitHostConnectionStore, GitHostFactory, GitHttpServer, IdGenerator,
    KnowledgeStore, MarkdownRenderer, ObjectStore, SearchIndex, SecretCipher, StoreError,
    UserStore, WorkflowEngine, WorkflowRegistry, WorkspaceStore,
};

/// Everything the use cases need, chosen by the composition root.
#[derive(Clone)]
pub struct Deps {
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub users: Arc<dyn UserStore>,
    pub cache: Arc<dyn Cache>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub knowledge: Arc<dyn KnowledgeStore>,
    pub search: Arc<dyn SearchIndex>,
    pub markdown: Arc<dyn MarkdownRenderer>,
    /// Called after every write that queued a search-index job (wakes the indexer).
    pub index_signal: Arc<dyn Fn() + Send + Sync>,
    pub limits: Limits,
    pub workflows: Arc<dyn WorkflowEngine>,
    /// The workflow kinds this server starts (their definitions validate input).
    pub workflow_definitions: Arc<WorkflowRegistry>,
    /// The repository catalog.
    pub repositories: Arc<dyn orbit_ports::RepositoryStore>,
    /// Reads repositories' branches, commits and files (details pages, templates).
    pub git: Arc<dyn orbit_ports::GitClient>,
    /// Git hosts: stored connections (tokens sealed by `secrets`), the factory that opens
    /// a host, and Orbit's own smart-HTTP git server.
    pub git_connections: Arc<dyn GitHostConnectionStore>,
    pub git_hosts: Arc<dyn GitHostFactory>,
    pub git_http: Arc<dyn GitHttpServer>,
    pub secrets: Arc<dyn SecretCipher>,
    /// The API catalog's store.
    pub apis: Arc<dyn ApiStore>,
    /// Object storage (generated client archives).
    pub objects: Arc<dyn ObjectStore>,
    /// Webhook secrets (sealed) and processed deliveries.
    pub webhooks: Arc<dyn orbit_ports::WebhookStore>,
}

/// Size limits of user content.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest page body, in bytes.
    pub max_page_bytes: usize,
    /// Largest API schema version (all its files together), in bytes.
    pub max_api_version_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_page_bytes: 1024 * 1024,
            max_api_version_bytes: 10 * 1024 * 1024,
        }
    }
}

/// All use cases, built once per process and shared by every request.
#[derive(Clone)]
pub struct Services {
    pub workspaces: WorkspaceService,
    pub users: UserService,
    pub tokens: TokenService,
    pub knowledge: KnowledgeService,
    pub search: SearchService,
    pub indexer: SearchIndexer,
    pub workflows: WorkflowService,
    pub git_hosts: GitHostService,
    pub apis: ApiCatalogService,
    pub cache: CachedReads,
    pub artifacts: ArtifactService,
    pub deps: Deps,
    pub repositories: RepositoryService,
    pub webhooks: WebhookService,
}

impl Services {
    pub fn new(deps: Deps) -> Self {
        let cache = CachedReads::new(deps.cache.clone());
        let workspaces = WorkspaceService::new(deps.clone(), cache.clone());
        let workflows = WorkflowService::new(deps.clone(), workspaces.clone());
        let knowledge = KnowledgeService::new(
            deps.clone(),
            workspaces.clone(),
            cache.clone(),
            workflows.clone(),
        );
        let repositories =
            RepositoryService::new(deps.clone(), workspaces.clone(), workflows.clone());
        let git_hosts = GitHostService::new(deps.clone(), workspaces.clone());
        Services {
            webhooks: WebhookService::new(deps.clone(), workspaces.clone(), git_hosts.clone()),
            repositories,
            search: SearchService::new(deps.clone(), workspaces.clone(), knowledge.clone()),
            indexer: SearchIndexer::new(deps.clone()),
            git_hosts,
            apis: ApiCatalogService::new(deps.clone(), workspaces.clone(), workflows.clone()),
            workflows,
            knowledge,
            artifacts: ArtifactService::new(workspaces.clone(), deps.objects.clone()),
            workspaces,
            users: UserService::new(deps.clone()),
            tokens: TokenService::new(deps.clone(), cache.clone()),
            cache,
            deps,
        }
    }
}

/// Store failures become domain errors; `what` names the thing for messages.
pub(crate) fn store_err(err: StoreError) -> Error {
    match err {
        StoreError::AlreadyExists(what) => Error::AlreadyExists(what),
        StoreError::NotFound(what) => Error::NotFound(what),
        StoreError::LastOwner => Error::FailedPrecondition(
            "the last owner of a workspace cannot be removed or demoted; make another member an owner first"
                .into(),
        ),
        StoreError::Stale { current } => Error::Aborted(format!(
            "someone else saved this in the meantime; the current revision is {current}: reload, merge your changes and save again"
        )),
        StoreError::Refused(msg) => Error::FailedPrecondition(msg),
        StoreError::Unavailable(msg) => Error::Unavailable(format!("the database is unavailable: {msg}")),
        StoreError::Other(msg) => Error::Internal(msg),
    }
}
