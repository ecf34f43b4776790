//! Malformed and hostile input sent to every RPC declared in `proto/`: each gets a Connect
//! error with the right code and a readable message; never a panic, never a bare 500,
//! never a half-written row.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use support::{ADMIN, TestApp};

fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header("authorization", format!("Bearer {ADMIN}"))
}

fn assert_connect_error(reply: &support::Reply, status: u16, code: &str, what: &str) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{what}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{what}: errors are JSON"
    );
    let body = reply.json();
    assert_eq!(body["code"], code, "{what}: {body}");
    let message = body["message"].as_str().unwrap_or("");
    assert!(
        message.len() > 10,
        "{what}: a message a person can act on, got {message:?}"
    );
}

#[tokio::test]
async fn every_rpc_rejects_malformed_input_with_a_connect_error() {
    let app = TestApp::memory().await;
    let methods = orbit_http::api::method_paths();
    assert!(
        methods.len() >= 16,
        "every method of proto/ is listed: {methods:?}"
    );
    for path in &methods {
        let json = |body: Vec<u8>| {
            post(path)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap()
        };

        let r = app
            .send(
                Request::post(path.as_str())
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            401,
            "unauthenticated",
            &format!("{path} without credentials"),
        );
        let r = app
            .send(
                Request::post(path.as_str())
                    .header("content-type", "application/json")
                    .header("authorization", "Bearer orbit_wrong")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            401,
            "unauthenticated",
            &format!("{path} with a wrong token"),
        );
        let r = app
            .send(
                Request::post(path.as_str())
                    .header("content-type", "application/json")
                    .header("authorization", "Basic YWRtaW46YWRtaW4=")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            401,
            "unauthenticated",
            &format!("{path} with basic auth"),
        );

        let r = app
            .send(
                post(path)
                    .header("content-type", "text/plain")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(&r, 415, "unimplemented", &format!("{path} as text/plain"));
        let r = app.send(post(path).body(Body::from("{}")).unwrap()).await;
        assert_connect_error(
            &r,
            415,
            "unimplemented",
            &format!("{path} without a content type"),
        );

        let r = app.send(json(b"{\"slug\": ".to_vec())).await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with truncated JSON"),
        );
        let r = app.send(json(b"[1, 2]".to_vec())).await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with a JSON array"),
        );
        let r = app.send(json(b"{\"name\": \"\xff\xfe\"}".to_vec())).await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with invalid UTF-8"),
        );
        let r = app.send(json(b"{\"surprise\": 1}".to_vec())).await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with an unknown field"),
        );
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `surprise`")
        );
        // Schema uploads have their own, larger limit (tests/tests/api_catalog.rs checks it).
        let upload = [
            "/orbit.v1.ApiCatalogService/PublishVersion",
            "/orbit.v1.ApiCatalogService/ValidateSchema",
            "/orbit.v1.ApiCatalogService/CompareVersions",
        ]
        .contains(&path.as_str());
        let r = app
            .send(json(
                format!("{{\"x\": \"{}\"}}", "a".repeat(70 * 1024)).into_bytes(),
            ))
            .await;
        if upload {
            assert_connect_error(
                &r,
                400,
                "invalid_argument",
                &format!("{path} with an unknown field in a large upload"),
            );
        } else {
            assert_connect_error(
                &r,
                429,
                "resource_exhausted",
                &format!("{path} over the body limit"),
            );
        }
        let r = app.send(json(b"{".repeat(10_000))).await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} nested 10,000 deep"),
        );

        let r = app
            .send(
                post(path)
                    .header("content-type", "application/proto")
                    .body(Body::from(vec![0xff, 0xff, 0xff, 0xff]))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with garbage protobuf"),
        );
        let r = app
            .send(
                post(path)
                    .header("content-type", "application/json")
                    .header("connect-protocol-version", "7")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with a wrong protocol version"),
        );
        let r = app
            .send(
                post(path)
                    .header("content-type", "application/json")
                    .header("connect-timeout-ms", "soon")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with a bad timeout"),
        );
        let r = app
            .send(Request::get(path.as_str()).body(Body::empty()).unwrap())
            .await;
        assert_connect_error(&r, 405, "unimplemented", &format!("GET {path}"));

        // An empty message is a valid request: it may be refused, but with a 4xx and a reason.
        let r = app.send(json(b"{}".to_vec())).await;
        assert!(
            r.status.is_success() || r.status.is_client_error(),
            "{path} with {{}}: {}",
            r.status
        );
        if !r.status.is_success() {
            assert!(
                matches!(
                    r.code().as_str(),
                    "invalid_argument" | "not_found" | "permission_denied"
                ),
                "{path}: {}",
                r.code()
            );
        }
        // Wrong types for known fields.
        let r = app
            .send(json(
                br#"{"pageSize": "many", "slug": 5, "name": [], "role": "ROLE_KING", "id": {}}"#
                    .to_vec(),
            ))
            .await;
        assert_connect_error(
            &r,
            400,
            "invalid_argument",
            &format!("{path} with wrong field types"),
        );
    }
    // Nothing above created anything.
    let listed = app
        .ok("WorkspaceService/ListWorkspaces", ADMIN, json!({}))
        .await;
    assert!(listed.get("workspaces").is_none(), "{listed}");
}

#[tokio::test]
async fn binary_protobuf_round_trip() {
    use orbit_http::proto::v1 as pb;
    use prost::Message;
    let app = TestApp::memory().await;
    let req = pb::CreateWorkspaceRequest {
        slug: "proto-ws".into(),
        name: "Proto".into(),
        description: String::new(),
    };
    let r = app
        .send(
            post("/orbit.v1.WorkspaceService/CreateWorkspace")
                .header("content-type", "application/proto")
                .body(Body::from(req.encode_to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/proto");
    let resp = pb::CreateWorkspaceResponse::decode(r.body.clone()).unwrap();
    let ws = resp.workspace.unwrap();
    assert_eq!(
        (ws.slug.as_str(), ws.role),
        ("proto-ws", pb::Role::Owner as i32)
    );
    // The same workspace read as JSON.
    let got = app
        .ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": ws.id}))
        .await;
    assert_eq!(got["workspace"]["name"], "Proto");
    // A binary error is still a JSON Connect error.
    let r = app
        .send(
            post("/orbit.v1.WorkspaceService/CreateWorkspace")
                .header("content-type", "application/proto")
                .body(Body::from(req.encode_to_vec()))
                .unwrap(),
        )
        .await;
    assert_connect_error(&r, 409, "already_exists", "duplicate over protobuf");
}

#[tokio::test]
async fn unknown_routes_and_hostile_paths_are_connect_errors() {
    let app = TestApp::memory().await;
    for path in [
        "/orbit.v1.NoSuchService/Method",
        "/orbit.v1.WorkspaceService/NoSuchMethod",
        "/../../etc/passwd",
        "/%00",
    ] {
        let r = app
            .send(
                post(path)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_connect_error(&r, 404, "not_found", path);
    }
}

#[tokio::test]
async fn openapi_document_covers_every_rpc() {
    let app = TestApp::memory().await;
    let r = app
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in orbit_http::api::method_paths() {
        let op = &doc["paths"][&path]["post"];
        assert!(op.is_object(), "{path} is documented");
        assert!(
            !op["summary"].as_str().unwrap_or("").is_empty(),
            "{path} has a summary from the proto comments"
        );
    }
    let ws = &doc["components"]["schemas"]["orbit.v1.Workspace"]["properties"];
    assert_eq!(
        ws["createTime"]["format"], "date-time",
        "JSON names and well-known types follow the proto3 JSON mapping"
    );
    let r = app
        .send(Request::get("/docs/api").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&r.body);
    assert!(html.contains("POST /orbit.v1.WorkspaceService/CreateWorkspace"));
    assert!(
        !html.contains("http://cdn") && !html.contains("https://"),
        "no external assets"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::memory().await;
    let r = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.ok("WorkspaceService/ListWorkspaces", ADMIN, json!({}))
        .await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        ADMIN,
        json!({"slug": "nope-nope"}),
        "not_found",
    )
    .await;
    let r = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = String::from_utf8_lossy(&r.body);
    assert!(text.contains("orbit_rpc_requests_total{method=\"/orbit.v1.WorkspaceService/ListWorkspaces\",code=\"ok\"} 1"), "{text}");
    assert!(text.contains("orbit_rpc_requests_total{method=\"/orbit.v1.WorkspaceService/GetWorkspace\",code=\"not_found\"} 1"));
    assert!(text.contains(
        "orbit_rpc_duration_seconds_count{method=\"/orbit.v1.WorkspaceService/ListWorkspaces\"} 1"
    ));
    assert!(text.contains("orbit_cache_operations_total"));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let path = support::tempdir("ready").join("orbit.db");
    let store = orbit_sqlite::SqliteStore::open_file(&path).await.unwrap();
    store.migrate().await.unwrap();
    let store = std::sync::Arc::new(store);
    let stores = orbit::Stores::from_one(store.clone(), "sqlite");
    let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
    let r = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The database goes away (its pools close): readiness says so, and RPCs answer
    // `unavailable` with a reason instead of hanging or failing with a bare 500.
    store.close().await;
    let r = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&r.body).starts_with("not ready: database unavailable"));
    let r = app
        .call("WorkspaceService/ListWorkspaces", Some(ADMIN), json!({}))
        .await;
    assert_connect_error(&r, 503, "unavailable", "a call while the database is gone");
}
