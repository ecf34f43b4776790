//! GitHub (github.com or GitHub Enterprise Server) through its REST API.
//!
//! Requests carry `Authorization: Bearer <token>`, `Accept: application/vnd.github+json`
//! and `X-GitHub-Api-Version: 2022-11-28`. Repositories are created in an organisation
//! (`POST /orgs/{org}/repos`) or, with an empty namespace, for the token's user
//! (`POST /user/repos`); a 422 whose message says the name already exists adopts the
//! repository. Pushes use HTTPS with the user name `x-access-token` and the token.

use crate::rest::{self, Reply};
use async_trait::async_trait;
use orbit_core::{GitProvider, Secret};
use orbit_ports::{
    CreatedRepo, GitCredentials, GitHost, GitHostError, GitRemote, HostedRepo, NewHostedRepo,
    RepoVisibility, check_repo_name,
};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use tokio::sync::OnceCell;

pub const API_VERSION: &str = "2022-11-28";

pub struct GitHubHost {
    http: reqwest::Client,
    base: String,
    /// The organisation; empty for the token's user.
    org: String,
    token: Secret,
    /// The token's user login, looked up once when the namespace is the user.
    login: OnceCell<String>,
}

#[derive(Deserialize)]
struct Repo {
    id: u64,
    name: String,
    full_name: String,
    description: Option<String>,
    #[serde(default)]
    private: bool,
    visibility: Option<String>,
    default_branch: Option<String>,
    clone_url: String,
    html_url: String,
    #[serde(default)]
    archived: bool,
}

impl From<Repo> for HostedRepo {
    fn from(r: Repo) -> Self {
        let visibility = match r.visibility.as_deref() {
            Some("public") => RepoVisibility::Public,
            Some("internal") => RepoVisibility::Internal,
            Some("private") => RepoVisibility::Private,
            _ if r.private => RepoVisibility::Private,
            _ => RepoVisibility::Public,
        };
        HostedRepo {
            id: r.id.to_string(),
            name: r.name,
            full_name: r.full_name,
            description: r.description.unwrap_or_default(),
            visibility,
            default_branch: r.default_branch.unwrap_or_else(|| "main".into()),
            clone_url: r.clone_url,
            web_url: r.html_url,
            archived: r.archived,
        }
    }
}

impl GitHubHost {
    /// `base_url`: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise
    /// Server. `org`: the organisation login, or empty for the token's user.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        org: &str,
        token: Secret,
    ) -> Result<Self, GitHostError> {
        let base = rest::base_url(if base_url.is_empty() {
            "https://api.github.com"
        } else {
            base_url
        })?;
        let org = org.trim_matches('/').to_owned();
        if !org
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(GitHostError::Refused(format!(
                "{org:?} is not a GitHub organisation login"
            )));
        }
        Ok(GitHubHost {
            http,
            base,
            org,
            token,
            login: OnceCell::new(),
        })
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
    }

    /// The owner of the repositories: the organisation or the token's user.
    async fn owner(&self) -> Result<String, GitHostError> {
        if !self.org.is_empty() {
            return Ok(self.org.clone());
        }
        self.login
            .get_or_try_init(|| async {
                #[derive(Deserialize)]
                struct User {
                    login: String,
                }
                let what = "reading the token's GitHub user";
                let reply = rest::send(
                    self.request(Method::GET, &format!("{}/user", self.base)),
                    what,
                )
                .await?;
                if reply.status != StatusCode::OK {
                    return Err(rest::status_error(&reply, what));
                }
                Ok(reply.json::<User>(what)?.login)
            })
            .await
            .cloned()
    }

    async fn fetch(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError> {
        let owner = self.owner().await?;
        let what = format!("reading the GitHub repository {owner}/{name}");
        let reply = rest::send(
            self.request(
                Method::GET,
                &format!(
                    "{}/repos/{}/{}",
                    self.base,
                    rest::encode(&owner),
                    rest::encode(name)
                ),
            ),
            &what,
        )
        .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(reply.json::<Repo>(&what)?.into())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(rest::status_error(&reply, &what)),
        }
    }
}

/// Whether a 422 says the name is taken ("name already exists on this account").
fn name_taken(reply: &Reply) -> bool {
    reply.status == StatusCode::UNPROCESSABLE_ENTITY
        && String::from_utf8_lossy(&reply.body).contains("already exists")
}

#[async_trait]
impl GitHost for GitHubHost {
    fn provider(&self) -> GitProvider {
        GitProvider::GitHub
    }

    fn location(&self) -> String {
        let host = reqwest::Url::parse(&self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let host = host.strip_prefix("api.").unwrap_or(&host).to_owned();
        if self.org.is_empty() {
            format!("{host} (the token's user)")
        } else {
            format!("{host}/{}", self.org)
        }
    }

    async fn create_repo(&self, new: &NewHostedRepo) -> Result<CreatedRepo, GitHostError> {
        check_repo_name(&new.name)?;
        let (url, body) = if self.org.is_empty() {
            (
                format!("{}/user/repos", self.base),
                serde_json::json!({
                    "name": new.name,
                    "description": new.description,
                    "private": new.visibility != RepoVisibility::Public,
                    "auto_init": false,
                }),
            )
        } else {
            (
                format!("{}/orgs/{}/repos", self.base, rest::encode(&self.org)),
                serde_json::json!({
                    "name": new.name,
                    "description": new.description,
                    "private": new.visibility != RepoVisibility::Public,
                    "visibility": new.visibility.as_str(),
                    "auto_init": false,
                }),
            )
        };
        let what = format!("creating the GitHub repository {}", new.name);
        let reply = rest::send(self.request(Method::POST, &url).json(&body), &what).await?;
        if reply.status == StatusCode::CREATED {
            let repo: HostedRepo = reply.json::<Repo>(&what)?.into();
            tracing::info!(location = %self.location(), repo = %repo.full_name, "created a GitHub repository");
            return Ok(CreatedRepo {
                repo,
                already_existed: false,
            });
        }
        if name_taken(&reply) {
            return match self.fetch(&new.name).await? {
                Some(repo) => Ok(CreatedRepo {
                    repo,
                    already_existed: true,
                }),
                None => Err(GitHostError::Refused(format!(
                    "{what}: GitHub says the name exists but the repository cannot be read with this token"
                ))),
            };
        }
        Err(match rest::status_error(&reply, &what) {
            GitHostError::Refused(m) if reply.status == StatusCode::UNPROCESSABLE_ENTITY => {
                GitHostError::InvalidName(m)
            }
            other => other,
        })
    }

    async fn get_repo(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError> {
        if check_repo_name(name).is_err() {
            return Ok(None);
        }
        self.fetch(name).await
    }

    async fn list_repos(&self, limit: usize) -> Result<Vec<HostedRepo>, GitHostError> {
        let mut url = if self.org.is_empty() {
            format!(
                "{}/user/repos?affiliation=owner&sort=full_name&direction=asc&per_page=100",
                self.base
            )
        } else {
            format!(
                "{}/orgs/{}/repos?type=all&sort=full_name&direction=asc&per_page=100",
                self.base,
                rest::encode(&self.org)
            )
        };
        let what = format!("listing the repositories of {}", self.location());
        let mut out: Vec<HostedRepo> = Vec::new();
        loop {
            let reply = rest::send(self.request(Method::GET, &url), &what).await?;
            if reply.status != StatusCode::OK {
                return Err(rest::status_error(&reply, &what));
            }
            let page: Vec<Repo> = reply.json(&what)?;
            out.extend(page.into_iter().map(HostedRepo::from));
            if out.len() >= limit {
                break;
            }
            match rest::next_link(&reply.headers) {
                // Follow only links to the same API (never send the token elsewhere).
                Some(next) if next.starts_with(&format!("{}/", self.base)) => url = next,
                _ => break,
            }
        }
        out.sort_by_key(|r| r.name.to_lowercase());
        out.truncate(limit);
        Ok(out)
    }

    async fn push_access(&self, name: &str) -> Result<GitRemote, GitHostError> {
        let repo = self.get_repo(name).await?.ok_or_else(|| {
            GitHostError::NotFound(format!(
                "there is no repository '{name}' in {}",
                self.location()
            ))
        })?;
        Ok(GitRemote {
            url: repo.clone_url,
            credentials: Some(GitCredentials {
                username: "x-access-token".into(),
                password: self.token.clone(),
            }),
        })
    }

    async fn delete_repo(&self, name: &str) -> Result<bool, GitHostError> {
        if check_repo_name(name).is_err() {
            return Ok(false);
        }
        let owner = self.owner().await?;
        let what = format!("deleting the GitHub repository {owner}/{name}");
        let reply = rest::send(
            self.request(
                Method::DELETE,
                &format!(
                    "{}/repos/{}/{}",
                    self.base,
                    rest::encode(&owner),
                    rest::encode(name)
                ),
            ),
            &what,
        )
        .await?;
        match reply.status {
            StatusCode::NO_CONTENT => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(rest::status_error(&reply, &what)),
        }
    }
}
