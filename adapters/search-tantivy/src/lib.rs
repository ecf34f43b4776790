//! Orbit's embedded full-text search: [`TantivyIndex`] implements
//! [`orbit_ports::SearchIndex`] on a [tantivy](https://docs.rs/tantivy) index kept in a folder
//! of the data directory (or in memory, for tests).
//!
//! # Visibility of writes
//!
//! Writes become searchable within 200 ms, or at once after `refresh()`. A background thread
//! commits the index at most every 200 ms ([`COMMIT_INTERVAL`]) while there are uncommitted
//! writes and reloads the searcher after each commit, so the bound is 200 ms plus the
//! commit's own time (milliseconds for a few documents); `refresh()` commits at once.
//! Dropping the index waits for a last commit of what is still pending, so nothing written
//! before the drop is lost.
//!
//! # Matching and ranking
//!
//! The query text is split into words by the same analyzer that indexes the documents
//! (non-alphanumeric characters separate words; lowercased; accents folded), so there is no
//! query syntax and no syntax error. Every word must match in the title, body or keywords:
//! exactly (BM25, title boosted ×3), the last word also as a prefix, and words of 4+
//! characters also with one typo (two from 8 characters) at a lower weight. Equal scores
//! rank the more recently updated document first. Empty text lists the most recently updated
//! documents (all filters still apply; their score is 0). At most [`MAX_WORDS`] words of a
//! query are used. A page holds at most [`MAX_LIMIT`] hits.
//!
//! Counting: a query with words counts its matches exactly up to
//! [`orbit_ports::EXACT_TOTAL_UP_TO`] (1,000) and stops there (`total_is_lower_bound`); its
//! hits are the best of those first matches (segments visited most recently written first)
//! and no hit past that position is returned. Scoring every match of a common word on a
//! large index (tens of thousands) was most of a search's cost. Empty text counts exactly,
//! and no hit past position [`MAX_WINDOW`] is returned.
//!
//! Snippets: the best fragment of the body (at most 200 bytes) around the words that matched
//! (exactly, by prefix or with a typo), matches in `<mark>…</mark>`, everything else
//! HTML-escaped; when nothing in the body matched, its first 160 characters.
//!
//! One writer exists per index (tantivy allows no more); it lives behind a mutex. All
//! blocking tantivy work runs on tokio's blocking pool.

mod text;

use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_ports::{
    DocKind, EXACT_TOTAL_UP_TO, SearchDoc, SearchError, SearchHit, SearchIndex, SearchQuery,
    SearchResults,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, SegmentReader,
    TantivyDocument, Term,
};

pub use text::MAX_WORDS;

/// Uncommitted writes are committed by the background thread at most this often.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(200);
/// The writer's indexing memory budget (split among its indexing threads).
const WRITER_HEAP_BYTES: usize = 50_000_000;
/// A page holds at most this many hits; larger limits are lowered to it.
pub const MAX_LIMIT: usize = 1_000;
/// Hits of an empty-text listing past this position (offset + limit) are not returned
/// (`total` still counts them).
pub const MAX_WINDOW: usize = 10_000;
/// The name under which the text analyzer is registered in the index.
const ANALYZER: &str = "orbit_text";

const TITLE_BOOST: Score = 3.0;
const BODY_BOOST: Score = 1.0;
const KEYWORDS_BOOST: Score = 1.0;
/// Weight of a prefix match of the last word relative to an exact match's field boost.
const PREFIX_WEIGHT: Score = 0.5;
/// Weight of a match with typos relative to an exact match's field boost.
const TYPO_WEIGHT: Score = 0.3;
/// Typo tolerance is applied when the exact and prefix query finds fewer documents than this.
const TYPOS_BELOW: u64 = 50;

/// The schema's fields.
#[derive(Clone, Copy)]
struct Fields {
    workspace_id: Field,
    doc_key: Field,
    kind: Field,
    id: Field,
    space_id: Field,
    title: Field,
    body: Field,
    keywords: Field,
    updated_at: Field,
}

fn schema() -> (Schema, Fields) {
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let mut builder = Schema::builder();
    let fields = Fields {
        workspace_id: builder.add_text_field("workspace_id", STRING),
        doc_key: builder.add_text_field("doc_key", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        id: builder.add_text_field("id", STORED),
        space_id: builder.add_text_field("space_id", STRING | STORED),
        title: builder.add_text_field("title", text(true)),
        body: builder.add_text_field("body", text(true)),
        keywords: builder.add_text_field("keywords", text(false)),
        updated_at: builder.add_i64_field("updated_at", FAST),
    };
    (builder.build(), fields)
}

/// The size of the doc store's compressed blocks (tantivy's default is 16 KiB).
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// Every term of `field` that starts with `prefix`, at a constant score. What
/// `FuzzyTermQuery::new_prefix(term, 0, …)` matches, without building a Levenshtein DFA
/// for each query word and field (hash maps and allocations: a good part of a one-word
/// search's CPU before).
#[derive(Clone, Debug)]
struct PrefixQuery {
    field: Field,
    prefix: Prefix,
}

impl PrefixQuery {
    fn new(field: Field, prefix: &str) -> Self {
        PrefixQuery {
            field,
            prefix: Prefix(Arc::from(prefix.as_bytes())),
        }
    }
}

impl Query for PrefixQuery {
    fn weight(
        &self,
        _scoring: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(tantivy::query::AutomatonWeight::new(
            self.field,
            self.prefix.clone(),
        )))
    }
}

/// The automaton of byte strings that start with these bytes. Its state is how many of
/// them matched so far, or `None` once one differed.
#[derive(Clone, Debug)]
struct Prefix(Arc<[u8]>);

impl tantivy_fst::Automaton for Prefix {
    type State = Option<usize>;

    fn start(&self) -> Option<usize> {
        Some(0)
    }

    fn is_match(&self, state: &Option<usize>) -> bool {
        *state == Some(self.0.len())
    }

    fn can_match(&self, state: &Option<usize>) -> bool {
        state.is_some()
    }

    fn will_always_match(&self, state: &Option<usize>) -> bool {
        *state == Some(self.0.len())
    }

    fn accept(&self, state: &Option<usize>, byte: u8) -> Option<usize> {
        match *state {
            Some(n) if n == self.0.len() => Some(n),
            Some(n) if self.0[n] == byte => Some(n + 1),
            _ => None,
        }
    }
}

/// Words: split on non-alphanumerics, at most 40 bytes, lowercased, accents folded.
fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// A document's unique key in the index. The workspace id's length comes first, so no pair
/// of (workspace, id) can produce another pair's key whatever characters they contain.
fn doc_key(workspace: &WorkspaceId, id: &str) -> String {
    format!("{}:{}/{}", workspace.as_str().len(), workspace.as_str(), id)
}

fn unavailable(context: &str, error: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(format!("tantivy: {context}: {error}"))
}

/// Whether the background committer should commit or stop.
#[derive(Default)]
struct Signal {
    dirty: bool,
    stop: bool,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    writer: Mutex<IndexWriter>,
    signal: Mutex<Signal>,
    wake: Condvar,
    /// Where the index lives on disk; `None` in memory. For logs.
    path: Option<PathBuf>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves nothing half-done that we could repair; go on.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn mark_dirty(&self) {
        lock(&self.signal).dirty = true;
        self.wake.notify_one();
    }

    /// Commits pending writes (if any) and reloads the searcher. Blocking.
    fn commit(&self, force: bool) -> Result<(), SearchError> {
        {
            let mut writer = lock(&self.writer);
            // Clearing the flag while holding the writer lock is exact: no write can slip in
            // between the flag and the commit.
            let dirty = std::mem::take(&mut lock(&self.signal).dirty);
            if dirty || force {
                if let Err(error) = writer.commit() {
                    lock(&self.signal).dirty = true;
                    return Err(unavailable("commit", error));
                }
            }
        }
        self.reader.reload().map_err(|e| unavailable("reload", e))
    }

    fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn write(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let f = &self.fields;
        let writer = lock(&self.writer);
        for doc in docs {
            let key = doc_key(&doc.workspace_id, &doc.id);
            let mut d = TantivyDocument::new();
            d.add_text(f.workspace_id, doc.workspace_id.as_str());
            d.add_text(f.doc_key, &key);
            d.add_text(f.kind, doc.kind.as_str());
            d.add_text(f.id, &doc.id);
            d.add_text(f.space_id, &doc.space_id);
            d.add_text(f.title, &doc.title);
            d.add_text(f.body, &doc.body);
            d.add_text(f.keywords, &doc.keywords);
            d.add_i64(f.updated_at, doc.updated_at);
            writer.delete_term(Term::from_field_text(f.doc_key, &key));
            writer
                .add_document(d)
                .map_err(|e| unavailable("add document", e))?;
        }
        self.mark_dirty();
        Ok(())
    }

    fn remove(&self, terms: Vec<Term>) {
        let writer = lock(&self.writer);
        for term in terms {
            writer.delete_term(term);
        }
        self.mark_dirty();
    }

    /// The filter clauses of a query. A filter that every document of the index passes is
    /// left out (e.g. the workspace filter when the index holds one workspace, the
    /// visibility filter when the caller may see every space): the results are the same, and
    /// intersecting with it would cost a step per matching document. Each document has
    /// exactly one workspace, kind and space, so a filter passes every document when the
    /// documents holding its values add up to all of them (deleted documents included).
    fn filter(
        &self,
        query: &SearchQuery,
        searcher: &tantivy::Searcher,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let all_docs: u64 = searcher
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.max_doc()))
            .sum();
        let passes_all = |field: Field, values: &[&str]| -> bool {
            let distinct: std::collections::BTreeSet<&str> = values.iter().copied().collect();
            let mut holding = 0u64;
            for value in distinct {
                match searcher.doc_freq(&Term::from_field_text(field, value)) {
                    Ok(n) => holding += n,
                    Err(_) => return false,
                }
            }
            holding >= all_docs
        };
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |field: Field, values: &mut dyn Iterator<Item = &str>| -> Box<dyn Query> {
            let clauses = values
                .map(|v| (Occur::Should, term(field, v)))
                .collect::<Vec<_>>();
            Box::new(BooleanQuery::new(clauses))
        };
        // Filters select; they do not score.
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };

        let mut clauses = Vec::new();
        let workspace = [query.workspace_id.as_str()];
        if !passes_all(f.workspace_id, &workspace) {
            clauses.push(filter(term(f.workspace_id, workspace[0])));
        }
        let kinds: Vec<&str> = query.kinds.iter().map(|k| k.as_str()).collect();
        if !kinds.is_empty() && !passes_all(f.kind, &kinds) {
            clauses.push(filter(any_of(f.kind, &mut kinds.iter().copied())));
        }
        // Visible: outside any space, or in a space the caller may see.
        let visible: Vec<&str> = std::iter::once("")
            .chain(query.allowed_spaces.iter().map(String::as_str))
            .collect();
        if !passes_all(f.space_id, &visible) {
            clauses.push(filter(any_of(f.space_id, &mut visible.iter().copied())));
        }
        let only: Vec<&str> = query.only_spaces.iter().map(String::as_str).collect();
        if !only.is_empty() && !passes_all(f.space_id, &only) {
            clauses.push(filter(any_of(f.space_id, &mut only.iter().copied())));
        }
        clauses
    }

    /// The disjunction that lets one query word match: exact in any field, as a prefix if it
    /// is the last word, and with typos if it is long enough.
    fn word_query(&self, word: &text::QueryWord) -> Box<dyn Query> {
        let f = &self.fields;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in [
            (f.title, TITLE_BOOST),
            (f.body, BODY_BOOST),
            (f.keywords, KEYWORDS_BOOST),
        ] {
            let term = Term::from_field_text(field, &word.text);
            let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
            alternatives.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(exact), boost)),
            ));
            if word.prefix {
                let prefix = PrefixQuery::new(field, &word.text);
                alternatives.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(prefix), boost * PREFIX_WEIGHT)),
                ));
            }
            if word.distance > 0 {
                let typo = FuzzyTermQuery::new(term, word.distance, true);
                alternatives.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(typo), boost * TYPO_WEIGHT)),
                ));
            }
        }
        Box::new(BooleanQuery::new(alternatives))
    }

    /// Searches with typo tolerance only where exact and prefix matches are scarce: expanding
    /// every word to every term within one or two edits, in every field, costs several times
    /// the exact query on a large index, and a person who typed a word that is there wants
    /// what has that word. The choice depends on the query alone, not on the page asked for,
    /// so paging through the results stays consistent.
    fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let words = text::query_words(&self.analyzer, &query.text);
        if words.iter().all(|w| w.distance == 0) {
            return self.execute(query, &words);
        }
        let exact: Vec<text::QueryWord> = words
            .iter()
            .map(|w| text::QueryWord {
                distance: 0,
                ..w.clone()
            })
            .collect();
        let found = self.execute(query, &exact)?;
        if found.total >= TYPOS_BELOW {
            return Ok(found);
        }
        self.execute(query, &words)
    }

    fn execute(
        &self,
        query: &SearchQuery,
        words: &[text::QueryWord],
    ) -> Result<SearchResults, SearchError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut clauses = self.filter(query, &searcher);
        for word in words {
            clauses.push((Occur::Must, self.word_query(word)));
        }
        if clauses.is_empty() {
            // No text and no filter left: every document, unscored.
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(tantivy::query::AllQuery),
                    0.0,
                )),
            ));
        }
        let tantivy_query = BooleanQuery::new(clauses);

        let limit = query
            .limit
            .min(MAX_LIMIT)
            .min(MAX_WINDOW.saturating_sub(query.offset));
        let (total, found): (usize, Vec<(Score, DocAddress)>) = if !words.is_empty() {
            self.best_matches(&searcher, &tantivy_query, query.offset, limit)?
        } else if limit == 0 {
            let total = searcher
                .search(&tantivy_query, &Count)
                .map_err(|e| unavailable("search", e))?;
            (total, Vec::new())
        } else {
            let newest = TopDocs::with_limit(limit)
                .and_offset(query.offset)
                .order_by_fast_field::<i64>("updated_at", Order::Desc);
            let (total, docs) = searcher
                .search(&tantivy_query, &(Count, newest))
                .map_err(|e| unavailable("search", e))?;
            (
                total,
                docs.into_iter()
                    .map(|(_, address)| (0.0, address))
                    .collect(),
            )
        };
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let doc: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| unavailable("read document", e))?;
            let text_of = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let kind = text_of(f.kind);
            let Some(kind) = DocKind::parse(&kind) else {
                tracing::warn!(kind, "search document of an unknown kind skipped");
                continue;
            };
            let body = doc
                .get_first(f.body)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            hits.push(SearchHit {
                kind,
                id: text_of(f.id),
                space_id: text_of(f.space_id),
                title: text_of(f.title),
                snippet: text::snippet(&self.analyzer, body, words),
                score,
            });
        }
        let total = total as u64;
        Ok(SearchResults {
            hits,
            total,
            total_is_lower_bound: !words.is_empty() && total >= EXACT_TOTAL_UP_TO,
        })
    }

    /// The best `limit` matches after `offset` by score (on equal scores the more recently
    /// updated first) among the first [`EXACT_TOTAL_UP_TO`] matches, and how many matches
    /// were counted (at most that many). Ranking every match of a common word would score
    /// every one of them (tens of thousands on a large index), most of the cost of a search;
    /// stopping after the first thousand keeps a query's cost bounded. Segments are visited
    /// most recently written first, so the candidates lean towards recent documents; the
    /// order is fixed for a given index state, so pages of one query stay consistent.
    fn best_matches(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<(Score, DocAddress)>), SearchError> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        use tantivy::{DocSet, TERMINATED};

        /// (score, updated_at, segment, doc): ordered best first by score, then update.
        #[derive(PartialEq)]
        struct Candidate(Score, i64, u32, DocId);
        impl Eq for Candidate {}
        impl PartialOrd for Candidate {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Candidate {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0
                    .total_cmp(&other.0)
                    .then(self.1.cmp(&other.1))
                    // Equal score and time: the earlier position first (stable pages).
                    .then(other.2.cmp(&self.2))
                    .then(other.3.cmp(&self.3))
            }
        }

        let cap = EXACT_TOTAL_UP_TO as usize;
        let keep = if limit == 0 {
            0
        } else {
            (offset + limit).min(cap)
        };
        let weight = query
            .weight(tantivy::query::EnableScoring::enabled_from_searcher(
                searcher,
            ))
            .map_err(|e| unavailable("search", e))?;
        // Most recently written segments first (by their newest document).
        let mut segments: Vec<(u32, &SegmentReader, i64)> = searcher
            .segment_readers()
            .iter()
            .enumerate()
            .map(|(ord, reader)| {
                let newest = reader
                    .fast_fields()
                    .i64("updated_at")
                    .map(|c| c.max_value())
                    .unwrap_or(i64::MIN);
                (ord as u32, reader, newest)
            })
            .collect();
        segments.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));

        // The `keep` best so far, the worst on top.
        let mut best: BinaryHeap<Reverse<Candidate>> = BinaryHeap::with_capacity(keep + 1);
        let mut counted = 0usize;
        'segments: for (ord, reader, _) in segments {
            let updated_at = reader
                .fast_fields()
                .i64("updated_at")
                .map(|column| column.first_or_default_col(0))
                .map_err(|e| unavailable("read updated_at", e))?;
            let alive = reader.alive_bitset();
            let mut scorer = weight
                .scorer(reader, 1.0)
                .map_err(|e| unavailable("search", e))?;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    counted += 1;
                    if keep > 0 {
                        let candidate =
                            Candidate(scorer.score(), updated_at.get_val(doc), ord, doc);
                        if best.len() < keep {
                            best.push(Reverse(candidate));
                        } else if best.peek().is_some_and(|Reverse(worst)| candidate > *worst) {
                            best.pop();
                            best.push(Reverse(candidate));
                        }
                    }
                    if counted >= cap {
                        break 'segments;
                    }
                }
                doc = scorer.advance();
            }
        }
        let mut best: Vec<Candidate> = best.into_iter().map(|Reverse(c)| c).collect();
        best.sort_by(|a, b| b.cmp(a));
        Ok((
            counted,
            best.into_iter()
                .skip(offset)
                .take(limit)
                .map(|Candidate(score, _, ord, doc)| (score, DocAddress::new(ord, doc)))
                .collect(),
        ))
    }
}

/// The thread that commits pending writes at most every [`COMMIT_INTERVAL`].
fn committer(inner: Arc<Inner>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("orbit-search-commit".into())
        .spawn(move || {
            let mut last_commit = Instant::now() - COMMIT_INTERVAL;
            let mut failures: u32 = 0;
            loop {
                let mut signal = lock(&inner.signal);
                while !signal.dirty && !signal.stop {
                    signal = inner.wake.wait(signal).unwrap_or_else(|p| p.into_inner());
                }
                // Wait out the rest of the interval (longer after failures), unless told to stop.
                let pause = COMMIT_INTERVAL * 2u32.pow(failures.min(6));
                while !signal.stop {
                    let elapsed = last_commit.elapsed();
                    if elapsed >= pause {
                        break;
                    }
                    signal = inner.wake.wait_timeout(signal, pause - elapsed).unwrap_or_else(|p| p.into_inner()).0;
                }
                let stop = signal.stop;
                drop(signal);
                last_commit = Instant::now();
                match inner.commit(false) {
                    Ok(()) => failures = 0,
                    Err(error) => {
                        failures += 1;
                        tracing::warn!(%error, failures, path = ?inner.path, "search index commit failed");
                    }
                }
                if stop {
                    return;
                }
            }
        })
        .expect("spawning a thread")
}

/// The embedded search index. See the [crate documentation](crate) for what it guarantees.
pub struct TantivyIndex {
    inner: Arc<Inner>,
    committer: Option<JoinHandle<()>>,
}

impl TantivyIndex {
    /// Opens the index in folder `dir`, creating the folder and the index if missing.
    ///
    /// Fails with [`SearchError::Unavailable`] if another process holds the index open, or
    /// if the folder holds an index with another schema (delete the folder: the index is
    /// rebuilt from the store).
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| unavailable(&format!("create {}", dir.display()), e))?;
        let directory = MmapDirectory::open(dir)
            .map_err(|e| unavailable(&format!("open {}", dir.display()), e))?;
        let (schema, _) = schema();
        let index = Index::open_or_create(directory, schema)
            .map_err(|e| unavailable(&format!("open index in {}", dir.display()), e))?;
        Self::start(index, Some(dir.to_path_buf()))
    }

    /// A fresh index in memory (tests, previews).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, _) = schema();
        Self::start(Index::create_in_ram(schema), None)
    }

    fn start(mut index: Index, path: Option<PathBuf>) -> Result<Self, SearchError> {
        // Segments written from now on (new documents, merges) store documents in blocks of
        // this size: a hit's stored body is read by decompressing its block, and with
        // tantivy's 16 KiB blocks a page of 20 hits decompressed about 320 KiB (a tenth of
        // a search's CPU). Older segments keep their blocks and read as before.
        index.settings_mut().docstore_blocksize = DOCSTORE_BLOCK_BYTES;
        let (_, fields) = schema();
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let writer: IndexWriter = index
            .writer(WRITER_HEAP_BYTES)
            .map_err(|e| unavailable("open the index writer (is it in use?)", e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| unavailable("open the index reader", e))?;
        let inner = Arc::new(Inner {
            index,
            reader,
            fields,
            analyzer,
            writer: Mutex::new(writer),
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
            path,
        });
        tracing::debug!(path = ?inner.path, docs = inner.num_docs(), "search index opened");
        let committer = Some(committer(inner.clone()));
        Ok(Self { inner, committer })
    }

    /// Runs blocking index work on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| unavailable("search task", e))?
    }

    /// The number of segments the index has now (for tests and diagnostics).
    pub fn segment_count(&self) -> usize {
        self.inner
            .index
            .searchable_segment_ids()
            .map(|ids| ids.len())
            .unwrap_or(0)
    }
}

impl Drop for TantivyIndex {
    fn drop(&mut self) {
        lock(&self.inner.signal).stop = true;
        self.inner.wake.notify_all();
        if let Some(thread) = self.committer.take() {
            // The thread commits what is pending, then ends; afterwards the writer (and its
            // lock on the folder) goes as soon as no search task holds the index any more.
            if thread.join().is_err() {
                tracing::warn!("search index committer panicked");
            }
        }
    }
}

#[async_trait]
impl SearchIndex for TantivyIndex {
    async fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        let docs = docs.to_vec();
        self.blocking(move |inner| inner.write(&docs)).await
    }

    async fn delete(&self, workspace: &WorkspaceId, ids: &[String]) -> Result<(), SearchError> {
        if ids.is_empty() {
            return Ok(());
        }
        let field = self.inner.fields.doc_key;
        let terms = ids
            .iter()
            .map(|id| Term::from_field_text(field, &doc_key(workspace, id)))
            .collect();
        self.blocking(move |inner| {
            inner.remove(terms);
            Ok(())
        })
        .await
    }

    async fn delete_workspace(&self, workspace: &WorkspaceId) -> Result<(), SearchError> {
        let term = Term::from_field_text(self.inner.fields.workspace_id, workspace.as_str());
        self.blocking(move |inner| {
            inner.remove(vec![term]);
            Ok(())
        })
        .await
    }

    async fn refresh(&self) -> Result<(), SearchError> {
        self.blocking(|inner| inner.commit(false)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let query = query.clone();
        self.blocking(move |inner| inner.search(&query)).await
    }

    async fn count(&self) -> Result<u64, SearchError> {
        Ok(self.inner.num_docs())
    }

    fn name(&self) -> &'static str {
        "tantivy"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(ws: &str, id: &str, title: &str, body: &str, updated_at: i64) -> SearchDoc {
        SearchDoc {
            workspace_id: WorkspaceId::new(ws),
            kind: DocKind::Page,
            id: id.into(),
            space_id: String::new(),
            title: title.into(),
            body: body.into(),
            keywords: String::new(),
            updated_at,
        }
    }

    fn query(ws: &str, text: &str) -> SearchQuery {
        SearchQuery {
            workspace_id: WorkspaceId::new(ws),
            text: text.into(),
            kinds: vec![],
            allowed_spaces: vec![],
            only_spaces: vec![],
            limit: 10,
            offset: 0,
        }
    }

    #[test]
    fn the_prefix_automaton_accepts_exactly_the_words_that_start_with_it() {
        use tantivy_fst::Automaton;
        let prefix = Prefix(Arc::from(&b"dep"[..]));
        let run = |word: &str| {
            let mut state = prefix.start();
            for &b in word.as_bytes() {
                if !prefix.can_match(&state) {
                    return false;
                }
                state = prefix.accept(&state, b);
            }
            prefix.is_match(&state)
        };
        for yes in ["dep", "deploy", "deployment"] {
            assert!(run(yes), "{yes}");
        }
        for no in ["", "de", "undeploy", "dxp", "edp"] {
            assert!(!run(no), "{no}");
        }
    }

    #[test]
    fn keys_cannot_collide_across_workspaces() {
        assert_ne!(
            doc_key(&WorkspaceId::new("a/b"), "c"),
            doc_key(&WorkspaceId::new("a"), "b/c")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typos_widen_a_query_only_when_exact_matches_are_scarce() {
        let index = TantivyIndex::in_memory().unwrap();
        let mut docs: Vec<SearchDoc> = (0..TYPOS_BELOW)
            .map(|i| {
                doc(
                    "w",
                    &format!("exact-{i}"),
                    "Notes",
                    "the deployment checklist",
                    i as i64,
                )
            })
            .collect();
        docs.push(doc("w", "typo", "Notes", "the deploymant checklist", 0));
        index.upsert(&docs).await.unwrap();
        index.refresh().await.unwrap();

        // "deployment" is in TYPOS_BELOW documents: its one-edit neighbour is not added.
        let exact = index.search(&query("w", "deployment")).await.unwrap();
        assert_eq!(exact.total, TYPOS_BELOW);
        // "deploymant" is in one document: the query widens to its neighbours within one edit.
        let scarce = index.search(&query("w", "deploymant")).await.unwrap();
        assert_eq!(scarce.total, TYPOS_BELOW + 1);
        assert_eq!(scarce.hits[0].id, "typo", "the exact match ranks first");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_become_visible_without_refresh_within_the_commit_interval() {
        let index = TantivyIndex::in_memory().unwrap();
        index
            .upsert(&[doc("w", "1", "Quarterly roadmap", "plans", 1)])
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let found = index.search(&query("w", "roadmap")).await.unwrap();
            if found.total == 1 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "not visible after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let waited = started.elapsed();
        assert!(
            waited < COMMIT_INTERVAL * 5,
            "visible only after {waited:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_commits_pending_writes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = TantivyIndex::open(dir.path()).unwrap();
            index
                .upsert(&[doc("w", "1", "Unsaved", "body", 1)])
                .await
                .unwrap();
        }
        let index = TantivyIndex::open(dir.path()).unwrap();
        assert_eq!(index.count().await.unwrap(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_writer_on_the_same_folder_is_refused_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let _first = TantivyIndex::open(dir.path()).unwrap();
        match TantivyIndex::open(dir.path()) {
            Err(SearchError::Unavailable(message)) => {
                assert!(message.contains("in use"), "{message}")
            }
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => panic!("two writers on one index"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn odd_queries_never_fail() {
        let index = TantivyIndex::in_memory().unwrap();
        index
            .upsert(&[doc("w", "1", "Title", "Body text", 1)])
            .await
            .unwrap();
        index.refresh().await.unwrap();
        for text in [
            "",
            "   ",
            "\"",
            "title:x",
            "a AND (b",
            "*",
            "~2",
            "ü",
            "🙂",
            &"x".repeat(10_000),
            &"word ".repeat(500),
        ] {
            index.search(&query("w", text)).await.unwrap();
        }
        let mut huge = query("w", "title");
        huge.limit = usize::MAX;
        huge.offset = usize::MAX;
        let found = index.search(&huge).await.unwrap();
        assert_eq!((found.total, found.hits.len()), (1, 0));
        huge.offset = 0;
        assert_eq!(index.search(&huge).await.unwrap().hits.len(), 1);
    }
}
