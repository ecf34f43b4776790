//! Knowledge spaces, pages, revisions and search through the Connect API, on every store.

mod support;

use serde_json::{Value, json};
use support::{ADMIN, TestApp, all_stores};

async fn workspace(app: &TestApp, token: &str, slug: &str) -> String {
    let ws = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            token,
            json!({"slug": slug, "name": slug}),
        )
        .await;
    ws["workspace"]["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value, field: &str) -> String {
    v[field]["id"].as_str().unwrap().to_owned()
}

async fn search(app: &TestApp, token: &str, ws: &str, query: &str) -> Vec<String> {
    let r = app
        .ok(
            "SearchService/Search",
            token,
            json!({"workspaceId": ws, "query": query}),
        )
        .await;
    r["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["title"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn scenario(app: &TestApp) {
    let ws = workspace(app, ADMIN, "docs-team").await;
    let (bob_id, bob) = app.user("bob").await;
    let (_, carol) = app.user("carol").await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "bob", "role": "ROLE_MEMBER"}),
    )
    .await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "carol", "role": "ROLE_VIEWER"}),
    )
    .await;

    // Spaces.
    let handbook = app
        .ok(
            "KnowledgeService/CreateSpace",
            &bob,
            json!({"workspaceId": ws, "slug": "handbook", "name": "Handbook"}),
        )
        .await;
    let handbook_id = id(&handbook, "space");
    assert_eq!(
        handbook["space"]["visibility"],
        "SPACE_VISIBILITY_WORKSPACE"
    );
    app.fails(
        "KnowledgeService/CreateSpace",
        &bob,
        json!({"workspaceId": ws, "slug": "handbook", "name": "Again"}),
        "already_exists",
    )
    .await;
    app.fails(
        "KnowledgeService/CreateSpace",
        &carol,
        json!({"workspaceId": ws, "slug": "mine", "name": "Mine"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "KnowledgeService/CreateSpace",
        &bob,
        json!({"workspaceId": ws, "slug": "Bad Slug", "name": "x"}),
        "invalid_argument",
    )
    .await;
    let secret = app
        .ok("KnowledgeService/CreateSpace", ADMIN, json!({"workspaceId": ws, "slug": "incidents", "name": "Incidents", "visibility": "SPACE_VISIBILITY_RESTRICTED"}))
        .await;
    let secret_id = id(&secret, "space");
    assert_eq!(
        secret["space"]["memberIds"].as_array().unwrap().len(),
        1,
        "the creator is its first member"
    );
    let bob_sees: Vec<String> = app
        .ok(
            "KnowledgeService/ListSpaces",
            &bob,
            json!({"workspaceId": ws}),
        )
        .await["spaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bob_sees,
        ["handbook"],
        "a restricted space is invisible to non-members"
    );
    app.fails(
        "KnowledgeService/GetSpace",
        &bob,
        json!({"workspaceId": ws, "slug": "incidents"}),
        "not_found",
    )
    .await;

    // Pages: a tree.
    let intro = app
        .ok("KnowledgeService/CreatePage", &bob, json!({"workspaceId": ws, "spaceId": handbook_id, "title": "Getting Started", "body": "# Welcome\n\nDeployment guide for **new** people.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(2)>"}))
        .await;
    let intro_id = id(&intro, "page");
    assert_eq!(
        intro["page"]["slug"], "getting-started",
        "slug derived from the title"
    );
    assert_eq!(intro["page"]["revision"], "1");
    let html = intro["page"]["html"].as_str().unwrap();
    assert!(
        html.contains("<strong>new</strong>") && html.contains("id=\"welcome\""),
        "{html}"
    );
    assert!(
        !html.contains("<script")
            && !html.contains("href=\"javascript:")
            && !html.contains("onerror"),
        "sanitized: {html}"
    );
    let setup = app
        .ok("KnowledgeService/CreatePage", &bob, json!({"workspaceId": ws, "spaceId": handbook_id, "parentId": intro_id, "title": "Setup", "body": "Install the toolchain."}))
        .await;
    let setup_id = id(&setup, "page");
    let linux = app
        .ok("KnowledgeService/CreatePage", &bob, json!({"workspaceId": ws, "spaceId": handbook_id, "parentId": setup_id, "title": "Linux", "body": "Use the package manager."}))
        .await;
    let linux_id = id(&linux, "page");
    let faq = app.ok("KnowledgeService/CreatePage", &bob, json!({"workspaceId": ws, "spaceId": handbook_id, "title": "FAQ", "body": "Questions."})).await;
    let faq_id = id(&faq, "page");
    app.fails(
        "KnowledgeService/CreatePage",
        &bob,
        json!({"workspaceId": ws, "spaceId": handbook_id, "title": "Getting started"}),
        "already_exists",
    )
    .await;
    app.fails(
        "KnowledgeService/CreatePage",
        &carol,
        json!({"workspaceId": ws, "spaceId": handbook_id, "title": "Viewer page"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "KnowledgeService/CreatePage",
        &bob,
        json!({"workspaceId": ws, "spaceId": secret_id, "title": "Sneaky"}),
        "not_found",
    )
    .await;

    let tree = app
        .ok(
            "KnowledgeService/ListPages",
            &carol,
            json!({"workspaceId": ws, "spaceId": handbook_id}),
        )
        .await;
    let shape: Vec<(String, i64)> = tree["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["title"].as_str().unwrap().to_owned(),
                p["depth"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("Getting Started".into(), 0),
            ("Setup".into(), 1),
            ("Linux".into(), 2),
            ("FAQ".into(), 0)
        ]
    );
    let sub = app
        .ok(
            "KnowledgeService/ListPages",
            &carol,
            json!({"workspaceId": ws, "spaceId": handbook_id, "rootId": setup_id}),
        )
        .await;
    assert_eq!(
        sub["pages"].as_array().unwrap().len(),
        2,
        "a subtree: the page and its descendants"
    );
    // Level by level, each page saying how many children it has (a lazily opened tree).
    let levels = |body: Value| {
        let app = &app;
        let carol = carol.clone();
        async move {
            let reply = app.ok("KnowledgeService/ListPages", &carol, body).await;
            reply["pages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["title"].as_str().unwrap().to_owned(),
                        p["depth"].as_i64().unwrap_or(0),
                        p["hasChildren"].as_bool().unwrap_or(false),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        levels(json!({"workspaceId": ws, "spaceId": handbook_id, "maxDepth": 1})).await,
        [
            ("Getting Started".into(), 0, true),
            ("FAQ".into(), 0, false)
        ]
    );
    assert_eq!(
        levels(json!({"workspaceId": ws, "spaceId": handbook_id, "maxDepth": 2})).await,
        [
            ("Getting Started".into(), 0, true),
            ("Setup".into(), 1, true),
            ("FAQ".into(), 0, false)
        ]
    );
    assert_eq!(
        levels(
            json!({"workspaceId": ws, "spaceId": handbook_id, "rootId": setup_id, "maxDepth": 2})
        )
        .await,
        [("Setup".into(), 0, true), ("Linux".into(), 1, false)]
    );
    // The whole tree carries the counts too.
    assert_eq!(
        levels(json!({"workspaceId": ws, "spaceId": handbook_id})).await,
        [
            ("Getting Started".into(), 0, true),
            ("Setup".into(), 1, true),
            ("Linux".into(), 2, false),
            ("FAQ".into(), 0, false)
        ]
    );
    app.fails(
        "KnowledgeService/ListPages",
        &carol,
        json!({"workspaceId": ws, "spaceId": handbook_id, "maxDepth": -1}),
        "invalid_argument",
    )
    .await;
    // The page view shows the pages above it and its subpages (read without the whole tree).
    let req = axum::http::Request::get(format!("/ui/w/docs-team/pages/{setup_id}"))
        .header("cookie", format!("orbit_session={ADMIN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = app.send(req).await;
    assert_eq!(reply.status, 200);
    let html = String::from_utf8_lossy(&reply.body).replace("&#x2f;", "/");
    let crumbs = &html[html.find("aria-label=\"Breadcrumb\"").expect("breadcrumbs")..];
    let crumbs = &crumbs[..crumbs.find("</nav>").unwrap()];
    assert!(
        crumbs.contains(&format!(
            "/ui/w/docs-team/pages/{intro_id}\">Getting Started</a>"
        )),
        "{crumbs}"
    );
    assert!(!crumbs.contains(&linux_id), "{crumbs}");
    let subpages = &html[html.find("id=\"subpages-heading\"").expect("subpages")..];
    assert!(
        subpages.contains(&format!("/ui/w/docs-team/pages/{linux_id}\">Linux</a>")),
        "{subpages}"
    );
    assert!(!subpages.contains("FAQ"), "only its own children");
    app.fails(
        "KnowledgeService/ListPages",
        &carol,
        json!({"workspaceId": ws, "spaceId": handbook_id, "rootId": "no-such-page", "maxDepth": 1}),
        "not_found",
    )
    .await;

    // No lost update: two people edit revision 1; the second save is refused.
    let saved = app
        .ok("KnowledgeService/UpdatePage", &bob, json!({"workspaceId": ws, "id": faq_id, "baseRevision": "1", "body": "Questions and answers."}))
        .await;
    assert_eq!(saved["page"]["revision"], "2");
    let msg = app
        .fails("KnowledgeService/UpdatePage", ADMIN, json!({"workspaceId": ws, "id": faq_id, "baseRevision": "1", "body": "My competing edit"}), "aborted")
        .await;
    assert!(msg.contains("revision is 2"), "{msg}");
    let current = app
        .ok(
            "KnowledgeService/GetPage",
            &carol,
            json!({"workspaceId": ws, "id": faq_id}),
        )
        .await;
    assert_eq!(
        current["page"]["body"], "Questions and answers.",
        "the first save is kept"
    );
    app.fails(
        "KnowledgeService/UpdatePage",
        &carol,
        json!({"workspaceId": ws, "id": faq_id, "baseRevision": "2", "body": "viewer"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "KnowledgeService/UpdatePage",
        &bob,
        json!({"workspaceId": ws, "id": faq_id, "body": "no base"}),
        "invalid_argument",
    )
    .await;
    app.ok("KnowledgeService/UpdatePage", ADMIN, json!({"workspaceId": ws, "id": faq_id, "baseRevision": "2", "title": "Frequently asked", "body": "Merged answers."})).await;

    // History: every save is a revision; restoring makes a new one.
    let revs = app
        .ok(
            "KnowledgeService/ListPageRevisions",
            &carol,
            json!({"workspaceId": ws, "pageId": faq_id}),
        )
        .await;
    let numbers: Vec<&str> = revs["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["3", "2", "1"]);
    assert_eq!(revs["revisions"][0]["authorLogin"], "admin");
    assert_eq!(revs["revisions"][2]["note"], "created");
    let paged = app
        .ok(
            "KnowledgeService/ListPageRevisions",
            &carol,
            json!({"workspaceId": ws, "pageId": faq_id, "pageSize": 2}),
        )
        .await;
    let rest = app
        .ok("KnowledgeService/ListPageRevisions", &carol, json!({"workspaceId": ws, "pageId": faq_id, "pageSize": 2, "pageToken": paged["nextPageToken"]}))
        .await;
    assert_eq!(rest["revisions"][0]["revision"], "1");
    let old = app
        .ok(
            "KnowledgeService/GetPageRevision",
            &carol,
            json!({"workspaceId": ws, "pageId": faq_id, "revision": "1"}),
        )
        .await;
    assert_eq!(old["body"], "Questions.");
    app.fails(
        "KnowledgeService/GetPageRevision",
        &carol,
        json!({"workspaceId": ws, "pageId": faq_id, "revision": "99"}),
        "not_found",
    )
    .await;
    let restored = app
        .ok(
            "KnowledgeService/RestorePageRevision",
            &bob,
            json!({"workspaceId": ws, "pageId": faq_id, "revision": "1", "baseRevision": "3"}),
        )
        .await;
    assert_eq!(
        (
            restored["page"]["revision"].as_str(),
            restored["page"]["body"].as_str()
        ),
        (Some("4"), Some("Questions."))
    );
    let revs = app
        .ok(
            "KnowledgeService/ListPageRevisions",
            &carol,
            json!({"workspaceId": ws, "pageId": faq_id}),
        )
        .await;
    assert_eq!(revs["revisions"][0]["note"], "restored revision 1");

    // Moves and deletes.
    let msg = app
        .fails(
            "KnowledgeService/MovePage",
            &bob,
            json!({"workspaceId": ws, "id": intro_id, "parentId": linux_id}),
            "failed_precondition",
        )
        .await;
    assert!(msg.contains("descendants"), "{msg}");
    app.fails(
        "KnowledgeService/MovePage",
        &bob,
        json!({"workspaceId": ws, "id": intro_id, "parentId": intro_id}),
        "failed_precondition",
    )
    .await;
    app.ok(
        "KnowledgeService/MovePage",
        &bob,
        json!({"workspaceId": ws, "id": faq_id, "position": 0}),
    )
    .await;
    app.ok(
        "KnowledgeService/MovePage",
        &bob,
        json!({"workspaceId": ws, "id": linux_id, "position": 1}),
    )
    .await;
    let tree = app
        .ok(
            "KnowledgeService/ListPages",
            &carol,
            json!({"workspaceId": ws, "spaceId": handbook_id}),
        )
        .await;
    let shape: Vec<(String, i64)> = tree["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["title"].as_str().unwrap().to_owned(),
                p["depth"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("FAQ".into(), 0),
            ("Linux".into(), 0),
            ("Getting Started".into(), 0),
            ("Setup".into(), 1)
        ]
    );
    let msg = app
        .fails(
            "KnowledgeService/DeletePage",
            &bob,
            json!({"workspaceId": ws, "id": intro_id}),
            "failed_precondition",
        )
        .await;
    assert!(msg.contains("1 child page"), "{msg}");
    app.ok(
        "KnowledgeService/DeletePage",
        &bob,
        json!({"workspaceId": ws, "id": setup_id}),
    )
    .await;
    app.fails(
        "KnowledgeService/GetPage",
        &bob,
        json!({"workspaceId": ws, "id": setup_id}),
        "not_found",
    )
    .await;

    // Search finds what people type, and only what they may see.
    let incident = app
        .ok("KnowledgeService/CreatePage", ADMIN, json!({"workspaceId": ws, "spaceId": secret_id, "title": "Database outage postmortem", "body": "The deployment failed at night."}))
        .await;
    app.index().await;
    assert_eq!(search(app, &bob, &ws, "linux").await, ["Linux"]);
    assert!(
        search(app, &bob, &ws, "deployment")
            .await
            .contains(&"Getting Started".to_owned())
    );
    assert!(
        search(app, &bob, &ws, "deploym")
            .await
            .contains(&"Getting Started".to_owned()),
        "prefix"
    );
    assert!(
        search(app, &bob, &ws, "deploymnet")
            .await
            .contains(&"Getting Started".to_owned()),
        "typo"
    );
    assert!(
        !search(app, &bob, &ws, "postmortem")
            .await
            .contains(&"Database outage postmortem".to_owned()),
        "restricted"
    );
    assert_eq!(
        search(app, ADMIN, &ws, "postmortem").await,
        ["Database outage postmortem"]
    );
    assert!(
        search(app, &bob, &ws, "toolchain").await.is_empty(),
        "a deleted page leaves the index"
    );
    let r = app
        .ok(
            "SearchService/Search",
            &bob,
            json!({"workspaceId": ws, "query": "deployment"}),
        )
        .await;
    let hit = &r["results"][0];
    assert_eq!(hit["kind"], "page");
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>"), "{hit}");
    assert!(r["total"].as_str().is_some() || r["total"].as_i64().is_some());
    let only = app
        .ok(
            "SearchService/Search",
            ADMIN,
            json!({"workspaceId": ws, "query": "deployment", "spaceIds": [secret_id]}),
        )
        .await;
    assert_eq!(
        only["results"].as_array().unwrap().len(),
        1,
        "the space filter narrows"
    );
    app.fails(
        "SearchService/Search",
        &bob,
        json!({"workspaceId": ws, "query": "x", "kinds": ["planet"]}),
        "invalid_argument",
    )
    .await;
    app.fails(
        "SearchService/Search",
        &bob,
        json!({"workspaceId": ws, "query": "x".repeat(501)}),
        "invalid_argument",
    )
    .await;

    // Giving bob access to the restricted space lets him find and read it.
    app.ok(
        "KnowledgeService/UpdateSpace",
        ADMIN,
        json!({"workspaceId": ws, "id": secret_id, "members": {"userIds": ["admin", bob_id]}}),
    )
    .await;
    assert_eq!(
        search(app, &bob, &ws, "postmortem").await,
        ["Database outage postmortem"]
    );
    app.ok(
        "KnowledgeService/GetPage",
        &bob,
        json!({"workspaceId": ws, "id": id(&incident, "page")}),
    )
    .await;

    // Nothing crosses workspaces.
    let (_, dave) = app.user("dave").await;
    let other = workspace(app, &dave, "other-team").await;
    app.fails(
        "KnowledgeService/GetPage",
        &dave,
        json!({"workspaceId": other, "id": intro_id}),
        "not_found",
    )
    .await;
    app.fails(
        "KnowledgeService/GetPage",
        &dave,
        json!({"workspaceId": ws, "id": intro_id}),
        "not_found",
    )
    .await;
    assert!(search(app, &dave, &other, "deployment").await.is_empty());
    let their_space = app
        .ok(
            "KnowledgeService/CreateSpace",
            &dave,
            json!({"workspaceId": other, "slug": "handbook", "name": "Theirs"}),
        )
        .await;
    app.fails("KnowledgeService/CreatePage", &dave, json!({"workspaceId": other, "spaceId": id(&their_space, "space"), "parentId": intro_id, "title": "x"}), "not_found").await;

    // Deleting the space removes its pages from search too.
    app.fails(
        "KnowledgeService/DeleteSpace",
        &bob,
        json!({"workspaceId": ws, "id": handbook_id, "confirmSlug": "handbook"}),
        "permission_denied",
    )
    .await;
    app.fails(
        "KnowledgeService/DeleteSpace",
        ADMIN,
        json!({"workspaceId": ws, "id": handbook_id, "confirmSlug": "nope"}),
        "invalid_argument",
    )
    .await;
    app.ok(
        "KnowledgeService/DeleteSpace",
        ADMIN,
        json!({"workspaceId": ws, "id": handbook_id, "confirmSlug": "handbook"}),
    )
    .await;
    app.index().await;
    assert!(search(app, &bob, &ws, "linux").await.is_empty());
    app.fails(
        "KnowledgeService/GetPage",
        &bob,
        json!({"workspaceId": ws, "id": intro_id}),
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_on_every_store() {
    for stores in all_stores().await {
        eprintln!("store: {}", stores.description);
        let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
        scenario(&app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_through_a_cache() {
    let app = TestApp::new(
        support::sqlite_stores().await,
        std::sync::Arc::new(orbit_memory::MemoryCache::new()),
    )
    .await;
    scenario(&app).await;
}

#[tokio::test]
async fn hostile_pages_are_refused_or_rendered_safely() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "hostile").await;
    let space = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "s", "name": "S"}),
        )
        .await;
    let sid = id(&space, "space");
    let create = |title: String, body: String| json!({"workspaceId": ws, "spaceId": sid, "title": title, "body": body});
    let msg = app
        .fails(
            "KnowledgeService/CreatePage",
            ADMIN,
            create(String::new(), "x".into()),
            "invalid_argument",
        )
        .await;
    assert_eq!(msg, "title must not be empty");
    app.fails(
        "KnowledgeService/CreatePage",
        ADMIN,
        create("t".repeat(201), "x".into()),
        "invalid_argument",
    )
    .await;
    let msg = app
        .fails(
            "KnowledgeService/CreatePage",
            ADMIN,
            create("Big".into(), "x".repeat(40 * 1024)),
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("the limit is 32768 bytes"), "{msg}");
    app.fails(
        "KnowledgeService/CreatePage",
        ADMIN,
        json!({"workspaceId": ws, "spaceId": sid, "parentId": "no-such-page", "title": "Orphan"}),
        "not_found",
    )
    .await;
    let started = std::time::Instant::now();
    for (title, body) in [
        ("Nested lists", "- ".repeat(5000)),
        ("Nested quotes", "> ".repeat(5000)),
        ("Brackets", "[".repeat(20000)),
        ("One long line", "word ".repeat(6000)),
        ("Iframes", "<iframe src=\"https://evil.example\"></iframe><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">x</a>".into()),
    ] {
        let page = app.ok("KnowledgeService/CreatePage", ADMIN, create(title.into(), body)).await;
        let html = page["page"]["html"].as_str().unwrap();
        assert!(!html.contains("<iframe") && !html.contains("onerror") && !html.contains("href=\"javascript:"), "{title}: {html:.200}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "bounded time: {:?}",
        started.elapsed()
    );
    let r = app
        .ok(
            "KnowledgeService/RenderMarkdown",
            ADMIN,
            json!({"markdown": "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done"}),
        )
        .await;
    let html = r["html"].as_str().unwrap();
    assert!(
        html.contains("<table>") && html.contains("checkbox"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_survives_a_crash_between_database_and_index() {
    // Pages written but never indexed (the process died before its indexer ran): a new
    // process over the same database applies the queued jobs.
    let stores = support::sqlite_stores().await;
    let app = TestApp::new(stores.clone(), std::sync::Arc::new(orbit_memory::NoCache)).await;
    let ws = workspace(&app, ADMIN, "crashy").await;
    let space = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "s", "name": "S"}),
        )
        .await;
    app.ok("KnowledgeService/CreatePage", ADMIN, json!({"workspaceId": ws, "spaceId": id(&space, "space"), "title": "Runbook", "body": "Restart the flux capacitor."})).await;
    drop(app);
    let index = std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap());
    let restarted = TestApp::with_search(
        stores.clone(),
        std::sync::Arc::new(orbit_memory::NoCache),
        index.clone(),
    )
    .await;
    assert!(
        search(&restarted, ADMIN, &ws, "capacitor").await.is_empty(),
        "not indexed yet"
    );
    restarted.index().await;
    assert_eq!(
        search(&restarted, ADMIN, &ws, "capacitor").await,
        ["Runbook"]
    );

    // An index that was lost entirely (an empty one beside a database with pages) is
    // rebuilt by the indexer when the process starts.
    let empty = std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap());
    let fresh =
        TestApp::with_search(stores, std::sync::Arc::new(orbit_memory::NoCache), empty).await;
    let task = fresh.app.spawn_indexer();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while search(&fresh, ADMIN, &ws, "capacitor").await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the index is rebuilt on start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    task.abort();
}

/// A search matching more than 1,000 pages says its total is a lower bound (counting stops
/// there) and still pages on; a search matching a few counts them exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_counts_matches_up_to_a_thousand() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "census").await;
    let space = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "field-notes", "name": "Field notes"}),
        )
        .await;
    let space_id = id(&space, "space");
    for i in 0..1_003 {
        let title = if i < 3 {
            format!("Platypus sighting {i}")
        } else {
            format!("Wombat census {i}")
        };
        app.ok(
            "KnowledgeService/CreatePage",
            ADMIN,
            json!({"workspaceId": ws, "spaceId": space_id, "title": title, "body": "Counted at dusk."}),
        )
        .await;
    }
    app.index().await;

    let many = app
        .ok(
            "SearchService/Search",
            ADMIN,
            json!({"workspaceId": ws, "query": "wombat"}),
        )
        .await;
    assert_eq!(many["totalIsLowerBound"], true, "{many}");
    assert_eq!(many["total"].to_string().trim_matches('"'), "1000");
    assert_eq!(many["results"].as_array().unwrap().len(), 20);
    assert!(
        !many["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "more pages follow"
    );
    let few = app
        .ok(
            "SearchService/Search",
            ADMIN,
            json!({"workspaceId": ws, "query": "platypus"}),
        )
        .await;
    assert_eq!(few["total"].to_string().trim_matches('"'), "3");
    assert!(
        few["totalIsLowerBound"].is_null() || few["totalIsLowerBound"] == false,
        "an exact count: {few}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_space_page_shows_its_first_levels() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "big-docs").await;
    let space = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "manual", "name": "Manual"}),
        )
        .await;
    let space_id = id(&space, "space");
    let create = |title: String, parent: String| {
        let (app, ws, space_id) = (&app, ws.clone(), space_id.clone());
        async move {
            let v = app
                .ok(
                    "KnowledgeService/CreatePage",
                    ADMIN,
                    json!({"workspaceId": ws, "spaceId": space_id, "title": title, "parentId": parent}),
                )
                .await;
            id(&v, "page")
        }
    };
    let guides = create("Guides".into(), String::new()).await;
    let deep = create("Reference".into(), guides.clone()).await;
    let leaf = create("Leaf page 0".into(), deep.clone()).await;
    for i in 1..500 {
        create(format!("Leaf page {i}"), deep.clone()).await;
    }
    let get = |path: String| {
        let app = &app;
        async move {
            let req = axum::http::Request::get(path)
                .header("cookie", format!("orbit_session={ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let reply = app.send(req).await;
            assert_eq!(reply.status, 200);
            String::from_utf8_lossy(&reply.body).replace("&#x2f;", "/")
        }
    };
    let html = get("/ui/w/big-docs/spaces/manual".into()).await;
    assert!(html.contains("This space has 502 pages"), "{html}");
    assert!(html.contains(">Guides</a>") && html.contains(">Reference</a>"));
    assert!(
        html.contains(&format!(
            "/ui/w/big-docs/pages/{deep}#subpages-heading\">Subpages…"
        )),
        "a page with unlisted subpages links to them"
    );
    assert!(!html.contains("Leaf page"), "the third level is not listed");

    // "Add a subpage" of an unlisted page still offers it as the parent.
    let html = get(format!("/ui/w/big-docs/spaces/manual?parent={leaf}")).await;
    assert!(
        html.contains(&format!(
            "<option value=\"{leaf}\" selected>Leaf page 0</option>"
        )),
        "{html}"
    );

    // The move page of an unlisted page: its current parent is offered, and another parent
    // is given by its link.
    let html = get(format!("/ui/w/big-docs/pages/{leaf}/move")).await;
    assert!(
        html.contains(&format!(
            "<option value=\"{deep}\" selected>\u{2014} Reference</option>"
        )),
        "{html}"
    );
    assert!(html.contains("name=\"parent_link\""), "{html}");
    let req = axum::http::Request::post(format!("/ui/w/big-docs/pages/{leaf}/move"))
        .header("cookie", format!("orbit_session={ADMIN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!(
            "parent_id={deep}&parent_link=http%3A%2F%2Forbit.example%2Fui%2Fw%2Fbig-docs%2Fpages%2F{guides}%3Fx%3D1&position=1"
        )))
        .unwrap();
    let reply = app.send(req).await;
    assert!(reply.status.is_redirection(), "{:?}", reply.status);
    let moved = app
        .ok(
            "KnowledgeService/GetPage",
            ADMIN,
            json!({"workspaceId": ws, "id": leaf}),
        )
        .await;
    assert_eq!(moved["page"]["parentId"], guides.as_str(), "{moved}");
    // A link to no page is refused on the form, nothing moves.
    let req = axum::http::Request::post(format!("/ui/w/big-docs/pages/{leaf}/move"))
        .header("cookie", format!("orbit_session={ADMIN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "parent_link=%2Fui%2Fw%2Fbig-docs%2Fpages%2Fnope&position=1",
        ))
        .unwrap();
    let reply = app.send(req).await;
    assert_eq!(reply.status, 404, "refused as not found");
    let still = app
        .ok(
            "KnowledgeService/GetPage",
            ADMIN,
            json!({"workspaceId": ws, "id": leaf}),
        )
        .await;
    assert_eq!(still["page"]["parentId"], guides.as_str());

    // A small space lists every level.
    let small = app
        .ok(
            "KnowledgeService/CreateSpace",
            ADMIN,
            json!({"workspaceId": ws, "slug": "notes", "name": "Notes"}),
        )
        .await;
    let small_id = id(&small, "space");
    let mut parent = String::new();
    for title in ["One", "Two", "Three"] {
        let v = app
            .ok(
                "KnowledgeService/CreatePage",
                ADMIN,
                json!({"workspaceId": ws, "spaceId": small_id, "title": title, "parentId": parent}),
            )
            .await;
        parent = id(&v, "page");
    }
    let html = get("/ui/w/big-docs/spaces/notes".into()).await;
    assert!(html.contains(">Three</a>"), "{html}");
    assert!(!html.contains("Subpages…") && !html.contains("tree-note"));
}
