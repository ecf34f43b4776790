//! Orbit's workflow port on Temporal.
//!
//! - [`TemporalEngine`] (client side, for `orbit serve`) implements
//!   [`orbit_ports::WorkflowEngine`]: start, get, list, cancel and retry runs, each scoped to a
//!   workspace.
//! - [`run_worker`] (for `orbit worker`) polls the task queue and runs Orbit's
//!   [`orbit_ports::WorkflowDefinition`]s and [`orbit_ports::Activity`]s from a
//!   [`orbit_ports::WorkflowRegistry`].
//!
//! # Design
//!
//! Temporal sees ONE workflow type ([`WORKFLOW_TYPE`], [`OrbitWorkflow`]) whose input names the
//! definition's kind, and ONE activity type ([`ACTIVITY_TYPE`]) whose input names the Orbit
//! activity. Each `WorkflowContext::call` of a definition is one execution of that activity,
//! with the call's timeout and retry policy (attempts, initial backoff doubling up to the
//! maximum) and an idempotency key `{run_id}:{call number}`. Completed calls are in the
//! workflow's history: a crash, a replay or a retry never runs them again.
//!
//! **Progress** lives in the workflow's state (current step, steps done/total, the last
//! [`MAX_EVENTS`] events stamped with the workflow clock) and is read with the `progress`
//! query; the workflow also leaves a snapshot in its memo when it starts waiting after a failed
//! step, when it resumes and when it ends, so closed runs (and `list`) need no worker.
//!
//! **Failure and retry**: when a call fails for good (non-retryable, or out of attempts) the
//! workflow does not end: it reports `failed` with the error and waits for the `retry` signal
//! (then runs the failed call again and goes on) or for a cancellation (then it ends
//! cancelled). [`TemporalEngine`]'s `retry` sends that signal; `cancel` is Temporal's cancel.
//! A *cancelled* run is retried by resetting its workflow to the last workflow task before the
//! cancellation (completed calls stay in the history; the interrupted one runs again, so it
//! may run twice under the same idempotency key) and sending the new execution the `resume`
//! signal. A run whose workflow failed as a whole (unknown kind, `WorkflowFailure::Invalid`,
//! terminated) cannot be retried.
//!
//! **Cancellation** reaches a running activity through its heartbeats (the activity wrapper
//! heartbeats every second while the Orbit activity runs, with a 5 s heartbeat timeout; the
//! SDK sends one every 4 s at most) and sets its [`orbit_ports::CancelFlag`]; the workflow
//! itself stops at once (the activity's cancellation type is `TryCancel`).
//!
//! **Status**: Temporal's status, refined by the workflow's own: an open workflow that waits
//! after a failed step is `failed`. Temporal does not tell a queued run from a running one
//! cheaply, so open runs are never `pending`.
//!
//! **Listing**: a visibility list filtered on the workflow id prefix (and on Temporal's status
//! where it says enough), sorted newest first (start time, then id) here, because the SQL
//! visibility stores (dev server, self-hosted) refuse `ORDER BY`. Kind and the `failed`-while-
//! waiting status are filtered on the memo. A page reads all runs of the workspace that started
//! before its cursor (at most 10 000), and returns up to `limit + 1` runs, like every engine.
//!
//! Runs are the Temporal workflows `{workspace_id}/{run_id}`; every read checks the workspace
//! recorded in the memo as well as the id prefix.

mod engine;
mod model;
mod worker;
mod workflow;

pub use engine::{DEFAULT_TASK_QUEUE, TemporalConfig, TemporalEngine, workflow_id};
pub use model::{ActivityCall, MAX_EVENTS, Progress, ProgressEvent, RunInput};
pub use worker::run_worker;
pub use workflow::{
    ACTIVITY_TYPE, OrbitActivities, OrbitWorkflow, PROGRESS_QUERY, RESUME_SIGNAL, RETRY_SIGNAL,
    WORKFLOW_TYPE,
};
