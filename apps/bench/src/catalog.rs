//! The `catalog` scenario: one workspace with a repository catalog of `--repositories`
//! entries and an API catalog of `--apis` entries, registered through the API; then
//! ListRepositories and ListApis with filters, and Search restricted to each kind (issues #5
//! and #6 ask for p95 under 10 ms at 64 concurrent clients).

use crate::Args;
use crate::common::{
    Backend, Client, Server, Stats, fmt_opt, measure, parallel, steady_cells, steady_header,
};
use crate::corpus::{self, Rng};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OWNERS: usize = 40;
const LANGUAGES: &[&str] = &["rust", "go", "typescript", "python", "java", "kotlin"];
const TOPICS: &[&str] = &[
    "payments",
    "search",
    "identity",
    "billing",
    "infra",
    "data",
    "mobile",
    "web",
    "ml",
    "observability",
    "messaging",
    "storage",
];
const LIFECYCLES: &[&str] = &["experimental", "production", "deprecated"];
const VISIBILITIES: &[&str] = &["internal", "public", "private"];
const FORMATS: &[&str] = &["openapi", "protobuf", "graphql", "asyncapi"];

/// Eight content words of entry `i`'s description (deterministic).
fn description(i: usize, salt: u64) -> String {
    let mut rng = Rng::new(corpus::mix(i as u64, salt));
    (0..8)
        .map(|_| corpus::content_word(&mut rng))
        .collect::<Vec<_>>()
        .join(" ")
}

fn repository(ws: &str, i: usize) -> Value {
    let topics = [TOPICS[i % TOPICS.len()], TOPICS[(i / 7) % TOPICS.len()]];
    json!({
        "workspaceId": ws,
        "name": format!("service-{i:05}"),
        "description": description(i, 1),
        "owner": format!("team-{:02}", i % OWNERS),
        "language": LANGUAGES[i % LANGUAGES.len()],
        "topics": if topics[0] == topics[1] { vec![topics[0]] } else { topics.to_vec() },
        "lifecycle": LIFECYCLES[i % LIFECYCLES.len()],
        "visibility": VISIBILITIES[i % VISIBILITIES.len()],
        "remoteUrl": format!("https://git.example.com/acme/service-{i:05}.git"),
    })
}

fn api(ws: &str, i: usize) -> Value {
    json!({
        "workspaceId": ws,
        "slug": format!("api-{i:05}"),
        "name": format!("API {i:05}"),
        "description": description(i, 2),
        "owner": format!("team-{:02}", i % OWNERS),
        "tags": [TOPICS[i % TOPICS.len()]],
        "format": FORMATS[i % FORMATS.len()],
        "lifecycle": LIFECYCLES[i % LIFECYCLES.len()],
    })
}

/// Registers `count` entries with `method`, 32 at a time; returns the seconds it took.
async fn seed(
    client: &Client,
    ws: &Arc<str>,
    count: usize,
    method: &'static str,
    make: fn(&str, usize) -> Value,
) -> Result<f64> {
    let started = Instant::now();
    let (client, ws) = (client.clone(), ws.clone());
    parallel(count, 32, move |i| {
        let (client, ws) = (client.clone(), ws.clone());
        async move {
            client.admin(method, &make(&ws, i)).await?;
            Ok(())
        }
    })
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Waits until `Search` for `kind` counts `count` documents; returns the seconds waited.
async fn wait_indexed(
    client: &Client,
    ws: &str,
    kind: &str,
    count: usize,
    max: u64,
) -> Result<f64> {
    let started = Instant::now();
    loop {
        let found = client
            .admin(
                "SearchService/Search",
                &json!({"workspaceId": ws, "kinds": [kind], "pageSize": 1}),
            )
            .await?;
        let total = found["total"]
            .as_str()
            .and_then(|t| t.parse::<usize>().ok())
            .or_else(|| found["total"].as_u64().map(|t| t as usize))
            .unwrap_or(0);
        if total >= count {
            return Ok(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > Duration::from_secs(max) {
            bail!("only {total} of {count} {kind} documents searchable after {max} s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Drives one RPC as the administrator; `make` builds request i; the mean of the listed
/// items (or hits) is reported.
async fn drive(
    server: &Server,
    client: &Client,
    args: &Args,
    name: &'static str,
    method: &'static str,
    items: &'static str,
    make: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> Result<Stats> {
    let make = Arc::new(make);
    let client = client.clone();
    measure(server, name, args.concurrency, args.seconds, move |_, i| {
        let (client, body) = (client.clone(), make(i));
        async move {
            let v = client.admin(method, &body).await?;
            Ok(Some(v[items].as_array().map_or(0, Vec::len) as f64))
        }
    })
    .await
}

struct Outcome {
    seeding: String,
    stats: Vec<Stats>,
    rss: f64,
    log: String,
}

async fn run_backend(args: &Args, name: &str) -> Result<Outcome> {
    let backend = Backend::create(name, "cat", args.database_url.as_deref()).await?;
    let server = Server::start(
        &args.orbit_bin,
        &backend.data_dir,
        backend.db_url.as_deref(),
        &[],
    )?;
    let client = Client::new(&server.url, args.concurrency)?;
    println!("catalog/{name}: orbit at {}", server.url);
    let created = client
        .admin(
            "WorkspaceService/CreateWorkspace",
            &json!({"slug": "catalog-bench", "name": "Catalog benchmark"}),
        )
        .await?;
    let ws: Arc<str> = created["workspace"]["id"]
        .as_str()
        .context("no workspace id")?
        .into();

    let (repos, apis) = (args.repositories.max(1), args.apis.max(1));
    let repo_secs = seed(
        &client,
        &ws,
        repos,
        "RepositoryService/RegisterRepository",
        repository,
    )
    .await?;
    println!("  registered {repos} repositories in {repo_secs:.1} s");
    let api_secs = seed(&client, &ws, apis, "ApiCatalogService/CreateApi", api).await?;
    println!("  created {apis} APIs in {api_secs:.1} s");
    let repo_wait = wait_indexed(&client, &ws, "repository", repos, args.max_wait).await?;
    let api_wait = wait_indexed(&client, &ws, "api", apis, args.max_wait).await?;
    let seeding = format!(
        "| {name} | {repos} | {repo_secs:.1} | {:.0} | {apis} | {api_secs:.1} | {:.0} | {:.1} |\n",
        repos as f64 / repo_secs,
        apis as f64 / api_secs,
        repo_wait.max(api_wait),
    );

    let mut stats = Vec::new();
    let w = ws.clone();
    stats.push(
        drive(&server, &client, args, "ListRepositories (owner)", "RepositoryService/ListRepositories", "repositories", move |i| {
            json!({"workspaceId": &*w, "owner": format!("team-{:02}", i % OWNERS), "pageSize": 50})
        })
        .await?,
    );
    let w = ws.clone();
    stats.push(
        drive(&server, &client, args, "ListRepositories (language + lifecycle, by update)", "RepositoryService/ListRepositories", "repositories", move |i| {
            {
            // A language and a lifecycle that occur together (entry j has LANGUAGES[j % 6] and LIFECYCLES[j % 3]).
            let l = i % LANGUAGES.len();
            json!({"workspaceId": &*w, "language": LANGUAGES[l], "lifecycle": LIFECYCLES[l % LIFECYCLES.len()], "sort": "updated", "pageSize": 50})
        }
        })
        .await?,
    );
    let w = ws.clone();
    stats.push(
        drive(
            &server,
            &client,
            args,
            "Search, repositories",
            "SearchService/Search",
            "results",
            move |i| {
                let query = description((i * 7919) % repos, 1)
                    .split(' ')
                    .nth(i % 8)
                    .unwrap_or_default()
                    .to_owned();
                json!({"workspaceId": &*w, "query": query, "kinds": ["repository"]})
            },
        )
        .await?,
    );
    let w = ws.clone();
    stats.push(
        drive(
            &server,
            &client,
            args,
            "ListApis (tag)",
            "ApiCatalogService/ListApis",
            "apis",
            move |i| json!({"workspaceId": &*w, "tag": TOPICS[i % TOPICS.len()], "pageSize": 50}),
        )
        .await?,
    );
    let w = ws.clone();
    stats.push(
        drive(
            &server,
            &client,
            args,
            "Search, APIs",
            "SearchService/Search",
            "results",
            move |i| {
                let query = description((i * 7919) % apis, 2)
                    .split(' ')
                    .nth(i % 8)
                    .unwrap_or_default()
                    .to_owned();
                json!({"workspaceId": &*w, "query": query, "kinds": ["api"]})
            },
        )
        .await?,
    );
    let rss = server.peak_rss_mib();
    let log = server.log_summary();
    drop(server);
    backend.cleanup().await;
    Ok(Outcome {
        seeding,
        stats,
        rss,
        log,
    })
}

pub async fn run(args: &Args, backends: &[&str]) -> Result<String> {
    let mut seeding = String::from(
        "### Seeding\n\n| store | repositories | registering (s) | (per s) | APIs | creating (s) | (per s) | all searchable after (s) |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut table = format!(
        "### Lists and search\n\n| store | RPC | requests | errors | saturation: throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | server CPU per request (µs) | PostgreSQL CPU per request (µs) | {} | mean results |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        steady_header()
    );
    let mut notes = String::new();
    for name in backends {
        let o = run_backend(args, name).await?;
        seeding.push_str(&o.seeding);
        for s in &o.stats {
            table.push_str(&format!(
                "| {name} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} | {} |\n",
                s.name,
                s.count,
                s.errors,
                s.throughput(),
                s.p50,
                s.p95,
                s.p99,
                s.server_cpu_us,
                fmt_opt(s.db_cpu_us, 0),
                steady_cells(&s.steady),
                fmt_opt(s.mean_value, 1),
            ));
        }
        notes.push_str(&format!(
            "- {name}: server peak RSS (VmHWM) {:.1} MiB; server log: {}\n",
            o.rss, o.log
        ));
    }
    Ok(format!(
        "## Scenario `catalog`\n\nOne workspace, {} repositories and {} APIs registered through the API (40 owners, 6 languages, 12 topics, 3 lifecycles; descriptions of eight generated words); {} concurrent clients, {} s per RPC. Lists ask for 50 entries; searches are one word of a random entry's description, restricted to the kind.\n\n{seeding}\n{table}\n{notes}",
        args.repositories, args.apis, args.concurrency, args.seconds
    ))
}
