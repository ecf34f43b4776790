//! Templates, policies and "create a repository from a template" through the Connect API,
//! on the embedded engine, against real git: the example template is served from a bare
//! repository, the new repository is created on Orbit's own git server, cloned, and
//! found in the catalog and in search. Running the same creation again (what a retry
//! after a crash does) adopts the remote and makes no second commit or catalog entry.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{ADMIN, TestApp};

fn git(dir: &Path, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A bare repository whose `templates/rust-service` folder is the shipped example.
fn template_repository() -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/templates");
    copy_dir(
        &examples.join("rust-service"),
        &work.join("templates/rust-service"),
    );
    git(
        root.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "t.git",
        ],
    );
    git(&work, &["init", "--quiet", "--initial-branch=main"]);
    git(&work, &["add", "."]);
    git(
        &work,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "-m",
            "templates",
        ],
    );
    let url = format!("file://{}", root.path().join("t.git").display());
    git(&work, &["push", "--quiet", &url, "main"]);
    (root, url)
}

async fn wait(app: &TestApp, ws: &str, id: &str) -> Value {
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
async fn create_a_repository_from_a_template_on_the_embedded_engine() {
    let app = TestApp::memory().await;
    let ws = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "acme", "name": "Acme"}),
        )
        .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, viewer) = app.user("viewer").await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "viewer", "role": "ROLE_VIEWER"}),
    )
    .await;
    let (_root, url) = template_repository();

    // Register the template; its parameters come from the manifest.
    let t = app
        .ok(
            "TemplateService/RegisterTemplate",
            ADMIN,
            json!({"workspaceId": ws, "sourceUrl": url, "path": "templates/rust-service"}),
        )
        .await["template"]
        .clone();
    assert_eq!(t["name"], "rust-service");
    let port = t["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "port")
        .unwrap()
        .clone();
    assert_eq!(port["type"], "number");
    assert_eq!(port["defaultValue"], "8080");
    assert_eq!(port["min"], 1024.0);
    app.fails(
        "TemplateService/RegisterTemplate",
        ADMIN,
        json!({"workspaceId": ws, "sourceUrl": url, "path": "templates/rust-service"}),
        "already_exists",
    )
    .await;
    let msg = app
        .fails(
            "TemplateService/RegisterTemplate",
            ADMIN,
            json!({"workspaceId": ws, "sourceUrl": url, "path": "templates"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("orbit-template.yaml"), "{msg}");
    app.fails(
        "TemplateService/RegisterTemplate",
        &viewer,
        json!({"workspaceId": ws, "sourceUrl": url, "path": "templates/rust-service"}),
        "permission_denied",
    )
    .await;
    let listed = app
        .ok(
            "TemplateService/ListTemplates",
            &viewer,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(listed["templates"].as_array().unwrap().len(), 1);

    // Dry run: the tree and contents, nothing created.
    let dry = app
        .ok(
            "TemplateService/DryRunTemplate",
            ADMIN,
            json!({"workspaceId": ws, "template": "rust-service",
                   "parameters": {"name": "svc-billing", "owner": "team-billing", "replicas": "3"}}),
        )
        .await;
    let paths: Vec<&str> = dry["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"k8s/deployment.yaml"), "{paths:?}");
    assert!(paths.contains(&"src/main.rs"), "{paths:?}");
    let msg = app
        .fails(
            "TemplateService/DryRunTemplate",
            ADMIN,
            json!({"workspaceId": ws, "template": "rust-service",
                   "parameters": {"name": "Bad Name", "port": "80"}}),
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("parameter name"), "{msg}");
    assert!(msg.contains("parameter owner is required"), "{msg}");
    assert!(msg.contains("parameter port"), "{msg}");

    // Policy: every broken rule is listed.
    app.fails(
        "TemplateService/SetRepositoryPolicy",
        &viewer,
        json!({"workspaceId": ws, "policy": {"namePattern": "svc-.*"}}),
        "permission_denied",
    )
    .await;
    app.ok(
        "TemplateService/SetRepositoryPolicy",
        ADMIN,
        json!({"workspaceId": ws, "policy": {"namePattern": "svc-[a-z-]+", "requireOwner": true,
               "allowedVisibilities": ["internal", "private"], "allowedTemplates": ["rust-service"]}}),
    )
    .await;
    let params = json!({"name": "svc-billing", "owner": "team-billing"});
    let msg = app
        .fails(
            "TemplateService/CreateRepositoryFromTemplate",
            ADMIN,
            json!({"workspaceId": ws, "template": "rust-service", "name": "Billing",
                   "visibility": "public", "parameters": params}),
            "failed_precondition",
        )
        .await;
    assert!(
        msg.contains("does not match the pattern svc-[a-z-]+"),
        "{msg}"
    );
    assert!(msg.contains("an owner is required"), "{msg}");
    assert!(msg.contains("visibility public is not allowed"), "{msg}");

    // Create: a workflow id, then the remote with one commit, the catalog entry, search.
    let started = app
        .ok(
            "TemplateService/CreateRepositoryFromTemplate",
            ADMIN,
            json!({"workspaceId": ws, "template": "rust-service", "name": "svc-billing",
                   "owner": "team-billing", "description": "Bills customers", "language": "Rust",
                   "parameters": params}),
        )
        .await;
    let id = started["workflowId"].as_str().unwrap().to_owned();
    let run = wait(&app, &ws, &id).await;
    assert_eq!(run["status"], "WORKFLOW_STATUS_SUCCEEDED", "{run}");
    let repo = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "svc-billing"}),
        )
        .await["repository"]
        .clone();
    assert_eq!(repo["source"], "template");
    assert!(
        repo["remoteUrl"]
            .as_str()
            .unwrap()
            .ends_with("/git/acme/svc-billing.git"),
        "{repo}"
    );
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&orbit_core::WorkspaceId::new(ws.clone()), None)
        .await
        .unwrap();
    let remote = host.push_access("svc-billing").await.unwrap();
    let clone_root = tempfile::tempdir().unwrap();
    git(
        clone_root.path(),
        &["clone", "--quiet", &remote.url, "repo"],
    );
    let repo_dir = clone_root.path().join("repo");
    let log = git(&repo_dir, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["Initial commit from the template rust-service"]
    );
    let deployment = std::fs::read_to_string(repo_dir.join("k8s/deployment.yaml")).unwrap();
    assert!(deployment.contains("name: svc-billing"), "{deployment}");
    app.index().await;
    let hits = app
        .ok(
            "SearchService/Search",
            ADMIN,
            json!({"workspaceId": ws, "query": "billing", "kinds": ["repository"]}),
        )
        .await;
    assert_eq!(hits["results"][0]["title"], "svc-billing", "{hits}");

    // The same creation once more (what a retry after a crash does): the remote is adopted,
    // no second commit is pushed and the catalog keeps one entry.
    let input = run["input"].as_str().unwrap().to_owned();
    let again = app
        .ok(
            "WorkflowService/StartWorkflow",
            ADMIN,
            json!({"workspaceId": ws, "kind": "orbit.repository.create", "input": input}),
        )
        .await;
    let again_id = again["workflow"]["id"]
        .as_str()
        .or(again["id"].as_str())
        .unwrap()
        .to_owned();
    let rerun = wait(&app, &ws, &again_id).await;
    assert_eq!(rerun["status"], "WORKFLOW_STATUS_SUCCEEDED", "{rerun}");
    git(&repo_dir, &["fetch", "--quiet", "origin"]);
    let log = git(&repo_dir, &["log", "--format=%s", "origin/main"]);
    assert_eq!(log.lines().count(), 1, "{log}");
    let all = app
        .ok(
            "RepositoryService/ListRepositories",
            ADMIN,
            json!({"workspaceId": ws}),
        )
        .await;
    assert_eq!(all["repositories"].as_array().unwrap().len(), 1, "{all}");

    // A name already in the catalog is refused before anything starts.
    app.fails(
        "TemplateService/CreateRepositoryFromTemplate",
        ADMIN,
        json!({"workspaceId": ws, "template": "rust-service", "name": "svc-billing",
               "owner": "x", "parameters": params}),
        "already_exists",
    )
    .await;
}
