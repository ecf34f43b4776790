//! The embedded workflow engine: the default of `orbit serve`, nothing to install.
//!
//! How it stays durable: a run's definition is re-executed from the start whenever the run
//! is (re)driven, and every `ctx.call(...)` is numbered. A call whose step is recorded as
//! completed returns the recorded output instead of running the activity again; the first
//! call without a record runs the activity (with retries and backoff) and records its
//! outcome before returning. So after a crash, a restart replays the completed steps from
//! the database and continues with the interrupted one (activities are at-least-once, each
//! with a stable idempotency key). Definitions must therefore make the same calls in the
//! same order given the same results, exactly as on Temporal.
//!
//! Definitions are `?Send` (so the same code runs inside Temporal's workflow executor):
//! they run on a dedicated thread with a `LocalSet`; activities and database calls run on
//! the main runtime. A run is driven by one process at a time: a lease in the run's row,
//! renewed before every step.

use async_trait::async_trait;
use orbit_core::workflow::{RunEvent, RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, Timestamp, WorkspaceId};
use orbit_ports::{
    ActivityContext, ActivityError, ActivityOptions, CancelFlag, Clock, EngineError, ParallelCall,
    RunFilter, StartRun, StepRecord, StepStatus, StoreError, WorkflowContext, WorkflowEngine,
    WorkflowFailure, WorkflowRegistry, WorkflowStore, join_in_order,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Settings of the embedded engine.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Runs driven at the same time; more wait in a queue.
    pub concurrency: usize,
    /// This process's name in run leases. Keep it stable across restarts of one process
    /// so that a restarted process resumes its runs at once.
    pub owner: String,
    /// How long a lease lasts without renewal (another process may take over after).
    pub lease: Duration,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            concurrency: 32,
            owner: "embedded".into(),
            lease: Duration::from_secs(60),
        }
    }
}

type Key = (WorkspaceId, RunId);

struct Inner {
    store: Arc<dyn WorkflowStore>,
    registry: WorkflowRegistry,
    clock: Arc<dyn Clock>,
    config: EmbeddedConfig,
    queue: mpsc::UnboundedSender<Key>,
    running: Mutex<HashMap<Key, CancelFlag>>,
    main: tokio::runtime::Handle,
}

/// The engine. Cloning shares it.
#[derive(Clone)]
pub struct EmbeddedEngine {
    inner: Arc<Inner>,
}

fn store_err(err: StoreError) -> EngineError {
    match err {
        StoreError::NotFound(what) => EngineError::NotFound(what),
        StoreError::Refused(msg) => EngineError::FailedPrecondition(msg),
        other => EngineError::Unavailable(other.to_string()),
    }
}

impl EmbeddedEngine {
    /// Starts the engine's driver thread. Call from inside a tokio runtime: activities and
    /// database calls run on that runtime.
    pub fn start(
        store: Arc<dyn WorkflowStore>,
        registry: WorkflowRegistry,
        clock: Arc<dyn Clock>,
        config: EmbeddedConfig,
    ) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Key>();
        let inner = Arc::new(Inner {
            store,
            registry,
            clock,
            queue: tx,
            running: Mutex::new(HashMap::new()),
            main: tokio::runtime::Handle::current(),
            config,
        });
        let weak = Arc::downgrade(&inner);
        let concurrency = inner.config.concurrency.max(1);
        std::thread::Builder::new()
            .name("orbit-workflows".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    tracing::error!("cannot start the workflow driver thread's runtime");
                    return;
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
                    while let Some(key) = rx.recv().await {
                        let Some(inner) = weak.upgrade() else { break };
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        tokio::task::spawn_local(async move {
                            drive(inner, key).await;
                            drop(permit);
                        });
                    }
                });
            })
            .ok();
        EmbeddedEngine { inner }
    }

    /// Queues every pending or running run (after a restart). Returns how many.
    pub async fn resume_unfinished(&self) -> Result<usize, EngineError> {
        let runs = self
            .inner
            .store
            .unfinished_runs()
            .await
            .map_err(store_err)?;
        let n = runs.len();
        for key in runs {
            let _ = self.inner.queue.send(key);
        }
        Ok(n)
    }
}

/// Runs a Send future on the main runtime and waits for it.
async fn on_main<T: Send + 'static>(
    main: &tokio::runtime::Handle,
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    match main.spawn(fut).await {
        Ok(v) => v,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        // The main runtime is shutting down: this run stops here and resumes on next start.
        Err(_) => std::future::pending().await,
    }
}

impl Inner {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn event(&self, ws: &WorkspaceId, id: &RunId, message: String) -> Result<(), StoreError> {
        let store = self.store.clone();
        let (ws, id) = (ws.clone(), id.clone());
        let event = RunEvent {
            at: self.now(),
            message,
        };
        on_main(&self.main, async move {
            store.append_event(&ws, &id, &event).await
        })
        .await
    }

    async fn save(&self, run: &WorkflowRun) -> Result<(), StoreError> {
        let store = self.store.clone();
        let mut run = run.clone();
        run.updated_at = self.now();
        on_main(&self.main, async move { store.update_run(&run).await }).await
    }

    async fn claim(&self, ws: &WorkspaceId, id: &RunId) -> Result<bool, StoreError> {
        let store = self.store.clone();
        let (ws, id) = (ws.clone(), id.clone());
        let now = self.now().0;
        let until = now + self.config.lease.as_millis() as i64;
        let owner = self.config.owner.clone();
        on_main(&self.main, async move {
            store.claim_run(&ws, &id, &owner, now, until).await
        })
        .await
    }

    async fn load(&self, ws: &WorkspaceId, id: &RunId) -> Result<Option<WorkflowRun>, StoreError> {
        let store = self.store.clone();
        let (ws, id) = (ws.clone(), id.clone());
        on_main(&self.main, async move { store.get_run(&ws, &id).await }).await
    }
}

enum DriveError {
    /// Another process holds the run.
    Lost,
    Store(StoreError),
}

async fn drive(inner: Arc<Inner>, key: Key) {
    let mut wait = Duration::from_millis(500);
    for _ in 0..10_000 {
        match drive_once(&inner, &key).await {
            Ok(()) | Err(DriveError::Lost) => break,
            Err(DriveError::Store(err)) => {
                tracing::warn!(run = %key.1, error = %err, retry_in_ms = wait.as_millis() as u64, "the database failed while driving a run; it will resume");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
    if let Ok(mut running) = inner.running.lock() {
        running.remove(&key);
    }
}

async fn drive_once(inner: &Arc<Inner>, key: &Key) -> Result<(), DriveError> {
    let (ws, id) = key;
    if !inner.claim(ws, id).await.map_err(DriveError::Store)? {
        return Err(DriveError::Lost);
    }
    let Some(mut run) = inner.load(ws, id).await.map_err(DriveError::Store)? else {
        return Ok(());
    };
    if run.status.is_finished() {
        return Ok(());
    }
    let flag = {
        let mut running = inner
            .running
            .lock()
            .map_err(|_| DriveError::Store(StoreError::Other("poisoned".into())))?;
        running.entry(key.clone()).or_default().clone()
    };
    if run.cancel_requested || flag.is_cancelled() {
        run.status = RunStatus::Cancelled;
        run.cancel_requested = false;
        inner.save(&run).await.map_err(DriveError::Store)?;
        inner
            .event(ws, id, "cancelled before it started".into())
            .await
            .map_err(DriveError::Store)?;
        return Ok(());
    }
    let Some(definition) = inner.registry.definitions.get(run.kind.as_str()).cloned() else {
        run.status = RunStatus::Failed;
        run.error = Some(format!(
            "no workflow of kind '{}' is registered in this process",
            run.kind
        ));
        inner.save(&run).await.map_err(DriveError::Store)?;
        return Ok(());
    };
    if run.status == RunStatus::Pending {
        run.status = RunStatus::Running;
        inner.save(&run).await.map_err(DriveError::Store)?;
        let message = if run.attempt > 1 {
            format!("retrying (attempt {})", run.attempt)
        } else {
            "started".to_owned()
        };
        inner
            .event(ws, id, message)
            .await
            .map_err(DriveError::Store)?;
    } else {
        inner
            .event(ws, id, "resumed after a restart".into())
            .await
            .map_err(DriveError::Store)?;
    }
    let store = inner.store.clone();
    let (w, i) = (ws.clone(), id.clone());
    let steps = on_main(&inner.main, async move { store.steps(&w, &i).await })
        .await
        .map_err(DriveError::Store)?;
    let mut ctx = EmbeddedContext {
        inner: inner.clone(),
        run: RefCell::new(run.clone()),
        replay: steps.into_iter().map(|s| (s.seq, s)).collect(),
        seq: 0,
        flag: flag.clone(),
        store_error: RefCell::new(None),
    };
    let outcome = definition.run(&mut ctx, run.input.clone()).await;
    if let Some(err) = ctx.store_error.take() {
        return Err(DriveError::Store(err));
    }
    let mut run = ctx.run.into_inner();
    let message = match outcome {
        Ok(result) => {
            run.status = RunStatus::Succeeded;
            run.result = Some(result);
            run.steps_total = run.steps_total.max(run.steps_done);
            "succeeded".to_owned()
        }
        Err(WorkflowFailure::Cancelled) => {
            run.status = RunStatus::Cancelled;
            "cancelled".to_owned()
        }
        Err(failure) if flag.is_cancelled() => {
            run.status = RunStatus::Cancelled;
            format!("cancelled ({failure})")
        }
        Err(failure) => {
            run.status = RunStatus::Failed;
            run.error = Some(failure.to_string());
            format!("failed: {failure}")
        }
    };
    run.cancel_requested = false;
    inner.save(&run).await.map_err(DriveError::Store)?;
    inner
        .event(ws, id, message)
        .await
        .map_err(DriveError::Store)?;
    Ok(())
}

struct EmbeddedContext {
    inner: Arc<Inner>,
    /// Shared by the calls of a `call_all` (they run interleaved on this thread; no borrow is
    /// held across an await).
    run: RefCell<WorkflowRun>,
    replay: HashMap<u32, StepRecord>,
    seq: u32,
    flag: CancelFlag,
    /// Set when the database failed: the run stops here and is driven again later.
    store_error: RefCell<Option<StoreError>>,
}

impl EmbeddedContext {
    fn storage_failed(&self, err: StoreError) -> WorkflowFailure {
        *self.store_error.borrow_mut() = Some(err);
        WorkflowFailure::Invalid("the database failed; the run will resume".into())
    }

    fn ids(&self) -> (WorkspaceId, RunId) {
        let run = self.run.borrow();
        (run.workspace_id.clone(), run.id.clone())
    }

    async fn save_run(&self) -> Result<(), StoreError> {
        let run = self.run.borrow().clone();
        self.inner.save(&run).await
    }

    async fn cancelled(&self) -> Result<bool, StoreError> {
        if self.flag.is_cancelled() {
            return Ok(true);
        }
        // A cancel may come from another process: look at the run's row.
        let (ws, id) = self.ids();
        let current = self.inner.load(&ws, &id).await?;
        if current.is_some_and(|r| r.cancel_requested) {
            self.flag.cancel();
            return Ok(true);
        }
        Ok(false)
    }

    async fn sleep_unless_cancelled(&self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while tokio::time::Instant::now() < deadline && !self.flag.is_cancelled() {
            tokio::time::sleep(
                Duration::from_millis(20).min(deadline - tokio::time::Instant::now()),
            )
            .await;
        }
    }

    async fn record(&self, step: StepRecord) -> Result<(), StoreError> {
        let store = self.inner.store.clone();
        let (ws, id) = self.ids();
        on_main(&self.inner.main, async move {
            store.record_step(&ws, &id, &step).await
        })
        .await
    }

    /// Runs (or replays) the call numbered `seq`. `current` names the step(s) shown as
    /// current while it runs.
    async fn step(
        &self,
        seq: u32,
        activity: &str,
        input: String,
        options: ActivityOptions,
        current: &str,
    ) -> Result<String, WorkflowFailure> {
        // A step that was waiting out a retry backoff when the process stopped resumes
        // with its attempt count and its due time.
        let mut resume: Option<(u32, i64)> = None;
        if let Some(step) = self.replay.get(&seq) {
            match step.status {
                StepStatus::Completed => return Ok(step.output.clone()),
                StepStatus::Failed => {
                    return Err(WorkflowFailure::Activity {
                        activity: step.activity.clone(),
                        message: step.output.clone(),
                    });
                }
                StepStatus::Waiting => {
                    resume = Some((step.attempts, step.output.parse().unwrap_or(0)))
                }
            }
        }
        match self.cancelled().await {
            Ok(true) => return Err(WorkflowFailure::Cancelled),
            Ok(false) => {}
            Err(err) => return Err(self.storage_failed(err)),
        }
        let (ws, id) = self.ids();
        match self.inner.claim(&ws, &id).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(self.storage_failed(StoreError::Unavailable(
                    "another process took over the run".into(),
                )));
            }
            Err(err) => return Err(self.storage_failed(err)),
        }
        self.run.borrow_mut().current_step = current.to_owned();
        if let Err(err) = self.save_run().await {
            return Err(self.storage_failed(err));
        }
        if let Err(err) = self
            .inner
            .event(&ws, &id, format!("step {seq} ({activity}) started"))
            .await
        {
            return Err(self.storage_failed(err));
        }
        let Some(implementation) = self.inner.registry.activities.get(activity).cloned() else {
            return Err(WorkflowFailure::Activity {
                activity: activity.to_owned(),
                message: "no such activity is registered".into(),
            });
        };
        let mut attempt = 1;
        if let Some((attempts, due)) = resume {
            attempt = attempts + 1;
            let wait = due - self.inner.now().0;
            if wait > 0 {
                let line = format!(
                    "step {seq} ({activity}) attempt {attempt} resumes after a restart, in {wait} ms"
                );
                if let Err(err) = self.inner.event(&ws, &id, line).await {
                    return Err(self.storage_failed(err));
                }
                self.sleep_unless_cancelled(Duration::from_millis(wait as u64))
                    .await;
                if self.flag.is_cancelled() {
                    return Err(WorkflowFailure::Cancelled);
                }
            }
        }
        let failure = loop {
            let ctx = ActivityContext {
                workspace_id: ws.clone(),
                run_id: id.clone(),
                idempotency_key: format!("{ws}/{id}/{seq}"),
                attempt,
                cancel: self.flag.clone(),
            };
            let (act, input_copy) = (implementation.clone(), input.clone());
            let timeout = options.timeout;
            let result = on_main(&self.inner.main, async move {
                match tokio::time::timeout(timeout, act.run(&ctx, input_copy)).await {
                    Ok(r) => r,
                    Err(_) => Err(ActivityError::Retryable(format!(
                        "timed out after {} ms",
                        timeout.as_millis()
                    ))),
                }
            })
            .await;
            match result {
                Ok(output) => {
                    let step = StepRecord {
                        seq,
                        activity: activity.to_owned(),
                        status: StepStatus::Completed,
                        output: output.clone(),
                        attempts: attempt,
                    };
                    if let Err(err) = self.record(step).await {
                        return Err(self.storage_failed(err));
                    }
                    self.run.borrow_mut().steps_done += 1;
                    if let Err(err) = self.save_run().await {
                        return Err(self.storage_failed(err));
                    }
                    let note = if attempt > 1 {
                        format!(" after {attempt} attempts")
                    } else {
                        String::new()
                    };
                    if let Err(err) = self
                        .inner
                        .event(&ws, &id, format!("step {seq} ({activity}) done{note}"))
                        .await
                    {
                        return Err(self.storage_failed(err));
                    }
                    return Ok(output);
                }
                Err(ActivityError::NonRetryable(message)) => break message,
                Err(ActivityError::Retryable(message)) => {
                    if self.flag.is_cancelled() {
                        return Err(WorkflowFailure::Cancelled);
                    }
                    if attempt >= options.max_attempts {
                        break format!("{message} (gave up after {attempt} attempts)");
                    }
                    attempt += 1;
                    let wait = options.backoff(attempt);
                    let line = format!(
                        "step {seq} ({activity}) attempt {} failed: {message}; retrying in {} ms",
                        attempt - 1,
                        wait.as_millis()
                    );
                    if let Err(err) = self.inner.event(&ws, &id, line).await {
                        return Err(self.storage_failed(err));
                    }
                    // Recorded, so that a restart keeps the backoff and the attempt count.
                    let due = self.inner.now().0 + wait.as_millis() as i64;
                    let waiting = StepRecord {
                        seq,
                        activity: activity.to_owned(),
                        status: StepStatus::Waiting,
                        output: due.to_string(),
                        attempts: attempt - 1,
                    };
                    if let Err(err) = self.record(waiting).await {
                        return Err(self.storage_failed(err));
                    }
                    self.sleep_unless_cancelled(wait).await;
                    if self.flag.is_cancelled() {
                        return Err(WorkflowFailure::Cancelled);
                    }
                }
            }
        };
        let step = StepRecord {
            seq,
            activity: activity.to_owned(),
            status: StepStatus::Failed,
            output: failure.clone(),
            attempts: attempt,
        };
        if let Err(err) = self.record(step).await {
            return Err(self.storage_failed(err));
        }
        if let Err(err) = self
            .inner
            .event(
                &ws,
                &id,
                format!("step {seq} ({activity}) failed: {failure}"),
            )
            .await
        {
            return Err(self.storage_failed(err));
        }
        Err(WorkflowFailure::Activity {
            activity: activity.to_owned(),
            message: failure,
        })
    }
}

#[async_trait(?Send)]
impl WorkflowContext for EmbeddedContext {
    async fn call(
        &mut self,
        activity: &str,
        input: String,
        options: ActivityOptions,
    ) -> Result<String, WorkflowFailure> {
        self.seq += 1;
        self.step(self.seq, activity, input, options, activity)
            .await
    }

    async fn call_all(
        &mut self,
        calls: Vec<ParallelCall>,
        max_concurrent: usize,
    ) -> Vec<Result<String, WorkflowFailure>> {
        // Numbered in the order given, before any runs: a replay gives every call the same
        // number (and so the same recorded step) whatever order they finished in.
        let first = self.seq + 1;
        self.seq += u32::try_from(calls.len()).unwrap_or(u32::MAX);
        let mut names: Vec<&str> = calls.iter().map(|c| c.activity.as_str()).collect();
        names.dedup();
        let current = names.join(", ");
        let this = &*self;
        let futures = calls
            .iter()
            .zip(first..)
            .map(|(call, seq)| {
                let current = current.as_str();
                Box::pin(async move {
                    this.step(
                        seq,
                        &call.activity,
                        call.input.clone(),
                        call.options,
                        current,
                    )
                    .await
                })
                    as std::pin::Pin<Box<dyn Future<Output = Result<String, WorkflowFailure>>>>
            })
            .collect();
        join_in_order(futures, max_concurrent).await
    }

    fn set_total(&mut self, steps: u32) {
        self.run.get_mut().steps_total = steps;
    }

    fn log(&mut self, message: &str) {
        // Logged only when this point is reached live, not while replaying recorded steps.
        if self.replay.keys().any(|seq| *seq > self.seq) {
            return;
        }
        let inner = self.inner.clone();
        let (ws, id) = self.ids();
        let message = message.to_owned();
        self.inner.main.spawn(async move {
            let event = RunEvent {
                at: inner.now(),
                message,
            };
            if let Err(err) = inner.store.append_event(&ws, &id, &event).await {
                tracing::warn!(error = %err, "could not record a workflow log line");
            }
        });
    }
}

#[async_trait]
impl WorkflowEngine for EmbeddedEngine {
    async fn start(&self, start: StartRun) -> Result<(WorkflowRun, bool), EngineError> {
        if !self
            .inner
            .registry
            .definitions
            .contains_key(start.kind.as_str())
        {
            return Err(EngineError::FailedPrecondition(format!(
                "no workflow of kind '{}' is registered",
                start.kind
            )));
        }
        let now = self.inner.now();
        let run = WorkflowRun {
            id: start.id,
            workspace_id: start.workspace_id,
            kind: start.kind,
            status: RunStatus::Pending,
            input: start.input,
            result: None,
            error: None,
            current_step: String::new(),
            steps_done: 0,
            steps_total: 0,
            events: Vec::new(),
            started_by: start.started_by,
            created_at: now,
            updated_at: now,
            attempt: 1,
            cancel_requested: false,
        };
        let (stored, created) = self.inner.store.insert_run(&run).await.map_err(store_err)?;
        if !created {
            if stored.kind != run.kind || stored.input != run.input {
                return Err(EngineError::Conflict(format!(
                    "a run with id '{}' exists already with another kind or input",
                    run.id
                )));
            }
            return Ok((stored, false));
        }
        self.inner
            .store
            .append_event(
                &run.workspace_id,
                &run.id,
                &RunEvent {
                    at: now,
                    message: "queued".into(),
                },
            )
            .await
            .map_err(store_err)?;
        let _ = self
            .inner
            .queue
            .send((run.workspace_id.clone(), run.id.clone()));
        // What was just written, without reading it back: the stored run and its first event.
        let mut stored = stored;
        stored.events.push(RunEvent {
            at: now,
            message: "queued".into(),
        });
        Ok((stored, true))
    }

    async fn get(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Option<WorkflowRun>, EngineError> {
        self.inner
            .store
            .get_run(workspace, id)
            .await
            .map_err(store_err)
    }

    async fn list(
        &self,
        workspace: &WorkspaceId,
        filter: &RunFilter,
        page: &PageRequest,
    ) -> Result<Vec<WorkflowRun>, EngineError> {
        self.inner
            .store
            .list_runs(workspace, filter, page)
            .await
            .map_err(store_err)
    }

    async fn cancel(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, EngineError> {
        let run = self
            .inner
            .store
            .request_cancel(workspace, id)
            .await
            .map_err(store_err)?;
        let key = (workspace.clone(), id.clone());
        let local = self
            .inner
            .running
            .lock()
            .ok()
            .and_then(|r| r.get(&key).cloned());
        match local {
            Some(flag) => flag.cancel(),
            // Not driven here: queue it, so a pending run is marked cancelled at once.
            None => {
                let _ = self.inner.queue.send(key);
            }
        }
        self.inner
            .store
            .append_event(
                workspace,
                id,
                &RunEvent {
                    at: self.inner.now(),
                    message: "cancellation requested".into(),
                },
            )
            .await
            .map_err(store_err)?;
        Ok(run)
    }

    async fn retry(&self, workspace: &WorkspaceId, id: &RunId) -> Result<WorkflowRun, EngineError> {
        let run = self
            .inner
            .store
            .reset_for_retry(workspace, id)
            .await
            .map_err(store_err)?;
        if let Ok(mut running) = self.inner.running.lock() {
            running.remove(&(workspace.clone(), id.clone()));
        }
        let _ = self.inner.queue.send((workspace.clone(), id.clone()));
        Ok(run)
    }

    fn name(&self) -> &'static str {
        "embedded"
    }
}
