//! `orbit-bench`: starts `orbit serve` on SQLite and/or PostgreSQL, seeds it through the
//! API, then drives each measured RPC with N concurrent closed-loop clients over Connect
//! JSON on loopback and prints p50/p95/p99 latency, throughput, server CPU per request and
//! the server's peak RSS (VmHWM) as Markdown tables. Every loop is bounded in count and time.
//!
//! Scenarios (`--scenario`):
//! - `workspaces`: workspaces, users and members (GetWorkspace, ListWorkspaces, ListMembers,
//!   CreateWorkspace);
//! - `knowledge`: a workspace of generated pages (seeding and indexing throughput, index
//!   size, GetPage, ListPages, Search, UpdatePage);
//! - `catalog`: a repository catalog and an API catalog (ListRepositories, ListApis and
//!   Search for each kind);
//! - `workflows`: a three-step no-op workflow on the embedded engine (start latency,
//!   completion throughput, start-to-finish), and on Temporal when given a Temporal server;
//! - `generate`: "create a repository from a template" end to end (a 1,000-file template,
//!   start-to-succeeded time and each step), on the embedded engine and on Temporal when
//!   given a Temporal server; not part of `all`.
//! - `all` (the default): the first four in turn.

mod catalog;
mod common;
mod corpus;
mod generate;
mod knowledge;
mod workflows;
mod workspaces;

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;

/// mimalloc instead of glibc's malloc: under concurrent requests glibc's arenas cost about a
/// quarter of the server's CPU (lock waits included); see docs/benchmarks.md. Its `override`
/// feature makes the C code linked in (SQLite) allocate from it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

#[derive(Parser, Clone)]
#[command(
    about = "Load-test orbit serve over Connect JSON and print latency, throughput and peak RSS"
)]
pub struct Args {
    /// What to measure: workspaces, knowledge, workflows or all.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// The orbit binary to start (build it with --release for meaningful figures).
    #[arg(long, default_value = "target/release/orbit")]
    orbit_bin: PathBuf,
    /// Which store(s) to measure: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// A PostgreSQL server (admin URL) for the postgres backend; a fresh database is created
    /// for each scenario and dropped afterwards.
    #[arg(long, env = "ORBIT_TEST_DATABASE_URL")]
    database_url: Option<String>,
    /// Concurrent clients driving each measured RPC.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds each measured RPC is driven for.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Longest wait for background work (search indexing, workflow runs), in seconds.
    #[arg(long, default_value_t = 900)]
    max_wait: u64,
    /// Also write the result tables (Markdown) to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,

    /// workspaces: how many workspaces to seed.
    #[arg(long, default_value_t = 1000)]
    workspaces: usize,
    /// workspaces: members per workspace, the owner included.
    #[arg(long, default_value_t = 20)]
    members: usize,
    /// workspaces: users to spread the memberships over.
    #[arg(long, default_value_t = 2000)]
    users: usize,

    /// knowledge: pages to seed (generated Markdown, 2 to 4 KB each).
    #[arg(long, default_value_t = 50_000)]
    pages: usize,
    /// knowledge: spaces to spread the pages over.
    #[arg(long, default_value_t = 10)]
    spaces: usize,
    /// knowledge: concurrent writers while seeding.
    #[arg(long, default_value_t = 32)]
    writers: usize,

    /// catalog: repositories to register.
    #[arg(long, default_value_t = 50_000)]
    repositories: usize,
    /// catalog: APIs to create.
    #[arg(long, default_value_t = 10_000)]
    apis: usize,

    /// workflows: runs started at once to measure completion throughput.
    #[arg(long, default_value_t = 2000)]
    runs: usize,
    /// workflows: steps of each run.
    #[arg(long, default_value_t = 3)]
    steps: u32,
    /// workflows: starts per second offered in the steady-rate StartWorkflow measurement.
    #[arg(long, default_value_t = 200)]
    start_rate: u32,
    /// workflows: runs measured one at a time (start-to-finish without load).
    #[arg(long, default_value_t = 50)]
    single_runs: usize,
    /// workflows: a Temporal frontend (host:port) to also measure the Temporal engine, with an
    /// `orbit worker` beside `orbit serve` (scripts/lib/temporal.sh starts a dev server).
    #[arg(long, env = "ORBIT_TEST_TEMPORAL_ADDRESS")]
    temporal_address: Option<String>,

    /// After each closed-loop measurement, offer this share of the throughput it reached as a
    /// steady rate to the same clients (open loop) and report those latencies too: how the
    /// server answers under load short of saturation. 0 skips that phase.
    #[arg(long, default_value_t = 0.5)]
    steady_fraction: f64,

    /// generate: measured runs of CreateRepositoryFromTemplate per store and engine.
    #[arg(long, default_value_t = 20)]
    generations: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one @ ("sqlite" | "postgres") => vec![one],
        other => bail!("unknown backend {other:?}: use sqlite, postgres or both"),
    };
    let scenarios: Vec<&str> = match args.scenario.as_str() {
        "all" => vec!["workspaces", "knowledge", "catalog", "workflows"],
        one @ ("workspaces" | "knowledge" | "catalog" | "workflows" | "generate") => vec![one],
        other => {
            bail!(
                "unknown scenario {other:?}: use workspaces, knowledge, catalog, workflows, generate or all"
            )
        }
    };
    if args.concurrency == 0 || args.seconds == 0 {
        bail!("--concurrency and --seconds must be positive");
    }
    if !(0.0..1.0).contains(&args.steady_fraction) {
        bail!("--steady-fraction must be at least 0 and below 1");
    }
    common::set_steady_fraction(args.steady_fraction);
    let mut md = format!(
        "# Orbit load test ({})\n\n\
         Machine: {}. Client (orbit-bench) and server (orbit serve) on the same machine and the same cores; Connect JSON over HTTP/1.1 on loopback; \
         {} closed-loop clients, {} s per measured RPC. Stores: {}. \
         Server CPU per request = CPU time (user + system) of the orbit serve process during the measurement / requests: on SQLite it includes the database's work; \
         on PostgreSQL the database's own CPU (its backends connected to Orbit's database) is reported in a separate column.\n\n",
        common::today_utc(),
        common::machine(),
        args.concurrency,
        args.seconds,
        backends.join(", "),
    );
    let started = Instant::now();
    for scenario in scenarios {
        let t = Instant::now();
        let other = common::OtherLoad::start();
        let section = match scenario {
            "workspaces" => workspaces::run(&args, &backends).await,
            "knowledge" => knowledge::run(&args, &backends).await,
            "catalog" => catalog::run(&args, &backends).await,
            "generate" => generate::run(&args, &backends).await,
            _ => workflows::run(&args, &backends).await,
        }
        .with_context(|| format!("scenario {scenario}"))?;
        println!(
            "scenario {scenario} done in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        md.push_str(&section);
        let other = other.finish();
        println!("  other work on the machine meanwhile: {other}");
        md.push_str(&format!(
            "\nOther work on the machine during this scenario (processes other than orbit-bench, orbit and the PostgreSQL/Temporal servers, e.g. other engineers' builds and tests): {other}.\n\n"
        ));
        // Write what we have so far: a long run keeps its finished scenarios.
        if let Some(path) = &args.markdown {
            std::fs::write(path, &md).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    md.push_str(&format!(
        "Total benchmark time: {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    println!("\n{md}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &md).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
