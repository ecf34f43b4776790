//! The `ApiStore` implementation both SQL engines share (see [`impl_api_store!`]).

/// Implements `ApiStore` for `$store` (fields `read` and `write` pools). `$lock` locks a row
/// inside a transaction (`" FOR UPDATE"` on PostgreSQL; empty on SQLite).
#[macro_export]
macro_rules! impl_api_store {
    ($store:ty, lock = $lock:literal) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::api::{
                Api, ApiFile, ApiFilter, ApiId, ApiPolicy, ApiVersion, ApiVersionSummary, Consumer, SemVer,
            };
            use $crate::orbit_core::knowledge::PathSlug;
            use $crate::orbit_core::{Timestamp, WorkspaceId};
            use $crate::orbit_ports::{ApiIndexJob, ApiStore, StoreError};
            use $crate::rows::{ApiRow, ApiVersionRow, ConsumerRow};
            use $crate::{db, store_error};
            use $crate::sqlx;

            const API_COLUMNS: &str = "id, workspace_id, slug, name, description, owner, tags, lifecycle, format, \
                 deprecation_note, latest_version, search_terms, created_at, updated_at, created_by";
            const VERSION_COLUMNS: &str =
                "version, content_hash, release_notes, breaking_changes, total_bytes, published_at, published_by";

            type Tx<'a> = sqlx::Transaction<'a, <$store as $crate::SqlEngine>::Db>;

            async fn insert_job(tx: &mut Tx<'_>, id: &str, api: &Api) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO api_search_outbox (id, workspace_id, api_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(api.workspace_id.as_str())
                    .bind(api.id.as_str())
                    .bind(api.updated_at.0)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn write_tags(tx: &mut Tx<'_>, api: &Api) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM api_tags WHERE api_id = $1")
                    .bind(api.id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                for tag in &api.tags {
                    sqlx::query("INSERT INTO api_tags (api_id, workspace_id, tag, slug) VALUES ($1, $2, $3, $4)")
                        .bind(api.id.as_str())
                        .bind(api.workspace_id.as_str())
                        .bind(tag)
                        .bind(api.slug.as_str())
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                }
                Ok(())
            }

            /// Locks the API row (serialises publishing on one API) and checks it exists.
            async fn lock_api(tx: &mut Tx<'_>, workspace: &WorkspaceId, api: &ApiId) -> Result<(), StoreError> {
                let sql = concat!("SELECT id FROM apis WHERE id = $1 AND workspace_id = $2", $lock);
                let found: Option<(String,)> = sqlx::query_as(sql)
                    .bind(api.as_str())
                    .bind(workspace.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                found.map(|_| ()).ok_or_else(|| StoreError::NotFound(format!("API '{api}'")))
            }

            #[async_trait]
            impl ApiStore for $store {
                #[tracing::instrument(skip_all, fields(api = %api.id))]
                async fn create_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    sqlx::query(
                        "INSERT INTO apis (id, workspace_id, slug, name, description, owner, tags, lifecycle, format, \
                         deprecation_note, latest_version, search_terms, created_at, updated_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(api.id.as_str())
                    .bind(api.workspace_id.as_str())
                    .bind(api.slug.as_str())
                    .bind(&api.name)
                    .bind(&api.description)
                    .bind(&api.owner)
                    .bind(api.tags.join(","))
                    .bind(api.lifecycle.as_str())
                    .bind(api.format.as_str())
                    .bind(&api.deprecation_note)
                    .bind(&api.latest_version)
                    .bind(&api.search_terms)
                    .bind(api.created_at.0)
                    .bind(api.updated_at.0)
                    .bind(api.created_by.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("API slug '{}'", api.slug)))?;
                    write_tags(&mut tx, api).await?;
                    insert_job(&mut tx, job_id, api).await?;
                    tx.commit().await.map_err(db)
                }

                async fn get_api(&self, workspace: &WorkspaceId, id: &ApiId) -> Result<Option<Api>, StoreError> {
                    let sql = format!("SELECT {API_COLUMNS} FROM apis WHERE id = $1 AND workspace_id = $2");
                    let row: Option<ApiRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(ApiRow::into_domain).transpose()
                }

                async fn get_api_by_slug(&self, workspace: &WorkspaceId, slug: &PathSlug) -> Result<Option<Api>, StoreError> {
                    let sql = format!("SELECT {API_COLUMNS} FROM apis WHERE workspace_id = $1 AND slug = $2");
                    let row: Option<ApiRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(slug.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(ApiRow::into_domain).transpose()
                }

                async fn list_apis(
                    &self,
                    workspace: &WorkspaceId,
                    filter: &ApiFilter,
                    after: Option<&str>,
                    limit: u32,
                ) -> Result<Vec<Api>, StoreError> {
                    let rows: Vec<ApiRow> = match filter.tag.as_deref().filter(|t| !t.is_empty()) {
                        // A tag: walk that tag's entries in slug order (index api_tags_slug)
                        // and join each to its API, so a page costs about `limit` rows
                        // however many APIs the workspace holds.
                        Some(tag) => {
                            let columns = API_COLUMNS
                                .split(',')
                                .map(|c| format!("a.{}", c.trim()))
                                .collect::<Vec<_>>()
                                .join(", ");
                            let sql = format!(
                                "SELECT {columns} FROM api_tags t JOIN apis a ON a.id = t.api_id \
                                 WHERE t.workspace_id = $1 AND t.tag = $2 AND t.slug > $3 AND a.workspace_id = $1 \
                                 AND ($4 = '' OR a.format = $4) AND ($5 = '' OR a.owner = $5) AND ($6 = '' OR a.lifecycle = $6) \
                                 ORDER BY t.slug LIMIT $7"
                            );
                            sqlx::query_as(&sql)
                                .bind(workspace.as_str())
                                .bind(tag)
                                .bind(after.unwrap_or(""))
                                .bind(filter.format.map_or("", |f| f.as_str()))
                                .bind(filter.owner.as_deref().unwrap_or(""))
                                .bind(filter.lifecycle.map_or("", |l| l.as_str()))
                                .bind(limit as i64 + 1)
                                .fetch_all(&self.read)
                                .await
                                .map_err(db)?
                        }
                        None => {
                            let sql = format!(
                                "SELECT {API_COLUMNS} FROM apis a WHERE a.workspace_id = $1 AND a.slug > $2 \
                                 AND ($3 = '' OR a.format = $3) AND ($4 = '' OR a.owner = $4) AND ($5 = '' OR a.lifecycle = $5) \
                                 ORDER BY a.slug LIMIT $6"
                            );
                            sqlx::query_as(&sql)
                                .bind(workspace.as_str())
                                .bind(after.unwrap_or(""))
                                .bind(filter.format.map_or("", |f| f.as_str()))
                                .bind(filter.owner.as_deref().unwrap_or(""))
                                .bind(filter.lifecycle.map_or("", |l| l.as_str()))
                                .bind(limit as i64 + 1)
                                .fetch_all(&self.read)
                                .await
                                .map_err(db)?
                        }
                    };
                    rows.into_iter().map(ApiRow::into_domain).collect()
                }

                async fn update_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let done = sqlx::query(
                        "UPDATE apis SET name = $1, description = $2, owner = $3, tags = $4, lifecycle = $5, \
                         deprecation_note = $6, updated_at = $7 WHERE id = $8 AND workspace_id = $9",
                    )
                    .bind(&api.name)
                    .bind(&api.description)
                    .bind(&api.owner)
                    .bind(api.tags.join(","))
                    .bind(api.lifecycle.as_str())
                    .bind(&api.deprecation_note)
                    .bind(api.updated_at.0)
                    .bind(api.id.as_str())
                    .bind(api.workspace_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("API '{}'", api.id)));
                    }
                    write_tags(&mut tx, api).await?;
                    insert_job(&mut tx, job_id, api).await?;
                    tx.commit().await.map_err(db)
                }

                #[tracing::instrument(skip_all, fields(api = %api.id, version = %version.version))]
                async fn publish_version(&self, api: &Api, version: &ApiVersion, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    lock_api(&mut tx, &api.workspace_id, &api.id).await?;
                    let total: i64 = version.files.iter().map(|f| f.content.len() as i64).sum();
                    let label = version.version.to_string();
                    sqlx::query(
                        "INSERT INTO api_versions (api_id, workspace_id, version, content_hash, release_notes, \
                         breaking_changes, total_bytes, published_at, published_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(api.id.as_str())
                    .bind(api.workspace_id.as_str())
                    .bind(&label)
                    .bind(&version.content_hash)
                    .bind(&version.release_notes)
                    .bind(version.breaking_changes)
                    .bind(total)
                    .bind(version.published_at.0)
                    .bind(version.published_by.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("version {label} of API '{}'", api.slug)))?;
                    for (i, f) in version.files.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO api_version_files (api_id, version, position, name, content) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(api.id.as_str())
                        .bind(&label)
                        .bind(i as i64)
                        .bind(&f.name)
                        .bind(&f.content)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_error(e, || format!("file {} of version {label}", f.name)))?;
                    }
                    sqlx::query(
                        "UPDATE apis SET latest_version = $1, search_terms = $2, updated_at = $3 WHERE id = $4",
                    )
                    .bind(&api.latest_version)
                    .bind(&api.search_terms)
                    .bind(api.updated_at.0)
                    .bind(api.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    insert_job(&mut tx, job_id, api).await?;
                    tx.commit().await.map_err(db)
                }

                async fn get_version(&self, workspace: &WorkspaceId, api: &ApiId, version: &SemVer) -> Result<Option<ApiVersion>, StoreError> {
                    let sql = format!("SELECT {VERSION_COLUMNS} FROM api_versions WHERE api_id = $1 AND workspace_id = $2 AND version = $3");
                    let label = version.to_string();
                    let row: Option<ApiVersionRow> = sqlx::query_as(&sql)
                        .bind(api.as_str())
                        .bind(workspace.as_str())
                        .bind(&label)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    let Some(row) = row else { return Ok(None) };
                    let files: Vec<(String, String)> = sqlx::query_as(
                        "SELECT name, content FROM api_version_files WHERE api_id = $1 AND version = $2 ORDER BY position",
                    )
                    .bind(api.as_str())
                    .bind(&label)
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    let s = row.into_domain()?;
                    Ok(Some(ApiVersion {
                        api_id: api.clone(),
                        workspace_id: workspace.clone(),
                        version: s.version,
                        content_hash: s.content_hash,
                        release_notes: s.release_notes,
                        breaking_changes: s.breaking_changes,
                        files: files.into_iter().map(|(name, content)| ApiFile { name, content }).collect(),
                        published_at: s.published_at,
                        published_by: s.published_by,
                    }))
                }

                async fn list_versions(&self, workspace: &WorkspaceId, api: &ApiId) -> Result<Vec<ApiVersionSummary>, StoreError> {
                    let sql = format!("SELECT {VERSION_COLUMNS} FROM api_versions WHERE api_id = $1 AND workspace_id = $2");
                    let rows: Vec<ApiVersionRow> = sqlx::query_as(&sql)
                        .bind(api.as_str())
                        .bind(workspace.as_str())
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(ApiVersionRow::into_domain).collect()
                }

                async fn put_consumer(&self, c: &Consumer) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    lock_api(&mut tx, &c.workspace_id, &c.api_id).await?;
                    sqlx::query("DELETE FROM api_consumers WHERE api_id = $1 AND repository = $2")
                        .bind(c.api_id.as_str())
                        .bind(&c.repository)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query(
                        "INSERT INTO api_consumers (api_id, workspace_id, repository, version, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(c.api_id.as_str())
                    .bind(c.workspace_id.as_str())
                    .bind(&c.repository)
                    .bind(c.version.to_string())
                    .bind(c.created_at.0)
                    .bind(c.created_by.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("consumer '{}'", c.repository)))?;
                    tx.commit().await.map_err(db)
                }

                async fn remove_consumer(&self, workspace: &WorkspaceId, api: &ApiId, repository: &str) -> Result<(), StoreError> {
                    let done = sqlx::query("DELETE FROM api_consumers WHERE api_id = $1 AND workspace_id = $2 AND repository = $3")
                        .bind(api.as_str())
                        .bind(workspace.as_str())
                        .bind(repository)
                        .execute(&self.write)
                        .await
                        .map_err(db)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("consumer '{repository}'")));
                    }
                    Ok(())
                }

                async fn list_consumers(&self, workspace: &WorkspaceId, api: &ApiId) -> Result<Vec<Consumer>, StoreError> {
                    let rows: Vec<ConsumerRow> = sqlx::query_as(
                        "SELECT api_id, workspace_id, repository, version, created_at, created_by FROM api_consumers \
                         WHERE api_id = $1 AND workspace_id = $2 ORDER BY repository",
                    )
                    .bind(api.as_str())
                    .bind(workspace.as_str())
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    rows.into_iter().map(ConsumerRow::into_domain).collect()
                }

                async fn get_policy(&self, workspace: &WorkspaceId) -> Result<ApiPolicy, StoreError> {
                    let row: Option<(bool,)> =
                        sqlx::query_as("SELECT allow_breaking_without_major FROM api_policies WHERE workspace_id = $1")
                            .bind(workspace.as_str())
                            .fetch_optional(&self.read)
                            .await
                            .map_err(db)?;
                    Ok(row.map(|(allow,)| ApiPolicy { allow_breaking_without_major: allow }).unwrap_or_default())
                }

                async fn set_policy(&self, workspace: &WorkspaceId, policy: &ApiPolicy, at: Timestamp) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    sqlx::query("DELETE FROM api_policies WHERE workspace_id = $1")
                        .bind(workspace.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("INSERT INTO api_policies (workspace_id, allow_breaking_without_major, updated_at) VALUES ($1, $2, $3)")
                        .bind(workspace.as_str())
                        .bind(policy.allow_breaking_without_major)
                        .bind(at.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_error(e, || format!("workspace '{workspace}'")))?;
                    tx.commit().await.map_err(db)
                }

                async fn pending_api_index_jobs(&self, limit: u32) -> Result<Vec<ApiIndexJob>, StoreError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT id, workspace_id, api_id FROM api_search_outbox ORDER BY created_at, id LIMIT $1",
                    )
                    .bind(limit as i64)
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, ws, api)| ApiIndexJob { id, workspace_id: WorkspaceId::new(ws), api_id: ApiId::new(api) })
                        .collect())
                }

                async fn complete_api_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    for id in ids {
                        sqlx::query("DELETE FROM api_search_outbox WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn apis_after(&self, after: Option<&ApiId>, limit: u32) -> Result<Vec<Api>, StoreError> {
                    let sql = format!("SELECT {API_COLUMNS} FROM apis WHERE id > $1 ORDER BY id LIMIT $2");
                    let rows: Vec<ApiRow> = sqlx::query_as(&sql)
                        .bind(after.map_or("", |a| a.as_str()))
                        .bind(limit as i64)
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(ApiRow::into_domain).collect()
                }
            }
        };
    };
}
