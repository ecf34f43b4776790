//! `GitHostConnectionStore` in memory.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::{GitHostConnection, WorkspaceId};
use orbit_ports::{GitHostConnectionStore, SealedSecret, StoreError};
use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct GitHostState {
    connections: BTreeMap<(WorkspaceId, String), (GitHostConnection, Option<SealedSecret>)>,
}

impl GitHostState {
    pub(crate) fn remove_workspace(&mut self, ws: &WorkspaceId) {
        self.connections.retain(|(w, _), _| w != ws);
    }

    fn name_taken(&self, c: &GitHostConnection) -> bool {
        self.connections
            .values()
            .any(|(o, _)| o.workspace_id == c.workspace_id && o.name == c.name && o.id != c.id)
    }
}

#[async_trait]
impl GitHostConnectionStore for MemoryStore {
    async fn insert_git_connection(
        &self,
        c: &GitHostConnection,
        token: Option<&SealedSecret>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&c.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                c.workspace_id
            )));
        }
        let key = (c.workspace_id.clone(), c.id.clone());
        if s.githost.connections.contains_key(&key) || s.githost.name_taken(c) {
            return Err(StoreError::AlreadyExists(format!(
                "git host connection '{}'",
                c.name
            )));
        }
        let mut stored = c.clone();
        stored.token_set = token.is_some();
        s.githost.connections.insert(key, (stored, token.cloned()));
        Ok(())
    }

    async fn get_git_connection(
        &self,
        workspace: &WorkspaceId,
        id: &str,
    ) -> Result<Option<(GitHostConnection, Option<SealedSecret>)>, StoreError> {
        Ok(self
            .lock()
            .githost
            .connections
            .get(&(workspace.clone(), id.to_owned()))
            .cloned())
    }

    async fn list_git_connections(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<GitHostConnection>, StoreError> {
        let mut out: Vec<GitHostConnection> = self
            .lock()
            .githost
            .connections
            .values()
            .filter(|(c, _)| &c.workspace_id == workspace)
            .map(|(c, _)| c.clone())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn update_git_connection(
        &self,
        c: &GitHostConnection,
        token: Option<&SealedSecret>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let key = (c.workspace_id.clone(), c.id.clone());
        if !s.githost.connections.contains_key(&key) {
            return Err(StoreError::NotFound(format!(
                "git host connection '{}'",
                c.id
            )));
        }
        if s.githost.name_taken(c) {
            return Err(StoreError::AlreadyExists(format!(
                "git host connection '{}'",
                c.name
            )));
        }
        let Some((stored, sealed)) = s
            .githost
            .connections
            .get_mut(&(c.workspace_id.clone(), c.id.clone()))
        else {
            return Err(StoreError::NotFound(format!(
                "git host connection '{}'",
                c.id
            )));
        };
        stored.name = c.name.clone();
        stored.base_url = c.base_url.clone();
        stored.namespace = c.namespace.clone();
        stored.token_last4 = c.token_last4.clone();
        stored.updated_at = c.updated_at;
        if let Some(t) = token {
            *sealed = Some(t.clone());
        }
        stored.token_set = sealed.is_some();
        Ok(())
    }

    async fn delete_git_connection(
        &self,
        workspace: &WorkspaceId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let removed = s
            .githost
            .connections
            .remove(&(workspace.clone(), id.to_owned()))
            .is_some();
        if s.webhooks
            .secrets
            .get(id)
            .is_some_and(|(w, _)| w == workspace)
        {
            s.webhooks.secrets.remove(id);
        }
        Ok(removed)
    }

    async fn all_git_secrets(
        &self,
    ) -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError> {
        Ok(self
            .lock()
            .githost
            .connections
            .iter()
            .filter_map(|((ws, id), (_, t))| t.clone().map(|t| (ws.clone(), id.clone(), t)))
            .collect())
    }

    async fn replace_git_secrets(
        &self,
        changes: &[(WorkspaceId, String, SealedSecret, SealedSecret)],
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        for (ws, id, old, _) in changes {
            let current = s
                .githost
                .connections
                .get(&(ws.clone(), id.clone()))
                .and_then(|(_, t)| t.as_ref());
            if current != Some(old) {
                return Err(StoreError::Stale { current: 0 });
            }
        }
        for (ws, id, _, new) in changes {
            if let Some((_, t)) = s.githost.connections.get_mut(&(ws.clone(), id.clone())) {
                *t = Some(new.clone());
            }
        }
        Ok(())
    }
}
