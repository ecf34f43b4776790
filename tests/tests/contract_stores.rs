//! The store contract against every store adapter: in-memory, SQLite and PostgreSQL.

use orbit_tests::{postgres, store_contract};
use std::sync::Arc;

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    store_contract::run(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_keeps_the_contract() {
    let dir = tempdir("sqlite-contract");
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    store_contract::run(Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("contract");
    let admin = orbit_postgres_admin(&server).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = orbit_postgres::PostgresStore::connect(&postgres::with_database(&server, &name), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store_contract::run(Arc::new(store)).await;
}

async fn orbit_postgres_admin(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to the test PostgreSQL server")
}

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
async fn memory_knowledge_store_keeps_the_contract() {
    orbit_tests::knowledge_contract::run(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_knowledge_store_keeps_the_contract() {
    let dir = tempdir("sqlite-knowledge");
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    orbit_tests::knowledge_contract::run(Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_knowledge_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("knowledge");
    let admin = orbit_postgres_admin(&server).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = orbit_postgres::PostgresStore::connect(&postgres::with_database(&server, &name), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    orbit_tests::knowledge_contract::run(Arc::new(store)).await;
}

#[tokio::test]
async fn memory_api_store_keeps_the_contract() {
    orbit_tests::api_contract::run(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_api_store_keeps_the_contract() {
    let dir = tempdir("sqlite-apis");
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    orbit_tests::api_contract::run(Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_api_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        eprintln!("SKIPPED: ORBIT_TEST_DATABASE_URL is not set");
        return;
    };
    let name = postgres::fresh_database_name("apis");
    let admin = orbit_postgres_admin(&server).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = orbit_postgres::PostgresStore::connect(&postgres::with_database(&server, &name), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    orbit_tests::api_contract::run(Arc::new(store)).await;
}
