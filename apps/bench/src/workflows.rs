//! The `workflows` scenario: the demo workflow `orbit.demo.steps` with `--steps` no-op
//! steps on the embedded engine (per store), and Temporal when `orbit serve` runs it.
//!
//! 1. One run at a time (`--single-runs`): start-to-finish without load.
//! 2. StartWorkflow latency: `--concurrency` clients start runs for `--seconds`; the runs
//!    execute meanwhile. Then the backlog is left to drain.
//! 3. Completion throughput: `--runs` runs started as fast as `--concurrency` clients can,
//!    then ListWorkflows is polled until none is pending or running. Throughput and
//!    start-to-finish come from the server's own timestamps (create_time, and update_time
//!    of the final state).

use crate::Args;
use crate::common::{
    Backend, Client, Server, Stats, measure, parallel, parse_timestamp_ms, percentile, wait_until,
};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const KIND: &str = "orbit.demo.steps";
const SUCCEEDED: &str = "WORKFLOW_STATUS_SUCCEEDED";
const START_P95_TARGET_MS: f64 = 10.0;
const THROUGHPUT_TARGET: f64 = 200.0;

struct Single {
    runs: usize,
    p50: f64,
    p95: f64,
    max: f64,
    observed_p50: f64,
}

struct Burst {
    runs: usize,
    start_errors: u64,
    start_secs: f64,
    succeeded: usize,
    failed: usize,
    unfinished: usize,
    /// From the first create_time to the last update_time (server clock).
    span_secs: f64,
    /// From the first StartWorkflow sent until the poller saw nothing left (client clock).
    wall_secs: Option<f64>,
    p50: f64,
    p95: f64,
    p99: f64,
    cpu_ms_per_run: f64,
}

struct Outcome {
    backend: String,
    engine: String,
    single: Single,
    start: Stats,
    drain_secs: Option<f64>,
    burst: Burst,
    rss: f64,
    log: String,
}

fn input(steps: u32) -> String {
    json!({"steps": steps, "sleep_ms": 0}).to_string()
}

async fn start(client: &Client, ws: &str, input: &str) -> Result<Value> {
    let v = client
        .admin(
            "WorkflowService/StartWorkflow",
            &json!({"workspaceId": ws, "kind": KIND, "input": input}),
        )
        .await?;
    Ok(v["workflow"].clone())
}

async fn get(client: &Client, ws: &str, id: &str) -> Result<Value> {
    let v = client
        .admin(
            "WorkflowService/GetWorkflow",
            &json!({"workspaceId": ws, "id": id}),
        )
        .await?;
    Ok(v["workflow"].clone())
}

/// Whether no run of `ws` is pending or running.
async fn idle(client: &Client, ws: &str) -> Result<bool> {
    for status in ["WORKFLOW_STATUS_PENDING", "WORKFLOW_STATUS_RUNNING"] {
        let v = client
            .admin(
                "WorkflowService/ListWorkflows",
                &json!({"workspaceId": ws, "status": status, "pageSize": 1}),
            )
            .await?;
        if v["workflows"].as_array().is_some_and(|a| !a.is_empty()) {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn wait_idle(client: &Client, ws: &str, max: Duration) -> Option<Duration> {
    wait_until(Duration::from_millis(100), max, || {
        let (client, ws) = (client.clone(), ws.to_owned());
        async move { idle(&client, &ws).await.unwrap_or(false) }
    })
    .await
}

/// Server-side start-to-finish of a finished run, in milliseconds.
fn run_ms(run: &Value) -> Option<(i64, i64)> {
    let created = parse_timestamp_ms(run["createTime"].as_str()?)?;
    let updated = parse_timestamp_ms(run["updateTime"].as_str()?)?;
    Some((created, updated))
}

async fn workspace(client: &Client, slug: &str) -> Result<String> {
    let v = client
        .admin(
            "WorkspaceService/CreateWorkspace",
            &json!({"slug": slug, "name": slug}),
        )
        .await?;
    Ok(v["workspace"]["id"]
        .as_str()
        .context("no workspace id")?
        .to_owned())
}

fn engine_env(engine: &str) -> Vec<(&'static str, &str)> {
    let mut env = vec![("ORBIT_ENABLE_DEMO_WORKFLOWS", "1")];
    if engine != "embedded" {
        env.push(("ORBIT_WORKFLOW_ENGINE", engine));
    }
    env
}

async fn run_backend(args: &Args, name: &str, engine: &str) -> Result<Outcome> {
    let backend = Backend::create(name, "wf", args.database_url.as_deref()).await?;
    let server = match Server::start(
        &args.orbit_bin,
        &backend.data_dir,
        backend.db_url.as_deref(),
        &engine_env(engine),
    ) {
        Ok(s) => s,
        Err(e) => {
            backend.cleanup().await;
            return Err(e);
        }
    };
    let client = Client::new(&server.url, args.concurrency)?;
    println!("workflows/{name}/{engine}: orbit at {}", server.url);
    let input: Arc<str> = input(args.steps).into();
    let max_wait = Duration::from_secs(args.max_wait);

    // 1. One run at a time.
    let ws_single = workspace(&client, "wf-single").await?;
    let (mut server_ms, mut observed_ms) = (Vec::new(), Vec::new());
    let mut reported_engine = String::new();
    for _ in 0..args.single_runs {
        let t0 = Instant::now();
        let run = start(&client, &ws_single, &input).await?;
        if reported_engine.is_empty() {
            reported_engine = run["engine"].as_str().unwrap_or("?").to_owned();
            if engine != "embedded" && reported_engine != engine {
                drop(server);
                backend.cleanup().await;
                bail!(
                    "orbit serve ignored ORBIT_WORKFLOW_ENGINE={engine} and ran the '{reported_engine}' engine"
                );
            }
        }
        let id = run["id"].as_str().context("no run id")?.to_owned();
        let mut finished = None;
        // Bounded: 10 s per run.
        for _ in 0..5000 {
            let r = get(&client, &ws_single, &id).await?;
            if r["status"] == SUCCEEDED {
                finished = Some(r);
                break;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let r = finished.with_context(|| format!("run {id} did not succeed within 10 s"))?;
        observed_ms.push(t0.elapsed().as_micros() as u64);
        if let Some((c, u)) = run_ms(&r) {
            server_ms.push(u64::try_from(u - c).unwrap_or(0) * 1000);
        }
    }
    server_ms.sort_unstable();
    observed_ms.sort_unstable();
    let single = Single {
        runs: server_ms.len(),
        p50: percentile(&server_ms, 0.5),
        p95: percentile(&server_ms, 0.95),
        max: server_ms.last().map_or(f64::NAN, |v| *v as f64 / 1000.0),
        observed_p50: percentile(&observed_ms, 0.5),
    };
    println!(
        "  one at a time: start-to-finish p50 {:.1} ms, p95 {:.1} ms (server timestamps), observed p50 {:.1} ms",
        single.p50, single.p95, single.observed_p50
    );

    // 2. StartWorkflow latency under load.
    let ws_load: Arc<str> = workspace(&client, "wf-load").await?.into();
    let start_stats = {
        let (client, ws, input) = (client.clone(), ws_load.clone(), input.clone());
        measure(
            &server,
            "StartWorkflow",
            args.concurrency,
            args.seconds,
            move |_, _| {
                let (client, ws, input) = (client.clone(), ws.clone(), input.clone());
                async move {
                    start(&client, &ws, &input).await?;
                    Ok(None)
                }
            },
        )
        .await?
    };
    let drain = wait_idle(&client, &ws_load, max_wait)
        .await
        .map(|d| d.as_secs_f64());
    println!(
        "  the {} runs started meanwhile finished {} s after the load stopped",
        start_stats.count,
        drain.map_or_else(
            || "(not within the wait limit)".into(),
            |d| format!("{d:.1}")
        )
    );

    // 3. Completion throughput of a burst.
    let ws_burst: Arc<str> = workspace(&client, "wf-burst").await?.into();
    let runs = args.runs.max(1);
    let ids: Arc<Vec<OnceLock<String>>> = Arc::new((0..runs).map(|_| OnceLock::new()).collect());
    let start_errors = Arc::new(AtomicU64::new(0));
    let cpu_before = server.cpu_seconds();
    let t0 = Instant::now();
    {
        let (client, ws, input, ids, errors) = (
            client.clone(),
            ws_burst.clone(),
            input.clone(),
            ids.clone(),
            start_errors.clone(),
        );
        parallel(runs, args.concurrency, move |i| {
            let (client, ws, input, ids, errors) = (
                client.clone(),
                ws.clone(),
                input.clone(),
                ids.clone(),
                errors.clone(),
            );
            async move {
                match start(&client, &ws, &input).await {
                    Ok(run) => {
                        if let Some(id) = run["id"].as_str() {
                            let _ = ids[i].set(id.to_owned());
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("  StartWorkflow failed: {e:#}");
                        }
                    }
                }
                Ok(())
            }
        })
        .await?;
    }
    let start_secs = t0.elapsed().as_secs_f64();
    let wall = wait_idle(&client, &ws_burst, max_wait)
        .await
        .map(|_| t0.elapsed().as_secs_f64());
    let cpu = server.cpu_seconds() - cpu_before;
    let finished: Arc<Mutex<Vec<(String, Option<(i64, i64)>)>>> = Arc::new(Mutex::new(Vec::new()));
    {
        let (client, ws, ids, finished) = (
            client.clone(),
            ws_burst.clone(),
            ids.clone(),
            finished.clone(),
        );
        parallel(runs, 16, move |i| {
            let (client, ws, ids, finished) =
                (client.clone(), ws.clone(), ids.clone(), finished.clone());
            async move {
                if let Some(id) = ids[i].get() {
                    let r = get(&client, &ws, id).await?;
                    let status = r["status"].as_str().unwrap_or("?").to_owned();
                    finished.lock().unwrap().push((status, run_ms(&r)));
                }
                Ok(())
            }
        })
        .await?;
    }
    let finished = std::mem::take(&mut *finished.lock().unwrap());
    let ok: Vec<(i64, i64)> = finished
        .iter()
        .filter(|(s, _)| s == SUCCEEDED)
        .filter_map(|(_, t)| *t)
        .collect();
    let failed = finished
        .iter()
        .filter(|(s, _)| s == "WORKFLOW_STATUS_FAILED" || s == "WORKFLOW_STATUS_CANCELLED")
        .count();
    let first = ok.iter().map(|(c, _)| *c).min().unwrap_or(0);
    let last = ok.iter().map(|(_, u)| *u).max().unwrap_or(0);
    let mut lat: Vec<u64> = ok
        .iter()
        .map(|(c, u)| u64::try_from(u - c).unwrap_or(0) * 1000)
        .collect();
    lat.sort_unstable();
    let burst = Burst {
        runs,
        start_errors: start_errors.load(Ordering::Relaxed),
        start_secs,
        succeeded: ok.len(),
        failed,
        unfinished: finished.len() - ok.len() - failed,
        span_secs: (last - first) as f64 / 1000.0,
        wall_secs: wall,
        p50: percentile(&lat, 0.5),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
        cpu_ms_per_run: cpu * 1000.0 / runs as f64,
    };
    println!(
        "  burst of {runs}: {} succeeded, {} failed, in {:.2} s (server clock): {:.0} workflows/s; start-to-finish p50 {:.0} ms, p95 {:.0} ms",
        burst.succeeded,
        burst.failed,
        burst.span_secs,
        burst.succeeded as f64 / burst.span_secs,
        burst.p50,
        burst.p95
    );
    let rss = server.peak_rss_mib();
    let log = server.log_summary();
    drop(server);
    backend.cleanup().await;
    Ok(Outcome {
        backend: name.to_owned(),
        engine: reported_engine,
        single,
        start: start_stats,
        drain_secs: drain,
        burst,
        rss,
        log,
    })
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

pub async fn run(args: &Args, backends: &[&str]) -> Result<String> {
    let mut outcomes = Vec::new();
    for b in backends {
        outcomes.push(run_backend(args, b, "embedded").await?);
    }
    // Temporal: measured only when `orbit serve` actually runs it.
    let temporal = match run_backend(args, "sqlite", "temporal").await {
        Ok(o) => {
            outcomes.push(o);
            None
        }
        Err(e) => {
            let reason = format!("{e:#}");
            println!("temporal: not measured (engine not configured): {reason}");
            Some(reason)
        }
    };
    let mut md = format!(
        "## Scenario `workflows`\n\n\
         The demo workflow `{KIND}` with {} no-op steps (`sleep_ms: 0`), each step an activity whose completion the engine records in the database. \
         Targets from the issue: embedded StartWorkflow p95 under {START_P95_TARGET_MS} ms; at least {THROUGHPUT_TARGET} three-step workflows per second on PostgreSQL.\n\n\
         ### StartWorkflow latency ({} concurrent clients, {} s; the started runs execute meanwhile)\n\n\
         | store | engine | requests | errors | throughput (starts/s) | p50 (ms) | p95 (ms) | p99 (ms) | server CPU per start (µs) | target p95 < {START_P95_TARGET_MS} ms | backlog finished after (s) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        args.steps, args.concurrency, args.seconds
    );
    for o in &outcomes {
        let s = &o.start;
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} |\n",
            o.backend,
            o.engine,
            s.count,
            s.errors,
            s.throughput(),
            s.p50,
            s.p95,
            s.p99,
            s.server_cpu_us,
            met(s.p95 < START_P95_TARGET_MS),
            o.drain_secs
                .map_or_else(|| "not within the wait limit".into(), |d| format!("{d:.1}"))
        ));
    }
    if let Some(reason) = &temporal {
        md.push_str(&format!(
            "| - | temporal | not measured (engine not configured) | | | | | | | | |\n\n\
             temporal: not measured (engine not configured): {}\n",
            reason.replace('|', "/")
        ));
    }
    md.push_str(&format!(
        "\n### Completion throughput (a burst of {} runs started by {} clients, then polled until none is pending or running)\n\n\
         | store | engine | runs | succeeded | failed | unfinished | starting took (s) | first start to last finish (s, server clock) | throughput (workflows/s) | start-to-finish p50 (ms) | p95 (ms) | p99 (ms) | server CPU per workflow (ms) | target ≥ {THROUGHPUT_TARGET}/s (PostgreSQL) | server peak RSS (MiB) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        args.runs, args.concurrency
    ));
    for o in &outcomes {
        let b = &o.burst;
        let tput = b.succeeded as f64 / b.span_secs;
        let target = if o.backend == "postgres" {
            met(tput >= THROUGHPUT_TARGET && b.succeeded == b.runs)
        } else {
            "(PostgreSQL only)"
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {} | {:.0} |\n",
            o.backend,
            o.engine,
            b.runs,
            b.succeeded,
            b.failed,
            b.unfinished + usize::try_from(b.start_errors).unwrap_or(0),
            b.start_secs,
            b.span_secs,
            tput,
            b.p50,
            b.p95,
            b.p99,
            b.cpu_ms_per_run,
            target,
            o.rss
        ));
        if b.wall_secs.is_none() {
            md.push_str(&format!(
                "\n{}: not every run had finished when the wait limit ({} s) was reached.\n",
                o.backend, args.max_wait
            ));
        }
    }
    if temporal.is_some() {
        md.push_str(
            "| - | temporal | not measured (engine not configured) | | | | | | | | | | | | |\n",
        );
    }
    md.push_str(&format!(
        "\nIn a burst, start-to-finish includes the wait in the engine's queue (the embedded engine drives a bounded number of runs at a time), \
         so it grows with the burst's size; the unloaded figure is below.\n\n\
         ### One run at a time ({} runs, start-to-finish from the server's timestamps, millisecond resolution)\n\n\
         | store | engine | runs | p50 (ms) | p95 (ms) | max (ms) | seen finished by a client polling every 2 ms, p50 (ms) |\n|---|---|---|---|---|---|---|\n",
        args.single_runs
    ));
    for o in &outcomes {
        let s = &o.single;
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.1} |\n",
            o.backend, o.engine, s.runs, s.p50, s.p95, s.max, s.observed_p50
        ));
    }
    md.push('\n');
    for o in &outcomes {
        md.push_str(&format!(
            "- {} ({}): server log: {}\n",
            o.backend, o.engine, o.log
        ));
    }
    if let Some(e) = outcomes.iter().find_map(|o| o.start.first_error.as_ref()) {
        md.push_str(&format!(
            "\nFirst StartWorkflow error: `{}`\n",
            e.replace('`', "'")
        ));
    }
    Ok(md)
}
