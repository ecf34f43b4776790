//! The workflow-engine contract that every engine keeps (`tests/src/workflow_contract.rs` of
//! the workspace, compiled into this test as is), on Temporal. Skipped unless
//! `ORBIT_TEST_TEMPORAL_ADDRESS` is set.

#[path = "../../../tests/src/workflow_contract.rs"]
#[allow(dead_code)]
mod workflow_contract;

use orbit_core::{UserId, WorkspaceId};
use orbit_ports::WorkflowRegistry;
use orbit_temporal::{TemporalConfig, TemporalEngine, run_worker};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporal_engine_keeps_the_contract() {
    let Some(address) = std::env::var("ORBIT_TEST_TEMPORAL_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty())
    else {
        println!(
            "SKIPPED: temporal_engine_keeps_the_contract: ORBIT_TEST_TEMPORAL_ADDRESS is not set"
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
    let config = TemporalConfig {
        address,
        namespace: "default".into(),
        task_queue: format!("orbit-contract-{unique}"),
    };
    let registry = WorkflowRegistry::default()
        .definition(Arc::new(orbit_workflows::demo::StepsWorkflow))
        .activity(Arc::new(orbit_workflows::demo::StepActivity));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(run_worker(config.clone(), registry, async move {
        let _ = stopped.await;
    }));
    let engine = TemporalEngine::connect(config).await.expect("connect");
    let effects = tempfile::tempdir().unwrap();
    let ws = WorkspaceId::new(format!("contract-{unique}"));
    let other = WorkspaceId::new(format!("contract-other-{unique}"));
    workflow_contract::run(
        &engine,
        &ws,
        &other,
        &UserId::new("contract-user"),
        effects.path(),
        "t-",
    )
    .await;
    workflow_contract::run_parallel(
        &engine,
        &ws,
        &UserId::new("contract-user"),
        effects.path(),
        "t-",
    )
    .await;
    let _ = stop.send(());
    worker.await.unwrap().expect("the worker stops cleanly");
}
