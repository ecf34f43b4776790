//! The workflow port, and the traits workflow definitions and activities are written
//! against. A definition is written once and runs on every engine (the embedded one and
//! Temporal): it may only call activities through [`WorkflowContext`], and must make the
//! same calls in the same order when given the same results (engines replay it).

use async_trait::async_trait;
use orbit_core::workflow::{RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, UserId, WorkspaceId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use thiserror::Error;

/// How one activity call is retried and bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityOptions {
    /// Each attempt is abandoned (and counts as a retryable failure) after this long.
    pub timeout: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each time, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ActivityOptions {
    fn default() -> Self {
        ActivityOptions {
            timeout: Duration::from_secs(300),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl ActivityOptions {
    /// The wait before attempt `attempt` (2 = the first retry).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(2));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How an activity attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActivityError {
    /// Worth another attempt (a network error, a timeout…).
    #[error("{0}")]
    Retryable(String),
    /// Another attempt would fail the same way (bad input, a refused permission…).
    #[error("{0}")]
    NonRetryable(String),
}

/// A cooperative cancellation flag that long activities check between units of work.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What an activity attempt knows about itself.
#[derive(Debug, Clone)]
pub struct ActivityContext {
    pub workspace_id: WorkspaceId,
    pub run_id: RunId,
    /// Stable across attempts and restarts: use it to make external effects idempotent.
    pub idempotency_key: String,
    pub attempt: u32,
    /// Set when the run is being cancelled.
    pub cancel: CancelFlag,
}

/// One named unit of work with side effects. Runs at least once per call; must be
/// idempotent under its `idempotency_key`.
#[async_trait]
pub trait Activity: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// JSON in, JSON out.
    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError>;
}

/// Why a workflow stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkflowFailure {
    /// An activity failed for good (non-retryable, or out of attempts).
    #[error("step {activity} failed: {message}")]
    Activity { activity: String, message: String },
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The input or an intermediate result is unusable.
    #[error("{0}")]
    Invalid(String),
}

/// One activity call of [`WorkflowContext::call_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelCall {
    pub activity: String,
    pub input: String,
    pub options: ActivityOptions,
}

impl ParallelCall {
    pub fn new(activity: impl Into<String>, input: String, options: ActivityOptions) -> Self {
        ParallelCall {
            activity: activity.into(),
            input,
            options,
        }
    }
}

/// Polls `futures` in index order, at most `max_concurrent` of them started at a time (0: all
/// at once; the next one in order starts when one finishes), and returns their outputs in
/// index order. Deterministic: given the same wake-ups it polls (and so starts activities)
/// in the same order, which is what replaying engines need. Single-threaded, no timers.
pub async fn join_in_order<'a, T>(
    mut futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>>,
    max_concurrent: usize,
) -> Vec<T> {
    use std::task::Poll;
    let n = futures.len();
    let limit = if max_concurrent == 0 {
        n
    } else {
        max_concurrent
    };
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let (mut started, mut done) = (0usize, 0usize);
    std::future::poll_fn(|cx| {
        loop {
            started = (started + limit.saturating_sub(started - done)).min(n);
            let mut finished_one = false;
            for (future, slot) in futures.iter_mut().zip(results.iter_mut()).take(started) {
                if slot.is_none() {
                    if let Poll::Ready(value) = future.as_mut().poll(cx) {
                        *slot = Some(value);
                        done += 1;
                        finished_one = true;
                    }
                }
            }
            if done == n {
                return Poll::Ready(());
            }
            // A slot freed up: start the next ones now rather than on the next wake-up.
            if !(finished_one && started < n) {
                return Poll::Pending;
            }
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// What a definition may do while it runs.
#[async_trait(?Send)]
pub trait WorkflowContext {
    /// Runs an activity durably: once it has succeeded, its result is recorded and never
    /// computed again for this run, even across crashes and retries.
    async fn call(
        &mut self,
        activity: &str,
        input: String,
        options: ActivityOptions,
    ) -> Result<String, WorkflowFailure>;
    /// Runs several activities concurrently and waits for all of them; the results come back
    /// in the order of `calls`. At most `max_concurrent` run at a time (0: all at once; the
    /// next call in order starts when one finishes). Each call is durable exactly like
    /// [`call`](Self::call) and is numbered (for idempotency keys and replay) in the order
    /// given, whatever the order they finish in. One call failing does not cancel the others:
    /// its result is the error, and the others run to their end.
    async fn call_all(
        &mut self,
        calls: Vec<ParallelCall>,
        max_concurrent: usize,
    ) -> Vec<Result<String, WorkflowFailure>>;
    /// Declares how many steps the run has in all (for progress bars).
    fn set_total(&mut self, steps: u32);
    /// Adds a line to the run's event log (recorded once, not again on replay).
    fn log(&mut self, message: &str);
}

/// A workflow, written once as domain code.
#[async_trait(?Send)]
pub trait WorkflowDefinition: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    /// Checks the input before anything starts; the message is for the caller.
    fn validate(&self, input: &str) -> Result<(), String>;
    /// JSON in, JSON out.
    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure>;
}

/// The definitions and activities an engine can run, by kind and by name.
#[derive(Clone, Default)]
pub struct WorkflowRegistry {
    pub definitions: HashMap<&'static str, Arc<dyn WorkflowDefinition>>,
    pub activities: HashMap<&'static str, Arc<dyn Activity>>,
}

impl WorkflowRegistry {
    pub fn definition(mut self, d: Arc<dyn WorkflowDefinition>) -> Self {
        self.definitions.insert(d.kind(), d);
        self
    }
    pub fn activity(mut self, a: Arc<dyn Activity>) -> Self {
        self.activities.insert(a.name(), a);
        self
    }
}

/// A request to start a run.
#[derive(Debug, Clone)]
pub struct StartRun {
    pub id: RunId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub input: String,
    pub started_by: UserId,
}

/// Filters of `list`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub kind: Option<String>,
    pub status: Option<RunStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    #[error("workflow run '{0}' not found")]
    NotFound(String),
    /// The run is in a state that does not allow the operation (cancel a finished run…).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A run with this id exists with another kind or input.
    #[error("{0}")]
    Conflict(String),
    #[error("workflow engine unavailable: {0}")]
    Unavailable(String),
}

/// Starts, watches and steers runs. Embedded default: an in-process engine persisting in
/// the database; at scale: Temporal.
///
/// Every call is scoped to one workspace: a run of another workspace is `NotFound`.
#[async_trait]
pub trait WorkflowEngine: Send + Sync + 'static {
    /// Starts a run, or returns the existing run with that id (then `false`).
    async fn start(&self, start: StartRun) -> Result<(WorkflowRun, bool), EngineError>;
    async fn get(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Option<WorkflowRun>, EngineError>;
    /// Runs newest first; the page cursor is the id of the last run of the previous page.
    async fn list(
        &self,
        workspace: &WorkspaceId,
        filter: &RunFilter,
        page: &PageRequest,
    ) -> Result<Vec<WorkflowRun>, EngineError>;
    /// Asks a pending or running run to stop: it stops between steps, and long activities
    /// see the cancellation. `FailedPrecondition` for a finished run.
    async fn cancel(&self, workspace: &WorkspaceId, id: &RunId)
    -> Result<WorkflowRun, EngineError>;
    /// Runs a failed (or cancelled) run again from its failed step; completed steps are
    /// not repeated. `FailedPrecondition` for a run that did not fail.
    async fn retry(&self, workspace: &WorkspaceId, id: &RunId) -> Result<WorkflowRun, EngineError>;
    fn name(&self) -> &'static str;
}

/// How a recorded step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Completed,
    Failed,
    /// A retryable failure; the next attempt is due at the time (ms) in `output`. Kept so
    /// that a restart waits out the backoff and counts attempts on.
    Waiting,
}

/// A step of a run as the embedded engine records it: its result is replayed instead of
/// running the activity again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// 1 for the run's first activity call, and so on.
    pub seq: u32,
    pub activity: String,
    pub status: StepStatus,
    /// JSON output (completed), the error (failed), or the due time in ms (waiting).
    pub output: String,
    pub attempts: u32,
}

/// Where the embedded engine keeps runs, steps and event logs (the same database as
/// everything else). Every method is scoped by workspace.
#[async_trait]
pub trait WorkflowStore: Send + Sync + 'static {
    /// Inserts the run unless one with its (workspace, id) exists; returns the stored run and
    /// whether it was inserted.
    async fn insert_run(&self, run: &WorkflowRun)
    -> Result<(WorkflowRun, bool), crate::StoreError>;
    /// The run with its event log.
    async fn get_run(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Option<WorkflowRun>, crate::StoreError>;
    /// Runs newest first (by creation time, then id), without event logs, at most `limit + 1`,
    /// starting after the run `page.after` (an id).
    async fn list_runs(
        &self,
        workspace: &WorkspaceId,
        filter: &RunFilter,
        page: &PageRequest,
    ) -> Result<Vec<WorkflowRun>, crate::StoreError>;
    /// Saves status, progress, result, error, attempt and the cancel flag (not events).
    async fn update_run(&self, run: &WorkflowRun) -> Result<(), crate::StoreError>;
    async fn append_event(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        event: &orbit_core::workflow::RunEvent,
    ) -> Result<(), crate::StoreError>;
    /// Sets the cancel flag of an unfinished run; returns the run. `Refused` if finished.
    async fn request_cancel(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, crate::StoreError>;
    async fn steps(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Vec<StepRecord>, crate::StoreError>;
    /// Records a step outcome (inserting or replacing by `seq`).
    async fn record_step(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        step: &StepRecord,
    ) -> Result<(), crate::StoreError>;
    /// Makes a failed (or cancelled) run pending again: deletes its failed steps, clears the
    /// error and the cancel flag, increments the attempt. `Refused` unless failed or cancelled.
    async fn reset_for_retry(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, crate::StoreError>;
    /// Pending and running runs of every workspace (to resume after a restart).
    async fn unfinished_runs(&self) -> Result<Vec<(WorkspaceId, RunId)>, crate::StoreError>;
    /// Takes (or renews) the lease of a run for `owner` until `until` (ms); false when
    /// another owner holds an unexpired lease. Keeps two processes from driving one run.
    async fn claim_run(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, crate::StoreError>;
}
