//! A `TestApp`: the real router over chosen adapters, driven in-process with
//! `tower::ServiceExt::oneshot` (no sockets), plus the backends every suite runs on.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use orbit::{App, Stores};
use orbit_ports::Cache;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

pub const ADMIN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub app: App,
    pub router: axum::Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// The Connect error code of an error reply.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

pub fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl TestApp {
    pub async fn new(stores: Stores, cache: Arc<dyn Cache>) -> TestApp {
        let search = Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap());
        TestApp::with_search(stores, cache, search).await
    }

    pub async fn with_search(
        stores: Stores,
        cache: Arc<dyn Cache>,
        search: Arc<dyn orbit_ports::SearchIndex>,
    ) -> TestApp {
        TestApp::with_config(stores, cache, search, |_| {}).await
    }

    /// Like `with_search`, with a say in the configuration (object storage…).
    pub async fn with_config(
        stores: Stores,
        cache: Arc<dyn Cache>,
        search: Arc<dyn orbit_ports::SearchIndex>,
        configure: impl FnOnce(&mut orbit::config::Config),
    ) -> TestApp {
        let mut config = orbit::config::Config::embedded(tempdir("app"));
        config.max_body_bytes = 64 * 1024;
        config.max_page_bytes = 32 * 1024;
        configure(&mut config);
        let parts = orbit::Parts {
            stores,
            cache,
            search,
            search_description: "test".into(),
            engine: None,
        };
        let app = App::from_parts(&config, parts);
        app.services.tokens.bootstrap(Some(ADMIN)).await.unwrap();
        let router = app.router();
        TestApp { app, router }
    }

    pub async fn memory() -> TestApp {
        TestApp::new(memory_stores(), Arc::new(orbit_memory::NoCache)).await
    }

    /// Applies every queued search-index job (what the background indexer does).
    pub async fn index(&self) {
        self.app.services.indexer.drain().await.unwrap();
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A Connect JSON call of `method` (e.g. `WorkspaceService/CreateWorkspace`).
    pub async fn call(&self, method: &str, token: Option<&str>, body: Value) -> Reply {
        let mut req = Request::post(format!("/orbit.v1.{method}"))
            .header("content-type", "application/json")
            .header("connect-protocol-version", "1");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Like `call`, but panics unless the call succeeds; returns the response message.
    pub async fn ok(&self, method: &str, token: &str, body: Value) -> Value {
        let reply = self.call(method, Some(token), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{method} {body} failed: {}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    /// Asserts that a call fails with `code` and returns its message.
    pub async fn fails(&self, method: &str, token: &str, body: Value, code: &str) -> String {
        let reply = self.call(method, Some(token), body.clone()).await;
        assert_eq!(
            reply.code(),
            code,
            "{method} {body}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_ne!(reply.status, StatusCode::OK);
        reply.json()["message"].as_str().unwrap().to_owned()
    }

    /// Creates a user and a token for it; returns (user id, token).
    pub async fn user(&self, login: &str) -> (String, String) {
        let user = self
            .ok(
                "UserService/CreateUser",
                ADMIN,
                serde_json::json!({"login": login}),
            )
            .await;
        let id = user["user"]["id"].as_str().unwrap().to_owned();
        let token = self
            .ok(
                "AuthService/CreateToken",
                ADMIN,
                serde_json::json!({"name": "test", "user": login}),
            )
            .await;
        (id, token["secret"].as_str().unwrap().to_owned())
    }
}

pub fn memory_stores() -> Stores {
    Stores::from_one(Arc::new(orbit_memory::MemoryStore::new()), "memory")
}

pub async fn sqlite_stores() -> Stores {
    let store = orbit_sqlite::SqliteStore::open_file(&tempdir("sqlite").join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Stores::from_one(Arc::new(store), "sqlite")
}

/// A fresh PostgreSQL database, or `None` when the tests run without a server.
pub async fn postgres_stores() -> Option<Stores> {
    let server = orbit_tests::postgres::server_url()?;
    let name = orbit_tests::postgres::fresh_database_name("api");
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let store = orbit_postgres::PostgresStore::connect(
        &orbit_tests::postgres::with_database(&server, &name),
        8,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    Some(Stores::from_one(Arc::new(store), "postgres"))
}

/// Every store backend available to this run.
pub async fn all_stores() -> Vec<Stores> {
    let mut all = vec![memory_stores(), sqlite_stores().await];
    all.extend(postgres_stores().await);
    all
}
