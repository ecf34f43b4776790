//! Git host connections: the providers Orbit can create repositories on, and a workspace's
//! stored connection to one of them (the token itself is never part of these types).

use crate::{Error, Result, Timestamp, WorkspaceId};

/// Where repositories are hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GitProvider {
    /// Orbit's own git server (bare repositories in the data directory, smart HTTP).
    Orbit,
    /// GitHub or GitHub Enterprise Server (REST API v3).
    GitHub,
    /// GitLab, hosted or self-managed (API v4).
    GitLab,
}

impl GitProvider {
    pub const ALL: [GitProvider; 3] =
        [GitProvider::Orbit, GitProvider::GitHub, GitProvider::GitLab];

    pub fn as_str(self) -> &'static str {
        match self {
            GitProvider::Orbit => "orbit",
            GitProvider::GitHub => "github",
            GitProvider::GitLab => "gitlab",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        match value {
            "orbit" => Ok(GitProvider::Orbit),
            "github" => Ok(GitProvider::GitHub),
            "gitlab" => Ok(GitProvider::GitLab),
            other => Err(Error::invalid(
                field,
                format!("must be one of orbit, github, gitlab (got {other:?})"),
            )),
        }
    }
}

/// A workspace's connection to a git host. The token is stored encrypted beside it and is
/// never part of this type; `token_last4` lets a person recognise which token is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHostConnection {
    pub id: String,
    pub workspace_id: WorkspaceId,
    /// A name unique in the workspace ("github-acme").
    pub name: String,
    pub provider: GitProvider,
    /// The API base URL ("https://api.github.com", "https://gitlab.example.com"); empty
    /// for Orbit's own server.
    pub base_url: String,
    /// The organisation (GitHub) or group path (GitLab) repositories are created in; empty
    /// for the token's own user account. Ignored for Orbit's own server.
    pub namespace: String,
    /// Whether a token is stored, and its last four characters (empty for short tokens).
    pub token_set: bool,
    pub token_last4: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
