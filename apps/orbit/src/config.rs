//! Configuration: built-in defaults, then an optional TOML file, then `ORBIT_*` environment
//! variables and command-line flags (clap merges those two; a flag beats the variable).

use anyhow::{Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The settings of the configuration file; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_max_connections: Option<u32>,
    pub redis_url: Option<String>,
    pub cache: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub max_page_bytes: Option<usize>,
    pub search_url: Option<String>,
    pub search_index: Option<String>,
    pub secure_cookies: Option<bool>,
    pub log_format: Option<String>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", path.display()))
    }
}

/// Which database serves the stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Which cache serves hot reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheChoice {
    /// No cache: every read goes to the database.
    None,
    /// In this process's memory: exact for a single instance.
    Memory,
    /// Redis, shared by every instance.
    Redis(String),
}

impl CacheChoice {
    /// `ORBIT_CACHE`: `none`, `memory` or a `redis://` URL. Unset: Redis when `redis_url` is
    /// given; else `memory` on SQLite (one process owns the file) and `none` on PostgreSQL
    /// (several instances may share it, and only a shared cache stays exact).
    pub fn resolve(
        cache: Option<&str>,
        redis_url: Option<&str>,
        database: &Database,
    ) -> Result<CacheChoice> {
        match cache.map(str::trim).filter(|c| !c.is_empty()) {
            Some("none") => Ok(CacheChoice::None),
            Some("memory") => Ok(CacheChoice::Memory),
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(CacheChoice::Redis(url.to_owned()))
            }
            Some("redis") => redis_url
                .map(|u| CacheChoice::Redis(u.to_owned()))
                .ok_or_else(|| anyhow::anyhow!("ORBIT_CACHE=redis needs ORBIT_REDIS_URL")),
            Some(other) => {
                anyhow::bail!("unknown cache {other:?}: use none, memory, redis or a redis:// URL")
            }
            None => Ok(match (redis_url, database) {
                (Some(url), _) => CacheChoice::Redis(url.to_owned()),
                (None, Database::Sqlite(_)) => CacheChoice::Memory,
                (None, Database::Postgres(_)) => CacheChoice::None,
            }),
        }
    }
}

/// Which search index serves full-text search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchChoice {
    /// tantivy, embedded, in this directory.
    Tantivy(PathBuf),
    /// A Meilisearch server.
    Meilisearch {
        url: String,
        api_key: Option<String>,
        index: String,
    },
}

/// Which engine runs durable workflows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineChoice {
    /// In this process, persisting in the database.
    Embedded,
    /// A Temporal cluster; `orbit worker` processes run the workflows.
    Temporal {
        address: String,
        namespace: String,
        task_queue: String,
    },
}

impl EngineChoice {
    /// From `ORBIT_WORKFLOW_ENGINE` (`embedded` or `temporal`) and `ORBIT_TEMPORAL_*`.
    pub fn from_env() -> Result<EngineChoice> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match var("ORBIT_WORKFLOW_ENGINE").as_deref() {
            None | Some("embedded") => Ok(EngineChoice::Embedded),
            Some("temporal") => Ok(EngineChoice::Temporal {
                address: var("ORBIT_TEMPORAL_ADDRESS").unwrap_or_else(|| "127.0.0.1:7233".into()),
                namespace: var("ORBIT_TEMPORAL_NAMESPACE").unwrap_or_else(|| "default".into()),
                task_queue: var("ORBIT_TEMPORAL_TASK_QUEUE").unwrap_or_else(|| "orbit".into()),
            }),
            Some(other) => {
                anyhow::bail!("unknown ORBIT_WORKFLOW_ENGINE {other:?}: use embedded or temporal")
            }
        }
    }
}

/// The resolved settings a process runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: Database,
    pub database_max_connections: u32,
    pub cache: CacheChoice,
    pub search: SearchChoice,
    pub max_body_bytes: usize,
    /// Largest page body, in bytes.
    pub max_page_bytes: usize,
    pub secure_cookies: bool,
    /// Registers the `orbit.demo.steps` workflow (tests, benchmarks, trying the engine out).
    pub demo_workflows: bool,
    pub engine: EngineChoice,
    /// This process's name in workflow leases; stable across restarts of one installation.
    pub worker_id: String,
    pub bootstrap_token: Option<String>,
    /// The URL people reach this server at (clone URLs of Orbit's own git server); default
    /// `http://<listen address>`.
    pub public_url: Option<String>,
    /// The base64 key (32 bytes) that seals stored secrets (`ORBIT_SECRET_KEY`); default: the
    /// key file `<data>/secret.key`, generated on first start.
    pub secret_key: Option<String>,
    /// Keys of before a rotation, to open values not yet re-sealed
    /// (`ORBIT_SECRET_PREVIOUS_KEYS`, comma-separated).
    pub secret_previous_keys: Vec<String>,
    /// Largest push to Orbit's git server, in bytes.
    pub max_git_body_bytes: usize,
}

impl Config {
    /// Embedded defaults under `data_dir`: SQLite in `orbit.db`, tantivy in `search/`, an
    /// in-process cache.
    pub fn embedded(data_dir: PathBuf) -> Self {
        let search = SearchChoice::Tantivy(data_dir.join("search"));
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: Database::Sqlite(data_dir.join("orbit.db")),
            data_dir,
            database_max_connections: 16,
            cache: CacheChoice::Memory,
            search,
            max_body_bytes: 4 * 1024 * 1024,
            max_page_bytes: 1024 * 1024,
            demo_workflows: false,
            engine: EngineChoice::Embedded,
            worker_id: "orbit".into(),
            secure_cookies: false,
            bootstrap_token: None,
            public_url: None,
            secret_key: None,
            secret_previous_keys: Vec::new(),
            max_git_body_bytes: 1024 * 1024 * 1024,
        }
    }

    /// Where Orbit's own git server keeps its bare repositories.
    pub fn git_dir(&self) -> PathBuf {
        self.data_dir.join("git")
    }

    /// The key file used when `ORBIT_SECRET_KEY` is not set.
    pub fn secret_key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }

    /// The URL clone URLs start with.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Reads `ORBIT_PUBLIC_URL`, `ORBIT_SECRET_KEY`, `ORBIT_SECRET_PREVIOUS_KEYS` and
    /// `ORBIT_GIT_MAX_PUSH_BYTES`.
    pub fn apply_git_env(&mut self) -> Result<()> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(url) = var("ORBIT_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        if let Some(key) = var("ORBIT_SECRET_KEY") {
            self.secret_key = Some(key);
        }
        if let Some(keys) = var("ORBIT_SECRET_PREVIOUS_KEYS") {
            self.secret_previous_keys = keys
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect();
        }
        if let Some(n) = var("ORBIT_GIT_MAX_PUSH_BYTES") {
            self.max_git_body_bytes = n.parse().map_err(|_| {
                anyhow::anyhow!("ORBIT_GIT_MAX_PUSH_BYTES must be a number of bytes")
            })?;
        }
        Ok(())
    }
}

/// Reads `ORBIT_DATABASE_URL`-style values: `postgres://…`, `sqlite://path`, or a bare path.
pub fn parse_database(url: Option<&str>, data_dir: &Path) -> Result<Database> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(Database::Sqlite(data_dir.join("orbit.db"))),
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Ok(Database::Postgres(u.to_owned()))
        }
        Some(u) if u.starts_with("sqlite://") => {
            Ok(Database::Sqlite(PathBuf::from(&u["sqlite://".len()..])))
        }
        Some(u) if u.starts_with("sqlite:") => {
            Ok(Database::Sqlite(PathBuf::from(&u["sqlite:".len()..])))
        }
        Some(u) if u.contains("://") => anyhow::bail!(
            "unsupported database URL scheme in {:?}: use postgres://… or sqlite://PATH",
            u.split("://").next().unwrap_or("")
        ),
        Some(path) => Ok(Database::Sqlite(PathBuf::from(path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let dir = Path::new("/data");
        assert_eq!(
            parse_database(None, dir).unwrap(),
            Database::Sqlite("/data/orbit.db".into())
        );
        assert_eq!(
            parse_database(Some("postgres://u@h/db"), dir).unwrap(),
            Database::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            parse_database(Some("sqlite:///tmp/x.db"), dir).unwrap(),
            Database::Sqlite("/tmp/x.db".into())
        );
        let err = parse_database(Some("mysql://h/db"), dir).unwrap_err();
        assert!(
            err.to_string().contains("unsupported database URL scheme"),
            "{err}"
        );
    }

    #[test]
    fn cache_defaults_follow_the_database() {
        let sqlite = Database::Sqlite("/x".into());
        let pg = Database::Postgres("postgres://h/db".into());
        assert_eq!(
            CacheChoice::resolve(None, None, &sqlite).unwrap(),
            CacheChoice::Memory
        );
        assert_eq!(
            CacheChoice::resolve(None, None, &pg).unwrap(),
            CacheChoice::None
        );
        assert_eq!(
            CacheChoice::resolve(None, Some("redis://r"), &pg).unwrap(),
            CacheChoice::Redis("redis://r".into())
        );
        assert_eq!(
            CacheChoice::resolve(Some("none"), Some("redis://r"), &sqlite).unwrap(),
            CacheChoice::None
        );
        assert!(CacheChoice::resolve(Some("redis"), None, &sqlite).is_err());
        assert!(CacheChoice::resolve(Some("memcached"), None, &sqlite).is_err());
    }

    #[test]
    fn file_config_rejects_unknown_keys() {
        let err = toml::from_str::<FileConfig>("listne = \"127.0.0.1:1\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let ok: FileConfig = toml::from_str("redis_url = \"redis://127.0.0.1:6379\"").unwrap();
        assert_eq!(ok.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
    }
}
