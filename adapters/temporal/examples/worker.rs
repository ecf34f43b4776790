//! A worker process with the demo registry (`orbit.demo.steps`), used by the crash test:
//!
//! ```text
//! cargo run -p orbit-temporal --example worker -- 127.0.0.1:7233 TASK_QUEUE [NAMESPACE]
//! ```
//!
//! It prints `worker ready` once it polls, and stops on Ctrl-C / SIGTERM.

use orbit_ports::WorkflowRegistry;
use orbit_temporal::{TemporalConfig, run_worker};
use orbit_workflows::demo::{StepActivity, StepsWorkflow};
use std::sync::Arc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(task_queue)) = (args.next(), args.next()) else {
        eprintln!("usage: worker ADDRESS TASK_QUEUE [NAMESPACE]");
        std::process::exit(2);
    };
    let config = TemporalConfig {
        address,
        namespace: args.next().unwrap_or_else(|| "default".into()),
        task_queue,
    };
    let registry = WorkflowRegistry::default()
        .definition(Arc::new(StepsWorkflow))
        .activity(Arc::new(StepActivity));
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    println!("worker ready");
    if let Err(e) = run_worker(config, registry, shutdown).await {
        eprintln!("worker failed: {e}");
        std::process::exit(1);
    }
}
