//! The git host connection store contract on memory, SQLite and PostgreSQL, with the real
//! AES-256-GCM key ring.

use orbit_ports::SecretCipher;
use orbit_system::{KeyRing, SecretKey};
use orbit_tests::{githost_contract, postgres};
use std::sync::Arc;

fn rings() -> (Arc<dyn SecretCipher>, Arc<dyn SecretCipher>) {
    let key = || SecretKey::from_base64(&SecretKey::generate_base64()).unwrap();
    let old = KeyRing::new(key(), vec![]);
    let next = old.rotated_to(key());
    (Arc::new(old), Arc::new(next))
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
async fn memory_git_host_store_keeps_the_contract() {
    let (a, b) = rings();
    githost_contract::run(Arc::new(orbit_memory::MemoryStore::new()), a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_git_host_store_keeps_the_contract() {
    let dir = tempdir("sqlite-githost");
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (a, b) = rings();
    githost_contract::run(Arc::new(store), a, b).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_git_host_store_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("githost");
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
    let (a, b) = rings();
    githost_contract::run(Arc::new(store), a, b).await;
}
