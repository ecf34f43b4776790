//! Orbit's composition root: the only code that knows every adapter. It reads the
//! configuration, picks one adapter per port, and hands the use cases to the HTTP edge.

pub mod config;

use anyhow::{Context, Result};
use config::{CacheChoice, Config, Database, EngineChoice, SearchChoice};
use orbit_http::{AppState, HttpConfig};
use orbit_ports::{
    ApiStore, Cache, GitHostConnectionStore, IdGenerator, KnowledgeStore, SearchIndex, UserStore,
    WorkflowEngine, WorkflowRegistry, WorkflowStore, WorkspaceStore,
};
use orbit_services::{Deps, Limits, Services};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The stores of one database, behind their ports.
#[derive(Clone)]
pub struct Stores {
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub users: Arc<dyn UserStore>,
    pub knowledge: Arc<dyn KnowledgeStore>,
    pub workflows: Arc<dyn WorkflowStore>,
    pub repositories: Arc<dyn orbit_ports::RepositoryStore>,
    pub git_connections: Arc<dyn GitHostConnectionStore>,
    pub webhooks: Arc<dyn orbit_ports::WebhookStore>,
    pub apis: Arc<dyn ApiStore>,
    pub description: String,
}

impl Stores {
    pub fn from_one<
        S: WorkspaceStore
            + UserStore
            + KnowledgeStore
            + WorkflowStore
            + GitHostConnectionStore
            + ApiStore
            + orbit_ports::WebhookStore
            + orbit_ports::RepositoryStore,
    >(
        store: Arc<S>,
        description: &str,
    ) -> Stores {
        Stores {
            workspaces: store.clone(),
            users: store.clone(),
            knowledge: store.clone(),
            repositories: store.clone(),
            git_connections: store.clone(),
            webhooks: store.clone(),
            workflows: store.clone(),
            apis: store,
            description: description.to_owned(),
        }
    }
}

/// Opens the configured database and applies pending migrations.
pub async fn open_stores(config: &Config) -> Result<Stores> {
    match &config.database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
            }
            let store = orbit_sqlite::SqliteStore::open_file(path)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
            store
                .migrate()
                .await
                .context("migrating the SQLite database")?;
            Ok(Stores::from_one(
                Arc::new(store),
                &format!("SQLite at {}", path.display()),
            ))
        }
        Database::Postgres(url) => {
            let store =
                orbit_postgres::PostgresStore::connect(url, config.database_max_connections)
                    .await
                    .context("connecting to PostgreSQL (ORBIT_DATABASE_URL)")?;
            store
                .migrate()
                .await
                .context("migrating the PostgreSQL database")?;
            Ok(Stores::from_one(Arc::new(store), "PostgreSQL"))
        }
    }
}

/// Opens the configured cache. Keys are namespaced with the installation's id (kept in the
/// database), so databases sharing one Redis never read each other's entries.
pub async fn open_cache(config: &Config, stores: &Stores) -> Result<Arc<dyn Cache>> {
    let instance = stores
        .workspaces
        .instance_id(&orbit_system::UuidV7Ids.new_id())
        .await
        .map_err(|e| anyhow::anyhow!("reading the installation id: {e}"))?;
    let prefix = format!("orbit:{instance}:");
    match &config.cache {
        CacheChoice::Redis(url) => Ok(Arc::new(
            orbit_redis::RedisCache::connect(url, &prefix, Duration::from_secs(2))
                .context("configuring Redis (ORBIT_REDIS_URL)")?,
        )),
        CacheChoice::Memory => Ok(Arc::new(orbit_memory::MemoryCache::new())),
        CacheChoice::None => Ok(Arc::new(orbit_memory::NoCache)),
    }
}

/// Opens the configured search index: tantivy under the data directory, or Meilisearch.
pub async fn open_search(config: &Config) -> Result<(Arc<dyn SearchIndex>, String)> {
    match &config.search {
        SearchChoice::Tantivy(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the search directory {}", dir.display()))?;
            let index = orbit_search_tantivy::TantivyIndex::open(dir)
                .with_context(|| format!("cannot open the search index in {}", dir.display()))?;
            Ok((Arc::new(index), format!("tantivy at {}", dir.display())))
        }
        SearchChoice::Meilisearch {
            url,
            api_key,
            index,
        } => {
            let meili = orbit_search_meili::MeiliIndex::connect(url, api_key.as_deref(), index)
                .await
                .context("connecting to Meilisearch (ORBIT_SEARCH_URL)")?;
            Ok((Arc::new(meili), format!("Meilisearch index {index}")))
        }
    }
}

/// Everything a process composes, before it is turned into services.
pub struct Parts {
    pub stores: Stores,
    pub cache: Arc<dyn Cache>,
    pub search: Arc<dyn SearchIndex>,
    pub search_description: String,
    /// The workflow engine; `None` for the embedded one (built from the stores).
    pub engine: Option<Arc<dyn WorkflowEngine>>,
}

/// Connects to the configured external workflow engine (`None`: embedded).
pub async fn open_engine(config: &Config) -> Result<Option<Arc<dyn WorkflowEngine>>> {
    match &config.engine {
        EngineChoice::Embedded => Ok(None),
        EngineChoice::Temporal {
            address,
            namespace,
            task_queue,
        } => {
            let temporal = orbit_temporal::TemporalConfig {
                address: address.clone(),
                namespace: namespace.clone(),
                task_queue: task_queue.clone(),
            };
            let engine = orbit_temporal::TemporalEngine::connect(temporal)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "connecting to Temporal at {address} (ORBIT_TEMPORAL_ADDRESS): {e}"
                    )
                })?;
            Ok(Some(Arc::new(engine)))
        }
    }
}

/// A composed application, ready to serve.
pub struct App {
    pub services: Services,
    pub state: AppState,
    pub database: String,
    pub search: String,
    /// Woken after every write that queued a search-index job.
    pub index_wakeup: Arc<Notify>,
    /// The embedded workflow engine, when it is the configured one.
    pub embedded_engine: Option<orbit_workflow_embedded::EmbeddedEngine>,
    /// The definitions and activities of this process (what `orbit worker` runs).
    pub registry: WorkflowRegistry,
}

/// The configured object storage.
pub fn open_object_store(config: &Config) -> Arc<dyn orbit_ports::ObjectStore> {
    match &config.storage {
        config::StorageChoice::Filesystem(dir) => {
            Arc::new(orbit_storage::FilesystemStore::new(dir.clone()))
        }
        // StorageChoice::from_env checked the configuration; building makes no request.
        config::StorageChoice::S3(s3) => Arc::new(
            orbit_storage::S3Store::new(s3)
                .unwrap_or_else(|e| panic!("the S3 configuration was checked: {e}")),
        ),
    }
}

/// The workflow definitions and activities this process runs. `sync` gets the services
/// once they exist (activities are registered before).
pub fn workflow_registry(
    config: &Config,
    sync: &orbit_services::sync::SyncHandle,
    objects: &Arc<dyn orbit_ports::ObjectStore>,
) -> WorkflowRegistry {
    let git: Arc<dyn orbit_ports::GitClient> =
        Arc::new(orbit_git::GitCli::new(config.data_dir.join("git-work")));
    let mut registry = WorkflowRegistry::default()
        .definition(Arc::new(
            orbit_workflows::knowledge_sync::KnowledgeSyncWorkflow,
        ))
        .activity(Arc::new(orbit_services::sync::ExportActivity {
            handle: sync.clone(),
            git: git.clone(),
        }))
        .activity(Arc::new(orbit_services::sync::ImportActivity {
            handle: sync.clone(),
            git,
        }));
    // Client code generation (`orbit.api.codegen`): one activity per language.
    let generator: Arc<dyn orbit_ports::ClientGenerator> =
        Arc::new(orbit_codegen::GeneratorCli::new(
            orbit_codegen::GeneratorConfig::new(&config.generators_dir),
        ));
    registry = registry.definition(Arc::new(orbit_workflows::codegen::CodegenWorkflow));
    for activity in orbit_services::codegen::CodegenActivity::all(
        generator,
        objects.clone(),
        Arc::new(orbit_system::SystemClock),
    ) {
        registry = registry.activity(Arc::new(activity));
    }
    if config.demo_workflows {
        registry = registry
            .definition(Arc::new(orbit_workflows::demo::StepsWorkflow))
            .activity(Arc::new(orbit_workflows::demo::StepActivity));
    }
    registry
}

/// Adds `orbit.repository.create` and its activities; `repos` gets the services once they
/// exist.
pub fn repository_workflows(
    registry: WorkflowRegistry,
    repos: &orbit_services::templates::RepoHandle,
) -> WorkflowRegistry {
    registry
        .definition(Arc::new(
            orbit_workflows::repository_create::RepositoryCreateWorkflow,
        ))
        .activity(Arc::new(orbit_services::templates::GenerateActivity {
            handle: repos.clone(),
        }))
        .activity(Arc::new(orbit_services::templates::RegisterActivity {
            handle: repos.clone(),
        }))
}

/// The keys that seal stored secrets: `ORBIT_SECRET_KEY` (and `ORBIT_SECRET_PREVIOUS_KEYS`
/// to open values sealed before a rotation), else the key file `<data>/secret.key`, made
/// with a random key and mode 0600 on first start.
pub fn open_key_ring(config: &Config) -> Result<orbit_system::KeyRing> {
    let previous = config
        .secret_previous_keys
        .iter()
        .map(|k| {
            orbit_system::SecretKey::from_base64(k)
                .map_err(|e| anyhow::anyhow!("ORBIT_SECRET_PREVIOUS_KEYS: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    match &config.secret_key {
        Some(key) => {
            let current = orbit_system::SecretKey::from_base64(key)
                .map_err(|e| anyhow::anyhow!("ORBIT_SECRET_KEY: {e}"))?;
            Ok(orbit_system::KeyRing::new(current, previous))
        }
        None => {
            let path = config.secret_key_file();
            let ring = orbit_system::KeyRing::load_or_create_file(&path)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if previous.is_empty() {
                Ok(ring)
            } else {
                let mut all = previous;
                let current = ring.current().clone();
                all.retain(|k| k.id() != current.id());
                Ok(orbit_system::KeyRing::new(current, all))
            }
        }
    }
}

impl App {
    pub async fn build(config: &Config) -> Result<App> {
        // Checked here, with context; `from_parts` opens it again.
        open_key_ring(config)?;
        let stores = open_stores(config).await?;
        let cache = open_cache(config, &stores).await?;
        let (search, search_description) = open_search(config).await?;
        let engine = open_engine(config).await?;
        Ok(Self::from_parts(
            config,
            Parts {
                stores,
                cache,
                search,
                search_description,
                engine,
            },
        ))
    }

    pub fn from_parts(config: &Config, parts: Parts) -> App {
        let sync = orbit_services::sync::SyncHandle::default();
        let objects = open_object_store(config);
        let repos = orbit_services::templates::RepoHandle::default();
        let registry = repository_workflows(workflow_registry(config, &sync, &objects), &repos);
        let (engine, embedded): (Arc<dyn WorkflowEngine>, _) = match parts.engine {
            Some(external) => (external, None),
            None => {
                let embedded = orbit_workflow_embedded::EmbeddedEngine::start(
                    parts.stores.workflows.clone(),
                    registry.clone(),
                    Arc::new(orbit_system::SystemClock),
                    orbit_workflow_embedded::EmbeddedConfig {
                        owner: config.worker_id.clone(),
                        ..Default::default()
                    },
                );
                (Arc::new(embedded.clone()), Some(embedded))
            }
        };
        let wakeup = Arc::new(Notify::new());
        let signal = wakeup.clone();
        let services = Services::new(Deps {
            workspaces: parts.stores.workspaces,
            users: parts.stores.users,
            knowledge: parts.stores.knowledge,
            cache: parts.cache,
            search: parts.search,
            markdown: Arc::new(orbit_markdown::CommonMarkRenderer::new()),
            clock: Arc::new(orbit_system::SystemClock),
            ids: Arc::new(orbit_system::UuidV7Ids),
            index_signal: Arc::new(move || signal.notify_one()),
            limits: Limits {
                max_page_bytes: config.max_page_bytes,
                max_api_version_bytes: config.max_api_version_bytes,
            },
            workflows: engine,
            workflow_definitions: Arc::new(registry.clone()),
            repositories: parts.stores.repositories,
            git: Arc::new(orbit_git::GitCli::new(config.data_dir.join("git-work"))),
            git_connections: parts.stores.git_connections,
            git_hosts: Arc::new(orbit_githost::GitHosts::new(
                config.git_dir(),
                &config.public_url(),
            )),
            git_http: Arc::new(orbit_githost::SmartHttp::new(config.git_dir())),
            secrets: Arc::new(
                open_key_ring(config).expect("the secret key was checked when the app was built"),
            ),
            apis: parts.stores.apis,
            objects,
            webhooks: parts.stores.webhooks,
        });
        let http = HttpConfig {
            max_body_bytes: config.max_body_bytes,
            secure_cookies: config.secure_cookies,
            max_git_body_bytes: config.max_git_body_bytes,
        };
        sync.set(services.knowledge.clone(), services.deps.users.clone());
        sync.set_git_hosts(services.git_hosts.clone());
        repos.set(services.repositories.clone(), services.git_hosts.clone());
        let state = AppState::new(services.clone(), Arc::new(services.tokens.clone()), http);
        App {
            services,
            state,
            database: parts.stores.description,
            search: parts.search_description,
            index_wakeup: wakeup,
            embedded_engine: embedded,
            registry,
        }
    }

    pub fn router(&self) -> axum::Router {
        orbit_http::router(self.state.clone())
    }

    /// Resumes the runs a previous process left unfinished (embedded engine).
    pub async fn resume_workflows(&self) -> Result<usize> {
        match &self.embedded_engine {
            Some(engine) => engine
                .resume_unfinished()
                .await
                .map_err(|e| anyhow::anyhow!("resuming workflows: {e}")),
            None => Ok(0),
        }
    }

    /// Applies the webhook refreshes left pending (by a crash, or a remote that was
    /// unreachable) now and every 30 seconds. Runs until the process ends.
    pub fn spawn_webhook_refresher(&self) -> tokio::task::JoinHandle<()> {
        let webhooks = self.services.webhooks.clone();
        tokio::spawn(async move {
            loop {
                match webhooks.drain_refreshes().await {
                    Ok(n) if n > 0 => tracing::info!(refreshed = n, "webhook refreshes applied"),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "webhook refreshes not applied"),
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        })
    }

    /// Repairs drift on start (applies index jobs left over by a crash; rebuilds an empty
    /// index when the database has pages), then keeps the index in step: woken after every
    /// write, and at least once a second. Runs until the process ends.
    pub fn spawn_indexer(&self) -> tokio::task::JoinHandle<()> {
        let indexer = self.services.indexer.clone();
        let deps = self.services.deps.clone();
        let wakeup = self.index_wakeup.clone();
        tokio::spawn(async move {
            match rebuild_if_empty(&indexer, &deps).await {
                Ok(Some(n)) => tracing::info!(
                    pages = n,
                    "the search index was empty: rebuilt it from the database"
                ),
                Ok(None) => {}
                Err(err) => tracing::error!(error = %err, "could not check the search index"),
            }
            let mut backoff = Duration::from_millis(100);
            loop {
                match indexer.drain().await {
                    Ok(n) => {
                        if n > 0 {
                            tracing::debug!(jobs = n, "search index updated");
                        }
                        backoff = Duration::from_millis(100);
                        let _ =
                            tokio::time::timeout(Duration::from_secs(1), wakeup.notified()).await;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, retry_in_ms = backoff.as_millis() as u64, "search indexing failed; the jobs stay queued");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        })
    }
}

async fn rebuild_if_empty(
    indexer: &orbit_services::SearchIndexer,
    deps: &Deps,
) -> Result<Option<u64>> {
    let docs = deps
        .search
        .count()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if docs > 0 {
        return Ok(None);
    }
    let any_page = deps
        .knowledge
        .pages_after(None, 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if any_page.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        indexer
            .reindex_all()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

/// The search index of a process that serves no search (`orbit worker`): every call says so.
pub struct NoSearch;

#[async_trait::async_trait]
impl SearchIndex for NoSearch {
    async fn upsert(
        &self,
        _docs: &[orbit_ports::SearchDoc],
    ) -> Result<(), orbit_ports::SearchError> {
        Err(orbit_ports::SearchError::Unavailable(
            "this process serves no search".into(),
        ))
    }
    async fn delete(
        &self,
        _workspace: &orbit_core::WorkspaceId,
        _ids: &[String],
    ) -> Result<(), orbit_ports::SearchError> {
        Err(orbit_ports::SearchError::Unavailable(
            "this process serves no search".into(),
        ))
    }
    async fn delete_workspace(
        &self,
        _workspace: &orbit_core::WorkspaceId,
    ) -> Result<(), orbit_ports::SearchError> {
        Err(orbit_ports::SearchError::Unavailable(
            "this process serves no search".into(),
        ))
    }
    async fn refresh(&self) -> Result<(), orbit_ports::SearchError> {
        Ok(())
    }
    async fn search(
        &self,
        _query: &orbit_ports::SearchQuery,
    ) -> Result<orbit_ports::SearchResults, orbit_ports::SearchError> {
        Err(orbit_ports::SearchError::Unavailable(
            "this process serves no search".into(),
        ))
    }
    async fn count(&self) -> Result<u64, orbit_ports::SearchError> {
        Ok(0)
    }
    fn name(&self) -> &'static str {
        "none"
    }
}
