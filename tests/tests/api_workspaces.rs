//! Workspaces, members, users and tokens through the Connect API, on every store.

mod support;

use serde_json::json;
use support::{ADMIN, TestApp, all_stores};

async fn lifecycle(app: &TestApp) {
    // Create, read back by id and slug.
    let created = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "platform", "name": " Platform ", "description": "The platform team"}),
        )
        .await;
    let ws = &created["workspace"];
    let id = ws["id"].as_str().unwrap().to_owned();
    assert_eq!(ws["slug"], "platform");
    assert_eq!(ws["name"], "Platform", "names are trimmed");
    assert_eq!(ws["role"], "ROLE_OWNER");
    assert!(
        ws["createTime"].as_str().unwrap().ends_with('Z')
            || ws["createTime"].as_str().unwrap().contains("+00:00")
    );
    let by_slug = app
        .ok(
            "WorkspaceService/GetWorkspace",
            ADMIN,
            json!({"slug": "platform"}),
        )
        .await;
    assert_eq!(by_slug["workspace"]["id"], id.as_str());
    let by_id = app
        .ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
        .await;
    assert_eq!(by_id["workspace"]["description"], "The platform team");

    let msg = app
        .fails(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "platform", "name": "Again"}),
            "already_exists",
        )
        .await;
    assert!(msg.contains("platform"), "{msg}");
    let msg = app
        .fails(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "No Spaces", "name": "x"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.starts_with("slug "), "{msg}");
    let msg = app
        .fails(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "fine", "name": "   "}),
            "invalid_argument",
        )
        .await;
    assert_eq!(msg, "name must not be empty");
    app.fails(
        "WorkspaceService/GetWorkspace",
        ADMIN,
        json!({}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        ADMIN,
        json!({"slug": "does-not-exist"}),
        "not_found",
    )
    .await;

    // Pagination visits every workspace exactly once, in slug order.
    for slug in ["a-team", "b-team", "c-team", "d-team"] {
        app.ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": slug, "name": slug}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .ok(
                "WorkspaceService/ListWorkspaces",
                ADMIN,
                json!({"pageSize": 2, "pageToken": token}),
            )
            .await;
        for w in page["workspaces"].as_array().unwrap() {
            seen.push(w["slug"].as_str().unwrap().to_owned());
        }
        token = page["nextPageToken"].as_str().unwrap_or("").to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["a-team", "b-team", "c-team", "d-team", "platform"]);
    app.fails(
        "WorkspaceService/ListWorkspaces",
        ADMIN,
        json!({"pageToken": "garbage"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "WorkspaceService/ListWorkspaces",
        ADMIN,
        json!({"pageSize": 100000}),
        "invalid_argument",
    )
    .await;

    // Update.
    let updated = app
        .ok(
            "WorkspaceService/UpdateWorkspace",
            ADMIN,
            json!({"id": id, "description": "New words"}),
        )
        .await;
    assert_eq!(
        updated["workspace"]["name"], "Platform",
        "unset fields stay"
    );
    assert_eq!(updated["workspace"]["description"], "New words");
    let got = app
        .ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
        .await;
    assert_eq!(
        got["workspace"]["description"], "New words",
        "the update is visible to the next read"
    );

    // Members and roles.
    let (bob_id, bob) = app.user("bob").await;
    let (carol_id, carol) = app.user("carol").await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        &bob,
        json!({"id": id}),
        "not_found",
    )
    .await;
    app.fails(
        "WorkspaceService/ListMembers",
        &bob,
        json!({"workspaceId": id}),
        "not_found",
    )
    .await;
    app.fails(
        "WorkspaceService/AddMember",
        &bob,
        json!({"workspaceId": id, "user": "bob", "role": "ROLE_OWNER"}),
        "not_found",
    )
    .await;
    let listed = app
        .ok("WorkspaceService/ListWorkspaces", &bob, json!({}))
        .await;
    assert!(
        listed.get("workspaces").is_none() || listed["workspaces"].as_array().unwrap().is_empty(),
        "bob sees nothing: {listed}"
    );

    let added = app
        .ok(
            "WorkspaceService/AddMember",
            ADMIN,
            json!({"workspaceId": id, "user": "bob", "role": "ROLE_MEMBER"}),
        )
        .await;
    assert_eq!(added["member"]["login"], "bob");
    app.fails(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": id, "user": "bob", "role": "ROLE_VIEWER"}),
        "already_exists",
    )
    .await;
    app.fails(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": id, "user": "nobody", "role": "ROLE_VIEWER"}),
        "not_found",
    )
    .await;
    let msg = app
        .fails(
            "WorkspaceService/AddMember",
            ADMIN,
            json!({"workspaceId": id, "user": "carol"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.starts_with("role "), "{msg}");

    // Bob, a member, reads but does not administer.
    let got = app
        .ok(
            "WorkspaceService/GetWorkspace",
            &bob,
            json!({"slug": "platform"}),
        )
        .await;
    assert_eq!(got["workspace"]["role"], "ROLE_MEMBER");
    app.fails(
        "WorkspaceService/UpdateWorkspace",
        &bob,
        json!({"id": id, "name": "Mine"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "WorkspaceService/AddMember",
        &bob,
        json!({"workspaceId": id, "user": "carol", "role": "ROLE_VIEWER"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "WorkspaceService/DeleteWorkspace",
        &bob,
        json!({"id": id, "confirmSlug": "platform"}),
        "permission_denied",
    )
    .await;

    // An admin manages members but cannot touch ownership.
    app.ok(
        "WorkspaceService/UpdateMemberRole",
        ADMIN,
        json!({"workspaceId": id, "userId": bob_id, "role": "ROLE_ADMIN"}),
    )
    .await;
    app.ok(
        "WorkspaceService/AddMember",
        &bob,
        json!({"workspaceId": id, "user": carol_id, "role": "ROLE_VIEWER"}),
    )
    .await;
    app.fails(
        "WorkspaceService/UpdateMemberRole",
        &bob,
        json!({"workspaceId": id, "userId": carol_id, "role": "ROLE_OWNER"}),
        "permission_denied",
    )
    .await;
    let admin_id = app.ok("AuthService/WhoAmI", ADMIN, json!({})).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.fails(
        "WorkspaceService/RemoveMember",
        &bob,
        json!({"workspaceId": id, "userId": admin_id}),
        "permission_denied",
    )
    .await;

    // The last owner stays.
    let msg = app
        .fails(
            "WorkspaceService/UpdateMemberRole",
            ADMIN,
            json!({"workspaceId": id, "userId": admin_id, "role": "ROLE_MEMBER"}),
            "failed_precondition",
        )
        .await;
    assert!(msg.contains("last owner"), "{msg}");
    app.fails(
        "WorkspaceService/RemoveMember",
        ADMIN,
        json!({"workspaceId": id, "userId": admin_id}),
        "failed_precondition",
    )
    .await;

    // Members list, ordered by login, paginated.
    let page1 = app
        .ok(
            "WorkspaceService/ListMembers",
            &carol,
            json!({"workspaceId": id, "pageSize": 2}),
        )
        .await;
    let logins: Vec<&str> = page1["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin", "bob"]);
    let page2 = app
        .ok(
            "WorkspaceService/ListMembers",
            &carol,
            json!({"workspaceId": id, "pageSize": 2, "pageToken": page1["nextPageToken"]}),
        )
        .await;
    assert_eq!(page2["members"][0]["login"], "carol");
    assert_eq!(page2["members"][0]["role"], "ROLE_VIEWER");

    // Carol leaves by herself; then she no longer sees the workspace.
    app.ok(
        "WorkspaceService/RemoveMember",
        &carol,
        json!({"workspaceId": id, "userId": carol_id}),
    )
    .await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        &carol,
        json!({"id": id}),
        "not_found",
    )
    .await;

    // Deletion asks for the slug, then removes the workspace for everyone.
    let msg = app
        .fails(
            "WorkspaceService/DeleteWorkspace",
            ADMIN,
            json!({"id": id, "confirmSlug": "wrong"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("'platform'"), "{msg}");
    app.ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
        .await;
    app.ok(
        "WorkspaceService/DeleteWorkspace",
        ADMIN,
        json!({"id": id, "confirmSlug": "platform"}),
    )
    .await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        ADMIN,
        json!({"id": id}),
        "not_found",
    )
    .await;
    app.fails(
        "WorkspaceService/GetWorkspace",
        &bob,
        json!({"slug": "platform"}),
        "not_found",
    )
    .await;
    app.fails(
        "WorkspaceService/ListMembers",
        ADMIN,
        json!({"workspaceId": id}),
        "not_found",
    )
    .await;
    // The slug can be used again, and the new workspace starts empty.
    let again = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            &bob,
            json!({"slug": "platform", "name": "Platform 2"}),
        )
        .await;
    let new_id = again["workspace"]["id"].as_str().unwrap();
    let members = app
        .ok(
            "WorkspaceService/ListMembers",
            &bob,
            json!({"workspaceId": new_id}),
        )
        .await;
    assert_eq!(
        members["members"].as_array().unwrap().len(),
        1,
        "no member of the old workspace carried over"
    );
}

async fn users_and_tokens(app: &TestApp) {
    let who = app.ok("AuthService/WhoAmI", ADMIN, json!({})).await;
    assert_eq!(who["user"]["login"], "admin");
    assert_eq!(who["user"]["instanceAdmin"], true);

    let (_, dave) = app.user("dave").await;
    app.fails(
        "UserService/CreateUser",
        &dave,
        json!({"login": "eve"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "UserService/ListUsers",
        &dave,
        json!({}),
        "permission_denied",
    )
    .await;
    app.fails(
        "UserService/CreateUser",
        ADMIN,
        json!({"login": "dave"}),
        "already_exists",
    )
    .await;
    app.fails(
        "UserService/CreateUser",
        ADMIN,
        json!({"login": "Dave Smith"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "UserService/CreateUser",
        ADMIN,
        json!({"login": "frank", "email": "not-an-address"}),
        "invalid_argument",
    )
    .await;
    let got = app
        .ok("UserService/GetUser", &dave, json!({"user": "admin"}))
        .await;
    assert_eq!(got["user"]["login"], "admin");
    app.fails(
        "UserService/GetUser",
        &dave,
        json!({"user": "ghost"}),
        "not_found",
    )
    .await;
    let all = app
        .ok("UserService/ListUsers", ADMIN, json!({"pageSize": 500}))
        .await;
    assert!(
        all["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["login"] == "dave")
    );

    // A token works at once; revoked, it stops at once; others' tokens cannot be revoked.
    let created = app
        .ok(
            "AuthService/CreateToken",
            &dave,
            json!({"name": "laptop", "ttlSeconds": "3600"}),
        )
        .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("orbit_"));
    assert!(secret.starts_with(created["token"]["prefix"].as_str().unwrap()));
    assert!(created["token"]["expireTime"].is_string());
    let who = app.ok("AuthService/WhoAmI", secret, json!({})).await;
    assert_eq!(who["user"]["login"], "dave");
    assert_eq!(who["tokenId"], created["token"]["id"]);
    let token_id = created["token"]["id"].as_str().unwrap();
    app.fails(
        "AuthService/RevokeToken",
        ADMIN,
        json!({"id": token_id}),
        "not_found",
    )
    .await;
    let listed = app.ok("AuthService/ListTokens", &dave, json!({})).await;
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 2, "{listed}");
    assert!(
        !listed.to_string().contains(secret),
        "secrets are never listed"
    );
    app.ok("AuthService/RevokeToken", &dave, json!({"id": token_id}))
        .await;
    let reply = app
        .call("AuthService/WhoAmI", Some(secret), json!({}))
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code().as_str()),
        (401, "unauthenticated")
    );
    app.fails(
        "AuthService/RevokeToken",
        &dave,
        json!({"id": token_id}),
        "not_found",
    )
    .await;
    app.fails(
        "AuthService/CreateToken",
        &dave,
        json!({"name": ""}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "AuthService/CreateToken",
        &dave,
        json!({"name": "x", "ttlSeconds": "-5"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "AuthService/CreateToken",
        &dave,
        json!({"name": "x", "user": "admin"}),
        "permission_denied",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_lifecycle_on_every_store() {
    for stores in all_stores().await {
        let label = stores.description.clone();
        eprintln!("store: {label}");
        let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
        lifecycle(&app).await;
        users_and_tokens(&app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_lifecycle_through_a_cache() {
    // The same scenario with a cache in front: every write must invalidate what it changes,
    // or the assertions on the next read fail.
    let cache = std::sync::Arc::new(orbit_memory::MemoryCache::new());
    let app = TestApp::new(support::sqlite_stores().await, cache.clone()).await;
    lifecycle(&app).await;
    users_and_tokens(&app).await;
    assert!(!cache.is_empty(), "the cache was used");
    let stats = &app.app.services.cache.stats;
    assert!(stats.hits.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn isolation_between_workspaces() {
    let app = TestApp::memory().await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let a = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            &alice,
            json!({"slug": "alice-ws", "name": "A"}),
        )
        .await;
    let b = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            &bob,
            json!({"slug": "bob-ws", "name": "B"}),
        )
        .await;
    let (a_id, b_id) = (
        a["workspace"]["id"].as_str().unwrap(),
        b["workspace"]["id"].as_str().unwrap(),
    );
    for (token, other) in [(&alice, b_id), (&bob, a_id)] {
        for (method, body) in [
            ("WorkspaceService/GetWorkspace", json!({"id": other})),
            (
                "WorkspaceService/UpdateWorkspace",
                json!({"id": other, "name": "hijack"}),
            ),
            (
                "WorkspaceService/DeleteWorkspace",
                json!({"id": other, "confirmSlug": "x"}),
            ),
            (
                "WorkspaceService/AddMember",
                json!({"workspaceId": other, "user": "alice", "role": "ROLE_OWNER"}),
            ),
            (
                "WorkspaceService/ListMembers",
                json!({"workspaceId": other}),
            ),
            (
                "WorkspaceService/UpdateMemberRole",
                json!({"workspaceId": other, "userId": "x", "role": "ROLE_OWNER"}),
            ),
            (
                "WorkspaceService/RemoveMember",
                json!({"workspaceId": other, "userId": "x"}),
            ),
        ] {
            let msg = app.fails(method, token, body, "not_found").await;
            assert!(msg.starts_with("workspace "), "{method}: {msg}");
        }
    }
    let mine = app
        .ok("WorkspaceService/ListWorkspaces", &alice, json!({}))
        .await;
    assert_eq!(mine["workspaces"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.ok("WorkspaceService/GetWorkspace", &bob, json!({"id": b_id}))
            .await["workspace"]["name"],
        "B"
    );
}

async fn redis_cache(url: &str, prefix: &str) -> std::sync::Arc<orbit_redis::RedisCache> {
    let cache =
        orbit_redis::RedisCache::connect(url, prefix, std::time::Duration::from_millis(100))
            .unwrap();
    let started = std::time::Instant::now();
    while !cache.is_connected() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "Redis at {url} is not reachable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    std::sync::Arc::new(cache)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_lifecycle_through_redis() {
    let Some(url) = orbit_tests::postgres::redis_url() else {
        return;
    };
    let stores = match support::postgres_stores().await {
        Some(pg) => pg,
        None => support::sqlite_stores().await,
    };
    let prefix = format!("orbit-api-{}:", std::process::id());
    let app = TestApp::new(stores, redis_cache(&url, &prefix).await).await;
    lifecycle(&app).await;
    users_and_tokens(&app).await;
    let stats = &app.app.services.cache.stats;
    assert!(
        stats.hits.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "Redis served hits"
    );
    assert_eq!(stats.errors.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_never_see_stale_membership() {
    let Some(url) = orbit_tests::postgres::redis_url() else {
        return;
    };
    let store = std::sync::Arc::new(orbit_memory::MemoryStore::new());
    let prefix = format!("orbit-pair-{}:", std::process::id());
    let stores = || orbit::Stores::from_one(store.clone(), "memory");
    let a = TestApp::new(stores(), redis_cache(&url, &prefix).await).await;
    let mut config = orbit::config::Config::embedded(support::tempdir("b"));
    config.max_body_bytes = 64 * 1024;
    let search = std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap());
    let parts = orbit::Parts {
        stores: stores(),
        cache: redis_cache(&url, &prefix).await,
        search,
        search_description: "test".into(),
        engine: None,
    };
    let b_app = orbit::App::from_parts(&config, parts);
    let b_router = b_app.router();
    let call_b = |method: &'static str, token: String, body: serde_json::Value| {
        let router = b_router.clone();
        async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post(format!("/orbit.v1.{method}"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }
    };
    let (bob_id, bob) = a.user("bob").await;
    let ws = a
        .ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "shared", "name": "Shared"}),
        )
        .await;
    let id = ws["workspace"]["id"].as_str().unwrap().to_owned();
    a.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": id, "user": "bob", "role": "ROLE_ADMIN"}),
    )
    .await;
    // Instance B caches bob's role and token...
    assert_eq!(
        call_b(
            "WorkspaceService/UpdateWorkspace",
            bob.clone(),
            json!({"id": id, "name": "By B"})
        )
        .await,
        200
    );
    // ...instance A demotes bob; B must refuse bob's next admin action at once.
    a.ok(
        "WorkspaceService/UpdateMemberRole",
        ADMIN,
        json!({"workspaceId": id, "userId": bob_id, "role": "ROLE_VIEWER"}),
    )
    .await;
    assert_eq!(
        call_b(
            "WorkspaceService/UpdateWorkspace",
            bob.clone(),
            json!({"id": id, "name": "Again"})
        )
        .await,
        403
    );
    // A removes bob: B no longer shows him the workspace.
    a.ok(
        "WorkspaceService/RemoveMember",
        ADMIN,
        json!({"workspaceId": id, "userId": bob_id}),
    )
    .await;
    assert_eq!(
        call_b(
            "WorkspaceService/GetWorkspace",
            bob.clone(),
            json!({"id": id})
        )
        .await,
        404
    );
    // Bob's token is revoked through A (by bob himself): B refuses it at once.
    let who = a.ok("AuthService/WhoAmI", &bob, json!({})).await;
    let token_id = who["tokenId"].as_str().unwrap().to_owned();
    assert_eq!(
        call_b("AuthService/WhoAmI", bob.clone(), json!({})).await,
        200
    );
    a.ok("AuthService/RevokeToken", &bob, json!({"id": token_id}))
        .await;
    assert_eq!(
        call_b("AuthService/WhoAmI", bob.clone(), json!({})).await,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_succeed_while_redis_is_down() {
    // Nothing listens on port 1: every cache operation fails, every request still succeeds
    // from the database, and the failures are counted.
    let cache = std::sync::Arc::new(
        orbit_redis::RedisCache::connect(
            "redis://127.0.0.1:1/",
            "down:",
            std::time::Duration::from_secs(60),
        )
        .unwrap(),
    );
    let app = TestApp::new(support::sqlite_stores().await, cache).await;
    lifecycle(&app).await;
    let errors = app
        .app
        .services
        .cache
        .stats
        .errors
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(errors > 10, "cache failures are counted: {errors}");
    let r = app
        .send(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains(&format!(
            "orbit_cache_operations_total{{backend=\"redis\",outcome=\"error\"}} {errors}"
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_mid_run_degrades_and_recovers() {
    let Some(_) = orbit_tests::postgres::redis_url() else {
        return;
    };
    // A Redis of our own, so that stopping it disturbs no other test.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = || {
        std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed by scripts/test.sh")
    };
    let mut redis = start();
    let url = format!("redis://127.0.0.1:{port}/");
    let app = TestApp::new(
        support::sqlite_stores().await,
        redis_cache(&url, "outage:").await,
    )
    .await;
    let stats = app.app.services.cache.stats.clone();
    use std::sync::atomic::Ordering::Relaxed;
    let ws = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "outage", "name": "Outage"}),
        )
        .await;
    let id = ws["workspace"]["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        app.ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
            .await;
    }
    assert!(stats.hits.load(Relaxed) > 0);
    assert_eq!(stats.errors.load(Relaxed), 0);

    redis.kill().unwrap();
    redis.wait().unwrap();
    for _ in 0..5 {
        let got = app
            .ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
            .await;
        assert_eq!(got["workspace"]["name"], "Outage");
    }
    app.ok(
        "WorkspaceService/UpdateWorkspace",
        ADMIN,
        json!({"id": id, "name": "During outage"}),
    )
    .await;
    assert!(stats.errors.load(Relaxed) > 0, "the outage is counted");

    let mut redis = start();
    let hits_before = stats.hits.load(Relaxed);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while stats.hits.load(Relaxed) <= hits_before + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the cache is used again after Redis returns"
        );
        let got = app
            .ok("WorkspaceService/GetWorkspace", ADMIN, json!({"id": id}))
            .await;
        assert_eq!(
            got["workspace"]["name"], "During outage",
            "never a stale value from before the outage"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    redis.kill().unwrap();
    redis.wait().unwrap();
}
