//! A unary implementation of the Connect protocol over axum: `POST /<pkg>.<Service>/<Method>`
//! with `application/json` (proto3 JSON mapping) or `application/proto` bodies, the
//! `Connect-Protocol-Version` and `Connect-Timeout-Ms` headers, and Connect error JSON.
//!
//! The same routes answer unary gRPC (`application/grpc`, `application/grpc+proto`,
//! `application/grpc+json`) over HTTP/2 (h2c on the same port): one length-prefixed message
//! each way, `grpc-timeout`, and `grpc-status`/`grpc-message` trailers (a "trailers-only"
//! answer for errors). Compressed messages are refused with `unimplemented`.
//!
//! Every request is authenticated before its body is decoded, every body is size-limited
//! while it streams in, and every failure is a Connect error: no panic reaches the client
//! (a panic in a handler is caught by the router's catch-panic layer as `internal`).

use crate::AppState;
use crate::error::{Code, ConnectError};
use crate::metrics::RpcMetrics;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt;
use orbit_core::Actor;
use orbit_ports::{AuthError, Credentials};
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Codec {
    Json,
    Proto,
}

impl Codec {
    fn from_headers(headers: &HeaderMap) -> Result<Codec, ConnectError> {
        let raw = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Ok(Codec::Json),
            "application/proto" | "application/protobuf" | "application/x-protobuf" => {
                Ok(Codec::Proto)
            }
            _ => Err(ConnectError {
                code: Code::Unimplemented,
                message: format!(
                    "unsupported content type {raw:?}: send application/json (proto3 JSON) or application/proto (binary protobuf)"
                ),
                status: Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            }),
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Codec::Json => HeaderValue::from_static("application/json"),
            Codec::Proto => HeaderValue::from_static("application/proto"),
        }
    }
}

/// Reads the bearer token from `Authorization`, or from the web UI's session cookie.
pub fn credentials(headers: &HeaderMap) -> Option<Credentials> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| Credentials::Bearer(token.trim().to_owned()));
    }
    crate::web::session_token(headers).map(Credentials::Bearer)
}

pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, ConnectError> {
    let Some(creds) = credentials(headers) else {
        return Err(ConnectError::new(
            Code::Unauthenticated,
            "missing credentials: send `Authorization: Bearer <token>` with an Orbit API token",
        ));
    };
    state
        .auth
        .authenticate(&creds)
        .await
        .map_err(|err| match err {
            AuthError::Rejected(msg) => ConnectError::new(Code::Unauthenticated, msg),
            AuthError::Unavailable(msg) => {
                tracing::error!(error = %msg, "authentication backend unavailable");
                ConnectError::new(
                    Code::Unavailable,
                    "cannot check credentials right now; try again shortly",
                )
            }
        })
}

/// A method's own body limit, and how exceeding it is reported.
#[derive(Clone, Copy)]
pub struct BodyLimit {
    pub bytes: usize,
    pub code: Code,
    /// Said after "the request body is larger than the limit of N bytes".
    pub hint: &'static str,
}

async fn read_body(
    body: Body,
    limit: usize,
    custom: Option<BodyLimit>,
) -> Result<bytes::Bytes, ConnectError> {
    let (limit, code, hint) = match custom {
        Some(c) => (c.bytes, c.code, c.hint),
        None => (limit, Code::ResourceExhausted, ""),
    };
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(ConnectError::new(
            code,
            format!("the request body is larger than the limit of {limit} bytes{hint}"),
        )),
        Err(err) => Err(ConnectError::new(
            Code::InvalidArgument,
            format!("could not read the request body: {err}"),
        )),
    }
}

fn decode<Req>(codec: Codec, body: &[u8]) -> Result<Req, ConnectError>
where
    Req: prost::Message + Default + DeserializeOwned,
{
    match codec {
        Codec::Json => {
            let body = if body.iter().all(u8::is_ascii_whitespace) {
                b"{}".as_slice()
            } else {
                body
            };
            serde_json::from_slice(body).map_err(|err| {
                ConnectError::new(
                    Code::InvalidArgument,
                    format!("the request is not valid JSON for this method: {err}"),
                )
            })
        }
        Codec::Proto => Req::decode(body).map_err(|err| {
            ConnectError::new(
                Code::InvalidArgument,
                format!("the request is not a valid protobuf message: {err}"),
            )
        }),
    }
}

fn encode<Resp: prost::Message + Serialize>(
    codec: Codec,
    resp: &Resp,
) -> Result<Vec<u8>, ConnectError> {
    match codec {
        Codec::Json => serde_json::to_vec(resp).map_err(|err| {
            ConnectError::from(orbit_core::Error::Internal(format!(
                "encoding a response: {err}"
            )))
        }),
        Codec::Proto => Ok(resp.encode_to_vec()),
    }
}

fn timeout(headers: &HeaderMap) -> Result<Option<Duration>, ConnectError> {
    let Some(value) = headers.get("connect-timeout-ms") else {
        return Ok(None);
    };
    let ms: u64 = value
        .to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= 10)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ConnectError::new(
                Code::InvalidArgument,
                "Connect-Timeout-Ms must be a positive integer of at most 10 digits",
            )
        })?;
    Ok(Some(Duration::from_millis(ms)))
}

/// Runs a handler's call, within the caller's deadline (named `what` in the error) if any.
async fn within<Resp>(
    deadline: Option<Duration>,
    what: &str,
    call: impl Future<Output = orbit_core::Result<Resp>>,
) -> Result<Resp, ConnectError> {
    match deadline {
        Some(d) => tokio::time::timeout(d, call).await.map_err(|_| {
            ConnectError::new(
                Code::DeadlineExceeded,
                format!("the request did not finish within {what}"),
            )
        })?,
        None => call.await,
    }
    .map_err(ConnectError::from)
}

async fn unary<Req, Resp, F, Fut>(
    state: AppState,
    headers: HeaderMap,
    body: Body,
    handler: F,
    limit: Option<BodyLimit>,
) -> Result<Response, ConnectError>
where
    Req: prost::Message + Default + DeserializeOwned + Send + 'static,
    Resp: prost::Message + Serialize + Send + 'static,
    F: Fn(AppState, Actor, Req) -> Fut,
    Fut: Future<Output = orbit_core::Result<Resp>>,
{
    let codec = Codec::from_headers(&headers)?;
    if let Some(version) = headers.get("connect-protocol-version") {
        if version.as_bytes() != b"1" {
            return Err(ConnectError::new(
                Code::InvalidArgument,
                "Connect-Protocol-Version must be 1",
            ));
        }
    }
    let deadline = timeout(&headers)?;
    // The body is read (within the limit) before credentials are checked: answering while the
    // client is still sending would break its connection instead of delivering the error.
    let body = read_body(body, state.config.max_body_bytes, limit).await?;
    let actor = authenticate(&state, &headers).await?;
    let request: Req = decode(codec, &body)?;
    let response = within(
        deadline,
        "Connect-Timeout-Ms",
        handler(state, actor, request),
    )
    .await?;
    let bytes = encode(codec, &response)?;
    Ok(([(header::CONTENT_TYPE, codec.content_type())], bytes).into_response())
}

/// Whether a request speaks gRPC, and with which message codec.
fn grpc_codec(headers: &HeaderMap) -> Option<Codec> {
    let raw = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = raw.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/grpc" | "application/grpc+proto" => Some(Codec::Proto),
        "application/grpc+json" => Some(Codec::Json),
        _ => None,
    }
}

/// `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n).
fn grpc_timeout(headers: &HeaderMap) -> Result<Option<Duration>, ConnectError> {
    let Some(value) = headers.get("grpc-timeout") else {
        return Ok(None);
    };
    let bad = || {
        ConnectError::new(
            Code::InvalidArgument,
            "grpc-timeout must be 1 to 8 digits and a unit (H, M, S, m, u, n)",
        )
    };
    let v = value.to_str().map_err(|_| bad())?;
    if v.len() < 2 || v.len() > 9 {
        return Err(bad());
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return Err(bad()),
    }))
}

/// `grpc-message`: percent-encoded outside printable ASCII (and '%' itself).
fn grpc_message(message: &str) -> HeaderValue {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("error"))
}

fn grpc_content_type(codec: Codec) -> HeaderValue {
    match codec {
        Codec::Json => HeaderValue::from_static("application/grpc+json"),
        Codec::Proto => HeaderValue::from_static("application/grpc+proto"),
    }
}

/// A gRPC error: HTTP 200 with the status in the headers and no body ("trailers-only").
fn grpc_error(codec: Codec, err: &ConnectError) -> Response {
    let mut resp = Response::new(Body::empty());
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, grpc_content_type(codec));
    h.insert("grpc-status", HeaderValue::from(u16::from(err.code.grpc())));
    h.insert("grpc-message", grpc_message(&err.message));
    resp
}

async fn grpc_unary<Req, Resp, F, Fut>(
    codec: Codec,
    state: AppState,
    headers: HeaderMap,
    body: Body,
    handler: F,
    limit: Option<BodyLimit>,
) -> Result<Response, ConnectError>
where
    Req: prost::Message + Default + DeserializeOwned + Send + 'static,
    Resp: prost::Message + Serialize + Send + 'static,
    F: Fn(AppState, Actor, Req) -> Fut,
    Fut: Future<Output = orbit_core::Result<Resp>>,
{
    let deadline = grpc_timeout(&headers)?;
    // The 5-byte message prefix comes on top of the message's own limit.
    let limit = limit.map(|l| BodyLimit {
        bytes: l.bytes + 5,
        ..l
    });
    let framed = read_body(body, state.config.max_body_bytes + 5, limit).await?;
    let actor = authenticate(&state, &headers).await?;
    let message = match framed.as_ref() {
        [] => &[][..],
        [0, a, b, c, d, rest @ ..] => {
            let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            if rest.len() != len {
                return Err(ConnectError::new(
                    Code::InvalidArgument,
                    format!(
                        "the gRPC message prefix says {len} bytes but {} follow (one message per unary call)",
                        rest.len()
                    ),
                ));
            }
            rest
        }
        [1, ..] => {
            return Err(ConnectError::new(
                Code::Unimplemented,
                "compressed gRPC messages are not supported: send them uncompressed (grpc-encoding identity)",
            ));
        }
        _ => {
            return Err(ConnectError::new(
                Code::InvalidArgument,
                "the request is not a length-prefixed gRPC message",
            ));
        }
    };
    let request: Req = decode(codec, message)?;
    let response = within(deadline, "its grpc-timeout", handler(state, actor, request)).await?;
    let bytes = encode(codec, &response)?;
    let len = u32::try_from(bytes.len()).map_err(|_| {
        ConnectError::new(
            Code::ResourceExhausted,
            "the response is too large for gRPC",
        )
    })?;
    let mut data = Vec::with_capacity(bytes.len() + 5);
    data.push(0);
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(&bytes);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = futures::stream::iter([
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from(data))),
        Ok(http_body::Frame::trailers(trailers)),
    ]);
    let mut resp = Response::new(Body::new(http_body_util::StreamBody::new(frames)));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, grpc_content_type(codec));
    Ok(resp)
}

/// Adds the route `/{service}/{method}` serving `handler` with the Connect protocol.
pub fn route<Req, Resp, F, Fut>(
    router: Router<AppState>,
    state: &AppState,
    service: &str,
    method: &str,
    handler: F,
) -> Router<AppState>
where
    Req: prost::Message + Default + DeserializeOwned + Send + 'static,
    Resp: prost::Message + Serialize + Send + 'static,
    F: Fn(AppState, Actor, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = orbit_core::Result<Resp>> + Send + 'static,
{
    route_limited(router, state, service, method, None, handler)
}

/// Like [`route`], with the method's own body limit (uploads larger than ordinary requests).
pub fn route_limited<Req, Resp, F, Fut>(
    router: Router<AppState>,
    state: &AppState,
    service: &str,
    method: &str,
    limit: Option<BodyLimit>,
    handler: F,
) -> Router<AppState>
where
    Req: prost::Message + Default + DeserializeOwned + Send + 'static,
    Resp: prost::Message + Serialize + Send + 'static,
    F: Fn(AppState, Actor, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = orbit_core::Result<Resp>> + Send + 'static,
{
    let path = format!("/{service}/{method}");
    let metrics: Arc<RpcMetrics> = state.metrics.register(&path);
    router.route(
        &path,
        post(move |State(state): State<AppState>, headers: HeaderMap, body: Body| {
            let handler = handler.clone();
            let metrics = metrics.clone();
            async move {
                let started = Instant::now();
                let grpc = grpc_codec(&headers);
                let result = match grpc {
                    Some(codec) => grpc_unary(codec, state, headers, body, handler, limit).await,
                    None => unary(state, headers, body, handler, limit).await,
                };
                let code = result.as_ref().err().map(|e| e.code);
                metrics.observe(code, started.elapsed());
                match result {
                    Ok(resp) => resp,
                    Err(err) => {
                        if matches!(err.code, Code::Internal | Code::Unavailable) {
                            tracing::warn!(code = err.code.as_str(), message = %err.message, "rpc failed");
                        }
                        match grpc {
                            Some(codec) => grpc_error(codec, &err),
                            None => err.into_response(),
                        }
                    }
                }
            }
        }),
    )
}
