//! The key that encrypts stored secrets, as an operator meets it: generated with mode 0600
//! on first start, rotated with `orbit secrets rotate-key`, which re-encrypts every stored
//! git host token so that it still opens with the new key and no longer with the old one.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orbit");
const ADMIN: &str = "e2e-secrets-admin-token-0123456789";
const GH_TOKEN: &str = "ghp_E2eRotationTokenValue000011112222";

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-e2e-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> Server {
    let mut server = Server(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env_remove("ORBIT_DATABASE_URL")
            .env_remove("ORBIT_REDIS_URL")
            .env_remove("ORBIT_SECRET_KEY")
            .env("ORBIT_BOOTSTRAP_TOKEN", ADMIN)
            .env("ORBIT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
        String::new(),
    );
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("orbit serve prints its URL");
        if let Some(url) = line.strip_prefix("Orbit is listening on ") {
            server.1 = url.trim().to_owned();
            return server;
        }
    }
}

async fn rpc(url: &str, method: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{url}/orbit.v1.{method}"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn key_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The stored token of the connection, opened with whatever keys `config` names.
async fn stored_token(
    config: &orbit::config::Config,
    ws: &str,
    id: &str,
) -> Result<String, String> {
    let mut config = config.clone();
    // A fresh index each time: an earlier App's index writer may still hold its lock.
    config.search = orbit::config::SearchChoice::Tantivy(tempdir("secrets-index"));
    let app = orbit::App::build(&config)
        .await
        .map_err(|e| e.to_string())?;
    app.services
        .git_hosts
        .remote_with_connection(
            &orbit_core::WorkspaceId::new(ws),
            id,
            "https://github.com/acme/x.git",
        )
        .await
        .map(|r| r.credentials.unwrap().password.expose().to_owned())
        .map_err(|e| e.to_string())
}

/// The connection's webhook secret, opened with whatever keys `config` names.
async fn stored_webhook_secret(
    config: &orbit::config::Config,
    ws: &str,
    id: &str,
) -> Result<String, String> {
    let mut config = config.clone();
    config.search = orbit::config::SearchChoice::Tantivy(tempdir("secrets-index"));
    let app = orbit::App::build(&config)
        .await
        .map_err(|e| e.to_string())?;
    let (_, sealed) = app
        .services
        .deps
        .webhooks
        .webhook_secret(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no webhook secret")?;
    let ctx =
        orbit_services::webhooks::webhook_secret_context(&orbit_core::WorkspaceId::new(ws), id);
    app.services
        .deps
        .secrets
        .open(&sealed, &ctx)
        .map(|s| s.expose().to_owned())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn rotate_key_re_encrypts_every_stored_token() {
    let dir = tempdir("secrets");
    let server = start(&dir);
    let key_file = dir.join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the generated key file is private");
    }
    let ws = rpc(
        &server.1,
        "WorkspaceService/CreateWorkspace",
        json!({"slug": "acme", "name": "Acme"}),
    )
    .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = rpc(
        &server.1,
        "GitHostService/CreateGitHostConnection",
        json!({"workspaceId": ws, "name": "gh", "provider": "github", "namespace": "acme", "token": GH_TOKEN}),
    )
    .await["connection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A webhook secret, sealed with the same key.
    let webhook_secret = rpc(
        &server.1,
        "GitHostService/CreateWebhookSecret",
        json!({"workspaceId": ws, "connectionId": id}),
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(server);

    let old_keys = key_lines(&key_file);
    assert_eq!(old_keys.len(), 1);
    let out = Command::new(BIN)
        .args(["secrets", "rotate-key", "--generate", "--data-dir"])
        .arg(&dir)
        .env_remove("ORBIT_DATABASE_URL")
        .env_remove("ORBIT_SECRET_KEY")
        .env("ORBIT_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Re-encrypted 2 stored secret"), "{stdout}");
    assert!(!stdout.contains(&webhook_secret));
    assert!(!stdout.contains(GH_TOKEN));
    let new_keys = key_lines(&key_file);
    assert_eq!(new_keys.len(), 1, "only the new key is kept");
    assert_ne!(new_keys, old_keys);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The token opens with the new key file…
    let config = orbit::config::Config::embedded(dir.clone());
    assert_eq!(stored_token(&config, &ws, &id).await.unwrap(), GH_TOKEN);
    assert_eq!(
        stored_webhook_secret(&config, &ws, &id).await.unwrap(),
        webhook_secret
    );
    // …and no longer with the old key alone.
    let mut old = orbit::config::Config::embedded(dir.clone());
    old.secret_key = Some(old_keys[0].clone());
    let err = stored_token(&old, &ws, &id).await.unwrap_err();
    assert!(err.contains("not configured"), "{err}");
    // A configured key (ORBIT_SECRET_KEY) rotates too; the old one stays usable as a
    // previous key until every instance has the new one.
    let next = Command::new(BIN)
        .args(["secrets", "rotate-key", "--generate", "--data-dir"])
        .arg(&dir)
        .env_remove("ORBIT_DATABASE_URL")
        .env("ORBIT_SECRET_KEY", &new_keys[0])
        .env("ORBIT_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&next.stdout);
    assert!(next.status.success(), "{stdout}");
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("The new key (shown once): "))
        .expect("the generated key is printed once")
        .trim()
        .to_owned();
    assert_eq!(key_lines(&key_file), new_keys, "the key file is left alone");
    let mut env_config = orbit::config::Config::embedded(dir.clone());
    env_config.secret_key = Some(printed);
    assert_eq!(stored_token(&env_config, &ws, &id).await.unwrap(), GH_TOKEN);

    // A bad key is refused before anything changes.
    let bad = Command::new(BIN)
        .args([
            "secrets",
            "rotate-key",
            "--new-key",
            "c2hvcnQ=",
            "--data-dir",
        ])
        .arg(&dir)
        .env_remove("ORBIT_DATABASE_URL")
        .env("ORBIT_SECRET_KEY", env_config.secret_key.clone().unwrap())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("32 bytes"));
    assert_eq!(stored_token(&env_config, &ws, &id).await.unwrap(), GH_TOKEN);
}
