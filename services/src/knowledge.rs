//! Knowledge spaces and pages: the use cases, their permissions and the optimistic
//! concurrency of edits.

use crate::{CachedReads, Deps, WorkspaceService, store_err};
use orbit_core::knowledge::{
    Page, PageSummary, PathSlug, Revision, RevisionSummary, Space, Visibility, tree_order,
    validate_body, validate_title,
};
use orbit_core::{Actor, Error, PageId, Result, Role, SpaceId, UserId, WorkspaceId, clean_text};
use orbit_ports::{Rendered, StoreError, StoredRender};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The version of the Markdown rendering kept in the store. Bump it when the renderer's
/// output changes (an extension, the sanitizer's policy): every page is then rendered anew
/// on its next read.
const RENDERER_VERSION: i64 = 1;

/// How a caller names a space.
#[derive(Debug, Clone)]
pub enum SpaceRef {
    Id(String),
    Slug(String),
}

/// The most ancestors a page view lists.
const MAX_ANCESTORS: usize = 100;

/// One page of a listed tree.
#[derive(Debug, Clone)]
pub struct TreeEntry {
    /// Levels below the listed root (0 for the top level, or for the root page itself).
    pub depth: usize,
    pub page: PageSummary,
    /// Whether the page has children (listed or not).
    pub has_children: bool,
}

/// A space with its members (empty unless restricted).
#[derive(Debug, Clone)]
pub struct SpaceView {
    pub space: Space,
    pub members: Vec<UserId>,
}

/// A page as read: stored fields plus its rendering.
#[derive(Debug, Clone)]
pub struct PageView {
    pub page: Page,
    pub rendered: Rendered,
}

/// Changes to a space; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SpacePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    /// User ids or logins.
    pub members: Option<Vec<String>>,
}

/// Changes to a page; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PagePatch {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub body: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CachedPage {
    id: String,
    workspace_id: String,
    space_id: String,
    parent_id: Option<String>,
    slug: String,
    title: String,
    body: String,
    sort_order: i64,
    revision: i64,
    created_at: i64,
    updated_at: i64,
    updated_by: String,
    html: String,
    headings: Vec<(u8, String, String)>,
}

impl CachedPage {
    /// The page and its rendering back from the cached form.
    fn into_view(self) -> Result<PageView> {
        Ok(PageView {
            page: Page {
                id: PageId::new(self.id),
                workspace_id: WorkspaceId::new(self.workspace_id),
                space_id: SpaceId::new(self.space_id),
                parent_id: self.parent_id.map(PageId::new),
                slug: PathSlug::parse("slug", &self.slug)?,
                title: self.title,
                body: self.body,
                sort_order: self.sort_order,
                revision: self.revision,
                created_at: orbit_core::Timestamp(self.created_at),
                updated_at: orbit_core::Timestamp(self.updated_at),
                updated_by: UserId::new(self.updated_by),
            },
            rendered: Rendered {
                html: self.html,
                text: String::new(),
                headings: self.headings,
            },
        })
    }
}

/// A space with its members (restricted spaces only), cached for the visibility check that
/// every page read makes.
#[derive(Serialize, Deserialize)]
struct CachedSpace {
    id: String,
    workspace_id: String,
    slug: String,
    name: String,
    description: String,
    visibility: String,
    created_at: i64,
    updated_at: i64,
    members: Vec<String>,
}

impl CachedSpace {
    fn new(space: &Space, members: &[UserId]) -> Self {
        CachedSpace {
            id: space.id.to_string(),
            workspace_id: space.workspace_id.to_string(),
            slug: space.slug.to_string(),
            name: space.name.clone(),
            description: space.description.clone(),
            visibility: space.visibility.as_str().to_owned(),
            created_at: space.created_at.0,
            updated_at: space.updated_at.0,
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }

    /// The space, or `None` if the entry cannot be read back (then it is read anew).
    fn into_parts(self) -> Option<(Space, Vec<String>)> {
        let space = Space {
            id: SpaceId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            slug: PathSlug::parse("slug", &self.slug).ok()?,
            name: self.name,
            description: self.description,
            visibility: Visibility::parse(&self.visibility)?,
            created_at: orbit_core::Timestamp(self.created_at),
            updated_at: orbit_core::Timestamp(self.updated_at),
        };
        Some((space, self.members))
    }
}

fn space_key(ws: &WorkspaceId, id: &SpaceId) -> String {
    format!("space:{ws}:{id}")
}

fn page_key(ws: &WorkspaceId, id: &PageId) -> String {
    format!("page:{ws}:{id}")
}

#[derive(Clone)]
pub struct KnowledgeService {
    deps: Deps,
    workspaces: WorkspaceService,
    cache: CachedReads,
    workflows: crate::WorkflowService,
}

/// Accepts `git://`, `http(s)://`, `ssh://` and `file://` URLs without a password in them
/// (a password in a URL would end up in run inputs and logs).
fn validate_remote(remote: &str) -> Result<()> {
    let field = "remote";
    let Some((scheme, rest)) = remote.split_once("://") else {
        return Err(Error::invalid(
            field,
            "must be a URL such as git://host/repo.git or https://host/repo.git",
        ));
    };
    if !matches!(scheme, "git" | "http" | "https" | "ssh" | "file") {
        return Err(Error::invalid(
            field,
            format!("scheme '{scheme}' is not supported: use git, http, https, ssh or file"),
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') && authority.split('@').next().unwrap_or("").contains(':') {
        return Err(Error::invalid(
            field,
            "must not contain a password: credentials in URLs would be stored and logged",
        ));
    }
    if remote.len() > 2000
        || remote.chars().any(|c| c.is_whitespace() || c.is_control())
        || rest.starts_with('-')
    {
        return Err(Error::invalid(field, "is not a valid URL"));
    }
    Ok(())
}

/// Whether `remote` is an http(s) URL on the host a connection's API lives on (the same
/// scheme and host and port, allowing the `api.` prefix of GitHub's API host:
/// `https://api.github.com` → `https://github.com/...`) and, when the connection names an
/// organisation or group, inside it: a connection's token is never sent anywhere else.
fn remote_on_host(remote: &str, base_url: &str, namespace: &str) -> bool {
    fn split(url: &str) -> Option<(&str, &str, &str)> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        (matches!(scheme, "http" | "https") && !authority.is_empty() && !authority.contains('@'))
            .then_some((scheme, authority, path))
    }
    let (Some((rs, ra, rp)), Some((bs, ba, _))) = (split(remote), split(base_url)) else {
        return false;
    };
    let ra = ra.to_ascii_lowercase();
    let ba = ba.to_ascii_lowercase();
    let same_host = rs == bs && (ra == ba || Some(ra.as_str()) == ba.strip_prefix("api."));
    let namespace = namespace.trim_matches('/').to_ascii_lowercase();
    let in_namespace = namespace.is_empty()
        || (rp
            .to_ascii_lowercase()
            .starts_with(&format!("{namespace}/"))
            && !rp.split('/').any(|seg| seg == ".." || seg == "."));
    same_host && in_namespace
}

fn space_not_found(reference: &str) -> Error {
    Error::NotFound(format!("space '{reference}'"))
}

fn page_not_found(reference: &str) -> Error {
    Error::NotFound(format!("page '{reference}'"))
}

impl KnowledgeService {
    pub(crate) fn new(
        deps: Deps,
        workspaces: WorkspaceService,
        cache: CachedReads,
        workflows: crate::WorkflowService,
    ) -> Self {
        KnowledgeService {
            deps,
            workspaces,
            cache,
            workflows,
        }
    }

    /// Starts a sync of a space with a folder of a git repository, as a durable workflow.
    /// Returns the run. Refused before anything starts when the space is not writable by
    /// the caller, or the remote, branch or path is unusable.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn sync_space(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
        direction: &str,
        remote: &str,
        branch: &str,
        path: &str,
    ) -> Result<orbit_core::workflow::WorkflowRun> {
        self.sync_space_with_connection(
            actor,
            workspace_id,
            space_id,
            direction,
            remote,
            branch,
            path,
            "",
        )
        .await
    }

    /// [`KnowledgeService::sync_space`] with the credentials of the workspace's git host
    /// connection `connection_id` (empty: none). The remote must then be an http(s) URL on
    /// the connection's host, so a token is never sent anywhere else.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn sync_space_with_connection(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
        direction: &str,
        remote: &str,
        branch: &str,
        path: &str,
        connection_id: &str,
    ) -> Result<orbit_core::workflow::WorkflowRun> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let space = self.visible_space(actor, &ws, role, space_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied("viewers cannot sync spaces".into()));
        }
        if !matches!(direction, "export" | "import") {
            return Err(Error::invalid(
                "direction",
                "must be export (space to git) or import (git to space)",
            ));
        }
        validate_remote(remote)?;
        let branch = if branch.is_empty() { "main" } else { branch };
        let bad_branch = branch.len() > 200
            || branch.starts_with('-')
            || branch.contains("..")
            || branch
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
        if bad_branch {
            return Err(Error::invalid("branch", "is not a valid git branch name"));
        }
        let path = path.trim_matches('/');
        if path.split('/').any(|p| p == ".." || p == ".")
            || path.starts_with('-')
            || path.len() > 500
        {
            return Err(Error::invalid(
                "path",
                "must be a folder inside the repository (no '..')",
            ));
        }
        let connection_id = connection_id.trim();
        if !connection_id.is_empty() {
            let (connection, sealed) = self
                .deps
                .git_connections
                .get_git_connection(&ws, connection_id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| Error::NotFound(format!("git host connection '{connection_id}'")))?;
            if sealed.is_none() {
                return Err(Error::FailedPrecondition(format!(
                    "the git host connection '{}' has no token",
                    connection.name
                )));
            }
            if !remote_on_host(remote, &connection.base_url, &connection.namespace) {
                let within = if connection.namespace.is_empty() {
                    String::new()
                } else {
                    format!(" under '{}/'", connection.namespace)
                };
                return Err(Error::invalid(
                    "remote",
                    format!(
                        "must be an http(s) URL on the host of the connection '{}' ({}){within}, so that its token goes nowhere else",
                        connection.name, connection.base_url
                    ),
                ));
            }
        }
        let input = orbit_workflows::knowledge_sync::SyncInput {
            space_id: space.id.to_string(),
            direction: direction.to_owned(),
            remote: remote.to_owned(),
            branch: branch.to_owned(),
            path: path.to_owned(),
            user_id: actor.user.id.to_string(),
            connection_id: connection_id.to_owned(),
        };
        let json = serde_json::to_string(&input).map_err(|e| Error::Internal(e.to_string()))?;
        let (run, _) = self
            .workflows
            .start(
                actor,
                workspace_id,
                orbit_workflows::knowledge_sync::KIND,
                &json,
                "",
            )
            .await?;
        Ok(run)
    }

    fn poke_indexer(&self) {
        (self.deps.index_signal)();
    }

    /// Whether the actor (with `role` in the workspace) may see `space`.
    async fn can_see(&self, actor: &Actor, role: Role, space: &Space) -> Result<bool> {
        if space.visibility == Visibility::Workspace || role.can_administer() {
            return Ok(true);
        }
        let members = self
            .deps
            .knowledge
            .space_members(&space.workspace_id, &space.id)
            .await
            .map_err(store_err)?;
        Ok(members.contains(&actor.user.id))
    }

    /// The ids of every space the actor can see in the workspace (for search filters).
    pub async fn visible_space_ids(
        &self,
        actor: &Actor,
        workspace: &WorkspaceId,
        role: Role,
    ) -> Result<Vec<String>> {
        let spaces = self
            .deps
            .knowledge
            .list_spaces(workspace)
            .await
            .map_err(store_err)?;
        let mine: Vec<SpaceId> = if role.can_administer() {
            Vec::new()
        } else {
            self.deps
                .knowledge
                .member_spaces(workspace, &actor.user.id)
                .await
                .map_err(store_err)?
        };
        Ok(spaces
            .into_iter()
            .filter(|s| {
                s.visibility == Visibility::Workspace
                    || role.can_administer()
                    || mine.contains(&s.id)
            })
            .map(|s| s.id.to_string())
            .collect())
    }

    async fn visible_space(
        &self,
        actor: &Actor,
        ws: &WorkspaceId,
        role: Role,
        id: &str,
    ) -> Result<Space> {
        let space_id = SpaceId::parse("space_id", id)?;
        // Through the cache: every page read checks its space (writes to a space delete
        // the entry).
        let key = space_key(ws, &space_id);
        let cached = self
            .cache
            .get::<CachedSpace>(&key)
            .await
            .and_then(CachedSpace::into_parts);
        let (space, members) = match cached {
            Some(found) => found,
            None => {
                let space = self
                    .deps
                    .knowledge
                    .get_space(ws, &space_id)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| space_not_found(id))?;
                let members = if space.visibility == Visibility::Restricted {
                    self.deps
                        .knowledge
                        .space_members(ws, &space.id)
                        .await
                        .map_err(store_err)?
                } else {
                    Vec::new()
                };
                self.cache
                    .put(&key, &CachedSpace::new(&space, &members))
                    .await;
                (space, members.iter().map(|m| m.to_string()).collect())
            }
        };
        let visible = space.visibility == Visibility::Workspace
            || role.can_administer()
            || members.iter().any(|m| m == actor.user.id.as_str());
        if !visible {
            return Err(space_not_found(id));
        }
        Ok(space)
    }

    async fn view(&self, space: Space) -> Result<SpaceView> {
        let members = if space.visibility == Visibility::Restricted {
            self.deps
                .knowledge
                .space_members(&space.workspace_id, &space.id)
                .await
                .map_err(store_err)?
        } else {
            Vec::new()
        };
        Ok(SpaceView { space, members })
    }

    async fn resolve_users(&self, refs: &[String]) -> Result<Vec<UserId>> {
        let mut out = Vec::new();
        for r in refs {
            let users = &self.deps.users;
            let user = match users.get_user_by_login(r).await.map_err(store_err)? {
                Some(u) => Some(u),
                None => match UserId::parse("members", r) {
                    Ok(id) => users.get_user(&id).await.map_err(store_err)?,
                    Err(_) => None,
                },
            };
            let user = user.ok_or_else(|| Error::NotFound(format!("user '{r}'")))?;
            if !out.contains(&user.id) {
                out.push(user.id);
            }
        }
        Ok(out)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn create_space(
        &self,
        actor: &Actor,
        workspace_id: &str,
        slug: &str,
        name: &str,
        description: &str,
        visibility: Option<Visibility>,
        members: &[String],
    ) -> Result<SpaceView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot create spaces".into(),
            ));
        }
        let now = self.deps.clock.now();
        let visibility = visibility.unwrap_or(Visibility::Workspace);
        let space = Space {
            id: SpaceId::new(self.deps.ids.new_id()),
            workspace_id: ws.clone(),
            slug: PathSlug::parse("slug", slug)?,
            name: Space::validate_name(name)?,
            description: clean_text("description", description, false, 2000)?,
            visibility,
            created_at: now,
            updated_at: now,
        };
        let mut member_ids = self.resolve_users(members).await?;
        if visibility == Visibility::Restricted && !member_ids.contains(&actor.user.id) {
            member_ids.insert(0, actor.user.id.clone());
        }
        if visibility == Visibility::Workspace && !member_ids.is_empty() {
            return Err(Error::invalid("members", "apply to restricted spaces only"));
        }
        self.ensure_workspace_members(&ws, &member_ids).await?;
        self.deps
            .knowledge
            .create_space(&space, &member_ids)
            .await
            .map_err(store_err)?;
        tracing::info!(workspace = %ws, space = %space.id, user = %actor.user.id, "space created");
        Ok(SpaceView {
            space,
            members: member_ids,
        })
    }

    async fn ensure_workspace_members(&self, ws: &WorkspaceId, users: &[UserId]) -> Result<()> {
        for u in users {
            if self
                .deps
                .workspaces
                .get_role(ws, u)
                .await
                .map_err(store_err)?
                .is_none()
            {
                return Err(Error::invalid(
                    "members",
                    format!("user '{u}' is not a member of this workspace"),
                ));
            }
        }
        Ok(())
    }

    pub async fn get_space(
        &self,
        actor: &Actor,
        workspace_id: &str,
        reference: &SpaceRef,
    ) -> Result<SpaceView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let (label, found) = match reference {
            SpaceRef::Id(id) => (
                id.clone(),
                self.deps
                    .knowledge
                    .get_space(&ws, &SpaceId::parse("id", id)?)
                    .await,
            ),
            SpaceRef::Slug(slug) => (
                slug.clone(),
                self.deps
                    .knowledge
                    .get_space_by_slug(&ws, &PathSlug::parse("slug", slug)?)
                    .await,
            ),
        };
        let space = found
            .map_err(store_err)?
            .ok_or_else(|| space_not_found(&label))?;
        if !self.can_see(actor, role, &space).await? {
            return Err(space_not_found(&label));
        }
        self.view(space).await
    }

    pub async fn list_spaces(&self, actor: &Actor, workspace_id: &str) -> Result<Vec<SpaceView>> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let visible = self.visible_space_ids(actor, &ws, role).await?;
        let spaces = self
            .deps
            .knowledge
            .list_spaces(&ws)
            .await
            .map_err(store_err)?;
        let mut out = Vec::new();
        for s in spaces
            .into_iter()
            .filter(|s| visible.contains(&s.id.to_string()))
        {
            out.push(self.view(s).await?);
        }
        Ok(out)
    }

    async fn may_manage(&self, actor: &Actor, role: Role, space: &Space) -> Result<bool> {
        if role.can_administer() {
            return Ok(true);
        }
        Ok(role.can_write()
            && space.visibility == Visibility::Restricted
            && self
                .deps
                .knowledge
                .space_members(&space.workspace_id, &space.id)
                .await
                .map_err(store_err)?
                .contains(&actor.user.id))
    }

    pub async fn update_space(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        patch: SpacePatch,
    ) -> Result<SpaceView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let mut space = self.visible_space(actor, &ws, role, id).await?;
        if !self.may_manage(actor, role, &space).await? {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins (or members of a restricted space) can change a space".into(),
            ));
        }
        if let Some(name) = patch.name {
            space.name = Space::validate_name(&name)?;
        }
        if let Some(description) = patch.description {
            space.description = clean_text("description", &description, false, 2000)?;
        }
        if let Some(v) = patch.visibility {
            space.visibility = v;
        }
        space.updated_at = self.deps.clock.now();
        let updated = self.deps.knowledge.update_space(&space).await;
        self.cache.invalidate(vec![space_key(&ws, &space.id)]).await;
        updated.map_err(store_err)?;
        if let Some(members) = patch.members {
            let ids = self.resolve_users(&members).await?;
            self.ensure_workspace_members(&ws, &ids).await?;
            let set = self
                .deps
                .knowledge
                .set_space_members(&ws, &space.id, &ids)
                .await;
            self.cache.invalidate(vec![space_key(&ws, &space.id)]).await;
            set.map_err(store_err)?;
        }
        self.view(space).await
    }

    pub async fn delete_space(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        confirm_slug: &str,
    ) -> Result<()> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let space = self.visible_space(actor, &ws, role, id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only owners and admins can delete a space".into(),
            ));
        }
        if confirm_slug != space.slug.as_str() {
            return Err(Error::invalid(
                "confirm_slug",
                format!(
                    "must repeat the space's slug '{}' to confirm the deletion",
                    space.slug
                ),
            ));
        }
        let prefix = self.deps.ids.new_id();
        let pages = self
            .deps
            .knowledge
            .delete_space(&ws, &space.id, &prefix)
            .await
            .map_err(store_err)?;
        self.cache
            .invalidate(
                pages
                    .iter()
                    .map(|p| page_key(&ws, p))
                    .chain([space_key(&ws, &space.id)])
                    .collect(),
            )
            .await;
        self.poke_indexer();
        tracing::info!(workspace = %ws, space = %space.id, pages = pages.len(), "space deleted");
        Ok(())
    }

    fn check_body(&self, body: &str) -> Result<()> {
        validate_body(body, self.deps.limits.max_page_bytes)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn create_page(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
        parent_id: &str,
        title: &str,
        slug: &str,
        body: &str,
    ) -> Result<PageView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let space = self.visible_space(actor, &ws, role, space_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied("viewers cannot write pages".into()));
        }
        let title = validate_title(title)?;
        let slug = if slug.is_empty() {
            PathSlug::from_title(&title)
        } else {
            PathSlug::parse("slug", slug)?
        };
        self.check_body(body)?;
        let parent = if parent_id.is_empty() {
            None
        } else {
            Some(PageId::parse("parent_id", parent_id)?)
        };
        // Placed after the last sibling by the store (-1), without reading the tree.
        let sort_order = -1;
        let now = self.deps.clock.now();
        let page = Page {
            id: PageId::new(self.deps.ids.new_id()),
            workspace_id: ws.clone(),
            space_id: space.id.clone(),
            parent_id: parent,
            slug,
            title,
            body: body.to_owned(),
            sort_order,
            revision: 1,
            created_at: now,
            updated_at: now,
            updated_by: actor.user.id.clone(),
        };
        let revision = Revision {
            page_id: page.id.clone(),
            revision: 1,
            title: page.title.clone(),
            body: page.body.clone(),
            author: actor.user.id.clone(),
            created_at: now,
            note: "created".into(),
        };
        // Rendered before the write, and stored with the page in its transaction.
        let (rendered, stored) = self.render_page(&page);
        self.deps
            .knowledge
            .create_page(&page, &revision, &stored, &self.deps.ids.new_id())
            .await
            .map_err(store_err)?;
        self.poke_indexer();
        Ok(PageView { page, rendered })
    }

    /// Renders a page's current revision, and the rendering to keep in the store.
    fn render_page(&self, page: &Page) -> (Rendered, StoredRender) {
        let rendered = self.deps.markdown.render(&page.body);
        let stored = StoredRender {
            revision: page.revision,
            renderer: RENDERER_VERSION,
            html: rendered.html.clone(),
            headings: rendered.headings.clone(),
        };
        (rendered, stored)
    }

    /// Renders a page's current revision and keeps the result in the store, so reads do not
    /// render it again (for pages whose stored rendering is missing or out of date, e.g.
    /// after a renderer upgrade). Best effort: failing to keep it only costs a render on a
    /// later read.
    async fn render_and_keep(&self, page: &Page) -> Rendered {
        let (rendered, stored) = self.render_page(page);
        if let Err(error) = self
            .deps
            .knowledge
            .put_render(&page.workspace_id, &page.id, &stored)
            .await
        {
            tracing::warn!(%error, page = %page.id, "could not keep the page's rendering");
        }
        rendered
    }

    /// Loads a page the actor may see without its rendering (for edits, moves, history):
    /// from the cache if it is there, else one read of the page row alone, which is not put
    /// in the cache (the caller is usually about to change the page).
    async fn load_page_only(
        &self,
        actor: &Actor,
        ws: &WorkspaceId,
        role: Role,
        id: &str,
    ) -> Result<Page> {
        let page_id = PageId::parse("id", id)?;
        let page = match self.cache.get::<CachedPage>(&page_key(ws, &page_id)).await {
            Some(c) => c.into_view()?.page,
            None => self
                .deps
                .knowledge
                .get_page(ws, &page_id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| page_not_found(id))?,
        };
        self.visible_space(actor, ws, role, page.space_id.as_str())
            .await
            .map_err(|_| page_not_found(id))?;
        Ok(page)
    }

    /// Loads a page the actor may see, through the cache.
    async fn load_page(
        &self,
        actor: &Actor,
        ws: &WorkspaceId,
        role: Role,
        id: &str,
    ) -> Result<PageView> {
        let page_id = PageId::parse("id", id)?;
        let key = page_key(ws, &page_id);
        let view = match self.cache.get::<CachedPage>(&key).await {
            Some(c) => c.into_view()?,
            None => {
                let (page, stored) = self
                    .deps
                    .knowledge
                    .get_page_with_render(ws, &page_id)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| page_not_found(id))?;
                let rendered = match stored {
                    Some(r) if r.revision == page.revision && r.renderer == RENDERER_VERSION => {
                        Rendered {
                            html: r.html,
                            text: String::new(),
                            headings: r.headings,
                        }
                    }
                    _ => self.render_and_keep(&page).await,
                };
                let p = &page;
                let cached = CachedPage {
                    id: p.id.to_string(),
                    workspace_id: p.workspace_id.to_string(),
                    space_id: p.space_id.to_string(),
                    parent_id: p.parent_id.as_ref().map(|x| x.to_string()),
                    slug: p.slug.to_string(),
                    title: p.title.clone(),
                    body: p.body.clone(),
                    sort_order: p.sort_order,
                    revision: p.revision,
                    created_at: p.created_at.0,
                    updated_at: p.updated_at.0,
                    updated_by: p.updated_by.to_string(),
                    html: rendered.html.clone(),
                    headings: rendered.headings.clone(),
                };
                self.cache.put(&key, &cached).await;
                PageView { page, rendered }
            }
        };
        // Visibility is checked on every read, cached page or not.
        self.visible_space(actor, ws, role, view.page.space_id.as_str())
            .await
            .map_err(|_| page_not_found(id))?;
        Ok(view)
    }

    pub async fn get_page(&self, actor: &Actor, workspace_id: &str, id: &str) -> Result<PageView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        self.load_page(actor, &ws, role, id).await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    async fn save(
        &self,
        actor: &Actor,
        ws: &WorkspaceId,
        current: Page,
        base_revision: i64,
        title: String,
        slug: PathSlug,
        body: String,
        note: String,
    ) -> Result<PageView> {
        let now = self.deps.clock.now();
        let page = Page {
            title,
            slug,
            body,
            revision: current.revision + 1,
            updated_at: now,
            updated_by: actor.user.id.clone(),
            ..current
        };
        let revision = Revision {
            page_id: page.id.clone(),
            revision: page.revision,
            title: page.title.clone(),
            body: page.body.clone(),
            author: actor.user.id.clone(),
            created_at: now,
            note,
        };
        // Rendered before the write, and stored with the revision in its transaction.
        let (rendered, stored) = self.render_page(&page);
        let result = self
            .deps
            .knowledge
            .update_page(
                &page,
                &revision,
                &stored,
                base_revision,
                &self.deps.ids.new_id(),
            )
            .await;
        self.cache.invalidate(vec![page_key(ws, &page.id)]).await;
        result.map_err(store_err)?;
        self.poke_indexer();
        Ok(PageView { page, rendered })
    }

    fn require_base(base_revision: i64) -> Result<()> {
        if base_revision <= 0 {
            return Err(Error::invalid(
                "base_revision",
                "is required: send the revision your edit started from",
            ));
        }
        Ok(())
    }

    pub async fn update_page(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        base_revision: i64,
        patch: PagePatch,
    ) -> Result<PageView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::require_base(base_revision)?;
        let current = self.load_page_only(actor, &ws, role, id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied("viewers cannot edit pages".into()));
        }
        let title = match patch.title {
            Some(t) => validate_title(&t)?,
            None => current.title.clone(),
        };
        let slug = match patch.slug {
            Some(s) => PathSlug::parse("slug", &s)?,
            None => current.slug.clone(),
        };
        let body = patch.body.unwrap_or_else(|| current.body.clone());
        self.check_body(&body)?;
        if current.revision != base_revision {
            // Checked again atomically by the store; this only saves work.
            return Err(store_err(StoreError::Stale {
                current: current.revision,
            }));
        }
        self.save(
            actor,
            &ws,
            current,
            base_revision,
            title,
            slug,
            body,
            "edited".into(),
        )
        .await
    }

    pub async fn restore_revision(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        revision: i64,
        base_revision: i64,
    ) -> Result<PageView> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        Self::require_base(base_revision)?;
        let current = self.load_page_only(actor, &ws, role, id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot restore revisions".into(),
            ));
        }
        let old = self
            .deps
            .knowledge
            .get_revision(&ws, &current.id, revision)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("revision {revision} of page '{id}'")))?;
        let slug = current.slug.clone();
        self.save(
            actor,
            &ws,
            current,
            base_revision,
            old.title,
            slug,
            old.body,
            format!("restored revision {revision}"),
        )
        .await
    }

    pub async fn move_page(
        &self,
        actor: &Actor,
        workspace_id: &str,
        id: &str,
        parent_id: &str,
        position: i32,
    ) -> Result<()> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = self.load_page_only(actor, &ws, role, id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied("viewers cannot move pages".into()));
        }
        let parent = if parent_id.is_empty() {
            None
        } else {
            Some(PageId::parse("parent_id", parent_id)?)
        };
        if parent.as_ref() == Some(&page.id) {
            return Err(Error::FailedPrecondition(
                "a page cannot be moved under itself or one of its own descendants".into(),
            ));
        }
        let all = self
            .deps
            .knowledge
            .list_pages(&ws, &page.space_id)
            .await
            .map_err(store_err)?;
        let mut siblings: Vec<&PageSummary> = all
            .iter()
            .filter(|p| p.parent_id == parent && p.id != page.id)
            .collect();
        siblings.sort_by(|a, b| {
            a.sort_order
                .cmp(&b.sort_order)
                .then_with(|| a.title.cmp(&b.title))
        });
        let mut order: Vec<PageId> = siblings.into_iter().map(|p| p.id.clone()).collect();
        let at = usize::try_from(position.max(0))
            .unwrap_or(0)
            .min(order.len());
        order.insert(at, page.id.clone());
        self.deps
            .knowledge
            .move_page(&ws, &page.id, parent.as_ref(), &order)
            .await
            .map_err(store_err)?;
        self.cache.invalidate(vec![page_key(&ws, &page.id)]).await;
        Ok(())
    }

    pub async fn delete_page(&self, actor: &Actor, workspace_id: &str, id: &str) -> Result<()> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = self.load_page_only(actor, &ws, role, id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot delete pages".into(),
            ));
        }
        let result = self
            .deps
            .knowledge
            .delete_page(&ws, &page.id, &self.deps.ids.new_id())
            .await;
        self.cache.invalidate(vec![page_key(&ws, &page.id)]).await;
        result.map_err(store_err)?;
        self.poke_indexer();
        Ok(())
    }

    /// The tree of a space (or one page's subtree) in depth-first order with depths.
    pub async fn list_pages(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
        root_id: &str,
    ) -> Result<Vec<(usize, PageSummary)>> {
        Ok(self
            .list_tree(actor, workspace_id, space_id, root_id, 0)
            .await?
            .into_iter()
            .map(|e| (e.depth, e.page))
            .collect())
    }

    /// The tree of a space (or of one page's subtree, the page at depth 0) in depth-first
    /// order, each page with its depth and how many children it has. With `max_depth`
    /// positive, only the pages less than that many levels down: a client showing a large
    /// tree asks for the top levels, then for a page's children when it is opened, and
    /// each request reads only those levels (one query per level), not the whole space.
    pub async fn list_tree(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
        root_id: &str,
        max_depth: i32,
    ) -> Result<Vec<TreeEntry>> {
        if max_depth < 0 {
            return Err(Error::invalid(
                "max_depth",
                "cannot be negative (0 lists the whole tree)",
            ));
        }
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let space = self.visible_space(actor, &ws, role, space_id).await?;
        if max_depth > 0 {
            return self
                .list_levels(&ws, &space, root_id, max_depth as usize)
                .await;
        }
        let all = self
            .deps
            .knowledge
            .list_pages(&ws, &space.id)
            .await
            .map_err(store_err)?;
        let parents: HashSet<&PageId> = all.iter().filter_map(|p| p.parent_id.as_ref()).collect();
        let entry = |depth: usize, p: &PageSummary| TreeEntry {
            depth,
            has_children: parents.contains(&p.id),
            page: p.clone(),
        };
        let ordered = tree_order(&all);
        if root_id.is_empty() {
            return Ok(ordered.into_iter().map(|(d, p)| entry(d, p)).collect());
        }
        let start = ordered
            .iter()
            .position(|(_, p)| p.id.as_str() == root_id)
            .ok_or_else(|| page_not_found(root_id))?;
        let base = ordered[start].0;
        Ok(ordered[start..]
            .iter()
            .enumerate()
            .take_while(|(i, (d, _))| *i == 0 || *d > base)
            .map(|(_, (d, p))| entry(d - base, p))
            .collect())
    }

    /// How many pages a space has (the caller must be able to see the space).
    pub async fn count_pages(
        &self,
        actor: &Actor,
        workspace_id: &str,
        space_id: &str,
    ) -> Result<u64> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let space = self.visible_space(actor, &ws, role, space_id).await?;
        self.deps
            .knowledge
            .count_pages(&ws, &space.id)
            .await
            .map_err(store_err)
    }

    /// What a page view shows around a page, read without the rest of its space's tree:
    /// the pages above it (the top-level one first) and its children in tree order.
    pub async fn page_surroundings(
        &self,
        actor: &Actor,
        workspace_id: &str,
        page_id: &str,
    ) -> Result<(Vec<PageSummary>, Vec<PageSummary>)> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = self.load_page_only(actor, &ws, role, page_id).await?;
        let mut ancestors = Vec::new();
        let mut next = page.parent_id.clone();
        // Bounded: a parent chain longer than this cannot be built (moves refuse cycles).
        while let Some(id) = next.take() {
            if ancestors.len() >= MAX_ANCESTORS {
                break;
            }
            match self.load_page_only(actor, &ws, role, id.as_str()).await {
                Ok(parent) => {
                    next = parent.parent_id.clone();
                    ancestors.push(parent.summary());
                }
                Err(Error::NotFound(_)) => break,
                Err(e) => return Err(e),
            }
        }
        ancestors.reverse();
        let children: Vec<PageSummary> = self
            .deps
            .knowledge
            .list_children(&ws, &page.space_id, &[Some(page.id.clone())])
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let children = tree_order(&children)
            .into_iter()
            .map(|(_, p)| p.clone())
            .collect();
        Ok((ancestors, children))
    }

    /// [`Self::list_tree`] with a depth limit: level by level from the store.
    async fn list_levels(
        &self,
        ws: &WorkspaceId,
        space: &Space,
        root_id: &str,
        max_depth: usize,
    ) -> Result<Vec<TreeEntry>> {
        let store = &self.deps.knowledge;
        // (page, has children) of every listed level; `level` is the last one read.
        let mut all: Vec<(PageSummary, bool)> = Vec::new();
        let mut level: Vec<(PageSummary, bool)>;
        let mut depth = 1;
        if root_id.is_empty() {
            level = store
                .list_children(ws, &space.id, &[None])
                .await
                .map_err(store_err)?;
        } else {
            let root = store
                .get_page(ws, &PageId::new(root_id.to_owned()))
                .await
                .map_err(store_err)?
                .filter(|p| p.space_id == space.id)
                .ok_or_else(|| page_not_found(root_id))?;
            // Its children are read anyway, to say whether it has any.
            level = store
                .list_children(ws, &space.id, &[Some(root.id.clone())])
                .await
                .map_err(store_err)?;
            all.push((root.summary(), !level.is_empty()));
            if max_depth == 1 {
                level.clear();
            }
            depth = 2;
        }
        loop {
            let parents: Vec<Option<PageId>> = level
                .iter()
                .filter(|(_, has)| *has)
                .map(|(p, _)| Some(p.id.clone()))
                .collect();
            all.append(&mut level);
            if parents.is_empty() || depth >= max_depth {
                break;
            }
            level = store
                .list_children(ws, &space.id, &parents)
                .await
                .map_err(store_err)?;
            depth += 1;
        }
        let has_children: HashMap<PageId, bool> =
            all.iter().map(|(p, has)| (p.id.clone(), *has)).collect();
        let pages: Vec<PageSummary> = all.into_iter().map(|(p, _)| p).collect();
        Ok(tree_order(&pages)
            .into_iter()
            .map(|(depth, p)| TreeEntry {
                depth,
                has_children: has_children.get(&p.id).copied().unwrap_or(false),
                page: p.clone(),
            })
            .collect())
    }

    pub async fn list_revisions(
        &self,
        actor: &Actor,
        workspace_id: &str,
        page_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<RevisionSummary>, Option<String>)> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = self.load_page_only(actor, &ws, role, page_id).await?;
        let request = orbit_core::PageRequest::parse(page_size, page_token)?;
        let before =
            match &request.after {
                Some(s) => Some(s.parse::<i64>().map_err(|_| {
                    Error::invalid("page_token", "is not a token this server issued")
                })?),
                None => None,
            };
        let rows = self
            .deps
            .knowledge
            .list_revisions(&ws, &page.id, before, request.limit)
            .await
            .map_err(store_err)?;
        let page =
            orbit_core::Page::from_overfetch(rows, request.limit, |r| r.revision.to_string());
        Ok((page.items, page.next))
    }

    pub async fn get_revision(
        &self,
        actor: &Actor,
        workspace_id: &str,
        page_id: &str,
        revision: i64,
    ) -> Result<(Revision, String, Rendered)> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        let page = self.load_page_only(actor, &ws, role, page_id).await?;
        let rev = self
            .deps
            .knowledge
            .get_revision(&ws, &page.id, revision)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("revision {revision} of page '{page_id}'")))?;
        let login = self
            .deps
            .users
            .get_user(&rev.author)
            .await
            .map_err(store_err)?
            .map(|u| u.login.as_str().to_owned())
            .unwrap_or_default();
        let rendered = self.deps.markdown.render(&rev.body);
        Ok((rev, login, rendered))
    }

    /// Renders Markdown for a preview. Any signed-in user may; the size limit applies.
    pub fn render(&self, _actor: &Actor, markdown: &str) -> Result<Rendered> {
        self.check_body(markdown)?;
        Ok(self.deps.markdown.render(markdown))
    }
}

#[cfg(test)]
mod remote_tests {
    use super::remote_on_host;

    #[test]
    fn connection_tokens_only_go_to_their_host_and_namespace() {
        let gh = "https://api.github.com";
        assert!(remote_on_host(
            "https://github.com/acme/docs.git",
            gh,
            "acme"
        ));
        assert!(remote_on_host(
            "https://GitHub.com/Acme/docs.git",
            gh,
            "acme"
        ));
        assert!(remote_on_host("https://github.com/other/docs.git", gh, ""));
        assert!(!remote_on_host(
            "https://github.com/other/docs.git",
            gh,
            "acme"
        ));
        assert!(!remote_on_host(
            "https://github.com/acme/../other/x.git",
            gh,
            "acme"
        ));
        assert!(!remote_on_host(
            "https://github.com/acmeevil/x.git",
            gh,
            "acme"
        ));
        assert!(!remote_on_host("http://github.com/acme/x.git", gh, "acme"));
        assert!(!remote_on_host(
            "https://evil.example/acme/x.git",
            gh,
            "acme"
        ));
        assert!(!remote_on_host("git://github.com/acme/x.git", gh, "acme"));
        assert!(!remote_on_host(
            "https://github.com:444/acme/x.git",
            gh,
            "acme"
        ));
        let gl = "https://gitlab.example.com";
        assert!(remote_on_host(
            "https://gitlab.example.com/platform/backend/docs.git",
            gl,
            "platform/backend"
        ));
        assert!(!remote_on_host(
            "https://gitlab.example.com/platform/docs.git",
            gl,
            "platform/backend"
        ));
    }
}
