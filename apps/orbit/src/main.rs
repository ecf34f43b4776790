use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use orbit::App;
use orbit::config::{CacheChoice, Config, FileConfig, SearchChoice, parse_database};
use std::net::SocketAddr;
use std::path::PathBuf;

/// mimalloc instead of glibc's malloc: under concurrent requests glibc's arenas cost about a
/// quarter of the server's CPU (lock waits included); see docs/benchmarks.md. Its `override`
/// feature makes the C code linked in (SQLite) allocate from it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Orbit: an internal developer portal in one binary.
///
/// `orbit serve` runs everything on embedded defaults (SQLite in the data directory, no
/// cache): nothing else to install. Point it at PostgreSQL and Redis with
/// ORBIT_DATABASE_URL and ORBIT_REDIS_URL when one machine is not enough.
#[derive(Parser)]
#[command(name = "orbit", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the web UI and the docs.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit (`serve` also migrates on start).
    Migrate(Common),
    /// Run workflows and activities for Temporal (with ORBIT_WORKFLOW_ENGINE=temporal):
    /// `orbit serve` starts and watches runs, any number of `orbit worker`s execute them.
    Worker(SearchArgs),
    /// Rebuild the search index from the database (stop `orbit serve` first when the index
    /// is the embedded one: it lives in the data directory).
    Reindex(SearchArgs),
    /// Manage the key that encrypts stored secrets (git host tokens).
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-encrypt every stored secret with a new key, in one transaction. With the key file
    /// (no ORBIT_SECRET_KEY) the file is updated too; with ORBIT_SECRET_KEY, set it to the
    /// new key afterwards (keep the old one in ORBIT_SECRET_PREVIOUS_KEYS until every
    /// instance runs with the new key).
    RotateKey(RotateKeyArgs),
}

#[derive(Args)]
struct RotateKeyArgs {
    #[command(flatten)]
    common: Common,
    /// The new key: 32 random bytes in base64 (e.g. `openssl rand -base64 32`).
    #[arg(
        long,
        env = "ORBIT_NEW_SECRET_KEY",
        hide_env_values = true,
        conflicts_with = "generate"
    )]
    new_key: Option<String>,
    /// Generate the new key (printed once when ORBIT_SECRET_KEY is used, so you can set it).
    #[arg(long)]
    generate: bool,
}

#[derive(Args, Clone)]
struct SearchArgs {
    #[command(flatten)]
    common: Common,
    /// A Meilisearch server (http://host:7700); default: the embedded index in the data directory.
    #[arg(long, env = "ORBIT_SEARCH_URL")]
    search_url: Option<String>,
    /// The Meilisearch API key.
    #[arg(long, env = "ORBIT_SEARCH_API_KEY", hide_env_values = true)]
    search_api_key: Option<String>,
    /// The Meilisearch index to use.
    #[arg(long, env = "ORBIT_SEARCH_INDEX")]
    search_index: Option<String>,
}

#[derive(Args, Clone)]
struct Common {
    /// A TOML configuration file; flags and ORBIT_* variables override it.
    #[arg(long, short, env = "ORBIT_CONFIG")]
    config: Option<PathBuf>,
    /// Where Orbit keeps its data on embedded defaults (the SQLite database).
    #[arg(long, env = "ORBIT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://user:password@host:port/db for PostgreSQL; default: SQLite in the data directory.
    #[arg(long, env = "ORBIT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "ORBIT_LOG_JSON")]
    log_json: bool,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    search: SearchArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "ORBIT_LISTEN")]
    listen: Option<SocketAddr>,
    /// redis://host:port/db to cache hot reads in Redis, shared by every instance.
    #[arg(long, env = "ORBIT_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// The cache for hot reads: none, memory (this process only) or redis. Default: redis
    /// when a Redis URL is set, else memory on SQLite and none on PostgreSQL.
    #[arg(long, env = "ORBIT_CACHE")]
    cache: Option<String>,
    /// The administrator's token on first start; default: a random one, printed once.
    #[arg(long, env = "ORBIT_BOOTSTRAP_TOKEN", hide_env_values = true)]
    bootstrap_token: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, env = "ORBIT_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
}

fn resolve(common: &Common) -> Result<(Config, FileConfig)> {
    let file = match &common.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let data_dir = common
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(".orbit"));
    let mut config = Config::embedded(data_dir.clone());
    config.apply_git_env()?;
    let url = common
        .database_url
        .clone()
        .or_else(|| file.database_url.clone());
    config.database = parse_database(url.as_deref(), &data_dir)?;
    if let Some(n) = file.database_max_connections {
        config.database_max_connections = n;
    }
    Ok((config, file))
}

fn apply_search(config: &mut Config, args: &SearchArgs, file: &FileConfig) {
    let url = args
        .search_url
        .clone()
        .or(file.search_url.clone())
        .filter(|u| !u.is_empty());
    if let Some(url) = url {
        config.search = SearchChoice::Meilisearch {
            url,
            api_key: args.search_api_key.clone().filter(|k| !k.is_empty()),
            index: args
                .search_index
                .clone()
                .or(file.search_index.clone())
                .unwrap_or_else(|| "orbit".into()),
        };
    }
}

fn apply_workflow_env(config: &mut Config) -> Result<()> {
    config.demo_workflows =
        std::env::var("ORBIT_ENABLE_DEMO_WORKFLOWS").is_ok_and(|v| v == "1" || v == "true");
    if let Ok(id) = std::env::var("ORBIT_WORKER_ID") {
        config.worker_id = id;
    }
    config.engine = orbit::config::EngineChoice::from_env()?;
    config.storage = orbit::config::StorageChoice::from_env(&config.data_dir)?;
    Ok(())
}

async fn worker(args: SearchArgs) -> Result<()> {
    let (mut config, file) = resolve(&args.common)?;
    init_logging(args.common.log_json || file.log_format.as_deref() == Some("json"));
    apply_search(&mut config, &args, &file);
    apply_workflow_env(&mut config)?;
    let orbit::config::EngineChoice::Temporal {
        address,
        namespace,
        task_queue,
    } = config.engine.clone()
    else {
        anyhow::bail!(
            "orbit worker runs workflows for Temporal: set ORBIT_WORKFLOW_ENGINE=temporal (with the embedded engine, orbit serve runs them itself)"
        );
    };
    // The worker writes through the use cases but serves no search: `orbit serve` indexes
    // what the worker writes (through the outbox), so the worker never opens the index.
    orbit::open_key_ring(&config)?;
    let stores = orbit::open_stores(&config).await?;
    let cache = orbit::open_cache(&config, &stores).await?;
    let engine = orbit::open_engine(&config).await?;
    let parts = orbit::Parts {
        stores,
        cache,
        search: std::sync::Arc::new(orbit::NoSearch),
        search_description: "none (orbit serve indexes)".into(),
        engine,
    };
    let app = App::from_parts(&config, parts);
    let temporal = orbit_temporal::TemporalConfig {
        address: address.clone(),
        namespace,
        task_queue: task_queue.clone(),
    };
    println!("Orbit worker polling task queue '{task_queue}' on Temporal at {address}");
    orbit_temporal::run_worker(temporal, app.registry.clone(), shutdown_signal())
        .await
        .map_err(|e| anyhow::anyhow!("the Temporal worker stopped: {e}"))?;
    Ok(())
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ORBIT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn serve(args: ServeArgs) -> Result<()> {
    let (mut config, file) = resolve(&args.search.common)?;
    init_logging(args.search.common.log_json || file.log_format.as_deref() == Some("json"));
    config.listen = args.listen.or(file.listen).unwrap_or(config.listen);
    let redis_url = args
        .redis_url
        .clone()
        .or(file.redis_url.clone())
        .filter(|u| !u.is_empty());
    let cache = args.cache.clone().or(file.cache.clone());
    config.cache = CacheChoice::resolve(cache.as_deref(), redis_url.as_deref(), &config.database)?;
    config.max_body_bytes = args
        .max_body_bytes
        .or(file.max_body_bytes)
        .unwrap_or(config.max_body_bytes);
    config.secure_cookies = file.secure_cookies.unwrap_or(false);
    config.bootstrap_token = args.bootstrap_token.clone().filter(|t| !t.is_empty());
    if let Some(n) = file.max_api_version_bytes {
        config.max_api_version_bytes = n;
    }
    if let Some(n) = file.max_page_bytes {
        config.max_page_bytes = n;
    }
    apply_search(&mut config, &args.search, &file);
    apply_workflow_env(&mut config)?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Clone URLs of Orbit's git server name the address actually bound (port 0 included).
    config.listen = addr;
    let app = App::build(&config).await?;
    let boot = app
        .services
        .tokens
        .bootstrap(config.bootstrap_token.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("bootstrapping the administrator failed: {e}"))?;
    let url = format!("http://{addr}");
    println!("Orbit is listening on {url}");
    println!("  web UI:        {url}/ui");
    println!("  API reference: {url}/docs/api");
    println!("  database:      {}", app.database);
    println!("  search:        {}", app.search);
    let cache_label = match &config.cache {
        CacheChoice::Redis(_) => "Redis (shared)",
        CacheChoice::Memory => "in-process memory",
        CacheChoice::None => "none",
    };
    println!("  cache:         {cache_label}");
    match boot {
        Some(b) if b.generated => {
            println!(
                "First start: created the administrator 'admin' with this API token (shown only once):"
            );
            println!("  {}", b.secret);
            println!(
                "Sign in at {url}/ui/login, or call the API with `Authorization: Bearer <token>`."
            );
        }
        Some(_) => println!(
            "First start: created the administrator 'admin' with the token from ORBIT_BOOTSTRAP_TOKEN."
        ),
        None => {}
    }
    let indexer = app.spawn_indexer();
    let webhook_refresher = app.spawn_webhook_refresher();
    let resumed = app.resume_workflows().await?;
    if resumed > 0 {
        tracing::info!(runs = resumed, "resuming workflow runs left unfinished");
    }
    tracing::info!(%addr, database = %app.database, "listening");
    axum::serve(listener, app.router())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    indexer.abort();
    webhook_refresher.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn reindex(args: SearchArgs) -> Result<()> {
    let (mut config, file) = resolve(&args.common)?;
    init_logging(args.common.log_json || file.log_format.as_deref() == Some("json"));
    apply_search(&mut config, &args, &file);
    if let SearchChoice::Tantivy(dir) = &config.search {
        // A fresh embedded index: documents of pages deleted meanwhile go with the old one.
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove the old index {}", dir.display()))?;
        }
    }
    let app = App::build(&config).await?;
    let started = std::time::Instant::now();
    let pending = app
        .services
        .indexer
        .drain()
        .await
        .map_err(|e| anyhow::anyhow!("applying queued index jobs: {e}"))?;
    let pages = app
        .services
        .indexer
        .reindex_all()
        .await
        .map_err(|e| anyhow::anyhow!("rebuilding the index: {e}"))?;
    println!(
        "Reindexed {pages} pages into {} in {:.1} s ({pending} queued jobs applied first)",
        app.search,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn rotate_key(args: RotateKeyArgs) -> Result<()> {
    let (config, file) = resolve(&args.common)?;
    init_logging(args.common.log_json || file.log_format.as_deref() == Some("json"));
    let (new_key_text, generated) = match (&args.new_key, args.generate) {
        (Some(k), _) => (k.trim().to_owned(), false),
        (None, true) => (orbit_system::SecretKey::generate_base64(), true),
        (None, false) => anyhow::bail!(
            "give the new key with --new-key (or ORBIT_NEW_SECRET_KEY), or --generate"
        ),
    };
    let new_key = orbit_system::SecretKey::from_base64(&new_key_text)
        .map_err(|e| anyhow::anyhow!("--new-key: {e}"))?;
    let current = orbit::open_key_ring(&config)?;
    let next = current.rotated_to(new_key.clone());
    let stores = orbit::open_stores(&config).await?;
    let key_file = config
        .secret_key
        .is_none()
        .then(|| config.secret_key_file());
    if let Some(path) = &key_file {
        // First the new key beside the old one: a crash at any point leaves every stored
        // value openable with the file's keys.
        let old =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut keys = vec![new_key_text.clone()];
        keys.extend(
            old.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != new_key_text)
                .map(str::to_owned),
        );
        orbit_system::write_key_file(path, &keys).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let n = orbit_services::rotate_git_secrets(&*stores.git_connections, &current, &next)
        .await
        .map_err(|e| anyhow::anyhow!("re-encrypting stored secrets: {e}"))?;
    let n = n + orbit_services::rotate_webhook_secrets(&*stores.webhooks, &current, &next)
        .await
        .map_err(|e| anyhow::anyhow!("re-encrypting webhook secrets: {e}"))?;
    println!(
        "Re-encrypted {n} stored secret(s) with the key {} ({})",
        new_key.id(),
        stores.description
    );
    match key_file {
        Some(path) => {
            orbit_system::write_key_file(&path, &[new_key_text])
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "The key file {} now holds only the new key.",
                path.display()
            );
        }
        None => {
            if generated {
                println!("The new key (shown once): {new_key_text}");
            }
            println!(
                "Now set ORBIT_SECRET_KEY to the new key on every instance (keep the old key in ORBIT_SECRET_PREVIOUS_KEYS until all of them restarted)."
            );
        }
    }
    Ok(())
}

async fn migrate(common: Common) -> Result<()> {
    let (config, file) = resolve(&common)?;
    init_logging(common.log_json || file.log_format.as_deref() == Some("json"));
    let stores = orbit::open_stores(&config).await?;
    println!("Migrations applied: {}", stores.description);
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Migrate(common) => migrate(common).await,
            Command::Reindex(args) => reindex(args).await,
            Command::Worker(args) => worker(args).await,
            Command::Secrets(SecretsCommand::RotateKey(args)) => rotate_key(args).await,
        }
    })
}
