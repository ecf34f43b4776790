//! `catalog-info.yaml` links, `providesApis` and `consumesApis` through the Connect API, on
//! every store: imported from a real git repository on Orbit's git server, refreshed on
//! re-import, shown on the repository's page (linked to the API's page when the API is in
//! the catalog), and a repository consuming an API is listed among that API's consumers
//! until its file stops saying so.

mod support;

use serde_json::{Value, json};
use support::{ADMIN, TestApp, all_stores};

fn catalog_info(consumes: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web-shop\n  \
         description: The storefront\n  links:\n    - url: https://grafana.example.com/d/shop\n      \
         title: Dashboard\n    - url: javascript:alert(1)\n      title: Hostile\n    \
         - url: https://runbooks.example.com/shop\nspec:\n  type: service\n  lifecycle: production\n  \
         owner: team-web\n  providesApis: [shop-api]\n  consumesApis: {consumes}\n"
    )
}

async fn publish(app: &TestApp, ws: &str, text: &str) {
    publish_files(
        app,
        ws,
        &[("catalog-info.yaml".into(), text.as_bytes().to_vec())],
        "catalog",
    )
    .await;
}

/// Makes `web-shop`'s main branch hold exactly `files`, in one pushed commit.
async fn publish_files(app: &TestApp, ws: &str, files: &[(String, Vec<u8>)], message: &str) {
    use orbit_ports::GitAuthor;
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&orbit_core::WorkspaceId::new(ws.to_owned()), None)
        .await
        .unwrap();
    let remote = host.push_access("web-shop").await.unwrap();
    app.app
        .services
        .deps
        .git
        .publish_to(
            &remote,
            "main",
            "",
            files,
            message,
            &GitAuthor {
                name: "T".into(),
                email: "t@example.com".into(),
            },
        )
        .await
        .unwrap()
        .expect("a commit");
}

async fn consumers(app: &TestApp, ws: &str, api_id: &str) -> Vec<(String, String, bool)> {
    let reply = app
        .ok(
            "ApiCatalogService/ListConsumers",
            ADMIN,
            json!({"workspaceId": ws, "apiId": api_id}),
        )
        .await;
    reply["consumers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["repository"].as_str().unwrap().to_owned(),
                c["version"].as_str().unwrap().to_owned(),
                c["fromCatalogInfo"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

async fn page(app: &TestApp, path: &str) -> String {
    let req = axum::http::Request::get(path)
        .header("cookie", format!("orbit_session={ADMIN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = app.send(req).await;
    assert_eq!(reply.status, 200, "{path}");
    // The templates escape '/' in attributes; browsers read it back.
    String::from_utf8_lossy(&reply.body).replace("&#x2f;", "/")
}

async fn scenario(app: &TestApp) {
    use orbit_ports::{NewHostedRepo, RepoVisibility};
    let ws = app
        .ok(
            "WorkspaceService/CreateWorkspace",
            ADMIN,
            json!({"slug": "shops", "name": "Shops"}),
        )
        .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = |slug: &str| json!({"workspaceId": ws, "slug": slug, "name": slug, "owner": "team-core", "format": "openapi"});
    let shop_api = app
        .ok("ApiCatalogService/CreateApi", ADMIN, api("shop-api"))
        .await["api"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let billing = app
        .ok("ApiCatalogService/CreateApi", ADMIN, api("billing-api"))
        .await["api"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = app
        .app
        .services
        .git_hosts
        .open_for_workspace(&orbit_core::WorkspaceId::new(ws.clone()), None)
        .await
        .unwrap();
    host.create_repo(&NewHostedRepo {
        name: "web-shop".into(),
        description: String::new(),
        visibility: RepoVisibility::Internal,
        default_branch: "main".into(),
    })
    .await
    .unwrap();
    publish(
        app,
        &ws,
        &catalog_info("[api:default/billing-api, Missing-Api]"),
    )
    .await;
    app.ok(
        "RepositoryService/ImportRepositories",
        ADMIN,
        json!({"workspaceId": ws}),
    )
    .await;
    let shop: Value = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "web-shop"}),
        )
        .await["repository"]
        .clone();
    assert_eq!(
        shop["links"],
        json!([
            {"url": "https://grafana.example.com/d/shop", "title": "Dashboard"},
            {"url": "https://runbooks.example.com/shop"}
        ]),
        "{shop}"
    );
    assert_eq!(shop["providesApis"], json!(["shop-api"]));
    assert_eq!(shop["consumesApis"], json!(["billing-api", "missing-api"]));

    // The API lists the repository among its consumers, next to one declared by hand.
    assert_eq!(
        consumers(app, &ws, &billing).await,
        [("web-shop".to_owned(), "0.0.0".to_owned(), true)]
    );
    assert!(consumers(app, &ws, &shop_api).await.is_empty());

    // The repository's page links the APIs the catalog has, and names the one it has not.
    let html = page(app, "/ui/w/shops/repositories/web-shop").await;
    assert!(
        html.contains("href=\"/ui/w/shops/apis/shop-api\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/ui/w/shops/apis/billing-api\""),
        "{html}"
    );
    assert!(html.contains("<code>missing-api</code>"), "{html}");
    assert!(html.contains("href=\"https://grafana.example.com/d/shop\""));
    assert!(!html.contains("javascript:alert"));
    // The API's page links back to the repository.
    let html = page(app, "/ui/w/shops/apis/billing-api").await;
    assert!(
        html.contains("href=\"/ui/w/shops/repositories/web-shop\""),
        "{html}"
    );

    // Re-import after the file stops consuming billing-api: the consumer is gone.
    publish(app, &ws, &catalog_info("[shop-api]")).await;
    app.ok(
        "RepositoryService/ImportRepositories",
        ADMIN,
        json!({"workspaceId": ws}),
    )
    .await;
    assert!(consumers(app, &ws, &billing).await.is_empty());
    assert_eq!(
        consumers(app, &ws, &shop_api).await,
        [("web-shop".to_owned(), "0.0.0".to_owned(), true)]
    );
    let shop = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "web-shop"}),
        )
        .await;
    assert_eq!(shop["repository"]["consumesApis"], json!(["shop-api"]));

    // The file is deleted: a re-import drops what only it said (links, APIs), keeps the rest.
    publish_files(
        app,
        &ws,
        &[("README.md".into(), b"# web-shop\n".to_vec())],
        "drop catalog-info.yaml",
    )
    .await;
    app.ok(
        "RepositoryService/ImportRepositories",
        ADMIN,
        json!({"workspaceId": ws}),
    )
    .await;
    let shop = app
        .ok(
            "RepositoryService/GetRepository",
            ADMIN,
            json!({"workspaceId": ws, "name": "web-shop"}),
        )
        .await["repository"]
        .clone();
    assert!(shop.get("links").is_none_or(|l| l == &json!([])), "{shop}");
    assert!(
        shop.get("providesApis").is_none_or(|l| l == &json!([])),
        "{shop}"
    );
    assert!(
        shop.get("consumesApis").is_none_or(|l| l == &json!([])),
        "{shop}"
    );
    assert_eq!(shop["owner"], "team-web", "{shop}");
    assert_eq!(shop["lifecycle"], "production", "{shop}");
    assert!(consumers(app, &ws, &shop_api).await.is_empty());
    let html = page(app, "/ui/w/shops/repositories/web-shop").await;
    assert!(!html.contains("grafana.example.com"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_info_links_and_apis_on_every_store() {
    for stores in all_stores().await {
        eprintln!("store: {}", stores.description);
        let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
        scenario(&app).await;
    }
}
