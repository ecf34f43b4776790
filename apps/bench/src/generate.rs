//! `generate`: "create a repository from a template" end to end. A template of 1,000 files
//! (about 2 MiB of source text, a share with template expressions, some paths templated)
//! in a local git repository is registered, then `CreateRepositoryFromTemplate` runs N
//! times one after the other (different names) on each store, on the embedded engine and,
//! given a Temporal server, on Temporal with an `orbit worker`. Reported: start-to-succeeded
//! time (client side: from sending the request to seeing the run succeeded), the start
//! call itself (it validates by fetching and rendering once), and each step from the run's
//! events (generate: fetch, render, create the remote, push; register).

use crate::Args;
use crate::common::{Backend, Client, Server, parse_timestamp_ms, percentile};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TEMPLATE_FILES: usize = 1_000;

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Realistic-looking Rust source of about `bytes` bytes; `templated` files mention the
/// service's name and port through template expressions.
fn source_file(i: usize, bytes: usize, templated: bool) -> String {
    let mut s = String::with_capacity(bytes + 256);
    s.push_str(&format!("//! Module {i}"));
    if templated {
        s.push_str(" of {{ name }} (owned by {{ owner }}).\n\nconst SERVICE: &str = \"{{ name }}\";\nconst PORT: u16 = {{ port }};\n");
    } else {
        s.push_str(".\n\n");
    }
    s.push_str("use std::collections::HashMap;\n\n");
    let mut n = 0;
    while s.len() < bytes {
        s.push_str(&format!(
            "/// Looks up entry {n} of the table and returns its weight, or zero.\n\
             pub fn lookup_{i}_{n}(table: &HashMap<String, u64>, key: &str) -> u64 {{\n    \
             match table.get(key) {{\n        Some(weight) => weight.saturating_mul({n}).wrapping_add({i}),\n        \
             None => 0,\n    }}\n}}\n\n"
        ));
        n += 1;
    }
    s
}

/// Writes the template into `root/work`, commits it and pushes it to the bare repository
/// `root/template.git`. Returns its file:// URL and the skeleton's size in bytes.
pub fn make_template(root: &Path) -> Result<(String, u64)> {
    let work = root.join("work");
    let skeleton = work.join("skeleton");
    std::fs::create_dir_all(&skeleton)?;
    std::fs::write(
        work.join("orbit-template.yaml"),
        "apiVersion: orbit/v1\nname: bench-service\ntitle: Benchmark service\n\
         description: 1,000 files of Rust source.\nparameters:\n  - name: name\n    type: string\n    \
         required: true\n    pattern: \"[a-z][a-z0-9-]*\"\n  - name: owner\n    type: string\n    \
         default: team-bench\n  - name: port\n    type: number\n    default: 8080\n",
    )?;
    let mut total = 0u64;
    // The README, the manifest-like files and a tenth of the modules have templated paths.
    let readme = "# {{ name }}\n\nOwned by {{ owner }}; listens on {{ port }}.\n";
    std::fs::write(skeleton.join("README.md"), readme)?;
    total += readme.len() as u64;
    for i in 1..TEMPLATE_FILES {
        let templated = i % 4 == 0; // a quarter of the files hold expressions
        let dir = if i % 10 == 0 {
            skeleton.join(format!("crates/{{{{ name }}}}-{}/src", i / 100))
        } else {
            skeleton.join(format!("src/area_{:02}/part_{}", i % 25, i % 7))
        };
        std::fs::create_dir_all(&dir)?;
        // Sizes from 0.5 to 3.5 KiB, about 2 KiB on average.
        let bytes = 512 + (i * 7919) % 3072;
        let text = source_file(i, bytes, templated);
        total += text.len() as u64;
        std::fs::write(dir.join(format!("module_{i}.rs")), text)?;
    }
    git(
        root,
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "template.git",
        ],
    )?;
    git(&work, &["init", "--quiet", "--initial-branch=main"])?;
    git(&work, &["add", "."])?;
    git(
        &work,
        &[
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "--quiet",
            "-m",
            "template",
        ],
    )?;
    let url = format!("file://{}", root.join("template.git").display());
    git(&work, &["push", "--quiet", &url, "main"])?;
    Ok((url, total))
}

/// One run's figures, in milliseconds.
#[derive(Default, Clone)]
struct RunTimes {
    total: f64,
    start_call: f64,
    generate: f64,
    register: f64,
    fetch: f64,
    render: f64,
    create: f64,
    push: f64,
}

/// The time of the first event whose message starts with `prefix`.
fn event_ms(run: &Value, prefix: &str) -> Option<i64> {
    run["events"].as_array()?.iter().find_map(|e| {
        let m = e["message"].as_str()?;
        if m.starts_with(prefix) {
            parse_timestamp_ms(e["time"].as_str()?)
        } else {
            None
        }
    })
}

/// `fetch 12 ms` → 12 in the generate step's event.
fn timing(run: &Value, what: &str) -> f64 {
    let Some(events) = run["events"].as_array() else {
        return f64::NAN;
    };
    for e in events {
        let m = e["message"].as_str().unwrap_or("");
        if let Some(pos) = m.find(&format!("{what} ")) {
            let rest = &m[pos + what.len() + 1..];
            if let Some(n) = rest.split(" ms").next().and_then(|n| n.parse().ok()) {
                return n;
            }
        }
    }
    f64::NAN
}

fn span(run: &Value, step: &str) -> f64 {
    match (
        event_ms(run, &format!("{step} started")),
        event_ms(run, &format!("{step} done")),
    ) {
        (Some(a), Some(b)) => (b - a) as f64,
        _ => f64::NAN,
    }
}

struct Outcome {
    store: String,
    engine: String,
    runs: Vec<RunTimes>,
    /// The warm-up run's total and RegisterTemplate (which reads the template cold), in ms.
    cold: (f64, f64),
    template_bytes: u64,
}

fn median_p95(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut us: Vec<u64> = values
        .filter(|v| v.is_finite())
        .map(|v| (v * 1000.0) as u64)
        .collect();
    us.sort_unstable();
    (percentile(&us, 0.5), percentile(&us, 0.95))
}

async fn measure(
    args: &Args,
    client: &Client,
    root: &Path,
    store: &str,
    engine: &str,
) -> Result<Outcome> {
    let ws = client
        .admin(
            "WorkspaceService/CreateWorkspace",
            &json!({"slug": "gen", "name": "Generation"}),
        )
        .await?["workspace"]["id"]
        .as_str()
        .context("no workspace id")?
        .to_owned();
    let (url, template_bytes) = make_template(&root.join(format!("template-{store}-{engine}")))?;
    let t0 = Instant::now();
    client
        .admin(
            "TemplateService/RegisterTemplate",
            &json!({"workspaceId": ws, "sourceUrl": url}),
        )
        .await?;
    let register_template = t0.elapsed().as_secs_f64() * 1000.0;
    let mut runs = Vec::new();
    let mut cold = (f64::NAN, f64::NAN);
    // One warm-up run (not counted), then the measured ones.
    for i in 0..=args.generations {
        let name = format!("svc-{i}");
        let t0 = Instant::now();
        let started = client
            .admin(
                "TemplateService/CreateRepositoryFromTemplate",
                &json!({"workspaceId": ws, "template": "bench-service", "name": name,
                        "owner": "team-bench", "parameters": {"name": name}}),
            )
            .await?;
        let start_call = t0.elapsed().as_secs_f64() * 1000.0;
        let id = started["workflowId"]
            .as_str()
            .context("no workflow id")?
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(args.max_wait);
        let run = loop {
            let r = client
                .admin(
                    "WorkflowService/GetWorkflow",
                    &json!({"workspaceId": ws, "id": id}),
                )
                .await?["workflow"]
                .clone();
            match r["status"].as_str().unwrap_or("") {
                "WORKFLOW_STATUS_SUCCEEDED" => break r,
                "WORKFLOW_STATUS_FAILED" | "WORKFLOW_STATUS_CANCELLED" => {
                    bail!("run {name} did not succeed: {r}")
                }
                _ => {}
            }
            if Instant::now() > deadline {
                bail!("run {name} did not finish within {} s", args.max_wait);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let total = t0.elapsed().as_secs_f64() * 1000.0;
        if i == 0 {
            cold = (total, register_template);
            println!("  {store}/{engine} {name} (first, not counted): {total:.0} ms");
            continue;
        }
        let t = RunTimes {
            total,
            start_call,
            generate: span(&run, "step 1 (repository.generate)"),
            register: span(&run, "step 2 (repository.register)"),
            fetch: timing(&run, "fetch"),
            render: timing(&run, "render"),
            create: timing(&run, "create"),
            push: timing(&run, "push"),
        };
        println!(
            "  {store}/{engine} {name}: {:.0} ms (start call {:.0}, generate {:.0} = fetch {:.0} + render {:.0} + create {:.0} + push {:.0}, register {:.0})",
            t.total, t.start_call, t.generate, t.fetch, t.render, t.create, t.push, t.register
        );
        runs.push(t);
    }
    // The last repository is really on Orbit's git server, with every file in one commit.
    let last = format!("svc-{}", args.generations);
    let repo = client
        .admin(
            "RepositoryService/GetRepository",
            &json!({"workspaceId": ws, "name": last}),
        )
        .await?;
    let remote = repo["repository"]["remoteUrl"]
        .as_str()
        .context("no remote URL")?;
    let authed = remote.replacen(
        "://",
        &format!("://bench:{}@", crate::common::ADMIN_TOKEN),
        1,
    );
    let check = root.join(format!("check-{store}-{engine}"));
    std::fs::create_dir_all(&check)?;
    git(&check, &["clone", "--quiet", &authed, "repo"])?;
    let out = Command::new("git")
        .args(["rev-list", "--count", "HEAD"])
        .current_dir(check.join("repo"))
        .output()?;
    let commits = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let files = Command::new("git")
        .args(["ls-files"])
        .current_dir(check.join("repo"))
        .output()?;
    let files = String::from_utf8_lossy(&files.stdout).lines().count();
    if commits != "1" || files != TEMPLATE_FILES {
        bail!(
            "the generated repository has {commits} commits and {files} files, not 1 and {TEMPLATE_FILES}"
        );
    }
    Ok(Outcome {
        store: store.to_owned(),
        engine: engine.to_owned(),
        runs,
        cold,
        template_bytes,
    })
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn run_backend(args: &Args, store: &str, engine: &str) -> Result<Outcome> {
    let backend =
        Backend::create(store, &format!("gen{engine}"), args.database_url.as_deref()).await?;
    let listen = format!("127.0.0.1:{}", free_port()?);
    let public = format!("http://{listen}");
    let queue = format!("orbit-bench-gen-{}-{store}", std::process::id());
    let address = args.temporal_address.clone().unwrap_or_default();
    let mut env = vec![("ORBIT_PUBLIC_URL", public.as_str())];
    if engine == "temporal" {
        env.push(("ORBIT_WORKFLOW_ENGINE", "temporal"));
        env.push(("ORBIT_TEMPORAL_ADDRESS", address.as_str()));
        env.push(("ORBIT_TEMPORAL_TASK_QUEUE", queue.as_str()));
    }
    let result = async {
        let server = Server::start_on(
            &args.orbit_bin,
            &listen,
            &backend.data_dir,
            backend.db_url.as_deref(),
            &env,
        )?;
        let _worker = if engine == "temporal" {
            Some(Server::start_worker(
                &args.orbit_bin,
                &backend.data_dir,
                backend.db_url.as_deref(),
                &env,
            )?)
        } else {
            None
        };
        let client = Client::new(&server.url, 4)?;
        measure(args, &client, &backend.data_dir, store, engine).await
    }
    .await;
    backend.cleanup().await;
    result
}

pub async fn run(args: &Args, backends: &[&str]) -> Result<String> {
    if args.generations == 0 {
        bail!("--generations must be positive");
    }
    let mut outcomes = Vec::new();
    let mut missing = Vec::new();
    for store in backends {
        outcomes.push(run_backend(args, store, "embedded").await?);
    }
    match args.temporal_address.as_deref().filter(|a| !a.is_empty()) {
        None => missing.push(
            "Temporal: not measured (no --temporal-address or ORBIT_TEST_TEMPORAL_ADDRESS)"
                .to_owned(),
        ),
        Some(_) => {
            for store in backends {
                match run_backend(args, store, "temporal").await {
                    Ok(o) => outcomes.push(o),
                    Err(e) => missing.push(format!("Temporal on {store}: {e:#}")),
                }
            }
        }
    }
    let bytes = outcomes.first().map_or(0, |o| o.template_bytes);
    let mut md = format!(
        "## Create a repository from a template (`--scenario generate`)\n\n\
         A template of {TEMPLATE_FILES} files ({:.2} MiB of Rust source; a quarter of the files hold template expressions, a tenth have a templated path) \
         in a local git repository (file://), registered once (registering reads it once); then {} runs of `CreateRepositoryFromTemplate` one after the other (different names; one warm-up run not counted), \
         each rendering the template, creating a bare repository on Orbit's own git server, pushing one commit over smart HTTP and registering the catalog entry. \
         **Total** = from sending CreateRepositoryFromTemplate to seeing the run succeeded (GetWorkflow polled every 5 ms). \
         **Start call** = CreateRepositoryFromTemplate itself (it fetches and renders once to refuse bad parameters before starting). \
         The steps come from the run's events; fetch/render/create/push are timed inside the generate step and reported in its event. \
         Template folders are cached by (URL, commit, folder) and the commit is asked with `git ls-remote`, so *fetch* is the ls-remote when the template has not changed; \
         RegisterTemplate reads the template with an empty cache (a full fetch of the 1,000 files): its time is in the *RegisterTemplate (cold read)* column, next to the warm-up run's total. \
         Each generated repository is verified by cloning the last one (1 commit, {TEMPLATE_FILES} files). Target: total under 2 s on the embedded engine.\n\n\
         | store | engine | runs | total p50 (ms) | total p95 (ms) | start call p50 | generate p50 | fetch p50 | render p50 | create p50 | push p50 | register p50 | warm-up run | RegisterTemplate (cold read) | target |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        bytes as f64 / (1024.0 * 1024.0),
        args.generations,
    );
    for o in &outcomes {
        let m = |f: fn(&RunTimes) -> f64| median_p95(o.runs.iter().map(f)).0;
        let (p50, p95) = median_p95(o.runs.iter().map(|r| r.total));
        let target = if o.engine == "embedded" {
            if p95 < 2000.0 {
                "met (< 2 s)"
            } else {
                "not met (< 2 s)"
            }
        } else {
            "-"
        };
        md.push_str(&format!(
            "| {} | {} | {} | {p50:.0} | {p95:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {target} |\n",
            o.store,
            o.engine,
            o.runs.len(),
            m(|r| r.start_call),
            m(|r| r.generate),
            m(|r| r.fetch),
            m(|r| r.render),
            m(|r| r.create),
            m(|r| r.push),
            m(|r| r.register),
            o.cold.0,
            o.cold.1,
        ));
    }
    for m in missing {
        md.push_str(&format!("\n{m}\n"));
    }
    Ok(md)
}
