//! The ports: traits that Orbit's use cases (`orbit-services`) call and adapters implement.
//!
//! Dependency rule: `orbit-core` (types) ← `orbit-ports` (traits over those types) ←
//! `orbit-services` (use cases over the traits) ← adapters and apps. Ports never name a
//! technology; adapters never depend on each other.
//!
//! Every trait is `Send + Sync + 'static` and object safe, so the composition root can hold
//! `Arc<dyn Port>`. Doc comments say which errors an implementation must return; the shared
//! contract suites in `orbit-tests` check every adapter against them.

mod api;
mod auth;
mod cache;
mod codegen;
mod git;
mod githost;
mod knowledge;
mod markdown;
mod object_store;
mod repository;
mod search;
mod secrets;
mod store;
mod system;
mod webhook;
mod workflow;

pub use api::{ApiIndexJob, ApiStore};
pub use auth::{AuthError, Authenticator, Credentials};
pub use cache::{Cache, CacheError};
pub use codegen::{ClientGenerator, GenerateError, GenerateRequest, Generated, SourceFile};
pub use git::{GitAuthor, GitClient, GitCommit, GitCredentials, GitError, GitFile, GitRemote};
pub use githost::{
    CreatedRepo, GitHost, GitHostConnectionStore, GitHostError, GitHostFactory, GitHostTarget,
    GitHttpRequest, GitHttpResponse, GitHttpServer, HostedRepo, NewHostedRepo, RepoVisibility,
    check_repo_name,
};
pub use knowledge::{IndexJob, KnowledgeStore, StoredRender};
pub use markdown::{MarkdownRenderer, Rendered};
pub use object_store::{
    ByteStream, MAX_KEY_BYTES, ObjectMeta, ObjectStore, ObjectStoreError, next_chunk, validate_key,
    validate_prefix,
};
pub use repository::{RepositoryIndexJob, RepositoryStore};
pub use search::{
    DocKind, EXACT_TOTAL_UP_TO, SearchDoc, SearchError, SearchHit, SearchIndex, SearchQuery,
    SearchResults,
};
pub use secrets::{SealedSecret, SecretCipher, SecretError};
pub use store::{StoreError, TokenHash, UserStore, WorkspaceStore, page_of};
pub use system::{Clock, IdGenerator};
pub use webhook::{WebhookDelivery, WebhookStore};
pub use workflow::{
    Activity, ActivityContext, ActivityError, ActivityOptions, CancelFlag, EngineError,
    ParallelCall, RunFilter, StartRun, StepRecord, StepStatus, WorkflowContext, WorkflowDefinition,
    WorkflowEngine, WorkflowFailure, WorkflowRegistry, WorkflowStore, join_in_order,
};
