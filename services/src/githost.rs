//! Git hosts: a workspace's stored connections to GitHub and GitLab (tokens sealed at rest,
//! never returned, never logged), opening the git host a use case should work with, and
//! Orbit's own git server over smart HTTP.

use crate::{Deps, WorkspaceRef, WorkspaceService, store_err};
use orbit_core::{
    Actor, Error, GitHostConnection, GitProvider, Result, Secret, WorkspaceId, clean_text,
};
use orbit_ports::{
    GitCredentials, GitHost, GitHostConnectionStore, GitHostError, GitHostTarget, GitHttpRequest,
    GitHttpResponse, GitRemote, SealedSecret, SecretCipher, SecretError,
};
use std::sync::Arc;

/// What a new connection needs.
#[derive(Debug, Clone)]
pub struct NewGitHostConnection {
    pub name: String,
    /// `github` or `gitlab`.
    pub provider: String,
    /// Default: `https://api.github.com` / `https://gitlab.com`.
    pub base_url: String,
    /// Organisation or group path; empty for the token's user.
    pub namespace: String,
    pub token: Secret,
}

/// Changes to a connection; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct GitHostConnectionPatch {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub namespace: Option<String>,
    /// A new token (rotation).
    pub token: Option<Secret>,
}

/// Git host errors as use-case errors. The host's own refusals (a token it rejects, a
/// permission it lacks) are `failed_precondition`: the request was fine, the configured
/// connection is not.
pub fn githost_err(err: GitHostError) -> Error {
    match err {
        GitHostError::InvalidName(m) => Error::invalid("name", m),
        GitHostError::Unauthenticated(m) => Error::FailedPrecondition(format!(
            "the git host does not accept the connection's token: {m}"
        )),
        GitHostError::PermissionDenied(m) => Error::FailedPrecondition(format!(
            "the connection's token may not do this on the git host: {m}"
        )),
        GitHostError::NotFound(m) => Error::NotFound(m),
        GitHostError::Refused(m) => Error::FailedPrecondition(m),
        GitHostError::Unavailable(m) => Error::Unavailable(m),
    }
}

fn secret_err(err: SecretError) -> Error {
    tracing::error!(error = %err, "cannot open a stored secret");
    Error::FailedPrecondition(err.to_string())
}

/// The associated data a connection's token is sealed with: a ciphertext copied to another
/// row or workspace does not open.
pub fn token_context(workspace: &WorkspaceId, id: &str) -> String {
    format!("git-host-connection:{workspace}/{id}")
}

fn default_base_url(provider: GitProvider) -> &'static str {
    match provider {
        GitProvider::GitHub => "https://api.github.com",
        GitProvider::GitLab => "https://gitlab.com",
        GitProvider::Orbit => "",
    }
}

fn check_base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| Error::invalid("base_url", "must start with https:// or http://"))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty()
        || authority.contains('@')
        || url.contains(['?', '#'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
        || url.len() > 500
    {
        return Err(Error::invalid(
            "base_url",
            "must be http(s)://host[/path], without credentials, query or spaces",
        ));
    }
    Ok(url.to_owned())
}

fn check_namespace(ns: &str) -> Result<String> {
    let ns = ns.trim().trim_matches('/');
    if ns.len() > 200
        || !ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        || ns.split('/').any(|p| p == ".." || p == ".")
    {
        return Err(Error::invalid(
            "namespace",
            "must be an organisation or group path (letters, digits, '-', '_', '.', '/')",
        ));
    }
    Ok(ns.to_owned())
}

fn check_token(token: &Secret) -> Result<()> {
    let t = token.expose();
    if t.is_empty() {
        return Err(Error::invalid("token", "is required"));
    }
    if t.len() > 1000 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "token",
            "must be at most 1000 characters without spaces or line breaks",
        ));
    }
    Ok(())
}

/// The user name git sends with a provider's token over HTTPS.
fn git_username(provider: GitProvider) -> &'static str {
    match provider {
        GitProvider::GitHub => "x-access-token",
        GitProvider::GitLab => "oauth2",
        GitProvider::Orbit => "orbit",
    }
}

#[derive(Clone)]
pub struct GitHostService {
    deps: Deps,
    workspaces: WorkspaceService,
}

impl GitHostService {
    pub fn new(deps: Deps, workspaces: WorkspaceService) -> Self {
        GitHostService { deps, workspaces }
    }

    async fn admin(&self, actor: &Actor, workspace_id: &str) -> Result<WorkspaceId> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins manage git host connections".into(),
            ));
        }
        Ok(ws)
    }

    fn now(&self) -> orbit_core::Timestamp {
        self.deps.clock.now()
    }

    /// Creates a connection (owners and admins). The token is sealed before it is stored.
    pub async fn create_connection(
        &self,
        actor: &Actor,
        workspace_id: &str,
        new: NewGitHostConnection,
    ) -> Result<GitHostConnection> {
        let ws = self.admin(actor, workspace_id).await?;
        let name = clean_text("name", &new.name, true, 64)?;
        let provider = GitProvider::parse("provider", new.provider.trim())?;
        if provider == GitProvider::Orbit {
            return Err(Error::invalid(
                "provider",
                "Orbit's own git server needs no connection; choose github or gitlab",
            ));
        }
        let base_url = if new.base_url.trim().is_empty() {
            default_base_url(provider).to_owned()
        } else {
            check_base_url(&new.base_url)?
        };
        let namespace = check_namespace(&new.namespace)?;
        check_token(&new.token)?;
        let id = self.deps.ids.new_id();
        let sealed = self
            .deps
            .secrets
            .seal(&new.token, &token_context(&ws, &id))
            .map_err(secret_err)?;
        let now = self.now();
        let connection = GitHostConnection {
            id,
            workspace_id: ws,
            name,
            provider,
            base_url,
            namespace,
            token_set: true,
            token_last4: new.token.last4(),
            created_at: now,
            updated_at: now,
        };
        self.deps
            .git_connections
            .insert_git_connection(&connection, Some(&sealed))
            .await
            .map_err(store_err)?;
        tracing::info!(workspace = %connection.workspace_id, connection = %connection.id, provider = provider.as_str(), "git host connection created");
        Ok(connection)
    }

    /// The workspace's connections (owners and admins), ordered by name. Tokens are never
    /// part of the answer: only whether one is set and its last four characters.
    pub async fn list_connections(
        &self,
        actor: &Actor,
        workspace_id: &str,
    ) -> Result<Vec<GitHostConnection>> {
        let ws = self.admin(actor, workspace_id).await?;
        self.deps
            .git_connections
            .list_git_connections(&ws)
            .await
            .map_err(store_err)
    }

    async fn find(&self, ws: &WorkspaceId, id: &str) -> Result<(GitHostConnection, SealedSecret)> {
        let (c, sealed) = self
            .deps
            .git_connections
            .get_git_connection(ws, id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("git host connection '{id}'")))?;
        let sealed = sealed.ok_or_else(|| {
            Error::FailedPrecondition(format!(
                "the git host connection '{}' has no token; set one first",
                c.name
            ))
        })?;
        Ok((c, sealed))
    }

    /// Changes a connection (owners and admins); a new token replaces the old one.
    pub async fn update_connection(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        patch: GitHostConnectionPatch,
    ) -> Result<GitHostConnection> {
        let ws = self.admin(actor, workspace_id).await?;
        let (mut c, _) = self
            .deps
            .git_connections
            .get_git_connection(&ws, id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("git host connection '{id}'")))?;
        if let Some(name) = &patch.name {
            c.name = clean_text("name", name, true, 64)?;
        }
        if let Some(url) = &patch.base_url {
            c.base_url = if url.trim().is_empty() {
                default_base_url(c.provider).to_owned()
            } else {
                check_base_url(url)?
            };
        }
        if let Some(ns) = &patch.namespace {
            c.namespace = check_namespace(ns)?;
        }
        let sealed = match &patch.token {
            Some(token) => {
                check_token(token)?;
                c.token_set = true;
                c.token_last4 = token.last4();
                Some(
                    self.deps
                        .secrets
                        .seal(token, &token_context(&ws, id))
                        .map_err(secret_err)?,
                )
            }
            None => None,
        };
        c.updated_at = self.now();
        self.deps
            .git_connections
            .update_git_connection(&c, sealed.as_ref())
            .await
            .map_err(store_err)?;
        tracing::info!(workspace = %ws, connection = %id, token_replaced = sealed.is_some(), "git host connection updated");
        Ok(c)
    }

    /// Deletes a connection (owners and admins). `NotFound` when there is none.
    pub async fn delete_connection(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
    ) -> Result<()> {
        let ws = self.admin(actor, workspace_id).await?;
        if !self
            .deps
            .git_connections
            .delete_git_connection(&ws, id)
            .await
            .map_err(store_err)?
        {
            return Err(Error::NotFound(format!("git host connection '{id}'")));
        }
        tracing::info!(workspace = %ws, connection = %id, "git host connection deleted");
        Ok(())
    }

    /// The git host a use case of `workspace_id` works with: the stored connection
    /// `connection_id`, or Orbit's own git server when it is `None` or empty. Any member
    /// may open one; what the caller may do with it is the calling use case's check.
    pub async fn open(
        &self,
        actor: &Actor,
        workspace_id: &str,
        connection_id: Option<&str>,
    ) -> Result<Arc<dyn GitHost>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        self.open_for_workspace(&ws, connection_id).await
    }

    /// [`GitHostService::open`] without an actor, for workflow activities: the workflow was
    /// authorised when it started and runs inside `workspace`.
    pub async fn open_for_workspace(
        &self,
        workspace: &WorkspaceId,
        connection_id: Option<&str>,
    ) -> Result<Arc<dyn GitHost>> {
        let target = match connection_id.filter(|c| !c.is_empty()) {
            None => {
                let ws = self
                    .deps
                    .workspaces
                    .get_workspace(workspace)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| Error::NotFound(format!("workspace '{workspace}'")))?;
                GitHostTarget::Embedded {
                    workspace: ws.id,
                    slug: ws.slug,
                }
            }
            Some(id) => {
                let (c, sealed) = self.find(workspace, id).await?;
                let token = self
                    .deps
                    .secrets
                    .open(&sealed, &token_context(workspace, id))
                    .map_err(secret_err)?;
                GitHostTarget::Remote {
                    provider: c.provider,
                    base_url: c.base_url,
                    namespace: c.namespace,
                    token,
                }
            }
        };
        self.deps.git_hosts.open(&target).map_err(githost_err)
    }

    /// A remote at `url` with the credentials of the connection `connection_id` (the user
    /// name the provider expects with a token over HTTPS). For knowledge sync to a remote
    /// that needs authentication.
    pub async fn remote_with_connection(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
        url: &str,
    ) -> Result<GitRemote> {
        let (c, sealed) = self.find(workspace, connection_id).await?;
        let token = self
            .deps
            .secrets
            .open(&sealed, &token_context(workspace, connection_id))
            .map_err(secret_err)?;
        Ok(GitRemote {
            url: url.to_owned(),
            credentials: Some(GitCredentials {
                username: git_username(c.provider).to_owned(),
                password: token,
            }),
        })
    }

    /// Checks that `connection_id` names a connection of the workspace with a token (when
    /// a sync is started, before anything runs).
    pub async fn check_connection(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
    ) -> Result<()> {
        self.find(workspace, connection_id).await.map(|_| ())
    }

    /// Serves git's smart HTTP protocol for `<slug>/<repo>.git` on Orbit's own server.
    /// Members may clone and fetch; pushing needs the member role or higher (viewers get
    /// `permission_denied`); a non-member gets `not_found`, as for a workspace that does not
    /// exist.
    pub async fn serve_git(
        &self,
        actor: &Actor,
        slug: &str,
        repo: &str,
        request: GitHttpRequest,
    ) -> Result<GitHttpResponse> {
        let (ws, role) = self
            .workspaces
            .get(actor, &WorkspaceRef::Slug(slug.to_owned()))
            .await?;
        if request.is_push() && !role.can_write() {
            return Err(Error::PermissionDenied(format!(
                "a {} of '{slug}' may clone but not push",
                role.as_str()
            )));
        }
        let push = request.is_push();
        let response = self
            .deps
            .git_http
            .serve(&ws.id, repo, request)
            .await
            .map_err(githost_err)?;
        if push {
            tracing::info!(workspace = %ws.id, repo, user = %actor.user.login.as_str(), status = response.status, "git push over HTTP");
        }
        Ok(response)
    }

    /// Re-seals every stored token with `next`'s current key (see [`rotate_git_secrets`]).
    pub async fn rotate_secrets(
        &self,
        current: &dyn SecretCipher,
        next: &dyn SecretCipher,
    ) -> Result<usize> {
        rotate_git_secrets(&*self.deps.git_connections, current, next).await
    }
}

/// Re-seals every stored git host token with `next`'s current key, in one transaction
/// (`orbit secrets rotate-key`). Returns how many tokens were re-sealed. `current` must
/// open every stored token; if one cannot be opened, nothing is changed.
pub async fn rotate_git_secrets(
    store: &dyn GitHostConnectionStore,
    current: &dyn SecretCipher,
    next: &dyn SecretCipher,
) -> Result<usize> {
    let all = store.all_git_secrets().await.map_err(store_err)?;
    let mut changes = Vec::with_capacity(all.len());
    for (ws, id, sealed) in all {
        let ctx = token_context(&ws, &id);
        let plain = current.open(&sealed, &ctx).map_err(secret_err)?;
        let resealed = next.seal(&plain, &ctx).map_err(secret_err)?;
        changes.push((ws, id, sealed, resealed));
    }
    store
        .replace_git_secrets(&changes)
        .await
        .map_err(|e| match e {
            orbit_ports::StoreError::Stale { .. } => Error::Aborted(
                "a git host token changed during the rotation; nothing was changed, run it again"
                    .into(),
            ),
            other => store_err(other),
        })?;
    tracing::info!(secrets = changes.len(), key = %next.current_key_id(), "re-encrypted stored secrets with the new key");
    Ok(changes.len())
}
