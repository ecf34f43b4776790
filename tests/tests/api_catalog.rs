//! The API catalog through the Connect API, on every store: APIs, versions, breaking-change
//! checks, consumers, policy, search and hostile uploads.

mod support;

use serde_json::{Value, json};
use support::{ADMIN, TestApp, all_stores};

const PETSTORE: &str = include_str!("../../apispec/tests/fixtures/petstore.yaml");

const PETS_PROTO: &str = "syntax = \"proto3\";\npackage pets.v1;\nimport \"pets/v1/types.proto\";\n\n// Pets of the shop.\nservice PetService {\n  // Gets one pet.\n  rpc GetPet(GetPetRequest) returns (Pet);\n}\nmessage GetPetRequest { string id = 1; }\n";
const TYPES_PROTO: &str = "syntax = \"proto3\";\npackage pets.v1;\n// A pet.\nmessage Pet {\n  string id = 1;\n  string name = 2;\n  int64 born_at = 3;\n}\n";

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

fn file(name: &str, content: &str) -> Value {
    json!({"name": name, "content": content})
}

async fn publish(app: &TestApp, ws: &str, api: &str, version: &str, files: Value) -> Value {
    app.ok(
        "ApiCatalogService/PublishVersion",
        ADMIN,
        json!({"workspaceId": ws, "apiId": api, "version": version, "releaseNotes": format!("release {version}"), "files": files}),
    )
    .await
}

async fn search(app: &TestApp, ws: &str, query: &str) -> Vec<(String, String)> {
    let r = app
        .ok(
            "SearchService/Search",
            ADMIN,
            json!({"workspaceId": ws, "query": query, "kinds": ["api"]}),
        )
        .await;
    r["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    (
                        h["kind"].as_str().unwrap().to_owned(),
                        h["title"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn scenario(app: &TestApp) {
    let ws = workspace(app, ADMIN, "platform").await;
    let (_, viewer) = app.user("vera").await;
    app.ok(
        "WorkspaceService/AddMember",
        ADMIN,
        json!({"workspaceId": ws, "user": "vera", "role": "ROLE_VIEWER"}),
    )
    .await;

    // Create and read.
    let pets = app
        .ok(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "Pet Store", "description": "Buy and sell pets", "owner": "team-shop", "tags": ["Animals", "public"], "format": "openapi", "lifecycle": "production"}),
        )
        .await["api"]
        .clone();
    assert_eq!(pets["slug"], "pet-store");
    assert_eq!(pets["tags"], json!(["animals", "public"]));
    let pets_id = pets["id"].as_str().unwrap().to_owned();
    let grpc = app
        .ok(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "slug": "pets-grpc", "name": "Pets gRPC", "owner": "team-core", "tags": ["animals"], "format": "protobuf"}),
        )
        .await["api"]
        .clone();
    let grpc_id = grpc["id"].as_str().unwrap().to_owned();
    assert_eq!(grpc["lifecycle"], "experimental");
    let got = app
        .ok(
            "ApiCatalogService/GetApi",
            &viewer,
            json!({"workspaceId": ws, "slug": "pet-store"}),
        )
        .await;
    assert_eq!(got["api"]["id"], pets_id);
    let msg = app
        .fails(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "Pet Store", "format": "openapi"}),
            "already_exists",
        )
        .await;
    assert_eq!(msg, "API slug 'pet-store' already exists");
    let msg = app
        .fails(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "X", "format": "soap"}),
            "invalid_argument",
        )
        .await;
    assert!(msg.contains("\"soap\" is not one of openapi, asyncapi, protobuf, graphql"));
    app.fails(
        "ApiCatalogService/CreateApi",
        &viewer,
        json!({"workspaceId": ws, "name": "Nope", "format": "openapi"}),
        "permission_denied",
    )
    .await;

    // Lists: filters and cursor pagination.
    let list = |filter: Value| {
        let mut body = json!({"workspaceId": ws});
        body.as_object_mut()
            .unwrap()
            .extend(filter.as_object().unwrap().clone());
        body
    };
    let slugs = |v: &Value| -> Vec<String> {
        v["apis"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["slug"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let r = app
        .ok("ApiCatalogService/ListApis", &viewer, list(json!({})))
        .await;
    assert_eq!(slugs(&r), ["pet-store", "pets-grpc"]);
    let r = app
        .ok(
            "ApiCatalogService/ListApis",
            ADMIN,
            list(json!({"format": "protobuf"})),
        )
        .await;
    assert_eq!(slugs(&r), ["pets-grpc"]);
    let r = app
        .ok(
            "ApiCatalogService/ListApis",
            ADMIN,
            list(json!({"tag": "public"})),
        )
        .await;
    assert_eq!(slugs(&r), ["pet-store"]);
    let r = app
        .ok(
            "ApiCatalogService/ListApis",
            ADMIN,
            list(json!({"owner": "team-core", "lifecycle": "experimental"})),
        )
        .await;
    assert_eq!(slugs(&r), ["pets-grpc"]);
    let first = app
        .ok(
            "ApiCatalogService/ListApis",
            ADMIN,
            list(json!({"pageSize": 1})),
        )
        .await;
    assert_eq!(slugs(&first), ["pet-store"]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = app
        .ok(
            "ApiCatalogService/ListApis",
            ADMIN,
            list(json!({"pageSize": 1, "pageToken": token})),
        )
        .await;
    assert_eq!(slugs(&second), ["pets-grpc"]);
    assert!(second.get("nextPageToken").is_none_or(|t| t == ""));

    // Validation without saving: every problem with its position.
    let bad = "openapi: 3.0.3\ninfo:\n  version: '1'\npaths:\n  /pets/{id}:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: 'https://evil.example/schema.json'\n";
    let v = app
        .ok(
            "ApiCatalogService/ValidateSchema",
            &viewer,
            json!({"workspaceId": ws, "format": "openapi", "files": [file("openapi.yaml", bad)]}),
        )
        .await;
    assert!(v.get("valid").is_none_or(|x| x == false), "{v:#}");
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems.iter().any(|p| {
        p["line"] == 13
            && p["message"]
                .as_str()
                .unwrap()
                .contains("does not fetch URLs")
    }));
    assert!(
        problems
            .iter()
            .any(|p| p["line"] == 3 && p["message"] == "info.title is required (a string)")
    );
    let v = app
        .ok(
            "ApiCatalogService/ValidateSchema",
            ADMIN,
            json!({"workspaceId": ws, "format": "openapi", "files": [file("openapi.yaml", PETSTORE)]}),
        )
        .await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["operations"], 3);
    assert_eq!(v["title"], "Swagger Petstore");

    // An invalid version is refused with its positions, and nothing is stored.
    let msg = app
        .fails(
            "ApiCatalogService/PublishVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "version": "1.0.0", "files": [file("openapi.yaml", bad)]}),
            "invalid_argument",
        )
        .await;
    assert!(msg.starts_with("files the schema has 3 problems:"), "{msg}");
    assert!(msg.contains("openapi.yaml:13:"), "{msg}");
    let versions = app
        .ok(
            "ApiCatalogService/ListVersions",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id}),
        )
        .await;
    assert!(
        versions
            .get("versions")
            .is_none_or(|v| v.as_array().unwrap().is_empty())
    );

    // Publish v1 of the OpenAPI and the protobuf API.
    let v1 = publish(
        app,
        &ws,
        &pets_id,
        "1.0.0",
        json!([file("openapi.yaml", PETSTORE)]),
    )
    .await;
    assert_eq!(v1["version"]["version"], "1.0.0");
    assert_eq!(v1["version"]["contentHash"].as_str().unwrap().len(), 64);
    assert!(v1.get("previousVersion").is_none_or(|p| p == ""));
    let msg = app
        .fails(
            "ApiCatalogService/PublishVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "version": "1.0.0", "files": [file("openapi.yaml", PETSTORE)]}),
            "already_exists",
        )
        .await;
    assert!(msg.contains("immutable"), "{msg}");
    publish(
        app,
        &ws,
        &grpc_id,
        "1.0.0",
        json!([
            file("pets/v1/api.proto", PETS_PROTO),
            file("pets/v1/types.proto", TYPES_PROTO)
        ]),
    )
    .await;
    let msg = app
        .fails(
            "ApiCatalogService/PublishVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": grpc_id, "version": "1.0.1", "files": [file("pets/v1/api.proto", PETS_PROTO)]}),
            "invalid_argument",
        )
        .await;
    assert!(
        msg.contains("pets/v1/api.proto:3:")
            && msg.contains("import \"pets/v1/types.proto\" not found"),
        "{msg}"
    );

    // A compatible minor version is accepted and lists what it added.
    let v11 = PETSTORE.replace(
        "        tag:\n          type: string",
        "        tag:\n          type: string\n        color:\n          type: string",
    );
    let r = publish(
        app,
        &ws,
        &pets_id,
        "1.1.0",
        json!([file("openapi.yaml", &v11)]),
    )
    .await;
    assert_eq!(r["previousVersion"], "1.0.0");
    assert!(
        r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("breaking").is_none_or(|b| b == false))
    );

    // Consumers.
    app.ok(
        "ApiCatalogService/AddConsumer",
        ADMIN,
        json!({"workspaceId": ws, "apiId": pets_id, "repository": "github.com/acme/web", "version": "1.0.0"}),
    )
    .await;
    app.ok(
        "ApiCatalogService/AddConsumer",
        ADMIN,
        json!({"workspaceId": ws, "apiId": pets_id, "repository": "github.com/acme/mobile", "version": "1.1.0"}),
    )
    .await;
    app.fails(
        "ApiCatalogService/AddConsumer",
        ADMIN,
        json!({"workspaceId": ws, "apiId": pets_id, "repository": "github.com/acme/x", "version": "9.9.9"}),
        "not_found",
    )
    .await;
    let consumers = app
        .ok(
            "ApiCatalogService/ListConsumers",
            &viewer,
            json!({"workspaceId": ws, "apiId": pets_id}),
        )
        .await;
    let repos: Vec<&str> = consumers["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["github.com/acme/mobile", "github.com/acme/web"]);

    // A breaking change: the proposed version shows who it would hit; under a minor bump it
    // is refused with the list; under a major bump it is accepted.
    let breaking = v11
        .replace(
            "  /pets/{petId}:\n    get:",
            "  /pets/{petId}:\n    delete:",
        )
        .replace(
            "        id:\n          type: integer\n          format: int64",
            "        id:\n          type: string",
        );
    let cmp = app
        .ok(
            "ApiCatalogService/CompareVersions",
            &viewer,
            json!({"workspaceId": ws, "apiId": pets_id, "toVersion": "2.0.0", "proposedFiles": [file("openapi.yaml", &breaking)]}),
        )
        .await;
    assert_eq!(cmp["fromVersion"], "1.1.0");
    assert!(cmp["breakingChanges"].as_i64().unwrap() >= 3, "{cmp:#}");
    let affected: Vec<&str> = cmp["affectedConsumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["repository"].as_str().unwrap())
        .collect();
    assert_eq!(affected, ["github.com/acme/mobile", "github.com/acme/web"]);
    let msg = app
        .fails(
            "ApiCatalogService/PublishVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "version": "1.2.0", "files": [file("openapi.yaml", &breaking)]}),
            "failed_precondition",
        )
        .await;
    assert!(msg.starts_with("version 1.2.0 has"), "{msg}");
    assert!(msg.contains("publish it as 2.0.0"), "{msg}");
    assert!(
        msg.contains("GET /pets/{petId}: operation removed"),
        "{msg}"
    );
    assert!(msg.contains("type changed from integer to string"), "{msg}");
    let r = publish(
        app,
        &ws,
        &pets_id,
        "2.0.0",
        json!([file("openapi.yaml", &breaking)]),
    )
    .await;
    assert!(
        r["version"]["breakingChanges"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            >= 3
    );
    let cmp = app
        .ok(
            "ApiCatalogService/CompareVersions",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "fromVersion": "1.0.0", "toVersion": "2.0.0"}),
        )
        .await;
    assert!(
        cmp["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["breaking"] == true && c["location"] == "GET /pets/{petId}")
    );

    // Protobuf: a field removed without reservation, refused as a patch, accepted under a
    // relaxed workspace policy.
    let types2 = TYPES_PROTO.replace("  int64 born_at = 3;\n", "");
    let files2 = json!([
        file("pets/v1/api.proto", PETS_PROTO),
        file("pets/v1/types.proto", &types2)
    ]);
    let msg = app
        .fails(
            "ApiCatalogService/PublishVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": grpc_id, "version": "1.0.1", "files": files2}),
            "failed_precondition",
        )
        .await;
    assert!(
        msg.contains(
            "message pets.v1.Pet field born_at (3): field removed without reserving its number"
        ),
        "{msg}"
    );
    app.fails(
        "ApiCatalogService/UpdateApiPolicy",
        &viewer,
        json!({"workspaceId": ws, "policy": {"allowBreakingWithoutMajor": true}}),
        "permission_denied",
    )
    .await;
    app.ok(
        "ApiCatalogService/UpdateApiPolicy",
        ADMIN,
        json!({"workspaceId": ws, "policy": {"allowBreakingWithoutMajor": true}}),
    )
    .await;
    let r = publish(app, &ws, &grpc_id, "1.0.1", files2).await;
    assert_eq!(r["version"]["breakingChanges"], "1");

    // Versions newest first; GetVersion returns the files; latest.
    let versions = app
        .ok(
            "ApiCatalogService/ListVersions",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id}),
        )
        .await;
    let labels: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["2.0.0", "1.1.0", "1.0.0"]);
    let latest = app
        .ok(
            "ApiCatalogService/GetVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "version": "latest"}),
        )
        .await;
    assert_eq!(latest["version"]["version"], "2.0.0");
    assert_eq!(latest["version"]["files"][0]["content"], breaking);
    let v1 = app
        .ok(
            "ApiCatalogService/GetVersion",
            ADMIN,
            json!({"workspaceId": ws, "apiId": pets_id, "version": "1.0.0"}),
        )
        .await;
    assert_eq!(v1["version"]["files"][0]["content"], PETSTORE);

    // Update and deprecate.
    let r = app
        .ok(
            "ApiCatalogService/UpdateApi",
            ADMIN,
            json!({"workspaceId": ws, "apiId": grpc_id, "description": "Pets over gRPC", "tags": ["grpc"], "setTags": true}),
        )
        .await;
    assert_eq!(r["api"]["tags"], json!(["grpc"]));
    assert_eq!(r["api"]["name"], "Pets gRPC");
    let r = app
        .ok(
            "ApiCatalogService/DeprecateApi",
            ADMIN,
            json!({"workspaceId": ws, "apiId": grpc_id, "note": "use the Pet Store API"}),
        )
        .await;
    assert_eq!(r["api"]["lifecycle"], "deprecated");

    // Search finds APIs by name, operation id, path, message and field names.
    app.index().await;
    assert_eq!(
        search(app, &ws, "Pet Store").await[0],
        ("api".to_owned(), "Pet Store".to_owned())
    );
    assert_eq!(
        search(app, &ws, "listPets").await,
        [("api".to_owned(), "Pet Store".to_owned())]
    );
    assert_eq!(
        search(app, &ws, "PetService").await,
        [("api".to_owned(), "Pets gRPC".to_owned())]
    );
    assert_eq!(
        search(app, &ws, "GetPetRequest").await,
        [("api".to_owned(), "Pets gRPC".to_owned())]
    );
    assert_eq!(
        search(app, &ws, "color").await,
        [("api".to_owned(), "Pet Store".to_owned())]
    );

    // Another workspace sees none of it.
    let other = workspace(app, ADMIN, "elsewhere").await;
    app.fails(
        "ApiCatalogService/GetApi",
        ADMIN,
        json!({"workspaceId": other, "id": pets_id}),
        "not_found",
    )
    .await;
    assert!(search(app, &other, "listPets").await.is_empty());
    let (_, outsider) = app.user("olga").await;
    app.fails(
        "ApiCatalogService/ListApis",
        &outsider,
        json!({"workspaceId": ws}),
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_catalog_on_every_store() {
    for stores in all_stores().await {
        let name = stores.description.clone();
        eprintln!("store: {name}");
        let app = TestApp::new(stores, std::sync::Arc::new(orbit_memory::NoCache)).await;
        scenario(&app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_are_refused_clearly_and_nothing_is_stored() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, ADMIN, "hostile").await;
    let api = app
        .ok(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "Target", "format": "openapi"}),
        )
        .await["api"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let publish_fails = |content: String, code: &'static str| {
        let app = &app;
        let ws = ws.clone();
        let api = api.clone();
        async move {
            let started = std::time::Instant::now();
            let msg = app
                .fails(
                    "ApiCatalogService/PublishVersion",
                    ADMIN,
                    json!({"workspaceId": ws, "apiId": api, "version": "1.0.0", "files": [file("openapi.yaml", &content)]}),
                    code,
                )
                .await;
            assert!(started.elapsed() < std::time::Duration::from_secs(20));
            msg
        }
    };
    // Billion laughs.
    let mut laughs =
        String::from("openapi: 3.1.0\na0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for i in 1..12 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    let msg = publish_fails(laughs, "invalid_argument").await;
    assert!(
        msg.contains("openapi.yaml:") && msg.contains("expands to more than"),
        "{msg}"
    );
    // Invalid YAML.
    let msg = publish_fails(
        "openapi: 3.1.0\ninfo: [unclosed\n".into(),
        "invalid_argument",
    )
    .await;
    assert!(
        msg.contains("openapi.yaml:") && msg.contains("invalid YAML"),
        "{msg}"
    );
    // A $ref cycle and a remote $ref (never fetched).
    let msg = publish_fails(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n    C: {$ref: 'http://127.0.0.1:1/evil.yaml'}\n".into(),
        "invalid_argument",
    )
    .await;
    assert!(
        msg.contains("$ref cycle") && msg.contains("does not fetch URLs"),
        "{msg}"
    );
    // Above the version limit (11 MiB inside the request limit).
    let big = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\nx: '{}'\n",
        "a".repeat(11 * 1024 * 1024)
    );
    let msg = publish_fails(big, "invalid_argument").await;
    assert!(
        msg.contains("a version may be at most 10485760 bytes (10 MiB)"),
        "{msg}"
    );
    // A 50 MB upload: refused while it streams in.
    let huge = "a".repeat(50 * 1000 * 1000);
    let msg = publish_fails(huge, "invalid_argument").await;
    assert!(
        msg.starts_with("the request body is larger than the limit of"),
        "{msg}"
    );
    assert!(msg.contains("10 MiB"), "{msg}");
    // Bad file names.
    let r = app
        .call(
            "ApiCatalogService/PublishVersion",
            Some(ADMIN),
            json!({"workspaceId": ws, "apiId": api, "version": "1.0.0", "files": [file("../../etc/passwd", "x")]}),
        )
        .await;
    assert_eq!(r.code(), "invalid_argument");
    // Nothing was stored.
    let versions = app
        .ok(
            "ApiCatalogService/ListVersions",
            ADMIN,
            json!({"workspaceId": ws, "apiId": api}),
        )
        .await;
    assert!(
        versions
            .get("versions")
            .is_none_or(|v| v.as_array().unwrap().is_empty())
    );
    let got = app
        .ok(
            "ApiCatalogService/GetApi",
            ADMIN,
            json!({"workspaceId": ws, "id": api}),
        )
        .await;
    assert!(got["api"].get("latestVersion").is_none_or(|v| v == ""));
}

/// `GenerateClients` starts `orbit.api.codegen` with the version's files from the catalog.
/// With the generators installed (`ORBIT_GENERATORS_DIR`, as scripts/test.sh does), the run
/// finishes and the TypeScript client is listed and downloadable as a zip archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_clients_from_a_published_version() {
    let generators = std::env::var_os("ORBIT_GENERATORS_DIR").map(std::path::PathBuf::from);
    let app = TestApp::with_config(
        support::memory_stores(),
        std::sync::Arc::new(orbit_memory::NoCache),
        std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap()),
        |config| {
            if let Some(dir) = &generators {
                config.generators_dir = dir.clone();
            }
        },
    )
    .await;
    let ws = workspace(&app, ADMIN, "codegen").await;
    let api = app
        .ok(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "Pet Store", "format": "openapi"}),
        )
        .await["api"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.fails(
        "ApiCatalogService/GenerateClients",
        ADMIN,
        json!({"workspaceId": ws, "apiId": api, "languages": ["typescript"]}),
        "not_found",
    )
    .await;
    publish(
        &app,
        &ws,
        &api,
        "1.0.0",
        json!([file("openapi.yaml", PETSTORE)]),
    )
    .await;
    let graph = app
        .ok(
            "ApiCatalogService/CreateApi",
            ADMIN,
            json!({"workspaceId": ws, "name": "Graph", "format": "graphql"}),
        )
        .await["api"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    publish(
        &app,
        &ws,
        &graph,
        "1.0.0",
        json!([file("schema.graphql", "type Query { a: Int }")]),
    )
    .await;
    let msg = app
        .fails(
            "ApiCatalogService/GenerateClients",
            ADMIN,
            json!({"workspaceId": ws, "apiId": graph}),
            "failed_precondition",
        )
        .await;
    assert!(msg.contains("OpenAPI and protobuf"), "{msg}");
    app.fails(
        "ApiCatalogService/GenerateClients",
        ADMIN,
        json!({"workspaceId": ws, "apiId": api, "languages": ["cobol"]}),
        "invalid_argument",
    )
    .await;

    let run = app
        .ok(
            "ApiCatalogService/GenerateClients",
            ADMIN,
            json!({"workspaceId": ws, "apiId": api, "version": "1.0.0", "languages": ["typescript"]}),
        )
        .await["workflowId"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = app
        .ok(
            "WorkflowService/GetWorkflow",
            ADMIN,
            json!({"workspaceId": ws, "id": run}),
        )
        .await;
    assert_eq!(got["workflow"]["kind"], "orbit.api.codegen");
    let input: Value = serde_json::from_str(got["workflow"]["input"].as_str().unwrap()).unwrap();
    assert_eq!(input["files"][0]["path"], "openapi.yaml");
    assert_eq!(input["files"][0]["content"], PETSTORE);
    assert_eq!(input["languages"], json!(["typescript"]));
    assert_eq!(input["version"], "1.0.0");

    if generators.is_none() {
        assert!(
            std::env::var_os("ORBIT_REQUIRE_SERVICES").is_none(),
            "ORBIT_GENERATORS_DIR is not set but ORBIT_REQUIRE_SERVICES=1"
        );
        eprintln!(
            "SKIPPED: the generated archive is checked only with ORBIT_GENERATORS_DIR set (scripts/test.sh sets it)"
        );
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let r = app
            .ok(
                "WorkflowService/GetWorkflow",
                ADMIN,
                json!({"workspaceId": ws, "id": run}),
            )
            .await;
        let status = r["workflow"]["status"].as_str().unwrap_or("").to_owned();
        if status.contains("SUCCEEDED") {
            break;
        }
        assert!(
            !status.contains("FAILED") && !status.contains("CANCELLED"),
            "{r:#}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "codegen did not finish: {r:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let list = app
        .ok(
            "ArtifactService/ListArtifacts",
            ADMIN,
            json!({"workspaceId": ws, "apiId": api, "version": "1.0.0"}),
        )
        .await;
    let artifact = &list["artifacts"][0];
    assert_eq!(artifact["language"], "typescript");
    let url = artifact["downloadUrl"].as_str().unwrap();
    let reply = app
        .send(
            axum::http::Request::get(url)
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, axum::http::StatusCode::OK);
    assert!(reply.body.starts_with(b"PK"), "a zip archive");
}
