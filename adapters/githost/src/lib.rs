//! Orbit's git hosts, behind the `GitHost` port:
//!
//! - [`EmbeddedHost`]: Orbit's own git server. Bare repositories live in
//!   `<data>/git/<workspace-id>/<name>.git`; [`SmartHttp`] serves them over git's smart HTTP
//!   protocol by running `git http-backend` as a CGI program (the HTTP edge authenticates
//!   and authorises first).
//! - [`GitHubHost`]: the GitHub REST API (github.com or GitHub Enterprise Server).
//! - [`GitLabHost`]: the GitLab REST API v4 (projects, groups).
//!
//! [`GitHosts`] opens the right one for a `GitHostTarget`. Tokens only ever go into request
//! headers and into the `GitRemote` credentials handed to the git client; no message,
//! error or log line contains one.

mod embedded;
mod github;
mod gitlab;
mod rest;
mod smart_http;

pub use embedded::EmbeddedHost;
pub use github::GitHubHost;
pub use gitlab::GitLabHost;
pub use smart_http::SmartHttp;

use orbit_core::GitProvider;
use orbit_ports::{GitHost, GitHostError, GitHostFactory, GitHostTarget};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Opens git hosts: Orbit's own server under `root`, GitHub and GitLab over HTTPS.
#[derive(Clone)]
pub struct GitHosts {
    /// `<data>/git`.
    pub root: PathBuf,
    /// The URL Orbit is reached at (`http://127.0.0.1:8080`), for clone URLs.
    pub public_url: String,
    http: reqwest::Client,
}

impl GitHosts {
    pub fn new(root: PathBuf, public_url: &str) -> Self {
        GitHosts {
            root,
            public_url: public_url.trim_end_matches('/').to_owned(),
            http: rest::client(Duration::from_secs(30)),
        }
    }
}

impl GitHostFactory for GitHosts {
    fn open(&self, target: &GitHostTarget) -> Result<Arc<dyn GitHost>, GitHostError> {
        match target {
            GitHostTarget::Embedded { workspace, slug } => Ok(Arc::new(EmbeddedHost::new(
                self.root.clone(),
                workspace.clone(),
                slug.clone(),
                &self.public_url,
            )?)),
            GitHostTarget::Remote {
                provider,
                base_url,
                namespace,
                token,
            } => match provider {
                GitProvider::GitHub => Ok(Arc::new(GitHubHost::new(
                    self.http.clone(),
                    base_url,
                    namespace,
                    token.clone(),
                )?)),
                GitProvider::GitLab => Ok(Arc::new(GitLabHost::new(
                    self.http.clone(),
                    base_url,
                    namespace,
                    token.clone(),
                )?)),
                GitProvider::Orbit => Err(GitHostError::Refused(
                    "Orbit's own git server is opened with GitHostTarget::Embedded".into(),
                )),
            },
        }
    }
}
