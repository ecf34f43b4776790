//! In-memory adapters. `MemoryStore` keeps everything in maps behind one mutex (so every
//! operation is atomic); `NoCache` is the cache default of a single process, and
//! `MemoryCache` a process-local cache used by tests to observe invalidation.

use async_trait::async_trait;
use orbit_core::{
    ApiToken, Member, Membership, PageRequest, Role, Slug, Timestamp, TokenId, User, UserId,
    Workspace, WorkspaceId,
};
use orbit_ports::{Cache, CacheError, StoreError, TokenHash, UserStore, WorkspaceStore};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod apis;
mod githost;
mod knowledge;
mod repositories;
mod webhooks;
mod workflows;

#[derive(Default)]
struct State {
    workspaces: HashMap<WorkspaceId, Workspace>,
    memberships: BTreeMap<(WorkspaceId, UserId), Membership>,
    users: HashMap<UserId, User>,
    tokens: HashMap<TokenId, (ApiToken, TokenHash)>,
    knowledge: knowledge::KnowledgeState,
    apis: apis::ApiState,
    workflows: workflows::WorkflowState,
    repositories: repositories::RepositoryState,
    githost: githost::GitHostState,
    webhooks: webhooks::WebhookState,
    instance_id: Option<String>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn after(key: &str, page: &PageRequest) -> bool {
    page.after.as_deref().is_none_or(|a| key > a)
}

fn owners(state: &State, ws: &WorkspaceId) -> usize {
    state
        .memberships
        .values()
        .filter(|m| &m.workspace_id == ws && m.role == Role::Owner)
        .count()
}

fn member_view(state: &State, m: &Membership) -> Option<Member> {
    let user = state.users.get(&m.user_id)?;
    Some(Member {
        membership: m.clone(),
        login: user.login.as_str().to_owned(),
        display_name: user.display_name.clone(),
    })
}

#[async_trait]
impl WorkspaceStore for MemoryStore {
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        owner: &Membership,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.workspaces.values().any(|w| w.slug == workspace.slug) {
            return Err(StoreError::AlreadyExists(format!(
                "workspace slug '{}'",
                workspace.slug
            )));
        }
        if !s.users.contains_key(&owner.user_id) {
            return Err(StoreError::NotFound(format!("user '{}'", owner.user_id)));
        }
        s.workspaces.insert(workspace.id.clone(), workspace.clone());
        s.memberships.insert(
            (owner.workspace_id.clone(), owner.user_id.clone()),
            owner.clone(),
        );
        Ok(())
    }

    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        Ok(self.lock().workspaces.get(id).cloned())
    }

    async fn get_workspace_by_slug(&self, slug: &Slug) -> Result<Option<Workspace>, StoreError> {
        Ok(self
            .lock()
            .workspaces
            .values()
            .find(|w| &w.slug == slug)
            .cloned())
    }

    async fn list_workspaces_for_user(
        &self,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Vec<(Workspace, Role)>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<(Workspace, Role)> = s
            .memberships
            .values()
            .filter(|m| &m.user_id == user)
            .filter_map(|m| {
                s.workspaces
                    .get(&m.workspace_id)
                    .map(|w| (w.clone(), m.role))
            })
            .filter(|(w, _)| after(w.slug.as_str(), page))
            .collect();
        rows.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        rows.truncate(page.limit as usize + 1);
        Ok(rows)
    }

    async fn update_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(existing) = s.workspaces.get_mut(&workspace.id) else {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                workspace.id
            )));
        };
        existing.name = workspace.name.clone();
        existing.description = workspace.description.clone();
        existing.updated_at = workspace.updated_at;
        Ok(())
    }

    async fn delete_workspace(&self, id: &WorkspaceId) -> Result<Vec<UserId>, StoreError> {
        let mut s = self.lock();
        if s.workspaces.remove(id).is_none() {
            return Err(StoreError::NotFound(format!("workspace '{id}'")));
        }
        s.knowledge.remove_workspace(id);
        s.apis.remove_workspace(id);
        s.workflows.remove_workspace(id);
        s.repositories.remove_workspace(id);
        s.githost.remove_workspace(id);
        s.webhooks.remove_workspace(id);
        let mut removed = Vec::new();
        s.memberships.retain(|(ws, user), _| {
            if ws == id {
                removed.push(user.clone());
                false
            } else {
                true
            }
        });
        Ok(removed)
    }

    async fn get_role(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Role>, StoreError> {
        Ok(self
            .lock()
            .memberships
            .get(&(workspace.clone(), user.clone()))
            .map(|m| m.role))
    }

    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&membership.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                membership.workspace_id
            )));
        }
        if !s.users.contains_key(&membership.user_id) {
            return Err(StoreError::NotFound(format!(
                "user '{}'",
                membership.user_id
            )));
        }
        let key = (membership.workspace_id.clone(), membership.user_id.clone());
        if s.memberships.contains_key(&key) {
            return Err(StoreError::AlreadyExists(format!(
                "membership of '{}'",
                membership.user_id
            )));
        }
        s.memberships.insert(key, membership.clone());
        Ok(())
    }

    async fn get_member(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Member>, StoreError> {
        let s = self.lock();
        Ok(s.memberships
            .get(&(workspace.clone(), user.clone()))
            .and_then(|m| member_view(&s, m)))
    }

    async fn list_members(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Vec<Member>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<Member> = s
            .memberships
            .values()
            .filter(|m| &m.workspace_id == workspace)
            .filter_map(|m| member_view(&s, m))
            .filter(|m| after(&m.login, page))
            .collect();
        rows.sort_by(|a, b| a.login.cmp(&b.login));
        rows.truncate(page.limit as usize + 1);
        Ok(rows)
    }

    async fn set_member_role(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        role: Role,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let owner_count = owners(&s, workspace);
        let Some(m) = s.memberships.get_mut(&(workspace.clone(), user.clone())) else {
            return Err(StoreError::NotFound(format!("membership of '{user}'")));
        };
        if m.role == Role::Owner && role != Role::Owner && owner_count <= 1 {
            return Err(StoreError::LastOwner);
        }
        m.role = role;
        Ok(())
    }

    async fn remove_member(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let key = (workspace.clone(), user.clone());
        let Some(m) = s.memberships.get(&key) else {
            return Err(StoreError::NotFound(format!("membership of '{user}'")));
        };
        if m.role == Role::Owner && owners(&s, workspace) <= 1 {
            return Err(StoreError::LastOwner);
        }
        s.memberships.remove(&key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn instance_id(&self, candidate: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .instance_id
            .get_or_insert_with(|| candidate.to_owned())
            .clone())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.users.values().any(|u| u.login == user.login) {
            return Err(StoreError::AlreadyExists(format!(
                "user login '{}'",
                user.login.as_str()
            )));
        }
        s.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn get_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| u.login.as_str() == login)
            .cloned())
    }

    async fn list_users(&self, page: &PageRequest) -> Result<Vec<User>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<User> = s
            .users
            .values()
            .filter(|u| after(u.login.as_str(), page))
            .cloned()
            .collect();
        rows.sort_by(|a, b| a.login.as_str().cmp(b.login.as_str()));
        rows.truncate(page.limit as usize + 1);
        Ok(rows)
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        Ok(self.lock().users.len() as u64)
    }

    async fn create_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.tokens.values().any(|(_, h)| h == hash) {
            return Err(StoreError::AlreadyExists("token".into()));
        }
        if !s.users.contains_key(&token.user_id) {
            return Err(StoreError::NotFound(format!("user '{}'", token.user_id)));
        }
        s.tokens
            .insert(token.id.clone(), (token.clone(), hash.clone()));
        Ok(())
    }

    async fn find_token(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>, StoreError> {
        let s = self.lock();
        Ok(s.tokens
            .values()
            .find(|(_, h)| h == hash)
            .and_then(|(t, _)| s.users.get(&t.user_id).map(|u| (t.clone(), u.clone()))))
    }

    async fn list_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<ApiToken> = s
            .tokens
            .values()
            .filter(|(t, _)| &t.user_id == user)
            .map(|(t, _)| t.clone())
            .collect();
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(rows)
    }

    async fn revoke_token(
        &self,
        user: &UserId,
        token: &TokenId,
        at: Timestamp,
    ) -> Result<TokenHash, StoreError> {
        let mut s = self.lock();
        match s.tokens.get_mut(token) {
            Some((t, hash)) if &t.user_id == user && t.revoked_at.is_none() => {
                t.revoked_at = Some(at);
                Ok(hash.clone())
            }
            _ => Err(StoreError::NotFound(format!("token '{token}'"))),
        }
    }

    async fn touch_token(&self, token: &TokenId, at: Timestamp) -> Result<(), StoreError> {
        if let Some((t, _)) = self.lock().tokens.get_mut(token) {
            t.last_used_at = Some(at);
        }
        Ok(())
    }
}

/// The cache of a single process with no cache configured: remembers nothing.
pub struct NoCache;

#[async_trait]
impl Cache for NoCache {
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(None)
    }
    async fn set(&self, _key: &str, _value: &[u8], _ttl: Duration) -> Result<(), CacheError> {
        Ok(())
    }
    async fn delete(&self, _keys: &[String]) -> Result<(), CacheError> {
        Ok(())
    }
    fn name(&self) -> &'static str {
        "none"
    }
}

/// A process-local cache with expiry and a bounded number of entries. Exact for one process
/// (every write invalidates in the same memory), so it is the embedded default; instances
/// that share a database need a shared cache (Redis) instead.
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    capacity: usize,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }
    /// A cache of at most `capacity` entries; when full, expired entries go first, then an
    /// arbitrary eighth of the rest.
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(8),
        }
    }
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let entries = self.entries.lock().map_err(|e| CacheError(e.to_string()))?;
        Ok(entries
            .get(key)
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(v, _)| v.clone()))
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut entries = self.entries.lock().map_err(|e| CacheError(e.to_string()))?;
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let now = Instant::now();
            entries.retain(|_, (_, expires)| now < *expires);
            if entries.len() >= self.capacity {
                let drop: Vec<String> = entries.keys().take(self.capacity / 8).cloned().collect();
                for k in drop {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key.to_owned(), (value.to_vec(), Instant::now() + ttl));
        Ok(())
    }
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        let mut entries = self.entries.lock().map_err(|e| CacheError(e.to_string()))?;
        for key in keys {
            entries.remove(key);
        }
        Ok(())
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_cache_stays_within_its_capacity() {
        let cache = MemoryCache::with_capacity(16);
        for i in 0..1000 {
            cache
                .set(&format!("k{i}"), b"v", Duration::from_secs(60))
                .await
                .unwrap();
            assert!(cache.len() <= 16, "{}", cache.len());
        }
        assert_eq!(
            cache.get("k999").await.unwrap().as_deref(),
            Some(&b"v"[..]),
            "the newest entry is kept"
        );
    }
}
