//! The webhook store contract on memory, SQLite and PostgreSQL.

use orbit_tests::{postgres, webhook_contract};
use std::sync::Arc;

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "orbit-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn memory_webhook_store_keeps_the_contract() {
    webhook_contract::run(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_webhook_store_keeps_the_contract() {
    let dir = tempdir("sqlite-webhooks");
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    webhook_contract::run(Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_webhook_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("webhooks");
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
    webhook_contract::run(Arc::new(store)).await;
}
