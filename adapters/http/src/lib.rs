//! Orbit's HTTP edge. One axum router serves:
//! - the Connect API generated from `proto/` (`/orbit.v1.<Service>/<Method>`);
//! - `/openapi.json` and a readable API reference at `/docs/api`;
//! - the server-rendered web UI under `/ui`;
//! - `/healthz`, `/readyz` and Prometheus `/metrics`;
//! - Orbit's own git server (smart HTTP) at `/git/<workspace>/<repo>.git`.
//!
//! Architecture invariant: handlers only translate. Protocol types stop here; the use cases
//! in `orbit-services` see domain types, and their errors become Connect errors in one place
//! (`error.rs`).

pub mod api;
mod api_apis;
mod api_artifacts;
mod api_githost;
mod api_knowledge;
mod api_repositories;
mod api_webhooks;
pub mod api_workflows;
pub mod connect;
mod docs;
pub mod error;
pub mod metrics;
pub mod proto;
pub mod web;
mod web_apis;
mod web_githost;
mod web_knowledge;
mod web_repos;
mod web_workflows;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orbit_ports::Authenticator;
use orbit_services::Services;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Mark the session cookie `Secure` (when Orbit is served over HTTPS).
    pub secure_cookies: bool,
    /// Largest request body of git's smart HTTP protocol (a push), in bytes.
    pub max_git_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 4 * 1024 * 1024,
            secure_cookies: false,
            max_git_body_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Behind an `Arc`: axum clones the state for every request (and the router for every
    /// connection), and a deep clone of every service costs memory and CPU under load.
    pub services: Arc<Services>,
    pub auth: Arc<dyn Authenticator>,
    pub config: Arc<HttpConfig>,
    pub metrics: Arc<metrics::Metrics>,
    web: Arc<web::Templates>,
}

impl AppState {
    pub fn new(services: Services, auth: Arc<dyn Authenticator>, config: HttpConfig) -> Self {
        AppState {
            services: Arc::new(services),
            auth,
            config: Arc::new(config),
            metrics: Arc::default(),
            web: Arc::new(web::Templates::new()),
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.services.deps.workspaces.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {err}\n"),
            )
                .into_response()
        }
    }
}

async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let stats = &state.services.cache.stats;
    let backend = state.services.cache.backend();
    let extra = format!(
        "# HELP orbit_cache_operations_total Cache look-ups by outcome; errors fall back to the database.\n\
         # TYPE orbit_cache_operations_total counter\n\
         orbit_cache_operations_total{{backend=\"{backend}\",outcome=\"hit\"}} {}\n\
         orbit_cache_operations_total{{backend=\"{backend}\",outcome=\"miss\"}} {}\n\
         orbit_cache_operations_total{{backend=\"{backend}\",outcome=\"error\"}} {}\n",
        stats.hits.load(Ordering::Relaxed),
        stats.misses.load(Ordering::Relaxed),
        stats.errors.load(Ordering::Relaxed),
    );
    let body = state.metrics.render(&extra);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        body,
    )
        .into_response()
}

fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    error::ConnectError::from(orbit_core::Error::Internal(format!("panic: {detail}")))
        .into_response()
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(&state))
        .merge(web::routes())
        .merge(docs::routes())
        .merge(api_githost::git_routes())
        .merge(api_webhooks::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(
                    tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO),
                )
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG),
                ),
        )
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error::ConnectError::new(
        error::Code::NotFound,
        format!("no such route: {}", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let mut err = error::ConnectError::new(
        error::Code::Unimplemented,
        format!(
            "{method} is not allowed on {}; Connect methods take POST",
            uri.path()
        ),
    );
    err.status = Some(StatusCode::METHOD_NOT_ALLOWED);
    err.into_response()
}
