//! The `WebhookStore` implementation both SQL engines share (see [`impl_webhook_store!`]).

/// Implements `WebhookStore` for `$store` (fields `read` and `write` pools).
#[macro_export]
macro_rules! impl_webhook_store {
    ($store:ty) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::WorkspaceId;
            use $crate::orbit_ports::{SealedSecret, StoreError, WebhookDelivery, WebhookStore};
            use $crate::{db, sqlx};

            type Row = (String, String, String, String, String, String, String, bool, bool, i64);

            fn to_domain(r: Row) -> WebhookDelivery {
                let (ws, connection_id, delivery_id, repository_id, git_ref, head_commit, default_branch, catalog_touched, refresh_pending, received_at) = r;
                WebhookDelivery {
                    workspace_id: WorkspaceId::new(ws),
                    connection_id,
                    delivery_id,
                    repository_id,
                    git_ref,
                    head_commit,
                    default_branch,
                    catalog_touched,
                    refresh_pending,
                    received_at,
                }
            }

            #[async_trait]
            impl WebhookStore for $store {
                async fn put_webhook_secret(&self, workspace: &WorkspaceId, connection_id: &str, secret: &SealedSecret, at: i64) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO webhook_secrets (connection_id, workspace_id, key_id, ciphertext, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id) DO UPDATE SET \
                         key_id = excluded.key_id, ciphertext = excluded.ciphertext, created_at = excluded.created_at \
                         WHERE webhook_secrets.workspace_id = excluded.workspace_id",
                    )
                    .bind(connection_id)
                    .bind(workspace.as_str())
                    .bind(&secret.key_id)
                    .bind(&secret.ciphertext)
                    .bind(at)
                    .execute(&self.write)
                    .await
                    .map_err(|e| $crate::store_error(e, || format!("webhook secret of connection '{connection_id}'")))?;
                    Ok(())
                }

                async fn webhook_secret(&self, connection_id: &str) -> Result<Option<(WorkspaceId, SealedSecret)>, StoreError> {
                    let row: Option<(String, String, String)> = sqlx::query_as(
                        "SELECT workspace_id, key_id, ciphertext FROM webhook_secrets WHERE connection_id = $1",
                    )
                    .bind(connection_id)
                    .fetch_optional(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(row.map(|(ws, key_id, ciphertext)| (WorkspaceId::new(ws), SealedSecret { key_id, ciphertext })))
                }

                async fn record_delivery(&self, d: &WebhookDelivery) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "INSERT INTO webhook_deliveries (workspace_id, connection_id, delivery_id, repository_id, git_ref, \
                         head_commit, default_branch, catalog_touched, refresh_pending, received_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                    )
                    .bind(d.workspace_id.as_str())
                    .bind(&d.connection_id)
                    .bind(&d.delivery_id)
                    .bind(&d.repository_id)
                    .bind(&d.git_ref)
                    .bind(&d.head_commit)
                    .bind(&d.default_branch)
                    .bind(d.catalog_touched)
                    .bind(d.refresh_pending)
                    .bind(d.received_at)
                    .execute(&self.write)
                    .await
                    .map_err(|e| $crate::store_error(e, || format!("webhook delivery '{}'", d.delivery_id)))?;
                    Ok(done.rows_affected() > 0)
                }

                async fn pending_refreshes(&self, limit: u32) -> Result<Vec<WebhookDelivery>, StoreError> {
                    let rows: Vec<Row> = sqlx::query_as(
                        "SELECT workspace_id, connection_id, delivery_id, repository_id, git_ref, head_commit, default_branch, \
                         catalog_touched, refresh_pending, received_at FROM webhook_deliveries WHERE refresh_pending = $1 \
                         ORDER BY received_at, delivery_id LIMIT $2",
                    )
                    .bind(true)
                    .bind(i64::from(limit))
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(to_domain).collect())
                }

                async fn all_webhook_secrets(&self) -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError> {
                    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                        "SELECT workspace_id, connection_id, key_id, ciphertext FROM webhook_secrets ORDER BY connection_id",
                    )
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(ws, id, key_id, ciphertext)| (WorkspaceId::new(ws), id, SealedSecret { key_id, ciphertext }))
                        .collect())
                }

                async fn replace_webhook_secrets(&self, changes: &[(String, SealedSecret, SealedSecret)]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    for (id, old, new) in changes {
                        let done = sqlx::query(
                            "UPDATE webhook_secrets SET key_id = $1, ciphertext = $2 \
                             WHERE connection_id = $3 AND key_id = $4 AND ciphertext = $5",
                        )
                        .bind(&new.key_id)
                        .bind(&new.ciphertext)
                        .bind(id)
                        .bind(&old.key_id)
                        .bind(&old.ciphertext)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                        if done.rows_affected() != 1 {
                            tx.rollback().await.map_err(db)?;
                            return Err(StoreError::Stale { current: 0 });
                        }
                    }
                    tx.commit().await.map_err(db)
                }

                async fn complete_refresh(&self, workspace: &WorkspaceId, connection_id: &str, delivery_id: &str) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET refresh_pending = $1 WHERE workspace_id = $2 AND connection_id = $3 AND delivery_id = $4",
                    )
                    .bind(false)
                    .bind(workspace.as_str())
                    .bind(connection_id)
                    .bind(delivery_id)
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(())
                }
            }
        };
    };
}
