//! Orbit's composition root: the only code that knows every adapter. It reads the
//! configuration, picks one adapter per port, and hands the use cases to the HTTP edge.

pub mod config;

use anyhow::{Context, Result};
use config::{Config, Database};
use orbit_http::{AppState, HttpConfig};
use orbit_ports::{Cache, UserStore, WorkspaceStore};
use orbit_services::{Deps, Services};
use std::sync::Arc;
use std::time::Duration;

/// The stores of one database, behind their ports.
pub struct Stores {
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub users: Arc<dyn UserStore>,
    pub description: String,
}

/// Opens the configured database and applies pending migrations.
pub async fn open_stores(config: &Config) -> Result<Stores> {
    match &config.database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
            }
            let store = orbit_sqlite::SqliteStore::open_file(path)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
            store
                .migrate()
                .await
                .context("migrating the SQLite database")?;
            let store = Arc::new(store);
            Ok(Stores {
                workspaces: store.clone(),
                users: store,
                description: format!("SQLite at {}", path.display()),
            })
        }
        Database::Postgres(url) => {
            let store =
                orbit_postgres::PostgresStore::connect(url, config.database_max_connections)
                    .await
                    .context("connecting to PostgreSQL (ORBIT_DATABASE_URL)")?;
            store
                .migrate()
                .await
                .context("migrating the PostgreSQL database")?;
            let store = Arc::new(store);
            Ok(Stores {
                workspaces: store.clone(),
                users: store,
                description: "PostgreSQL".into(),
            })
        }
    }
}

pub fn open_cache(config: &Config) -> Result<Arc<dyn Cache>> {
    match &config.redis_url {
        Some(url) => Ok(Arc::new(
            orbit_redis::RedisCache::connect(url, "orbit:", Duration::from_secs(2))
                .context("configuring Redis (ORBIT_REDIS_URL)")?,
        )),
        None => Ok(Arc::new(orbit_memory::NoCache)),
    }
}

/// A composed application, ready to serve.
pub struct App {
    pub services: Services,
    pub state: AppState,
    pub database: String,
}

impl App {
    pub async fn build(config: &Config) -> Result<App> {
        let stores = open_stores(config).await?;
        let cache = open_cache(config)?;
        Ok(Self::from_parts(config, stores, cache))
    }

    pub fn from_parts(config: &Config, stores: Stores, cache: Arc<dyn Cache>) -> App {
        let services = Services::new(Deps {
            workspaces: stores.workspaces,
            users: stores.users,
            cache,
            clock: Arc::new(orbit_system::SystemClock),
            ids: Arc::new(orbit_system::UuidV7Ids),
        });
        let http = HttpConfig {
            max_body_bytes: config.max_body_bytes,
            secure_cookies: config.secure_cookies,
        };
        let state = AppState::new(services.clone(), Arc::new(services.tokens.clone()), http);
        App {
            services,
            state,
            database: stores.description,
        }
    }

    pub fn router(&self) -> axum::Router {
        orbit_http::router(self.state.clone())
    }
}
