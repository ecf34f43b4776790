//! The repository catalog through the Connect API, on every store: registering, filters,
//! sorting and pagination, updates, archiving, search, details read from a real git
//! repository, error codes and workspace isolation.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::{ADMIN, TestApp, all_stores};

async fn workspace(app: &TestApp, token: &str, slug: &str) -> String {
    let ws = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            token,
            json!({"slug": slug, "name": slug}),
        )
        .await;
    ws["workspace"]["id"].as_str().unwrap().to_owned()
}

fn names(v: &Value) -> Vec<String> {
    v["repositories"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn register(app: &TestApp, token: &str, ws: &str, body: Value) -> Value {
    let mut body = body;
    body["workspaceId"] = json!(ws);
    app.ok("RepositoryService/RegisterRepository", token, body)
        .await["repository"]
        .clone()
}

async fn list(app: &TestApp, token: &str, ws: &str, filter: Value) -> Value {
    let mut body = filter;
    body["workspaceId"] = json!(ws);
    app.ok("RepositoryService/ListRepositories", token, body)
        .await
}

async fn search(app: &TestApp, token: &str, ws: &str, query: &str) -> Vec<(String, String)> {
    let r = app
        .ok(
            "SearchService/Search",
            token,
            json!({"workspaceId": ws, "query": query, "kinds": ["repository"]}),
        )
        .await;
    r["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    (
                        h["kind"].as_str().unwrap().to_owned(),
                        h["title"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn scenario(app: &TestApp) {
    let ws = workspace(app, ADMIN, "platform").await;
    let other = workspace(app, ADMIN, "elsewhere").await;
    let (_, bob) = app.user("bob").await;
    let (_, carol) = app.user("carol").await;
    let (_, dave) = app.user("dave").await;
    for (user, role) in [("bob", "ROLE_MEMBER"), ("carol", "ROLE_VIEWER")] {
        app.ok(
            "WorkspaceService/AddMember",
            ADMIN,
            json!({"workspaceId": ws, "user": user, "role": role}),
        )
        .await;
    }

    // Register: defaults filled in, topics normalised.
    let payments = register(
        app,
        &bob,
        &ws,
        json!({"name": "payments-api", "description": "Takes the money", "owner": "team-payments",
               "language": "Rust", "topics": ["Backend", "api", "api"], "lifecycle": "production",
               "remoteUrl": "https://git.example.com/payments-api.git"}),
    )
    .await;
    assert_eq!(payments["topics"], json!(["api", "backend"]));
    assert_eq!(payments["visibility"], "internal");
    assert_eq!(payments["defaultBranch"], "main");
    assert_eq!(payments["source"], "manual");
    assert!(
        payments["archived"].is_null(),
        "false is omitted in proto3 JSON"
    );
    let payments_id = payments["id"].as_str().unwrap().to_owned();
    register(
        app,
        &bob,
        &ws,
        json!({"name": "web-shop", "owner": "team-web", "language": "TypeScript",
               "topics": ["frontend"], "visibility": "public", "description": "The storefront"}),
    )
    .await;
    register(
        app,
        &bob,
        &ws,
        json!({"name": "ledger", "owner": "team-payments", "language": "rust",
               "topics": ["backend"], "lifecycle": "experimental", "visibility": "private"}),
    )
    .await;

    // Codes: duplicates (regardless of case), bad fields, viewers, strangers.
    let msg = app
        .fails(
            "RepositoryService/RegisterRepository",
            &bob,
            json!({"workspaceId": ws, "name": "Payments-API", "owner": "x"}),
            "already_exists",
        )
        .await;
    assert!(msg.contains("Payments-API"), "{msg}");
    let msg = app
        .fails(
            "RepositoryService/RegisterRepository",
            &bob,
            json!({"workspaceId": ws, "name": "../etc", "owner": "x"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.starts_with("name may contain only"), "{msg}");
    let msg = app
        .fails(
            "RepositoryService/RegisterRepository",
            &bob,
            json!({"workspaceId": ws, "name": "ok", "owner": ""}),
            "invalid_argument",
        )
        .await;
    assert!(msg.starts_with("owner is required"), "{msg}");
    let msg = app
        .fails(
            "RepositoryService/RegisterRepository",
            &bob,
            json!({"workspaceId": ws, "name": "ok", "owner": "x", "lifecycle": "retired"}),
            "invalid_argument",
        )
        .await;
    assert!(
        msg.contains("experimental, production, deprecated"),
        "{msg}"
    );
    app.fails(
        "RepositoryService/RegisterRepository",
        &bob,
        json!({"workspaceId": ws, "name": "ok", "owner": "x", "remoteUrl": "https://me:secret@host/x.git"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "RepositoryService/RegisterRepository",
        &carol,
        json!({"workspaceId": ws, "name": "viewer-made", "owner": "x"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "RepositoryService/ListRepositories",
        &dave,
        json!({"workspaceId": ws}),
        "not_found",
    )
    .await;
    app.fails(
        "RepositoryService/GetRepository",
        &bob,
        json!({"workspaceId": ws, "id": "no-such-repo"}),
        "not_found",
    )
    .await;
    app.fails(
        "RepositoryService/GetRepository",
        &bob,
        json!({"workspaceId": ws}),
        "invalid_argument",
    )
    .await;

    // Get by id and by name (case-insensitive); viewers read.
    let got = app
        .ok(
            "RepositoryService/GetRepository",
            &carol,
            json!({"workspaceId": ws, "name": "PAYMENTS-api"}),
        )
        .await;
    assert_eq!(got["repository"]["id"], payments_id.as_str());
    assert!(got["details"].is_null());

    // Lists: filters, sorting, pagination.
    let all = list(app, &carol, &ws, json!({})).await;
    assert_eq!(names(&all), ["ledger", "payments-api", "web-shop"]);
    let by_owner = list(app, &carol, &ws, json!({"owner": "team-payments"})).await;
    assert_eq!(names(&by_owner), ["ledger", "payments-api"]);
    let by_lang = list(app, &carol, &ws, json!({"language": "RUST"})).await;
    assert_eq!(names(&by_lang), ["ledger", "payments-api"]);
    let by_topic = list(app, &carol, &ws, json!({"topic": "frontend"})).await;
    assert_eq!(names(&by_topic), ["web-shop"]);
    let by_life = list(app, &carol, &ws, json!({"lifecycle": "experimental"})).await;
    assert_eq!(
        names(&by_life),
        ["ledger", "web-shop"],
        "the default lifecycle"
    );
    let by_life = list(app, &carol, &ws, json!({"lifecycle": "production"})).await;
    assert_eq!(names(&by_life), ["payments-api"]);
    let by_vis = list(app, &carol, &ws, json!({"visibility": "public"})).await;
    assert_eq!(names(&by_vis), ["web-shop"]);
    let newest = list(app, &carol, &ws, json!({"sort": "created"})).await;
    assert_eq!(names(&newest), ["ledger", "web-shop", "payments-api"]);
    let first = list(app, &carol, &ws, json!({"pageSize": 2})).await;
    assert_eq!(names(&first), ["ledger", "payments-api"]);
    let token = first["nextPageToken"].as_str().expect("a next page");
    let second = list(app, &carol, &ws, json!({"pageSize": 2, "pageToken": token})).await;
    assert_eq!(names(&second), ["web-shop"]);
    assert!(second["nextPageToken"].is_null(), "no more pages");
    app.fails(
        "RepositoryService/ListRepositories",
        &carol,
        json!({"workspaceId": ws, "pageToken": token, "sort": "updated"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "RepositoryService/ListRepositories",
        &carol,
        json!({"workspaceId": ws, "sort": "stars"}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "RepositoryService/ListRepositories",
        &carol,
        json!({"workspaceId": ws, "visibility": "secret"}),
        "invalid_argument",
    )
    .await;

    // Search finds repositories by name, description and topic.
    app.index().await;
    let hits = search(app, &carol, &ws, "storefront").await;
    assert_eq!(hits, [("repository".to_owned(), "web-shop".to_owned())]);
    let hits = search(app, &carol, &ws, "payments").await;
    assert!(hits.iter().any(|(_, t)| t == "payments-api"), "{hits:?}");

    // Update: fields change, search follows; viewers refused; rename conflicts refused.
    let updated = app
        .ok(
            "RepositoryService/UpdateRepository",
            &bob,
            json!({"workspaceId": ws, "id": payments_id, "description": "Charges cards",
                   "topics": {"topics": ["billing"]}, "lifecycle": "deprecated"}),
        )
        .await;
    assert_eq!(updated["repository"]["description"], "Charges cards");
    assert_eq!(updated["repository"]["topics"], json!(["billing"]));
    assert_eq!(updated["repository"]["owner"], "team-payments");
    app.fails(
        "RepositoryService/UpdateRepository",
        &bob,
        json!({"workspaceId": ws, "id": payments_id, "name": "WEB-SHOP"}),
        "already_exists",
    )
    .await;
    app.fails(
        "RepositoryService/UpdateRepository",
        &carol,
        json!({"workspaceId": ws, "id": payments_id, "description": "x"}),
        "permission_denied",
    )
    .await;
    app.index().await;
    let hits = search(app, &carol, &ws, "cards").await;
    assert_eq!(hits, [("repository".to_owned(), "payments-api".to_owned())]);
    assert!(search(app, &carol, &ws, "money").await.is_empty());

    // Archive: owners and admins only; archived repositories leave lists unless asked.
    app.fails(
        "RepositoryService/ArchiveRepository",
        &bob,
        json!({"workspaceId": ws, "id": payments_id, "archived": true}),
        "permission_denied",
    )
    .await;
    let archived = app
        .ok(
            "RepositoryService/ArchiveRepository",
            ADMIN,
            json!({"workspaceId": ws, "id": payments_id, "archived": true}),
        )
        .await;
    assert_eq!(archived["repository"]["archived"], true);
    let all = list(app, &carol, &ws, json!({})).await;
    assert_eq!(names(&all), ["ledger", "web-shop"]);
    let all = list(app, &carol, &ws, json!({"includeArchived": true})).await;
    assert_eq!(names(&all), ["ledger", "payments-api", "web-shop"]);

    // Workspace isolation: the other workspace sees none of it, even by id, and may reuse
    // the names.
    app.fails(
        "RepositoryService/GetRepository",
        ADMIN,
        json!({"workspaceId": other, "id": payments_id}),
        "not_found",
    )
    .await;
    app.fails(
        "RepositoryService/UpdateRepository",
        ADMIN,
        json!({"workspaceId": other, "id": payments_id, "description": "hijack"}),
        "not_found",
    )
    .await;
    assert!(names(&list(app, ADMIN, &other, json!({})).await).is_empty());
    assert!(search(app, ADMIN, &other, "storefront").await.is_empty());
    register(
        app,
        ADMIN,
        &other,
        json!({"name": "web-shop", "owner": "someone"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_catalog_on_every_store() {
    for stores in all_stores().await {
        let label = stores.description.clone();
        eprintln!("store: {label}");
        let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
        scenario(&app).await;
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository with two commits on `main` (README.md in the second) and a
/// `feature` branch, served by the git CLI over `file://`.
fn fixture_repository() -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let bare = root.path().join("service.git");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "service.git",
        ],
    );
    git(&work, &["init", "--quiet", "--initial-branch=main"]);
    let id = ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"];
    std::fs::write(work.join("main.rs"), "fn main() {}\n").unwrap();
    git(&work, &["add", "."]);
    git(
        &work,
        &[
            id[0], id[1], id[2], id[3], "commit", "--quiet", "-m", "Start",
        ],
    );
    std::fs::write(
        work.join("README.md"),
        "# Service\n\nIt *serves*.\n\n<script>alert(1)</script>\n",
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(
        &work,
        &[
            id[0],
            id[1],
            id[2],
            id[3],
            "commit",
            "--quiet",
            "-m",
            "Add a README\n\nBody",
        ],
    );
    let url = format!("file://{}", bare.display());
    git(&work, &["push", "--quiet", &url, "main", "main:feature"]);
    (root, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_show_readme_branches_and_commits_read_from_git() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "details").await;
    let (_root, url) = fixture_repository();
    let repo = register(
        &app,
        ADMIN,
        &ws,
        json!({"name": "service", "owner": "ada", "remoteUrl": url}),
    )
    .await;
    let got = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "id": repo["id"], "includeDetails": true}),
        )
        .await;
    let d = &got["details"];
    assert!(d["gitError"].is_null(), "{d}");
    assert_eq!(d["readmePath"], "README.md");
    let html = d["readmeHtml"].as_str().unwrap();
    assert!(html.contains("<em>serves</em>"), "{html}");
    assert!(
        !html.contains("<script>"),
        "README HTML is sanitized: {html}"
    );
    let branches: Vec<&str> = d["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(branches, ["feature", "main"]);
    let commits: Vec<&str> = d["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap())
        .collect();
    assert_eq!(commits, ["Add a README", "Start"]);
    assert_eq!(d["commits"][0]["authorName"], "Ada");
    assert_eq!(
        d["branches"][1]["commit"], d["commits"][0]["id"],
        "main's tip is the newest commit"
    );

    // A remote that cannot be read is reported, not a failure of the call.
    let gone = register(
        &app,
        ADMIN,
        &ws,
        json!({"name": "gone", "owner": "ada", "remoteUrl": format!("{url}-missing")}),
    )
    .await;
    let got = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "id": gone["id"], "includeDetails": true}),
        )
        .await;
    assert!(
        !got["details"]["gitError"].as_str().unwrap().is_empty(),
        "{got}"
    );
    assert_eq!(got["repository"]["name"], "gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_from_the_git_host_with_catalog_info_without_duplicates() {
    use orbit_ports::{GitAuthor, NewHostedRepo, RepoVisibility};
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "imports").await;
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&orbit_core::WorkspaceId::new(ws.clone()), None)
        .await
        .unwrap();
    for name in ["web-shop", "ledger"] {
        host.create_repo(&NewHostedRepo {
            name: name.into(),
            description: format!("{name} from the host"),
            visibility: RepoVisibility::Private,
            default_branch: "main".into(),
        })
        .await
        .unwrap();
    }
    let remote = host.push_access("web-shop").await.unwrap();
    let info = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web-shop\n  description: The storefront\n  tags: [frontend]\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team-web\n";
    app.app
        .services
        .deps
        .git
        .publish_to(
            &remote,
            "main",
            "",
            &[("catalog-info.yaml".into(), info.as_bytes().to_vec())],
            "catalog",
            &GitAuthor {
                name: "T".into(),
                email: "t@example.com".into(),
            },
        )
        .await
        .unwrap();
    let (_, bob) = app.user("bob").await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "bob", "role": "ROLE_MEMBER"}),
    )
    .await;
    app.fails(
        "RepositoryService/ImportRepositories",
        &bob,
        json!({"workspaceId": ws}),
        "permission_denied",
    )
    .await;

    let report = app
        .ok(
            "RepositoryService/ImportRepositories",
            ADMIN,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(report["created"], json!(["ledger", "web-shop"]), "{report}");
    let shop = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "web-shop"}),
        )
        .await["repository"]
        .clone();
    assert_eq!(shop["owner"], "group:default/team-web");
    assert_eq!(shop["lifecycle"], "production");
    assert_eq!(shop["description"], "The storefront");
    assert_eq!(shop["topics"], json!(["frontend"]));
    assert_eq!(shop["visibility"], "private");
    assert_eq!(shop["source"], "import");
    assert!(
        shop["remoteUrl"]
            .as_str()
            .unwrap()
            .ends_with("/git/imports/web-shop.git")
    );

    // Re-import: updates, no duplicates. A repository gone from the host is marked.
    host.delete_repo("ledger").await.unwrap();
    let report = app
        .ok(
            "RepositoryService/ImportRepositories",
            ADMIN,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(report["updated"], json!(["web-shop"]), "{report}");
    assert_eq!(report["gone"], json!(["ledger"]), "{report}");
    assert!(report["created"].is_null(), "{report}");
    let all = app
        .ok(
            "RepositoryService/ListRepositories",
            ADMIN,
            json!({"workspaceId": ws, "includeArchived": true}),
        )
        .await;
    assert_eq!(names(&all), ["ledger", "web-shop"]);
    let ledger = &all["repositories"][0];
    assert_eq!(ledger["archived"], true);
    assert!(
        ledger["topics"]
            .as_array()
            .unwrap()
            .contains(&json!("gone-from-source")),
        "{ledger}"
    );
}
