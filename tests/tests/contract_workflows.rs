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
    workflow_contract::run(&engine, &ws, &other, &user, &tempdir("wf-effects"), "t-").await;
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
