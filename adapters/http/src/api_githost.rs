//! Connect handlers of `GitHostService`, and Orbit's own git server: git's smart HTTP
//! protocol at `/git/<workspace-slug>/<repo>.git/…` with HTTP Basic authentication (any
//! user name, an Orbit API token as the password).

use crate::AppState;
use crate::api::timestamp;
use crate::connect::route;
use crate::proto::v1 as pb;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use http_body_util::BodyExt;
use orbit_core::{Actor, Error, GitHostConnection, Result, Secret};
use orbit_ports::{AuthError, Credentials, GitHttpRequest};
use orbit_services::{GitHostConnectionPatch, NewGitHostConnection};

fn connection_to_pb(c: GitHostConnection, webhook_secret_set: bool) -> pb::GitHostConnection {
    pb::GitHostConnection {
        webhook_secret_set,
        id: c.id,
        workspace_id: c.workspace_id.to_string(),
        name: c.name,
        provider: c.provider.as_str().to_owned(),
        base_url: c.base_url,
        namespace: c.namespace,
        token_set: c.token_set,
        token_last4: c.token_last4,
        create_time: Some(timestamp(c.created_at)),
        update_time: Some(timestamp(c.updated_at)),
    }
}

async fn create_connection(
    s: AppState,
    a: Actor,
    r: pb::CreateGitHostConnectionRequest,
) -> Result<pb::CreateGitHostConnectionResponse> {
    let c = s
        .services
        .git_hosts
        .create_connection(
            &a,
            &r.workspace_id,
            NewGitHostConnection {
                name: r.name,
                provider: r.provider,
                base_url: r.base_url,
                namespace: r.namespace,
                token: Secret::new(r.token),
            },
        )
        .await?;
    Ok(pb::CreateGitHostConnectionResponse {
        connection: Some(connection_to_pb(c, false)),
    })
}

async fn list_connections(
    s: AppState,
    a: Actor,
    r: pb::ListGitHostConnectionsRequest,
) -> Result<pb::ListGitHostConnectionsResponse> {
    let list = s
        .services
        .git_hosts
        .list_connections(&a, &r.workspace_id)
        .await?;
    let flagged = s.services.webhooks.with_secret_flags(list).await?;
    Ok(pb::ListGitHostConnectionsResponse {
        connections: flagged
            .into_iter()
            .map(|(c, set)| connection_to_pb(c, set))
            .collect(),
    })
}

async fn update_connection(
    s: AppState,
    a: Actor,
    r: pb::UpdateGitHostConnectionRequest,
) -> Result<pb::UpdateGitHostConnectionResponse> {
    if r.id.is_empty() {
        return Err(Error::invalid("id", "is required"));
    }
    let c = s
        .services
        .git_hosts
        .update_connection(
            &a,
            &r.workspace_id,
            &r.id,
            GitHostConnectionPatch {
                name: r.name,
                base_url: r.base_url,
                namespace: r.namespace,
                token: r.token.map(Secret::new),
            },
        )
        .await?;
    let (c, set) = s
        .services
        .webhooks
        .with_secret_flags(vec![c])
        .await?
        .remove(0);
    Ok(pb::UpdateGitHostConnectionResponse {
        connection: Some(connection_to_pb(c, set)),
    })
}

async fn delete_connection(
    s: AppState,
    a: Actor,
    r: pb::DeleteGitHostConnectionRequest,
) -> Result<pb::DeleteGitHostConnectionResponse> {
    if r.id.is_empty() {
        return Err(Error::invalid("id", "is required"));
    }
    s.services
        .git_hosts
        .delete_connection(&a, &r.workspace_id, &r.id)
        .await?;
    Ok(pb::DeleteGitHostConnectionResponse {})
}

async fn create_webhook_secret(
    s: AppState,
    a: Actor,
    r: pb::CreateWebhookSecretRequest,
) -> Result<pb::CreateWebhookSecretResponse> {
    if r.connection_id.is_empty() {
        return Err(Error::invalid("connection_id", "is required"));
    }
    let created = s
        .services
        .webhooks
        .create_secret(&a, &r.workspace_id, &r.connection_id)
        .await?;
    Ok(pb::CreateWebhookSecretResponse {
        secret: created.secret.expose().to_owned(),
        webhook_path: created.webhook_path,
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let g = "orbit.v1.GitHostService";
    let r = route(r, state, g, "CreateGitHostConnection", create_connection);
    let r = route(r, state, g, "ListGitHostConnections", list_connections);
    let r = route(r, state, g, "UpdateGitHostConnection", update_connection);
    let r = route(r, state, g, "DeleteGitHostConnection", delete_connection);
    route(r, state, g, "CreateWebhookSecret", create_webhook_secret)
}

/// The smart-HTTP git server's route (its own body limit: pushes are large).
pub fn git_routes() -> Router<AppState> {
    Router::new()
        .route("/git/{workspace}/{*rest}", any(git_http))
        .layer(DefaultBodyLimit::disable())
}

fn text(status: StatusCode, message: &str) -> Response {
    let mut resp = (status, format!("{message}\n")).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// 401 with a Basic challenge, so `git` asks its credential helpers for a user and token.
fn challenge(message: &str) -> Response {
    let mut resp = text(StatusCode::UNAUTHORIZED, message);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Orbit\", charset=\"UTF-8\""),
    );
    resp
}

/// The password of `Authorization: Basic …` (the user name is ignored), or a bearer token.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (_, password) = decoded.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

async fn git_http(
    State(state): State<AppState>,
    Path((workspace, rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((repo, path)) = rest.split_once(".git") else {
        return text(StatusCode::NOT_FOUND, "not a git repository URL");
    };
    let path = if path.is_empty() { "/" } else { path };
    let Some(password) = basic_password(&headers) else {
        return challenge("authentication required: any user name, an Orbit API token as password");
    };
    let actor = match state
        .auth
        .authenticate(&Credentials::Bearer(password))
        .await
    {
        Ok(actor) => actor,
        Err(AuthError::Rejected(_)) => return challenge("the token is not valid"),
        Err(AuthError::Unavailable(msg)) => {
            tracing::error!(error = %msg, "authentication backend unavailable");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot check credentials right now; try again shortly",
            );
        }
    };
    let limit = state.config.max_git_body_bytes;
    let body = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the push is larger than the limit of {limit} bytes"),
            );
        }
        Err(_) => return text(StatusCode::BAD_REQUEST, "cannot read the request body"),
    };
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let request = GitHttpRequest {
        method: method.to_string(),
        path: path.to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        content_type: h("content-type"),
        content_encoding: h("content-encoding"),
        git_protocol: h("git-protocol"),
        body,
    };
    match state
        .services
        .git_hosts
        .serve_git(&actor, &workspace, repo, request)
        .await
    {
        Ok(r) => {
            let mut builder = Response::builder().status(r.status);
            for (k, v) in r.headers {
                builder = builder.header(k, v);
            }
            builder
                .body(Body::from(r.body))
                .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad git answer"))
        }
        Err(Error::NotFound(_)) => text(StatusCode::NOT_FOUND, "repository not found"),
        Err(Error::PermissionDenied(m)) => text(StatusCode::FORBIDDEN, &m),
        Err(Error::Unavailable(m)) => {
            tracing::warn!(error = %m, "git server unavailable");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the git server is unavailable",
            )
        }
        Err(Error::InvalidArgument { .. }) => text(StatusCode::NOT_FOUND, "repository not found"),
        Err(e) => {
            tracing::error!(error = %e, "git over HTTP failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "the git server failed")
        }
    }
}
