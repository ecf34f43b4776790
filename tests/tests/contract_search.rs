//! The search contract against every search adapter: tantivy in memory and on disk, and
//! Meilisearch when a server is given in `MEILI_URL`.

use orbit_search_meili::MeiliIndex;
use orbit_search_tantivy::TantivyIndex;
use orbit_tests::search_contract;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tantivy_in_memory_keeps_the_contract() {
    let index = TantivyIndex::in_memory().unwrap();
    search_contract::run(&index).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tantivy_on_disk_keeps_the_contract_and_its_documents_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    {
        let index = TantivyIndex::open(&path).unwrap();
        search_contract::run(&index).await;
    }
    let workspace = search_contract::fresh_workspace("reopen");
    {
        let index = TantivyIndex::open(&path).unwrap();
        search_contract::seed_for_reopen(&index, &workspace).await;
    }
    let index = TantivyIndex::open(&path).unwrap();
    search_contract::check_reopened(&index, &workspace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meilisearch_keeps_the_contract() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        eprintln!(
            "SKIPPED: Meilisearch tests need MEILI_URL (no Meilisearch server can be installed here)"
        );
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let index = MeiliIndex::connect(&url, key.as_deref(), "orbit_contract_search")
        .await
        .unwrap_or_else(|e| panic!("Meilisearch at {url}: {e}"));
    search_contract::run(&index).await;
}

#[tokio::test]
async fn meilisearch_that_cannot_be_reached_fails_cleanly() {
    // Nothing listens on port 1: connecting must fail with Unavailable, not hang or panic.
    let started = std::time::Instant::now();
    let result = MeiliIndex::connect("http://127.0.0.1:1", None, "orbit_unreachable").await;
    assert!(
        matches!(result, Err(orbit_ports::SearchError::Unavailable(_))),
        "{:?}",
        result.err()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
