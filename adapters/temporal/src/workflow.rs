//! The worker side: ONE generic Temporal workflow that runs any registered
//! [`WorkflowDefinition`], and ONE generic Temporal activity that runs any registered
//! [`Activity`] by name.
//!
//! Everything in [`OrbitWorkflow`] runs under Temporal's replay rules: it only reads the
//! workflow's own clock (`workflow_time`), its state and activity results, so replaying the
//! history rebuilds the same state (progress, events, sequence numbers) without repeating any
//! side effect.

use crate::model::{
    ActivityCall, PROGRESS_MEMO, Progress, RunInput, STATUS_CANCELLED, STATUS_FAILED,
    STATUS_RUNNING, STATUS_SUCCEEDED, millis,
};
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_core::workflow::RunId;
use orbit_ports::{
    ActivityContext as OrbitActivityContext, ActivityError as OrbitActivityError,
    ActivityOptions as OrbitActivityOptions, CancelFlag, ParallelCall,
    WorkflowContext as OrbitWorkflowContext, WorkflowFailure, WorkflowRegistry, join_in_order,
};
use std::sync::Arc;
use std::time::Duration;
use temporalio_common::protos::temporal::api::enums::v1::RetryState;
use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityCancellationType, ActivityExecutionError, ActivityOptions, ApplicationFailure,
    MemoValue, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};
use temporalio_workflow::{workflow, workflow_methods};

/// The Temporal workflow type name.
pub const WORKFLOW_TYPE: &str = "orbit.workflow";
/// The Temporal activity type name.
pub const ACTIVITY_TYPE: &str = "orbit.activity";
/// The signal that resumes a run waiting after a failed step.
pub const RETRY_SIGNAL: &str = "retry";
/// The signal the engine attaches to the reset that brings a cancelled run back.
pub const RESUME_SIGNAL: &str = "resume";
/// The query that returns [`Progress`].
pub const PROGRESS_QUERY: &str = "progress";

/// Activities must heartbeat within this long (capped by their timeout): a worker that dies
/// mid-activity is noticed after this, and cancellations reach activities through heartbeats.
pub(crate) const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the activity wrapper heartbeats (the SDK throttles to 80 % of the timeout).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// The generic workflow's state: what the `progress` query returns, plus the registry the
/// worker built it with and the retries asked for and not yet used.
#[workflow]
pub struct OrbitWorkflow {
    registry: Arc<WorkflowRegistry>,
    progress: Progress,
    /// A failed call waiting for a retry uses one and runs again. Cleared when a call succeeds,
    /// so a stray one (two retries racing) never retries a later failure by itself.
    retry_credits: u32,
    /// Calls waiting after a failure (more than one when calls run in parallel): a retry
    /// signal resumes them all.
    waiting_calls: u32,
}

impl OrbitWorkflow {
    pub(crate) fn new(registry: Arc<WorkflowRegistry>) -> Self {
        OrbitWorkflow {
            registry,
            progress: Progress::default(),
            retry_credits: 0,
            waiting_calls: 0,
        }
    }
}

fn now_ms<W>(ctx: &WorkflowContext<W>) -> i64 {
    ctx.workflow_time().map(millis).unwrap_or(0)
}

fn record(ctx: &WorkflowContext<OrbitWorkflow>, f: impl FnOnce(&mut Progress, i64)) {
    let at = now_ms(ctx);
    ctx.state_mut(|s| f(&mut s.progress, at));
}

/// Leaves the current progress in the memo, where `get` and `list` find it without a worker.
fn snapshot(ctx: &WorkflowContext<OrbitWorkflow>) -> WorkflowResult<()> {
    let progress = ctx.state(|s| s.progress.clone());
    ctx.upsert_memo([(PROGRESS_MEMO, Some(MemoValue::new(progress)))])?;
    Ok(())
}

#[workflow_methods(factory_only)]
impl OrbitWorkflow {
    #[run(name = "orbit.workflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: RunInput) -> WorkflowResult<String> {
        let registry = ctx.state(|s| s.registry.clone());
        record(ctx, |p, at| {
            p.status = STATUS_RUNNING.into();
            p.attempt = 1;
            p.push_event(at, format!("{} started", input.kind));
        });
        let Some(definition) = registry.definitions.get(input.kind.as_str()).cloned() else {
            let message = format!("unknown workflow kind '{}' on this worker", input.kind);
            record(ctx, |p, at| {
                p.status = STATUS_FAILED.into();
                p.error = Some(message.clone());
                p.push_event(at, message.clone());
            });
            snapshot(ctx)?;
            return Err(ApplicationFailure::non_retryable(message).into());
        };
        let mut context = TemporalContext {
            ctx: ctx.clone(),
            workspace_id: input.workspace_id.clone(),
            run_id: input.run_id.clone(),
            calls: 0,
        };
        let outcome = definition.run(&mut context, input.input).await;
        match outcome {
            Ok(result) => {
                record(ctx, |p, at| {
                    p.status = STATUS_SUCCEEDED.into();
                    p.error = None;
                    p.result = Some(result.clone());
                    p.push_event(at, "succeeded");
                });
                snapshot(ctx)?;
                Ok(result)
            }
            Err(WorkflowFailure::Cancelled) => {
                record(ctx, |p, at| {
                    p.status = STATUS_CANCELLED.into();
                    p.cancel_requested = true;
                    p.push_event(at, "cancelled");
                });
                snapshot(ctx)?;
                Err(WorkflowTermination::cancelled())
            }
            Err(failure) => {
                let message = failure.to_string();
                record(ctx, |p, at| {
                    p.status = STATUS_FAILED.into();
                    p.error = Some(message.clone());
                    p.push_event(at, format!("failed: {message}"));
                });
                snapshot(ctx)?;
                Err(ApplicationFailure::non_retryable(message).into())
            }
        }
    }

    /// Resumes a run that waits after a failed step; ignored otherwise.
    #[signal(name = "retry")]
    pub fn retry(&mut self, _ctx: &mut SyncWorkflowContext<Self>) {
        if self.progress.status == STATUS_FAILED {
            self.retry_credits += self.waiting_calls.max(1);
        }
    }

    /// Sent by the engine right after the reset that retries a cancelled run (the reset rewinds
    /// the run to its last workflow task before the cancellation). `waiting_after_failure`
    /// says whether the run was waiting after a failed step when it was cancelled: the rewound
    /// task then fails that step again, and the retry this grants resumes it at once. The
    /// signal may be applied before the rewound task's own events, so it cannot look at the
    /// status here.
    #[signal(name = "resume")]
    pub fn resume(&mut self, ctx: &mut SyncWorkflowContext<Self>, waiting_after_failure: bool) {
        if waiting_after_failure {
            // The waiting call counts the attempt when it resumes.
            self.retry_credits += 1;
        } else {
            let at = ctx.workflow_time().map(millis).unwrap_or(0);
            self.progress.attempt += 1;
            let message = format!(
                "resumed after the cancellation (attempt {})",
                self.progress.attempt
            );
            self.progress.push_event(at, message);
        }
    }

    #[query(name = "progress")]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> Progress {
        self.progress.clone()
    }
}

/// The [`OrbitWorkflowContext`] a definition sees when it runs on Temporal.
struct TemporalContext {
    ctx: WorkflowContext<OrbitWorkflow>,
    workspace_id: String,
    run_id: String,
    /// Calls made so far: the sequence number in idempotency keys (deterministic on replay).
    calls: u64,
}

impl TemporalContext {
    fn cancelled(&self) -> WorkflowFailure {
        record(&self.ctx, |p, _| p.cancel_requested = true);
        WorkflowFailure::Cancelled
    }
}

fn activity_options(activity: &str, options: &OrbitActivityOptions) -> ActivityOptions {
    let initial = options.initial_backoff.max(Duration::from_millis(1));
    let retry = temporalio_sdk_retry_policy(
        options.max_attempts.max(1),
        initial,
        options.max_backoff.max(initial),
    );
    ActivityOptions::with_start_to_close_timeout(options.timeout.max(Duration::from_millis(1)))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT.min(options.timeout.max(Duration::from_secs(1))))
        .retry_policy(retry)
        .cancellation_type(ActivityCancellationType::TryCancel)
        .summary(activity.to_owned())
        .build()
}

fn temporalio_sdk_retry_policy(
    max_attempts: u32,
    initial: Duration,
    max: Duration,
) -> temporalio_common::RetryPolicy {
    temporalio_common::RetryPolicy::builder()
        .maximum_attempts(max_attempts)
        .initial_interval(initial)
        .backoff_coefficient(2.0)
        .maximum_interval(max)
        .build()
}

/// The message of an activity that failed for good: the application failure's own message
/// when there is one (not Temporal's "Activity task failed" wrapper), and whether it ran out of
/// attempts.
fn failure_message(error: &ActivityExecutionError, max_attempts: u32) -> String {
    let message = match error.reason() {
        Some(reason) if !reason.failure().message.is_empty() => reason.failure().message.clone(),
        Some(reason) => reason.to_string(),
        None => error.to_string(),
    };
    let gave_up = match error {
        ActivityExecutionError::Failed(failure) => failure.failure().failure_info.as_ref().is_some_and(|info| {
            matches!(info, FailureInfo::ActivityFailureInfo(a) if a.retry_state == RetryState::MaximumAttemptsReached as i32)
        }),
        _ => false,
    };
    if gave_up {
        format!("{message} (gave up after {max_attempts} attempts)")
    } else {
        message
    }
}

impl TemporalContext {
    /// Runs the call numbered `seq`. Takes `&self` so that the calls of a `call_all` run
    /// interleaved; everything they share lives in the workflow's state.
    async fn step(
        &self,
        seq: u64,
        activity: &str,
        input: String,
        options: OrbitActivityOptions,
    ) -> Result<String, WorkflowFailure> {
        let call = ActivityCall {
            name: activity.to_owned(),
            input,
            workspace_id: self.workspace_id.clone(),
            run_id: self.run_id.clone(),
            // The same form as the embedded engine: run ids are unique per workspace only.
            idempotency_key: format!("{}/{}/{}", self.workspace_id, self.run_id, seq),
        };
        let options_attempts = options.max_attempts.max(1);
        let options = activity_options(activity, &options);
        loop {
            if self.ctx.cancellation_token().is_cancelled() {
                return Err(self.cancelled());
            }
            record(&self.ctx, |p, at| {
                p.current_step = activity.to_owned();
                p.push_event(at, format!("step {seq} ({activity}) started"));
            });
            let outcome = self
                .ctx
                .execute_activity(OrbitActivities::run_activity, call.clone(), options.clone())
                .await;
            let error = match outcome {
                Ok(output) => {
                    record(&self.ctx, |p, at| {
                        p.steps_done += 1;
                        p.push_event(at, format!("step {seq} ({activity}) done"));
                    });
                    // A stray retry (two racing) must not resume a later failure by itself;
                    // credits meant for calls waiting next to this one are kept.
                    self.ctx.state_mut(|s| {
                        if s.waiting_calls == 0 {
                            s.retry_credits = 0
                        }
                    });
                    return Ok(output);
                }
                Err(ActivityExecutionError::Cancelled(_)) => return Err(self.cancelled()),
                Err(_) if self.ctx.cancellation_token().is_cancelled() => {
                    return Err(self.cancelled());
                }
                Err(error) => failure_message(&error, options_attempts),
            };
            // Failed for good (non-retryable, or out of attempts): the run does not end. It
            // reports `failed` and waits for a retry signal (then runs this call again; the
            // calls before it are in the history and are not repeated) or a cancellation.
            // Calls running next to it (`call_all`) go on meanwhile.
            record(&self.ctx, |p, at| {
                p.status = STATUS_FAILED.into();
                p.error = Some(format!("step {activity} failed: {error}"));
                p.push_event(
                    at,
                    format!("step {seq} ({activity}) failed: {error}; waiting for a retry"),
                );
            });
            snapshot(&self.ctx).map_err(|e| WorkflowFailure::Invalid(e.to_string()))?;
            self.ctx.state_mut(|s| s.waiting_calls += 1);
            let resumed = self.ctx.wait_condition(|s| s.retry_credits > 0).await;
            self.ctx.state_mut(|s| s.waiting_calls -= 1);
            if resumed.is_err() {
                return Err(self.cancelled());
            }
            self.ctx.state_mut(|s| s.retry_credits -= 1);
            let still_waiting = self.ctx.state(|s| s.waiting_calls > 0);
            record(&self.ctx, |p, at| {
                if !still_waiting {
                    p.status = STATUS_RUNNING.into();
                    p.error = None;
                }
                p.attempt += 1;
                p.push_event(
                    at,
                    format!(
                        "retry requested (attempt {}): step {seq} ({activity})",
                        p.attempt
                    ),
                );
            });
            snapshot(&self.ctx).map_err(|e| WorkflowFailure::Invalid(e.to_string()))?;
        }
    }
}

#[async_trait(?Send)]
impl OrbitWorkflowContext for TemporalContext {
    async fn call(
        &mut self,
        activity: &str,
        input: String,
        options: OrbitActivityOptions,
    ) -> Result<String, WorkflowFailure> {
        self.calls += 1;
        self.step(self.calls, activity, input, options).await
    }

    async fn call_all(
        &mut self,
        calls: Vec<ParallelCall>,
        max_concurrent: usize,
    ) -> Vec<Result<String, WorkflowFailure>> {
        // Numbered in the order given; the activities are scheduled in that order too (the
        // joiner polls in index order), so a replay issues the same commands.
        let first = self.calls + 1;
        self.calls += calls.len() as u64;
        let this = &*self;
        let futures = calls
            .iter()
            .zip(first..)
            .map(|(call, seq)| {
                Box::pin(async move {
                    this.step(seq, &call.activity, call.input.clone(), call.options)
                        .await
                })
                    as std::pin::Pin<
                        Box<dyn std::future::Future<Output = Result<String, WorkflowFailure>>>,
                    >
            })
            .collect();
        join_in_order(futures, max_concurrent).await
    }

    fn set_total(&mut self, steps: u32) {
        record(&self.ctx, |p, at| {
            p.steps_total = steps;
            p.updated_at_ms = at;
        });
    }

    fn log(&mut self, message: &str) {
        record(&self.ctx, |p, at| p.push_event(at, message));
    }
}

/// The generic activity: runs the registry's [`orbit_ports::Activity`] named in the call.
pub struct OrbitActivities {
    registry: Arc<WorkflowRegistry>,
}

impl OrbitActivities {
    pub(crate) fn new(registry: Arc<WorkflowRegistry>) -> Self {
        OrbitActivities { registry }
    }
}

#[temporalio_sdk::activities::activities]
impl OrbitActivities {
    #[activity(name = "orbit.activity")]
    pub async fn run_activity(
        self: Arc<Self>,
        ctx: ActivityContext,
        call: ActivityCall,
    ) -> Result<String, ActivityError> {
        let Some(activity) = self.registry.activities.get(call.name.as_str()).cloned() else {
            return Err(ActivityError::application(
                ApplicationFailure::non_retryable(format!(
                    "unknown activity '{}' on this worker",
                    call.name
                )),
            ));
        };
        let cancel = CancelFlag::default();
        let orbit_ctx = OrbitActivityContext {
            workspace_id: WorkspaceId::new(call.workspace_id),
            run_id: RunId::new(call.run_id),
            idempotency_key: call.idempotency_key,
            attempt: ctx.info().attempt.max(1),
            cancel: cancel.clone(),
        };
        let work = activity.run(&orbit_ctx, call.input);
        tokio::pin!(work);
        let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome,
                _ = heartbeat.tick() => {
                    // Heartbeats tell Temporal the worker is alive, and bring back cancellations.
                    let _ = ctx.record_heartbeat(()).await;
                }
                _ = ctx.cancelled(), if !cancel.is_cancelled() => cancel.cancel(),
            }
        };
        match outcome {
            Ok(output) => Ok(output),
            Err(_) if ctx.is_cancelled() => Err(ActivityError::cancelled()),
            Err(OrbitActivityError::NonRetryable(message)) => Err(ActivityError::application(
                ApplicationFailure::non_retryable(message),
            )),
            Err(OrbitActivityError::Retryable(message)) => {
                Err(ActivityError::application(ApplicationFailure::new(message)))
            }
        }
    }
}
