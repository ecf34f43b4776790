//! Validation and comparison of real and constructed schemas.

use orbit_apispec::{Change, Format, Spec, SpecFile, validate};

fn file(name: &str, content: &str) -> SpecFile {
    SpecFile {
        name: name.into(),
        content: content.into(),
    }
}

fn one(format: Format, name: &str, content: &str) -> Spec {
    validate(format, &[file(name, content)])
        .unwrap_or_else(|d| panic!("{name} should be valid: {d:#?}"))
}

fn errors(format: Format, files: &[SpecFile]) -> Vec<String> {
    match validate(format, files) {
        Ok(_) => panic!("should be invalid"),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

fn breaking(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.breaking)
        .map(|c| format!("{}: {}", c.location, c.message))
        .collect()
}

const PETSTORE: &str = include_str!("fixtures/petstore.yaml");

#[test]
fn petstore_is_valid_and_indexed() {
    let spec = one(Format::OpenApi, "petstore.yaml", PETSTORE);
    assert_eq!(spec.format_version, "3.0.0");
    assert_eq!(spec.title, "Swagger Petstore");
    assert_eq!(spec.operation_count(), 3);
    let terms = spec.search_terms();
    for t in ["listPets", "/pets/{petId}", "Pet", "petId", "pets"] {
        assert!(terms.contains(&t.to_owned()), "{t} missing from {terms:?}");
    }
    assert!(spec.changes_since(&spec).is_empty());
    let reference = spec.reference();
    assert!(reference.iter().any(|r| r.signature == "GET /pets/{petId}"));
}

#[test]
fn petstore_breaking_and_compatible_changes() {
    let old = one(Format::OpenApi, "petstore.yaml", PETSTORE);
    let changed = PETSTORE
        // showPetById removed with its path
        .replace("  /pets/{petId}:\n    get:", "  /pets/{petId}:\n    put:")
        // a new required query parameter on listPets
        .replace(
            "      parameters:\n        - name: limit",
            "      parameters:\n        - name: owner\n          in: query\n          required: true\n          schema:\n            type: string\n        - name: limit",
        )
        // Pet.id becomes a string
        .replace(
            "        id:\n          type: integer\n          format: int64",
            "        id:\n          type: string\n          format: uuid",
        )
        // an optional property
        .replace(
            "        tag:\n          type: string",
            "        tag:\n          type: string\n        color:\n          type: string",
        );
    let new = one(Format::OpenApi, "petstore.yaml", &changed);
    let changes = new.changes_since(&old);
    let b = breaking(&changes);
    assert!(
        b.contains(&"GET /pets/{petId}: operation removed".to_owned()),
        "{b:#?}"
    );
    assert!(
        b.contains(&"GET /pets → query parameter owner: new required parameter".to_owned()),
        "{b:#?}"
    );
    assert!(
        b.iter().any(
            |c| c.contains("POST /pets → request body.id: type changed from integer to string")
        ),
        "{b:#?}"
    );
    assert!(
        b.iter().any(|c| c
            .contains("GET /pets → response 200 → body[].id: type changed from integer to string")),
        "{b:#?}"
    );
    assert!(
        b.iter().any(|c| c.contains(".id: format changed")),
        "{b:#?}"
    );
    assert!(changes.iter().any(|c| !c.breaking
        && c.location.ends_with(".color")
        && c.message == "property \"color\" added"));
    assert!(
        changes
            .iter()
            .any(|c| !c.breaking && c.location == "PUT /pets/{petId}")
    );
}

#[test]
fn security_and_enum_changes() {
    let v1 = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},
      "paths":{"/a":{"get":{"operationId":"a","responses":{"200":{"description":"ok",
        "content":{"application/json":{"schema":{"type":"object","properties":{"state":{"type":"string","enum":["on","off","idle"]}}}}}}}}}}}"#;
    let v2 = v1.replace(r#""on","off","idle""#, r#""on","off""#).replace(
        r#""operationId":"a","#,
        r#""operationId":"a","security":[{"oauth":[]}],"#,
    );
    let a = one(Format::OpenApi, "a.json", v1);
    let b = one(Format::OpenApi, "a.json", &v2);
    let br = breaking(&b.changes_since(&a));
    assert!(
        br.contains(&r#"GET /a → response 200 → body.state: enum value "idle" removed"#.to_owned()),
        "{br:#?}"
    );
    assert!(
        br.contains(&r#"GET /a → security: security requirement "oauth" added"#.to_owned()),
        "{br:#?}"
    );
}

#[test]
fn every_openapi_problem_is_reported_with_its_position() {
    let doc = "openapi: 3.0.3\ninfo:\n  version: '1'\npaths:\n  /pets/{id}:\n    get:\n      parameters:\n        - name: q\n          in: body\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Missing'\n";
    let errs = errors(Format::OpenApi, &[file("api.yaml", doc)]);
    assert!(
        errs.contains(&"api.yaml:3:3: info.title is required (a string)".to_owned()),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.starts_with("api.yaml:8:")
            && e.contains("\"in\" must be query, header, path or cookie")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("api.yaml:7:")
                && e.contains("path parameter \"id\" is not declared")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("api.yaml:16:") && e.contains("points to nothing")),
        "{errs:#?}"
    );
}

#[test]
fn remote_refs_are_refused_without_fetching() {
    let doc = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    A:\n      $ref: 'http://169.254.169.254/latest/meta-data'\n    B:\n      $ref: 'other.yaml#/B'\n";
    let errs = errors(Format::OpenApi, &[file("api.yaml", doc)]);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("api.yaml:6:") && errs[0].contains("Orbit does not fetch URLs"),
        "{errs:#?}"
    );
}

#[test]
fn ref_cycles_are_refused_but_recursive_schemas_are_fine() {
    let cycle = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    A:\n      $ref: '#/components/schemas/B'\n    B:\n      $ref: '#/components/schemas/A'\n";
    let errs = errors(Format::OpenApi, &[file("api.yaml", cycle)]);
    assert!(errs.iter().any(|e| e.contains("$ref cycle")), "{errs:#?}");
    let tree = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /tree:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Node'}\ncomponents:\n  schemas:\n    Node:\n      type: object\n      properties:\n        children:\n          type: array\n          items: {$ref: '#/components/schemas/Node'}\n";
    let a = one(Format::OpenApi, "tree.yaml", tree);
    let b = one(
        Format::OpenApi,
        "tree.yaml",
        &tree.replace("type: array", "type: object"),
    );
    assert!(!breaking(&b.changes_since(&a)).is_empty());
}

#[test]
fn billion_laughs_and_deep_nesting_are_bounded() {
    let mut text =
        String::from("openapi: 3.1.0\na0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for i in 1..12 {
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    let started = std::time::Instant::now();
    let errs = errors(Format::OpenApi, &[file("laughs.yaml", &text)]);
    assert!(errs[0].contains("expands to more than"), "{errs:#?}");
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let errs = errors(Format::OpenApi, &[file("deep.json", &deep)]);
    assert!(
        errs[0].contains("nests deeper than") || errs[0].contains("recursion limit"),
        "{errs:#?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn invalid_yaml_is_reported() {
    let errs = errors(
        Format::OpenApi,
        &[file("bad.yaml", "openapi: 3.1.0\ninfo: [unclosed\n")],
    );
    assert!(
        errs[0].starts_with("bad.yaml:") && errs[0].contains("invalid YAML"),
        "{errs:#?}"
    );
}

const ASYNC_26: &str = "asyncapi: 2.6.0\ninfo: {title: Orders, version: '1'}\nchannels:\n  orders/created:\n    subscribe:\n      message:\n        name: OrderCreated\n        payload:\n          type: object\n          properties:\n            id: {type: string}\n            total: {type: number}\n  orders/cancelled:\n    subscribe:\n      message:\n        name: OrderCancelled\n        payload: {type: object}\n";

#[test]
fn asyncapi_versions_and_changes() {
    let a = one(Format::AsyncApi, "events.yaml", ASYNC_26);
    assert_eq!(a.operation_count(), 2);
    assert!(a.search_terms().contains(&"OrderCreated".to_owned()));
    let b = one(
        Format::AsyncApi,
        "events.yaml",
        &ASYNC_26
            .replace("  orders/cancelled:\n    subscribe:\n      message:\n        name: OrderCancelled\n        payload: {type: object}\n", "")
            .replace("total: {type: number}", "total: {type: string}"),
    );
    let br = breaking(&b.changes_since(&a));
    assert!(
        br.contains(&"channel orders/cancelled: channel removed".to_owned()),
        "{br:#?}"
    );
    assert!(
        br.iter()
            .any(|c| c.contains("message OrderCreated → payload.total: type changed")),
        "{br:#?}"
    );
    let v3 = "asyncapi: 3.0.0\ninfo: {title: Orders, version: '1'}\nchannels:\n  created:\n    address: orders.created\n    messages:\n      OrderCreated:\n        payload: {type: object}\n      OrderUpdated:\n        payload: {type: object}\noperations:\n  onCreated:\n    action: receive\n    channel: {$ref: '#/channels/created'}\n";
    let c = one(Format::AsyncApi, "v3.yaml", v3);
    let d = one(
        Format::AsyncApi,
        "v3.yaml",
        &v3.replace("      OrderUpdated:\n        payload: {type: object}\n", ""),
    );
    assert_eq!(
        breaking(&d.changes_since(&c)),
        ["channel created → message OrderUpdated: message removed"]
    );
    let errs = errors(
        Format::AsyncApi,
        &[file("x.yaml", "asyncapi: 1.2.0\ninfo: {title: x}\n")],
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
}

const PET_PROTO: &str = "syntax = \"proto3\";\npackage pets.v1;\nimport \"pets/v1/types.proto\";\n\n// Pets.\nservice PetService {\n  // Gets a pet.\n  rpc GetPet(GetPetRequest) returns (Pet);\n  rpc ListPets(ListPetsRequest) returns (ListPetsResponse);\n}\nmessage GetPetRequest { string id = 1; }\nmessage ListPetsRequest { int32 page_size = 1; string page_token = 2; }\nmessage ListPetsResponse { repeated Pet pets = 1; string next_page_token = 2; }\n";
const TYPES_PROTO: &str = "syntax = \"proto3\";\npackage pets.v1;\n// A pet.\nmessage Pet {\n  string id = 1;\n  // Its name.\n  string name = 2;\n  int64 born = 3;\n  Kind kind = 4;\n}\nenum Kind { KIND_UNSPECIFIED = 0; KIND_CAT = 1; KIND_DOG = 2; }\n";

fn protos(api: &str, types: &str) -> Vec<SpecFile> {
    vec![
        file("pets/v1/api.proto", api),
        file("pets/v1/types.proto", types),
    ]
}

#[test]
fn protobuf_files_compile_together() {
    let spec = validate(Format::Protobuf, &protos(PET_PROTO, TYPES_PROTO)).unwrap();
    assert_eq!(spec.title, "pets.v1");
    assert_eq!(spec.operation_count(), 2);
    let terms = spec.search_terms();
    for t in ["GetPet", "Pet", "next_page_token", "PetService"] {
        assert!(terms.contains(&t.to_owned()), "{t} missing");
    }
    let reference = spec.reference();
    let service = reference.iter().find(|r| r.kind == "service").unwrap();
    assert_eq!(service.description, "Pets.");
    assert_eq!(service.members[0].2, "Gets a pet.");
}

#[test]
fn protobuf_missing_import_and_syntax_errors() {
    let errs = errors(Format::Protobuf, &[file("pets/v1/api.proto", PET_PROTO)]);
    assert!(
        errs.iter().any(|e| e.starts_with("pets/v1/api.proto:3:")
            && e.contains("import \"pets/v1/types.proto\" not found")),
        "{errs:#?}"
    );
    let broken = "syntax = \"proto3\";\nmessage A { int32 = 1; }\nmessage B { int32 = 2; }\n";
    let errs = errors(
        Format::Protobuf,
        &[
            file("broken.proto", broken),
            file(
                "also.proto",
                "syntax = \"proto3\";\nmessage C { Unknown u = 1; }\n",
            ),
        ],
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("broken.proto:2:19: expected an identifier")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("broken.proto:3:19: expected an identifier")),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.starts_with("also.proto:2:")),
        "{errs:#?}"
    );
}

#[test]
fn protobuf_breaking_changes() {
    let old = validate(Format::Protobuf, &protos(PET_PROTO, TYPES_PROTO)).unwrap();
    let types = TYPES_PROTO
        .replace("  int64 born = 3;\n", "  reserved 3;\n")
        .replace("  Kind kind = 4;\n", "")
        .replace("string id = 1;", "int64 id = 1;")
        .replace(" KIND_DOG = 2;", "");
    let api = PET_PROTO.replace(
        "  rpc ListPets(ListPetsRequest) returns (ListPetsResponse);\n",
        "",
    );
    let new = validate(Format::Protobuf, &protos(&api, &types)).unwrap();
    let changes = new.changes_since(&old);
    let br = breaking(&changes);
    assert!(
        br.contains(
            &"message pets.v1.Pet field kind (4): field removed without reserving its number"
                .to_owned()
        ),
        "{br:#?}"
    );
    assert!(
        br.contains(
            &"message pets.v1.Pet field id (1): type changed from string to int64".to_owned()
        ),
        "{br:#?}"
    );
    assert!(
        br.contains(&"rpc pets.v1.PetService/ListPets: RPC removed".to_owned()),
        "{br:#?}"
    );
    assert!(
        br.contains(
            &"enum pets.v1.Kind value KIND_DOG: enum value removed or renumbered".to_owned()
        ),
        "{br:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| !c.breaking && c.message == "field removed; its number is reserved")
    );
    let renamed = validate(
        Format::Protobuf,
        &protos(
            &PET_PROTO.replace("package pets.v1;", "package pets.v2;"),
            &TYPES_PROTO.replace("package pets.v1;", "package pets.v2;"),
        ),
    )
    .unwrap();
    let br = breaking(&renamed.changes_since(&old));
    assert!(
        br.contains(&"package pets.v1: package renamed to pets.v2".to_owned()),
        "{br:#?}"
    );
    let moved = validate(
        Format::Protobuf,
        &protos(
            PET_PROTO,
            &TYPES_PROTO.replace("string name = 2;", "string name = 7;"),
        ),
    )
    .unwrap();
    assert!(
        breaking(&moved.changes_since(&old)).contains(
            &"message pets.v1.Pet field name (2): field renumbered from 2 to 7".to_owned()
        )
    );
}

const SDL: &str = "\"The root.\"\ntype Query {\n  pet(id: ID!): Pet\n  pets(first: Int): [Pet!]!\n}\ntype Mutation { addPet(input: PetInput!): Pet }\ninput PetInput { name: String!, tag: String }\n\"A pet.\"\ntype Pet { id: ID!, name: String!, kind: Kind }\nenum Kind { CAT DOG }\n";

#[test]
fn graphql_schema_and_changes() {
    let a = one(Format::GraphQl, "schema.graphql", SDL);
    assert_eq!(a.operation_count(), 3);
    assert!(a.search_terms().contains(&"addPet".to_owned()));
    let changed = SDL
        .replace("pets(first: Int)", "pets(first: Int, owner: String!)")
        .replace("tag: String }", "tag: String! }")
        .replace("kind: Kind }", "}")
        .replace("enum Kind { CAT DOG }", "enum Kind { CAT }");
    let b = one(Format::GraphQl, "schema.graphql", &changed);
    let br = breaking(&b.changes_since(&a));
    assert!(
        br.contains(&"Query.pets(owner): argument added as required".to_owned()),
        "{br:#?}"
    );
    assert!(
        br.contains(&"PetInput.tag: nullability tightened from String to String!".to_owned()),
        "{br:#?}"
    );
    assert!(
        br.contains(&"Pet.kind: field removed".to_owned()),
        "{br:#?}"
    );
    assert!(
        br.contains(&"Kind.DOG: enum value removed".to_owned()),
        "{br:#?}"
    );
    let gone = one(
        Format::GraphQl,
        "schema.graphql",
        &SDL.replace("type Mutation { addPet(input: PetInput!): Pet }\n", ""),
    );
    assert!(breaking(&gone.changes_since(&a)).contains(&"Mutation: type removed".to_owned()));
}

#[test]
fn graphql_errors_are_all_reported() {
    let errs = errors(
        Format::GraphQl,
        &[file(
            "s.graphql",
            "type Query {\n  a: Strin\n  b(: Int): Int\n}\ntype Query { c: Int }\n",
        )],
    );
    assert!(
        errs.iter().any(|e| e.starts_with("s.graphql:3:")),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("unknown type Strin")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("s.graphql:5:1") && e.contains("defined twice")),
        "{errs:#?}"
    );
}

/// Real-world OpenAPI documents shipped in npm packages (`scripts/test.sh` installs them and
/// sets ORBIT_API_CORPUS): each must validate, compare equal to itself, and report removing
/// an operation as breaking.
#[test]
fn real_world_corpus() {
    let Some(dir) = std::env::var_os("ORBIT_API_CORPUS") else {
        assert!(
            std::env::var_os("ORBIT_REQUIRE_SERVICES").is_none(),
            "ORBIT_API_CORPUS must be set when ORBIT_REQUIRE_SERVICES is"
        );
        eprintln!("SKIPPED: ORBIT_API_CORPUS is not set (scripts/test.sh installs the corpus)");
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("json" | "yaml" | "yml")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    let (mut checked, mut operations) = (0, 0);
    let mut failures = Vec::new();
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let head: String = text.chars().take(2000).collect();
        if !(head.contains("\"openapi\": \"3.")
            || head.contains("\"openapi\":\"3.")
            || head.contains("openapi: 3.")
            || head.contains("openapi: '3.")
            || head.contains("openapi: \"3."))
        {
            continue;
        }
        let name = p.display().to_string();
        match validate(Format::OpenApi, &[file(&name, &text)]) {
            Err(d) => failures.push(format!("{name}: {}", d[0])),
            Ok(spec) => {
                checked += 1;
                operations += spec.operation_count();
                assert!(
                    spec.changes_since(&spec).is_empty(),
                    "{name} differs from itself"
                );
            }
        }
    }
    eprintln!(
        "corpus: {checked} OpenAPI documents valid, {operations} operations; {} refused",
        failures.len()
    );
    for f in &failures {
        eprintln!("  refused: {f}");
    }
    assert!(
        checked >= 10,
        "expected at least 10 real documents, found {checked}"
    );
    // GitHub's REST API: the whole document, and two consecutive GHES releases compared.
    if let Some(gh) = std::env::var_os("ORBIT_GITHUB_OPENAPI") {
        let gh = std::path::PathBuf::from(gh);
        let load = |name: &str| {
            let text = std::fs::read_to_string(gh.join(name)).unwrap();
            let started = std::time::Instant::now();
            let spec = validate(Format::OpenApi, &[file(name, &text)])
                .unwrap_or_else(|d| panic!("{name}: {:#?}", &d[..d.len().min(5)]));
            eprintln!(
                "{name}: {} operations, validated in {:?}",
                spec.operation_count(),
                started.elapsed()
            );
            spec
        };
        let dotcom = load("api.github.com.json");
        assert!(dotcom.operation_count() > 800);
        let (a, b) = (load("ghes-3.17.json"), load("ghes-3.18.json"));
        let started = std::time::Instant::now();
        let changes = b.changes_since(&a);
        let nb = changes.iter().filter(|c| c.breaking).count();
        eprintln!(
            "ghes 3.17 → 3.18: {} changes, {nb} breaking, compared in {:?}",
            changes.len(),
            started.elapsed()
        );
        for c in changes.iter().filter(|c| c.breaking).take(10) {
            eprintln!("  breaking: {}: {}", c.location, c.message);
        }
        assert!(changes.iter().any(|c| c.message == "operation added"));
    }
}
