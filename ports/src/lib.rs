//! The ports: traits that Orbit's use cases (`orbit-services`) call and adapters implement.
//!
//! Dependency rule: `orbit-core` (types) ← `orbit-ports` (traits over those types) ←
//! `orbit-services` (use cases over the traits) ← adapters and apps. Ports never name a
//! technology; adapters never depend on each other.
//!
//! Every trait is `Send + Sync + 'static` and object safe, so the composition root can hold
//! `Arc<dyn Port>`. Doc comments say which errors an implementation must return; the shared
//! contract suites in `orbit-tests` check every adapter against them.

mod auth;
mod cache;
mod git;
mod githost;
mod knowledge;
mod markdown;
mod repository;
mod search;
mod secrets;
mod store;
mod system;
mod workflow;

pub use auth::{AuthError, Authenticator, Credentials};
pub use cache::{Cache, CacheError};
pub use git::{GitAuthor, GitClient, GitCommit, GitCredentials, GitError, GitFile, GitRemote};
pub use githost::{
    CreatedRepo, GitHost, GitHostConnectionStore, GitHostError, GitHostFactory, GitHostTarget,
    GitHttpRequest, GitHttpResponse, GitHttpServer, HostedRepo, NewHostedRepo, RepoVisibility,
    check_repo_name,
};
pub use knowledge::{IndexJob, KnowledgeStore};
pub use markdown::{MarkdownRenderer, Rendered};
pub use repository::{RepositoryIndexJob, RepositoryStore};
pub use search::{
    DocKind, SearchDoc, SearchError, SearchHit, SearchIndex, SearchQuery, SearchResults,
};
pub use secrets::{SealedSecret, SecretCipher, SecretError};
pub use store::{StoreError, TokenHash, UserStore, WorkspaceStore, page_of};
pub use system::{Clock, IdGenerator};
pub use workflow::{
    Activity, ActivityContext, ActivityError, ActivityOptions, CancelFlag, EngineError, RunFilter,
    StartRun, StepRecord, StepStatus, WorkflowContext, WorkflowDefinition, WorkflowEngine,
    WorkflowFailure, WorkflowRegistry, WorkflowStore,
};
