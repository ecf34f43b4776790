//! The `workflows` scenario: the demo workflow `orbit.demo.steps` with `--steps` no-op
//! steps, on the embedded engine (per store) and, given a Temporal server
//! (`--temporal-address`), on Temporal with an `orbit worker` beside `orbit serve`.
//!
//! 1. One run at a time (`--single-runs`): start-to-finish without load.
//! 2. StartWorkflow latency: `--concurrency` clients start runs for `--seconds`; the runs
//!    execute meanwhile. Then the backlog is left to drain.
//! 3. StartWorkflow at a steady rate (`--start-rate` starts per second, open loop, for
//!    `--seconds`): the start latency a caller sees while the engine runs that many
//!    workflows per second, rather than at saturation.
//! 4. Completion throughput: `--runs` runs started as fast as `--concurrency` clients can,
//!    then each run is polled (GetWorkflow, a few pollers walking the runs in order) until
//!    it is finished. Throughput and start-to-finish come from the server's own timestamps
//!    (create_time, and update_time of the final state).

use crate::Args;
use crate::common::{
    Backend, Client, Server, Stats, cpu_seconds_of, fmt_opt, measure_closed, parallel,
    parse_timestamp_ms, percentile,
};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const KIND: &str = "orbit.demo.steps";
const SUCCEEDED: &str = "WORKFLOW_STATUS_SUCCEEDED";
const FINISHED: &[&str] = &[
    SUCCEEDED,
    "WORKFLOW_STATUS_FAILED",
    "WORKFLOW_STATUS_CANCELLED",
];
const START_P95_TARGET_MS: f64 = 10.0;
const THROUGHPUT_TARGET: f64 = 200.0;
/// Clients polling runs until they finish.
const POLLERS: usize = 4;

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
    p50: f64,
    p95: f64,
    p99: f64,
    /// orbit serve (+ orbit worker) CPU per run, in milliseconds.
    cpu_ms_per_run: f64,
    /// PostgreSQL's CPU per run (its backends serving Orbit).
    db_cpu_ms_per_run: Option<f64>,
    /// The Temporal server's CPU per run, when its pid is known.
    temporal_cpu_ms_per_run: Option<f64>,
}

/// StartWorkflow at a steady offered rate.
struct Steady {
    rate: u32,
    sent: usize,
    errors: u64,
    p50: f64,
    p95: f64,
    p99: f64,
    /// Seconds after the last start until every started run had finished.
    drain_secs: Option<f64>,
}

struct Outcome {
    backend: String,
    engine: String,
    single: Single,
    start: Stats,
    steady: Steady,
    started_meanwhile: usize,
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

/// Server-side (create_time, update_time) of a run, in milliseconds.
fn run_ms(run: &Value) -> Option<(i64, i64)> {
    let created = parse_timestamp_ms(run["createTime"].as_str()?)?;
    let updated = parse_timestamp_ms(run["updateTime"].as_str()?)?;
    Some((created, updated))
}

type Finished = (String, Option<(i64, i64)>);

/// Polls every run until it is finished, `POLLERS` clients walking the runs in order (runs
/// finish roughly in the order they started, so most polls find a run done). Returns each
/// run's final status and timestamps (None: not finished within `max`).
async fn wait_finished(
    client: &Client,
    ws: &str,
    ids: Arc<Vec<String>>,
    max: Duration,
) -> Result<Vec<Option<Finished>>> {
    let deadline = Instant::now() + max;
    let results: Arc<Vec<OnceLock<Finished>>> =
        Arc::new((0..ids.len()).map(|_| OnceLock::new()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..POLLERS {
        let (client, ws, ids, results, next) = (
            client.clone(),
            ws.to_owned(),
            ids.clone(),
            results.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ids.len() {
                    return;
                }
                // Bounded by the deadline (and a cap on polls of one run).
                for _ in 0..1_000_000 {
                    if Instant::now() >= deadline {
                        return;
                    }
                    if let Ok(r) = get(&client, &ws, &ids[i]).await {
                        let status = r["status"].as_str().unwrap_or("");
                        if FINISHED.contains(&status) {
                            let _ = results[i].set((status.to_owned(), run_ms(&r)));
                            break;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(results.iter().map(|r| r.get().cloned()).collect())
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

/// Starts runs at `rate` per second for `secs` seconds, each start its own request whatever
/// the others do (open loop); returns the latencies (µs, sorted), errors and run ids.
async fn steady_starts(
    client: &Client,
    ws: Arc<str>,
    input: Arc<str>,
    rate: u32,
    secs: u64,
) -> (Vec<u64>, u64, Vec<String>) {
    let total = u64::from(rate) * secs;
    let every = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let lat: Arc<Mutex<Vec<u64>>> = Arc::default();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let errors = Arc::new(AtomicU64::new(0));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total as usize);
    for _ in 0..total {
        tick.tick().await;
        let (client, ws, input, lat, ids, errors) = (
            client.clone(),
            ws.clone(),
            input.clone(),
            lat.clone(),
            ids.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            match start(&client, &ws, &input).await {
                Ok(run) => {
                    lat.lock().unwrap().push(t0.elapsed().as_micros() as u64);
                    if let Some(id) = run["id"].as_str() {
                        ids.lock().unwrap().push(id.to_owned());
                    }
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut lat = std::mem::take(&mut *lat.lock().unwrap());
    lat.sort_unstable();
    let ids = std::mem::take(&mut *ids.lock().unwrap());
    (lat, errors.load(Ordering::Relaxed), ids)
}

/// The processes of one measured setup: orbit serve, and orbit worker on Temporal.
struct Processes {
    server: Server,
    worker: Option<Server>,
}

impl Processes {
    fn cpu_seconds(&self) -> f64 {
        self.server.cpu_seconds() + self.worker.as_ref().map_or(0.0, Server::cpu_seconds)
    }

    fn log_summary(&self) -> String {
        match &self.worker {
            None => self.server.log_summary(),
            Some(w) => format!(
                "orbit serve: {}; orbit worker: {}",
                self.server.log_summary(),
                w.log_summary()
            ),
        }
    }

    fn peak_rss_mib(&self) -> f64 {
        self.server.peak_rss_mib() + self.worker.as_ref().map_or(0.0, Server::peak_rss_mib)
    }
}

fn temporal_pid() -> Option<u32> {
    std::env::var("ORBIT_TEMPORAL_PID")
        .ok()
        .and_then(|p| p.parse().ok())
}

async fn run_backend(args: &Args, name: &str, engine: &str) -> Result<Outcome> {
    let backend = Backend::create(name, "wf", args.database_url.as_deref()).await?;
    let queue = format!("orbit-bench-{}-{name}", std::process::id());
    let address = args.temporal_address.clone().unwrap_or_default();
    let mut env = vec![("ORBIT_ENABLE_DEMO_WORKFLOWS", "1")];
    if engine == "temporal" {
        env.push(("ORBIT_WORKFLOW_ENGINE", "temporal"));
        env.push(("ORBIT_TEMPORAL_ADDRESS", address.as_str()));
        env.push(("ORBIT_TEMPORAL_TASK_QUEUE", queue.as_str()));
    }
    let started = (|| -> Result<Processes> {
        let server = Server::start(
            &args.orbit_bin,
            &backend.data_dir,
            backend.db_url.as_deref(),
            &env,
        )?;
        let worker = if engine == "temporal" {
            Some(Server::start_worker(
                &args.orbit_bin,
                &backend.data_dir,
                backend.db_url.as_deref(),
                &env,
            )?)
        } else {
            None
        };
        Ok(Processes { server, worker })
    })();
    let procs = match started {
        Ok(p) => p,
        Err(e) => {
            backend.cleanup().await;
            return Err(e);
        }
    };
    let result = measure_engine(args, name, engine, &procs).await;
    let rss = procs.peak_rss_mib();
    let log = procs.log_summary();
    drop(procs);
    backend.cleanup().await;
    let mut outcome = result?;
    outcome.rss = rss;
    outcome.log = log;
    Ok(outcome)
}

async fn measure_engine(
    args: &Args,
    name: &str,
    engine: &str,
    procs: &Processes,
) -> Result<Outcome> {
    let server = &procs.server;
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
            if reported_engine != engine {
                bail!(
                    "orbit serve ran the '{reported_engine}' engine, not '{engine}' (ORBIT_WORKFLOW_ENGINE ignored?)"
                );
            }
        }
        let id = run["id"].as_str().context("no run id")?.to_owned();
        let mut finished = None;
        // Bounded: 30 s per run.
        for _ in 0..15_000 {
            let r = get(&client, &ws_single, &id).await?;
            if r["status"] == SUCCEEDED {
                finished = Some(r);
                break;
            }
            if t0.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let r = finished.with_context(|| format!("run {id} did not succeed within 30 s"))?;
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
    let load_ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let start_stats = {
        let (client, ws, input, load_ids) = (
            client.clone(),
            ws_load.clone(),
            input.clone(),
            load_ids.clone(),
        );
        measure_closed(
            server,
            "StartWorkflow",
            args.concurrency,
            args.seconds,
            move |_, _| {
                let (client, ws, input, load_ids) =
                    (client.clone(), ws.clone(), input.clone(), load_ids.clone());
                async move {
                    let run = start(&client, &ws, &input).await?;
                    if let Some(id) = run["id"].as_str() {
                        load_ids.lock().unwrap().push(id.to_owned());
                    }
                    Ok(None)
                }
            },
        )
        .await?
    };
    let load_ids = Arc::new(std::mem::take(&mut *load_ids.lock().unwrap()));
    let started_meanwhile = load_ids.len();
    let t_drain = Instant::now();
    let drained = wait_finished(&client, &ws_load, load_ids, max_wait).await?;
    let drain = drained
        .iter()
        .all(Option::is_some)
        .then(|| t_drain.elapsed().as_secs_f64());
    println!(
        "  the {started_meanwhile} runs started meanwhile finished {} s after the load stopped",
        drain.map_or_else(
            || "(not within the wait limit)".into(),
            |d| format!("{d:.1}")
        )
    );

    // 2b. StartWorkflow at a steady rate.
    let ws_steady: Arc<str> = workspace(&client, "wf-steady").await?.into();
    let (lat, errors, steady_ids) = steady_starts(
        &client,
        ws_steady.clone(),
        input.clone(),
        args.start_rate,
        args.seconds,
    )
    .await;
    let t_drain = Instant::now();
    let drained = wait_finished(&client, &ws_steady, Arc::new(steady_ids), max_wait).await?;
    let steady = Steady {
        rate: args.start_rate,
        sent: lat.len() + usize::try_from(errors).unwrap_or(0),
        errors,
        p50: percentile(&lat, 0.5),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
        drain_secs: drained
            .iter()
            .all(Option::is_some)
            .then(|| t_drain.elapsed().as_secs_f64()),
    };
    println!(
        "  steady {} starts/s: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, {} errors",
        steady.rate, steady.p50, steady.p95, steady.p99, steady.errors
    );

    // 3. Completion throughput of a burst.
    let ws_burst: Arc<str> = workspace(&client, "wf-burst").await?.into();
    let runs = args.runs.max(1);
    let ids: Arc<Vec<OnceLock<String>>> = Arc::new((0..runs).map(|_| OnceLock::new()).collect());
    let start_errors = Arc::new(AtomicU64::new(0));
    let cpu_before = procs.cpu_seconds();
    let db_before = procs.server.db_cpu_seconds();
    let temporal_before = temporal_pid().map(cpu_seconds_of);
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
    let started_ids: Arc<Vec<String>> =
        Arc::new(ids.iter().filter_map(|i| i.get().cloned()).collect());
    let finished = wait_finished(&client, &ws_burst, started_ids, max_wait).await?;
    let cpu = procs.cpu_seconds() - cpu_before;
    let db_cpu = procs
        .server
        .db_cpu_seconds()
        .zip(db_before)
        .map(|(a, b)| a - b);
    let temporal_cpu = temporal_pid()
        .map(cpu_seconds_of)
        .zip(temporal_before)
        .map(|(after, before)| after - before);
    let ok: Vec<(i64, i64)> = finished
        .iter()
        .flatten()
        .filter(|(s, _)| s == SUCCEEDED)
        .filter_map(|(_, t)| *t)
        .collect();
    let failed = finished
        .iter()
        .flatten()
        .filter(|(s, _)| s != SUCCEEDED)
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
        p50: percentile(&lat, 0.5),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
        cpu_ms_per_run: cpu * 1000.0 / runs as f64,
        db_cpu_ms_per_run: db_cpu.map(|c| c * 1000.0 / runs as f64),
        temporal_cpu_ms_per_run: temporal_cpu.map(|c| c * 1000.0 / runs as f64),
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
    Ok(Outcome {
        backend: name.to_owned(),
        engine: reported_engine,
        single,
        start: start_stats,
        steady,
        started_meanwhile,
        drain_secs: drain,
        burst,
        rss: f64::NAN,
        log: String::new(),
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
    // Temporal: measured when a server is given and `orbit serve` actually runs it.
    let mut temporal_missing: Option<String> = None;
    match args.temporal_address.as_deref().filter(|a| !a.is_empty()) {
        None => {
            temporal_missing = Some(
                "no Temporal server given (--temporal-address or ORBIT_TEST_TEMPORAL_ADDRESS)"
                    .into(),
            );
        }
        Some(_) => {
            for b in backends {
                match run_backend(args, b, "temporal").await {
                    Ok(o) => outcomes.push(o),
                    Err(e) => {
                        temporal_missing = Some(format!("{b}: {e:#}"));
                        break;
                    }
                }
            }
        }
    }
    if let Some(reason) = &temporal_missing {
        println!("temporal: not measured (engine not configured): {reason}");
    }
    let mut md = format!(
        "## Scenario `workflows`\n\n\
         The demo workflow `{KIND}` with {} no-op steps (`sleep_ms: 0`), each step an activity whose outcome the engine records durably \
         (the embedded engine in Orbit's database; Temporal in its own store, with `orbit worker` running the workflow and activities). \
         Targets from the issue: embedded StartWorkflow p95 under {START_P95_TARGET_MS} ms; at least {THROUGHPUT_TARGET} three-step workflows per second on PostgreSQL.\n\n\
         ### StartWorkflow latency ({} concurrent clients, {} s; the started runs execute meanwhile)\n\n\
         | store | engine | requests | errors | throughput (starts/s) | p50 (ms) | p95 (ms) | p99 (ms) | orbit serve CPU per start (µs) | PostgreSQL CPU per start (µs) | target p95 < {START_P95_TARGET_MS} ms | the runs started meanwhile all finished after (s) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        args.steps, args.concurrency, args.seconds
    );
    for o in &outcomes {
        let s = &o.start;
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} | {} |\n",
            o.backend,
            o.engine,
            s.count,
            s.errors,
            s.throughput(),
            s.p50,
            s.p95,
            s.p99,
            s.server_cpu_us,
            fmt_opt(s.db_cpu_us, 0),
            if o.engine == "embedded" {
                met(s.p95 < START_P95_TARGET_MS)
            } else {
                "(embedded only)"
            },
            o.drain_secs.map_or_else(
                || format!("{} runs: not within the wait limit", o.started_meanwhile),
                |d| format!("{} runs: {d:.1}", o.started_meanwhile)
            )
        ));
    }
    if temporal_missing.is_some() {
        md.push_str("| - | temporal | not measured (engine not configured) | | | | | | | | | |\n");
    }
    md.push_str(
        "\nOn the embedded engine, orbit serve also executes the runs meanwhile: its CPU per start includes that work.\n",
    );
    md.push_str(&format!(
        "\n### StartWorkflow at a steady rate ({} starts per second offered for {} s, open loop; the runs execute meanwhile)\n\n\
         This is the start latency a caller sees while the engine keeps up with that many workflows per second; the table above is the saturation point.\n\n\
         | store | engine | starts | errors | p50 (ms) | p95 (ms) | p99 (ms) | target p95 < {START_P95_TARGET_MS} ms | every run finished (s after the last start) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        args.start_rate, args.seconds
    ));
    for o in &outcomes {
        let s = &o.steady;
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
            o.backend,
            o.engine,
            s.sent,
            s.errors,
            s.p50,
            s.p95,
            s.p99,
            if o.engine == "embedded" {
                met(s.p95 < START_P95_TARGET_MS && s.errors == 0)
            } else {
                "(embedded only)"
            },
            s.drain_secs
                .map_or_else(|| "not within the wait limit".into(), |d| format!("{d:.1}"))
        ));
    }
    md.push_str(&format!(
        "\n### Completion throughput (a burst of {} runs started by {} clients; each run then polled until finished)\n\n\
         | store | engine | runs | succeeded | failed | unfinished | starting took (s) | first start to last finish (s, server clock) | throughput (workflows/s) | start-to-finish p50 (ms) | p95 (ms) | p99 (ms) | Orbit CPU per workflow (ms) | PostgreSQL CPU per workflow (ms) | target ≥ {THROUGHPUT_TARGET}/s (PostgreSQL) | Orbit peak RSS (MiB) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        args.runs, args.concurrency
    ));
    for o in &outcomes {
        let b = &o.burst;
        let tput = b.succeeded as f64 / b.span_secs;
        let target = if o.backend == "postgres" && o.engine == "embedded" {
            met(tput >= THROUGHPUT_TARGET && b.succeeded == b.runs)
        } else if o.backend == "postgres" {
            if tput >= THROUGHPUT_TARGET && b.succeeded == b.runs {
                "(met, on Temporal)"
            } else {
                "(not met, on Temporal)"
            }
        } else {
            "(PostgreSQL only)"
        };
        let cpu = match b.temporal_cpu_ms_per_run {
            Some(t) if o.engine == "temporal" => {
                format!("{:.2} (+ {t:.2} in the Temporal server)", b.cpu_ms_per_run)
            }
            _ => format!("{:.2}", b.cpu_ms_per_run),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {:.0} |\n",
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
            cpu,
            fmt_opt(b.db_cpu_ms_per_run, 2),
            target,
            o.rss
        ));
    }
    if temporal_missing.is_some() {
        md.push_str(
            "| - | temporal | not measured (engine not configured) | | | | | | | | | | | | | |\n",
        );
    }
    md.push_str(&format!(
        "\nThroughput is succeeded runs / (last update_time − first create_time), both from the server. \
         Orbit CPU and RSS are orbit serve's (plus orbit worker's on Temporal), including the benchmark's polling (GetWorkflow until each run is finished, {POLLERS} pollers). \
         In a burst, start-to-finish includes the wait in the engine's queue (the embedded engine drives a bounded number of runs at a time), \
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
    if temporal_missing.is_some() {
        md.push_str("| - | temporal | not measured (engine not configured) | | | | |\n");
    }
    md.push('\n');
    if let Some(reason) = &temporal_missing {
        md.push_str(&format!(
            "temporal: not measured (engine not configured): {}\n\n",
            reason.replace('|', "/")
        ));
    }
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
