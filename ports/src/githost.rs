//! Git hosts: the places where repositories live — a workspace's folder on Orbit's own git
//! server, a GitHub organisation (or user), a GitLab group (or user).
//!
//! A [`GitHost`] value is already bound to one such place and its credentials; its methods
//! take only repository names. Get one from a [`GitHostFactory`] with a [`GitHostTarget`].
//!
//! The usual flow of "create a repository and push its first commit":
//!
//! ```ignore
//! let host = factory.open(&GitHostTarget::Embedded { workspace, slug })?;
//! let created = host.create_repo(&NewHostedRepo { name, description, visibility,
//!     default_branch: "main".into() }).await?;        // adopts a repository left by a retry
//! let remote = host.push_access(&created.repo.name).await?;  // URL + credentials
//! git.publish_to(&remote, "main", "", &files, "Initial commit", &author).await?;
//! // publish_to makes no second commit when the tree is already there (retries are safe)
//! ```

use crate::{GitRemote, SealedSecret, StoreError};
use async_trait::async_trait;
use orbit_core::{GitHostConnection, GitProvider, Secret, Slug, WorkspaceId};
use std::sync::Arc;
use thiserror::Error;

/// How a git host can fail. Messages are written for a person, name the host and the
/// repository, and never contain a token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GitHostError {
    /// The repository name is not one every host accepts (see [`check_repo_name`]), or the
    /// host refused the name for its own rules (a reserved name).
    #[error("{0}")]
    InvalidName(String),
    /// The host does not accept the credentials: missing, wrong, expired or revoked token
    /// (HTTP 401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The credentials are valid but may not do this: the token lacks a scope, the user is
    /// not allowed to create repositories in the organisation (HTTP 403).
    #[error("{0}")]
    PermissionDenied(String),
    /// The namespace (organisation, group, user) does not exist or the token cannot see it,
    /// or [`GitHost::push_access`] was asked about a repository that does not exist. A
    /// missing *repository* is not an error elsewhere: `get_repo` returns `Ok(None)`,
    /// `delete_repo` returns `Ok(false)`.
    #[error("{0}")]
    NotFound(String),
    /// The host refused for another reason it stated (quota reached, validation failed).
    /// Retrying the same request will fail the same way.
    #[error("{0}")]
    Refused(String),
    /// The host could not be reached, timed out, rate-limited the request or answered 5xx
    /// or something unreadable. Retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
}

impl GitHostError {
    /// Whether retrying the same call later may succeed (for workflow retry policies).
    pub fn is_retryable(&self) -> bool {
        matches!(self, GitHostError::Unavailable(_))
    }
}

/// Who may see a repository. Hosts without `Internal` (Orbit's own server, GitHub user
/// accounts) treat it as `Private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoVisibility {
    Private,
    Internal,
    Public,
}

impl RepoVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoVisibility::Private => "private",
            RepoVisibility::Internal => "internal",
            RepoVisibility::Public => "public",
        }
    }
}

/// A repository to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHostedRepo {
    /// Must pass [`check_repo_name`].
    pub name: String,
    /// One line; may be empty.
    pub description: String,
    pub visibility: RepoVisibility,
    /// The branch the repository's HEAD names ("main"). GitHub sets its default branch from
    /// the first push, so push this branch first.
    pub default_branch: String,
}

/// A repository as the host reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedRepo {
    /// The host's id for it: GitHub's numeric id, GitLab's project id, or
    /// `<workspace-id>/<name>` on Orbit's own server.
    pub id: String,
    /// The repository's name (the last path segment, without `.git`).
    pub name: String,
    /// The path on the host: `acme/payments`, `platform/backend/payments`,
    /// `<workspace-slug>/payments`.
    pub full_name: String,
    pub description: String,
    pub visibility: RepoVisibility,
    /// The default branch as the host reports it.
    pub default_branch: String,
    /// The HTTPS (or HTTP) URL people clone with. Never contains credentials.
    pub clone_url: String,
    /// The repository's page in the host's web UI; for Orbit's own server the same as
    /// `clone_url`.
    pub web_url: String,
    pub archived: bool,
}

/// What [`GitHost::create_repo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRepo {
    pub repo: HostedRepo,
    /// True when a repository of that name was already there and was adopted (returned as
    /// it is, unchanged) instead of created.
    pub already_existed: bool,
}

/// One place where repositories live, with the credentials to manage them.
///
/// Implementations: `orbit_githost::EmbeddedHost` (Orbit's own server),
/// `orbit_githost::GitHubHost`, `orbit_githost::GitLabHost`.
#[async_trait]
pub trait GitHost: Send + Sync + 'static {
    /// Which host this is.
    fn provider(&self) -> GitProvider;

    /// A short human description of the place ("github.com/acme",
    /// "gitlab.example.com/platform", "orbit/acme"), for messages and logs.
    fn location(&self) -> String;

    /// Creates an empty repository (no commit), or adopts the one that already has this
    /// name: then it is returned as the host has it, with `already_existed: true`, and not
    /// changed. So a workflow step that is retried after a crash never makes a second
    /// remote repository. Concurrent calls with one name: one creates, the others adopt.
    ///
    /// Errors: `InvalidName` (the name fails [`check_repo_name`] or the host's own rules),
    /// `NotFound` (the namespace is gone), `Unauthenticated`, `PermissionDenied`,
    /// `Refused`, `Unavailable`.
    async fn create_repo(&self, new: &NewHostedRepo) -> Result<CreatedRepo, GitHostError>;

    /// The repository of that name, or `Ok(None)` when there is none. Names are matched as
    /// the host matches them (GitHub and GitLab ignore case; Orbit's server does not).
    async fn get_repo(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError>;

    /// The repositories of the namespace, ordered by name, at most `limit` of them. The
    /// adapter follows the host's pagination itself (GitHub's `Link` header, GitLab's
    /// `X-Next-Page`), so the caller gets one list. For catalog import.
    async fn list_repos(&self, limit: usize) -> Result<Vec<HostedRepo>, GitHostError>;

    /// What the `git` command line needs to clone, fetch and push the repository: a URL
    /// without credentials and, for hosts that need them, a user name and a token that the
    /// git client hands to git through its environment (never on a command line, in a URL
    /// or in a log). Pass it to [`crate::GitClient::publish_to`] / `read_from`.
    ///
    /// Errors: `NotFound` when there is no such repository.
    async fn push_access(&self, name: &str) -> Result<GitRemote, GitHostError>;

    /// Deletes the repository and its history for good. `Ok(false)` when there was none.
    /// For cleanup (a failed workflow's compensation, tests); the catalog archives instead.
    async fn delete_repo(&self, name: &str) -> Result<bool, GitHostError>;
}

/// Which git host a [`GitHostFactory`] should open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHostTarget {
    /// The workspace's folder on Orbit's own git server: repositories are
    /// `<data>/git/<workspace-id>/<name>.git` on disk and
    /// `<public-url>/git/<workspace-slug>/<name>.git` over HTTP.
    Embedded { workspace: WorkspaceId, slug: Slug },
    /// A GitHub or GitLab namespace reached with a token (from a stored connection).
    Remote {
        provider: GitProvider,
        /// The API base URL: `https://api.github.com`, `https://ghe.example.com/api/v3`,
        /// `https://gitlab.com`.
        base_url: String,
        /// GitHub organisation login or GitLab group path (`platform/backend`); empty for
        /// the token's own user.
        namespace: String,
        token: Secret,
    },
}

/// Opens git hosts. The composition root holds one; use cases ask it for the host of a
/// workspace (Orbit's own server) or of a stored connection.
pub trait GitHostFactory: Send + Sync + 'static {
    /// Errors: `Refused` for a target this installation cannot open (an unsupported
    /// provider, a malformed base URL).
    fn open(&self, target: &GitHostTarget) -> Result<Arc<dyn GitHost>, GitHostError>;
}

/// A workspace's stored git host connections, with their tokens sealed by a
/// [`crate::SecretCipher`] (the store never sees a token in clear). Every call is scoped to
/// one workspace; a connection of another workspace is `None` / `NotFound`.
#[async_trait]
pub trait GitHostConnectionStore: Send + Sync + 'static {
    /// `AlreadyExists` when the workspace has a connection of that name.
    async fn insert_git_connection(
        &self,
        connection: &GitHostConnection,
        token: Option<&SealedSecret>,
    ) -> Result<(), StoreError>;
    async fn get_git_connection(
        &self,
        workspace: &WorkspaceId,
        id: &str,
    ) -> Result<Option<(GitHostConnection, Option<SealedSecret>)>, StoreError>;
    /// The workspace's connections, ordered by name.
    async fn list_git_connections(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<GitHostConnection>, StoreError>;
    /// Saves name, base URL, namespace, token_set/last4 and update time; replaces the sealed
    /// token when `token` is `Some`. `NotFound` when gone, `AlreadyExists` on a name clash.
    async fn update_git_connection(
        &self,
        connection: &GitHostConnection,
        token: Option<&SealedSecret>,
    ) -> Result<(), StoreError>;
    /// `Ok(false)` when there was none.
    async fn delete_git_connection(
        &self,
        workspace: &WorkspaceId,
        id: &str,
    ) -> Result<bool, StoreError>;
    /// Every sealed token of every workspace (for key rotation): (workspace, id, sealed).
    async fn all_git_secrets(&self)
    -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError>;
    /// Replaces sealed tokens in one transaction: each `(workspace, id, old, new)` applies
    /// only when the row still holds `old`; otherwise nothing is changed and the result is
    /// `Stale { current: 0 }` (a token was changed meanwhile: run the rotation again).
    async fn replace_git_secrets(
        &self,
        changes: &[(WorkspaceId, String, SealedSecret, SealedSecret)],
    ) -> Result<(), StoreError>;
}

/// One git smart-HTTP request (`/info/refs?service=…`, `/git-upload-pack`,
/// `/git-receive-pack`) for a repository of Orbit's own server, already authenticated and
/// authorised by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHttpRequest {
    pub method: String,
    /// The path after `<name>.git`, e.g. `/info/refs`.
    pub path: String,
    pub query: String,
    pub content_type: String,
    /// `Content-Encoding` (git may gzip request bodies).
    pub content_encoding: String,
    /// The `Git-Protocol` header (protocol v2), or empty.
    pub git_protocol: String,
    pub body: Vec<u8>,
}

impl GitHttpRequest {
    /// Whether the request writes (a push): `git-receive-pack`, as a service advertisement
    /// or the pack itself.
    pub fn is_push(&self) -> bool {
        self.path.ends_with("/git-receive-pack") || self.query.contains("service=git-receive-pack")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Serves git's smart HTTP protocol for the repositories of Orbit's own server.
#[async_trait]
pub trait GitHttpServer: Send + Sync + 'static {
    /// Serves `request` for the repository `name` of `workspace`. `NotFound` when there is
    /// no such repository (also for names that fail [`check_repo_name`]); `Unavailable`
    /// when the git tool fails to run.
    async fn serve(
        &self,
        workspace: &WorkspaceId,
        name: &str,
        request: GitHttpRequest,
    ) -> Result<GitHttpResponse, GitHostError>;
}

/// The repository names every host accepts: 1 to 100 characters of ASCII letters, digits,
/// `.`, `_` and `-`; not starting with `.` or `-`; not ending in `.git` or `.atom`; not
/// `.` or `..`. Adapters call it first; use cases may call it to validate input early.
pub fn check_repo_name(name: &str) -> Result<(), GitHostError> {
    let bad = |why: &str| {
        Err(GitHostError::InvalidName(format!(
            "the repository name {name:?} is not valid: {why}"
        )))
    };
    if name.is_empty() || name.len() > 100 {
        return bad("it must have 1 to 100 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return bad("use only letters, digits, '.', '_' and '-'");
    }
    if name.starts_with('.') || name.starts_with('-') {
        return bad("it must not start with '.' or '-'");
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".git") || lower.ends_with(".atom") {
        return bad("it must not end in .git or .atom");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        for ok in ["payments", "Payments-API", "a", "svc_1.2", &"x".repeat(100)] {
            assert!(check_repo_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "x.git",
            "x.atom",
            "é",
            &"x".repeat(101),
        ] {
            assert!(
                matches!(check_repo_name(bad), Err(GitHostError::InvalidName(_))),
                "{bad}"
            );
        }
    }
}
