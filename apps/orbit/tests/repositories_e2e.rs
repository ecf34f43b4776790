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

// ---------------------------------------------------------------------------------------
// Crash test: `orbit serve` (and, on Temporal, `orbit worker`) is SIGKILLed while the
// generation runs, then restarted on the same data directory; the run finishes with
// exactly one catalog entry, one bare repository and one initial commit.

/// Files in the big template: enough that fetching, rendering and pushing take a while.
const BIG_FILES: usize = 3_000;

/// A bare repository holding a template of `BIG_FILES` files, a third of them with
/// template expressions, one with a templated path.
fn big_template_repository(root: &Path) -> String {
    let work = root.join("work");
    let skeleton = work.join("skeleton");
    std::fs::create_dir_all(skeleton.join("{{ name }}")).unwrap();
    std::fs::write(
        work.join("orbit-template.yaml"),
        "apiVersion: orbit/v1\nname: big-service\nparameters:\n  - name: name\n    type: string\n    required: true\n",
    )
    .unwrap();
    std::fs::write(
        skeleton.join("{{ name }}/README.md"),
        "# {{ name }}\n\nGenerated.\n",
    )
    .unwrap();
    for i in 1..BIG_FILES {
        let dir = skeleton.join(format!("src/module_{:02}", i % 40));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        if i % 3 == 0 {
            text.push_str("// Part of {{ name }}.\n");
        }
        for line in 0..20 {
            text.push_str(&format!(
                "pub fn function_{i}_{line}(x: u64) -> u64 {{ x.wrapping_mul({line}) + {i} }}\n"
            ));
        }
        std::fs::write(dir.join(format!("file_{i}.rs")), text).unwrap();
    }
    git(
        root,
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "big.git",
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
            "big template",
        ],
    );
    let url = format!("file://{}", root.join("big.git").display());
    git(&work, &["push", "--quiet", &url, "main"]);
    url
}

/// Where the generation is when the processes are killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// As soon as the run reports its generate step.
    StepStarted,
    /// Once the bare repository exists on disk (created, not yet pushed).
    RemoteCreated,
    /// Once the branch exists (pushed; the catalog entry may not be there yet).
    Pushed,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The processes of one Orbit deployment: `orbit serve`, plus `orbit worker` on Temporal.
struct Deployment {
    dir: std::path::PathBuf,
    listen: String,
    envs: Vec<(String, String)>,
    temporal: bool,
    procs: Vec<Proc>,
    url: String,
}

impl Deployment {
    fn start(&mut self) {
        let envs: Vec<(&str, &str)> = self
            .envs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (server, url) = serve(&self.dir, &self.listen, &envs);
        self.url = url;
        self.procs.push(server);
        if self.temporal {
            let mut worker = Command::new(BIN);
            worker
                .args(["worker", "--data-dir"])
                .arg(&self.dir)
                .env("ORBIT_LOG", "warn")
                .env_remove("ORBIT_DATABASE_URL");
            for (k, v) in &envs {
                worker.env(k, v);
            }
            self.procs.push(Proc(
                worker
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .unwrap(),
            ));
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        for mut p in self.procs.drain(..) {
            p.0.kill().unwrap();
            p.0.wait().unwrap();
        }
    }
}

async fn workflow(url: &str, ws: &str, id: &str) -> Value {
    rpc(
        url,
        "WorkflowService/GetWorkflow",
        json!({"workspaceId": ws, "id": id}),
    )
    .await["workflow"]
        .clone()
}

async fn crash_scenario(mut deployment: Deployment) {
    deployment.start();
    let dir = deployment.dir.clone();
    let url = deployment.url.clone();
    let ws = rpc(
        &url,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "acme", "name": "Acme"}),
    )
    .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let source = big_template_repository(&dir.join("template"));
    rpc(
        &url,
        "TemplateService/RegisterTemplate",
        json!({"workspaceId": ws, "sourceUrl": source}),
    )
    .await;
    let repos_dir = dir.join("git").join(&ws);
    let points = [
        KillPoint::StepStarted,
        KillPoint::RemoteCreated,
        KillPoint::Pushed,
    ];
    let mut runs = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let name = format!("crash-{i}");
        let started = rpc(
            &deployment.url,
            "TemplateService/CreateRepositoryFromTemplate",
            json!({"workspaceId": ws, "template": "big-service", "name": name, "owner": "team-web",
                   "parameters": {"name": name}}),
        )
        .await;
        let id = started["workflowId"].as_str().unwrap().to_owned();
        let bare = repos_dir.join(format!("{name}.git"));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let reached = match point {
                KillPoint::StepStarted => {
                    let w = workflow(&deployment.url, &ws, &id).await;
                    w["currentStep"] == "repository.generate"
                }
                KillPoint::RemoteCreated => bare.join("HEAD").is_file(),
                KillPoint::Pushed => {
                    bare.join("refs/heads/main").is_file()
                        || std::fs::read_to_string(bare.join("packed-refs"))
                            .is_ok_and(|p| p.contains("refs/heads/main"))
                }
            };
            if reached {
                break;
            }
            assert!(Instant::now() < deadline, "{point:?} never reached");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        deployment.kill();
        eprintln!("killed at {point:?} ({name})");
        deployment.start();
        runs.push((name, id, *point));
    }
    let url = deployment.url.clone();
    for (name, id, point) in &runs {
        let deadline = Instant::now() + Duration::from_secs(180);
        let w = loop {
            let w = workflow(&url, &ws, id).await;
            let status = w["status"].as_str().unwrap_or("").to_owned();
            if status == "WORKFLOW_STATUS_SUCCEEDED" {
                break w;
            }
            assert!(status != "WORKFLOW_STATUS_FAILED", "{name}: {w}");
            assert!(Instant::now() < deadline, "{name} is stuck: {w}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let events: Vec<&str> = w["events"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["message"].as_str()).collect())
            .unwrap_or_default();
        eprintln!("{name} ({point:?}): {events:?}");
        if !deployment.temporal && !matches!(point, KillPoint::Pushed) {
            // The kill landed mid-run: the restarted engine picked the run up again.
            assert!(
                events.iter().any(|e| e.contains("resumed after a restart")),
                "{name}: {events:?}"
            );
        }
    }
    // Exactly one catalog entry per run.
    let listed = rpc(
        &url,
        "RepositoryService/ListRepositories",
        json!({"workspaceId": ws, "pageSize": 500}),
    )
    .await;
    let mut names: Vec<String> = listed["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = runs.iter().map(|(n, _, _)| n.clone()).collect();
    assert_eq!(names, expected);
    // Exactly one bare repository per run on Orbit's git server (scratch folders of a
    // creation cut short are hidden and never served).
    let mut bare: Vec<String> = std::fs::read_dir(&repos_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    bare.sort();
    let expected_bare: Vec<String> = expected.iter().map(|n| format!("{n}.git")).collect();
    assert_eq!(bare, expected_bare);
    // `git clone` gives one commit with every file of the template.
    let clones = dir.join("clones");
    std::fs::create_dir_all(&clones).unwrap();
    for name in &expected {
        let repo = rpc(
            &url,
            "RepositoryService/GetRepository",
            json!({"workspaceId": ws, "name": name}),
        )
        .await;
        let clone_url = repo["repository"]["remoteUrl"].as_str().unwrap().to_owned();
        let authed = clone_url.replacen("://", &format!("://orbit:{TOKEN}@"), 1);
        git(&clones, &["clone", "--quiet", &authed, name]);
        let checkout = clones.join(name);
        let log = git(&checkout, &["log", "--all", "--format=%s"]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            ["Initial commit from the template big-service"],
            "{name}"
        );
        let files = git(&checkout, &["ls-files"]);
        assert_eq!(files.lines().count(), BIG_FILES, "{name}");
        let readme = std::fs::read_to_string(checkout.join(name).join("README.md")).unwrap();
        assert!(readme.starts_with(&format!("# {name}\n")), "{readme}");
        let templated = std::fs::read_to_string(checkout.join("src/module_03/file_3.rs")).unwrap();
        assert!(
            templated.starts_with(&format!("// Part of {name}.\n")),
            "{templated}"
        );
    }
    deployment.kill();
}

#[tokio::test]
async fn a_generation_killed_mid_flight_finishes_once_after_a_restart_embedded() {
    let dir = tempfile::tempdir().unwrap();
    crash_scenario(Deployment {
        dir: dir.path().to_owned(),
        listen: format!("127.0.0.1:{}", free_port()),
        envs: Vec::new(),
        temporal: false,
        procs: Vec::new(),
        url: String::new(),
    })
    .await;
}

#[tokio::test]
async fn a_generation_killed_mid_flight_finishes_once_after_a_restart_on_temporal() {
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
    let listen = format!("127.0.0.1:{}", free_port());
    let queue = format!("orbit-crash-{}", std::process::id());
    crash_scenario(Deployment {
        dir: dir.path().to_owned(),
        envs: vec![
            ("ORBIT_PUBLIC_URL".into(), format!("http://{listen}")),
            ("ORBIT_WORKFLOW_ENGINE".into(), "temporal".into()),
            ("ORBIT_TEMPORAL_ADDRESS".into(), address),
            ("ORBIT_TEMPORAL_TASK_QUEUE".into(), queue),
        ],
        listen,
        temporal: true,
        procs: Vec::new(),
        url: String::new(),
    })
    .await;
}
