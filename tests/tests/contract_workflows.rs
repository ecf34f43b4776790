//! The workflow-engine contract on the embedded engine, over every store.

use orbit_core::{Membership, Role, Timestamp, User, UserId, Workspace, WorkspaceId};
use orbit_ports::{UserStore, WorkflowRegistry, WorkflowStore, WorkspaceStore};
use orbit_tests::{postgres, workflow_contract};
use std::sync::Arc;

fn registry() -> WorkflowRegistry {
    WorkflowRegistry::default()
        .definition(Arc::new(orbit_workflows::demo::StepsWorkflow))
        .activity(Arc::new(orbit_workflows::demo::StepActivity))
}

async fn setup<S: WorkspaceStore + UserStore>(s: &S) -> (WorkspaceId, WorkspaceId, UserId) {
    let user = User {
        id: UserId::new("wf-user"),
        login: orbit_core::Login::parse("wfuser").unwrap(),
        display_name: "wf".into(),
        email: String::new(),
        instance_admin: false,
        created_at: Timestamp(1),
    };
    s.create_user(&user).await.unwrap();
    for (id, slug) in [("wf-w1", "wf-one"), ("wf-w2", "wf-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: user.id.clone(),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
    (
        WorkspaceId::new("wf-w1"),
        WorkspaceId::new("wf-w2"),
        user.id,
    )
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn run_on<S: WorkspaceStore + UserStore + WorkflowStore>(store: Arc<S>) {
    let (ws, other, user) = setup(&*store).await;
    let engine = orbit_workflow_embedded::EmbeddedEngine::start(
        store,
        registry(),
        Arc::new(orbit_system::SystemClock),
        orbit_workflow_embedded::EmbeddedConfig::default(),
    );
    let effects = tempdir("wf-effects");
    workflow_contract::run(&engine, &ws, &other, &user, &effects, "t-").await;
    workflow_contract::run_parallel(&engine, &ws, &user, &effects, "t-").await;
}

/// Parallel calls and a crash: the engine runs on its own runtime, which is shut down (every
/// task dropped, the running activity with it) while one of three parallel steps still works;
/// a new engine on the same store resumes the run and runs only the unfinished step.
async fn parallel_run_survives_a_crash<S: WorkspaceStore + UserStore + WorkflowStore>(
    store: Arc<S>,
) {
    use orbit_core::workflow::{RunId, RunStatus};
    use orbit_ports::{StartRun, WorkflowEngine};
    let (ws, _, user) = setup(&*store).await;
    let effects = tempdir("wf-crash");
    let first_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let first = {
        let _inside = first_runtime.enter();
        orbit_workflow_embedded::EmbeddedEngine::start(
            store.clone(),
            registry(),
            Arc::new(orbit_system::SystemClock),
            orbit_workflow_embedded::EmbeddedConfig::default(),
        )
    };
    let start = StartRun {
        id: RunId::new("crash"),
        workspace_id: ws.clone(),
        kind: orbit_workflows::demo::KIND.into(),
        input: serde_json::json!({
            "steps": 3, "parallel": true, "effects_dir": effects.to_string_lossy(),
            "step_sleep_ms": {"2": 4000},
        })
        .to_string(),
        started_by: user.clone(),
    };
    let engine = first.clone();
    first_runtime
        .spawn(async move { engine.start(start).await })
        .await
        .unwrap()
        .unwrap();
    let before = workflow_contract::wait_for(&first, &ws, "crash", "two steps done", |r| {
        r.steps_done >= 2
    })
    .await;
    assert_eq!(before.status, RunStatus::Running, "{before:?}");
    let mut lines = workflow_contract::effects(&effects, "crash");
    lines.sort();
    assert_eq!(lines, [(1, 1), (3, 1)], "steps 1 and 3 ended, step 2 works");
    // The crash: every task of the first engine's runtime is dropped mid-step.
    first_runtime.shutdown_background();

    let second = orbit_workflow_embedded::EmbeddedEngine::start(
        store,
        registry(),
        Arc::new(orbit_system::SystemClock),
        orbit_workflow_embedded::EmbeddedConfig::default(),
    );
    assert_eq!(second.resume_unfinished().await.unwrap(), 1);
    let done = workflow_contract::finished(&second, &ws, "crash").await;
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");
    let result: serde_json::Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(
        result["outputs"],
        serde_json::json!(["step 1 done", "step 2 done", "step 3 done"])
    );
    assert_eq!(
        workflow_contract::effects(&effects, "crash"),
        [(1, 1), (3, 1), (2, 1)],
        "steps 1 and 3 did not run again; step 2 ran once to its end"
    );
    assert!(
        done.events
            .iter()
            .any(|e| e.message.contains("resumed after a restart")),
        "{:?}",
        done.events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_parallel_run_survives_a_crash_on_memory() {
    parallel_run_survives_a_crash(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_parallel_run_survives_a_crash_on_sqlite() {
    let store = orbit_sqlite::SqliteStore::open_file(&tempdir("wf-crash-sqlite").join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    parallel_run_survives_a_crash(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_engine_on_memory_keeps_the_contract() {
    run_on(Arc::new(orbit_memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_engine_on_sqlite_keeps_the_contract() {
    let store = orbit_sqlite::SqliteStore::open_file(&tempdir("wf-sqlite").join("orbit.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    run_on(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_engine_on_postgres_keeps_the_contract() {
    let Some(server) = postgres::server_url() else {
        return;
    };
    let name = postgres::fresh_database_name("workflows");
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&server)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let store = orbit_postgres::PostgresStore::connect(&postgres::with_database(&server, &name), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    run_on(Arc::new(store)).await;
}
