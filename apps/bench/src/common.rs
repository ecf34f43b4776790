//! What every scenario shares: starting `orbit serve`, a Connect JSON client, the
//! closed-loop driver that measures latency, and small helpers. Every loop is bounded in
//! count and time.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

/// Variables that would change what a benchmarked server runs; only `extra_env` sets them.
const CLEARED_ENV: &[&str] = &[
    "ORBIT_DATABASE_URL",
    "ORBIT_REDIS_URL",
    "ORBIT_CACHE",
    "ORBIT_CONFIG",
    "ORBIT_SEARCH_URL",
    "ORBIT_SEARCH_API_KEY",
    "ORBIT_SEARCH_INDEX",
    "ORBIT_ENABLE_DEMO_WORKFLOWS",
    "ORBIT_WORKFLOW_ENGINE",
    "ORBIT_TEMPORAL_ADDRESS",
    "ORBIT_TEMPORAL_NAMESPACE",
    "ORBIT_TEMPORAL_TASK_QUEUE",
    "ORBIT_WORKER_ID",
    "ORBIT_LISTEN",
    "ORBIT_DATA_DIR",
];

pub struct Server {
    child: Child,
    pub url: String,
    /// Warnings and errors the server logged, by message (ids left out).
    log: Arc<Mutex<std::collections::BTreeMap<String, u64>>>,
    /// The PostgreSQL database it uses, if any (to count its backends' CPU).
    pg_database: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
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
    /// `orbit serve` on a free port.
    pub fn start(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Result<Server> {
        Self::spawn(
            bin,
            &["serve", "--listen", "127.0.0.1:0"],
            "Orbit is listening on ",
            data_dir,
            database_url,
            extra_env,
        )
    }

    /// `orbit serve` on `listen` (host:port), for setups that must know the URL beforehand
    /// (`ORBIT_PUBLIC_URL` shared with an `orbit worker`).
    pub fn start_on(
        bin: &Path,
        listen: &str,
        data_dir: &Path,
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Result<Server> {
        Self::spawn(
            bin,
            &["serve", "--listen", listen],
            "Orbit is listening on ",
            data_dir,
            database_url,
            extra_env,
        )
    }

    /// `orbit worker` (Temporal's workflows and activities) on the same data and database;
    /// its `url` is what it printed when ready.
    pub fn start_worker(
        bin: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Result<Server> {
        Self::spawn(
            bin,
            &["worker"],
            "Orbit worker polling ",
            data_dir,
            database_url,
            extra_env,
        )
    }

    fn spawn(
        bin: &Path,
        command: &[&str],
        ready: &'static str,
        data_dir: &Path,
        database_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> Result<Server> {
        let mut cmd = Command::new(bin);
        cmd.args(command)
            .arg("--data-dir")
            .arg(data_dir)
            .env("ORBIT_BOOTSTRAP_TOKEN", ADMIN_TOKEN)
            .env("ORBIT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        if let Some(url) = database_url {
            cmd.env("ORBIT_DATABASE_URL", url);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log: Arc<Mutex<std::collections::BTreeMap<String, u64>>> = Arc::default();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let line = strip_ansi(&line);
                    // Debugging output some builds print on every call: not forwarded.
                    if line.starts_with("TRACE ") {
                        continue;
                    }
                    if let Some(key) = log_key(&line) {
                        *log.lock().unwrap().entry(key).or_insert(0) += 1;
                    }
                    eprintln!("  [server] {line}");
                }
            });
        }
        // The server prints its URL within a few lines, or exits; wait at most 60 s.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(u) = line.strip_prefix(ready) {
                        let _ = tx.send(u.trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "orbit {} did not say it was ready within 60 s (or exited)",
                    command[0]
                );
            }
        };
        let pg_database = database_url
            .and_then(|u| u.rsplit_once('/'))
            .map(|(_, db)| db.split('?').next().unwrap_or(db).to_owned());
        Ok(Server {
            child,
            url,
            log,
            pg_database,
        })
    }

    /// CPU seconds (user + system) the server has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(self.child.id())
    }

    /// CPU seconds the PostgreSQL backends serving this server's database have used so far
    /// (None on SQLite, where the database works inside the server process).
    pub fn db_cpu_seconds(&self) -> Option<f64> {
        self.pg_database.as_deref().map(pg_backends_cpu)
    }

    /// "no warnings or errors", or how many of which the server logged.
    pub fn log_summary(&self) -> String {
        let log = self.log.lock().unwrap();
        if log.is_empty() {
            return "no warnings or errors logged".into();
        }
        let total: u64 = log.values().sum();
        let mut parts: Vec<(&String, &u64)> = log.iter().collect();
        parts.sort_by(|a, b| b.1.cmp(a.1));
        let shown: Vec<String> = parts
            .iter()
            .take(5)
            .map(|(k, n)| format!("{n}× `{}`", k.replace('`', "'").replace('|', "/")))
            .collect();
        format!("{total} warnings/errors logged: {}", shown.join("; "))
    }

    pub fn peak_rss_mib(&self) -> f64 {
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

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (a letter).
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// For a WARN or ERROR log line: its level, target and message, plus its `error=` field,
/// without the other fields (ids, timings), so that repeats count as one.
fn log_key(line: &str) -> Option<String> {
    let (level, rest) = [" WARN ", " ERROR "]
        .iter()
        .find_map(|l| line.split_once(l).map(|(_, r)| (l.trim(), r.trim())))?;
    let mut message = Vec::new();
    for word in rest.split(' ') {
        if word.contains('=') {
            break;
        }
        message.push(word);
    }
    let mut key = format!("{level} {}", message.join(" "));
    if let Some((_, err)) = rest.split_once(" error=") {
        // The value runs until the next ` name=` field.
        let words: Vec<&str> = err.split(' ').collect();
        let end = words
            .iter()
            .skip(1)
            .position(|w| {
                w.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
            .map_or(words.len(), |i| i + 1);
        key.push_str(&format!(" (error={})", words[..end].join(" ")));
    }
    if key.chars().count() > 200 {
        key = key.chars().take(200).collect::<String>() + "…";
    }
    Some(key)
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub url: String,
}

impl Client {
    pub fn new(url: &str, concurrency: usize) -> Result<Client> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency * 2)
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Client {
            http,
            url: url.to_owned(),
        })
    }

    pub async fn call(&self, method: &str, token: &str, body: &Value) -> Result<Value> {
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

    /// `call` as the administrator.
    pub async fn admin(&self, method: &str, body: &Value) -> Result<Value> {
        self.call(method, ADMIN_TOKEN, body).await
    }
}

/// Runs jobs `0..count` with `concurrency` workers; stops at the first error.
pub async fn parallel<F, Fut>(count: usize, concurrency: usize, f: F) -> Result<()>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
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

pub struct Stats {
    pub name: String,
    /// Server CPU time per request, in microseconds.
    pub server_cpu_us: f64,
    /// PostgreSQL's CPU time per request (its backends serving the server), in microseconds.
    pub db_cpu_us: Option<f64>,
    pub count: usize,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    /// The mean of what the requests reported (hits, pages listed…), when they report one.
    pub mean_value: Option<f64>,
    /// The steady-load phase, when it ran.
    pub steady: Option<Steady>,
}

impl Stats {
    pub fn throughput(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

/// The `p` quantile of sorted microseconds, in milliseconds.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

/// The share of the closed-loop throughput offered again in the steady-load phase of
/// [`measure`] (0 turns that phase off). Set once from the command line.
static STEADY_FRACTION: std::sync::OnceLock<f64> = std::sync::OnceLock::new();

pub fn set_steady_fraction(fraction: f64) {
    let _ = STEADY_FRACTION.set(fraction);
}

pub fn steady_fraction() -> f64 {
    STEADY_FRACTION.get().copied().unwrap_or(0.0)
}

/// Latencies at a steady offered rate below saturation (open loop, the same clients).
#[derive(Clone)]
pub struct Steady {
    /// Requests per second offered.
    pub rate: f64,
    pub count: usize,
    pub errors: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Table cells for [`Steady`] (four columns), or dashes.
pub fn steady_cells(steady: &Option<Steady>) -> String {
    match steady {
        Some(s) if s.errors == 0 => {
            format!("{:.0} | {:.2} | {:.2} | {:.2}", s.rate, s.p50, s.p95, s.p99)
        }
        Some(s) => format!(
            "{:.0} ({} errors) | {:.2} | {:.2} | {:.2}",
            s.rate, s.errors, s.p50, s.p95, s.p99
        ),
        None => "- | - | - | -".to_owned(),
    }
}

/// Header cells matching [`steady_cells`].
pub fn steady_header() -> String {
    let pct = (steady_fraction() * 100.0).round();
    format!("offered at {pct}% of that throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms)")
}

/// Drives requests for `seconds` with `concurrency` closed-loop clients and measures each
/// one (saturation: every client sends its next request as soon as the last one answered).
/// Then, unless turned off, the same clients are offered a steady rate of
/// [`steady_fraction`] × the throughput just measured, for `seconds` again (open loop: the
/// requests are scheduled at fixed times; one that finds every client busy waits, and that
/// wait counts in its latency). `f(worker, i)` makes and checks request `i` (numbered across
/// workers) and may return a value to average (hits, pages…).
pub async fn measure<F, Fut>(
    server: &Server,
    name: &str,
    concurrency: usize,
    seconds: u64,
    f: F,
) -> Result<Stats>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<f64>>> + Send,
{
    let mut stats = measure_closed(server, name, concurrency, seconds, f.clone()).await?;
    let fraction = steady_fraction();
    if fraction > 0.0 && stats.throughput() > 0.0 {
        let rate = stats.throughput() * fraction;
        let run = drive(concurrency, seconds, Some(rate), stats.count, f).await?;
        let steady = Steady {
            rate,
            count: run.latencies.len(),
            errors: run.errors,
            p50: percentile(&run.latencies, 0.50),
            p95: percentile(&run.latencies, 0.95),
            p99: percentile(&run.latencies, 0.99),
        };
        println!(
            "  {name} at a steady {:.0} req/s: {} requests, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, {} errors",
            steady.rate, steady.count, steady.p50, steady.p95, steady.p99, steady.errors
        );
        stats.steady = Some(steady);
    }
    Ok(stats)
}

/// What one driving phase saw.
struct Run {
    /// Microseconds, sorted.
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    seconds: f64,
    mean_value: Option<f64>,
}

/// Runs `f` on `concurrency` clients for `seconds`: closed loop when `rate` is `None`,
/// else open loop at `rate` requests per second. Requests are numbered from `first`.
async fn drive<F, Fut>(
    concurrency: usize,
    seconds: u64,
    rate: Option<f64>,
    first: usize,
    f: F,
) -> Result<Run>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<f64>>> + Send,
{
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    // Open loop: request k is due at started + k / rate; none is scheduled after the deadline.
    let scheduled = rate.map(|r| {
        (
            (r * seconds as f64) as usize,
            Duration::from_secs_f64(1.0 / r),
        )
    });
    let counter = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (f, counter, errors, first_error) = (
            f.clone(),
            counter.clone(),
            errors.clone(),
            first_error.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let (mut sum, mut n) = (0.0, 0usize);
            // Bounded: by the deadline (or the schedule), and by a hard cap per client.
            for _ in 0..1_000_000 {
                let k = counter.fetch_add(1, Ordering::Relaxed);
                let t0 = match scheduled {
                    None => {
                        if Instant::now() >= deadline {
                            break;
                        }
                        Instant::now()
                    }
                    Some((total, every)) => {
                        if k >= total {
                            break;
                        }
                        let due = started + every * k as u32;
                        if Instant::now() < due {
                            // Free before it is due: it leaves when the timer fires (the
                            // timer's own lateness is the load generator's, not counted).
                            tokio::time::sleep_until(due.into()).await;
                            Instant::now()
                        } else {
                            // Every client was busy when it fell due: the wait counts.
                            due
                        }
                    }
                };
                match f(w, first + k).await {
                    Ok(Some(v)) => {
                        sum += v;
                        n += 1;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut first = first_error.lock().unwrap();
                        if first.is_none() {
                            *first = Some(format!("{e:#}"));
                        }
                    }
                }
                lat.push(t0.elapsed().as_micros() as u64);
            }
            (lat, sum, n)
        }));
    }
    let mut all = Vec::new();
    let (mut sum, mut n) = (0.0, 0usize);
    for t in tasks {
        let (lat, s, k) = t.await?;
        all.extend(lat);
        sum += s;
        n += k;
    }
    all.sort_unstable();
    let first_error = first_error.lock().unwrap().take();
    Ok(Run {
        latencies: all,
        errors: errors.load(Ordering::Relaxed),
        first_error,
        seconds: started.elapsed().as_secs_f64(),
        mean_value: (n > 0).then(|| sum / n as f64),
    })
}

/// The closed-loop phase of [`measure`] alone.
pub async fn measure_closed<F, Fut>(
    server: &Server,
    name: &str,
    concurrency: usize,
    seconds: u64,
    f: F,
) -> Result<Stats>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<f64>>> + Send,
{
    let cpu_before = server.cpu_seconds();
    let db_before = server.db_cpu_seconds();
    let run = drive(concurrency, seconds, None, 0, f).await?;
    let cpu = server.cpu_seconds() - cpu_before;
    let db_cpu = server.db_cpu_seconds().zip(db_before).map(|(a, b)| a - b);
    let all = run.latencies;
    if let Some(e) = &run.first_error {
        eprintln!("  {name}: first error: {e}");
    }
    let stats = Stats {
        name: name.to_owned(),
        server_cpu_us: cpu * 1e6 / all.len().max(1) as f64,
        db_cpu_us: db_cpu.map(|c| c * 1e6 / all.len().max(1) as f64),
        count: all.len(),
        errors: run.errors,
        first_error: run.first_error,
        seconds: run.seconds,
        p50: percentile(&all, 0.50),
        p95: percentile(&all, 0.95),
        p99: percentile(&all, 0.99),
        mean_value: run.mean_value,
        steady: None,
    };
    println!(
        "  {name}: {} requests, {} errors, {:.0} req/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs/request, PostgreSQL CPU {} µs/request",
        stats.count,
        stats.errors,
        stats.throughput(),
        stats.p50,
        stats.p95,
        stats.p99,
        stats.server_cpu_us,
        fmt_opt(stats.db_cpu_us, 0)
    );
    Ok(stats)
}

/// CPU seconds (user + system) process `pid` has used so far (0 when it is gone).
pub fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
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

/// CPU seconds of the PostgreSQL backends connected to `database` (their command line names
/// it), as long as they live: the server's pool keeps its connections.
pub fn pg_backends_cpu(database: &str) -> f64 {
    let mut total = 0.0;
    let needle = format!(" {database} ");
    for (pid, _, comm, cpu) in process_table() {
        if !comm.starts_with("postgres") {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if format!(" {cmdline} ").contains(&needle) {
            total += cpu;
        }
    }
    total
}

/// CPU used by other work on the machine while a scenario runs: every process except this
/// one, its children (orbit serve, orbit worker) and PostgreSQL / Temporal servers, sampled
/// twice a second (a process that lives less than that is missed).
pub struct OtherLoad {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<f64>>,
    started: Instant,
}

fn process_table() -> Vec<(u32, u32, String, f64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let ppid = fields
            .get(1)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        out.push((pid, ppid, comm, (num(11) + num(12)) / 100.0));
    }
    out
}

impl OtherLoad {
    pub fn start() -> OtherLoad {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let me = std::process::id();
        let thread = std::thread::spawn(move || {
            let ours = |pid: u32, ppid: u32, comm: &str| {
                pid == me
                    || ppid == me
                    || comm.starts_with("postgres")
                    || comm.starts_with("temporal")
            };
            let mut first: std::collections::HashMap<u32, f64> = std::collections::HashMap::new();
            let mut last: std::collections::HashMap<u32, f64> = std::collections::HashMap::new();
            for (pid, ppid, comm, cpu) in process_table() {
                if !ours(pid, ppid, &comm) {
                    first.insert(pid, cpu);
                }
            }
            // Bounded: stops when asked, or after a day.
            for _ in 0..(2 * 86_400) {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
                for (pid, ppid, comm, cpu) in process_table() {
                    if !ours(pid, ppid, &comm) {
                        last.insert(pid, cpu);
                    }
                }
            }
            last.iter()
                .map(|(pid, cpu)| (cpu - first.get(pid).copied().unwrap_or(0.0)).max(0.0))
                .sum()
        });
        OtherLoad {
            stop,
            thread: Some(thread),
            started: Instant::now(),
        }
    }

    /// "N CPU-seconds in M s (X cores on average)".
    pub fn finish(mut self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let cpu = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or(f64::NAN);
        let wall = self.started.elapsed().as_secs_f64();
        format!(
            "{cpu:.0} CPU-seconds in {wall:.0} s ({:.2} cores on average)",
            cpu / wall
        )
    }
}

/// A fresh data directory and, for PostgreSQL, a fresh database; both removed on drop.
pub struct Backend {
    pub name: String,
    pub data_dir: PathBuf,
    pub db_url: Option<String>,
    pg: Option<(String, String)>,
}

impl Backend {
    pub async fn create(name: &str, scenario: &str, admin_url: Option<&str>) -> Result<Backend> {
        let tag = format!("{scenario}_{name}_{}", std::process::id());
        let data_dir = std::env::temp_dir().join(format!("orbit-bench-{tag}"));
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir)?;
        let (db_url, pg) = match name {
            "sqlite" => (None, None),
            "postgres" => {
                let admin_url = admin_url.context(
                    "the postgres backend needs --database-url or ORBIT_TEST_DATABASE_URL",
                )?;
                let db = format!("orbit_bench_{tag}");
                let pool = pg_pool(admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
                    .execute(&pool)
                    .await?;
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url, |(b, _)| b)
                    .to_owned();
                (
                    Some(format!("{base}/{db}")),
                    Some((admin_url.to_owned(), db)),
                )
            }
            other => bail!("unknown backend {other:?}: use sqlite, postgres or both"),
        };
        Ok(Backend {
            name: name.to_owned(),
            data_dir,
            db_url,
            pg,
        })
    }

    /// The database's size on disk: SQLite's files, or `pg_database_size`.
    pub async fn database_bytes(&self) -> Result<u64> {
        match &self.pg {
            None => {
                let mut total = 0;
                for entry in std::fs::read_dir(&self.data_dir)? {
                    let entry = entry?;
                    if entry.file_name().to_string_lossy().starts_with("orbit.db") {
                        total += entry.metadata()?.len();
                    }
                }
                Ok(total)
            }
            Some((admin, db)) => {
                let pool = pg_pool(admin).await?;
                let (size,): (i64,) = sqlx::query_as("SELECT pg_database_size($1)")
                    .bind(db)
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                Ok(u64::try_from(size).unwrap_or(0))
            }
        }
    }

    /// Removes the data directory and drops the database (the server must be stopped).
    pub async fn cleanup(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin, db)) = &self.pg {
            if let Ok(pool) = pg_pool(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
    }
}

async fn pg_pool(url: &str) -> Result<sqlx::PgPool> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await?)
}

/// Bytes of every file under `path`.
pub fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    // Bounded by the number of entries on disk; cap it anyway.
    for _ in 0..1_000_000 {
        let Some(dir) = stack.pop() else { break };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// `v` with `decimals`, or "-" (e.g. PostgreSQL CPU on SQLite).
pub fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// An int64 of the proto3 JSON mapping (a string) or a plain number.
pub fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch of an RFC 3339 timestamp (`2025-01-02T03:04:05.678Z` or
/// `…05.678+00:00`).
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let (s, offset_min) = if let Some(rest) = s.strip_suffix('Z') {
        (rest, 0)
    } else {
        let (rest, off) = s.split_at(s.len().checked_sub(6)?);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = off[1..].split_once(':')?;
        (
            rest,
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
        )
    };
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>());
    let (h, mi, se) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let mut ms = 0;
    for (i, c) in frac.chars().take(3).enumerate() {
        ms += i64::from(c.to_digit(10)?) * [100, 10, 1][i];
    }
    Some(((days_from_civil(y, mo, da) * 24 + h) * 60 + mi - offset_min) * 60_000 + se * 1000 + ms)
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Cores and memory of this machine, for the report.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cores} cores ({cpu}), {:.1} GiB RAM",
        mem_kb / (1024.0 * 1024.0)
    )
}

/// Waits until `check` returns true, polling every `every`, for at most `max`. Returns the
/// time it took, or None on timeout.
pub async fn wait_until<F, Fut>(every: Duration, max: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let max_polls = (max.as_millis() / every.as_millis().max(1)) as usize + 1;
    for _ in 0..max_polls {
        if check().await {
            return Some(started.elapsed());
        }
        if started.elapsed() >= max {
            return None;
        }
        tokio::time::sleep(every).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_keyed_without_ids() {
        let line = "2026-11-25T22:44:08.150807Z  WARN orbit_workflow_embedded: the database failed while driving a run; it will resume run=01a2 error=row already exists retry_in_ms=500";
        assert_eq!(
            log_key(line).unwrap(),
            "WARN orbit_workflow_embedded: the database failed while driving a run; it will resume (error=row already exists)"
        );
        assert_eq!(log_key("2026 INFO x: y"), None);
        assert_eq!(strip_ansi("\u{1b}[33m WARN\u{1b}[0m a"), " WARN a");
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp_ms("1970-01-02T00:00:01.5Z"),
            Some(86_401_500)
        );
        assert_eq!(
            parse_timestamp_ms("2025-03-01T12:00:00.123456Z"),
            Some(1_740_830_400_123)
        );
        assert_eq!(
            parse_timestamp_ms("2025-03-01T13:00:00.123+01:00"),
            Some(1_740_830_400_123)
        );
        assert_eq!(
            parse_timestamp_ms("1970-01-01T00:00:00.5-00:30"),
            Some(1_800_500)
        );
    }
}
