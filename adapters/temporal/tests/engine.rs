//! The Temporal engine against a real Temporal server (`temporal server start-dev`; see
//! `scripts/lib/temporal.sh`). Skipped unless `ORBIT_TEST_TEMPORAL_ADDRESS` is set.
//!
//! Each test runs its own worker (in-process, or as a separate process for the crash test) on
//! its own task queue, in its own workspace, with the demo registry (`orbit.demo.steps`).

use async_trait::async_trait;
use orbit_core::workflow::{RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, UserId, WorkspaceId};
use orbit_ports::{
    Activity, ActivityContext, ActivityError, ActivityOptions, EngineError, RunFilter, StartRun,
    WorkflowContext, WorkflowDefinition, WorkflowEngine, WorkflowFailure, WorkflowRegistry,
};
use orbit_temporal::{TemporalConfig, TemporalEngine, run_worker};
use orbit_workflows::demo::{KIND, StepActivity, StepsResult, StepsWorkflow};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const ENV: &str = "ORBIT_TEST_TEMPORAL_ADDRESS";

fn address(test: &str) -> Option<String> {
    match std::env::var(ENV) {
        Ok(a) if !a.is_empty() => Some(a),
        _ => {
            println!(
                "SKIPPED: {test}: {ENV} is not set (source scripts/lib/temporal.sh; orbit_start_temporal DIR)"
            );
            None
        }
    }
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn registry() -> WorkflowRegistry {
    WorkflowRegistry::default()
        .definition(Arc::new(StepsWorkflow))
        .activity(Arc::new(StepActivity))
        .definition(Arc::new(WaitWorkflow))
        .activity(Arc::new(WaitForCancel))
}

/// `orbit.test.wait`: one call of `orbit.test.wait_for_cancel` with a file path as input.
struct WaitWorkflow;

#[async_trait(?Send)]
impl WorkflowDefinition for WaitWorkflow {
    fn kind(&self) -> &'static str {
        "orbit.test.wait"
    }
    fn validate(&self, _input: &str) -> Result<(), String> {
        Ok(())
    }
    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure> {
        let options = ActivityOptions {
            timeout: Duration::from_secs(120),
            ..ActivityOptions::default()
        };
        ctx.call("orbit.test.wait_for_cancel", input, options).await
    }
}

/// Works until its `CancelFlag` is set, then writes the file named by its input.
struct WaitForCancel;

#[async_trait]
impl Activity for WaitForCancel {
    fn name(&self) -> &'static str {
        "orbit.test.wait_for_cancel"
    }
    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let path: String =
            serde_json::from_str(&input).map_err(|e| ActivityError::NonRetryable(e.to_string()))?;
        while !ctx.cancel.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::fs::write(&path, ctx.idempotency_key.as_bytes())
            .map_err(|e| ActivityError::Retryable(e.to_string()))?;
        Err(ActivityError::Retryable("cancelled".into()))
    }
}

/// An engine, and a worker running in this process on a task queue of the test's own.
struct Harness {
    engine: TemporalEngine,
    config: TemporalConfig,
    workspace: WorkspaceId,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<JoinHandle<Result<(), EngineError>>>,
}

impl Harness {
    async fn new(address: String, name: &str) -> Harness {
        let config = TemporalConfig {
            address,
            namespace: "default".into(),
            task_queue: unique(&format!("orbit-{name}")),
        };
        let engine = TemporalEngine::connect(config.clone())
            .await
            .expect("connect");
        let mut harness = Harness {
            engine,
            config,
            workspace: WorkspaceId::new(unique(name)),
            stop: None,
            worker: None,
        };
        harness.start_worker();
        harness
    }

    /// An engine only: the worker runs elsewhere.
    async fn without_worker(address: String, name: &str) -> Harness {
        let config = TemporalConfig {
            address,
            namespace: "default".into(),
            task_queue: unique(&format!("orbit-{name}")),
        };
        let engine = TemporalEngine::connect(config.clone())
            .await
            .expect("connect");
        Harness {
            engine,
            config,
            workspace: WorkspaceId::new(unique(name)),
            stop: None,
            worker: None,
        }
    }

    fn start_worker(&mut self) {
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = rx.await;
        };
        self.worker = Some(tokio::spawn(run_worker(
            self.config.clone(),
            registry(),
            shutdown,
        )));
        self.stop = Some(tx);
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(worker) = self.worker.take() {
            let result = tokio::time::timeout(Duration::from_secs(30), worker)
                .await
                .expect("the worker stops within 30 s");
            result
                .expect("the worker task does not panic")
                .expect("the worker stops cleanly");
        }
    }

    async fn start(&self, id: &str, input: serde_json::Value) -> (WorkflowRun, bool) {
        self.start_kind(id, KIND, input).await.expect("start")
    }

    async fn start_kind(
        &self,
        id: &str,
        kind: &str,
        input: serde_json::Value,
    ) -> Result<(WorkflowRun, bool), EngineError> {
        self.engine
            .start(StartRun {
                id: RunId::new(id),
                workspace_id: self.workspace.clone(),
                kind: kind.into(),
                input: input.to_string(),
                started_by: UserId::new("user-1"),
            })
            .await
    }

    async fn get(&self, id: &str) -> WorkflowRun {
        self.engine
            .get(&self.workspace, &RunId::new(id))
            .await
            .expect("get")
            .expect("the run exists")
    }

    /// Polls `get` until `done` holds (or panics after `within`).
    async fn wait(
        &self,
        id: &str,
        within: Duration,
        done: impl Fn(&WorkflowRun) -> bool,
    ) -> WorkflowRun {
        let deadline = Instant::now() + within;
        loop {
            let run = self.get(id).await;
            if done(&run) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} did not get there within {within:?}; last seen: {run:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_finished(&self, id: &str, within: Duration) -> WorkflowRun {
        self.wait(id, within, |r| r.status.is_finished()).await
    }
}

impl Harness {
    /// Lists until the ids are `expected` (visibility is eventually consistent), then returns
    /// the runs; panics after 10 s.
    async fn list_ids(
        &self,
        kind: Option<&str>,
        status: Option<RunStatus>,
        page: PageRequest,
        expected: &[&str],
    ) -> Vec<WorkflowRun> {
        let filter = RunFilter {
            kind: kind.map(str::to_owned),
            status,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let runs = self
                .engine
                .list(&self.workspace, &filter, &page)
                .await
                .expect("list");
            let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
            if ids == expected {
                return runs;
            }
            assert!(
                Instant::now() < deadline,
                "list {filter:?} {page:?}: {ids:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn effects(dir: &Path, run: &str) -> Vec<(u32, u32)> {
    let path = dir.join(format!("{run}.log"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            (parts[1].parse().unwrap(), parts[2].parse().unwrap())
        })
        .collect()
}

fn count(lines: &[(u32, u32)], step: u32) -> usize {
    lines.iter().filter(|(s, _)| *s == step).count()
}

fn outputs(n: u32) -> StepsResult {
    StepsResult {
        steps: n,
        outputs: (1..=n).map(|i| format!("step {i} done")).collect(),
    }
}

fn result_of(run: &WorkflowRun) -> StepsResult {
    serde_json::from_str(run.result.as_deref().expect("a result")).expect("the result is JSON")
}

macro_rules! skip_unless_temporal {
    ($name:expr) => {
        match address($name) {
            Some(a) => a,
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_step_run_succeeds_with_progress_and_events() {
    let address = skip_unless_temporal!("a_three_step_run_succeeds_with_progress_and_events");
    let h = Harness::new(address, "three").await;
    let input = serde_json::json!({ "steps": 3 });
    let (started, created) = h.start("run-1", input.clone()).await;
    assert!(created);
    assert_eq!(started.id.as_str(), "run-1");
    assert_eq!(started.workspace_id, h.workspace);
    assert_eq!(started.kind, KIND);
    assert_eq!(started.input, input.to_string());
    assert!(!started.status.is_finished());

    let run = h.wait_finished("run-1", Duration::from_secs(60)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(result_of(&run), outputs(3));
    assert_eq!((run.steps_done, run.steps_total), (3, 3));
    assert_eq!(run.current_step, orbit_workflows::demo::STEP);
    assert_eq!(run.attempt, 1);
    assert_eq!(run.error, None);
    assert_eq!(run.started_by, UserId::new("user-1"));
    assert_eq!(run.input, input.to_string());
    assert!(!run.cancel_requested);
    let messages: Vec<&str> = run.events.iter().map(|e| e.message.as_str()).collect();
    assert!(messages.contains(&"all 3 steps done"), "{messages:?}");
    assert_eq!(messages.last(), Some(&"succeeded"));
    assert!(
        run.events
            .iter()
            .all(|e| e.at.millis() >= run.created_at.millis() - 1000),
        "{run:#?}"
    );
    assert!(run.updated_at >= run.created_at);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_the_same_id_twice_returns_the_existing_run() {
    let address = skip_unless_temporal!("starting_the_same_id_twice_returns_the_existing_run");
    let h = Harness::new(address, "twice").await;
    let input = serde_json::json!({ "steps": 2 });
    let (first, created) = h.start("same", input.clone()).await;
    assert!(created);
    let (second, created) = h.start("same", input.clone()).await;
    assert!(!created);
    assert_eq!(second.id, first.id);
    assert_eq!(second.created_at, first.created_at);
    h.wait_finished("same", Duration::from_secs(60)).await;
    // Also once it has finished.
    let (third, created) = h.start("same", input).await;
    assert!(!created);
    assert_eq!(third.status, RunStatus::Succeeded);
    // Another input under the same id is a conflict.
    let err = h
        .start_kind("same", KIND, serde_json::json!({ "steps": 5 }))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_and_each_step_runs_once() {
    let address = skip_unless_temporal!("retryable_failures_are_retried_and_each_step_runs_once");
    let h = Harness::new(address, "retryable").await;
    let dir = tempfile::tempdir().unwrap();
    let input = serde_json::json!({
        "steps": 3,
        "fail_times": { "2": 2 },
        "effects_dir": dir.path().to_str().unwrap(),
    });
    h.start("flaky", input).await;
    let run = h.wait_finished("flaky", Duration::from_secs(60)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(result_of(&run), outputs(3));
    let lines = effects(dir.path(), "flaky");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines,
        vec![(1, 1), (2, 3), (3, 1)],
        "step 2 succeeded on its third attempt"
    );
    assert_eq!(run.attempt, 1, "activity attempts are not run retries");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_retryable_failure_waits_and_retry_resumes_from_the_failed_step() {
    let address = skip_unless_temporal!(
        "a_non_retryable_failure_waits_and_retry_resumes_from_the_failed_step"
    );
    let h = Harness::new(address, "resume").await;
    let dir = tempfile::tempdir().unwrap();
    let unblock = dir.path().join("unblock");
    let input = serde_json::json!({
        "steps": 3,
        "fail_at": 2,
        "unless_file": unblock.to_str().unwrap(),
        "effects_dir": dir.path().to_str().unwrap(),
    });
    h.start("broken", input).await;
    let failed = h
        .wait("broken", Duration::from_secs(60), |r| {
            r.status == RunStatus::Failed
        })
        .await;
    let error = failed.error.clone().expect("an error");
    assert!(error.contains("step 2 is set to fail"), "{error}");
    assert_eq!(failed.steps_done, 1);
    assert_eq!(failed.attempt, 1);
    // Failed runs show up as failed in the list too.
    let listed = h
        .list_ids(
            None,
            Some(RunStatus::Failed),
            PageRequest::first(10),
            &["broken"],
        )
        .await;
    assert_eq!(listed[0].error.as_deref(), Some(error.as_str()));

    std::fs::write(&unblock, b"").unwrap();
    let retried = h
        .engine
        .retry(&h.workspace, &RunId::new("broken"))
        .await
        .expect("retry");
    assert_eq!(retried.attempt, 2);
    let run = h.wait_finished("broken", Duration::from_secs(60)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(result_of(&run), outputs(3));
    assert_eq!(run.attempt, 2);
    assert_eq!(run.error, None);
    let lines = effects(dir.path(), "broken");
    assert_eq!(
        (count(&lines, 1), count(&lines, 2), count(&lines, 3)),
        (1, 1, 1),
        "{lines:?}"
    );

    // Neither a finished run can be cancelled, nor a succeeded one retried.
    let err = h
        .engine
        .retry(&h.workspace, &RunId::new("broken"))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::FailedPrecondition(_)), "{err:?}");
    let err = h
        .engine
        .cancel(&h.workspace, &RunId::new("broken"))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::FailedPrecondition(_)), "{err:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_run_within_seconds() {
    let address = skip_unless_temporal!("cancel_stops_a_running_run_within_seconds");
    let h = Harness::new(address, "cancel").await;
    let dir = tempfile::tempdir().unwrap();
    let input = serde_json::json!({ "steps": 3, "sleep_ms": 20_000, "effects_dir": dir.path().to_str().unwrap() });
    h.start("long", input).await;
    h.wait("long", Duration::from_secs(30), |r| {
        r.status == RunStatus::Running && !r.current_step.is_empty()
    })
    .await;
    let asked = Instant::now();
    let run = h
        .engine
        .cancel(&h.workspace, &RunId::new("long"))
        .await
        .expect("cancel");
    assert!(run.cancel_requested);
    let run = h.wait_finished("long", Duration::from_secs(10)).await;
    assert_eq!(run.status, RunStatus::Cancelled, "{run:#?}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "cancelled after {:?}",
        asked.elapsed()
    );
    assert!(run.cancel_requested);
    assert_eq!(run.steps_done, 0);
    assert!(
        effects(dir.path(), "long").is_empty(),
        "the cancelled step did not complete"
    );

    let err = h
        .engine
        .cancel(&h.workspace, &RunId::new("long"))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::FailedPrecondition(_)), "{err:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_activity_sees_the_cancellation() {
    let address = skip_unless_temporal!("a_running_activity_sees_the_cancellation");
    let h = Harness::new(address, "cancel-flag").await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("seen");
    h.start_kind(
        "waiting",
        "orbit.test.wait",
        serde_json::json!(marker.to_str().unwrap()),
    )
    .await
    .unwrap();
    h.wait("waiting", Duration::from_secs(30), |r| {
        r.current_step == "orbit.test.wait_for_cancel"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the activity is running
    let asked = Instant::now();
    h.engine
        .cancel(&h.workspace, &RunId::new("waiting"))
        .await
        .expect("cancel");
    while !marker.exists() {
        assert!(
            asked.elapsed() < Duration::from_secs(15),
            "the activity's CancelFlag was not set"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "the activity saw the cancellation {:?} after it was asked",
        asked.elapsed()
    );
    assert!(
        std::fs::read_to_string(&marker)
            .unwrap()
            .ends_with("/waiting/1"),
        "the idempotency key is workspace/run/call"
    );
    let run = h.wait_finished("waiting", Duration::from_secs(10)).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_run_waiting_after_a_failure_ends_it_cancelled() {
    let address =
        skip_unless_temporal!("cancel_of_a_run_waiting_after_a_failure_ends_it_cancelled");
    let h = Harness::new(address, "cancel-failed").await;
    let dir = tempfile::tempdir().unwrap();
    let unblock = dir.path().join("unblock");
    let input =
        serde_json::json!({ "steps": 2, "fail_at": 1, "unless_file": unblock.to_str().unwrap() });
    h.start("stuck", input).await;
    h.wait("stuck", Duration::from_secs(60), |r| {
        r.status == RunStatus::Failed
    })
    .await;
    h.engine
        .cancel(&h.workspace, &RunId::new("stuck"))
        .await
        .expect("cancel");
    let run = h.wait_finished("stuck", Duration::from_secs(10)).await;
    let run = if run.status == RunStatus::Failed {
        // Still the waiting state: give the workflow a moment to see the cancellation.
        h.wait("stuck", Duration::from_secs(10), |r| {
            r.status == RunStatus::Cancelled
        })
        .await
    } else {
        run
    };
    assert_eq!(run.status, RunStatus::Cancelled, "{run:#?}");

    // Retried, it goes back to its failed step and runs it again.
    std::fs::write(&unblock, b"").unwrap();
    h.engine
        .retry(&h.workspace, &RunId::new("stuck"))
        .await
        .expect("retry a cancelled run");
    let run = h.wait_finished("stuck", Duration::from_secs(60)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(run.attempt, 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_can_be_retried_from_the_interrupted_step() {
    let address = skip_unless_temporal!("a_cancelled_run_can_be_retried_from_the_interrupted_step");
    let h = Harness::new(address, "cancel-retry").await;
    let dir = tempfile::tempdir().unwrap();
    let input = serde_json::json!({ "steps": 3, "sleep_ms": 1500, "effects_dir": dir.path().to_str().unwrap() });
    h.start("again", input).await;
    h.wait("again", Duration::from_secs(30), |r| r.steps_done == 1)
        .await;
    h.engine
        .cancel(&h.workspace, &RunId::new("again"))
        .await
        .expect("cancel");
    let cancelled = h.wait_finished("again", Duration::from_secs(10)).await;
    assert_eq!(cancelled.status, RunStatus::Cancelled, "{cancelled:#?}");

    let retried = h
        .engine
        .retry(&h.workspace, &RunId::new("again"))
        .await
        .expect("retry a cancelled run");
    assert_eq!(
        (retried.status, retried.attempt, retried.cancel_requested),
        (RunStatus::Running, 2, false)
    );
    let run = h.wait_finished("again", Duration::from_secs(60)).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:#?}");
    assert_eq!(result_of(&run), outputs(3));
    assert_eq!(
        (run.steps_done, run.attempt, run.cancel_requested),
        (3, 2, false)
    );
    assert!(
        run.events
            .iter()
            .any(|e| e.message.contains("resumed after the cancellation")),
        "{:?}",
        run.events
    );
    let lines = effects(dir.path(), "again");
    assert_eq!(count(&lines, 1), 1, "step 1 is not repeated: {lines:?}");
    // Step 2 was running when the cancellation came: it may have finished (and left its line)
    // before it heard of it; the reset drops that completion, so it runs again (at least once,
    // under the same idempotency key).
    assert!((1..=2).contains(&count(&lines, 2)), "{lines:?}");
    assert_eq!(count(&lines, 3), 1, "{lines:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_invisible_from_another_workspace() {
    let address = skip_unless_temporal!("runs_are_invisible_from_another_workspace");
    let h = Harness::new(address.clone(), "scope").await;
    h.start("mine", serde_json::json!({ "steps": 1 })).await;
    h.wait_finished("mine", Duration::from_secs(60)).await;
    let other = WorkspaceId::new(format!("{}x", h.workspace.as_str()));
    let id = RunId::new("mine");
    assert_eq!(h.engine.get(&other, &id).await.unwrap(), None);
    let all = RunFilter::default();
    assert!(
        h.engine
            .list(&other, &all, &PageRequest::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        h.engine.cancel(&other, &id).await,
        Err(EngineError::NotFound(_))
    ));
    assert!(matches!(
        h.engine.retry(&other, &id).await,
        Err(EngineError::NotFound(_))
    ));
    // A workspace whose id is a prefix of ours sees nothing either.
    let prefix = WorkspaceId::new(&h.workspace.as_str()[..h.workspace.as_str().len() - 1]);
    assert!(
        h.engine
            .list(&prefix, &all, &PageRequest::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.engine
            .list(&h.workspace, &all, &PageRequest::first(10))
            .await
            .unwrap()
            .len(),
        1
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_status_and_kind_newest_first_with_pages() {
    let address = skip_unless_temporal!("list_filters_by_status_and_kind_newest_first_with_pages");
    let h = Harness::new(address, "list").await;
    h.start("a", serde_json::json!({ "steps": 1 })).await;
    h.start("b", serde_json::json!({ "steps": 2, "fail_at": 1 }))
        .await;
    h.start("c", serde_json::json!({ "steps": 1 })).await;
    // A kind this worker does not know: the run fails as a whole.
    h.start_kind("d", "orbit.unknown", serde_json::json!({}))
        .await
        .unwrap();
    h.start("e", serde_json::json!({ "steps": 2, "sleep_ms": 60_000 }))
        .await;
    for id in ["a", "c", "d"] {
        h.wait_finished(id, Duration::from_secs(60)).await;
    }
    h.wait("b", Duration::from_secs(60), |r| {
        r.status == RunStatus::Failed
    })
    .await;
    let d = h.get("d").await;
    assert_eq!(d.status, RunStatus::Failed);
    assert!(
        d.error
            .as_deref()
            .unwrap_or_default()
            .contains("unknown workflow kind"),
        "{d:#?}"
    );

    h.list_ids(
        None,
        None,
        PageRequest::first(50),
        &["e", "d", "c", "b", "a"],
    )
    .await;
    h.list_ids(
        None,
        Some(RunStatus::Succeeded),
        PageRequest::first(50),
        &["c", "a"],
    )
    .await;
    h.list_ids(
        None,
        Some(RunStatus::Failed),
        PageRequest::first(50),
        &["d", "b"],
    )
    .await;
    h.list_ids(
        None,
        Some(RunStatus::Running),
        PageRequest::first(50),
        &["e"],
    )
    .await;
    h.list_ids(
        None,
        Some(RunStatus::Cancelled),
        PageRequest::first(50),
        &[],
    )
    .await;
    h.list_ids(None, Some(RunStatus::Pending), PageRequest::first(50), &[])
        .await;
    h.list_ids(Some("orbit.unknown"), None, PageRequest::first(50), &["d"])
        .await;
    h.list_ids(
        Some(KIND),
        Some(RunStatus::Failed),
        PageRequest::first(50),
        &["b"],
    )
    .await;

    // Pages: the cursor is the id of the last run of the previous page.
    let all = RunFilter::default();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let mut page = h
            .engine
            .list(
                &h.workspace,
                &all,
                &PageRequest {
                    limit: 2,
                    after: after.clone(),
                },
            )
            .await
            .expect("list");
        // Up to limit + 1 runs: the extra one only says that another page follows.
        let more = page.len() > 2;
        page.truncate(2);
        after = page.last().map(|r| r.id.as_str().to_owned());
        seen.extend(page.into_iter().map(|r| r.id.as_str().to_owned()));
        assert!(seen.len() <= 5, "{seen:?}");
        if !more {
            break;
        }
    }
    assert_eq!(seen, ["e", "d", "c", "b", "a"]);
    h.list_ids(
        None,
        Some(RunStatus::Succeeded),
        PageRequest {
            limit: 1,
            after: Some("c".into()),
        },
        &["a"],
    )
    .await;
    h.list_ids(
        None,
        None,
        PageRequest {
            limit: 1,
            after: Some("c".into()),
        },
        &["b", "a"],
    )
    .await;
    h.list_ids(
        None,
        None,
        PageRequest {
            limit: 10,
            after: Some("a".into()),
        },
        &[],
    )
    .await;

    // The running one shows live progress in the list.
    let e = h
        .list_ids(
            None,
            Some(RunStatus::Running),
            PageRequest::first(1),
            &["e"],
        )
        .await
        .remove(0);
    assert_eq!(e.steps_total, 2, "{e:#?}");
    h.engine
        .cancel(&h.workspace, &RunId::new("e"))
        .await
        .unwrap();
    h.engine
        .cancel(&h.workspace, &RunId::new("b"))
        .await
        .unwrap();
    h.stop().await;
}

/// The example binary `worker` (built by `cargo test`, next to this test's binary).
fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap(); // target/debug/deps → target/debug
    let bin = dir.join("examples").join("worker");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test -p orbit-temporal` (which builds the examples) or `cargo build -p orbit-temporal --example worker`",
        bin.display()
    );
    bin
}

struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_worker(config: &TemporalConfig, log: &Path) -> Process {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = std::process::Command::new(worker_binary())
        .args([&config.address, &config.task_queue, &config.namespace])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn the worker");
    Process(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_replaced_and_completed_steps_do_not_run_again() {
    let address =
        skip_unless_temporal!("a_killed_worker_is_replaced_and_completed_steps_do_not_run_again");
    let h = Harness::without_worker(address, "crash").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    let mut first = spawn_worker(&h.config, &log);
    let input = serde_json::json!({ "steps": 4, "sleep_ms": 1500, "effects_dir": dir.path().to_str().unwrap() });
    h.start("crash", input).await;

    // Kill the worker while step 2 or 3 runs: once step 1 (or 2) has left its line.
    let deadline = Instant::now() + Duration::from_secs(60);
    let done_before_kill = loop {
        let lines = effects(dir.path(), "crash");
        if !lines.is_empty() {
            break lines.len();
        }
        assert!(
            Instant::now() < deadline,
            "step 1 did not complete; worker log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.0.kill().expect("SIGKILL the worker");
    first.0.wait().unwrap();
    let killed_at = Instant::now();
    let lines_at_kill = effects(dir.path(), "crash");
    let interrupted = lines_at_kill.len() as u32 + 1;
    assert!(
        (2..=3).contains(&interrupted),
        "killed during step {interrupted} (lines {lines_at_kill:?}, {done_before_kill} before)"
    );

    let _second = spawn_worker(&h.config, &log);
    let run = h.wait_finished("crash", Duration::from_secs(90)).await;
    eprintln!(
        "the run completed {:?} after the worker was killed",
        killed_at.elapsed()
    );
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{run:#?}\nworker log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(result_of(&run), outputs(4));
    assert_eq!((run.steps_done, run.steps_total), (4, 4));
    let lines = effects(dir.path(), "crash");
    for step in 1..interrupted {
        assert_eq!(count(&lines, step), 1, "step {step} ran once: {lines:?}");
    }
    for step in interrupted..=4 {
        assert!(count(&lines, step) >= 1, "step {step} ran: {lines:?}");
    }
}

/// Parallel calls (`call_all`) and a killed worker: steps 1 and 3 end while step 2 still
/// works; the worker is killed; a new worker runs step 2 again and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_reruns_only_the_unfinished_parallel_calls() {
    let address =
        skip_unless_temporal!("a_killed_worker_reruns_only_the_unfinished_parallel_calls");
    let h = Harness::without_worker(address, "crash-parallel").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    let mut first = spawn_worker(&h.config, &log);
    let input = serde_json::json!({
        "steps": 3, "parallel": true, "effects_dir": dir.path().to_str().unwrap(),
        "step_sleep_ms": {"2": 4000},
    });
    h.start("crash-par", input).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while effects(dir.path(), "crash-par").len() < 2 {
        if Instant::now() > deadline {
            panic!(
                "steps 1 and 3 did not complete: {:#?}\nworker log:\n{}",
                h.get("crash-par").await,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let Temporal record both completions, then kill the worker while step 2 works.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.0.kill().expect("SIGKILL the worker");
    first.0.wait().unwrap();
    let mut at_kill = effects(dir.path(), "crash-par");
    at_kill.sort();
    assert_eq!(at_kill, [(1, 1), (3, 1)], "killed while step 2 worked");

    let _second = spawn_worker(&h.config, &log);
    let run = h.wait_finished("crash-par", Duration::from_secs(90)).await;
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{run:#?}\nworker log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(result_of(&run), outputs(3), "results in call order");
    let lines = effects(dir.path(), "crash-par");
    assert_eq!(
        (count(&lines, 1), count(&lines, 2), count(&lines, 3)),
        (1, 1, 1),
        "only step 2 ran again, to its end: {lines:?}"
    );
}
