use async_trait::async_trait;
use orbit_core::Secret;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GitError {
    /// The remote, branch or path does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The remote refused (authentication, permissions, a rejected push).
    #[error("{0}")]
    Refused(String),
    /// Too many files or bytes.
    #[error("{0}")]
    TooLarge(String),
    /// A network or tool failure; retrying may help.
    #[error("{0}")]
    Unavailable(String),
}

/// Who commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitAuthor {
    pub name: String,
    pub email: String,
}

/// One commit, as a history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// Milliseconds since the epoch (the author date).
    pub time: i64,
    /// The first line of the message.
    pub summary: String,
}

/// One file: a path relative to the synced folder, and its bytes.
pub type GitFile = (String, Vec<u8>);

/// A user name and password (a token) for a git remote over HTTP(S). The git client gives
/// them to `git` through its environment (a credential helper), never on a command line or
/// in a URL; `Debug` redacts the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCredentials {
    pub username: String,
    pub password: Secret,
}

/// A remote: a URL (never with credentials in it) and, when it needs them, credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRemote {
    pub url: String,
    pub credentials: Option<GitCredentials>,
}

impl GitRemote {
    /// A remote that needs no credentials.
    pub fn anonymous(url: impl Into<String>) -> Self {
        GitRemote {
            url: url.into(),
            credentials: None,
        }
    }
}

/// Talks to git remotes (any URL `git` understands: `git://`, `http(s)://`, `file://`).
#[async_trait]
pub trait GitClient: Send + Sync + 'static {
    /// [`GitClient::publish_to`] a remote that needs no credentials.
    async fn publish(
        &self,
        remote: &str,
        branch: &str,
        path: &str,
        files: &[GitFile],
        message: &str,
        author: &GitAuthor,
    ) -> Result<Option<String>, GitError> {
        self.publish_to(
            &GitRemote::anonymous(remote),
            branch,
            path,
            files,
            message,
            author,
        )
        .await
    }
    /// [`GitClient::read_from`] a remote that needs no credentials.
    async fn read(
        &self,
        remote: &str,
        branch: &str,
        path: &str,
        max_files: usize,
        max_bytes: u64,
    ) -> Result<(String, Vec<GitFile>), GitError> {
        self.read_from(
            &GitRemote::anonymous(remote),
            branch,
            path,
            max_files,
            max_bytes,
        )
        .await
    }
    /// Makes the folder `path` ("" for the root) of `branch` contain exactly `files`, in one
    /// commit pushed to the remote. Returns the new commit, or `None` when the folder already
    /// had exactly these files (then nothing is committed). Creates the branch (and the
    /// first commit) in an empty repository.
    async fn publish_to(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        files: &[GitFile],
        message: &str,
        author: &GitAuthor,
    ) -> Result<Option<String>, GitError>;
    /// The files under `path` at the tip of `branch`, relative to `path`, with the commit
    /// read. Refuses more than `max_files` files or `max_bytes` bytes.
    async fn read_from(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        max_files: usize,
        max_bytes: u64,
    ) -> Result<(String, Vec<GitFile>), GitError>;
    /// The branches of the remote with their tip commit, sorted by name (empty for an
    /// empty repository). `NotFound` if the remote does not exist.
    async fn branches(&self, remote: &GitRemote) -> Result<Vec<(String, String)>, GitError>;
    /// The latest `limit` commits of `branch`, newest first. `NotFound` if the branch is
    /// missing.
    async fn log(
        &self,
        remote: &GitRemote,
        branch: &str,
        limit: usize,
    ) -> Result<Vec<GitCommit>, GitError>;
    /// One file at the tip of `branch`, or `None` if it does not exist there. `TooLarge`
    /// beyond `max_bytes`.
    async fn read_file(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, GitError>;
}
