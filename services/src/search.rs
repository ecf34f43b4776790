//! Search across a workspace, and the indexer that keeps the search index in step with the
//! database through the transactional outbox (`search_outbox`).

use crate::{Deps, KnowledgeService, WorkspaceService, store_err};
use orbit_core::{Actor, Error, PageId, Result};
use orbit_ports::{DocKind, SearchDoc, SearchError, SearchHit, SearchQuery};

pub const MAX_QUERY_CHARS: usize = 500;
pub const DEFAULT_RESULTS: u32 = 20;
pub const MAX_RESULTS: u32 = 100;
/// Results deeper than this are not served (ask a narrower question instead).
pub const MAX_OFFSET: usize = 10_000;

fn search_err(err: SearchError) -> Error {
    match err {
        SearchError::InvalidQuery(msg) => Error::invalid("query", msg),
        SearchError::Unavailable(msg) => {
            Error::Unavailable(format!("search is unavailable: {msg}"))
        }
    }
}

#[derive(Clone)]
pub struct SearchService {
    deps: Deps,
    workspaces: WorkspaceService,
    knowledge: KnowledgeService,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub total: u64,
    /// `total` is a lower bound: at least that many match (see `EXACT_TOTAL_UP_TO`).
    pub total_is_lower_bound: bool,
    pub next: Option<String>,
}

impl SearchService {
    pub(crate) fn new(
        deps: Deps,
        workspaces: WorkspaceService,
        knowledge: KnowledgeService,
    ) -> Self {
        SearchService {
            deps,
            workspaces,
            knowledge,
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the request"
    )]
    pub async fn search(
        &self,
        actor: &Actor,
        workspace_id: &str,
        text: &str,
        kinds: &[String],
        space_ids: &[String],
        page_size: i32,
        page_token: &str,
    ) -> Result<SearchPage> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid(
                "query",
                format!("is longer than {MAX_QUERY_CHARS} characters"),
            ));
        }
        let kinds = kinds
            .iter()
            .map(|k| {
                DocKind::parse(k).ok_or_else(|| {
                    Error::invalid(
                        "kinds",
                        format!("{k:?} is not one of page, repository, api"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let limit = match page_size {
            0 => DEFAULT_RESULTS,
            n if n < 0 || n as u32 > MAX_RESULTS => {
                return Err(Error::invalid(
                    "page_size",
                    format!("must be between 1 and {MAX_RESULTS}"),
                ));
            }
            n => n as u32,
        };
        let offset = if page_token.is_empty() {
            0
        } else {
            orbit_core::Cursor::decode(page_token)?
                .parse::<usize>()
                .map_err(|_| Error::invalid("page_token", "is not a token this server issued"))?
        };
        if offset > MAX_OFFSET {
            return Err(Error::invalid(
                "page_token",
                "goes deeper than 10,000 results; refine the query",
            ));
        }
        let allowed = self.knowledge.visible_space_ids(actor, &ws, role).await?;
        let only: Vec<String> = space_ids
            .iter()
            .filter(|s| allowed.contains(s))
            .cloned()
            .collect();
        if !space_ids.is_empty() && only.is_empty() {
            return Ok(SearchPage {
                hits: Vec::new(),
                total: 0,
                total_is_lower_bound: false,
                next: None,
            });
        }
        let query = SearchQuery {
            workspace_id: ws,
            text: text.trim().to_owned(),
            kinds,
            allowed_spaces: allowed,
            only_spaces: only,
            limit: limit as usize,
            offset,
        };
        let results = self.deps.search.search(&query).await.map_err(search_err)?;
        let next_offset = offset + results.hits.len();
        let next = (results.hits.len() == limit as usize
            && (next_offset as u64) < results.total
            && next_offset <= MAX_OFFSET)
            .then(|| orbit_core::Cursor::encode(&next_offset.to_string()));
        Ok(SearchPage {
            hits: results.hits,
            total: results.total,
            total_is_lower_bound: results.total_is_lower_bound,
            next,
        })
    }
}

/// Brings the search index up to date with the database.
#[derive(Clone)]
pub struct SearchIndexer {
    deps: Deps,
}

impl SearchIndexer {
    pub(crate) fn new(deps: Deps) -> Self {
        SearchIndexer { deps }
    }

    fn doc(&self, page: &orbit_core::knowledge::Page) -> SearchDoc {
        let rendered = self.deps.markdown.text(&page.body);
        SearchDoc {
            workspace_id: page.workspace_id.clone(),
            kind: DocKind::Page,
            id: page.id.to_string(),
            space_id: page.space_id.to_string(),
            title: page.title.clone(),
            body: rendered.text,
            keywords: rendered
                .headings
                .into_iter()
                .map(|(_, text, _)| text)
                .collect::<Vec<_>>()
                .join(" "),
            updated_at: page.updated_at.0,
        }
    }

    fn api_doc(api: &orbit_core::api::Api) -> SearchDoc {
        SearchDoc {
            workspace_id: api.workspace_id.clone(),
            kind: DocKind::Api,
            id: api.id.to_string(),
            space_id: String::new(),
            title: api.name.clone(),
            body: format!(
                "{} — {} API{}{}",
                api.description,
                api.format.as_str(),
                if api.owner.is_empty() {
                    String::new()
                } else {
                    format!(", owned by {}", api.owner)
                },
                if api.latest_version.is_empty() {
                    String::new()
                } else {
                    format!(", version {}", api.latest_version)
                },
            ),
            keywords: format!("{} {} {}", api.slug, api.tags.join(" "), api.search_terms),
            updated_at: api.updated_at.0,
        }
    }

    /// Applies up to `batch` pending jobs of each outbox (pages, APIs, repositories):
    /// upserts the documents that exist, deletes the ones that are gone, makes the changes
    /// searchable once, then marks the jobs done. Returns how many jobs it applied. A crash
    /// at any point leaves the jobs pending (they are idempotent), so they are applied
    /// again on the next run.
    pub async fn run_once(&self, batch: u32) -> Result<usize> {
        let d = &self.deps;
        let pages = d
            .knowledge
            .pending_index_jobs(batch)
            .await
            .map_err(store_err)?;
        let apis = d
            .apis
            .pending_api_index_jobs(batch)
            .await
            .map_err(store_err)?;
        let repositories = d
            .repositories
            .pending_repository_index_jobs(batch)
            .await
            .map_err(store_err)?;
        if pages.is_empty() && apis.is_empty() && repositories.is_empty() {
            return Ok(0);
        }
        let mut changes = Changes::default();
        for job in &pages {
            if changes.first(&job.workspace_id, job.page_id.as_str()) {
                let page = d
                    .knowledge
                    .get_page(&job.workspace_id, &job.page_id)
                    .await
                    .map_err(store_err)?;
                changes.apply(
                    &job.workspace_id,
                    job.page_id.as_str(),
                    page.map(|p| self.doc(&p)),
                );
            }
        }
        for job in &apis {
            if changes.first(&job.workspace_id, job.api_id.as_str()) {
                let api = d
                    .apis
                    .get_api(&job.workspace_id, &job.api_id)
                    .await
                    .map_err(store_err)?;
                changes.apply(
                    &job.workspace_id,
                    job.api_id.as_str(),
                    api.map(|a| Self::api_doc(&a)),
                );
            }
        }
        for job in &repositories {
            if changes.first(&job.workspace_id, job.repository_id.as_str()) {
                let repo = d
                    .repositories
                    .get_repository(&job.workspace_id, &job.repository_id)
                    .await
                    .map_err(store_err)?;
                changes.apply(
                    &job.workspace_id,
                    job.repository_id.as_str(),
                    repo.map(|r| crate::repositories::search_doc(&r)),
                );
            }
        }
        if !changes.upserts.is_empty() {
            d.search
                .upsert(&changes.upserts)
                .await
                .map_err(search_err)?;
        }
        for (ws, id) in &changes.deletes {
            d.search
                .delete(ws, std::slice::from_ref(id))
                .await
                .map_err(search_err)?;
        }
        d.search.refresh().await.map_err(search_err)?;
        if !pages.is_empty() {
            d.knowledge
                .complete_index_jobs(&pages.iter().map(|j| j.id.clone()).collect::<Vec<_>>())
                .await
                .map_err(store_err)?;
        }
        if !apis.is_empty() {
            d.apis
                .complete_api_index_jobs(&apis.iter().map(|j| j.id.clone()).collect::<Vec<_>>())
                .await
                .map_err(store_err)?;
        }
        if !repositories.is_empty() {
            d.repositories
                .complete_repository_index_jobs(
                    &repositories
                        .iter()
                        .map(|j| j.id.clone())
                        .collect::<Vec<_>>(),
                )
                .await
                .map_err(store_err)?;
        }
        Ok(pages.len() + apis.len() + repositories.len())
    }

    /// Applies every pending job.
    pub async fn drain(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once(500).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    /// Re-indexes every page of every workspace from the database (for `orbit reindex` and
    /// for a new or lost index), then every API and every repository. Returns the number of
    /// documents indexed.
    pub async fn reindex_all(&self) -> Result<u64> {
        let mut after: Option<PageId> = None;
        let mut count = 0u64;
        loop {
            let pages = self
                .deps
                .knowledge
                .pages_after(after.as_ref(), 500)
                .await
                .map_err(store_err)?;
            let Some(last) = pages.last() else { break };
            after = Some(last.id.clone());
            let docs: Vec<SearchDoc> = pages.iter().map(|p| self.doc(p)).collect();
            self.deps.search.upsert(&docs).await.map_err(search_err)?;
            count += docs.len() as u64;
        }
        let mut after: Option<orbit_core::api::ApiId> = None;
        loop {
            let apis = self
                .deps
                .apis
                .apis_after(after.as_ref(), 500)
                .await
                .map_err(store_err)?;
            let Some(last) = apis.last() else { break };
            after = Some(last.id.clone());
            let docs: Vec<SearchDoc> = apis.iter().map(Self::api_doc).collect();
            self.deps.search.upsert(&docs).await.map_err(search_err)?;
            count += docs.len() as u64;
        }
        let mut after: Option<orbit_core::RepositoryId> = None;
        loop {
            let repos = self
                .deps
                .repositories
                .repositories_after(after.as_ref(), 500)
                .await
                .map_err(store_err)?;
            let Some(last) = repos.last() else { break };
            after = Some(last.id.clone());
            let docs: Vec<SearchDoc> = repos.iter().map(crate::repositories::search_doc).collect();
            self.deps.search.upsert(&docs).await.map_err(search_err)?;
            count += docs.len() as u64;
        }
        self.deps.search.refresh().await.map_err(search_err)?;
        Ok(count)
    }
}

/// What one indexer run changes in the index: each document once (several jobs for one
/// document in a batch are applied by its current state, read once).
#[derive(Default)]
struct Changes {
    seen: std::collections::HashSet<(orbit_core::WorkspaceId, String)>,
    upserts: Vec<SearchDoc>,
    deletes: Vec<(orbit_core::WorkspaceId, String)>,
}

impl Changes {
    /// Whether this is the batch's first job for the document.
    fn first(&mut self, ws: &orbit_core::WorkspaceId, id: &str) -> bool {
        self.seen.insert((ws.clone(), id.to_owned()))
    }

    /// The document as it is now: `None` when it is gone.
    fn apply(&mut self, ws: &orbit_core::WorkspaceId, id: &str, doc: Option<SearchDoc>) {
        match doc {
            Some(doc) => self.upserts.push(doc),
            None => self.deletes.push((ws.clone(), id.to_owned())),
        }
    }
}
