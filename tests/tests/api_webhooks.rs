//! Webhooks end to end over the real router (SQLite): GitHub deliveries signed with a real
//! HMAC-SHA256 computed here, GitLab deliveries with the secret token; refusals (bad or
//! missing signature, wrong token, oversized body, unknown connection); idempotency (the
//! same delivery twice changes nothing); a push touching `catalog-info.yaml` in a real git
//! repository (git CLI, a local bare repository) updates the catalog's owner and lifecycle;
//! every log line at debug level is captured and holds no secret.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use orbit::Stores;
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{ADMIN, Reply, TestApp};

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

async fn connection(app: &TestApp, ws: &str, provider: &str) -> String {
    app.ok(
        "GitHostService/CreateGitHostConnection",
        ADMIN,
        json!({"workspaceId": ws, "name": format!("{provider}-acme"), "provider": provider,
               "baseUrl": "http://127.0.0.1:9", "namespace": "acme",
               "token": "glpat-ConnectionTokenValue0123456789"}),
    )
    .await["connection"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_secret(app: &TestApp, token: Option<&str>, ws: &str, conn: &str) -> Reply {
    app.call(
        "GitHostService/CreateWebhookSecret",
        token,
        json!({"workspaceId": ws, "connectionId": conn}),
    )
    .await
}

async fn secret(app: &TestApp, ws: &str, conn: &str) -> String {
    let reply = create_secret(app, Some(ADMIN), ws, conn).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let v = reply.json();
    let path = v["webhookPath"].as_str().unwrap();
    assert!(
        [
            format!("/webhooks/github/{conn}"),
            format!("/webhooks/gitlab/{conn}")
        ]
        .iter()
        .any(|p| p == path),
        "{path}"
    );
    v["secret"].as_str().unwrap().to_owned()
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn github(
    app: &TestApp,
    conn: &str,
    event: &str,
    delivery: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Reply {
    let mut req = Request::post(format!("/webhooks/github/{conn}"))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery);
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    app.send(req.body(Body::from(body.to_vec())).unwrap()).await
}

async fn gitlab(
    app: &TestApp,
    conn: &str,
    token: Option<&str>,
    uuid: Option<&str>,
    body: &[u8],
) -> Reply {
    let mut req = Request::post(format!("/webhooks/gitlab/{conn}"))
        .header("content-type", "application/json")
        .header("x-gitlab-event", "Push Hook");
    if let Some(t) = token {
        req = req.header("x-gitlab-token", t);
    }
    if let Some(u) = uuid {
        req = req.header("x-gitlab-event-uuid", u);
    }
    app.send(req.body(Body::from(body.to_vec())).unwrap()).await
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn catalog_info(owner: &str, lifecycle: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  \
         description: Takes payments\n  tags: [billing, rust]\nspec:\n  type: service\n  \
         lifecycle: {lifecycle}\n  owner: {owner}\n  consumesApis: [api:default/ledger-api]\n"
    )
}

async fn get_repo(app: &TestApp, ws: &str, id: &str) -> Value {
    app.ok(
        "RepositoryService/GetRepository",
        ADMIN,
        json!({"workspaceId": ws, "id": id}),
    )
    .await["repository"]
        .clone()
}

// ---- tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_push_touching_catalog_info_updates_the_catalog_once() {
    capture_logs();
    let dir = support::tempdir("webhooks-github");
    let app = sqlite_app(&dir).await;
    let ws = workspace(&app, "acme").await;
    let conn = connection(&app, &ws, "github").await;

    // A real repository: a bare remote and a clone that pushes to it.
    let bare = dir.join("payments.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        work.join("catalog-info.yaml"),
        catalog_info("team-a", "experimental"),
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    let remote = format!("file://{}", bare.display());
    git(&work, &["push", "-q", &remote, "main"]);

    let repo = app
        .ok(
            "RepositoryService/RegisterRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "payments", "owner": "team-a",
                   "lifecycle": "experimental", "remoteUrl": remote}),
        )
        .await["repository"]
        .clone();
    let repo_id = repo["id"].as_str().unwrap().to_owned();

    // The secret is shown once; only admins create it; the URL names the connection.
    let (_, member) = app.user("bob").await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "bob", "role": "ROLE_MEMBER"}),
    )
    .await;
    assert_eq!(
        create_secret(&app, Some(&member), &ws, &conn).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        create_secret(&app, None, &ws, &conn).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        create_secret(&app, Some(ADMIN), &ws, "no-such-connection")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let secret = secret(&app, &ws, &conn).await;

    // ping: verified, nothing to do.
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let reply = github(&app, &conn, "ping", "p-1", Some(&sign(&secret, ping)), ping).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);

    // The push changing catalog-info.yaml.
    std::fs::write(
        work.join("catalog-info.yaml"),
        catalog_info("team-payments", "production"),
    )
    .unwrap();
    git(&work, &["commit", "-q", "-am", "owner: team-payments"]);
    git(&work, &["push", "-q", &remote, "main"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    let push = json!({
        "ref": "refs/heads/main", "before": "0000", "after": head,
        "repository": {"name": "payments", "full_name": "acme/payments",
                       "clone_url": remote,
                       "html_url": "https://github.com/acme/payments", "default_branch": "main"},
        "commits": [{"id": head, "added": [], "removed": [], "modified": ["catalog-info.yaml"]}],
        "head_commit": {"id": head, "added": [], "removed": [], "modified": ["catalog-info.yaml"]}
    })
    .to_string();
    let body = push.as_bytes();

    // Refusals first: nothing of them reaches the catalog.
    let reply = github(&app, &conn, "push", "d-1", None, body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("not signed")
    );
    let wrong = sign("not-the-secret", body);
    let reply = github(&app, &conn, "push", "d-1", Some(&wrong), body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = github(&app, &conn, "push", "d-1", Some("sha256=zz"), body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // A signature for another body does not pass for this one.
    let reply = github(&app, &conn, "push", "d-1", Some(&sign(&secret, ping)), body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = github(
        &app,
        "no-such-connection",
        "push",
        "d-1",
        Some(&sign(&secret, body)),
        body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // A GitHub connection's webhook is not a GitLab one.
    let reply = gitlab(&app, &conn, Some(&secret), Some("d-1"), body).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let big = vec![b' '; 2 * 1024 * 1024];
    let reply = github(
        &app,
        &conn,
        "push",
        "d-big",
        Some(&sign(&secret, &big)),
        &big,
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    app.app.services.webhooks.drain_refreshes().await.unwrap();
    let unchanged = get_repo(&app, &ws, &repo_id).await;
    assert_eq!(unchanged["owner"], "team-a");

    // The signed delivery: answered at once, the catalog follows the pushed file.
    let started = Instant::now();
    let reply = github(&app, &conn, "push", "d-1", Some(&sign(&secret, body)), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()["status"], "processed");
    assert_eq!(reply.json()["repository"], "payments");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "answered in {:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let updated = loop {
        let r = get_repo(&app, &ws, &repo_id).await;
        if r["owner"] == "team-payments" || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(updated["owner"], "team-payments", "{updated}");
    assert_eq!(updated["lifecycle"], "production");
    assert_eq!(updated["description"], "Takes payments");
    assert_eq!(updated["topics"], json!(["billing", "rust"]));
    assert_eq!(updated["consumesApis"], json!(["ledger-api"]));
    assert_eq!(updated["defaultBranch"], "main");

    // Someone edits the entry by hand; the same delivery again changes nothing.
    app.ok(
        "RepositoryService/UpdateRepository",
        ADMIN,
        json!({"workspaceId": ws, "id": repo_id, "owner": "hand-edited"}),
    )
    .await;
    let reply = github(&app, &conn, "push", "d-1", Some(&sign(&secret, body)), body).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "already processed");
    assert_eq!(
        app.app.services.webhooks.drain_refreshes().await.unwrap(),
        0
    );
    assert_eq!(get_repo(&app, &ws, &repo_id).await["owner"], "hand-edited");

    // A repository the catalog does not know: verified, recorded, ignored with a note.
    let other = json!({"ref": "refs/heads/main", "after": head,
        "repository": {"name": "unknown", "full_name": "acme/unknown", "default_branch": "main"},
        "commits": []})
    .to_string();
    let reply = github(
        &app,
        &conn,
        "push",
        "d-2",
        Some(&sign(&secret, other.as_bytes())),
        other.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("not in the catalog")
    );

    // A push deleting catalog-info.yaml: what only the file said (the consumed API) is
    // dropped; the hand-edited owner stays.
    git(&work, &["rm", "-q", "catalog-info.yaml"]);
    std::fs::write(work.join("README.md"), "# payments\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "no catalog-info.yaml"]);
    git(&work, &["push", "-q", &remote, "main"]);
    let head = git(&work, &["rev-parse", "HEAD"]);
    let removal = json!({
        "ref": "refs/heads/main", "after": head,
        "repository": {"name": "payments", "full_name": "acme/payments", "clone_url": remote,
                       "default_branch": "main"},
        "commits": [{"id": head, "added": ["README.md"], "removed": ["catalog-info.yaml"], "modified": []}]
    })
    .to_string();
    let reply = github(
        &app,
        &conn,
        "push",
        "d-3",
        Some(&sign(&secret, removal.as_bytes())),
        removal.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    app.app.services.webhooks.drain_refreshes().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let forgotten = loop {
        let r = get_repo(&app, &ws, &repo_id).await;
        if r.get("consumesApis").is_none_or(|l| l == &json!([])) || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        forgotten
            .get("consumesApis")
            .is_none_or(|l| l == &json!([])),
        "{forgotten}"
    );
    assert_eq!(forgotten["owner"], "hand-edited");

    // The logs say what was refused, and never hold the secret.
    let logs = logs_text();
    assert!(logs.contains("webhook refused"), "refusals are logged");
    assert!(!logs.contains(&secret), "a webhook secret reached the logs");
    assert!(
        !logs.contains("Keep it logically awesome"),
        "a body reached the logs"
    );
    // At rest the secret is sealed: the database file does not contain it.
    let db = std::fs::read(dir.join("orbit.db")).unwrap();
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored in clear"
    );

    // The connection list says a secret is set (never what it is).
    let list = app
        .ok(
            "GitHostService/ListGitHostConnections",
            ADMIN,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(list["connections"][0]["webhookSecretSet"], true, "{list}");
    assert!(!list.to_string().contains(&secret));

    // Deleting the connection takes its webhook along: deliveries are 404 from then on.
    app.ok(
        "GitHostService/DeleteGitHostConnection",
        ADMIN,
        json!({"workspaceId": ws, "id": conn}),
    )
    .await;
    let reply = github(&app, &conn, "ping", "p-9", Some(&sign(&secret, ping)), ping).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    let stored = app
        .app
        .services
        .webhooks
        .with_secret_flags(vec![orbit_core::GitHostConnection {
            id: conn.clone(),
            workspace_id: orbit_core::WorkspaceId::new(&ws),
            name: "gone".into(),
            provider: orbit_core::GitProvider::GitHub,
            base_url: String::new(),
            namespace: String::new(),
            token_set: false,
            token_last4: String::new(),
            created_at: orbit_core::Timestamp(0),
            updated_at: orbit_core::Timestamp(0),
        }])
        .await
        .unwrap();
    assert!(
        !stored[0].1,
        "the sealed secret is deleted with its connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_push_with_the_token_is_accepted_once() {
    capture_logs();
    let dir = support::tempdir("webhooks-gitlab");
    let app = sqlite_app(&dir).await;
    let ws = workspace(&app, "platform").await;
    let conn = connection(&app, &ws, "gitlab").await;
    let remote = "https://gitlab.example.com/platform/billing.git";
    let repo_id = app
        .ok(
            "RepositoryService/RegisterRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "billing", "owner": "team-b",
                   "remoteUrl": remote, "defaultBranch": "master"}),
        )
        .await["repository"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = secret(&app, &ws, &conn).await;
    let body = json!({"object_kind": "push", "ref": "refs/heads/main", "after": "abc123",
        "checkout_sha": "abc123",
        "project": {"name": "billing", "path_with_namespace": "platform/billing",
                    "git_http_url": remote, "web_url": "https://gitlab.example.com/platform/billing",
                    "default_branch": "main"},
        "commits": [{"id": "abc123", "added": ["src/lib.rs"], "modified": [], "removed": []}]})
    .to_string();
    let body = body.as_bytes();

    assert_eq!(
        gitlab(&app, &conn, None, Some("u-1"), body).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        gitlab(&app, &conn, Some("wrong-token"), Some("u-1"), body)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let reply = gitlab(&app, "nope", Some(&secret), Some("u-1"), body).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let reply = gitlab(&app, &conn, Some(&secret), Some("u-1"), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()["status"], "processed");
    app.app.services.webhooks.drain_refreshes().await.unwrap();
    assert_eq!(get_repo(&app, &ws, &repo_id).await["defaultBranch"], "main");

    let reply = gitlab(&app, &conn, Some(&secret), Some("u-1"), body).await;
    assert_eq!(reply.json()["status"], "already processed");
    // Without an event UUID the body identifies the delivery.
    let reply = gitlab(&app, &conn, Some(&secret), None, body).await;
    assert_eq!(reply.json()["status"], "processed");
    let reply = gitlab(&app, &conn, Some(&secret), None, body).await;
    assert_eq!(reply.json()["status"], "already processed");

    // A new secret replaces the old one at once.
    let fresh = self::secret(&app, &ws, &conn).await;
    assert_ne!(fresh, secret);
    let reply = gitlab(&app, &conn, Some(&secret), Some("u-9"), body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let logs = logs_text();
    assert!(
        !logs.contains(&secret) && !logs.contains(&fresh),
        "a webhook secret reached the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_the_remote_cannot_serve_yet_stays_pending_until_it_can() {
    capture_logs();
    let dir = support::tempdir("webhooks-outbox");
    let app = sqlite_app(&dir).await;
    let ws = workspace(&app, "outbox").await;
    let conn = connection(&app, &ws, "github").await;
    let bare = dir.join("ledger.git");
    let remote = format!("file://{}", bare.display());
    let repo_id = app
        .ok(
            "RepositoryService/RegisterRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "ledger", "owner": "team-a", "remoteUrl": remote}),
        )
        .await["repository"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = secret(&app, &ws, &conn).await;
    let body = json!({"ref": "refs/heads/main", "after": "f00d",
        "repository": {"name": "ledger", "full_name": "acme/ledger", "clone_url": remote,
                       "default_branch": "main"},
        "commits": [{"id": "f00d", "added": ["catalog-info.yaml"], "modified": [], "removed": []}]})
    .to_string();
    let reply = github(
        &app,
        &conn,
        "push",
        "o-1",
        Some(&sign(&secret, body.as_bytes())),
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.json()["status"], "processed");

    // The remote does not exist yet: the refresh fails and stays pending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.app.services.webhooks.drain_refreshes().await.unwrap(),
        0
    );
    assert_eq!(get_repo(&app, &ws, &repo_id).await["owner"], "team-a");

    // Once the remote serves the file, the next drain applies it, and it is done.
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        work.join("catalog-info.yaml"),
        catalog_info("team-ledger", "deprecated"),
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "catalog"]);
    git(&work, &["push", "-q", &remote, "main"]);
    assert_eq!(
        app.app.services.webhooks.drain_refreshes().await.unwrap(),
        1
    );
    let repo = get_repo(&app, &ws, &repo_id).await;
    assert_eq!(repo["owner"], "team-ledger");
    assert_eq!(repo["lifecycle"], "deprecated");
    assert_eq!(
        app.app.services.webhooks.drain_refreshes().await.unwrap(),
        0
    );
}
