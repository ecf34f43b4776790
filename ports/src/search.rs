use async_trait::async_trait;
use orbit_core::WorkspaceId;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SearchError {
    /// The query text cannot be understood (the message says why).
    #[error("{0}")]
    InvalidQuery(String),
    /// The engine cannot be reached or failed; the request may succeed later.
    #[error("search unavailable: {0}")]
    Unavailable(String),
}

/// What kind of thing a search document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Page,
    Repository,
    Api,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Page => "page",
            DocKind::Repository => "repository",
            DocKind::Api => "api",
        }
    }
    pub fn parse(value: &str) -> Option<DocKind> {
        match value {
            "page" => Some(DocKind::Page),
            "repository" => Some(DocKind::Repository),
            "api" => Some(DocKind::Api),
            _ => None,
        }
    }
}

/// One searchable document. `id` is unique across kinds within a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub workspace_id: WorkspaceId,
    pub kind: DocKind,
    pub id: String,
    /// The space a page belongs to; empty for kinds outside spaces. Used for visibility.
    pub space_id: String,
    pub title: String,
    /// Plain text (no markup) to search and to cut snippets from.
    pub body: String,
    /// Extra searchable terms (tags, operation ids…), space-separated.
    pub keywords: String,
    /// Milliseconds since the epoch; newer wins when scores tie.
    pub updated_at: i64,
}

/// A query. Results never include another workspace's documents, and only documents whose
/// `space_id` is empty or listed in `allowed_spaces`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub workspace_id: WorkspaceId,
    /// What the person typed. Matching is by words, with prefix matching on the last word
    /// and typo tolerance where the engine has it.
    pub text: String,
    /// Empty: every kind.
    pub kinds: Vec<DocKind>,
    /// Spaces whose pages the caller may see (and, if `only_spaces` is set, wants).
    pub allowed_spaces: Vec<String>,
    /// Restricts results to these spaces (a subset of `allowed_spaces`); empty: no restriction.
    pub only_spaces: Vec<String>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub kind: DocKind,
    pub id: String,
    pub space_id: String,
    pub title: String,
    /// A short excerpt around the match; matched words wrapped in `<mark>…</mark>`, all other
    /// text HTML-escaped, so it can be shown as HTML as it is.
    pub snippet: String,
    pub score: f32,
}

/// Searches with text count their matches exactly up to this many; past it, `total` is a
/// lower bound (at least this many match) and `total_is_lower_bound` is set. Bounding the
/// count bounds a query's cost: ranking every match of a common word on a large index
/// costs milliseconds of CPU. It is also Meilisearch's default `maxTotalHits`. Results
/// never reach past this position for a search with text.
pub const EXACT_TOTAL_UP_TO: u64 = 1_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// How many documents match: exact when `total_is_lower_bound` is false; otherwise at
    /// least this many (at least [`EXACT_TOTAL_UP_TO`]).
    pub total: u64,
    /// `total` is a lower bound: counting stopped there (see [`EXACT_TOTAL_UP_TO`]).
    pub total_is_lower_bound: bool,
}

/// A full-text index. Embedded default: tantivy in the data directory; at scale: Meilisearch.
///
/// Writes are idempotent (upserting the same document twice leaves one) and visible to
/// `search` once `upsert`/`delete` have returned and `refresh` has been called (adapters
/// may make them visible sooner).
#[async_trait]
pub trait SearchIndex: Send + Sync + 'static {
    /// Adds or replaces documents by (workspace, id).
    async fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError>;
    /// Removes documents by (workspace, id); unknown ids are ignored.
    async fn delete(&self, workspace: &WorkspaceId, ids: &[String]) -> Result<(), SearchError>;
    /// Removes every document of a workspace (the workspace was deleted).
    async fn delete_workspace(&self, workspace: &WorkspaceId) -> Result<(), SearchError>;
    /// Makes every write so far visible to `search`.
    async fn refresh(&self) -> Result<(), SearchError>;
    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError>;
    /// How many documents the index holds (all workspaces), for drift checks and metrics.
    async fn count(&self) -> Result<u64, SearchError>;
    /// A short name for logs and metrics ("tantivy", "meilisearch").
    fn name(&self) -> &'static str;
}
