//! The worker: polls Orbit's task queue and runs the generic workflow and activity with a
//! [`WorkflowRegistry`].

use crate::engine::{TemporalConfig, connect_client};
use crate::workflow::{OrbitActivities, OrbitWorkflow};
use orbit_ports::{EngineError, WorkflowRegistry};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

/// How long a worker that is shutting down lets running activities finish before it cancels
/// them (they are retried elsewhere).
const GRACEFUL_SHUTDOWN: Duration = Duration::from_secs(5);
/// How long a workflow task waits for the worker that has the run cached before any worker may
/// take it (Temporal's default is 10 s): bounds the delay after a worker dies.
const STICKY_TIMEOUT: Duration = Duration::from_secs(3);

type StopFn = Box<dyn Fn() + Send>;

/// Stops the worker once: when asked, or when the future of [`run_worker`] is dropped (its task
/// aborted, its runtime shut down), so the worker's thread never outlives it.
#[derive(Clone, Default)]
struct Stopper(Arc<Mutex<(bool, Option<StopFn>)>>);

impl Stopper {
    /// Hands over the worker's stop function; calls it at once if a stop was asked before.
    fn arm(&self, stop: StopFn) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 {
            stop();
        }
        state.1 = Some(stop);
    }

    fn stop(&self) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !state.0 {
            state.0 = true;
            if let Some(stop) = &state.1 {
                stop();
            }
        }
    }
}

struct StopOnDrop(Stopper);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs a worker (for `orbit worker`) until `shutdown` completes, then drains it (running
/// activities get 5 s to finish, then are cancelled and retried elsewhere). Several workers may
/// poll the same task queue, in one process or many; each runs the definitions and activities
/// of its own `registry`.
///
/// The SDK's worker is not `Send` (workflows run on a local task set), so it runs on a thread of
/// the blocking pool that drives it with the current runtime's handle; the returned future is
/// `Send`, and dropping it stops the worker too. Call it inside a multi-threaded tokio runtime.
pub async fn run_worker(
    config: TemporalConfig,
    registry: WorkflowRegistry,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), EngineError> {
    let client = connect_client(&config).await?;
    let registry = Arc::new(registry);
    let handle = tokio::runtime::Handle::current();
    let stopper = Stopper::default();
    let guard = StopOnDrop(stopper.clone());
    let task_queue = config.task_queue.clone();
    let mut worker_task = tokio::task::spawn_blocking(move || {
        let inner = handle.clone();
        handle.block_on(async move {
            let _entered = inner.enter();
            let runtime = Runtime::from_current_tokio(Default::default()).map_err(|e| {
                EngineError::Unavailable(format!("cannot start the Temporal runtime: {e}"))
            })?;
            let factory_registry = registry.clone();
            let options = WorkerOptions::new(task_queue)
                .graceful_shutdown_period(GRACEFUL_SHUTDOWN)
                .sticky_queue_schedule_to_start_timeout(STICKY_TIMEOUT)
                .register_workflow_with_factory::<OrbitWorkflow, _>(move || {
                    OrbitWorkflow::new(factory_registry.clone())
                })
                .map_err(|e| {
                    EngineError::Unavailable(format!("cannot register the workflow: {e}"))
                })?
                .register_activities(OrbitActivities::new(registry))
                .build();
            let mut worker = Worker::new(&runtime, client, options).map_err(|e| {
                EngineError::Unavailable(format!("cannot create the Temporal worker: {e}"))
            })?;
            stopper.arm(Box::new(worker.shutdown_handle()));
            worker
                .run()
                .await
                .map_err(|e| EngineError::Unavailable(format!("the Temporal worker stopped: {e}")))
        })
    });
    let joined = |r: Result<Result<(), EngineError>, tokio::task::JoinError>| {
        r.unwrap_or_else(|e| {
            Err(EngineError::Unavailable(format!(
                "the Temporal worker panicked: {e}"
            )))
        })
    };
    tokio::select! {
        result = &mut worker_task => return joined(result),
        () = shutdown => {}
    }
    guard.0.stop();
    joined(worker_task.await)
}
