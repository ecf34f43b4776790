//! End-to-end tests of the `orbit` binary: what an operator sees when starting, stopping,
//! migrating and misconfiguring it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orbit");

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-e2e-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Server {
    child: Child,
    url: String,
    lines: Vec<String>,
}

impl Server {
    /// Starts `orbit serve` and waits for the line that names its URL.
    fn start(data_dir: &Path, envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        cmd.env_remove("ORBIT_DATABASE_URL")
            .env_remove("ORBIT_REDIS_URL")
            .env_remove("ORBIT_BOOTSTRAP_TOKEN");
        cmd.env("ORBIT_LOG", "warn");
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
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("orbit serve prints its URL");
            lines.push(line.clone());
            if let Some(url) = line.strip_prefix("Orbit is listening on ") {
                break url.trim().to_owned();
            }
        };
        // The lines after the URL (database, cache, bootstrap) arrive right after it.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            lines.push(line);
        }
        Server { child, url, lines }
    }

    fn printed_token(&self) -> Option<String> {
        let i = self
            .lines
            .iter()
            .position(|l| l.contains("with this API token"))?;
        self.lines.get(i + 1).map(|l| l.trim().to_owned())
    }

    fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "orbit did not stop within 15 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn rpc(url: &str, token: &str, method: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/orbit.v1.{method}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn first_start_prints_a_working_token_and_data_survives_a_restart() {
    let dir = tempdir("first");
    let server = Server::start(&dir, &[]);
    let token = server
        .printed_token()
        .expect("the first start prints the administrator's token");
    assert!(token.starts_with("orbit_"), "{token}");
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.contains("web UI:") && l.contains("/ui")),
        "{:?}",
        server.lines
    );
    let (status, who) = rpc(&server.url, &token, "AuthService/WhoAmI", json!({})).await;
    assert_eq!(
        (status, who["user"]["login"].as_str()),
        (200, Some("admin"))
    );
    let (status, _) = rpc(
        &server.url,
        &token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "kept", "name": "Kept"}),
    )
    .await;
    assert_eq!(status, 200);
    let health = reqwest::get(format!("{}/readyz", server.url))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(server.stop().success(), "SIGTERM is a clean exit");

    let again = Server::start(&dir, &[]);
    assert_eq!(
        again.printed_token(),
        None,
        "the token is printed only once"
    );
    let (status, got) = rpc(
        &again.url,
        &token,
        "WorkspaceService/GetWorkspace",
        json!({"slug": "kept"}),
    )
    .await;
    assert_eq!(
        (status, got["workspace"]["name"].as_str()),
        (200, Some("Kept"))
    );
    assert!(again.stop().success());
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempdir("graceful");
    let token = "graceful-token-0123456789";
    let server = Server::start(&dir, &[("ORBIT_BOOTSTRAP_TOKEN", token)]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let body = json!({"slug": "in-flight", "name": "Sent across a shutdown"}).to_string();
    let (first, rest) = body.split_at(10);
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "POST /orbit.v1.WorkspaceService/CreateWorkspace HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // The request is half sent when the server is told to stop.
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the request in flight completes: {response}"
    );
    assert!(response.contains("\"slug\":\"in-flight\""), "{response}");
    // New connections are refused once it stopped, and the process exits cleanly.
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(std::net::TcpStream::connect(&addr).is_err());
    // What it answered was committed.
    let again = Server::start(&dir, &[]);
    let (status, _) = rpc(
        &again.url,
        token,
        "WorkspaceService/GetWorkspace",
        json!({"slug": "in-flight"}),
    )
    .await;
    assert_eq!(status, 200);
}

#[test]
fn migrate_creates_and_upgrades_the_database() {
    let dir = tempdir("migrate");
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(&dir)
        .env_remove("ORBIT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Migrations applied: SQLite at"));
    assert!(dir.join("orbit.db").exists());
    let again = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(&dir)
        .env_remove("ORBIT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(again.status.success(), "migrating twice is a no-op");
}

#[test]
fn help_and_bad_configuration_say_what_to_do() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("serve") && text.contains("migrate") && text.contains("embedded defaults"),
        "{text}"
    );
    let serve_help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&serve_help.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--database-url",
        "--redis-url",
        "ORBIT_DATABASE_URL",
        "ORBIT_REDIS_URL",
    ] {
        assert!(text.contains(flag), "serve --help mentions {flag}");
    }

    let dir = tempdir("badconf");
    let file = dir.join("orbit.toml");
    std::fs::write(&file, "listne = \"127.0.0.1:9\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid configuration file") && err.contains("listne"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://localhost/db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL scheme"));

    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("ORBIT_BOOTSTRAP_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ORBIT_BOOTSTRAP_TOKEN must be at least 16"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn serves_from_postgres_and_redis_by_configuration() {
    let Some(server_url) = orbit_tests::postgres::server_url() else {
        return;
    };
    let Some(redis) = orbit_tests::postgres::redis_url() else {
        return;
    };
    let name = orbit_tests::postgres::fresh_database_name("e2e");
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server_url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let db = orbit_tests::postgres::with_database(&server_url, &name);
    let token = "postgres-token-0123456789";
    let dir = tempdir("pg");
    let envs = [
        ("ORBIT_DATABASE_URL", db.as_str()),
        ("ORBIT_REDIS_URL", redis.as_str()),
        ("ORBIT_BOOTSTRAP_TOKEN", token),
    ];
    let server = Server::start(&dir, &envs);
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.contains("database:") && l.contains("PostgreSQL")),
        "{:?}",
        server.lines
    );
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.contains("cache:") && l.contains("Redis")),
        "{:?}",
        server.lines
    );
    let (status, _) = rpc(
        &server.url,
        token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "on-postgres", "name": "PG"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(server.stop().success());
    assert!(
        !dir.join("orbit.db").exists(),
        "no SQLite file when PostgreSQL is configured"
    );
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM workspaces WHERE slug = 'on-postgres'")
            .fetch_one(
                &sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&db)
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(count, 1, "the row is in PostgreSQL");
    let again = Server::start(&dir, &envs);
    let (status, got) = rpc(
        &again.url,
        token,
        "WorkspaceService/GetWorkspace",
        json!({"slug": "on-postgres"}),
    )
    .await;
    assert_eq!(
        (status, got["workspace"]["name"].as_str()),
        (200, Some("PG"))
    );
}

fn effect_lines(dir: &Path, run: &str) -> Vec<(u32, u32)> {
    std::fs::read_to_string(dir.join(format!("{run}.log")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace().skip(1);
            Some((p.next()?.parse().ok()?, p.next()?.parse().ok()?))
        })
        .collect()
}

async fn wait_run(url: &str, token: &str, ws: &str, run: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, got) = rpc(
            url,
            token,
            "WorkflowService/GetWorkflow",
            json!({"workspaceId": ws, "id": run}),
        )
        .await;
        // 503 while a database is coming back is an answer too: keep asking.
        assert!(status == 200 || status == 503, "{status}: {got}");
        if got["workflow"]["status"] == want {
            return got["workflow"].clone();
        }
        assert!(Instant::now() < deadline, "run never became {want}: {got}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_workflow_survives_sigkill_of_orbit_serve() {
    let dir = tempdir("crash");
    let effects = tempdir("crash-effects");
    let token = "crash-token-0123456789abcdef";
    let envs = [
        ("ORBIT_BOOTSTRAP_TOKEN", token),
        ("ORBIT_ENABLE_DEMO_WORKFLOWS", "1"),
    ];
    let mut server = Server::start(&dir, &envs);
    let (_, ws) = rpc(
        &server.url,
        token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "crash", "name": "Crash"}),
    )
    .await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_owned();
    let input =
        json!({"steps": 5, "sleep_ms": 700, "effects_dir": effects.to_string_lossy()}).to_string();
    let (status, started) = rpc(
        &server.url,
        token,
        "WorkflowService/StartWorkflow",
        json!({"workspaceId": ws, "kind": "orbit.demo.steps", "input": input, "id": "crash-run"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    // Kill it while step 3 runs: steps 1 and 2 are recorded.
    let deadline = Instant::now() + Duration::from_secs(30);
    while effect_lines(&effects, "crash-run").len() < 2 {
        assert!(Instant::now() < deadline, "steps 1 and 2 never completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let before = effect_lines(&effects, "crash-run");
    assert!(before.len() < 5, "killed before the end: {before:?}");

    let again = Server::start(&dir, &[("ORBIT_ENABLE_DEMO_WORKFLOWS", "1")]);
    let run = wait_run(
        &again.url,
        token,
        &ws,
        "crash-run",
        "WORKFLOW_STATUS_SUCCEEDED",
    )
    .await;
    let lines = effect_lines(&effects, "crash-run");
    for step in 1..=2 {
        assert_eq!(
            lines.iter().filter(|(s, _)| *s == step).count(),
            1,
            "step {step} ran exactly once: {lines:?}"
        );
    }
    for step in 3..=5 {
        assert!(
            lines.iter().any(|(s, _)| *s == step),
            "step {step} ran: {lines:?}"
        );
    }
    let result: Value = serde_json::from_str(run["result"].as_str().unwrap()).unwrap();
    assert_eq!(result["outputs"].as_array().unwrap().len(), 5);
    assert!(
        run["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "resumed after a restart"),
        "{run}"
    );
    drop(server);
}

/// A private PostgreSQL (started by scripts/lib/services.sh) that a test may restart.
struct PrivatePostgres {
    url: String,
    dir: PathBuf,
    bin: String,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let dir = tempdir("pg-private");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let script = format!(
            "set -euo pipefail; source scripts/lib/services.sh; orbit_start_postgres {} >/dev/null; echo \"$ORBIT_TEST_DATABASE_URL\"; echo \"$ORBIT_PG_BIN\"",
            dir.join("pg").display()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines().rev();
        let bin = lines.next().unwrap().to_owned();
        let url = lines.next().unwrap().to_owned();
        PrivatePostgres { url, dir, bin }
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("pg/data");
        // `start` needs the options of the first start again (port, address, socket).
        let port = self
            .url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            self.dir.join("pg").display()
        );
        let log = self.dir.join("pg/restart.log");
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"])
            .arg(format!("{}/pg_ctl", self.bin))
            .arg("-D")
            .arg(&data);
        if action == "start" {
            cmd.arg("-o").arg(&options).arg("-l").arg(&log);
        } else {
            cmd.args(["-m", "fast"]);
        }
        let status = cmd
            .args(["-w", "-t", "60", action])
            .current_dir("/")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {action}");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.join("pg/data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{}/pg_ctl", self.bin))
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn a_workflow_survives_a_database_restart() {
    if orbit_tests::postgres::server_url().is_none() {
        return;
    }
    let pg = PrivatePostgres::start();
    let dir = tempdir("dbrestart");
    let effects = tempdir("dbrestart-effects");
    let token = "dbrestart-token-0123456789";
    let envs = [
        ("ORBIT_DATABASE_URL", pg.url.as_str()),
        ("ORBIT_BOOTSTRAP_TOKEN", token),
        ("ORBIT_ENABLE_DEMO_WORKFLOWS", "1"),
    ];
    let server = Server::start(&dir, &envs);
    let (_, ws) = rpc(
        &server.url,
        token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "dbr", "name": "DB restart"}),
    )
    .await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_owned();
    let input =
        json!({"steps": 6, "sleep_ms": 500, "effects_dir": effects.to_string_lossy()}).to_string();
    let (status, started) = rpc(
        &server.url,
        token,
        "WorkflowService/StartWorkflow",
        json!({"workspaceId": ws, "kind": "orbit.demo.steps", "input": input, "id": "dbr-run"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while effect_lines(&effects, "dbr-run").is_empty() {
        assert!(Instant::now() < deadline, "step 1 never completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Wait until step 1 is recorded (not only done): a step whose outcome was not yet
    // recorded when the database went away runs again, as activities are at-least-once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, got) = rpc(
            &server.url,
            token,
            "WorkflowService/GetWorkflow",
            json!({"workspaceId": ws, "id": "dbr-run"}),
        )
        .await;
        if got["workflow"]["stepsDone"].as_i64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "step 1 never recorded: {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The database goes away for a while, then comes back.
    pg.pg_ctl("stop");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let health = reqwest::get(format!("{}/readyz", server.url))
        .await
        .unwrap();
    assert_eq!(
        health.status().as_u16(),
        503,
        "readiness reports the outage"
    );
    pg.pg_ctl("start");
    let run = wait_run(
        &server.url,
        token,
        &ws,
        "dbr-run",
        "WORKFLOW_STATUS_SUCCEEDED",
    )
    .await;
    let lines = effect_lines(&effects, "dbr-run");
    for step in 1..=6 {
        assert!(
            lines.iter().any(|(s, _)| *s == step),
            "step {step} ran: {lines:?}"
        );
    }
    assert_eq!(
        lines.iter().filter(|(s, _)| *s == 1).count(),
        1,
        "step 1, recorded before the outage, ran once: {lines:?}"
    );
    assert_eq!(run["stepsDone"], 6);
}

/// `orbit worker` as a process of its own.
fn start_worker(dir: &Path, envs: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--data-dir"])
        .arg(dir)
        .env("ORBIT_LOG", "warn")
        .env_remove("ORBIT_DATABASE_URL");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn on_temporal_a_run_survives_sigkill_of_its_worker() {
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
    let dir = tempdir("temporal-e2e");
    let effects = tempdir("temporal-effects");
    let token = "temporal-token-0123456789";
    let queue = format!("orbit-e2e-{}", std::process::id());
    let envs = [
        ("ORBIT_BOOTSTRAP_TOKEN", token),
        ("ORBIT_ENABLE_DEMO_WORKFLOWS", "1"),
        ("ORBIT_WORKFLOW_ENGINE", "temporal"),
        ("ORBIT_TEMPORAL_ADDRESS", address.as_str()),
        ("ORBIT_TEMPORAL_TASK_QUEUE", queue.as_str()),
    ];
    let server = Server::start(&dir, &envs);
    let mut worker = start_worker(&dir, &envs);
    let (_, ws) = rpc(
        &server.url,
        token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "temporal", "name": "Temporal"}),
    )
    .await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_owned();
    let input =
        json!({"steps": 5, "sleep_ms": 800, "effects_dir": effects.to_string_lossy()}).to_string();
    let (status, started) = rpc(
        &server.url,
        token,
        "WorkflowService/StartWorkflow",
        json!({"workspaceId": ws, "kind": "orbit.demo.steps", "input": input, "id": "t-crash"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["workflow"]["engine"], "temporal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while effect_lines(&effects, "t-crash").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "steps 1 and 2 never completed on the worker"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    worker.kill().unwrap();
    worker.wait().unwrap();
    // While no worker runs the run stays open; its status is still answered (from Temporal).
    let (status, got) = rpc(
        &server.url,
        token,
        "WorkflowService/GetWorkflow",
        json!({"workspaceId": ws, "id": "t-crash"}),
    )
    .await;
    assert_eq!(
        (status, got["workflow"]["status"].as_str()),
        (200, Some("WORKFLOW_STATUS_RUNNING")),
        "{got}"
    );
    let mut second = start_worker(&dir, &envs);
    let run = wait_run(
        &server.url,
        token,
        &ws,
        "t-crash",
        "WORKFLOW_STATUS_SUCCEEDED",
    )
    .await;
    let lines = effect_lines(&effects, "t-crash");
    for step in 1..=2 {
        assert_eq!(
            lines.iter().filter(|(s, _)| *s == step).count(),
            1,
            "step {step} ran once: {lines:?}"
        );
    }
    for step in 3..=5 {
        assert!(
            lines.iter().any(|(s, _)| *s == step),
            "step {step} ran: {lines:?}"
        );
    }
    let result: Value = serde_json::from_str(run["result"].as_str().unwrap()).unwrap();
    assert_eq!(result["steps"], 5);
    let _ = second.kill();
    let _ = second.wait();
}

#[tokio::test]
async fn a_retry_backoff_survives_a_restart() {
    let dir = tempdir("backoff");
    let effects = tempdir("backoff-effects");
    let token = "backoff-token-0123456789";
    let envs = [
        ("ORBIT_BOOTSTRAP_TOKEN", token),
        ("ORBIT_ENABLE_DEMO_WORKFLOWS", "1"),
    ];
    let mut server = Server::start(&dir, &envs);
    let (_, ws) = rpc(
        &server.url,
        token,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "backoff", "name": "Backoff"}),
    )
    .await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_owned();
    let input = json!({"steps": 2, "fail_times": {"1": 1}, "backoff_ms": 3000, "effects_dir": effects.to_string_lossy()}).to_string();
    let (status, started) = rpc(
        &server.url,
        token,
        "WorkflowService/StartWorkflow",
        json!({"workspaceId": ws, "kind": "orbit.demo.steps", "input": input, "id": "b-run"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    // Wait for the first attempt to fail, then kill the server during the backoff.
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed_at = loop {
        let (_, got) = rpc(
            &server.url,
            token,
            "WorkflowService/GetWorkflow",
            json!({"workspaceId": ws, "id": "b-run"}),
        )
        .await;
        let events = got["workflow"]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(e) = events.iter().find(|e| {
            e["message"]
                .as_str()
                .unwrap_or("")
                .contains("attempt 1 failed")
        }) {
            break e["time"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the first attempt never failed: {got}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = Server::start(&dir, &envs[1..]);
    let run = wait_run(&again.url, token, &ws, "b-run", "WORKFLOW_STATUS_SUCCEEDED").await;
    assert_eq!(
        effect_lines(&effects, "b-run"),
        [(1, 2), (2, 1)],
        "step 1 succeeded on attempt 2: the count went on"
    );
    let events = run["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or("")
            .contains("resumes after a restart")),
        "{run}"
    );
    let done = events
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("step 1 (orbit.demo.step) done")
        })
        .map(|e| e["time"].as_str().unwrap().to_owned())
        .expect("step 1 done");
    let millis = |t: &str| -> i64 {
        // RFC 3339 with milliseconds: compare the time of day (same day in this test).
        let time = t.split('T').nth(1).unwrap();
        let hms: Vec<f64> = time[..12].split(':').map(|x| x.parse().unwrap()).collect();
        ((hms[0] * 3600.0 + hms[1] * 60.0 + hms[2]) * 1000.0) as i64
    };
    assert!(
        millis(&done) - millis(&failed_at) >= 2900,
        "the backoff was kept across the restart: failed {failed_at}, done {done}"
    );
}
