//! Webhooks from git hosts (`POST /webhooks/{github|gitlab}/{connection_id}`). A
//! connection's webhook secret is created by `GitHostService.CreateWebhookSecret`.

use crate::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use orbit_core::{Error, GitProvider};
use orbit_services::{WebhookOutcome, WebhookRequest};

/// Largest webhook payload accepted (GitHub caps its own at 25 MB; pushes Orbit cares about
/// are far smaller).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn error(err: &Error) -> Response {
    let status = match err {
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::PermissionDenied(_) => StatusCode::FORBIDDEN,
        Error::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::FailedPrecondition(_) => StatusCode::PRECONDITION_FAILED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json(
        status,
        serde_json::json!({"status": "refused", "message": err.to_string()}),
    )
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

async fn receive(
    state: AppState,
    provider: GitProvider,
    connection_id: String,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match axum::body::to_bytes(body, MAX_WEBHOOK_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            tracing::warn!(connection = %connection_id, "webhook refused: body too large");
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"status": "refused", "message": format!("the payload is larger than {MAX_WEBHOOK_BYTES} bytes")}),
            );
        }
    };
    let req = if provider == GitProvider::GitLab {
        WebhookRequest {
            event: header_str(&headers, "x-gitlab-event").unwrap_or_default(),
            delivery_id: header_str(&headers, "x-gitlab-event-uuid").unwrap_or_default(),
            signature: header_str(&headers, "x-gitlab-token"),
            body: body.to_vec(),
        }
    } else {
        WebhookRequest {
            event: header_str(&headers, "x-github-event").unwrap_or_default(),
            delivery_id: header_str(&headers, "x-github-delivery").unwrap_or_default(),
            signature: header_str(&headers, "x-hub-signature-256"),
            body: body.to_vec(),
        }
    };
    match state
        .services
        .webhooks
        .receive(provider, &connection_id, req)
        .await
    {
        Ok(WebhookOutcome::Accepted { repository }) => {
            let webhooks = state.services.webhooks.clone();
            tokio::spawn(async move {
                if let Err(e) = webhooks.drain_refreshes().await {
                    tracing::warn!(error = %e, "webhook refreshes not applied yet");
                }
            });
            json(
                StatusCode::OK,
                serde_json::json!({"status": "processed", "repository": repository}),
            )
        }
        Ok(WebhookOutcome::AlreadyProcessed) => json(
            StatusCode::OK,
            serde_json::json!({"status": "already processed"}),
        ),
        Ok(WebhookOutcome::Ignored(note)) => json(
            StatusCode::ACCEPTED,
            serde_json::json!({"status": "ignored", "message": note}),
        ),
        Err(e) => error(&e),
    }
}

async fn github(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(state, GitProvider::GitHub, connection_id, headers, body).await
}

async fn gitlab(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(state, GitProvider::GitLab, connection_id, headers, body).await
}

async fn without_connection() -> Response {
    error(&Error::NotFound(
        "a webhook URL names its connection: /webhooks/{github|gitlab}/{connection_id}".into(),
    ))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/github/{connection_id}", post(github))
        .route("/webhooks/gitlab/{connection_id}", post(gitlab))
        .route("/webhooks/github", post(without_connection))
        .route("/webhooks/gitlab", post(without_connection))
        .layer(DefaultBodyLimit::disable())
}
