//! The contract every `SearchIndex` implementation keeps, written as what a person searching
//! sees. Each run uses fresh workspace ids, so runs can share one engine (a Meilisearch
//! server) without seeing each other's documents.

use orbit_core::WorkspaceId;
use orbit_ports::{DocKind, EXACT_TOTAL_UP_TO, SearchDoc, SearchIndex, SearchQuery, SearchResults};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The space every test caller may see.
pub const OPEN_SPACE: &str = "space-eng";
/// A space only some callers may see.
pub const RESTRICTED_SPACE: &str = "space-secret";

/// A workspace id no other run has used.
pub fn fresh_workspace(label: &str) -> WorkspaceId {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    WorkspaceId::new(format!(
        "ws-{label}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A document of `workspace`; `text` is its title, body and keywords.
pub fn doc(
    workspace: &WorkspaceId,
    kind: DocKind,
    id: &str,
    space: &str,
    text: [&str; 3],
    updated_at: i64,
) -> SearchDoc {
    let [title, body, keywords] = text;
    SearchDoc {
        workspace_id: workspace.clone(),
        kind,
        id: id.into(),
        space_id: space.into(),
        title: title.into(),
        body: body.into(),
        keywords: keywords.into(),
        updated_at,
    }
}

/// A query of a caller who may see both spaces.
pub fn query(workspace: &WorkspaceId, text: &str) -> SearchQuery {
    SearchQuery {
        workspace_id: workspace.clone(),
        text: text.into(),
        kinds: vec![],
        allowed_spaces: vec![OPEN_SPACE.into(), RESTRICTED_SPACE.into()],
        only_spaces: vec![],
        limit: 50,
        offset: 0,
    }
}

async fn search(index: &dyn SearchIndex, query: &SearchQuery) -> SearchResults {
    index
        .search(query)
        .await
        .unwrap_or_else(|e| panic!("{} search {query:?} failed: {e}", index.name()))
}

async fn ids(index: &dyn SearchIndex, query: &SearchQuery) -> Vec<String> {
    search(index, query)
        .await
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn write(index: &dyn SearchIndex, docs: &[SearchDoc]) {
    index.upsert(docs).await.expect("upsert");
    index.refresh().await.expect("refresh");
}

/// Runs the whole search contract.
pub async fn run(index: &dyn SearchIndex) {
    let name = index.name();
    let a = fresh_workspace("a");
    let b = fresh_workspace("b");
    let count_before = index.count().await.expect("count");

    let deploy_guide = doc(
        &a,
        DocKind::Page,
        "p-deploy",
        OPEN_SPACE,
        [
            "Deployment guide",
            "How we ship the orbit service to production. Run the pipeline and watch the \
         <script>alert(1)</script> dashboards until the rollout is green.",
            "release ops",
        ],
        1_000,
    );
    let onboarding = doc(
        &a,
        DocKind::Page,
        "p-onboard",
        OPEN_SPACE,
        [
            "Onboarding checklist",
            "Laptops, accounts, and the first deployment of a new engineer.",
            "hr people",
        ],
        2_000,
    );
    let postmortem = doc(
        &a,
        DocKind::Page,
        "p-incident",
        RESTRICTED_SPACE,
        [
            "Incident postmortem",
            "Root cause of the outage: a deployment with a bad configuration flag.",
            "sev1",
        ],
        3_000,
    );
    let repository = doc(
        &a,
        DocKind::Repository,
        "r-api",
        "",
        [
            "orbit-api",
            "Source of the API server. Deployment happens through the pipeline.",
            "rust grpc",
        ],
        4_000,
    );
    // Workspace B reuses an id of workspace A on purpose.
    let other = doc(
        &b,
        DocKind::Page,
        "p-deploy",
        OPEN_SPACE,
        [
            "Deployment guide of zeppelin",
            "The other workspace ships zeppelin deployments.",
            "release",
        ],
        5_000,
    );
    write(
        index,
        &[
            deploy_guide.clone(),
            onboarding.clone(),
            postmortem.clone(),
            repository.clone(),
            other.clone(),
        ],
    )
    .await;
    assert_eq!(
        index.count().await.unwrap(),
        count_before + 5,
        "{name}: count() reflects the documents"
    );

    // Words in the title, the body, the keywords.
    assert_eq!(
        ids(index, &query(&a, "onboarding")).await,
        strings(&["p-onboard"]),
        "{name}: a title word"
    );
    assert_eq!(
        ids(index, &query(&a, "laptops")).await,
        strings(&["p-onboard"]),
        "{name}: a body word"
    );
    assert_eq!(
        ids(index, &query(&a, "grpc")).await,
        strings(&["r-api"]),
        "{name}: a keyword"
    );
    assert_eq!(
        ids(index, &query(&a, "Incident OUTAGE")).await,
        strings(&["p-incident"]),
        "{name}: every word must match, in any case, across fields"
    );
    assert!(
        ids(index, &query(&a, "onboarding outage")).await.is_empty(),
        "{name}: words matching different documents find none"
    );

    // Prefix of the last word, and typos.
    let prefix = ids(index, &query(&a, "deplo")).await;
    assert!(
        prefix.contains(&"p-deploy".to_string()),
        "{name}: a prefix of the last word finds the word: {prefix:?}"
    );
    let typo = ids(index, &query(&a, "deploymnet")).await;
    assert!(
        typo.contains(&"p-deploy".to_string()),
        "{name}: a typo still finds the word: {typo:?}"
    );
    let typo_title = ids(index, &query(&a, "onbaording")).await;
    assert_eq!(
        typo_title,
        strings(&["p-onboard"]),
        "{name}: a typo in a title word"
    );

    // Never another workspace's documents, even with the same id.
    assert!(
        ids(index, &query(&a, "zeppelin")).await.is_empty(),
        "{name}: another workspace's words find nothing"
    );
    let everything = search(index, &query(&a, "deployment")).await;
    assert!(
        everything
            .hits
            .iter()
            .all(|h| !h.title.contains("zeppelin")),
        "{name}: another workspace's document leaked: {everything:?}"
    );
    assert_eq!(
        sorted(everything.hits.iter().map(|h| h.id.clone()).collect()),
        strings(&["p-deploy", "p-incident", "p-onboard", "r-api"]),
        "{name}: every visible document with the word, once"
    );
    assert_eq!(everything.total, 4, "{name}: total");
    assert_eq!(
        ids(index, &query(&b, "zeppelin")).await,
        strings(&["p-deploy"]),
        "{name}: the other workspace finds its own"
    );

    // Visibility by space.
    let mut open_only = query(&a, "deployment");
    open_only.allowed_spaces = vec![OPEN_SPACE.into()];
    assert_eq!(
        sorted(ids(index, &open_only).await),
        strings(&["p-deploy", "p-onboard", "r-api"]),
        "{name}: a restricted space's pages stay hidden"
    );
    let mut restricted = query(&a, "outage");
    restricted.allowed_spaces = vec![OPEN_SPACE.into()];
    assert!(
        ids(index, &restricted).await.is_empty(),
        "{name}: even a word only they contain finds nothing"
    );
    restricted.allowed_spaces = vec![OPEN_SPACE.into(), RESTRICTED_SPACE.into()];
    assert_eq!(
        ids(index, &restricted).await,
        strings(&["p-incident"]),
        "{name}: allowed, they appear"
    );
    let mut narrowed = query(&a, "deployment");
    narrowed.only_spaces = vec![RESTRICTED_SPACE.into()];
    assert_eq!(
        ids(index, &narrowed).await,
        strings(&["p-incident"]),
        "{name}: only_spaces narrows to those spaces"
    );
    narrowed.allowed_spaces = vec![OPEN_SPACE.into()];
    assert!(
        ids(index, &narrowed).await.is_empty(),
        "{name}: only_spaces never widens what allowed_spaces permits"
    );

    // Kinds; documents outside spaces are visible to everyone.
    let mut nobody = query(&a, "pipeline");
    nobody.allowed_spaces = vec![];
    assert_eq!(
        ids(index, &nobody).await,
        strings(&["r-api"]),
        "{name}: a repository (no space) is visible without any space allowed"
    );
    let mut pages = query(&a, "pipeline");
    pages.kinds = vec![DocKind::Page];
    assert_eq!(
        ids(index, &pages).await,
        strings(&["p-deploy"]),
        "{name}: kinds=[Page] excludes the repository"
    );
    pages.kinds = vec![DocKind::Repository, DocKind::Api];
    let repos = search(index, &pages).await;
    assert_eq!(
        repos.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["r-api"],
        "{name}: kinds=[Repository, Api]"
    );
    assert_eq!(repos.hits[0].kind, DocKind::Repository);
    assert_eq!(repos.hits[0].space_id, "");
    assert_eq!(repos.hits[0].title, "orbit-api");

    // Snippets: the match marked, everything else escaped.
    let found = search(index, &query(&a, "dashboards")).await;
    assert_eq!(found.hits.len(), 1, "{name}: {found:?}");
    let hit = &found.hits[0];
    assert_eq!(
        (hit.kind, hit.id.as_str(), hit.space_id.as_str()),
        (DocKind::Page, "p-deploy", OPEN_SPACE)
    );
    assert_eq!(hit.title, "Deployment guide");
    assert!(
        hit.snippet.contains("<mark>dashboards</mark>"),
        "{name}: the matched word is marked: {}",
        hit.snippet
    );
    assert!(
        hit.snippet.contains("&lt;script&gt;") && !hit.snippet.contains("<script"),
        "{name}: the body's markup is escaped: {}",
        hit.snippet
    );
    assert_eq!(
        hit.snippet.matches("<mark>").count(),
        hit.snippet.matches("</mark>").count(),
        "{name}: balanced marks: {}",
        hit.snippet
    );
    let title_only = search(index, &query(&a, "checklist")).await;
    assert_eq!(title_only.hits.len(), 1, "{name}: {title_only:?}");
    assert!(
        title_only.hits[0].snippet.contains("Laptops"),
        "{name}: a match outside the body still shows the body's start: {}",
        title_only.hits[0].snippet
    );

    // Ranking: the word in the title beats the word only in the body, even when older.
    write(
        index,
        &[
            doc(
                &a,
                DocKind::Page,
                "rank-title",
                OPEN_SPACE,
                [
                    "Zanzibar handbook",
                    "Everything a visitor needs to know before the trip.",
                    "",
                ],
                10,
            ),
            doc(
                &a,
                DocKind::Page,
                "rank-body",
                OPEN_SPACE,
                [
                    "Travel notes",
                    "Last spring we went to zanzibar and stayed for two weeks in a small town.",
                    "",
                ],
                9_000,
            ),
        ],
    )
    .await;
    let ranked = search(index, &query(&a, "zanzibar")).await;
    assert_eq!(
        ranked
            .hits
            .iter()
            .map(|h| h.id.as_str())
            .collect::<Vec<_>>(),
        ["rank-title", "rank-body"],
        "{name}: title match first: {ranked:?}"
    );
    assert!(
        ranked.hits[0].score >= ranked.hits[1].score,
        "{name}: scores follow the order: {ranked:?}"
    );
    index
        .delete(&a, &strings(&["rank-title", "rank-body"]))
        .await
        .unwrap();
    index.refresh().await.unwrap();

    // Upserting the same id again replaces the document.
    let mut renamed = onboarding.clone();
    renamed.title = "Onboarding checklist for engineers".into();
    renamed.updated_at = 6_000;
    write(index, &[renamed.clone()]).await;
    write(index, &[renamed.clone()]).await;
    let again = search(index, &query(&a, "onboarding")).await;
    assert_eq!(again.total, 1, "{name}: one document after two upserts");
    assert_eq!(again.hits.len(), 1);
    assert_eq!(again.hits[0].title, "Onboarding checklist for engineers");
    assert_eq!(
        index.count().await.unwrap(),
        count_before + 5,
        "{name}: upserting an existing id adds no document"
    );

    // Empty text: the most recently updated documents first, filters still applied.
    let recent = ids(index, &query(&a, "")).await;
    assert_eq!(
        recent,
        strings(&["p-onboard", "r-api", "p-incident", "p-deploy"]),
        "{name}: empty text lists recent documents, newest first"
    );
    let mut recent_open = query(&a, "  ");
    recent_open.allowed_spaces = vec![OPEN_SPACE.into()];
    recent_open.limit = 2;
    let listed = search(index, &recent_open).await;
    assert_eq!(
        listed
            .hits
            .iter()
            .map(|h| h.id.as_str())
            .collect::<Vec<_>>(),
        ["p-onboard", "r-api"],
        "{name}: empty text with filters and a limit"
    );
    assert_eq!(listed.total, 3, "{name}: empty text total");

    // Pagination: disjoint pages, one consistent total.
    let bulk: Vec<SearchDoc> = (0..7)
        .map(|i| {
            doc(
                &a,
                DocKind::Page,
                &format!("bulk-{i}"),
                OPEN_SPACE,
                [&format!("Quokka report {i}"), "Numbers of the week.", ""],
                20_000 + i,
            )
        })
        .collect();
    write(index, &bulk).await;
    let mut seen: Vec<String> = Vec::new();
    for offset in [0, 3, 6] {
        let mut page = query(&a, "quokka");
        page.limit = 3;
        page.offset = offset;
        let results = search(index, &page).await;
        assert_eq!(results.total, 7, "{name}: total at offset {offset}");
        assert!(!results.total_is_lower_bound, "{name}: 7 is an exact count");
        assert_eq!(
            results.hits.len(),
            if offset == 6 { 1 } else { 3 },
            "{name}: page size at offset {offset}"
        );
        for hit in results.hits {
            assert!(!seen.contains(&hit.id), "{name}: {} on two pages", hit.id);
            seen.push(hit.id);
        }
    }
    assert_eq!(
        sorted(seen),
        sorted((0..7).map(|i| format!("bulk-{i}")).collect()),
        "{name}: the pages together hold every match"
    );
    let mut past_the_end = query(&a, "quokka");
    past_the_end.offset = 7;
    let beyond = search(index, &past_the_end).await;
    assert!(beyond.hits.is_empty(), "{name}: past the end");

    // Deleting.
    index
        .delete(&a, &strings(&["p-onboard", "no-such-id"]))
        .await
        .expect("delete ignores unknown ids");
    index.refresh().await.unwrap();
    assert!(
        ids(index, &query(&a, "onboarding")).await.is_empty(),
        "{name}: a deleted document is gone"
    );
    assert_eq!(
        ids(index, &query(&b, "zeppelin")).await,
        strings(&["p-deploy"]),
        "{name}: deleting in one workspace leaves another's same id alone"
    );
    index
        .delete(&a, &strings(&["p-deploy"]))
        .await
        .expect("delete");
    index.refresh().await.unwrap();
    assert!(
        ids(index, &query(&a, "dashboards")).await.is_empty(),
        "{name}: deleted by id"
    );
    assert_eq!(
        ids(index, &query(&b, "zeppelin")).await,
        strings(&["p-deploy"]),
        "{name}: workspace B's p-deploy survives A's delete of p-deploy"
    );
    assert_eq!(
        index.count().await.unwrap(),
        count_before + 3 + 7,
        "{name}: count after deletes"
    );

    // Deleting a workspace removes all of it and nothing else.
    index.delete_workspace(&b).await.expect("delete_workspace");
    index.refresh().await.unwrap();
    assert_eq!(
        search(index, &query(&b, "")).await.total,
        0,
        "{name}: the deleted workspace has nothing left"
    );
    assert_eq!(
        sorted(ids(index, &query(&a, "deployment")).await),
        strings(&["p-incident", "r-api"]),
        "{name}: another workspace keeps its documents"
    );
    assert_eq!(
        index.count().await.unwrap(),
        count_before + 2 + 7,
        "{name}: count after delete_workspace"
    );

    // Clean up, so a shared engine does not grow run after run.
    index.delete_workspace(&a).await.unwrap();
    index.refresh().await.unwrap();
    assert_eq!(index.count().await.unwrap(), count_before);

    capped_count(index).await;
}

/// A search with text counts its matches exactly up to `EXACT_TOTAL_UP_TO` and says when it
/// stopped there; fewer matches are counted exactly.
async fn capped_count(index: &dyn SearchIndex) {
    let name = index.name();
    let cap = EXACT_TOTAL_UP_TO as usize;
    let c = fresh_workspace("cap");
    let mut docs: Vec<SearchDoc> = (0..cap + 5)
        .map(|i| {
            doc(
                &c,
                DocKind::Page,
                &format!("w-{i}"),
                OPEN_SPACE,
                [&format!("Wombat census {i}"), "Counted at dusk.", ""],
                i as i64,
            )
        })
        .collect();
    docs.extend((0..3).map(|i| {
        doc(
            &c,
            DocKind::Page,
            &format!("p-{i}"),
            OPEN_SPACE,
            [&format!("Platypus sighting {i}"), "By the river.", ""],
            i,
        )
    }));
    for chunk in docs.chunks(500) {
        index.upsert(chunk).await.expect("upsert");
    }
    index.refresh().await.unwrap();

    let many = search(index, &query(&c, "wombat")).await;
    assert!(
        many.total_is_lower_bound,
        "{name}: {} matches are more than the exact count covers",
        cap + 5
    );
    assert!(
        many.total >= EXACT_TOTAL_UP_TO,
        "{name}: at least {cap} match, got {}",
        many.total
    );
    assert_eq!(many.hits.len(), 50, "{name}: a full first page");
    assert!(
        many.hits
            .iter()
            .all(|h| h.title.starts_with("Wombat census")),
        "{name}: only matches"
    );
    let mut deep = query(&c, "wombat");
    deep.offset = cap - 10;
    deep.limit = 50;
    let deep = search(index, &deep).await;
    assert!(
        deep.hits.len() <= 10,
        "{name}: no hit past position {cap} ({} hits from {})",
        deep.hits.len(),
        cap - 10
    );

    let few = search(index, &query(&c, "platypus")).await;
    assert_eq!(
        (few.total, few.total_is_lower_bound, few.hits.len()),
        (3, false, 3),
        "{name}: a few matches are counted exactly"
    );
    let listed = search(index, &query(&c, "")).await;
    assert!(
        listed.total >= EXACT_TOTAL_UP_TO
            && (listed.total_is_lower_bound || listed.total == (cap + 8) as u64),
        "{name}: empty text counts at least {cap}, exactly unless it says otherwise (got {}, lower bound: {})",
        listed.total,
        listed.total_is_lower_bound
    );

    index.delete_workspace(&c).await.unwrap();
    index.refresh().await.unwrap();
}

/// Documents written by [`seed_for_reopen`], to be found again after reopening an index.
pub async fn seed_for_reopen(index: &dyn SearchIndex, workspace: &WorkspaceId) {
    write(
        index,
        &[
            doc(
                workspace,
                DocKind::Page,
                "kept-1",
                OPEN_SPACE,
                ["Persistent wombat", "Written before the restart.", ""],
                1,
            ),
            doc(
                workspace,
                DocKind::Api,
                "kept-2",
                "",
                [
                    "Wombat API",
                    "The operations of the wombat service.",
                    "getWombat",
                ],
                2,
            ),
        ],
    )
    .await;
}

/// Checks that an index reopened after [`seed_for_reopen`] still finds the documents.
pub async fn check_reopened(index: &dyn SearchIndex, workspace: &WorkspaceId) {
    let name = index.name();
    assert_eq!(index.count().await.unwrap(), 2, "{name}: documents kept");
    assert_eq!(
        ids(index, &query(workspace, "wombat")).await,
        strings(&["kept-2", "kept-1"]),
        "{name}: the reopened index finds the documents (both in the title; kept-2 also in the body)"
    );
    let api = search(index, &query(workspace, "getwombat")).await;
    assert_eq!(api.hits.len(), 1, "{name}: keywords kept");
    assert_eq!(api.hits[0].kind, DocKind::Api);
}
