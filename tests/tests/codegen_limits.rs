//! The generator adapter's bounds, with the real generators: a missing tool is a clear
//! error naming the install script, a generator that outlives its time limit is killed, one
//! whose output outgrows the size limit is stopped, and schema paths cannot leave the sandbox.

use orbit_codegen::{GeneratorCli, GeneratorConfig};
use orbit_ports::{ClientGenerator, GenerateError, GenerateRequest, SourceFile};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn generators() -> Option<PathBuf> {
    match std::env::var_os("ORBIT_GENERATORS_DIR") {
        Some(dir) if PathBuf::from(&dir).join("bin").is_dir() => Some(PathBuf::from(dir)),
        _ => {
            assert!(
                !orbit_tests::postgres::services_required(),
                "ORBIT_GENERATORS_DIR is not set but ORBIT_REQUIRE_SERVICES=1"
            );
            eprintln!(
                "SKIPPED: needs the generators (scripts/install-generators.sh, ORBIT_GENERATORS_DIR)"
            );
            None
        }
    }
}

fn openapi(language: &str) -> GenerateRequest {
    GenerateRequest {
        format: "openapi".into(),
        language: language.into(),
        package: "limits".into(),
        files: vec![SourceFile {
            path: "openapi.yaml".into(),
            content: "openapi: 3.0.3\ninfo: {title: Limits, version: 1.0.0}\npaths:\n  /things:\n    get:\n      operationId: listThings\n      responses:\n        \"200\":\n          description: things\n          content:\n            application/json:\n              schema: {type: array, items: {type: object, properties: {id: {type: string}, name: {type: string}}}}\n".into(),
        }],
    }
}

#[tokio::test]
async fn a_missing_generator_names_the_install_script() {
    let empty = tempfile::tempdir().unwrap();
    let cli = GeneratorCli::new(GeneratorConfig {
        search_path: false,
        ..GeneratorConfig::new(empty.path())
    });
    let zip = empty.path().join("out.zip");
    for language in ["typescript", "python", "go", "java", "rust"] {
        let err = cli.generate(&openapi(language), &zip).await.unwrap_err();
        match err {
            GenerateError::NotInstalled(message) => {
                assert!(
                    message.contains("scripts/install-generators.sh"),
                    "{message}"
                )
            }
            other => panic!("{language}: {other:?}"),
        }
    }
    assert!(!zip.exists());
}

#[tokio::test]
async fn a_generator_that_runs_too_long_is_killed() {
    let Some(dir) = generators() else { return };
    let cli = GeneratorCli::new(GeneratorConfig {
        time_limit: Duration::from_millis(300),
        ..GeneratorConfig::new(&dir)
    });
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // openapi-generator is a JVM: it cannot even start in 300 ms.
    let err = cli
        .generate(&openapi("java"), &out.path().join("x.zip"))
        .await
        .unwrap_err();
    assert!(matches!(err, GenerateError::TimedOut { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(!out.path().join("x.zip").exists());
}

#[tokio::test]
async fn a_generator_whose_output_is_too_large_is_stopped() {
    let Some(dir) = generators() else { return };
    let cli = GeneratorCli::new(GeneratorConfig {
        max_output_bytes: 200,
        ..GeneratorConfig::new(&dir)
    });
    let out = tempfile::tempdir().unwrap();
    let err = cli
        .generate(&openapi("typescript"), &out.path().join("x.zip"))
        .await
        .unwrap_err();
    assert_eq!(err, GenerateError::OutputTooLarge { limit: 200 });
    assert!(!out.path().join("x.zip").exists());
}

#[tokio::test]
async fn schema_paths_cannot_leave_the_sandbox() {
    let empty = tempfile::tempdir().unwrap();
    let cli = GeneratorCli::new(GeneratorConfig::new(empty.path()));
    for path in ["../escape.yaml", "/etc/escape.yaml", "a/../../escape.yaml"] {
        let mut request = openapi("typescript");
        request.files[0].path = path.into();
        let err = cli
            .generate(&request, &empty.path().join("x.zip"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, GenerateError::Unsupported(_)),
            "{path}: {err:?}"
        );
    }
    assert!(!std::env::temp_dir().join("escape.yaml").exists());
}

#[tokio::test]
async fn a_generator_error_carries_its_stderr() {
    let Some(dir) = generators() else { return };
    let cli = GeneratorCli::new(GeneratorConfig::new(&dir));
    let out = tempfile::tempdir().unwrap();
    let request = GenerateRequest {
        format: "protobuf".into(),
        language: "typescript".into(),
        package: "broken".into(),
        files: vec![SourceFile {
            path: "broken.proto".into(),
            content: "syntax = \"proto3\";\nmessage Broken { strin name = 1; }\n".into(),
        }],
    };
    match cli.generate(&request, &out.path().join("x.zip")).await {
        Err(GenerateError::Failed { message, stderr }) => {
            assert!(message.contains("protoc exited"), "{message}");
            assert!(stderr.contains("broken.proto:2"), "{stderr}");
        }
        other => panic!("{other:?}"),
    }
}
