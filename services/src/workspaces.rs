use crate::{CachedReads, Deps, store_err};
use orbit_core::{
    Actor, Error, Member, Membership, Page, PageRequest, Result, Role, Slug, UserId, Workspace,
    WorkspaceId, WorkspacePatch,
};
use orbit_ports::page_of;
use serde::{Deserialize, Serialize};

/// How a caller names a workspace.
#[derive(Debug, Clone)]
pub enum WorkspaceRef {
    Id(String),
    Slug(String),
}

#[derive(Clone)]
pub struct WorkspaceService {
    deps: Deps,
    cache: CachedReads,
}

fn role_key(workspace: &WorkspaceId, user: &UserId) -> String {
    format!("role:{workspace}:{user}")
}
fn workspace_key(workspace: &WorkspaceId) -> String {
    format!("ws:{workspace}")
}
fn slug_key(slug: &str) -> String {
    format!("wsslug:{slug}")
}

/// What the cache holds for a workspace (domain types are not serializable on purpose).
#[derive(Serialize, Deserialize)]
struct CachedWorkspace {
    id: String,
    slug: String,
    name: String,
    description: String,
    created_at: i64,
    updated_at: i64,
}

impl From<&Workspace> for CachedWorkspace {
    fn from(w: &Workspace) -> Self {
        CachedWorkspace {
            id: w.id.to_string(),
            slug: w.slug.to_string(),
            name: w.name.clone(),
            description: w.description.clone(),
            created_at: w.created_at.0,
            updated_at: w.updated_at.0,
        }
    }
}

impl CachedWorkspace {
    fn into_domain(self) -> Option<Workspace> {
        Some(Workspace {
            id: WorkspaceId::new(self.id),
            slug: Slug::parse(&self.slug).ok()?,
            name: self.name,
            description: self.description,
            created_at: orbit_core::Timestamp(self.created_at),
            updated_at: orbit_core::Timestamp(self.updated_at),
        })
    }
}

fn not_found(reference: &str) -> Error {
    Error::NotFound(format!("workspace '{reference}'"))
}

fn parse_role(role: Option<Role>) -> Result<Role> {
    role.ok_or_else(|| Error::invalid("role", "must be one of owner, admin, member or viewer"))
}

impl WorkspaceService {
    pub(crate) fn new(deps: Deps, cache: CachedReads) -> Self {
        WorkspaceService { deps, cache }
    }

    /// Creates a workspace with the actor as its first owner.
    pub async fn create(
        &self,
        actor: &Actor,
        slug: &str,
        name: &str,
        description: &str,
    ) -> Result<(Workspace, Role)> {
        let now = self.deps.clock.now();
        let workspace = Workspace::new(
            WorkspaceId::new(self.deps.ids.new_id()),
            slug,
            name,
            description,
            now,
        )?;
        let owner = Membership {
            workspace_id: workspace.id.clone(),
            user_id: actor.user.id.clone(),
            role: Role::Owner,
            created_at: now,
        };
        self.deps
            .workspaces
            .create_workspace(&workspace, &owner)
            .await
            .map_err(store_err)?;
        // A negative entry may have been cached for this user, or for this slug by someone
        // who looked before it existed.
        self.cache
            .invalidate(vec![
                role_key(&workspace.id, &actor.user.id),
                slug_key(workspace.slug.as_str()),
            ])
            .await;
        tracing::info!(workspace = %workspace.id, slug = %workspace.slug, user = %actor.user.id, "workspace created");
        Ok((workspace, Role::Owner))
    }

    async fn load(&self, id: &WorkspaceId) -> Result<Option<Workspace>> {
        let key = workspace_key(id);
        if let Some(cached) = self.cache.get::<CachedWorkspace>(&key).await {
            if let Some(ws) = cached.into_domain() {
                return Ok(Some(ws));
            }
        }
        let found = self
            .deps
            .workspaces
            .get_workspace(id)
            .await
            .map_err(store_err)?;
        if let Some(ws) = &found {
            self.cache.put(&key, &CachedWorkspace::from(ws)).await;
        }
        Ok(found)
    }

    async fn resolve(&self, reference: &WorkspaceRef) -> Result<Option<Workspace>> {
        match reference {
            WorkspaceRef::Id(id) => self.load(&WorkspaceId::parse("id", id)?).await,
            WorkspaceRef::Slug(slug) => {
                let slug = Slug::parse(slug)?;
                let key = slug_key(slug.as_str());
                if let Some(id) = self.cache.get::<String>(&key).await {
                    if let Some(ws) = self.load(&WorkspaceId::new(id)).await? {
                        if ws.slug == slug {
                            return Ok(Some(ws));
                        }
                    }
                }
                let found = self
                    .deps
                    .workspaces
                    .get_workspace_by_slug(&slug)
                    .await
                    .map_err(store_err)?;
                if let Some(ws) = &found {
                    self.cache.put(&key, &ws.id.to_string()).await;
                }
                Ok(found)
            }
        }
    }

    /// The actor's role in a workspace, through the cache. `None` when not a member.
    pub async fn role_of(&self, actor: &Actor, workspace: &WorkspaceId) -> Result<Option<Role>> {
        let key = role_key(workspace, &actor.user.id);
        if let Some(cached) = self.cache.get::<String>(&key).await {
            return Ok(Role::parse(&cached));
        }
        let role = self
            .deps
            .workspaces
            .get_role(workspace, &actor.user.id)
            .await
            .map_err(store_err)?;
        self.cache
            .put(&key, &role.map(Role::as_str).unwrap_or("-"))
            .await;
        Ok(role)
    }

    /// Resolves a workspace id the actor is a member of. Non-members get `NotFound`, so that
    /// a workspace's existence does not leak to people outside it.
    pub async fn authorize(
        &self,
        actor: &Actor,
        workspace_id: &str,
    ) -> Result<(WorkspaceId, Role)> {
        let id = WorkspaceId::parse("workspace_id", workspace_id)?;
        match self.role_of(actor, &id).await? {
            Some(role) => Ok((id, role)),
            None => Err(not_found(workspace_id)),
        }
    }

    pub async fn get(&self, actor: &Actor, reference: &WorkspaceRef) -> Result<(Workspace, Role)> {
        let label = match reference {
            WorkspaceRef::Id(s) | WorkspaceRef::Slug(s) => s.clone(),
        };
        if label.is_empty() {
            return Err(Error::invalid("id or slug", "is required"));
        }
        let Some(ws) = self.resolve(reference).await? else {
            return Err(not_found(&label));
        };
        match self.role_of(actor, &ws.id).await? {
            Some(role) => Ok((ws, role)),
            None => Err(not_found(&label)),
        }
    }

    pub async fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<(Workspace, Role)>> {
        let rows = self
            .deps
            .workspaces
            .list_workspaces_for_user(&actor.user.id, page)
            .await
            .map_err(store_err)?;
        Ok(page_of(rows, page, |(w, _)| w.slug.to_string()))
    }

    pub async fn update(
        &self,
        actor: &Actor,
        workspace_id: &str,
        patch: WorkspacePatch,
    ) -> Result<(Workspace, Role)> {
        let (id, role) = self.authorize(actor, workspace_id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only owners and admins can change a workspace's settings".into(),
            ));
        }
        let mut ws = self
            .deps
            .workspaces
            .get_workspace(&id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| not_found(workspace_id))?;
        if ws.apply(patch, self.deps.clock.now())? {
            self.deps
                .workspaces
                .update_workspace(&ws)
                .await
                .map_err(store_err)?;
            self.cache.invalidate(vec![workspace_key(&id)]).await;
        }
        Ok((ws, role))
    }

    /// Deletes a workspace and, in the same transaction, everything that belongs to it.
    /// Only owners may, and they must repeat the slug.
    pub async fn delete(
        &self,
        actor: &Actor,
        workspace_id: &str,
        confirm_slug: &str,
    ) -> Result<()> {
        let (id, role) = self.authorize(actor, workspace_id).await?;
        if role != Role::Owner {
            return Err(Error::PermissionDenied(
                "only owners can delete a workspace".into(),
            ));
        }
        let ws = self
            .load(&id)
            .await?
            .ok_or_else(|| not_found(workspace_id))?;
        if confirm_slug != ws.slug.as_str() {
            return Err(Error::invalid(
                "confirm_slug",
                format!(
                    "must repeat the workspace's slug '{}' to confirm the deletion",
                    ws.slug
                ),
            ));
        }
        let members = self
            .deps
            .workspaces
            .delete_workspace(&id)
            .await
            .map_err(store_err)?;
        let mut keys: Vec<String> = members.iter().map(|u| role_key(&id, u)).collect();
        keys.push(workspace_key(&id));
        keys.push(slug_key(ws.slug.as_str()));
        self.cache.invalidate(keys).await;
        // The database rows are gone (one transaction); the search documents go next. If
        // that fails they can never be shown (no one is a member any more), and `orbit
        // reindex` drops them.
        if let Err(err) = self.deps.search.delete_workspace(&id).await {
            tracing::error!(workspace = %id, error = %err, "could not remove the workspace's search documents");
        }
        tracing::info!(workspace = %id, slug = %ws.slug, user = %actor.user.id, "workspace deleted");
        Ok(())
    }

    async fn find_user(&self, reference: &str) -> Result<orbit_core::User> {
        if reference.is_empty() {
            return Err(Error::invalid("user", "is required (a user id or login)"));
        }
        let users = &self.deps.users;
        let by_login = users
            .get_user_by_login(reference)
            .await
            .map_err(store_err)?;
        let found = match by_login {
            Some(user) => Some(user),
            None => match UserId::parse("user", reference) {
                Ok(id) => users.get_user(&id).await.map_err(store_err)?,
                Err(_) => None,
            },
        };
        found.ok_or_else(|| Error::NotFound(format!("user '{reference}'")))
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        workspace_id: &str,
        user: &str,
        role: Option<Role>,
    ) -> Result<Member> {
        let (id, actor_role) = self.authorize(actor, workspace_id).await?;
        let role = parse_role(role)?;
        if !actor_role.can_administer() {
            return Err(Error::PermissionDenied(
                "only owners and admins can add members".into(),
            ));
        }
        if role == Role::Owner && actor_role != Role::Owner {
            return Err(Error::PermissionDenied(
                "only owners can make someone an owner".into(),
            ));
        }
        let user = self.find_user(user).await?;
        let membership = Membership {
            workspace_id: id.clone(),
            user_id: user.id.clone(),
            role,
            created_at: self.deps.clock.now(),
        };
        self.deps
            .workspaces
            .add_member(&membership)
            .await
            .map_err(|err| match err {
                orbit_ports::StoreError::AlreadyExists(_) => Error::AlreadyExists(format!(
                    "membership of '{}' in this workspace",
                    user.login.as_str()
                )),
                other => store_err(other),
            })?;
        self.cache.invalidate(vec![role_key(&id, &user.id)]).await;
        Ok(Member {
            membership,
            login: user.login.as_str().to_owned(),
            display_name: user.display_name,
        })
    }

    pub async fn list_members(
        &self,
        actor: &Actor,
        workspace_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Member>> {
        let (id, _) = self.authorize(actor, workspace_id).await?;
        let rows = self
            .deps
            .workspaces
            .list_members(&id, page)
            .await
            .map_err(store_err)?;
        Ok(page_of(rows, page, |m| m.login.clone()))
    }

    async fn target(&self, id: &WorkspaceId, user_id: &str) -> Result<Member> {
        let user = UserId::parse("user_id", user_id)?;
        self.deps
            .workspaces
            .get_member(id, &user)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::NotFound(format!("member '{user_id}' of this workspace")))
    }

    pub async fn update_member_role(
        &self,
        actor: &Actor,
        workspace_id: &str,
        user_id: &str,
        role: Option<Role>,
    ) -> Result<Member> {
        let (id, actor_role) = self.authorize(actor, workspace_id).await?;
        let role = parse_role(role)?;
        if !actor_role.can_administer() {
            return Err(Error::PermissionDenied(
                "only owners and admins can change roles".into(),
            ));
        }
        let mut member = self.target(&id, user_id).await?;
        let touches_owner = role == Role::Owner || member.membership.role == Role::Owner;
        if touches_owner && actor_role != Role::Owner {
            return Err(Error::PermissionDenied(
                "only owners can grant or take away ownership".into(),
            ));
        }
        if member.membership.role != role {
            let user = member.membership.user_id.clone();
            self.deps
                .workspaces
                .set_member_role(&id, &user, role)
                .await
                .map_err(store_err)?;
            self.cache.invalidate(vec![role_key(&id, &user)]).await;
            member.membership.role = role;
        }
        Ok(member)
    }

    /// Removes a member. Anyone may leave; removing someone else takes an owner or admin,
    /// and removing an owner takes an owner.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        workspace_id: &str,
        user_id: &str,
    ) -> Result<()> {
        let (id, actor_role) = self.authorize(actor, workspace_id).await?;
        let member = self.target(&id, user_id).await?;
        let leaving = member.membership.user_id == actor.user.id;
        if !leaving {
            if !actor_role.can_administer() {
                return Err(Error::PermissionDenied(
                    "only owners and admins can remove members".into(),
                ));
            }
            if member.membership.role == Role::Owner && actor_role != Role::Owner {
                return Err(Error::PermissionDenied(
                    "only owners can remove an owner".into(),
                ));
            }
        }
        let user = member.membership.user_id;
        self.deps
            .workspaces
            .remove_member(&id, &user)
            .await
            .map_err(store_err)?;
        self.cache.invalidate(vec![role_key(&id, &user)]).await;
        Ok(())
    }
}
