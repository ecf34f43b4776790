//! The repository store contract against every store adapter: in-memory, SQLite and
//! PostgreSQL.

use orbit_tests::{postgres, repository_contract};
use std::sync::Arc;

#[tokio::test]
async fn memory_repository_store_keeps_the_contract() {
    repository_contract::run(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_repository_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = orbit_sqlite::SqliteStore::open_file(&dir.path().join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    repository_contract::run(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_repository_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("repos");
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = orbit_postgres::PostgresStore::connect(&postgres::with_database(&server, &name), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    repository_contract::run(Arc::new(store)).await;
}
