//! `WebhookStore` in memory.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_ports::{SealedSecret, StoreError, WebhookDelivery, WebhookStore};
use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct WebhookState {
    pub(crate) secrets: BTreeMap<String, (WorkspaceId, SealedSecret)>,
    deliveries: BTreeMap<(WorkspaceId, String, String), WebhookDelivery>,
}

impl WebhookState {
    pub(crate) fn remove_workspace(&mut self, ws: &WorkspaceId) {
        self.secrets.retain(|_, (w, _)| w != ws);
        self.deliveries.retain(|(w, _, _), _| w != ws);
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn put_webhook_secret(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
        secret: &SealedSecret,
        _at: i64,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(workspace) {
            return Err(StoreError::NotFound(format!("workspace '{workspace}'")));
        }
        match s.webhooks.secrets.get(connection_id) {
            Some((w, _)) if w != workspace => {}
            _ => {
                s.webhooks.secrets.insert(
                    connection_id.to_owned(),
                    (workspace.clone(), secret.clone()),
                );
            }
        }
        Ok(())
    }

    async fn webhook_secret(
        &self,
        connection_id: &str,
    ) -> Result<Option<(WorkspaceId, SealedSecret)>, StoreError> {
        Ok(self.lock().webhooks.secrets.get(connection_id).cloned())
    }

    async fn record_delivery(&self, d: &WebhookDelivery) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&d.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                d.workspace_id
            )));
        }
        let key = (
            d.workspace_id.clone(),
            d.connection_id.clone(),
            d.delivery_id.clone(),
        );
        if s.webhooks.deliveries.contains_key(&key) {
            return Ok(false);
        }
        s.webhooks.deliveries.insert(key, d.clone());
        Ok(true)
    }

    async fn pending_refreshes(&self, limit: u32) -> Result<Vec<WebhookDelivery>, StoreError> {
        let s = self.lock();
        let mut pending: Vec<WebhookDelivery> = s
            .webhooks
            .deliveries
            .values()
            .filter(|d| d.refresh_pending)
            .cloned()
            .collect();
        pending
            .sort_by(|a, b| (a.received_at, &a.delivery_id).cmp(&(b.received_at, &b.delivery_id)));
        pending.truncate(limit as usize);
        Ok(pending)
    }

    async fn all_webhook_secrets(
        &self,
    ) -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError> {
        Ok(self
            .lock()
            .webhooks
            .secrets
            .iter()
            .map(|(id, (ws, sealed))| (ws.clone(), id.clone(), sealed.clone()))
            .collect())
    }

    async fn replace_webhook_secrets(
        &self,
        changes: &[(String, SealedSecret, SealedSecret)],
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        for (id, old, _) in changes {
            if s.webhooks.secrets.get(id).map(|(_, t)| t) != Some(old) {
                return Err(StoreError::Stale { current: 0 });
            }
        }
        for (id, _, new) in changes {
            if let Some((_, t)) = s.webhooks.secrets.get_mut(id) {
                *t = new.clone();
            }
        }
        Ok(())
    }

    async fn complete_refresh(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        let key = (
            workspace.clone(),
            connection_id.to_owned(),
            delivery_id.to_owned(),
        );
        if let Some(d) = self.lock().webhooks.deliveries.get_mut(&key) {
            d.refresh_pending = false;
        }
        Ok(())
    }
}
