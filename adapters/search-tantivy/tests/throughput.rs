//! Indexing throughput and query latency of the embedded index on synthetic documents.
//!
//! Ignored by default (it takes a while and only prints figures; nothing is asserted about
//! time). Run it in release mode:
//!
//! ```text
//! cargo test -p orbit-search-tantivy --release --test throughput -- --ignored --nocapture
//! ```

use orbit_core::WorkspaceId;
use orbit_ports::{DocKind, SearchDoc, SearchIndex, SearchQuery};
use orbit_search_tantivy::TantivyIndex;
use std::time::{Duration, Instant};

const DOCS: usize = 20_000;
const BATCH: usize = 1_000;
const QUERIES: usize = 200;
const VOCABULARY: usize = 5_000;

/// xorshift64*: deterministic, good enough to pick words.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A skewed pick: low indexes (common words) far more often than high ones.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize
    }
}

/// A fixed vocabulary of pronounceable made-up words of 2 to 4 syllables.
fn vocabulary() -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "ti", "mur", "qua", "zen", "pe",
        "ro", "lis", "ba", "gon", "fi", "nu", "xel", "dra", "ce", "om",
    ];
    let mut rng = Rng(0x5eed_0f0b_1700);
    let mut words = std::collections::BTreeSet::new();
    while words.len() < VOCABULARY {
        let syllables = 2 + rng.below(3);
        let word: String = (0..syllables)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
            .collect();
        words.insert(word);
    }
    let mut words: Vec<String> = words.into_iter().collect();
    // Shuffle so that "common" words are not alphabetically first.
    for i in (1..words.len()).rev() {
        words.swap(i, rng.below(i + 1));
    }
    words
}

fn documents(workspace: &WorkspaceId, words: &[String]) -> Vec<SearchDoc> {
    let mut rng = Rng(42);
    (0..DOCS)
        .map(|i| {
            let mut text = |count: usize| {
                (0..count)
                    .map(|_| words[rng.skewed(words.len())].as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let title = text(4);
            let body_words = 200 + (i * 7919) % 200;
            let body = text(body_words);
            let keywords = text(3);
            SearchDoc {
                workspace_id: workspace.clone(),
                kind: DocKind::Page,
                id: format!("doc-{i}"),
                space_id: format!("space-{}", i % 10),
                title,
                body,
                keywords,
                updated_at: i as i64,
            }
        })
        .collect()
}

/// A typo: two adjacent letters swapped in the middle of the word.
fn with_typo(word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let middle = chars.len() / 2;
    chars.swap(middle - 1, middle);
    chars.into_iter().collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    eprintln!(
        "  {label:<10} n={:>3}  p50 {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms",
        times.len(),
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --release --ignored --nocapture"]
async fn indexing_throughput_and_query_latency() {
    let dir = tempfile::tempdir().unwrap();
    let index = TantivyIndex::open(dir.path()).unwrap();
    let workspace = WorkspaceId::new("bench");
    let words = vocabulary();
    let docs = documents(&workspace, &words);
    let total_words: usize = docs.iter().map(|d| d.body.split(' ').count() + 7).sum();

    let started = Instant::now();
    for batch in docs.chunks(BATCH) {
        index.upsert(batch).await.unwrap();
    }
    index.refresh().await.unwrap();
    let indexing = started.elapsed();
    assert_eq!(index.count().await.unwrap(), DOCS as u64);
    eprintln!(
        "indexed {DOCS} documents ({:.1} M words) in {:.2} s: {:.0} docs/s ({} segments)",
        total_words as f64 / 1e6,
        indexing.as_secs_f64(),
        DOCS as f64 / indexing.as_secs_f64(),
        index.segment_count(),
    );

    let mut rng = Rng(7);
    let allowed: Vec<String> = (0..10).map(|i| format!("space-{i}")).collect();
    let (mut one, mut three, mut typo) = (Vec::new(), Vec::new(), Vec::new());
    let mut matched = 0u64;
    for i in 0..QUERIES {
        // Words that occur: take them from a random document's body.
        let source = &docs[rng.below(DOCS)];
        let body: Vec<&str> = source.body.split(' ').collect();
        let text = match i % 3 {
            0 => body[rng.below(body.len())].to_owned(),
            1 => {
                let at = rng.below(body.len() - 3);
                body[at..at + 3].join(" ")
            }
            _ => {
                let word = body
                    .iter()
                    .copied()
                    .filter(|w| w.len() >= 6)
                    .nth(rng.below(5))
                    .unwrap_or("kalomiren");
                with_typo(word)
            }
        };
        let query = SearchQuery {
            workspace_id: workspace.clone(),
            text,
            kinds: vec![],
            allowed_spaces: allowed.clone(),
            only_spaces: vec![],
            limit: 20,
            offset: 0,
        };
        let started = Instant::now();
        let results = index.search(&query).await.unwrap();
        let took = started.elapsed();
        matched += results.total;
        match i % 3 {
            0 => one.push(took),
            1 => three.push(took),
            _ => typo.push(took),
        }
    }
    let all: Vec<Duration> = one.iter().chain(&three).chain(&typo).copied().collect();
    eprintln!(
        "{QUERIES} queries (limit 20, with snippets), mean {:.0} matches per query:",
        matched as f64 / QUERIES as f64
    );
    report("one-word", one);
    report("three-word", three);
    report("typo", typo);
    report("all", all);
}
