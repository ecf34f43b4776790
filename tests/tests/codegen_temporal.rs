//! `orbit.api.codegen` on Temporal (the dev server started by `scripts/lib/temporal.sh`):
//! the same definition and activities as on the embedded engine, run by an Orbit worker. A
//! language whose generator is missing fails alone; the others are generated and stored.
//! Skipped unless `ORBIT_TEST_TEMPORAL_ADDRESS` and `ORBIT_GENERATORS_DIR` are set.

use orbit_codegen::{GeneratorCli, GeneratorConfig};
use orbit_core::workflow::{RunId, RunStatus};
use orbit_core::{UserId, WorkspaceId};
use orbit_ports::{ObjectStore, StartRun, WorkflowEngine, WorkflowRegistry};
use orbit_temporal::{TemporalConfig, TemporalEngine, run_worker};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codegen_runs_on_temporal_with_per_language_failures() {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(address), Some(generators)) = (
        var("ORBIT_TEST_TEMPORAL_ADDRESS"),
        var("ORBIT_GENERATORS_DIR").map(PathBuf::from),
    ) else {
        assert!(
            !orbit_tests::postgres::services_required(),
            "ORBIT_TEST_TEMPORAL_ADDRESS or ORBIT_GENERATORS_DIR is not set but ORBIT_REQUIRE_SERVICES=1"
        );
        println!(
            "SKIPPED: codegen on Temporal needs ORBIT_TEST_TEMPORAL_ADDRESS and ORBIT_GENERATORS_DIR"
        );
        return;
    };
    let unique = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    // Only protoc and protoc-gen-es are installed for this worker: Rust cannot be generated.
    let bin = tempfile::tempdir().unwrap();
    std::fs::create_dir(bin.path().join("bin")).unwrap();
    for tool in ["protoc", "protoc-gen-es"] {
        std::os::unix::fs::symlink(
            generators.join("bin").join(tool),
            bin.path().join("bin").join(tool),
        )
        .unwrap();
    }
    let generator = Arc::new(GeneratorCli::new(GeneratorConfig {
        search_path: false,
        ..GeneratorConfig::new(bin.path())
    }));
    let storage = tempfile::tempdir().unwrap();
    let objects: Arc<dyn ObjectStore> =
        Arc::new(orbit_storage::FilesystemStore::new(storage.path()));
    let mut registry =
        WorkflowRegistry::default().definition(Arc::new(orbit_workflows::codegen::CodegenWorkflow));
    for activity in orbit_services::codegen::CodegenActivity::all(
        generator,
        objects.clone(),
        Arc::new(orbit_system::SystemClock),
    ) {
        registry = registry.activity(Arc::new(activity));
    }
    let config = TemporalConfig {
        address,
        namespace: "default".into(),
        task_queue: format!("orbit-codegen-{unique}"),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(run_worker(config.clone(), registry, async move {
        let _ = stopped.await;
    }));
    let engine = TemporalEngine::connect(config).await.expect("connect");
    let ws = WorkspaceId::new(format!("codegen-{unique}"));
    let input = serde_json::json!({
        "workspace_id": ws.as_str(), "api_id": "pets", "version": "1.0.0", "format": "protobuf",
        "files": [{"path": "pets.proto", "content": "syntax = \"proto3\";\npackage pets;\nmessage Pet { string name = 1; }\n"}],
        "languages": ["typescript", "rust"],
    });
    let id = RunId::new(format!("codegen-{unique}"));
    engine
        .start(StartRun {
            id: id.clone(),
            workspace_id: ws.clone(),
            kind: orbit_workflows::codegen::KIND.into(),
            input: input.to_string(),
            started_by: UserId::new("codegen-user"),
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let run = engine.get(&ws, &id).await.unwrap().expect("the run exists");
        if matches!(run.status, RunStatus::Succeeded | RunStatus::Failed) {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not end: {run:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let out: orbit_workflows::codegen::CodegenOutput =
        serde_json::from_str(run.result.as_deref().unwrap()).unwrap();
    let ts = out
        .results
        .iter()
        .find(|r| r.language == "typescript")
        .unwrap();
    assert_eq!(ts.status, "succeeded", "{ts:?}");
    let rust = out.results.iter().find(|r| r.language == "rust").unwrap();
    assert_eq!(rust.status, "failed");
    assert!(
        rust.error
            .as_deref()
            .unwrap()
            .contains("scripts/install-generators.sh"),
        "{rust:?}"
    );
    // The TypeScript archive is in storage, complete.
    let artifact = ts.artifact.as_ref().unwrap();
    let zip = objects.get_bytes(&artifact.key).await.unwrap();
    assert_eq!(zip.len() as u64, artifact.size);
    assert!(zip.starts_with(b"PK"));
    let _ = stop.send(());
    worker.await.unwrap().expect("the worker stops cleanly");
}
