//! The scale store: PostgreSQL. Membership changes lock the workspace row
//! (`SELECT … FOR UPDATE`), so concurrent demotions can never leave a workspace ownerless.

use orbit_sql::orbit_ports::StoreError;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};
use std::time::Duration;

pub struct PostgresStore {
    read: Pool<Postgres>,
    write: Pool<Postgres>,
}

impl orbit_sql::SqlEngine for PostgresStore {
    type Db = Postgres;
}

orbit_sql::impl_knowledge_store!(PostgresStore, lock = " FOR UPDATE");
orbit_sql::impl_workflow_store!(PostgresStore);
orbit_sql::impl_repository_store!(PostgresStore);
orbit_sql::impl_git_host_store!(PostgresStore);
orbit_sql::impl_webhook_store!(PostgresStore);
orbit_sql::impl_api_store!(PostgresStore, lock = " FOR UPDATE");
orbit_sql::impl_sql_stores!(PostgresStore, lock = " FOR UPDATE");

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`) with a pool of `max_connections`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PostgresStore {
            read: pool.clone(),
            write: pool,
        })
    }

    /// Applies pending migrations (holding PostgreSQL's migration lock, so several
    /// processes starting at once are safe).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        orbit_sql::MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("PostgreSQL migration failed: {e}")))
    }

    pub async fn close(&self) {
        self.write.close().await;
    }
}
