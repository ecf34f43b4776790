//! Git hosts end to end: git host connections over the Connect API (tokens encrypted at
//! rest, never returned, never logged — checked by capturing every log line at debug level
//! and reading the SQLite file), Orbit's own git server driven by the real `git` CLI over
//! HTTP with API tokens (members push, viewers only clone, outsiders see nothing), and a
//! knowledge sync that pushes to a remote needing credentials through a stored connection.

mod support;

use orbit::{App, Stores};
use orbit_core::WorkspaceId;
use orbit_ports::{NewHostedRepo, RepoVisibility};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{ADMIN, TestApp};

// ---- every log line of this test binary, at debug level ----

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buf
    })
    .clone()
}

fn logs_text() -> String {
    String::from_utf8_lossy(&capture_logs().lock().unwrap()).into_owned()
}

// ---- helpers ----

async fn sqlite_app(dir: &Path) -> TestApp {
    let store = orbit_sqlite::SqliteStore::open_file(&dir.join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    TestApp::new(
        Stores::from_one(Arc::new(store), "sqlite"),
        Arc::new(orbit_memory::NoCache),
    )
    .await
}

async fn workspace(app: &TestApp, slug: &str) -> String {
    app.ok(
        "WorkspaceService/CreateWorkspace",
        ADMIN,
        json!({"slug": slug, "name": slug}),
    )
    .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn member(app: &TestApp, ws: &str, login: &str, role: &str) -> String {
    let (_, token) = app.user(login).await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": login, "role": role}),
    )
    .await;
    token
}

/// Serves the app's router on a loopback port; returns its base URL.
async fn serve(app: &App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// Runs the real `git` with `token` as the HTTP password (any user name), handed over by a
/// credential helper reading the environment. Returns (success, stdout + stderr).
async fn git(dir: &Path, token: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut cmd = tokio::process::Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"]);
    if let Some(token) = token {
        cmd.args([
            "-c",
            "credential.helper=",
            "-c",
            "credential.helper=!f() { test \"$1\" = get && echo username=anyone && echo \"password=$TEST_TOKEN\"; }; f",
        ])
        .env("TEST_TOKEN", token);
    }
    let out = cmd.args(args).output().await.unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn tempdir(tag: &str) -> PathBuf {
    support::tempdir(tag)
}

// ---- tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_keep_tokens_secret_and_only_admins_manage_them() {
    let logs = capture_logs();
    let dir = tempdir("githost-api");
    let app = sqlite_app(&dir).await;
    let ws = workspace(&app, "acme").await;
    let bob = member(&app, &ws, "bob", "ROLE_MEMBER").await;
    let (_, outsider) = app.user("olga").await;
    let token = "ghp_VerySecretTokenValue0123456789WXYZ";
    let create = json!({"workspaceId": ws, "name": "github-acme", "provider": "github", "namespace": "acme", "token": token});

    // Owners and admins only; a member is refused, an outsider does not see the workspace.
    app.fails(
        "GitHostService/CreateGitHostConnection",
        &bob,
        create.clone(),
        "permission_denied",
    )
    .await;
    app.fails(
        "GitHostService/CreateGitHostConnection",
        &outsider,
        create.clone(),
        "not_found",
    )
    .await;

    let reply = app
        .call(
            "GitHostService/CreateGitHostConnection",
            Some(ADMIN),
            create.clone(),
        )
        .await;
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(!body.contains(token), "the token is never returned: {body}");
    let c = reply.json()["connection"].clone();
    assert_eq!(c["provider"], "github");
    assert_eq!(c["baseUrl"], "https://api.github.com");
    assert_eq!(c["namespace"], "acme");
    assert_eq!(c["tokenSet"], true);
    assert_eq!(c["tokenLast4"], "WXYZ");
    let id = c["id"].as_str().unwrap().to_owned();

    // Bad input, each with the field named.
    for (patch, code, needle) in [
        (
            json!({"provider": "bitbucket"}),
            "invalid_argument",
            "provider",
        ),
        (json!({"provider": "orbit"}), "invalid_argument", "provider"),
        (json!({"token": ""}), "invalid_argument", "token"),
        (json!({"token": "two words"}), "invalid_argument", "token"),
        (
            json!({"baseUrl": "https://user:pw@example.com"}),
            "invalid_argument",
            "base_url",
        ),
        (
            json!({"baseUrl": "ftp://example.com"}),
            "invalid_argument",
            "base_url",
        ),
        (
            json!({"namespace": "../etc"}),
            "invalid_argument",
            "namespace",
        ),
        (json!({"name": ""}), "invalid_argument", "name"),
        (json!({}), "already_exists", "github-acme"),
    ] {
        let mut req = create.clone();
        for (k, v) in patch.as_object().unwrap() {
            req[k] = v.clone();
        }
        let msg = app
            .fails("GitHostService/CreateGitHostConnection", ADMIN, req, code)
            .await;
        assert!(msg.contains(needle), "{msg}");
        assert!(!msg.contains(token));
    }

    let list = app
        .ok(
            "GitHostService/ListGitHostConnections",
            ADMIN,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(token));
    app.fails(
        "GitHostService/ListGitHostConnections",
        &bob,
        json!({"workspaceId": ws}),
        "permission_denied",
    )
    .await;

    // Rotating the token: a new last4, the old value gone from the database.
    let rotated = "glpat-AnotherSecretToken987654321ABCD";
    let updated = app
        .ok(
            "GitHostService/UpdateGitHostConnection",
            ADMIN,
            json!({"workspaceId": ws, "id": id, "token": rotated, "namespace": "acme-platform"}),
        )
        .await;
    assert_eq!(updated["connection"]["tokenLast4"], "ABCD");
    assert_eq!(updated["connection"]["namespace"], "acme-platform");
    assert!(!updated.to_string().contains(rotated));
    app.fails(
        "GitHostService/UpdateGitHostConnection",
        ADMIN,
        json!({"workspaceId": ws, "id": "missing", "name": "x"}),
        "not_found",
    )
    .await;

    // The stored token opens to the new value, through the service (what adapters get).
    let wsid = WorkspaceId::new(ws.clone());
    let remote = app
        .app
        .services
        .git_hosts
        .remote_with_connection(&wsid, &id, "https://github.com/acme/x.git")
        .await
        .unwrap();
    let creds = remote.credentials.unwrap();
    assert_eq!(creds.username, "x-access-token");
    assert_eq!(creds.password.expose(), rotated);

    // Encrypted at rest: neither token appears in the database files.
    let mut db = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        db.extend(std::fs::read(entry.path()).unwrap_or_default());
    }
    let db = String::from_utf8_lossy(&db);
    assert!(db.contains("github-acme"), "the row is in the files read");
    assert!(!db.contains(token) && !db.contains(rotated));

    app.ok(
        "GitHostService/DeleteGitHostConnection",
        ADMIN,
        json!({"workspaceId": ws, "id": id}),
    )
    .await;
    app.fails(
        "GitHostService/DeleteGitHostConnection",
        ADMIN,
        json!({"workspaceId": ws, "id": id}),
        "not_found",
    )
    .await;

    // Never logged: every line this binary logged at debug level, token-free.
    let text = logs_text();
    assert!(
        text.contains("git host connection created"),
        "the capture works: {} bytes",
        logs.lock().unwrap().len()
    );
    assert!(!text.contains(token), "a token was logged");
    assert!(!text.contains(rotated), "a token was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orbit_serves_git_over_http_to_members_with_api_tokens() {
    capture_logs();
    let app = TestApp::memory().await;
    let ws = workspace(&app, "acme").await;
    let bob = member(&app, &ws, "bob", "ROLE_MEMBER").await;
    let carol = member(&app, &ws, "carol", "ROLE_VIEWER").await;
    let (_, dave) = app.user("dave").await;
    let wsid = WorkspaceId::new(ws.clone());
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&wsid, None)
        .await
        .unwrap();
    let created = host
        .create_repo(&NewHostedRepo {
            name: "payments".into(),
            description: "Payments".into(),
            visibility: RepoVisibility::Private,
            default_branch: "main".into(),
        })
        .await
        .unwrap();
    assert!(created.repo.clone_url.ends_with("/git/acme/payments.git"));
    let base = serve(&app.app).await;
    let url = format!("{base}/git/acme/payments.git");
    let work = tempdir("git-http");

    // A member clones the empty repository, commits and pushes.
    let (ok, out) = git(&work, Some(&bob), &["clone", &url, "bob"]).await;
    assert!(ok, "{out}");
    let repo = work.join("bob");
    std::fs::write(repo.join("README.md"), "# Payments\n").unwrap();
    assert!(git(&repo, None, &["add", "README.md"]).await.0);
    assert!(git(&repo, None, &["commit", "-q", "-m", "first"]).await.0);
    let (ok, out) = git(&repo, Some(&bob), &["push", "origin", "HEAD:main"]).await;
    assert!(ok, "a member pushes: {out}");
    let (_, head) = git(&repo, None, &["rev-parse", "HEAD"]).await;

    // A viewer clones and sees the commit, but cannot push.
    let (ok, out) = git(&work, Some(&carol), &["clone", &url, "carol"]).await;
    assert!(ok, "{out}");
    let (_, carol_head) = git(&work.join("carol"), None, &["rev-parse", "HEAD"]).await;
    assert_eq!(carol_head.trim(), head.trim());
    let carol_repo = work.join("carol");
    std::fs::write(carol_repo.join("x.txt"), "x").unwrap();
    assert!(git(&carol_repo, None, &["add", "x.txt"]).await.0);
    assert!(
        git(&carol_repo, None, &["commit", "-q", "-m", "nope"])
            .await
            .0
    );
    let (ok, out) = git(&carol_repo, Some(&carol), &["push", "origin", "HEAD:main"]).await;
    assert!(!ok, "a viewer cannot push");
    assert!(out.contains("403"), "{out}");

    // An outsider, a wrong token and no token at all get nothing.
    let (ok, out) = git(&work, Some(&dave), &["clone", &url, "dave"]).await;
    assert!(!ok);
    assert!(out.contains("not found") || out.contains("404"), "{out}");
    let (ok, out) = git(
        &work,
        Some("orbit_wrong-token-0000000000"),
        &["clone", &url, "wrong"],
    )
    .await;
    assert!(!ok);
    assert!(out.contains("Authentication failed"), "{out}");
    let (ok, _) = git(&work, None, &["clone", &url, "anonymous"]).await;
    assert!(!ok);

    // The same answers over plain HTTP: a Basic challenge, and no difference between a
    // missing workspace and one the caller is not in.
    let reply = app
        .send(
            axum::http::Request::get("/git/acme/payments.git/info/refs?service=git-upload-pack")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let basic = |t: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("x:{t}"))
        )
    };
    let get = |path: &str, t: &str| {
        axum::http::Request::get(path)
            .header("authorization", basic(t))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let hidden = app
        .send(get(
            "/git/acme/payments.git/info/refs?service=git-upload-pack",
            &dave,
        ))
        .await;
    let missing = app
        .send(get(
            "/git/nowhere/payments.git/info/refs?service=git-upload-pack",
            &dave,
        ))
        .await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        (missing.status, missing.body.clone()),
        (hidden.status, hidden.body)
    );
    let no_repo = app
        .send(get(
            "/git/acme/nope.git/info/refs?service=git-upload-pack",
            &bob,
        ))
        .await;
    assert_eq!(no_repo.status, 404);
    let traversal = app
        .send(get(
            "/git/acme/..%2F..%2Fetc.git/info/refs?service=git-upload-pack",
            &bob,
        ))
        .await;
    assert_eq!(traversal.status, 404);
    let not_protocol = app.send(get("/git/acme/payments.git/config", &bob)).await;
    assert_eq!(not_protocol.status, 404);

    let text = logs_text();
    for t in [&bob, &carol, &dave] {
        assert!(!text.contains(t.as_str()), "an API token was logged");
    }
}

async fn wait_run(app: &TestApp, ws: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = app
            .ok(
                "WorkflowService/GetWorkflow",
                ADMIN,
                json!({"workspaceId": ws, "id": id}),
            )
            .await;
        let status = r["workflow"]["status"].as_str().unwrap_or("").to_owned();
        if status == "WORKFLOW_STATUS_SUCCEEDED" || status == "WORKFLOW_STATUS_FAILED" {
            return r["workflow"].clone();
        }
        assert!(Instant::now() < deadline, "{r}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_sync_pushes_to_an_authenticated_remote_through_a_connection() {
    capture_logs();
    let app = TestApp::memory().await;
    let ws = workspace(&app, "docs").await;
    let bot = member(&app, &ws, "syncbot", "ROLE_MEMBER").await;
    let wsid = WorkspaceId::new(ws.clone());
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&wsid, None)
        .await
        .unwrap();
    host.create_repo(&NewHostedRepo {
        name: "handbook".into(),
        description: String::new(),
        visibility: RepoVisibility::Private,
        default_branch: "main".into(),
    })
    .await
    .unwrap();
    let base = serve(&app.app).await;
    let remote = format!("{base}/git/docs/handbook.git");

    let space = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "handbook", "name": "Handbook"}),
        )
        .await["space"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        "KnowledgeService/CreatePage",
        ADMIN,
        json!({"workspaceId": ws, "spaceId": space, "title": "Welcome", "body": "Hello."}),
    )
    .await;

    // Without credentials the remote refuses: the run fails.
    let sync = |connection: &str| json!({"workspaceId": ws, "spaceId": space, "direction": "export", "remote": remote, "path": "docs", "connectionId": connection});
    let r = app.ok("KnowledgeService/SyncSpace", ADMIN, sync("")).await;
    let run = wait_run(&app, &ws, r["workflowId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "WORKFLOW_STATUS_FAILED", "{run}");

    // A connection whose "API" is this server and whose token is the bot's API token.
    let c = app
        .ok(
            "GitHostService/CreateGitHostConnection",
            ADMIN,
            json!({"workspaceId": ws, "name": "self", "provider": "gitlab", "baseUrl": base, "token": bot}),
        )
        .await;
    let id = c["connection"]["id"].as_str().unwrap().to_owned();

    // The token goes only to the connection's host; unknown connections are refused.
    let mut elsewhere = sync(&id);
    elsewhere["remote"] = json!("http://127.0.0.2:9/x.git");
    let msg = app
        .fails(
            "KnowledgeService/SyncSpace",
            ADMIN,
            elsewhere,
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("host of the connection"), "{msg}");
    app.fails(
        "KnowledgeService/SyncSpace",
        ADMIN,
        sync("no-such-connection"),
        "not_found",
    )
    .await;

    let r = app.ok("KnowledgeService/SyncSpace", ADMIN, sync(&id)).await;
    let run = wait_run(&app, &ws, r["workflowId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "WORKFLOW_STATUS_SUCCEEDED", "{run}");
    assert!(
        !run["input"].as_str().unwrap().contains(&bot),
        "the run records only the connection id"
    );
    let result: Value = serde_json::from_str(run["result"].as_str().unwrap()).unwrap();
    let commit = result["commit"].as_str().unwrap().to_owned();

    // The commit is really on Orbit's git server: clone it with the bot's token.
    let work = tempdir("sync-clone");
    let (ok, out) = git(&work, Some(&bot), &["clone", &remote, "clone"]).await;
    assert!(ok, "{out}");
    let (_, head) = git(&work.join("clone"), None, &["rev-parse", "HEAD"]).await;
    assert_eq!(head.trim(), commit);
    let page = std::fs::read_to_string(work.join("clone/docs/welcome.md")).unwrap();
    assert!(page.contains("Hello."), "{page}");

    // And back: an import through the same connection.
    let space2 = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "mirror", "name": "Mirror"}),
        )
        .await["space"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut import = sync(&id);
    import["spaceId"] = json!(space2);
    import["direction"] = json!("import");
    let r = app.ok("KnowledgeService/SyncSpace", ADMIN, import).await;
    let run = wait_run(&app, &ws, r["workflowId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "WORKFLOW_STATUS_SUCCEEDED", "{run}");
    let pages = app
        .ok(
            "KnowledgeService/ListPages",
            ADMIN,
            json!({"workspaceId": ws, "spaceId": space2}),
        )
        .await;
    assert!(pages.to_string().contains("Welcome"), "{pages}");

    assert!(
        !logs_text().contains(&bot),
        "the connection's token was logged"
    );
}
