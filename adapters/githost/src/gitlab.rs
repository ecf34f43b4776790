//! GitLab (gitlab.com or self-managed) through its REST API v4.
//!
//! Requests carry `PRIVATE-TOKEN: <token>`. Repositories are projects created with
//! `POST /api/v4/projects` in the group's namespace (`namespace_id` from
//! `GET /api/v4/groups/:path`), or in the token's user namespace when the namespace is
//! empty; a 400 saying the name or path "has already been taken" adopts the project.
//! Lists follow `X-Next-Page`. Pushes use HTTPS with the user name `oauth2` and the token.

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

pub struct GitLabHost {
    http: reqwest::Client,
    /// `<base>/api/v4`.
    api: String,
    /// The group's full path; empty for the token's user.
    group: String,
    token: Secret,
    /// The group's numeric id, or the user's name, looked up once.
    namespace: OnceCell<Namespace>,
}

#[derive(Clone)]
struct Namespace {
    /// The group id (None for the user's namespace, which is GitLab's default).
    id: Option<u64>,
    /// The full path repositories live under.
    path: String,
}

#[derive(Deserialize)]
struct Project {
    id: u64,
    path: String,
    path_with_namespace: String,
    description: Option<String>,
    visibility: Option<String>,
    default_branch: Option<String>,
    http_url_to_repo: String,
    web_url: String,
    #[serde(default)]
    archived: bool,
}

impl From<Project> for HostedRepo {
    fn from(p: Project) -> Self {
        HostedRepo {
            id: p.id.to_string(),
            name: p.path,
            full_name: p.path_with_namespace,
            description: p.description.unwrap_or_default(),
            visibility: match p.visibility.as_deref() {
                Some("public") => RepoVisibility::Public,
                Some("internal") => RepoVisibility::Internal,
                _ => RepoVisibility::Private,
            },
            default_branch: p.default_branch.unwrap_or_else(|| "main".into()),
            clone_url: p.http_url_to_repo,
            web_url: p.web_url,
            archived: p.archived,
        }
    }
}

impl GitLabHost {
    /// `base_url`: `https://gitlab.com` or a self-managed instance (without `/api/v4`).
    /// `group`: the group's full path (`platform/backend`), or empty for the token's user.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        group: &str,
        token: Secret,
    ) -> Result<Self, GitHostError> {
        let base = rest::base_url(if base_url.is_empty() {
            "https://gitlab.com"
        } else {
            base_url
        })?;
        let base = base.trim_end_matches("/api/v4").to_owned();
        let group = group.trim_matches('/').to_owned();
        if !group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        {
            return Err(GitHostError::Refused(format!(
                "{group:?} is not a GitLab group path"
            )));
        }
        Ok(GitLabHost {
            http,
            api: format!("{base}/api/v4"),
            group,
            token,
            namespace: OnceCell::new(),
        })
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("PRIVATE-TOKEN", self.token.expose())
    }

    async fn namespace(&self) -> Result<Namespace, GitHostError> {
        self.namespace
            .get_or_try_init(|| async {
                if self.group.is_empty() {
                    #[derive(Deserialize)]
                    struct User {
                        username: String,
                    }
                    let what = "reading the token's GitLab user";
                    let reply = rest::send(
                        self.request(Method::GET, &format!("{}/user", self.api)),
                        what,
                    )
                    .await?;
                    if reply.status != StatusCode::OK {
                        return Err(rest::status_error(&reply, what));
                    }
                    let user: User = reply.json(what)?;
                    return Ok(Namespace {
                        id: None,
                        path: user.username,
                    });
                }
                #[derive(Deserialize)]
                struct Group {
                    id: u64,
                    full_path: String,
                }
                let what = format!("reading the GitLab group {}", self.group);
                let reply = rest::send(
                    self.request(
                        Method::GET,
                        &format!("{}/groups/{}", self.api, rest::encode(&self.group)),
                    ),
                    &what,
                )
                .await?;
                if reply.status != StatusCode::OK {
                    return Err(rest::status_error(&reply, &what));
                }
                let group: Group = reply.json(&what)?;
                Ok(Namespace {
                    id: Some(group.id),
                    path: group.full_path,
                })
            })
            .await
            .cloned()
    }

    async fn fetch(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError> {
        let ns = self.namespace().await?;
        let full = format!("{}/{name}", ns.path);
        let what = format!("reading the GitLab project {full}");
        let reply = rest::send(
            self.request(
                Method::GET,
                &format!("{}/projects/{}", self.api, rest::encode(&full)),
            ),
            &what,
        )
        .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(reply.json::<Project>(&what)?.into())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(rest::status_error(&reply, &what)),
        }
    }
}

/// Whether a 400 says the name or path is taken.
fn name_taken(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST
        && String::from_utf8_lossy(&reply.body).contains("has already been taken")
}

#[async_trait]
impl GitHost for GitLabHost {
    fn provider(&self) -> GitProvider {
        GitProvider::GitLab
    }

    fn location(&self) -> String {
        let host = reqwest::Url::parse(&self.api)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        if self.group.is_empty() {
            format!("{host} (the token's user)")
        } else {
            format!("{host}/{}", self.group)
        }
    }

    async fn create_repo(&self, new: &NewHostedRepo) -> Result<CreatedRepo, GitHostError> {
        check_repo_name(&new.name)?;
        let ns = self.namespace().await?;
        let mut body = serde_json::json!({
            "name": new.name,
            "path": new.name,
            "description": new.description,
            "visibility": new.visibility.as_str(),
            "initialize_with_readme": false,
        });
        if let Some(id) = ns.id {
            body["namespace_id"] = id.into();
        }
        let what = format!("creating the GitLab project {}/{}", ns.path, new.name);
        let reply = rest::send(
            self.request(Method::POST, &format!("{}/projects", self.api))
                .json(&body),
            &what,
        )
        .await?;
        if reply.status == StatusCode::CREATED {
            let repo: HostedRepo = reply.json::<Project>(&what)?.into();
            tracing::info!(location = %self.location(), repo = %repo.full_name, "created a GitLab project");
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
                    "{what}: GitLab says the name is taken but the project cannot be read with this token"
                ))),
            };
        }
        Err(match rest::status_error(&reply, &what) {
            GitHostError::Refused(m) if reply.status == StatusCode::BAD_REQUEST => {
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
        let ns = self.namespace().await?;
        let base = match ns.id {
            Some(id) => format!("{}/groups/{id}/projects", self.api),
            None => format!("{}/users/{}/projects", self.api, rest::encode(&ns.path)),
        };
        let what = format!("listing the projects of {}", self.location());
        let mut out: Vec<HostedRepo> = Vec::new();
        let mut page = "1".to_owned();
        loop {
            let url = format!("{base}?per_page=100&order_by=path&sort=asc&page={page}");
            let reply = rest::send(self.request(Method::GET, &url), &what).await?;
            if reply.status != StatusCode::OK {
                return Err(rest::status_error(&reply, &what));
            }
            let projects: Vec<Project> = reply.json(&what)?;
            out.extend(projects.into_iter().map(HostedRepo::from));
            if out.len() >= limit {
                break;
            }
            match reply
                .headers
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            {
                Some(next) => page = next.to_owned(),
                None => break,
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
                username: "oauth2".into(),
                password: self.token.clone(),
            }),
        })
    }

    async fn delete_repo(&self, name: &str) -> Result<bool, GitHostError> {
        let Some(repo) = self.get_repo(name).await? else {
            return Ok(false);
        };
        let what = format!("deleting the GitLab project {}", repo.full_name);
        let reply = rest::send(
            self.request(
                Method::DELETE,
                &format!("{}/projects/{}", self.api, repo.id),
            ),
            &what,
        )
        .await?;
        match reply.status {
            StatusCode::ACCEPTED | StatusCode::NO_CONTENT | StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(rest::status_error(&reply, &what)),
        }
    }
}
