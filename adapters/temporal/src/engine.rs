//! The client side: [`TemporalEngine`] implements [`WorkflowEngine`] with Temporal's client API.
//!
//! - A run is the Temporal workflow `{workspace_id}/{run_id}`, started with a memo
//!   ([`RunMeta`]) holding what Temporal does not know (workspace, kind, input, starter).
//! - `get` = describe (status, start/close time, memo) + the `progress` query for open runs;
//!   closed runs are read from the progress snapshot the workflow leaves in its memo.
//! - `list` = a visibility list filtered on the workflow id prefix (and status where Temporal's
//!   status says enough), sorted newest first here: the SQL visibility stores of the dev
//!   server and self-hosted Temporal refuse `ORDER BY`.

use crate::model::{
    META_MEMO, PROGRESS_MEMO, Progress, RunInput, RunMeta, STATUS_FAILED, micros, millis, rfc3339,
};
use crate::workflow::OrbitWorkflow;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use orbit_core::workflow::{RunEvent, RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, Timestamp, UserId, WorkspaceId};
use orbit_ports::{EngineError, RunFilter, StartRun, WorkflowEngine};
use std::time::{Duration, SystemTime};
use temporalio_client::WorkflowFetchHistoryOptions;
use temporalio_client::grpc::WorkflowService;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, Memo, RpcOptions, Url,
    WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowExecutionStatus,
    WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowListOptions,
    WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{WorkflowGetResultError, WorkflowInteractionError, WorkflowStartError},
    tonic,
};
use temporalio_common::MemoValues;
use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution as ProtoWorkflowExecution;
use temporalio_common::protos::temporal::api::enums::v1::{EventType, ResetReapplyExcludeType};
use temporalio_common::protos::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest;
use tonic::IntoRequest;

/// Where Orbit's Temporal lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalConfig {
    /// The frontend's gRPC address: `host:port` (plain HTTP/2) or a URL (`http://…`, `https://…`).
    pub address: String,
    /// The Temporal namespace (`default` on a dev server).
    pub namespace: String,
    /// The task queue Orbit's workers poll and its runs are started on.
    pub task_queue: String,
}

impl TemporalConfig {
    /// `namespace = "default"`, `task_queue = "orbit"`.
    pub fn new(address: impl Into<String>) -> Self {
        TemporalConfig {
            address: address.into(),
            namespace: "default".into(),
            task_queue: DEFAULT_TASK_QUEUE.into(),
        }
    }
}

/// The task queue of [`TemporalConfig::new`].
pub const DEFAULT_TASK_QUEUE: &str = "orbit";

/// How long `get` waits for a worker to answer the progress query before it falls back to the
/// last snapshot in the memo.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
/// The same for each open run of a `list` page (queried concurrently).
const LIST_QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const LIST_QUERY_CONCURRENCY: usize = 8;
/// `list` sorts in memory: it reads at most this many runs of a workspace per page.
const MAX_LIST_SCAN: usize = 10_000;

pub(crate) async fn connect_client(config: &TemporalConfig) -> Result<Client, EngineError> {
    let address = if config.address.contains("://") {
        config.address.clone()
    } else {
        format!("http://{}", config.address)
    };
    let url = Url::parse(&address).map_err(|e| {
        EngineError::Unavailable(format!(
            "invalid Temporal address '{}': {e}",
            config.address
        ))
    })?;
    let options = ConnectionOptions::new(url)
        .connect_timeout(Duration::from_secs(10))
        .build();
    let connection = Connection::connect(options).await.map_err(|e| {
        EngineError::Unavailable(format!(
            "cannot connect to Temporal at {}: {e}",
            config.address
        ))
    })?;
    Client::new(
        connection,
        ClientOptions::new(config.namespace.clone()).build(),
    )
    .map_err(|e| EngineError::Unavailable(format!("cannot create a Temporal client: {e}")))
}

/// Orbit's workflow engine on Temporal (client side; see [`crate::run_worker`] for the worker).
#[derive(Clone)]
pub struct TemporalEngine {
    client: Client,
    config: TemporalConfig,
}

impl std::fmt::Debug for TemporalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporalEngine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The Temporal workflow id of a run.
pub fn workflow_id(workspace: &WorkspaceId, run: &RunId) -> String {
    format!("{}/{}", workspace.as_str(), run.as_str())
}

/// A run as loaded, with whether its Temporal workflow is still open (a failed run that waits
/// for a retry is open; one whose workflow failed is not).
struct Loaded {
    run: WorkflowRun,
    open: bool,
    start: Option<SystemTime>,
    /// Temporal's id of the execution read (a reset makes a new one under the same workflow id).
    execution: String,
    /// The last snapshot has an error: the run was waiting after a failed step (when it was
    /// cancelled, for a cancelled run).
    waiting_after_failure: bool,
}

fn rpc_error(what: &str, status: &tonic::Status) -> EngineError {
    EngineError::Unavailable(format!(
        "{what}: {} ({:?})",
        status.message(),
        status.code()
    ))
}

fn interaction_error(what: &str, error: WorkflowInteractionError) -> EngineError {
    match error {
        WorkflowInteractionError::Rpc(status) => rpc_error(what, &status),
        other => EngineError::Unavailable(format!("{what}: {other}")),
    }
}

fn is_open(status: WorkflowExecutionStatus) -> bool {
    !matches!(
        status,
        WorkflowExecutionStatus::Completed
            | WorkflowExecutionStatus::Failed
            | WorkflowExecutionStatus::Canceled
            | WorkflowExecutionStatus::Terminated
            | WorkflowExecutionStatus::TimedOut
    )
}

/// Temporal's status, refined by the workflow's own: an open workflow that reports `failed`
/// waits after a failed step.
fn run_status(status: WorkflowExecutionStatus, progress: Option<&Progress>) -> RunStatus {
    match status {
        WorkflowExecutionStatus::Completed => RunStatus::Succeeded,
        WorkflowExecutionStatus::Failed
        | WorkflowExecutionStatus::TimedOut
        | WorkflowExecutionStatus::Terminated => RunStatus::Failed,
        WorkflowExecutionStatus::Canceled => RunStatus::Cancelled,
        _ if progress.is_some_and(|p| p.status == STATUS_FAILED) => RunStatus::Failed,
        _ => RunStatus::Running,
    }
}

fn meta_of(memo: &Memo) -> Option<RunMeta> {
    memo.get::<RunMeta>(META_MEMO).ok().flatten()
}

fn progress_of(memo: &Memo) -> Option<Progress> {
    memo.get::<Progress>(PROGRESS_MEMO).ok().flatten()
}

/// What a closed run that left no snapshot (terminated, timed out…) failed with.
fn default_error(status: WorkflowExecutionStatus) -> Option<String> {
    match status {
        WorkflowExecutionStatus::Terminated => Some("the run was terminated in Temporal".into()),
        WorkflowExecutionStatus::TimedOut => Some("the run timed out".into()),
        WorkflowExecutionStatus::Failed => Some("the run failed".into()),
        _ => None,
    }
}

fn build_run(
    meta: RunMeta,
    status: WorkflowExecutionStatus,
    start: Option<SystemTime>,
    close: Option<SystemTime>,
    progress: Option<Progress>,
) -> WorkflowRun {
    let run_status = run_status(status, progress.as_ref());
    let progress = progress.unwrap_or_default();
    let created = start.map(millis).unwrap_or(0);
    let updated = match close {
        Some(close) => millis(close),
        None => progress.updated_at_ms.max(created),
    };
    let error = match run_status {
        RunStatus::Failed => progress.error.clone().or_else(|| default_error(status)),
        _ => None,
    };
    let result = match run_status {
        RunStatus::Succeeded => progress.result.clone(),
        _ => None,
    };
    WorkflowRun {
        id: RunId::new(meta.run_id),
        workspace_id: WorkspaceId::new(meta.workspace_id),
        kind: meta.kind,
        status: run_status,
        input: meta.input,
        result,
        error,
        current_step: progress.current_step,
        steps_done: progress.steps_done,
        steps_total: progress.steps_total,
        events: progress
            .events
            .into_iter()
            .map(|e| RunEvent {
                at: Timestamp(e.at_ms),
                message: e.message,
            })
            .collect(),
        started_by: UserId::new(meta.started_by),
        created_at: Timestamp(created),
        updated_at: Timestamp(updated),
        attempt: progress.attempt.max(1),
        cancel_requested: progress.cancel_requested || status == WorkflowExecutionStatus::Canceled,
    }
}

/// The part of a workspace id that can go into a visibility filter literal as is; the rest of
/// the scoping is done on the memo.
fn safe_prefix(workspace: &WorkspaceId) -> String {
    let mut prefix: String = workspace
        .as_str()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .collect();
    if prefix.len() == workspace.as_str().len() {
        prefix.push('/');
    }
    prefix
}

/// Newest first: start time (µs) descending, then run id descending.
type SortKey = (i64, String);

impl TemporalEngine {
    /// Connects to Temporal (the client side, for `orbit serve`). Runs execute on workers
    /// ([`crate::run_worker`]) polling `config.task_queue`.
    pub async fn connect(config: TemporalConfig) -> Result<Self, EngineError> {
        let client = connect_client(&config).await?;
        Ok(TemporalEngine { client, config })
    }

    pub fn config(&self) -> &TemporalConfig {
        &self.config
    }

    fn handle(
        &self,
        workflow_id: &str,
    ) -> temporalio_client::WorkflowHandle<Client, OrbitWorkflow> {
        self.client
            .get_workflow_handle::<OrbitWorkflow>(workflow_id.to_owned())
    }

    /// The live progress, if a worker answers the query in time.
    async fn query_progress(&self, workflow_id: &str, timeout: Duration) -> Option<Progress> {
        let options = WorkflowQueryOptions::builder()
            .rpc_options(RpcOptions::builder().timeout(timeout).build())
            .build();
        let handle = self.handle(workflow_id);
        let query = handle.query(OrbitWorkflow::progress, (), options);
        match tokio::time::timeout(timeout + Duration::from_millis(500), query).await {
            Ok(Ok(progress)) => Some(progress),
            Ok(Err(e)) => {
                tracing::debug!(workflow_id, error = %e, "progress query failed");
                None
            }
            Err(_) => None,
        }
    }

    /// Reads a run; `live` asks the workflow itself for its progress when it is open.
    async fn load(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        live: bool,
    ) -> Result<Option<Loaded>, EngineError> {
        if id.as_str().is_empty() || id.as_str().contains('/') {
            return Ok(None);
        }
        let workflow_id = workflow_id(workspace, id);
        let handle = self.handle(&workflow_id);
        let description = match handle.describe(WorkflowDescribeOptions::default()).await {
            Ok(d) => d,
            Err(WorkflowInteractionError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(interaction_error("cannot describe the run", e)),
        };
        let memo = description.memo();
        let Some(meta) = meta_of(&memo) else {
            return Ok(None);
        };
        if meta.workspace_id != workspace.as_str() || meta.run_id != id.as_str() {
            return Ok(None);
        }
        let status = description.status();
        let open = is_open(status);
        let mut progress = progress_of(&memo);
        let waiting_after_failure = progress.as_ref().is_some_and(|p| p.error.is_some());
        if open && live {
            if let Some(live) = self.query_progress(&workflow_id, QUERY_TIMEOUT).await {
                progress = Some(live);
            }
        }
        let start = description.start_time();
        let mut run = build_run(meta, status, start, description.close_time(), progress);
        // A closed run without its snapshot (terminated, or closed by an older worker): ask
        // Temporal for the outcome.
        if !open
            && run.result.is_none()
            && matches!(
                status,
                WorkflowExecutionStatus::Completed | WorkflowExecutionStatus::Failed
            )
        {
            match handle.get_result(WorkflowGetResultOptions::default()).await {
                Ok(result) => run.result = Some(result),
                Err(WorkflowGetResultError::Failed(failure))
                    if run.error.is_none() || status == WorkflowExecutionStatus::Failed =>
                {
                    run.error = Some(failure.failure().message.clone());
                }
                Err(_) => {}
            }
        }
        Ok(Some(Loaded {
            run,
            open,
            start,
            execution: description.run_id().to_owned(),
            waiting_after_failure,
        }))
    }

    async fn must_load(&self, workspace: &WorkspaceId, id: &RunId) -> Result<Loaded, EngineError> {
        self.load(workspace, id, true)
            .await?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))
    }
}

#[async_trait]
impl WorkflowEngine for TemporalEngine {
    async fn start(&self, start: StartRun) -> Result<(WorkflowRun, bool), EngineError> {
        let workflow_id = workflow_id(&start.workspace_id, &start.id);
        let meta = RunMeta {
            workspace_id: start.workspace_id.as_str().to_owned(),
            kind: start.kind.clone(),
            input: start.input.clone(),
            run_id: start.id.as_str().to_owned(),
            started_by: start.started_by.as_str().to_owned(),
        };
        let input = RunInput {
            workspace_id: meta.workspace_id.clone(),
            kind: meta.kind.clone(),
            input: meta.input.clone(),
            run_id: meta.run_id.clone(),
            started_by: meta.started_by.clone(),
        };
        let mut memo = MemoValues::new();
        memo.insert(META_MEMO, meta);
        let options =
            WorkflowStartOptions::new(self.config.task_queue.clone(), workflow_id.clone())
                // One execution per id, ever (within the namespace's retention): starting it
                // again, running or closed, returns the existing run.
                .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
                .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
                .memo(memo)
                .static_summary(format!(
                    "{} in workspace {}",
                    start.kind,
                    start.workspace_id.as_str()
                ))
                .build();
        let created = match self
            .client
            .start_workflow(OrbitWorkflow::run, input, options)
            .await
        {
            Ok(_) => true,
            Err(WorkflowStartError::AlreadyStarted { .. }) => false,
            Err(WorkflowStartError::Rpc(status)) => {
                return Err(rpc_error("cannot start the run", &status));
            }
            Err(e) => {
                return Err(EngineError::Unavailable(format!(
                    "cannot start the run: {e}"
                )));
            }
        };
        let loaded = self
            .load(&start.workspace_id, &start.id, false)
            .await?
            .ok_or_else(|| {
                EngineError::Conflict(format!(
                    "workflow id '{workflow_id}' is taken by a workflow that is not an Orbit run"
                ))
            })?;
        let run = loaded.run;
        if !created && (run.kind != start.kind || run.input != start.input) {
            return Err(EngineError::Conflict(format!(
                "a run with id '{}' already exists with another kind or input",
                start.id
            )));
        }
        Ok((run, created))
    }

    async fn get(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Option<WorkflowRun>, EngineError> {
        Ok(self.load(workspace, id, true).await?.map(|l| l.run))
    }

    async fn list(
        &self,
        workspace: &WorkspaceId,
        filter: &RunFilter,
        page: &PageRequest,
    ) -> Result<Vec<WorkflowRun>, EngineError> {
        if page.limit == 0 {
            return Ok(Vec::new());
        }
        // What Temporal's status can pre-filter; the rest is decided on the memo.
        let statuses: Option<&[&str]> = match filter.status {
            None => None,
            // Temporal does not tell a queued run from a running one: open runs are `running`.
            Some(RunStatus::Pending) => return Ok(Vec::new()),
            Some(RunStatus::Running) => Some(&["Running"]),
            Some(RunStatus::Failed) => Some(&["Running", "Failed", "TimedOut", "Terminated"]),
            Some(RunStatus::Succeeded) => Some(&["Completed"]),
            Some(RunStatus::Cancelled) => Some(&["Canceled"]),
        };
        let mut query = format!("WorkflowId STARTS_WITH '{}'", safe_prefix(workspace));
        if let Some(statuses) = statuses {
            let list: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
            query.push_str(&format!(" AND ExecutionStatus IN ({})", list.join(", ")));
        }
        let cursor: Option<SortKey> = match &page.after {
            None => None,
            Some(after) => {
                let after = RunId::new(after.clone());
                let Some(loaded) = self.load(workspace, &after, false).await? else {
                    return Ok(Vec::new());
                };
                let start = loaded.start.unwrap_or(std::time::UNIX_EPOCH);
                // A generous bound for the store (whatever precision it keeps); the exact
                // comparison is done below.
                query.push_str(&format!(
                    " AND StartTime <= '{}'",
                    rfc3339(start + Duration::from_secs(1))
                ));
                Some((micros(start), after.as_str().to_owned()))
            }
        };
        let executions: Vec<_> = self
            .client
            .list_workflows(
                query,
                WorkflowListOptions::builder().limit(MAX_LIST_SCAN).build(),
            )
            .try_collect()
            .await
            .map_err(|e| EngineError::Unavailable(format!("cannot list runs: {e}")))?;
        let mut candidates = Vec::new();
        for execution in executions {
            let memo = execution.memo();
            let Some(meta) = meta_of(&memo) else { continue };
            if meta.workspace_id != workspace.as_str()
                || execution.id() != format!("{}/{}", meta.workspace_id, meta.run_id)
            {
                continue;
            }
            if filter.kind.as_deref().is_some_and(|k| k != meta.kind) {
                continue;
            }
            let status = execution.status();
            let progress = progress_of(&memo);
            if filter
                .status
                .is_some_and(|s| s != run_status(status, progress.as_ref()))
            {
                continue;
            }
            let key: SortKey = (
                execution.start_time().map(micros).unwrap_or(0),
                meta.run_id.clone(),
            );
            if cursor.as_ref().is_some_and(|c| key >= *c) {
                continue;
            }
            candidates.push((
                key,
                meta,
                status,
                execution.start_time(),
                execution.close_time(),
                progress,
            ));
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0));
        // Like every engine: up to `limit + 1` runs, the extra one telling the caller that
        // another page follows.
        candidates.truncate(page.limit as usize + 1);
        let runs = futures::stream::iter(candidates)
            .map(|(_, meta, status, start, close, progress)| async move {
                let progress = if is_open(status) {
                    let id = format!("{}/{}", meta.workspace_id, meta.run_id);
                    self.query_progress(&id, LIST_QUERY_TIMEOUT)
                        .await
                        .or(progress)
                } else {
                    progress
                };
                build_run(meta, status, start, close, progress)
            })
            .buffered(LIST_QUERY_CONCURRENCY)
            .collect()
            .await;
        Ok(runs)
    }

    async fn cancel(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, EngineError> {
        let Loaded { mut run, open, .. } = self.must_load(workspace, id).await?;
        if !open {
            return Err(EngineError::FailedPrecondition(format!(
                "run '{id}' has already finished ({})",
                run.status
            )));
        }
        let options = WorkflowCancelOptions::builder()
            .reason("cancelled through Orbit")
            .build();
        match self
            .handle(&workflow_id(workspace, id))
            .cancel(options)
            .await
        {
            Ok(()) => {}
            Err(WorkflowInteractionError::NotFound(_)) => {
                return Err(EngineError::FailedPrecondition(format!(
                    "run '{id}' has already finished"
                )));
            }
            Err(WorkflowInteractionError::Rpc(status))
                if status.code() == tonic::Code::FailedPrecondition =>
            {
                return Err(EngineError::FailedPrecondition(format!(
                    "run '{id}' has already finished"
                )));
            }
            Err(e) => return Err(interaction_error("cannot cancel the run", e)),
        }
        run.cancel_requested = true;
        Ok(run)
    }

    async fn retry(&self, workspace: &WorkspaceId, id: &RunId) -> Result<WorkflowRun, EngineError> {
        let Loaded {
            mut run,
            open,
            execution,
            waiting_after_failure,
            ..
        } = self.must_load(workspace, id).await?;
        match (run.status, open) {
            // Waiting after a failed step: the signal resumes it.
            (RunStatus::Failed, true) => {
                let handle = self.handle(&workflow_id(workspace, id));
                match handle
                    .signal(OrbitWorkflow::retry, (), WorkflowSignalOptions::default())
                    .await
                {
                    Ok(()) => {}
                    Err(WorkflowInteractionError::NotFound(_)) => {
                        return Err(EngineError::FailedPrecondition(format!(
                            "run '{id}' has finished meanwhile"
                        )));
                    }
                    Err(e) => return Err(interaction_error("cannot retry the run", e)),
                }
            }
            (RunStatus::Cancelled, false) => {
                self.reset_cancelled(workspace, id, &execution, waiting_after_failure)
                    .await?
            }
            (RunStatus::Failed, false) => {
                return Err(EngineError::FailedPrecondition(format!(
                    "run '{id}' failed as a whole (not in a step) and cannot be resumed"
                )));
            }
            (status, _) => {
                return Err(EngineError::FailedPrecondition(format!(
                    "run '{id}' is {status}; only a failed or cancelled run can be retried"
                )));
            }
        }
        run.status = RunStatus::Running;
        run.error = None;
        run.cancel_requested = false;
        run.attempt += 1;
        Ok(run)
    }

    fn name(&self) -> &'static str {
        "temporal"
    }
}

impl TemporalEngine {
    /// Brings a cancelled run back: resets it to its last workflow task before the cancellation
    /// (completed activities stay in the history; the one the cancellation interrupted runs
    /// again), then sends the new execution the `resume` signal so it counts the attempt (and
    /// resumes at once if it was waiting after a failed step).
    async fn reset_cancelled(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        execution: &str,
        waiting_after_failure: bool,
    ) -> Result<(), EngineError> {
        let workflow_id = workflow_id(workspace, id);
        let events = self
            .handle(&workflow_id)
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| interaction_error("cannot read the run's history", e))?;
        let cancel_requested = events
            .iter()
            .find(|e| e.event_type() == EventType::WorkflowExecutionCancelRequested)
            .map(|e| e.event_id)
            .unwrap_or(i64::MAX);
        let Some(point) = events
            .iter()
            .filter(|e| {
                e.event_type() == EventType::WorkflowTaskCompleted && e.event_id < cancel_requested
            })
            .map(|e| e.event_id)
            .max()
        else {
            return Err(EngineError::FailedPrecondition(format!(
                "run '{id}' was cancelled before it started; there is nothing to resume"
            )));
        };
        let nanos = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let request = ResetWorkflowExecutionRequest {
            namespace: self.config.namespace.clone(),
            workflow_execution: Some(ProtoWorkflowExecution {
                workflow_id: workflow_id.clone(),
                run_id: execution.to_owned(),
            }),
            reason: "retried through Orbit".into(),
            workflow_task_finish_event_id: point,
            request_id: format!("orbit-retry-{workflow_id}-{execution}-{nanos}"),
            reset_reapply_exclude_types: vec![
                ResetReapplyExcludeType::Signal as i32,
                ResetReapplyExcludeType::Update as i32,
            ],
            ..Default::default()
        };
        let mut client = self.client.clone();
        WorkflowService::reset_workflow_execution(&mut client, request.into_request())
            .await
            .map_err(|status| rpc_error("cannot reset the run", &status))?;
        // Server 1.29 refuses a signal as a post-reset operation: send it to the new execution
        // (the workflow id's current one). Should this fail, the run is back but not counted;
        // if it was waiting after a failed step it still waits, and `retry` resumes it.
        self.handle(&workflow_id)
            .signal(
                OrbitWorkflow::resume,
                waiting_after_failure,
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(|e| interaction_error("the run was reset, but could not be resumed", e))
    }
}
