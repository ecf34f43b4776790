use async_trait::async_trait;
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

/// Talks to git remotes (any URL `git` understands: `git://`, `http(s)://`, `file://`).
#[async_trait]
pub trait GitClient: Send + Sync + 'static {
    /// Makes the folder `path` ("" for the root) of `branch` contain exactly `files`, in one
    /// commit pushed to the remote. Returns the new commit, or `None` when the folder already
    /// had exactly these files (then nothing is committed). Creates the branch (and the
    /// first commit) in an empty repository.
    async fn publish(
        &self,
        remote: &str,
        branch: &str,
        path: &str,
        files: &[GitFile],
        message: &str,
        author: &GitAuthor,
    ) -> Result<Option<String>, GitError>;
    /// The files under `path` at the tip of `branch`, relative to `path`, with the commit
    /// read. Refuses more than `max_files` files or `max_bytes` bytes.
    async fn read(
        &self,
        remote: &str,
        branch: &str,
        path: &str,
        max_files: usize,
        max_bytes: u64,
    ) -> Result<(String, Vec<GitFile>), GitError>;
    /// The branches of the remote with their tip commit, sorted by name (empty for an
    /// empty repository). `NotFound` if the remote does not exist.
    async fn branches(&self, remote: &str) -> Result<Vec<(String, String)>, GitError>;
    /// The latest `limit` commits of `branch`, newest first. `NotFound` if the branch is
    /// missing.
    async fn log(
        &self,
        remote: &str,
        branch: &str,
        limit: usize,
    ) -> Result<Vec<GitCommit>, GitError>;
    /// One file at the tip of `branch`, or `None` if it does not exist there. `TooLarge`
    /// beyond `max_bytes`.
    async fn read_file(
        &self,
        remote: &str,
        branch: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, GitError>;
}
