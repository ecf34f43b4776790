//! Orbit's full-text search at scale: [`MeiliIndex`] implements [`orbit_ports::SearchIndex`]
//! on one [Meilisearch](https://www.meilisearch.com) index shared by all workspaces.
//!
//! # Visibility of writes
//!
//! Every write waits for its Meilisearch task to finish, so what `upsert`, `delete` and
//! `delete_workspace` wrote is searchable when they return; `refresh()` only waits for tasks
//! of the index still pending (after a write that timed out, for instance).
//!
//! # Documents and queries
//!
//! A document's primary key `key` is made from the workspace id and the document id with
//! every character outside `[A-Za-z0-9]` escaped (Meilisearch ids allow only
//! `[A-Za-z0-9_-]`), so keys of different (workspace, id) pairs never collide. Filters
//! (`workspace_id`, `kind`, `space_id`) are built with every value in double quotes and
//! escaped; the query text goes to Meilisearch as free text, which has no syntax that can
//! fail. Searchable attributes in rank order: title, keywords, body. Typo tolerance starts at
//! 4 characters (two typos from 8) and every word must match (`matchingStrategy: all`), as
//! in the embedded tantivy index. Equal relevance ranks
//! the more recently updated document first; empty text lists the most recently updated.
//!
//! `total` is Meilisearch's `estimatedTotalHits` (an estimate, capped by the index's
//! `pagination.maxTotalHits`, 1000 by default, which also bounds `offset + limit`); at that
//! cap (the port's `EXACT_TOTAL_UP_TO`) `total_is_lower_bound` is set.
//!
//! Snippets: the body cropped to about 30 words around the match, matches wrapped in
//! `<mark>…</mark>`. Meilisearch does not escape the text, so the highlight tags are
//! requested as private-use characters and the snippet is HTML-escaped here, with only those
//! markers turned into (always balanced) `<mark>` tags.

use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::documents::DocumentDeletionQuery;
use meilisearch_sdk::errors::{Error as MeiliError, ErrorCode};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::{MatchingStrategies, Selectors};
use meilisearch_sdk::settings::{MinWordSizeForTypos, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::{Task, TasksSearchQuery};
use orbit_core::WorkspaceId;
use orbit_ports::{
    DocKind, EXACT_TOTAL_UP_TO, SearchDoc, SearchError, SearchHit, SearchIndex, SearchQuery,
    SearchResults,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::time::Duration;

/// How long one HTTP request to Meilisearch may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write waits for its task to be processed.
pub const TASK_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a waiting write asks whether its task is done.
const TASK_POLL: Duration = Duration::from_millis(20);
/// Documents sent in one request.
const BATCH: usize = 1_000;
/// Words kept around the match in a snippet.
pub const CROP_WORDS: usize = 30;
/// A page holds at most this many hits (Meilisearch's default `maxTotalHits`).
pub const MAX_LIMIT: usize = 1_000;
/// Meilisearch's limit on the length of a document id.
const MAX_KEY_BYTES: usize = 511;

const MARK_START: &str = "\u{E000}";
const MARK_END: &str = "\u{E001}";

/// The document as Meilisearch stores it.
#[derive(Debug, Serialize, Deserialize)]
struct MeiliDoc {
    key: String,
    workspace_id: String,
    kind: String,
    id: String,
    space_id: String,
    title: String,
    body: String,
    keywords: String,
    updated_at: i64,
}

/// What a hit brings back.
#[derive(Debug, Deserialize)]
struct MeiliHit {
    kind: String,
    id: String,
    #[serde(default)]
    space_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

fn unavailable(context: &str, error: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(format!("meilisearch: {context}: {error}"))
}

/// Runs one request with [`REQUEST_TIMEOUT`].
async fn request<T>(
    context: &str,
    call: impl Future<Output = Result<T, MeiliError>>,
) -> Result<T, SearchError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Ok(result) => result.map_err(|e| unavailable(context, e)),
        Err(_) => Err(unavailable(context, "timed out")),
    }
}

/// The Meilisearch primary key of a document: the workspace id and the document id, each
/// with characters outside `[A-Za-z0-9]` written as `-` and their hex UTF-8 bytes, joined by
/// `_`. Injective; keys that would exceed Meilisearch's limit become `h` + a SHA-256.
pub fn document_key(workspace: &WorkspaceId, id: &str) -> String {
    fn escape(out: &mut String, text: &str) {
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else {
                let mut bytes = [0u8; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    out.push('-');
                    out.push_str(&format!("{b:02x}"));
                }
            }
        }
    }
    let mut key = String::with_capacity(workspace.as_str().len() + id.len() + 1);
    escape(&mut key, workspace.as_str());
    key.push('_');
    escape(&mut key, id);
    if key.len() <= MAX_KEY_BYTES {
        key
    } else {
        let mut hasher = Sha256::new();
        hasher.update(key.as_bytes());
        format!("h{}", hex::encode(hasher.finalize()))
    }
}

/// A filter value: double-quoted, with `\` and `"` escaped.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn any_of<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = values.map(quoted).collect();
    format!("[{}]", list.join(", "))
}

/// The filter expression of a query: its workspace, its kinds, the spaces it may see.
fn filter_of(query: &SearchQuery) -> String {
    let mut parts = vec![format!(
        "workspace_id = {}",
        quoted(query.workspace_id.as_str())
    )];
    if !query.kinds.is_empty() {
        parts.push(format!(
            "kind IN {}",
            any_of(query.kinds.iter().map(|k| k.as_str()))
        ));
    }
    if query.allowed_spaces.is_empty() {
        parts.push("space_id IS EMPTY".to_owned());
    } else {
        parts.push(format!(
            "(space_id IS EMPTY OR space_id IN {})",
            any_of(query.allowed_spaces.iter().map(String::as_str))
        ));
    }
    if !query.only_spaces.is_empty() {
        parts.push(format!(
            "space_id IN {}",
            any_of(query.only_spaces.iter().map(String::as_str))
        ));
    }
    parts.join(" AND ")
}

/// Turns Meilisearch's formatted body (highlights as private-use markers, text unescaped)
/// into HTML: everything escaped, markers turned into balanced `<mark>` tags.
fn render_snippet(formatted: &str) -> String {
    let mut html = String::with_capacity(formatted.len() + 32);
    let mut open = false;
    for c in formatted.chars() {
        match c {
            '\u{E000}' => {
                if !open {
                    html.push_str("<mark>");
                    open = true;
                }
            }
            '\u{E001}' => {
                if open {
                    html.push_str("</mark>");
                    open = false;
                }
            }
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

/// The search index on a Meilisearch server.
#[derive(Clone)]
pub struct MeiliIndex {
    client: Client,
    index: Index,
}

impl MeiliIndex {
    /// Connects to the server at `url`, creates index `index_uid` if missing (primary key
    /// `key`) and applies the settings this adapter relies on, waiting until they are in
    /// force.
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
    ) -> Result<Self, SearchError> {
        let client = Client::new(url.trim_end_matches('/'), api_key)
            .map_err(|e| unavailable("client", e))?;
        let this = Self {
            index: client.index(index_uid),
            client,
        };
        let created = request(
            "create index",
            this.client.create_index(index_uid, Some("key")),
        )
        .await?;
        match this.finish(created).await {
            Ok(()) => {}
            Err(MeiliError::Meilisearch(e)) if e.error_code == ErrorCode::IndexAlreadyExists => {}
            Err(e) => return Err(unavailable("create index", e)),
        }
        let mut info = request("read index", this.client.get_index(index_uid)).await?;
        match request("read index", info.get_primary_key()).await? {
            Some("key") | None => {}
            Some(other) => {
                return Err(SearchError::Unavailable(format!(
                    "meilisearch: index {index_uid} has primary key {other:?}, not \"key\""
                )));
            }
        }

        let settings = Settings::new()
            .with_filterable_attributes(["workspace_id", "kind", "space_id"])
            .with_searchable_attributes(["title", "keywords", "body"])
            .with_sortable_attributes(["updated_at"])
            .with_ranking_rules([
                "words",
                "typo",
                "proximity",
                "attribute",
                "sort",
                "exactness",
                "updated_at:desc",
            ])
            .with_typo_tolerance(TypoToleranceSettings {
                enabled: Some(true),
                disable_on_attributes: None,
                disable_on_words: None,
                min_word_size_for_typos: Some(MinWordSizeForTypos {
                    one_typo: Some(4),
                    two_typos: Some(8),
                }),
                disable_on_numbers: None,
            });
        let task = request("settings", this.index.set_settings(&settings)).await?;
        this.finish(task)
            .await
            .map_err(|e| unavailable("settings", e))?;
        tracing::debug!(url, index = index_uid, "meilisearch index ready");
        Ok(this)
    }

    /// Waits (at most [`TASK_TIMEOUT`], however slow the server answers) for a task; a
    /// failed task is an error.
    async fn finish(&self, task: impl AsRef<u32>) -> Result<(), MeiliError> {
        let wait = self
            .client
            .wait_for_task(task, Some(TASK_POLL), Some(TASK_TIMEOUT));
        let done = tokio::time::timeout(TASK_TIMEOUT + REQUEST_TIMEOUT, wait)
            .await
            .map_err(|_| MeiliError::Timeout)??;
        match done {
            Task::Failed { content } => Err(MeiliError::Meilisearch(content.error)),
            _ => Ok(()),
        }
    }

    async fn run_task(
        &self,
        context: &str,
        call: impl Future<Output = Result<TaskInfo, MeiliError>>,
    ) -> Result<(), SearchError> {
        let task = request(context, call).await?;
        self.finish(task).await.map_err(|e| unavailable(context, e))
    }

    /// Deletes the whole index on the server (tests, re-creation).
    pub async fn delete_index(self) -> Result<(), SearchError> {
        let this = self.clone();
        this.run_task("delete index", self.index.delete()).await
    }
}

#[async_trait]
impl SearchIndex for MeiliIndex {
    async fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let docs: Vec<MeiliDoc> = docs
            .iter()
            .map(|d| MeiliDoc {
                key: document_key(&d.workspace_id, &d.id),
                workspace_id: d.workspace_id.as_str().to_owned(),
                kind: d.kind.as_str().to_owned(),
                id: d.id.clone(),
                space_id: d.space_id.clone(),
                title: d.title.clone(),
                body: d.body.clone(),
                keywords: d.keywords.clone(),
                updated_at: d.updated_at,
            })
            .collect();
        let mut tasks = Vec::new();
        for batch in docs.chunks(BATCH) {
            tasks.push(request("add documents", self.index.add_or_replace(batch, None)).await?);
        }
        for task in tasks {
            self.finish(task)
                .await
                .map_err(|e| unavailable("add documents", e))?;
        }
        Ok(())
    }

    async fn delete(&self, workspace: &WorkspaceId, ids: &[String]) -> Result<(), SearchError> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = ids.iter().map(|id| document_key(workspace, id)).collect();
        self.run_task("delete documents", self.index.delete_documents(&keys))
            .await
    }

    async fn delete_workspace(&self, workspace: &WorkspaceId) -> Result<(), SearchError> {
        let filter = format!("workspace_id = {}", quoted(workspace.as_str()));
        let mut query = DocumentDeletionQuery::new(&self.index);
        query.with_filter(&filter);
        self.run_task("delete workspace", self.index.delete_documents_with(&query))
            .await
    }

    async fn refresh(&self) -> Result<(), SearchError> {
        let mut pending = TasksSearchQuery::new(&self.client);
        pending
            .with_index_uids([self.index.uid.as_str()])
            .with_statuses(["enqueued", "processing"])
            .with_limit(1);
        let found = request("list tasks", pending.execute()).await?;
        // Tasks of one index are processed in order: the newest pending one is the last.
        if let Some(task) = found.results.into_iter().next() {
            if matches!(task, Task::Enqueued { .. } | Task::Processing { .. }) {
                self.finish(task)
                    .await
                    .map_err(|e| unavailable("wait for pending writes", e))?;
            }
        }
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let filter = filter_of(query);
        let text = query.text.trim();
        let sort = ["updated_at:desc"];
        let crop = [("body", Some(CROP_WORDS))];
        let retrieve = ["kind", "id", "space_id", "title", "body"];
        let mut search = self.index.search();
        search
            .with_query(text)
            .with_filter(&filter)
            .with_offset(query.offset)
            .with_limit(query.limit.min(MAX_LIMIT))
            .with_attributes_to_retrieve(Selectors::Some(&retrieve))
            .with_attributes_to_crop(Selectors::Some(&crop))
            .with_crop_length(CROP_WORDS)
            .with_attributes_to_highlight(Selectors::Some(&["body"]))
            .with_highlight_pre_tag(MARK_START)
            .with_highlight_post_tag(MARK_END)
            .with_show_ranking_score(true)
            // Every word must match, as in the embedded index (Meilisearch's default drops
            // words from the end until something matches).
            .with_matching_strategy(MatchingStrategies::ALL);
        if text.is_empty() {
            search.with_sort(&sort);
        }
        let found = request("search", search.execute::<MeiliHit>()).await?;
        let total = found
            .estimated_total_hits
            .or(found.total_hits)
            .unwrap_or(found.hits.len()) as u64;
        let mut hits = Vec::with_capacity(found.hits.len());
        for hit in found.hits {
            let Some(kind) = DocKind::parse(&hit.result.kind) else {
                tracing::warn!(
                    kind = hit.result.kind,
                    "search document of an unknown kind skipped"
                );
                continue;
            };
            let formatted = hit
                .formatted_result
                .as_ref()
                .and_then(|f| f.get("body"))
                .and_then(|b| b.as_str())
                .map(str::to_owned);
            let snippet = render_snippet(&formatted.unwrap_or(hit.result.body));
            hits.push(SearchHit {
                kind,
                id: hit.result.id,
                space_id: hit.result.space_id,
                title: hit.result.title,
                snippet,
                score: hit.ranking_score.unwrap_or(0.0) as f32,
            });
        }
        Ok(SearchResults {
            hits,
            total,
            // Meilisearch stops counting at `maxTotalHits` (1000 by default, the port's
            // EXACT_TOTAL_UP_TO).
            total_is_lower_bound: total >= EXACT_TOTAL_UP_TO,
        })
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let stats = request("stats", self.index.get_stats()).await?;
        Ok(stats.number_of_documents as u64)
    }

    fn name(&self) -> &'static str {
        "meilisearch"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_meilisearch_ids_and_never_collide() {
        let key = |w: &str, id: &str| document_key(&WorkspaceId::new(w), id);
        let samples = [
            key("ws1", "page-1"),
            key("ws1", "page_1"),
            key("ws1", "page.1"),
            key("ws1_page", "1"),
            key("ws1", "page_1x"),
            key("a/b", "c"),
            key("a", "b/c"),
            key("w", "ünï"),
            key("w", &"x/".repeat(400)),
        ];
        for k in &samples {
            assert!(k.len() <= MAX_KEY_BYTES, "{k}");
            assert!(
                k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                "{k}"
            );
        }
        let unique: std::collections::HashSet<_> = samples.iter().collect();
        assert_eq!(unique.len(), samples.len());
        assert_eq!(key("ws1", "page-1"), "ws1_page-2d1");
    }

    #[test]
    fn filter_values_are_quoted_and_escaped() {
        let query = SearchQuery {
            workspace_id: WorkspaceId::new(r#"w" OR workspace_id = "x"#),
            text: String::new(),
            kinds: vec![DocKind::Page, DocKind::Api],
            allowed_spaces: vec!["s1".into(), r"s\2".into()],
            only_spaces: vec!["s1".into()],
            limit: 10,
            offset: 0,
        };
        assert_eq!(
            filter_of(&query),
            r#"workspace_id = "w\" OR workspace_id = \"x" AND kind IN ["page", "api"] AND (space_id IS EMPTY OR space_id IN ["s1", "s\\2"]) AND space_id IN ["s1"]"#
        );
        let mut no_spaces = query.clone();
        no_spaces.allowed_spaces.clear();
        no_spaces.only_spaces.clear();
        no_spaces.kinds.clear();
        no_spaces.workspace_id = WorkspaceId::new("w");
        assert_eq!(
            filter_of(&no_spaces),
            r#"workspace_id = "w" AND space_id IS EMPTY"#
        );
    }

    #[test]
    fn snippets_escape_everything_but_the_marks() {
        assert_eq!(
            render_snippet("<script>alert('x')</script> the \u{E000}deploy\u{E001} & more…"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; the <mark>deploy</mark> &amp; more…"
        );
        // Stray markers from the text itself never unbalance the tags.
        assert_eq!(render_snippet("a\u{E001}b\u{E000}c"), "ab<mark>c</mark>");
    }
}
