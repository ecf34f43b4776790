//! Client code generation end to end on the embedded engine: the `orbit.api.codegen`
//! workflow runs the real generators (installed by `scripts/install-generators.sh` into
//! `ORBIT_GENERATORS_DIR`), stores zip archives in object storage, `ListArtifacts` lists
//! them, members download them, and what was downloaded compiles: `tsc --noEmit`
//! (TypeScript), `import` (Python), `cargo check` (Rust: offline for protobuf; the OpenAPI
//! client's dependencies from the registry), `go vet`/`go build` (Go), `mvn compile` (Java).

mod support;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{ADMIN, TestApp};

/// The generators directory, or `None` (printed) to skip.
fn generators() -> Option<PathBuf> {
    match std::env::var_os("ORBIT_GENERATORS_DIR") {
        Some(dir) if Path::new(&dir).join("bin").is_dir() => Some(PathBuf::from(dir)),
        _ => {
            assert!(
                !orbit_tests::postgres::services_required(),
                "ORBIT_GENERATORS_DIR is not set but ORBIT_REQUIRE_SERVICES=1"
            );
            eprintln!(
                "SKIPPED: code generation tests need the generators: run scripts/install-generators.sh and set ORBIT_GENERATORS_DIR (scripts/test.sh does)"
            );
            None
        }
    }
}

const COMMON_PROTO: &str = r#"syntax = "proto3";
package pets.v1;

// A page of a listing.
message PageRequest {
  int32 size = 1;
  string after = 2;
}

enum Species {
  SPECIES_UNSPECIFIED = 0;
  SPECIES_DOG = 1;
  SPECIES_CAT = 2;
}
"#;

const PETS_PROTO: &str = r#"syntax = "proto3";
package pets.v1;

import "google/protobuf/timestamp.proto";
import "pets/v1/common.proto";

// A pet of the shelter.
message Pet {
  string id = 1;
  string name = 2;
  Species species = 3;
  google.protobuf.Timestamp born = 4;
  map<string, string> labels = 5;
  repeated string tags = 6;
  optional string nickname = 7;
  oneof owner {
    string person = 8;
    string shelter = 9;
  }
}

message ListPetsRequest { PageRequest page = 1; }
message ListPetsResponse { repeated Pet pets = 1; }

service PetService {
  rpc ListPets(ListPetsRequest) returns (ListPetsResponse);
}
"#;

pub const PETSTORE_YAML: &str = r##"openapi: 3.0.3
info:
  title: Petstore
  version: 1.0.0
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - name: limit
          in: query
          required: false
          schema: { type: integer, format: int32 }
      responses:
        "200":
          description: A page of pets
          content:
            application/json:
              schema:
                type: array
                items: { $ref: "#/components/schemas/Pet" }
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/NewPet" }
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
  /pets/{petId}:
    get:
      operationId: getPet
      parameters:
        - name: petId
          in: path
          required: true
          schema: { type: string }
      responses:
        "200":
          description: The pet
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
        "404":
          description: No such pet
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: { type: string }
        tag: { type: string }
        species: { type: string, enum: [dog, cat] }
    Pet:
      allOf:
        - $ref: "#/components/schemas/NewPet"
        - type: object
          required: [id]
          properties:
            id: { type: string }
"##;

async fn workspace(app: &TestApp, slug: &str) -> String {
    app.ok(
        "WorkspaceService/CreateWorkspace",
        ADMIN,
        json!({"slug": slug, "name": slug}),
    )
    .await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Starts `orbit.api.codegen` and waits for it to end; returns the run.
async fn generate(app: &TestApp, ws: &str, input: Value) -> Value {
    let r = app
        .ok(
            "WorkflowService/StartWorkflow",
            ADMIN,
            json!({"workspaceId": ws, "kind": orbit_workflows::codegen::KIND, "input": input.to_string()}),
        )
        .await;
    let id = r["workflow"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let r = app
            .ok(
                "WorkflowService/GetWorkflow",
                ADMIN,
                json!({"workspaceId": ws, "id": id}),
            )
            .await;
        let status = r["workflow"]["status"].as_str().unwrap_or("").to_owned();
        if status == "WORKFLOW_STATUS_SUCCEEDED" || status == "WORKFLOW_STATUS_FAILED" {
            return r["workflow"].clone();
        }
        assert!(Instant::now() < deadline, "the run did not end: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn results_of(run: &Value) -> Vec<Value> {
    assert_eq!(run["status"], "WORKFLOW_STATUS_SUCCEEDED", "{run}");
    let out: Value = serde_json::from_str(run["result"].as_str().unwrap()).unwrap();
    out["results"].as_array().unwrap().clone()
}

fn result_of<'a>(results: &'a [Value], language: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["language"] == language)
        .unwrap_or_else(|| panic!("no result for {language}: {results:?}"))
}

/// Downloads an artifact as a member (bearer token) and unzips it into a fresh directory.
async fn download(app: &TestApp, artifact: &Value) -> PathBuf {
    let url = artifact["downloadUrl"].as_str().unwrap();
    let reply = app
        .send(
            axum::http::Request::get(url)
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, 200, "GET {url}");
    assert_eq!(reply.headers["content-type"], "application/zip");
    assert_eq!(
        reply.body.len() as i64,
        artifact["size"].as_str().unwrap().parse::<i64>().unwrap()
    );
    let sha = Sha256::digest(&reply.body);
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, artifact["sha256"].as_str().unwrap());
    let dir = support::tempdir("artifact");
    zip::ZipArchive::new(std::io::Cursor::new(reply.body.to_vec()))
        .unwrap()
        .extract(&dir)
        .unwrap();
    dir
}

/// Runs a command (bounded), asserting that it succeeds.
fn check(what: &str, command: &mut Command, limit: Duration) {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{what}: ok in {:?}", started.elapsed());
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out
}

fn tsc(tools: &Path, dir: &Path) {
    std::fs::write(
        dir.join("tsconfig.json"),
        r#"{"compilerOptions":{"strict":true,"noEmit":true,"target":"es2022","module":"esnext","moduleResolution":"bundler","skipLibCheck":true},"include":["**/*.ts"]}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink(tools.join("node/node_modules"), dir.join("node_modules")).unwrap();
    check(
        "tsc --noEmit",
        Command::new(tools.join("bin/tsc")).arg("-p").arg(dir),
        Duration::from_secs(180),
    );
}

fn cargo_check(dir: &Path) {
    // A target directory kept between runs, so the check compiles prost once.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("codegen-rust-check");
    check(
        "cargo check --offline",
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--offline", "--quiet"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target),
        Duration::from_secs(600),
    );
}

/// `cargo check` of a generated crate whose dependencies come from the registry (the
/// OpenAPI client: reqwest, serde…). Its own target directory under the test's cache dir, kept
/// between runs, so only the first run compiles the dependencies.
fn cargo_check_online(dir: &Path, cache: &str) {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(cache);
    check(
        "cargo check",
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--quiet"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target),
        Duration::from_secs(900),
    );
}

/// `mvn compile` of a generated Maven project (dependencies from the registry, cached in
/// the user's local repository). `false` (printed) when Maven is not installed and services
/// are not required.
fn mvn_compile(dir: &Path) -> bool {
    if Command::new("mvn").arg("--version").output().is_err() {
        assert!(
            !orbit_tests::postgres::services_required(),
            "mvn is not installed but ORBIT_REQUIRE_SERVICES=1 (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: mvn compile of the Java client (no Maven)");
        return false;
    }
    check(
        "mvn compile",
        Command::new("mvn")
            .args(["-q", "-B", "compile"])
            .current_dir(dir),
        Duration::from_secs(600),
    );
    assert!(
        dir.join("target/classes").is_dir(),
        "mvn compile produced no classes"
    );
    true
}

/// `go vet` and `go build` of a generated Go module (dependencies through the module proxy
/// or the module cache). `false` (printed) without a Go toolchain.
fn go_build(dir: &Path) -> bool {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("SKIPPED: go build of the Go client (no Go toolchain)");
        return false;
    }
    for what in ["vet", "build"] {
        check(
            &format!("go {what}"),
            Command::new("go")
                .args([what, "./..."])
                .current_dir(dir)
                .env("GOFLAGS", "-mod=mod"),
            Duration::from_secs(300),
        );
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_clients_are_generated_stored_downloaded_and_compile() {
    let Some(tools) = generators() else { return };
    let app = TestApp::memory().await;
    let ws = workspace(&app, "codegen-proto").await;
    let input = json!({
        "workspace_id": ws, "api_id": "pets", "version": "1.0.0", "format": "protobuf",
        "files": [
            {"path": "pets/v1/pets.proto", "content": PETS_PROTO},
            {"path": "pets/v1/common.proto", "content": COMMON_PROTO},
        ],
        "languages": ["typescript", "python", "go", "java", "rust"],
        "force": false,
    });
    let run = generate(&app, &ws, input.clone()).await;
    let results = results_of(&run);
    assert_eq!(results.len(), 5);
    for r in &results {
        assert_eq!(r["status"], "succeeded", "{r}");
        assert_eq!(r["reused"], false);
    }
    assert_eq!(
        result_of(&results, "typescript")["artifact"]["generator"],
        "protoc-gen-es"
    );
    // The run's event log says what happened per language.
    let events = run["events"].to_string();
    for language in ["typescript", "python", "go", "java", "rust"] {
        assert!(
            events.contains(&format!("{language}: generated")),
            "{events}"
        );
    }

    // ListArtifacts: one per language, with a download URL.
    let listed = app
        .ok(
            "ArtifactService/ListArtifacts",
            ADMIN,
            json!({"workspaceId": ws, "apiId": "pets", "version": "1.0.0"}),
        )
        .await;
    let artifacts = listed["artifacts"].as_array().unwrap().clone();
    let languages: Vec<&str> = artifacts
        .iter()
        .map(|a| a["language"].as_str().unwrap())
        .collect();
    assert_eq!(languages, ["go", "java", "python", "rust", "typescript"]);
    let by = |l: &str| {
        artifacts
            .iter()
            .find(|a| a["language"] == l)
            .unwrap()
            .clone()
    };
    for a in &artifacts {
        assert_eq!(
            a["name"],
            format!("pets-1.0.0-{}.zip", a["language"].as_str().unwrap())
        );
        assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
        assert!(!a["generatorVersion"].as_str().unwrap().is_empty());
        assert_ne!(a["generatorVersion"], "unknown", "{a}");
        assert_eq!(
            a["downloadUrl"],
            format!(
                "/artifacts/{ws}/pets/1.0.0/{}",
                a["language"].as_str().unwrap()
            )
        );
    }

    // TypeScript: type-checks against @bufbuild/protobuf.
    let ts = download(&app, &by("typescript")).await;
    assert!(ts.join("pets-typescript/pets/v1/pets_pb.ts").is_file());
    tsc(&tools, &ts.join("pets-typescript"));

    // Python: the messages and the gRPC stubs import, and a message round-trips.
    let py = download(&app, &by("python")).await;
    check(
        "python import",
        Command::new(tools.join("bin/python"))
            .args([
                "-c",
                "import pets.v1.pets_pb2 as p, pets.v1.pets_pb2_grpc as g\n\
                 pet = p.Pet(name='Rex', tags=['good'])\n\
                 assert p.Pet.FromString(pet.SerializeToString()).name == 'Rex'\n\
                 assert hasattr(g, 'PetServiceStub')",
            ])
            .current_dir(py.join("pets-python")),
        Duration::from_secs(60),
    );

    // Rust: a crate that cargo checks offline.
    let rs = download(&app, &by("rust")).await;
    let lib = std::fs::read_to_string(rs.join("pets-rust/src/lib.rs")).unwrap();
    assert!(lib.contains("include!(\"pets/v1/pets.v1.rs\")"), "{lib}");
    cargo_check(&rs.join("pets-rust"));

    // Java: the messages' sources, in a Maven project that compiles against the matching
    // protobuf-java.
    let java = download(&app, &by("java")).await;
    let sources = files_under(&java, "java");
    assert!(
        sources
            .iter()
            .any(|p| std::fs::read_to_string(p).unwrap().contains("class Pet ")),
        "{sources:?}"
    );
    mvn_compile(&java.join("pets-java"));

    // Go: builds against google.golang.org/protobuf from the module cache (no network).
    let go = download(&app, &by("go")).await;
    assert!(go.join("pets-go/pets/v1/pets.pb.go").is_file());
    if Command::new("go").arg("version").output().is_ok() {
        check(
            "go build",
            Command::new("go")
                .args(["build", "./..."])
                .current_dir(go.join("pets-go"))
                .env("GOFLAGS", "-mod=mod")
                .env("GOPROXY", "off")
                .env("GOSUMDB", "off"),
            Duration::from_secs(300),
        );
    } else {
        eprintln!("SKIPPED: go build of the Go client (no Go toolchain)");
    }

    // Generating again is served from the stored artifacts; `force` generates anew.
    let again = results_of(&generate(&app, &ws, input.clone()).await);
    for r in &again {
        assert_eq!(r["reused"], true, "{r}");
        let first = result_of(&results, r["language"].as_str().unwrap());
        assert_eq!(r["artifact"], first["artifact"]);
    }
    let mut forced = input.clone();
    forced["force"] = json!(true);
    forced["languages"] = json!(["typescript"]);
    let forced = results_of(&generate(&app, &ws, forced).await);
    assert_eq!(forced[0]["reused"], false);
    assert_ne!(
        forced[0]["artifact"]["created_ms"],
        result_of(&results, "typescript")["artifact"]["created_ms"]
    );

    // Only members see and download: others get not_found / 404, never the file.
    let (_, outsider) = app.user("outsider").await;
    app.fails(
        "ArtifactService/ListArtifacts",
        &outsider,
        json!({"workspaceId": ws, "apiId": "pets", "version": "1.0.0"}),
        "not_found",
    )
    .await;
    let url = format!("/artifacts/{ws}/pets/1.0.0/typescript");
    let get = |auth: Option<(&'static str, String)>| {
        let mut req = axum::http::Request::get(url.clone());
        if let Some((name, value)) = auth {
            req = req.header(name, value);
        }
        req.body(axum::body::Body::empty()).unwrap()
    };
    let reply = app
        .send(get(Some(("authorization", format!("Bearer {outsider}")))))
        .await;
    assert_eq!(reply.status, 404);
    assert!(
        !reply.body.starts_with(b"PK"),
        "an outsider got the archive"
    );
    assert_eq!(app.send(get(None)).await.status, 401);
    // The web UI's session cookie works like the token.
    let reply = app
        .send(get(Some(("cookie", format!("orbit_session={ADMIN}")))))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.starts_with(b"PK"));
    // Unknown language, version or API: 404; a hostile path segment: refused.
    for bad in [
        format!("/artifacts/{ws}/pets/1.0.0/cobol"),
        format!("/artifacts/{ws}/pets/9.9.9/typescript"),
        format!("/artifacts/{ws}/nope/1.0.0/typescript"),
    ] {
        let reply = app
            .send(
                axum::http::Request::get(&bad)
                    .header("authorization", format!("Bearer {ADMIN}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, 404, "{bad}");
    }
    let reply = app
        .send(
            axum::http::Request::get(format!("/artifacts/{ws}/..%2F..%2Fx/1.0.0/typescript"))
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        reply.status,
        400,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_clients_are_generated_and_compile() {
    let Some(tools) = generators() else { return };
    let app = TestApp::memory().await;
    let ws = workspace(&app, "codegen-openapi").await;
    let input = json!({
        "workspace_id": ws, "api_id": "petstore", "version": "2.1.0", "format": "openapi",
        "files": [{"path": "openapi.yaml", "content": PETSTORE_YAML}],
        "languages": ["typescript", "python", "go", "rust", "java"],
    });
    let started = Instant::now();
    let results = results_of(&generate(&app, &ws, input).await);
    eprintln!("OpenAPI → 5 languages in {:?}", started.elapsed());
    for r in &results {
        assert_eq!(r["status"], "succeeded", "{r}");
    }
    assert_eq!(
        result_of(&results, "go")["artifact"]["generator"],
        "openapi-generator go"
    );
    let listed = app
        .ok(
            "ArtifactService/ListArtifacts",
            ADMIN,
            json!({"workspaceId": ws, "apiId": "petstore", "version": "2.1.0"}),
        )
        .await;
    let artifacts = listed["artifacts"].as_array().unwrap().clone();
    assert_eq!(artifacts.len(), 5);
    let by = |l: &str| {
        artifacts
            .iter()
            .find(|a| a["language"] == l)
            .unwrap()
            .clone()
    };

    let ts = download(&app, &by("typescript")).await;
    let schema = std::fs::read_to_string(ts.join("petstore-typescript/schema.ts")).unwrap();
    assert!(schema.contains("listPets"), "{schema}");
    tsc(&tools, &ts.join("petstore-typescript"));

    let py = download(&app, &by("python")).await;
    check(
        "python import",
        Command::new(tools.join("bin/python"))
            .args([
                "-c",
                "from petstore_client import Client\n\
                 from petstore_client.models import NewPet\n\
                 from petstore_client.api.default import list_pets\n\
                 assert NewPet(name='Rex').to_dict()['name'] == 'Rex'\n\
                 Client(base_url='http://127.0.0.1:1')",
            ])
            .current_dir(py.join("petstore-python/petstore-client")),
        Duration::from_secs(60),
    );

    // Go: the Petstore has `Pet` and `NewPet`, whose names clash in openapi-generator's Go
    // output unless renamed (see `go_model_name_mappings`); it must vet and build.
    let go = download(&app, &by("go")).await.join("petstore-go");
    assert!(go.join("go.mod").is_file());
    go_build(&go);

    // Rust: a crate with reqwest and serde from the registry.
    let rs = download(&app, &by("rust")).await.join("petstore-rust");
    let manifest = std::fs::read_to_string(rs.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("reqwest"), "{manifest}");
    cargo_check_online(&rs, "codegen-openapi-rust-check");

    // Java: a Maven project (okhttp, gson…).
    let java = download(&app, &by("java")).await.join("petstore-java");
    assert!(java.join("pom.xml").is_file());
    mvn_compile(&java);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_generator_fails_its_language_only() {
    let Some(_gen) = generators() else { return };
    let app = TestApp::memory().await;
    let ws = workspace(&app, "codegen-fail").await;
    // A Swagger 2.0 document: openapi-generator reads it, openapi-typescript 7 refuses it.
    let swagger = "swagger: \"2.0\"\ninfo: {title: Old, version: \"1.0\"}\npaths:\n  /ping:\n    get:\n      operationId: ping\n      responses:\n        \"200\": {description: pong}\n";
    let run = generate(
        &app,
        &ws,
        json!({
            "workspace_id": ws, "api_id": "old", "version": "1.0.0", "format": "openapi",
            "files": [{"path": "swagger.yaml", "content": swagger}],
            "languages": ["typescript", "go"],
        }),
    )
    .await;
    let results = results_of(&run);
    let ts = result_of(&results, "typescript");
    assert_eq!(ts["status"], "failed", "{ts}");
    let error = ts["error"].as_str().unwrap();
    assert!(error.contains("openapi-typescript exited with"), "{error}");
    assert!(
        error.len() > "openapi-typescript exited with".len() + 20,
        "no stderr excerpt: {error}"
    );
    assert_eq!(result_of(&results, "go")["status"], "succeeded");
    let listed = app
        .ok(
            "ArtifactService/ListArtifacts",
            ADMIN,
            json!({"workspaceId": ws, "apiId": "old", "version": "1.0.0"}),
        )
        .await;
    let langs: Vec<&str> = listed["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["go"]);

    // Every language failing fails the run, naming each.
    let run = generate(
        &app,
        &ws,
        json!({
            "workspace_id": ws, "api_id": "old", "version": "1.0.1", "format": "openapi",
            "files": [{"path": "swagger.yaml", "content": swagger}],
            "languages": ["typescript"],
        }),
    )
    .await;
    assert_eq!(run["status"], "WORKFLOW_STATUS_FAILED", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("every language failed"),
        "{run}"
    );
}

#[tokio::test]
async fn bad_codegen_requests_start_nothing() {
    let app = TestApp::memory().await;
    let ws = workspace(&app, "codegen-bad").await;
    for (input, expected) in [
        (
            json!({"workspace_id": ws, "api_id": "../etc", "version": "1.0.0", "format": "openapi", "files": [{"path": "a.yaml", "content": "x"}], "languages": ["go"]}),
            "may only contain",
        ),
        (
            json!({"workspace_id": ws, "api_id": "a", "version": "1.0.0", "format": "graphql", "files": [{"path": "a.graphql", "content": "x"}], "languages": ["go"]}),
            "cannot be generated",
        ),
        (
            json!({"workspace_id": ws, "api_id": "a", "version": "1.0.0", "format": "openapi", "files": [{"path": "../../a.yaml", "content": "x"}], "languages": ["go"]}),
            "'..'",
        ),
        (
            json!({"workspace_id": ws, "api_id": "a", "version": "1.0.0", "format": "openapi", "files": [{"path": "a.yaml", "content": "x"}], "languages": ["cobol"]}),
            "unknown language",
        ),
    ] {
        let message = app
            .fails(
                "WorkflowService/StartWorkflow",
                ADMIN,
                json!({"workspaceId": ws, "kind": orbit_workflows::codegen::KIND, "input": input.to_string()}),
                "invalid_argument",
            )
            .await;
        assert!(message.contains(expected), "{message}");
    }
    app.fails(
        "ArtifactService/ListArtifacts",
        ADMIN,
        json!({"workspaceId": ws, "apiId": "../x", "version": "1.0.0"}),
        "invalid_argument",
    )
    .await;
    // Nothing generated yet: an empty list, not an error.
    let listed = app
        .ok(
            "ArtifactService/ListArtifacts",
            ADMIN,
            json!({"workspaceId": ws, "apiId": "a", "version": "1.0.0"}),
        )
        .await;
    assert!(
        listed["artifacts"].as_array().is_none_or(|a| a.is_empty()),
        "{listed}"
    );
}

/// With S3 storage (a real MinIO server), artifacts go to the bucket and a member's download
/// is a redirect to a short-lived presigned URL that a plain HTTP client can fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_s3_storage_downloads_redirect_to_a_presigned_url() {
    let Some(_tools) = generators() else { return };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("ORBIT_TEST_S3_ENDPOINT") else {
        assert!(
            !orbit_tests::postgres::services_required(),
            "ORBIT_TEST_S3_ENDPOINT is not set but ORBIT_REQUIRE_SERVICES=1"
        );
        eprintln!("SKIPPED: S3 download test needs ORBIT_TEST_S3_* (scripts/lib/minio.sh)");
        return;
    };
    let s3 = orbit_storage::S3Config {
        endpoint: Some(endpoint),
        region: var("ORBIT_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        bucket: var("ORBIT_TEST_S3_BUCKET").unwrap(),
        access_key_id: var("ORBIT_TEST_S3_ACCESS_KEY").unwrap(),
        secret_access_key: var("ORBIT_TEST_S3_SECRET_KEY").unwrap(),
    };
    let app = TestApp::with_config(
        support::memory_stores(),
        std::sync::Arc::new(orbit_memory::NoCache),
        std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap()),
        |config| config.storage = orbit::config::StorageChoice::S3(s3.clone()),
    )
    .await;
    // Workspace ids are new on every run, so artifacts of earlier runs never collide.
    let ws = workspace(&app, "codegen-s3").await;
    let results = results_of(
        &generate(
            &app,
            &ws,
            json!({
                "workspace_id": ws, "api_id": "petstore", "version": "1.0.0", "format": "openapi",
                "files": [{"path": "openapi.yaml", "content": PETSTORE_YAML}],
                "languages": ["typescript"],
            }),
        )
        .await,
    );
    assert_eq!(results[0]["status"], "succeeded", "{results:?}");
    let artifact = &results[0]["artifact"];
    // The archive and its metadata are in the bucket.
    let bucket = orbit_storage::S3Store::new(&s3).unwrap();
    use orbit_ports::ObjectStore;
    let key = artifact["key"].as_str().unwrap();
    assert_eq!(key, format!("artifacts/{ws}/petstore/1.0.0/typescript.zip"));
    let stored = bucket
        .head(key)
        .await
        .unwrap()
        .expect("the archive is in the bucket");
    assert_eq!(stored.size, artifact["size"].as_u64().unwrap());

    let url = format!("/artifacts/{ws}/petstore/1.0.0/typescript");
    let reply = app
        .send(
            axum::http::Request::get(&url)
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, 302);
    let location = reply.headers["location"].to_str().unwrap().to_owned();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert!(location.contains("X-Amz-Expires=300"), "{location}");
    let body = reqwest::get(&location).await.unwrap();
    assert_eq!(body.status(), 200);
    let bytes = body.bytes().await.unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, artifact["sha256"].as_str().unwrap());
    // Outsiders get no redirect.
    let (_, outsider) = app.user("s3-outsider").await;
    let reply = app
        .send(
            axum::http::Request::get(&url)
                .header("authorization", format!("Bearer {outsider}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert!(reply.headers.get("location").is_none());
}

/// An OpenAPI document with `n` operations (n/5 resources × list/create/get/update/delete).
fn big_openapi(n: usize) -> String {
    let mut doc = String::from("openapi: 3.0.3\ninfo: {title: Big, version: 1.0.0}\npaths:\n");
    let resources = n / 5;
    for i in 0..resources {
        doc.push_str(&format!(
            "  /r{i}:\n    get:\n      operationId: listR{i}\n      parameters:\n        - {{name: limit, in: query, schema: {{type: integer}}}}\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json:\n              schema: {{type: array, items: {{$ref: \"#/components/schemas/R{i}\"}}}}\n    post:\n      operationId: createR{i}\n      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {{$ref: \"#/components/schemas/R{i}\"}}\n      responses:\n        \"201\": {{description: created}}\n  /r{i}/{{id}}:\n    parameters:\n      - {{name: id, in: path, required: true, schema: {{type: string}}}}\n    get:\n      operationId: getR{i}\n      responses:\n        \"200\":\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: \"#/components/schemas/R{i}\"}}\n    put:\n      operationId: updateR{i}\n      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {{$ref: \"#/components/schemas/R{i}\"}}\n      responses:\n        \"200\": {{description: updated}}\n    delete:\n      operationId: deleteR{i}\n      responses:\n        \"204\": {{description: deleted}}\n"
        ));
    }
    doc.push_str("components:\n  schemas:\n");
    for i in 0..resources {
        doc.push_str(&format!(
            "    R{i}:\n      type: object\n      required: [id, name]\n      properties:\n        id: {{type: string}}\n        name: {{type: string}}\n        count: {{type: integer, format: int64}}\n        tags: {{type: array, items: {{type: string}}}}\n"
        ));
    }
    doc
}

/// Time to generate every language for an OpenAPI document with 500 operations (the issue's
/// PR-002 asks for under 30 s in all). Run with
/// `cargo test -p orbit-tests --test api_codegen codegen_benchmark -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand (docs/benchmarks.md)"]
async fn codegen_benchmark_500_operations() {
    let Some(_tools) = generators() else { return };
    let app = TestApp::with_config(
        support::memory_stores(),
        std::sync::Arc::new(orbit_memory::NoCache),
        std::sync::Arc::new(orbit_search_tantivy::TantivyIndex::in_memory().unwrap()),
        |config| config.max_body_bytes = 8 * 1024 * 1024,
    )
    .await;
    let ws = workspace(&app, "codegen-bench").await;
    let doc = big_openapi(500);
    let started = Instant::now();
    let run = generate(
        &app,
        &ws,
        json!({
            "workspace_id": ws, "api_id": "big", "version": "1.0.0", "format": "openapi",
            "files": [{"path": "openapi.yaml", "content": doc}],
            "languages": ["typescript", "python", "go", "rust", "java"],
        }),
    )
    .await;
    let total = started.elapsed();
    let results = results_of(&run);
    for r in &results {
        assert_eq!(r["status"], "succeeded", "{r}");
    }
    // Per-language time from the run's event log: from its step's "started" line to its
    // "done" line (the languages run at the same time).
    let events = run["events"].as_array().unwrap();
    let ms = |t: &str| {
        // RFC 3339 with Z: seconds within the day are enough for a difference.
        let time = t.split('T').nth(1).unwrap();
        let time = time.split(['Z', '+']).next().unwrap();
        let mut parts = time.split(':');
        let h: f64 = parts.next().unwrap().parse().unwrap();
        let m: f64 = parts.next().unwrap().parse().unwrap();
        let s: f64 = parts.next().unwrap().parse().unwrap();
        (h * 3600.0 + m * 60.0 + s) * 1000.0
    };
    let at = |suffix: &str| {
        events
            .iter()
            .find(|e| e["message"].as_str().unwrap().ends_with(suffix))
            .map(|e| ms(e["time"].as_str().unwrap()))
    };
    println!("| language | generator | archive | time |");
    println!("|---|---|---|---|");
    for r in &results {
        let language = r["language"].as_str().unwrap();
        let activity = format!("(codegen.{language})");
        let (Some(start), Some(end)) = (
            at(&format!("{activity} started")),
            at(&format!("{activity} done")),
        ) else {
            continue;
        };
        let artifact = &r["artifact"];
        println!(
            "| {language} | {} {} | {} KiB | {:.1} s |",
            artifact["generator"].as_str().unwrap(),
            artifact["generator_version"].as_str().unwrap(),
            artifact["size"].as_u64().unwrap() / 1024,
            (end - start) / 1000.0
        );
    }
    println!(
        "all five languages, 500 operations ({} KiB of YAML): {:.1} s",
        doc.len() / 1024,
        total.as_secs_f64()
    );
}
