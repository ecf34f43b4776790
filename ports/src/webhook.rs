//! Webhooks from git hosts: the per-connection webhook secret (sealed like tokens) and the
//! deliveries already processed (the idempotency key, and the outbox of catalog refreshes).

use crate::{SealedSecret, StoreError};
use async_trait::async_trait;
use orbit_core::WorkspaceId;

/// One processed delivery. `(workspace_id, connection_id, delivery_id)` is unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub workspace_id: WorkspaceId,
    pub connection_id: String,
    /// The host's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`).
    pub delivery_id: String,
    /// The catalog repository it concerns; empty when the repository is not in the catalog.
    pub repository_id: String,
    /// The pushed ref (`refs/heads/main`); may be empty.
    pub git_ref: String,
    /// The commit the ref points to after the push; may be empty.
    pub head_commit: String,
    /// The default branch the host reported; may be empty.
    pub default_branch: String,
    /// Whether the push added, modified or removed `catalog-info.yaml`.
    pub catalog_touched: bool,
    /// Whether the catalog refresh (reading the remote) is still to be done: the outbox.
    pub refresh_pending: bool,
    pub received_at: i64,
}

/// Invariants (checked by the contract suite): a secret belongs to one connection of one
/// workspace; a delivery is recorded at most once; pending refreshes come oldest first.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Sets (or replaces) the connection's webhook secret. `NotFound` if the workspace is gone.
    async fn put_webhook_secret(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
        secret: &SealedSecret,
        at: i64,
    ) -> Result<(), StoreError>;
    /// The workspace and sealed secret of a connection's webhook, looked up by the
    /// connection id alone (the id in the webhook URL).
    async fn webhook_secret(
        &self,
        connection_id: &str,
    ) -> Result<Option<(WorkspaceId, SealedSecret)>, StoreError>;
    /// Records a delivery. `Ok(false)` (and nothing changed) when it was already recorded.
    async fn record_delivery(&self, delivery: &WebhookDelivery) -> Result<bool, StoreError>;
    /// Deliveries whose refresh is pending, oldest first.
    async fn pending_refreshes(&self, limit: u32) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Marks a delivery's refresh done.
    async fn complete_refresh(
        &self,
        workspace: &WorkspaceId,
        connection_id: &str,
        delivery_id: &str,
    ) -> Result<(), StoreError>;
    /// Every sealed webhook secret: `(workspace, connection id, sealed)` (key rotation).
    async fn all_webhook_secrets(
        &self,
    ) -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError>;
    /// Replaces sealed secrets in one transaction: each `(connection id, old, new)` applies
    /// only when the row still holds `old`; otherwise nothing is changed and the result is
    /// `Stale { current: 0 }`.
    async fn replace_webhook_secrets(
        &self,
        changes: &[(String, SealedSecret, SealedSecret)],
    ) -> Result<(), StoreError>;
}
