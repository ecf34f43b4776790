//! The `GitHostConnectionStore` implementation both SQL engines share (see
//! [`impl_git_host_store!`]).

/// Implements `GitHostConnectionStore` for `$store` (fields `read` and `write` pools).
#[macro_export]
macro_rules! impl_git_host_store {
    ($store:ty) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::{GitHostConnection, GitProvider, Timestamp, WorkspaceId};
            use $crate::orbit_ports::{GitHostConnectionStore, SealedSecret, StoreError};
            use $crate::{db, sqlx};

            const COLUMNS: &str = "workspace_id, id, name, provider, base_url, namespace, token_key_id, \
                 token_ciphertext, token_last4, created_at, updated_at";

            type Row = (String, String, String, String, String, String, String, String, String, i64, i64);

            fn to_domain(row: Row) -> Result<(GitHostConnection, Option<SealedSecret>), StoreError> {
                let (ws, id, name, provider, base_url, namespace, key_id, ciphertext, last4, created, updated) = row;
                let provider = GitProvider::parse("provider", &provider)
                    .map_err(|e| StoreError::Other(format!("git host connection '{id}': {e}")))?;
                let sealed = (!ciphertext.is_empty()).then(|| SealedSecret { key_id, ciphertext });
                Ok((
                    GitHostConnection {
                        id,
                        workspace_id: WorkspaceId::new(ws),
                        name,
                        provider,
                        base_url,
                        namespace,
                        token_set: sealed.is_some(),
                        token_last4: last4,
                        created_at: Timestamp(created),
                        updated_at: Timestamp(updated),
                    },
                    sealed,
                ))
            }

            fn sealed_parts(token: Option<&SealedSecret>) -> (&str, &str) {
                token.map_or(("", ""), |t| (t.key_id.as_str(), t.ciphertext.as_str()))
            }

            #[async_trait]
            impl GitHostConnectionStore for $store {
                async fn insert_git_connection(&self, c: &GitHostConnection, token: Option<&SealedSecret>) -> Result<(), StoreError> {
                    let (key_id, ciphertext) = sealed_parts(token);
                    sqlx::query(
                        "INSERT INTO git_host_connections (workspace_id, id, name, provider, base_url, namespace, token_key_id, \
                         token_ciphertext, token_last4, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(c.workspace_id.as_str())
                    .bind(&c.id)
                    .bind(&c.name)
                    .bind(c.provider.as_str())
                    .bind(&c.base_url)
                    .bind(&c.namespace)
                    .bind(key_id)
                    .bind(ciphertext)
                    .bind(&c.token_last4)
                    .bind(c.created_at.0)
                    .bind(c.updated_at.0)
                    .execute(&self.write)
                    .await
                    .map_err(|e| $crate::store_error(e, || format!("git host connection '{}'", c.name)))?;
                    Ok(())
                }

                async fn get_git_connection(&self, workspace: &WorkspaceId, id: &str) -> Result<Option<(GitHostConnection, Option<SealedSecret>)>, StoreError> {
                    let sql = format!("SELECT {COLUMNS} FROM git_host_connections WHERE workspace_id = $1 AND id = $2");
                    let row: Option<Row> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(id)
                        .fetch_optional(&self.write)
                        .await
                        .map_err(db)?;
                    row.map(to_domain).transpose()
                }

                async fn list_git_connections(&self, workspace: &WorkspaceId) -> Result<Vec<GitHostConnection>, StoreError> {
                    let sql = format!("SELECT {COLUMNS} FROM git_host_connections WHERE workspace_id = $1 ORDER BY name");
                    let rows: Vec<Row> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(|r| to_domain(r).map(|(c, _)| c)).collect()
                }

                async fn update_git_connection(&self, c: &GitHostConnection, token: Option<&SealedSecret>) -> Result<(), StoreError> {
                    let (key_id, ciphertext) = sealed_parts(token);
                    let done = sqlx::query(
                        "UPDATE git_host_connections SET name = $1, base_url = $2, namespace = $3, token_last4 = $4, updated_at = $5, \
                         token_key_id = CASE WHEN $6 THEN $7 ELSE token_key_id END, \
                         token_ciphertext = CASE WHEN $6 THEN $8 ELSE token_ciphertext END \
                         WHERE workspace_id = $9 AND id = $10",
                    )
                    .bind(&c.name)
                    .bind(&c.base_url)
                    .bind(&c.namespace)
                    .bind(&c.token_last4)
                    .bind(c.updated_at.0)
                    .bind(token.is_some())
                    .bind(key_id)
                    .bind(ciphertext)
                    .bind(c.workspace_id.as_str())
                    .bind(&c.id)
                    .execute(&self.write)
                    .await
                    .map_err(|e| $crate::store_error(e, || format!("git host connection '{}'", c.name)))?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("git host connection '{}'", c.id)));
                    }
                    Ok(())
                }

                async fn delete_git_connection(&self, workspace: &WorkspaceId, id: &str) -> Result<bool, StoreError> {
                    // The connection's webhook secret goes with it, in the same transaction.
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let done = sqlx::query("DELETE FROM git_host_connections WHERE workspace_id = $1 AND id = $2")
                        .bind(workspace.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("DELETE FROM webhook_secrets WHERE workspace_id = $1 AND connection_id = $2")
                        .bind(workspace.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn all_git_secrets(&self) -> Result<Vec<(WorkspaceId, String, SealedSecret)>, StoreError> {
                    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                        "SELECT workspace_id, id, token_key_id, token_ciphertext FROM git_host_connections \
                         WHERE token_ciphertext <> '' ORDER BY workspace_id, id",
                    )
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(ws, id, key_id, ciphertext)| (WorkspaceId::new(ws), id, SealedSecret { key_id, ciphertext }))
                        .collect())
                }

                async fn replace_git_secrets(&self, changes: &[(WorkspaceId, String, SealedSecret, SealedSecret)]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    for (ws, id, old, new) in changes {
                        let done = sqlx::query(
                            "UPDATE git_host_connections SET token_key_id = $1, token_ciphertext = $2 \
                             WHERE workspace_id = $3 AND id = $4 AND token_key_id = $5 AND token_ciphertext = $6",
                        )
                        .bind(&new.key_id)
                        .bind(&new.ciphertext)
                        .bind(ws.as_str())
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
            }
        };
    };
}
