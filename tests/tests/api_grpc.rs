//! Unary gRPC on the Connect routes (same port): length-prefixed messages, `grpc-status` in
//! trailers on success and in the headers of a trailers-only answer on failure. The
//! TypeScript client's suite runs every scenario over a real gRPC transport (HTTP/2) too;
//! these tests pin the framing and the error mapping at the router.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use orbit_http::proto::v1 as pb;
use prost::Message;
use support::{ADMIN, TestApp};
use tower::ServiceExt;

fn framed(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

struct GrpcReply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    trailers: Option<axum::http::HeaderMap>,
    body: bytes::Bytes,
}

impl GrpcReply {
    /// `grpc-status` from the trailers, or from the headers of a trailers-only answer.
    fn grpc_status(&self) -> String {
        let from = |h: &axum::http::HeaderMap| {
            h.get("grpc-status").map(|v| v.to_str().unwrap().to_owned())
        };
        self.trailers
            .as_ref()
            .and_then(from)
            .or_else(|| from(&self.headers))
            .expect("a grpc-status")
    }

    fn grpc_message(&self) -> String {
        self.headers
            .get("grpc-message")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

async fn call(app: &TestApp, method: &str, token: &str, body: Vec<u8>) -> GrpcReply {
    let req = Request::post(format!("/orbit.v1.{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    GrpcReply {
        status,
        headers,
        trailers,
        body: collected.to_bytes(),
    }
}

#[tokio::test]
async fn grpc_unary_calls_answer_framed_messages_and_statuses() {
    let app = TestApp::memory().await;

    // Success: one framed message, grpc-status 0 in the trailers.
    let req = pb::CreateWorkspaceRequest {
        slug: "grpc-team".into(),
        name: "gRPC team".into(),
        ..Default::default()
    };
    let reply = call(
        &app,
        "WorkspaceService/CreateWorkspace",
        ADMIN,
        framed(0, &req.encode_to_vec()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/grpc+proto"
    );
    assert_eq!(reply.grpc_status(), "0");
    assert_eq!(reply.body[0], 0, "uncompressed");
    let len = u32::from_be_bytes(reply.body[1..5].try_into().unwrap()) as usize;
    assert_eq!(len, reply.body.len() - 5);
    let created = pb::CreateWorkspaceResponse::decode(&reply.body[5..]).unwrap();
    assert_eq!(created.workspace.unwrap().slug, "grpc-team");

    // The same slug again: already_exists (6), as a trailers-only answer with the message.
    let again = call(
        &app,
        "WorkspaceService/CreateWorkspace",
        ADMIN,
        framed(0, &req.encode_to_vec()),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "gRPC errors travel in grpc-status"
    );
    assert_eq!(again.grpc_status(), "6");
    assert!(
        again.grpc_message().contains("grpc-team"),
        "{}",
        again.grpc_message()
    );
    assert!(again.body.is_empty());

    // A bad token: unauthenticated (16).
    let denied = call(&app, "AuthService/WhoAmI", "wrong-token", framed(0, &[])).await;
    assert_eq!(denied.grpc_status(), "16");

    // A compressed message: unimplemented (12), saying what to do instead.
    let compressed = call(&app, "AuthService/WhoAmI", ADMIN, framed(1, &[1, 2, 3])).await;
    assert_eq!(compressed.grpc_status(), "12");
    assert!(compressed.grpc_message().contains("uncompressed"));

    // A prefix that lies about the length: invalid_argument (3).
    let mut lying = framed(0, &[]);
    lying[4] = 9;
    let bad = call(&app, "AuthService/WhoAmI", ADMIN, lying).await;
    assert_eq!(bad.grpc_status(), "3");

    // Invalid input inside a good frame: invalid_argument, with a readable message.
    let bad_slug = pb::CreateWorkspaceRequest {
        slug: "Bad Slug".into(),
        name: "x".into(),
        ..Default::default()
    };
    let invalid = call(
        &app,
        "WorkspaceService/CreateWorkspace",
        ADMIN,
        framed(0, &bad_slug.encode_to_vec()),
    )
    .await;
    assert_eq!(invalid.grpc_status(), "3");
    assert!(
        invalid.grpc_message().contains("slug"),
        "{}",
        invalid.grpc_message()
    );
}
