//! The `KnowledgeStore` implementation both SQL engines share (see [`impl_knowledge_store!`]).

/// Implements `KnowledgeStore` for `$store` (fields `read` and `write` pools). `$lock`
/// locks a row inside a transaction (`" FOR UPDATE"` on PostgreSQL; empty on SQLite).
#[macro_export]
macro_rules! impl_knowledge_store {
    ($store:ty, lock = $lock:literal) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::knowledge::{Page, PageSummary, PathSlug, Revision, RevisionSummary, Space};
            use $crate::orbit_core::{PageId, SpaceId, UserId, WorkspaceId};
            use $crate::orbit_ports::{IndexJob, KnowledgeStore, StoreError, StoredRender};
            use $crate::rows::{PageChildRow, PageRow, PageSummaryRow, PageWithRenderRow, RevisionRow, RevisionSummaryRow, SpaceRow};
            use $crate::{db, store_error};
            use $crate::sqlx;

            const SPACE_COLUMNS: &str = "id, workspace_id, slug, name, description, visibility, created_at, updated_at";
            const PAGE_COLUMNS: &str =
                "id, workspace_id, space_id, parent_id, slug, title, body, sort_order, revision, created_at, updated_at, updated_by";

            fn parent_key(parent: Option<&PageId>) -> &str {
                parent.map_or("", |p| p.as_str())
            }

            type Tx<'a> = sqlx::Transaction<'a, <$store as $crate::SqlEngine>::Db>;

            async fn insert_job(tx: &mut Tx<'_>, id: &str, workspace: &str, page: &str, at: i64) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO search_outbox (id, workspace_id, page_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(workspace)
                    .bind(page)
                    .bind(at)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            async fn insert_revision(tx: &mut Tx<'_>, r: &Revision) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO page_revisions (page_id, revision, title, body, author_id, created_at, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.page_id.as_str())
                .bind(r.revision)
                .bind(&r.title)
                .bind(&r.body)
                .bind(r.author.as_str())
                .bind(r.created_at.0)
                .bind(&r.note)
                .execute(&mut **tx)
                .await
                .map_err(|e| store_error(e, || format!("revision {} of page '{}'", r.revision, r.page_id)))?;
                Ok(())
            }

            /// Stores a page's rendering inside the transaction that writes the page.
            async fn upsert_render(tx: &mut Tx<'_>, page: &PageId, render: &StoredRender) -> Result<(), StoreError> {
                let headings = $crate::serde_json::to_string(&render.headings)
                    .map_err(|e| StoreError::Other(format!("cannot encode headings: {e}")))?;
                sqlx::query(
                    "INSERT INTO page_renders (page_id, revision, renderer, html, headings) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (page_id) DO UPDATE SET revision = excluded.revision, renderer = excluded.renderer, \
                     html = excluded.html, headings = excluded.headings",
                )
                .bind(page.as_str())
                .bind(render.revision)
                .bind(render.renderer)
                .bind(&render.html)
                .bind(headings)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                Ok(())
            }

            /// Locks the space row so that tree changes inside one space are serialised.
            async fn lock_space(tx: &mut Tx<'_>, workspace: &WorkspaceId, space: &SpaceId) -> Result<(), StoreError> {
                let sql = concat!("SELECT id FROM spaces WHERE id = $1 AND workspace_id = $2", $lock);
                let found: Option<(String,)> = sqlx::query_as(sql)
                    .bind(space.as_str())
                    .bind(workspace.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                found.map(|_| ()).ok_or_else(|| StoreError::NotFound(format!("space '{space}'")))
            }

            #[async_trait]
            impl KnowledgeStore for $store {
                async fn create_space(&self, space: &Space, members: &[UserId]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    sqlx::query(
                        "INSERT INTO spaces (id, workspace_id, slug, name, description, visibility, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(space.id.as_str())
                    .bind(space.workspace_id.as_str())
                    .bind(space.slug.as_str())
                    .bind(&space.name)
                    .bind(&space.description)
                    .bind(space.visibility.as_str())
                    .bind(space.created_at.0)
                    .bind(space.updated_at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("space slug '{}'", space.slug)))?;
                    for m in members {
                        sqlx::query("INSERT INTO space_members (space_id, user_id) VALUES ($1, $2)")
                            .bind(space.id.as_str())
                            .bind(m.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| store_error(e, || format!("user '{m}'")))?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn get_space(&self, workspace: &WorkspaceId, id: &SpaceId) -> Result<Option<Space>, StoreError> {
                    let sql = format!("SELECT {SPACE_COLUMNS} FROM spaces WHERE id = $1 AND workspace_id = $2");
                    let row: Option<SpaceRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(SpaceRow::into_domain).transpose()
                }

                async fn get_space_by_slug(&self, workspace: &WorkspaceId, slug: &PathSlug) -> Result<Option<Space>, StoreError> {
                    let sql = format!("SELECT {SPACE_COLUMNS} FROM spaces WHERE workspace_id = $1 AND slug = $2");
                    let row: Option<SpaceRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(slug.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(SpaceRow::into_domain).transpose()
                }

                async fn list_spaces(&self, workspace: &WorkspaceId) -> Result<Vec<Space>, StoreError> {
                    let sql = format!("SELECT {SPACE_COLUMNS} FROM spaces WHERE workspace_id = $1 ORDER BY slug");
                    let rows: Vec<SpaceRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(SpaceRow::into_domain).collect()
                }

                async fn update_space(&self, space: &Space) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE spaces SET name = $1, description = $2, visibility = $3, updated_at = $4 \
                         WHERE id = $5 AND workspace_id = $6",
                    )
                    .bind(&space.name)
                    .bind(&space.description)
                    .bind(space.visibility.as_str())
                    .bind(space.updated_at.0)
                    .bind(space.id.as_str())
                    .bind(space.workspace_id.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("space '{}'", space.id)));
                    }
                    Ok(())
                }

                async fn set_space_members(&self, workspace: &WorkspaceId, space: &SpaceId, members: &[UserId]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    lock_space(&mut tx, workspace, space).await?;
                    sqlx::query("DELETE FROM space_members WHERE space_id = $1")
                        .bind(space.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    for m in members {
                        sqlx::query("INSERT INTO space_members (space_id, user_id) VALUES ($1, $2)")
                            .bind(space.as_str())
                            .bind(m.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| store_error(e, || format!("user '{m}'")))?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn space_members(&self, workspace: &WorkspaceId, space: &SpaceId) -> Result<Vec<UserId>, StoreError> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT sm.user_id FROM space_members sm JOIN spaces s ON s.id = sm.space_id \
                         WHERE sm.space_id = $1 AND s.workspace_id = $2 ORDER BY sm.user_id",
                    )
                    .bind(space.as_str())
                    .bind(workspace.as_str())
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(|(u,)| UserId::new(u)).collect())
                }

                async fn member_spaces(&self, workspace: &WorkspaceId, user: &UserId) -> Result<Vec<SpaceId>, StoreError> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT s.id FROM space_members sm JOIN spaces s ON s.id = sm.space_id \
                         WHERE sm.user_id = $1 AND s.workspace_id = $2 ORDER BY s.id",
                    )
                    .bind(user.as_str())
                    .bind(workspace.as_str())
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(|(s,)| SpaceId::new(s)).collect())
                }

                async fn delete_space(&self, workspace: &WorkspaceId, id: &SpaceId, job_prefix: &str) -> Result<Vec<PageId>, StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    lock_space(&mut tx, workspace, id).await?;
                    let pages: Vec<(String,)> = sqlx::query_as("SELECT id FROM pages WHERE space_id = $1")
                        .bind(id.as_str())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
                    for (page,) in &pages {
                        insert_job(&mut tx, &format!("{job_prefix}:{page}"), workspace.as_str(), page, now).await?;
                    }
                    sqlx::query("DELETE FROM page_revisions WHERE page_id IN (SELECT id FROM pages WHERE space_id = $1)")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("DELETE FROM pages WHERE space_id = $1").bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                    sqlx::query("DELETE FROM space_members WHERE space_id = $1").bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                    sqlx::query("DELETE FROM spaces WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    Ok(pages.into_iter().map(|(p,)| PageId::new(p)).collect())
                }

                async fn create_page(&self, page: &Page, first: &Revision, render: &StoredRender, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    lock_space(&mut tx, &page.workspace_id, &page.space_id).await?;
                    if let Some(parent) = &page.parent_id {
                        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM pages WHERE id = $1 AND space_id = $2")
                            .bind(parent.as_str())
                            .bind(page.space_id.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                        if found.is_none() {
                            return Err(StoreError::NotFound(format!("parent page '{parent}' in this space")));
                        }
                    }
                    // A negative sort order means "after the last sibling".
                    let sql = format!(
                        "INSERT INTO pages ({PAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                         CASE WHEN $8 < 0 THEN (SELECT COALESCE(MAX(sort_order) + 1, 0) FROM pages WHERE space_id = $3 AND parent_id = $4) ELSE $8 END, \
                         $9, $10, $11, $12)"
                    );
                    sqlx::query(&sql)
                        .bind(page.id.as_str())
                        .bind(page.workspace_id.as_str())
                        .bind(page.space_id.as_str())
                        .bind(parent_key(page.parent_id.as_ref()))
                        .bind(page.slug.as_str())
                        .bind(&page.title)
                        .bind(&page.body)
                        .bind(page.sort_order)
                        .bind(page.revision)
                        .bind(page.created_at.0)
                        .bind(page.updated_at.0)
                        .bind(page.updated_by.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_error(e, || format!("a page with slug '{}' under the same parent", page.slug)))?;
                    insert_revision(&mut tx, first).await?;
                    upsert_render(&mut tx, &page.id, render).await?;
                    insert_job(&mut tx, job_id, page.workspace_id.as_str(), page.id.as_str(), page.updated_at.0).await?;
                    tx.commit().await.map_err(db)
                }

                async fn get_page(&self, workspace: &WorkspaceId, id: &PageId) -> Result<Option<Page>, StoreError> {
                    let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id = $1 AND workspace_id = $2");
                    let row: Option<PageRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(PageRow::into_domain).transpose()
                }

                async fn get_page_with_render(&self, workspace: &WorkspaceId, id: &PageId) -> Result<Option<(Page, Option<StoredRender>)>, StoreError> {
                    let row: Option<PageWithRenderRow> = sqlx::query_as(
                        "SELECT p.id, p.workspace_id, p.space_id, p.parent_id, p.slug, p.title, p.body, p.sort_order, \
                         p.revision, p.created_at, p.updated_at, p.updated_by, \
                         r.revision AS render_revision, r.renderer, r.html, r.headings \
                         FROM pages p LEFT JOIN page_renders r ON r.page_id = p.id \
                         WHERE p.id = $1 AND p.workspace_id = $2",
                    )
                    .bind(id.as_str())
                    .bind(workspace.as_str())
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db)?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let render = match (row.render_revision, row.renderer, row.html, row.headings) {
                        (Some(revision), Some(renderer), Some(html), Some(headings)) => {
                            let headings = $crate::serde_json::from_str(&headings).map_err(|e| {
                                StoreError::Other(format!("stored headings of page {id} are not valid: {e}"))
                            })?;
                            Some(StoredRender { revision, renderer, html, headings })
                        }
                        _ => None,
                    };
                    Ok(Some((row.page.into_domain()?, render)))
                }

                async fn put_render(&self, workspace: &WorkspaceId, id: &PageId, render: &StoredRender) -> Result<(), StoreError> {
                    let headings = $crate::serde_json::to_string(&render.headings)
                        .map_err(|e| StoreError::Other(format!("cannot encode headings: {e}")))?;
                    sqlx::query(
                        "INSERT INTO page_renders (page_id, revision, renderer, html, headings) \
                         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM pages WHERE id = $1 AND workspace_id = $6) \
                         ON CONFLICT (page_id) DO UPDATE SET revision = excluded.revision, renderer = excluded.renderer, \
                         html = excluded.html, headings = excluded.headings \
                         WHERE page_renders.revision <= excluded.revision",
                    )
                    .bind(id.as_str())
                    .bind(render.revision)
                    .bind(render.renderer)
                    .bind(&render.html)
                    .bind(headings)
                    .bind(workspace.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(())
                }

                async fn list_children(&self, workspace: &WorkspaceId, space: &SpaceId, parents: &[Option<PageId>]) -> Result<Vec<(PageSummary, bool)>, StoreError> {
                    let mut out = Vec::new();
                    // Bounded statements: at most 500 parents (bound parameters) per query.
                    for chunk in parents.chunks(500) {
                        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
                        // One probe of the (workspace, space, parent) prefix of `pages_tree` per
                        // page (counting every child would read them all).
                        let sql = format!(
                            "SELECT p.id, p.space_id, p.parent_id, p.slug, p.title, p.sort_order, p.revision, p.updated_at, \
                             EXISTS (SELECT 1 FROM pages c WHERE c.workspace_id = p.workspace_id AND c.space_id = p.space_id AND c.parent_id = p.id) AS has_children \
                             FROM pages p WHERE p.workspace_id = $1 AND p.space_id = $2 AND p.parent_id IN ({})",
                            placeholders.join(", ")
                        );
                        let mut query = sqlx::query_as::<_, PageChildRow>(&sql).bind(workspace.as_str()).bind(space.as_str());
                        for parent in chunk {
                            query = query.bind(parent_key(parent.as_ref()));
                        }
                        let rows = query.fetch_all(&self.read).await.map_err(db)?;
                        for row in rows {
                            out.push((row.page.into_domain()?, row.has_children));
                        }
                    }
                    Ok(out)
                }

                async fn count_pages(&self, workspace: &WorkspaceId, space: &SpaceId) -> Result<u64, StoreError> {
                    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pages WHERE workspace_id = $1 AND space_id = $2")
                        .bind(workspace.as_str())
                        .bind(space.as_str())
                        .fetch_one(&self.read)
                        .await
                        .map_err(db)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn list_pages(&self, workspace: &WorkspaceId, space: &SpaceId) -> Result<Vec<PageSummary>, StoreError> {
                    let rows: Vec<PageSummaryRow> = sqlx::query_as(
                        "SELECT id, space_id, parent_id, slug, title, sort_order, revision, updated_at FROM pages \
                         WHERE workspace_id = $1 AND space_id = $2",
                    )
                    .bind(workspace.as_str())
                    .bind(space.as_str())
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    rows.into_iter().map(PageSummaryRow::into_domain).collect()
                }

                async fn update_page(&self, page: &Page, revision: &Revision, render: &StoredRender, base_revision: i64, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let done = sqlx::query(
                        "UPDATE pages SET title = $1, slug = $2, body = $3, revision = $4, updated_at = $5, updated_by = $6 \
                         WHERE id = $7 AND workspace_id = $8 AND revision = $9",
                    )
                    .bind(&page.title)
                    .bind(page.slug.as_str())
                    .bind(&page.body)
                    .bind(page.revision)
                    .bind(page.updated_at.0)
                    .bind(page.updated_by.as_str())
                    .bind(page.id.as_str())
                    .bind(page.workspace_id.as_str())
                    .bind(base_revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("a page with slug '{}' under the same parent", page.slug)))?;
                    if done.rows_affected() == 0 {
                        let current: Option<(i64,)> = sqlx::query_as("SELECT revision FROM pages WHERE id = $1 AND workspace_id = $2")
                            .bind(page.id.as_str())
                            .bind(page.workspace_id.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                        return Err(match current {
                            Some((current,)) => StoreError::Stale { current },
                            None => StoreError::NotFound(format!("page '{}'", page.id)),
                        });
                    }
                    insert_revision(&mut tx, revision).await?;
                    upsert_render(&mut tx, &page.id, render).await?;
                    insert_job(&mut tx, job_id, page.workspace_id.as_str(), page.id.as_str(), page.updated_at.0).await?;
                    tx.commit().await.map_err(db)
                }

                async fn move_page(&self, workspace: &WorkspaceId, id: &PageId, parent: Option<&PageId>, siblings: &[PageId]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let space: Option<(String,)> = sqlx::query_as("SELECT space_id FROM pages WHERE id = $1 AND workspace_id = $2")
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                    let Some((space,)) = space else {
                        return Err(StoreError::NotFound(format!("page '{id}'")));
                    };
                    lock_space(&mut tx, workspace, &SpaceId::new(space.clone())).await?;
                    if let Some(parent) = parent {
                        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM pages WHERE id = $1 AND space_id = $2")
                            .bind(parent.as_str())
                            .bind(&space)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?;
                        if found.is_none() {
                            return Err(StoreError::NotFound(format!("parent page '{parent}' in this space")));
                        }
                        // Walk up from the new parent: meeting the page means a cycle.
                        let (hits,): (i64,) = sqlx::query_as(
                            "WITH RECURSIVE up(id, parent_id, depth) AS ( \
                               SELECT id, parent_id, 0 FROM pages WHERE id = $1 \
                               UNION ALL \
                               SELECT p.id, p.parent_id, up.depth + 1 FROM pages p JOIN up ON p.id = up.parent_id WHERE up.depth < 100000) \
                             SELECT COUNT(*) FROM up WHERE id = $2",
                        )
                        .bind(parent.as_str())
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                        if hits > 0 {
                            return Err(StoreError::Refused("a page cannot be moved under itself or one of its own descendants".into()));
                        }
                    }
                    sqlx::query("UPDATE pages SET parent_id = $1 WHERE id = $2")
                        .bind(parent_key(parent))
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_error(e, || "a page with the same slug under the new parent".into()))?;
                    for (i, sibling) in siblings.iter().enumerate() {
                        sqlx::query("UPDATE pages SET sort_order = $1 WHERE id = $2 AND space_id = $3 AND parent_id = $4")
                            .bind(i as i64)
                            .bind(sibling.as_str())
                            .bind(&space)
                            .bind(parent_key(parent))
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn delete_page(&self, workspace: &WorkspaceId, id: &PageId, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let space: Option<(String,)> = sqlx::query_as("SELECT space_id FROM pages WHERE id = $1 AND workspace_id = $2")
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                    let Some((space,)) = space else {
                        return Err(StoreError::NotFound(format!("page '{id}'")));
                    };
                    lock_space(&mut tx, workspace, &SpaceId::new(space)).await?;
                    let (children,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pages WHERE parent_id = $1")
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                    if children > 0 {
                        return Err(StoreError::Refused(format!(
                            "the page has {children} child page(s): move or delete them first"
                        )));
                    }
                    sqlx::query("DELETE FROM page_revisions WHERE page_id = $1").bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                    sqlx::query("DELETE FROM pages WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await.map_err(db)?;
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
                    insert_job(&mut tx, job_id, workspace.as_str(), id.as_str(), now).await?;
                    tx.commit().await.map_err(db)
                }

                async fn list_revisions(&self, workspace: &WorkspaceId, page: &PageId, before: Option<i64>, limit: u32) -> Result<Vec<RevisionSummary>, StoreError> {
                    let rows: Vec<RevisionSummaryRow> = sqlx::query_as(
                        "SELECT r.revision, r.title, r.author_id, u.login AS author_login, r.created_at, r.note, \
                         CAST(LENGTH(r.body) AS BIGINT) AS body_chars \
                         FROM page_revisions r JOIN pages p ON p.id = r.page_id LEFT JOIN users u ON u.id = r.author_id \
                         WHERE r.page_id = $1 AND p.workspace_id = $2 AND r.revision < $3 \
                         ORDER BY r.revision DESC LIMIT $4",
                    )
                    .bind(page.as_str())
                    .bind(workspace.as_str())
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(limit as i64 + 1)
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(RevisionSummaryRow::into_domain).collect())
                }

                async fn get_revision(&self, workspace: &WorkspaceId, page: &PageId, revision: i64) -> Result<Option<Revision>, StoreError> {
                    let row: Option<RevisionRow> = sqlx::query_as(
                        "SELECT r.page_id, r.revision, r.title, r.body, r.author_id, r.created_at, r.note \
                         FROM page_revisions r JOIN pages p ON p.id = r.page_id \
                         WHERE r.page_id = $1 AND p.workspace_id = $2 AND r.revision = $3",
                    )
                    .bind(page.as_str())
                    .bind(workspace.as_str())
                    .bind(revision)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(row.map(RevisionRow::into_domain))
                }

                async fn pending_index_jobs(&self, limit: u32) -> Result<Vec<IndexJob>, StoreError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT id, workspace_id, page_id FROM search_outbox ORDER BY created_at, id LIMIT $1",
                    )
                    .bind(limit as i64)
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, ws, page)| IndexJob { id, workspace_id: WorkspaceId::new(ws), page_id: PageId::new(page) })
                        .collect())
                }

                async fn complete_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    for id in ids {
                        sqlx::query("DELETE FROM search_outbox WHERE id = $1").bind(id).execute(&mut *tx).await.map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn pages_after(&self, after: Option<&PageId>, limit: u32) -> Result<Vec<Page>, StoreError> {
                    let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id > $1 ORDER BY id LIMIT $2");
                    let rows: Vec<PageRow> = sqlx::query_as(&sql)
                        .bind(after.map_or("", |p| p.as_str()))
                        .bind(limit as i64)
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(PageRow::into_domain).collect()
                }
            }
        };
    };
}
