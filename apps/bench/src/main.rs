//! `orbit-bench`: starts `orbit serve` on SQLite and/or PostgreSQL, seeds it through the
//! API (workspaces, users, 20 members each), then drives each measured RPC with N
//! concurrent clients over Connect JSON on loopback and prints p50/p95/p99 latency,
//! throughput and the server's peak RSS (VmHWM). Every loop is bounded in count and time.

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
#[command(
    about = "Load-test orbit serve over Connect JSON and print latency, throughput and peak RSS"
)]
struct Args {
    /// The orbit binary to start (build it with --release for meaningful figures).
    #[arg(long, default_value = "target/release/orbit")]
    orbit_bin: PathBuf,
    /// Which store(s) to measure: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// A PostgreSQL server (admin URL) for the postgres backend; a fresh database is created.
    #[arg(long, env = "ORBIT_TEST_DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, default_value_t = 1000)]
    workspaces: usize,
    /// Members per workspace, the owner included.
    #[arg(long, default_value_t = 20)]
    members: usize,
    /// Users to spread the memberships over.
    #[arg(long, default_value_t = 2000)]
    users: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds each measured RPC is driven for.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Also write the result table (Markdown) to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(
        bin: &PathBuf,
        data_dir: &PathBuf,
        database_url: Option<&str>,
        token: &str,
    ) -> Result<Server> {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("ORBIT_BOOTSTRAP_TOKEN", token)
            .env("ORBIT_LOG", "warn")
            .env_remove("ORBIT_REDIS_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match database_url {
            Some(url) => cmd.env("ORBIT_DATABASE_URL", url),
            None => cmd.env_remove("ORBIT_DATABASE_URL"),
        };
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("Orbit is listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => bail!("orbit serve exited before printing its URL"),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok(Server { child, url })
    }

    /// CPU seconds (user + system) the server has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }

    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(&self, method: &str, token: &str, body: &Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}/orbit.v1.{method}", self.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = resp.status();
        let value: Value = resp.json().await?;
        if !status.is_success() {
            bail!("{method} failed with {status}: {value}");
        }
        Ok(value)
    }
}

/// Runs `jobs` with `concurrency` workers; each job is an index.
async fn parallel<F, Fut>(count: usize, concurrency: usize, f: F) -> Result<()>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, f) = (next.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                f(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

struct Seeded {
    /// Per user index: its token and the ids of the workspaces it belongs to.
    users: Vec<(String, Vec<String>)>,
}

async fn seed(client: &Client, admin: &str, args: &Args) -> Result<Seeded> {
    let started = Instant::now();
    let n_users = args.users;
    let logins: Vec<String> = (0..n_users).map(|i| format!("user{i:05}")).collect();
    let tokens: Arc<Vec<std::sync::Mutex<String>>> = Arc::new(
        (0..n_users)
            .map(|_| std::sync::Mutex::new(String::new()))
            .collect(),
    );
    {
        let (client, admin, logins, tokens) = (
            client.clone(),
            admin.to_owned(),
            logins.clone(),
            tokens.clone(),
        );
        parallel(n_users, 16, move |i| {
            let (client, admin, logins, tokens) = (
                client.clone(),
                admin.clone(),
                logins.clone(),
                tokens.clone(),
            );
            async move {
                client
                    .call(
                        "UserService/CreateUser",
                        &admin,
                        &json!({"login": logins[i], "displayName": format!("User {i}")}),
                    )
                    .await?;
                let t = client
                    .call(
                        "AuthService/CreateToken",
                        &admin,
                        &json!({"name": "bench", "user": logins[i]}),
                    )
                    .await?;
                *tokens[i].lock().unwrap() = t["secret"].as_str().unwrap_or_default().to_owned();
                Ok(())
            }
        })
        .await?;
    }
    let ws_ids: Arc<Vec<std::sync::Mutex<String>>> = Arc::new(
        (0..args.workspaces)
            .map(|_| std::sync::Mutex::new(String::new()))
            .collect(),
    );
    let others = args.members.saturating_sub(1);
    {
        let (client, admin, logins, ws_ids) = (
            client.clone(),
            admin.to_owned(),
            logins.clone(),
            ws_ids.clone(),
        );
        parallel(args.workspaces, 16, move |w| {
            let (client, admin, logins, ws_ids) = (client.clone(), admin.clone(), logins.clone(), ws_ids.clone());
            async move {
                let created = client
                    .call("WorkspaceService/CreateWorkspace", &admin, &json!({"slug": format!("team-{w:05}"), "name": format!("Team {w}"), "description": "A team of the benchmark"}))
                    .await?;
                let id = created["workspace"]["id"].as_str().unwrap_or_default().to_owned();
                for j in 0..others {
                    let user = &logins[(w * others + j) % logins.len()];
                    client.call("WorkspaceService/AddMember", &admin, &json!({"workspaceId": id, "user": user, "role": "ROLE_MEMBER"})).await?;
                }
                *ws_ids[w].lock().unwrap() = id;
                Ok(())
            }
        })
        .await?;
    }
    let mut users: Vec<(String, Vec<String>)> = (0..n_users)
        .map(|i| (tokens[i].lock().unwrap().clone(), Vec::new()))
        .collect();
    for w in 0..args.workspaces {
        for j in 0..others {
            let u = (w * others + j) % n_users;
            users[u].1.push(ws_ids[w].lock().unwrap().clone());
        }
    }
    users.retain(|(_, ws)| !ws.is_empty());
    println!(
        "  seeded {} users, {} workspaces with {} members each in {:.1} s",
        n_users,
        args.workspaces,
        args.members,
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded { users })
}

struct Stats {
    name: &'static str,
    /// Server CPU time per request, in microseconds.
    server_cpu_us: f64,
    count: usize,
    errors: u64,
    seconds: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

/// Drives one RPC for `seconds` with `concurrency` clients; `make` builds request i.
async fn measure<M>(
    server: &Server,
    client: &Client,
    name: &'static str,
    method: &'static str,
    args: &Args,
    make: M,
) -> Result<Stats>
where
    M: Fn(usize) -> (String, Value) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let counter = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let cpu_before = server.cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, make, counter, errors) = (
            client.clone(),
            make.clone(),
            counter.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            // Bounded: by the deadline, and by a hard cap on requests per client.
            for _ in 0..1_000_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let (token, body) = make(i);
                let t0 = Instant::now();
                if client.call(method, &token, &body).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                lat.push(t0.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds() - cpu_before;
    all.sort_unstable();
    Ok(Stats {
        name,
        server_cpu_us: cpu * 1e6 / all.len().max(1) as f64,
        count: all.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds,
        p50: percentile(&all, 0.50),
        p95: percentile(&all, 0.95),
        p99: percentile(&all, 0.99),
    })
}

async fn run_backend(args: &Args, backend: &str) -> Result<(Vec<Stats>, f64)> {
    let data_dir =
        std::env::temp_dir().join(format!("orbit-bench-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let db_url = match backend {
        "sqlite" => None,
        "postgres" => {
            let admin_url = args
                .database_url
                .clone()
                .context("the postgres backend needs --database-url or ORBIT_TEST_DATABASE_URL")?;
            let name = format!("orbit_bench_{}", std::process::id());
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&admin_url)
                .await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&pool)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await?;
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b)
                .to_owned();
            Some(format!("{base}/{name}"))
        }
        other => bail!("unknown backend {other:?}: use sqlite, postgres or both"),
    };
    let token = "bench-admin-token-0123456789";
    let server = Server::start(&args.orbit_bin, &data_dir, db_url.as_deref(), token)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    let client = Client {
        http,
        url: server.url.clone(),
    };
    println!("{backend}: orbit at {}", server.url);
    let seeded = Arc::new(seed(&client, token, args).await?);

    let mut results = Vec::new();
    let s = seeded.clone();
    results.push(
        measure(
            &server,
            &client,
            "GetWorkspace",
            "WorkspaceService/GetWorkspace",
            args,
            move |i| {
                let (tok, ws) = &s.users[i % s.users.len()];
                (tok.clone(), json!({"id": ws[i % ws.len()]}))
            },
        )
        .await?,
    );
    let s = seeded.clone();
    results.push(
        measure(
            &server,
            &client,
            "ListWorkspaces",
            "WorkspaceService/ListWorkspaces",
            args,
            move |i| {
                (
                    s.users[i % s.users.len()].0.clone(),
                    json!({"pageSize": 50}),
                )
            },
        )
        .await?,
    );
    let s = seeded.clone();
    results.push(
        measure(
            &server,
            &client,
            "ListMembers",
            "WorkspaceService/ListMembers",
            args,
            move |i| {
                let (tok, ws) = &s.users[(i * 7) % s.users.len()];
                (
                    tok.clone(),
                    json!({"workspaceId": ws[i % ws.len()], "pageSize": 50}),
                )
            },
        )
        .await?,
    );
    let s = seeded.clone();
    let run = std::process::id();
    results.push(
        measure(
            &server,
            &client,
            "CreateWorkspace",
            "WorkspaceService/CreateWorkspace",
            args,
            move |i| {
                (
                    s.users[i % s.users.len()].0.clone(),
                    json!({"slug": format!("new-{run}-{i}"), "name": format!("New {i}")}),
                )
            },
        )
        .await?,
    );
    let rss = server.peak_rss_mib();
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok((results, rss))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    let mut table = format!(
        "Orbit load test: {} workspaces x {} members over {} users, {} concurrent clients, {} s per RPC, Connect JSON over HTTP/1.1 on loopback, client and server on the same machine ({} cores).\n\n\
         | store | RPC | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | server CPU per request (µs) |\n|---|---|---|---|---|---|---|---|---|\n",
        args.workspaces,
        args.members,
        args.users,
        args.concurrency,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rss_lines = String::new();
    for backend in backends {
        let (results, rss) = run_backend(&args, backend).await?;
        for s in &results {
            table.push_str(&format!(
                "| {backend} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} |\n",
                s.name,
                s.count,
                s.errors,
                s.count as f64 / s.seconds,
                s.p50,
                s.p95,
                s.p99,
                s.server_cpu_us
            ));
        }
        rss_lines.push_str(&format!(
            "- {backend}: server peak RSS (VmHWM) {rss:.1} MiB\n"
        ));
    }
    table.push('\n');
    table.push_str(&rss_lines);
    println!("\n{table}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &table).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
