//! "Create a repository from a template" end to end on a running `orbit serve`: on the
//! embedded engine, and on Temporal with `orbit worker` running the steps. The new
//! repository is cloned from Orbit's own git server over smart HTTP (an API token as the
//! password) and has exactly one commit.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orbit");
const TOKEN: &str = "repos-e2e-token-0123456789";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, listen: &str, envs: &[(&str, &str)]) -> (Proc, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", listen, "--data-dir"])
        .arg(dir)
        .env_remove("ORBIT_DATABASE_URL")
        .env_remove("ORBIT_REDIS_URL")
        .env("ORBIT_LOG", "warn")
        .env("ORBIT_BOOTSTRAP_TOKEN", TOKEN);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("orbit serve prints its URL");
        if let Some(url) = line.strip_prefix("Orbit is listening on ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || while rx.recv().is_ok() {});
    (Proc(child), url)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
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

/// A bare repository holding the shipped TypeScript example at its root.
fn template_repository(root: &Path) -> String {
    let work = root.join("work");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/templates/typescript-service");
    copy_dir(&example, &work);
    git(
        root,
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
            "template",
        ],
    );
    let url = format!("file://{}", root.join("t.git").display());
    git(&work, &["push", "--quiet", &url, "main"]);
    url
}

async fn rpc(url: &str, method: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{url}/orbit.v1.{method}"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let value: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{method}: {value}");
    value
}

async fn scenario(dir: &Path, url: &str) {
    let ws = rpc(
        url,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "acme", "name": "Acme"}),
    )
    .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let source = template_repository(&dir.join("template"));
    rpc(
        url,
        "TemplateService/RegisterTemplate",
        json!({"workspaceId": ws, "sourceUrl": source}),
    )
    .await;
    let started = rpc(
        url,
        "TemplateService/CreateRepositoryFromTemplate",
        json!({"workspaceId": ws, "template": "typescript-service", "name": "web-shop", "owner": "team-web",
               "parameters": {"name": "web-shop", "owner": "team-web", "routes": "/shop"}}),
    )
    .await;
    let id = started["workflowId"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = rpc(
            url,
            "WorkflowService/GetWorkflow",
            json!({"workspaceId": ws, "id": id}),
        )
        .await;
        let status = r["workflow"]["status"].as_str().unwrap_or("").to_owned();
        if status == "WORKFLOW_STATUS_SUCCEEDED" {
            break;
        }
        assert!(status != "WORKFLOW_STATUS_FAILED", "{r}");
        assert!(Instant::now() < deadline, "{r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let repo = rpc(
        url,
        "RepositoryService/GetRepository",
        json!({"workspaceId": ws, "name": "web-shop"}),
    )
    .await;
    let clone_url = repo["repository"]["remoteUrl"].as_str().unwrap().to_owned();
    assert_eq!(clone_url, format!("{url}/git/acme/web-shop.git"));
    // git clone over smart HTTP with basic auth: any user name, an API token as password.
    let authed = clone_url.replacen("://", &format!("://orbit:{TOKEN}@"), 1);
    let clones = dir.join("clones");
    std::fs::create_dir_all(&clones).unwrap();
    git(&clones, &["clone", "--quiet", &authed, "web-shop"]);
    let checkout = clones.join("web-shop");
    let log = git(&checkout, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["Initial commit from the template typescript-service"]
    );
    let server = std::fs::read_to_string(checkout.join("src/server.ts")).unwrap();
    assert!(
        server.contains("const ROUTES: string[] = [\"/shop\"];"),
        "{server}"
    );
    assert!(checkout.join("k8s/deployment.yaml").is_file());
}

#[tokio::test]
async fn create_from_a_template_and_clone_it_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = serve(dir.path(), "127.0.0.1:0", &[]);
    scenario(dir.path(), &url).await;
}

#[tokio::test]
async fn create_from_a_template_and_clone_it_on_temporal() {
    let Some(address) = std::env::var("ORBIT_TEST_TEMPORAL_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty())
    else {
        assert!(
            !orbit_tests::postgres::services_required(),
            "ORBIT_TEST_TEMPORAL_ADDRESS is not set but ORBIT_REQUIRE_SERVICES=1"
        );
        eprintln!(
            "SKIPPED: Temporal tests need ORBIT_TEST_TEMPORAL_ADDRESS (scripts/test.sh starts a dev server)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let queue = format!("orbit-repos-{}", std::process::id());
    // The worker builds clone URLs too, so both processes are told the public URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://{listen}");
    let envs = [
        ("ORBIT_PUBLIC_URL", public.as_str()),
        ("ORBIT_WORKFLOW_ENGINE", "temporal"),
        ("ORBIT_TEMPORAL_ADDRESS", address.as_str()),
        ("ORBIT_TEMPORAL_TASK_QUEUE", queue.as_str()),
    ];
    let (_server, url) = serve(dir.path(), &listen, &envs);
    let mut worker = Command::new(BIN);
    worker
        .args(["worker", "--data-dir"])
        .arg(dir.path())
        .env("ORBIT_LOG", "warn")
        .env_remove("ORBIT_DATABASE_URL");
    for (k, v) in envs {
        worker.env(k, v);
    }
    let _worker = Proc(
        worker
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    scenario(dir.path(), &url).await;
}
