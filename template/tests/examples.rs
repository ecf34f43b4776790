//! The example templates under `examples/templates/` render into projects that build:
//! the Rust service passes `cargo check`, the TypeScript service `tsc --noEmit`.

mod support;

use orbit_template::{Limits, Manifest, render};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use support::{example, manifest_of, params};

fn write_tree(dir: &Path, files: &[orbit_template::RenderedFile]) {
    for f in files {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &f.content).unwrap();
    }
}

fn paths(files: &[orbit_template::RenderedFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn rust_service_renders_and_builds() {
    let files = example("rust-service");
    let manifest = Manifest::parse(&manifest_of(&files)).unwrap();
    assert_eq!(manifest.name, "rust-service");
    let values = manifest
        .validate(&params(&[
            ("name", json!("billing-api")),
            ("owner", json!("team-billing")),
            ("port", json!("9090")),
            ("replicas", json!(3)),
            ("description", json!("Bills \"customers\"")),
        ]))
        .unwrap();
    let out = render(&manifest, &files, &values, &Limits::default()).unwrap();
    assert_eq!(
        paths(&out),
        [
            ".gitignore",
            "Cargo.toml",
            "Dockerfile",
            "README.md",
            "assets/logo.png",
            "k8s/deployment.yaml",
            "k8s/service.yaml",
            "src/main.rs"
        ]
    );
    let get = |p: &str| {
        String::from_utf8_lossy(&out.iter().find(|f| f.path == p).unwrap().content).into_owned()
    };
    let deployment = get("k8s/deployment.yaml");
    assert!(deployment.contains("replicas: 3\n"), "{deployment}");
    assert!(deployment.contains("containerPort: 9090\n"), "{deployment}");
    assert!(
        deployment.contains("environment: development\n"),
        "defaults apply"
    );
    assert!(get("README.md").contains("Topics: rust, service"));
    assert!(get("Cargo.toml").contains("name = \"billing-api\""));
    // The binary file is copied byte for byte.
    let logo = out.iter().find(|f| f.path == "assets/logo.png").unwrap();
    assert!(logo.verbatim);
    let original = files
        .iter()
        .find(|(p, _)| p == "skeleton/assets/logo.png")
        .unwrap();
    assert_eq!(logo.content, original.1);

    // The rendered project compiles (no dependencies: nothing is downloaded).
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &out);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--quiet", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo check of the rendered Rust service");

    // Without Kubernetes, the manifests are left out.
    let values = manifest
        .validate(&params(&[
            ("name", json!("tiny")),
            ("owner", json!("me")),
            ("kubernetes", json!(false)),
        ]))
        .unwrap();
    let out = render(&manifest, &files, &values, &Limits::default()).unwrap();
    assert!(!paths(&out).iter().any(|p| p.starts_with("k8s/")));
    assert!(
        !String::from_utf8_lossy(&out.iter().find(|f| f.path == "README.md").unwrap().content)
            .contains("kubectl")
    );
}

#[test]
fn typescript_service_renders_and_type_checks() {
    let files = example("typescript-service");
    let manifest = Manifest::parse(&manifest_of(&files)).unwrap();
    let values = manifest
        .validate(&params(&[
            ("name", json!("web-shop")),
            ("owner", json!("team-web")),
            ("routes", json!("/shop, /cart")),
        ]))
        .unwrap();
    let out = render(&manifest, &files, &values, &Limits::default()).unwrap();
    assert_eq!(
        paths(&out),
        [
            ".gitignore",
            "Dockerfile",
            "README.md",
            "k8s/deployment.yaml",
            "k8s/service.yaml",
            "package.json",
            "src/server.ts",
            "tsconfig.json"
        ]
    );
    let server = String::from_utf8_lossy(
        &out.iter()
            .find(|f| f.path == "src/server.ts")
            .unwrap()
            .content,
    )
    .into_owned();
    assert!(
        server.contains("const ROUTES: string[] = [\"/shop\", \"/cart\"];"),
        "{server}"
    );
    let package: serde_json::Value = serde_json::from_slice(
        &out.iter()
            .find(|f| f.path == "package.json")
            .unwrap()
            .content,
    )
    .expect("package.json is valid JSON");
    assert_eq!(package["name"], "web-shop");

    // Type-check with the TypeScript compiler and Node.js types of the repository's own
    // TypeScript client (installed by `npm ci` in clients/ts, which scripts/test.sh runs).
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/ts/node_modules");
    let tsc = client.join(".bin/tsc");
    if !tsc.exists() || !client.join("@types/node").exists() {
        eprintln!("SKIPPED: tsc --noEmit of the rendered service (run npm ci in clients/ts)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &out);
    std::os::unix::fs::symlink(&client, dir.path().join("node_modules")).unwrap();
    let output = Command::new(&tsc)
        .args(["--noEmit", "-p", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tsc --noEmit: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
