//! The embedded default store: SQLite (bundled, nothing to install) in WAL mode.
//! Reads go through a pool of connections; writes through a single connection, which
//! serialises write transactions the way SQLite does anyway and avoids busy errors.

use orbit_sql::orbit_ports::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    read: Pool<Sqlite>,
    write: Pool<Sqlite>,
}

impl orbit_sql::SqlEngine for SqliteStore {
    type Db = Sqlite;
}

orbit_sql::impl_knowledge_store!(SqliteStore, lock = "");
orbit_sql::impl_workflow_store!(SqliteStore);
orbit_sql::impl_repository_store!(SqliteStore);
orbit_sql::impl_git_host_store!(SqliteStore);
orbit_sql::impl_webhook_store!(SqliteStore);
orbit_sql::impl_api_store!(SqliteStore, lock = "");
orbit_sql::impl_sql_stores!(SqliteStore, lock = "");

fn options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("invalid SQLite URL {url:?}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // 8 MiB of page cache per connection (SQLite's default is 2): list and search reads
        // touch many pages of large tables. (A memory map was tried too: each connection's
        // map counted the file again in the process's RSS, 3.7 GiB for a 660 MiB database.)
        .pragma("cache_size", "-8192")
        // sqlx runs each connection on its own thread and hands result rows over a bounded
        // channel (50 by default): a 5,000-page tree took 100 thread hand-offs. 1,000 rows
        // pass at once now; lists of at most a few hundred rows never wait on the channel.
        .row_buffer_size(1000))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open_file(path: &Path) -> Result<Self, StoreError> {
        Self::open(&format!("sqlite://{}", path.display())).await
    }

    /// Opens a database from a `sqlite:` URL (`sqlite::memory:` is refused: a pool needs a file).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let opts = options(url)?;
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database {url}: {e}"))
            })?;
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get().clamp(2, 8) * 2);
        let read = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database {url}: {e}"))
            })?;
        Ok(SqliteStore { read, write })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        orbit_sql::MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("SQLite migration failed: {e}")))
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
