//! What Orbit's SQL adapters share. The schema is portable SQL (text ids, integer
//! milliseconds), so one set of migrations and one store implementation serve both
//! engines: [`impl_sql_stores!`] stamps the implementation out for an engine's pool type,
//! and `orbit-sqlite` / `orbit-postgres` add only connection setup.
//!
//! Rules for queries written here: `$N` placeholders appear in ascending order of first use
//! (SQLite numbers parameters by first appearance), and only types both engines decode
//! (`TEXT`, `BIGINT`, `BOOLEAN`) cross the boundary.

pub mod apis;
pub mod githost;
pub mod knowledge;
pub mod repositories;
pub mod rows;
pub mod webhooks;
pub mod workflows;

#[doc(hidden)]
pub use {async_trait, orbit_core, orbit_ports, serde_json, sqlx};

use orbit_ports::StoreError;

/// The migrations both engines run (`orbit migrate`, and on start).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Maps a driver error to a store error; `what` names the row for `AlreadyExists`/`NotFound`.
pub fn store_error(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists(what()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound(what()),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
        _ => {
            tracing::error!(error = %err, "database error");
            StoreError::Other(err.to_string())
        }
    }
}

/// For queries whose failures carry no row name.
pub fn db(err: sqlx::Error) -> StoreError {
    store_error(err, || "row".into())
}

/// Implements `WorkspaceStore` and `UserStore` for `$store`, a struct with fields
/// `read: sqlx::Pool<DB>` and `write: sqlx::Pool<DB>`. `$lock` is the clause that
/// locks the workspace row inside a transaction (`" FOR UPDATE"` on PostgreSQL; empty on
/// SQLite, whose single writer connection serialises write transactions already).
#[macro_export]
macro_rules! impl_sql_stores {
    ($store:ty, lock = $lock:literal) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::{
                ApiToken, Member, Membership, PageRequest, Role, Slug, Timestamp, TokenId, User,
                UserId, Workspace, WorkspaceId,
            };
            use $crate::orbit_ports::{StoreError, TokenHash, UserStore, WorkspaceStore};
            use $crate::rows::{MemberRow, TokenUserRow, TokenRow, UserRow, WorkspaceRoleRow, WorkspaceRow};
            use $crate::{db, store_error};
            use $crate::sqlx;

            const WORKSPACE_COLUMNS: &str = "id, slug, name, description, created_at, updated_at";
            const MEMBER_SELECT: &str = "SELECT m.workspace_id, m.user_id, m.role, m.created_at, u.login, u.display_name \
                 FROM memberships m JOIN users u ON u.id = m.user_id";
            const USER_COLUMNS: &str = "id, login, display_name, email, instance_admin, created_at";
            const TOKEN_COLUMNS: &str =
                "id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at";

            fn after(page: &PageRequest) -> &str {
                page.after.as_deref().unwrap_or("")
            }
            fn limit(page: &PageRequest) -> i64 {
                page.limit as i64 + 1
            }

            #[async_trait]
            impl WorkspaceStore for $store {
                #[tracing::instrument(skip_all, fields(workspace = %workspace.id))]
                async fn create_workspace(&self, workspace: &Workspace, owner: &Membership) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    sqlx::query(
                        "INSERT INTO workspaces (id, slug, name, description, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(workspace.id.as_str())
                    .bind(workspace.slug.as_str())
                    .bind(&workspace.name)
                    .bind(&workspace.description)
                    .bind(workspace.created_at.0)
                    .bind(workspace.updated_at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("workspace slug '{}'", workspace.slug)))?;
                    sqlx::query(
                        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(owner.workspace_id.as_str())
                    .bind(owner.user_id.as_str())
                    .bind(owner.role.as_str())
                    .bind(owner.created_at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || format!("user '{}'", owner.user_id)))?;
                    tx.commit().await.map_err(db)
                }

                async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
                    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1");
                    let row: Option<WorkspaceRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(WorkspaceRow::into_domain).transpose()
                }

                async fn get_workspace_by_slug(&self, slug: &Slug) -> Result<Option<Workspace>, StoreError> {
                    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE slug = $1");
                    let row: Option<WorkspaceRow> = sqlx::query_as(&sql)
                        .bind(slug.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(WorkspaceRow::into_domain).transpose()
                }

                async fn list_workspaces_for_user(
                    &self,
                    user: &UserId,
                    page: &PageRequest,
                ) -> Result<Vec<(Workspace, Role)>, StoreError> {
                    let rows: Vec<WorkspaceRoleRow> = sqlx::query_as(
                        // The user's memberships are gathered first (MATERIALIZED), then sorted:
                        // otherwise planners walk every workspace in slug order.
                        "WITH mine AS MATERIALIZED (SELECT workspace_id, role FROM memberships WHERE user_id = $1) \
                         SELECT w.id, w.slug, w.name, w.description, w.created_at, w.updated_at, mine.role \
                         FROM mine JOIN workspaces w ON w.id = mine.workspace_id \
                         WHERE w.slug > $2 ORDER BY w.slug LIMIT $3",
                    )
                    .bind(user.as_str())
                    .bind(after(page))
                    .bind(limit(page))
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    rows.into_iter().map(WorkspaceRoleRow::into_domain).collect()
                }

                async fn update_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
                    let done = sqlx::query(
                        "UPDATE workspaces SET name = $1, description = $2, updated_at = $3 WHERE id = $4",
                    )
                    .bind(&workspace.name)
                    .bind(&workspace.description)
                    .bind(workspace.updated_at.0)
                    .bind(workspace.id.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("workspace '{}'", workspace.id)));
                    }
                    Ok(())
                }

                #[tracing::instrument(skip(self))]
                async fn delete_workspace(&self, id: &WorkspaceId) -> Result<Vec<UserId>, StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let lock = concat!("SELECT id FROM workspaces WHERE id = $1", $lock);
                    let found: Option<(String,)> = sqlx::query_as(lock)
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                    if found.is_none() {
                        return Err(StoreError::NotFound(format!("workspace '{id}'")));
                    }
                    let members: Vec<(String,)> =
                        sqlx::query_as("SELECT user_id FROM memberships WHERE workspace_id = $1")
                            .bind(id.as_str())
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(db)?;
                    // Every table that belongs to a workspace references it with ON DELETE
                    // CASCADE; memberships are deleted explicitly as well, so that the result
                    // does not depend on the engine's foreign-key settings.
                    sqlx::query("DELETE FROM memberships WHERE workspace_id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("DELETE FROM workspaces WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    Ok(members.into_iter().map(|(u,)| UserId::new(u)).collect())
                }

                async fn get_role(&self, workspace: &WorkspaceId, user: &UserId) -> Result<Option<Role>, StoreError> {
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                            .bind(workspace.as_str())
                            .bind(user.as_str())
                            .fetch_optional(&self.read)
                            .await
                            .map_err(db)?;
                    row.map(|(r,)| $crate::rows::role(&r)).transpose()
                }

                async fn add_member(&self, membership: &Membership) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(membership.workspace_id.as_str())
                    .bind(membership.user_id.as_str())
                    .bind(membership.role.as_str())
                    .bind(membership.created_at.0)
                    .execute(&self.write)
                    .await
                    .map_err(|e| match store_error(e, || format!("membership of '{}'", membership.user_id)) {
                        StoreError::NotFound(_) => StoreError::NotFound(format!(
                            "workspace '{}' or user '{}'",
                            membership.workspace_id, membership.user_id
                        )),
                        other => other,
                    })?;
                    Ok(())
                }

                async fn get_member(&self, workspace: &WorkspaceId, user: &UserId) -> Result<Option<Member>, StoreError> {
                    let sql = format!("{MEMBER_SELECT} WHERE m.workspace_id = $1 AND m.user_id = $2");
                    let row: Option<MemberRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(user.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(MemberRow::into_domain).transpose()
                }

                async fn list_members(&self, workspace: &WorkspaceId, page: &PageRequest) -> Result<Vec<Member>, StoreError> {
                    // Members of the workspace first (MATERIALIZED), each user looked up by key,
                    // then sorted by login: with a join, planners walk every user (in login
                    // order, or a hash join over the whole table: 3.8 ms of PostgreSQL CPU per
                    // call with 2,000 users in one run), O(users) where this is O(members).
                    let sql = "WITH m AS MATERIALIZED (SELECT workspace_id, user_id, role, created_at, \
                         (SELECT u.login FROM users u WHERE u.id = memberships.user_id) AS login, \
                         (SELECT u.display_name FROM users u WHERE u.id = memberships.user_id) AS display_name \
                         FROM memberships WHERE workspace_id = $1) \
                         SELECT workspace_id, user_id, role, created_at, login, display_name \
                         FROM m WHERE login > $2 ORDER BY login LIMIT $3";
                    let rows: Vec<MemberRow> = sqlx::query_as(sql)
                        .bind(workspace.as_str())
                        .bind(after(page))
                        .bind(limit(page))
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(MemberRow::into_domain).collect()
                }

                async fn set_member_role(&self, workspace: &WorkspaceId, user: &UserId, role: Role) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let current = Self::lock_member(&mut tx, workspace, user).await?;
                    if current == Role::Owner && role != Role::Owner {
                        Self::ensure_other_owner(&mut tx, workspace).await?;
                    }
                    sqlx::query("UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
                        .bind(role.as_str())
                        .bind(workspace.as_str())
                        .bind(user.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn remove_member(&self, workspace: &WorkspaceId, user: &UserId) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let current = Self::lock_member(&mut tx, workspace, user).await?;
                    if current == Role::Owner {
                        Self::ensure_other_owner(&mut tx, workspace).await?;
                    }
                    sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                        .bind(workspace.as_str())
                        .bind(user.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query("SELECT 1").execute(&self.read).await.map_err(db)?;
                    Ok(())
                }

                async fn instance_id(&self, candidate: &str) -> Result<String, StoreError> {
                    sqlx::query("INSERT INTO orbit_meta (key, value) VALUES ('instance_id', $1) ON CONFLICT DO NOTHING")
                        .bind(candidate)
                        .execute(&self.write)
                        .await
                        .map_err(db)?;
                    let (id,): (String,) = sqlx::query_as("SELECT value FROM orbit_meta WHERE key = 'instance_id'")
                        .fetch_one(&self.write)
                        .await
                        .map_err(db)?;
                    Ok(id)
                }
            }

            impl $store {
                /// Locks the workspace row (serialising membership changes of one workspace)
                /// and returns the member's current role.
                async fn lock_member(
                    tx: &mut sqlx::Transaction<'_, <Self as $crate::SqlEngine>::Db>,
                    workspace: &WorkspaceId,
                    user: &UserId,
                ) -> Result<Role, StoreError> {
                    let lock = concat!("SELECT id FROM workspaces WHERE id = $1", $lock);
                    let found: Option<(String,)> = sqlx::query_as(lock)
                        .bind(workspace.as_str())
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db)?;
                    if found.is_none() {
                        return Err(StoreError::NotFound(format!("workspace '{workspace}'")));
                    }
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                            .bind(workspace.as_str())
                            .bind(user.as_str())
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db)?;
                    match row {
                        Some((role,)) => $crate::rows::role(&role),
                        None => Err(StoreError::NotFound(format!("membership of '{user}'"))),
                    }
                }

                async fn ensure_other_owner(
                    tx: &mut sqlx::Transaction<'_, <Self as $crate::SqlEngine>::Db>,
                    workspace: &WorkspaceId,
                ) -> Result<(), StoreError> {
                    let (owners,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
                    )
                    .bind(workspace.as_str())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db)?;
                    if owners <= 1 {
                        return Err(StoreError::LastOwner);
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl UserStore for $store {
                async fn create_user(&self, user: &User) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO users (id, login, display_name, email, instance_admin, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(user.id.as_str())
                    .bind(user.login.as_str())
                    .bind(&user.display_name)
                    .bind(&user.email)
                    .bind(user.instance_admin)
                    .bind(user.created_at.0)
                    .execute(&self.write)
                    .await
                    .map_err(|e| store_error(e, || format!("user login '{}'", user.login.as_str())))?;
                    Ok(())
                }

                async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                    let row: Option<UserRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(UserRow::into_domain).transpose()
                }

                async fn get_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login = $1");
                    let row: Option<UserRow> = sqlx::query_as(&sql)
                        .bind(login)
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(UserRow::into_domain).transpose()
                }

                async fn list_users(&self, page: &PageRequest) -> Result<Vec<User>, StoreError> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE login > $1 ORDER BY login LIMIT $2");
                    let rows: Vec<UserRow> = sqlx::query_as(&sql)
                        .bind(after(page))
                        .bind(limit(page))
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(UserRow::into_domain).collect()
                }

                async fn count_users(&self) -> Result<u64, StoreError> {
                    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
                        .fetch_one(&self.read)
                        .await
                        .map_err(db)?;
                    Ok(n as u64)
                }

                async fn create_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO api_tokens (id, user_id, name, prefix, secret_hash, created_at, expires_at, last_used_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(token.id.as_str())
                    .bind(token.user_id.as_str())
                    .bind(&token.name)
                    .bind(&token.prefix)
                    .bind(&hash.0)
                    .bind(token.created_at.0)
                    .bind(token.expires_at.map(|t| t.0))
                    .bind(token.last_used_at.map(|t| t.0))
                    .bind(token.revoked_at.map(|t| t.0))
                    .execute(&self.write)
                    .await
                    .map_err(|e| match store_error(e, || "token".into()) {
                        StoreError::NotFound(_) => StoreError::NotFound(format!("user '{}'", token.user_id)),
                        other => other,
                    })?;
                    Ok(())
                }

                async fn find_token(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>, StoreError> {
                    let row: Option<TokenUserRow> = sqlx::query_as(
                        "SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, \
                         u.login, u.display_name, u.email, u.instance_admin, u.created_at AS user_created_at \
                         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1",
                    )
                    .bind(&hash.0)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db)?;
                    row.map(TokenUserRow::into_domain).transpose()
                }

                async fn list_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>, StoreError> {
                    let sql = format!(
                        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
                    );
                    let rows: Vec<TokenRow> = sqlx::query_as(&sql)
                        .bind(user.as_str())
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    Ok(rows.into_iter().map(TokenRow::into_domain).collect())
                }

                async fn revoke_token(&self, user: &UserId, token: &TokenId, at: Timestamp) -> Result<TokenHash, StoreError> {
                    let row: Option<(String,)> = sqlx::query_as(
                        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL \
                         RETURNING secret_hash",
                    )
                    .bind(at.0)
                    .bind(token.as_str())
                    .bind(user.as_str())
                    .fetch_optional(&self.write)
                    .await
                    .map_err(db)?;
                    row.map(|(h,)| TokenHash(h))
                        .ok_or_else(|| StoreError::NotFound(format!("token '{token}'")))
                }

                async fn touch_token(&self, token: &TokenId, at: Timestamp) -> Result<(), StoreError> {
                    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                        .bind(at.0)
                        .bind(token.as_str())
                        .execute(&self.write)
                        .await
                        .map_err(db)?;
                    Ok(())
                }
            }
        };
    };
}

/// Names the sqlx database type of an engine's store, for the macro.
pub trait SqlEngine {
    type Db: sqlx::Database;
}
