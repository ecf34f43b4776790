//! `orbit.demo.steps`: a workflow of N steps, each one call of the activity
//! `orbit.demo.step`. The activity can sleep (checking cancellation), fail a number of
//! times before succeeding, fail without retry until a file exists, and record each
//! completed step as a line in a file (a real side effect that tests count).

use crate::parse;
use async_trait::async_trait;
use orbit_ports::{
    Activity, ActivityContext, ActivityError, ActivityOptions, ParallelCall, WorkflowContext,
    WorkflowDefinition, WorkflowFailure,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

pub const KIND: &str = "orbit.demo.steps";
pub const STEP: &str = "orbit.demo.step";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepsInput {
    /// How many steps (1 to 1000).
    pub steps: u32,
    /// How long each step works.
    #[serde(default)]
    pub sleep_ms: u64,
    /// A directory where each completed step appends `run step attempt` to `<run>.log`.
    #[serde(default)]
    pub effects_dir: Option<String>,
    /// Step number → how many attempts fail (retryably) before one succeeds.
    #[serde(default)]
    pub fail_times: HashMap<String, u32>,
    /// This step fails without retry while `unless_file` does not exist.
    #[serde(default)]
    pub fail_at: Option<u32>,
    #[serde(default)]
    pub unless_file: Option<String>,
    /// The wait before the first retry (default 50 ms).
    #[serde(default)]
    pub backoff_ms: Option<u64>,
    /// Step number → how long that step works (instead of `sleep_ms`).
    #[serde(default)]
    pub step_sleep_ms: HashMap<String, u64>,
    /// Run all steps at once with `call_all` (at most `max_concurrent` at a time, 0: all)
    /// instead of one after the other. The run fails (with the first failure in step order)
    /// only after every step has ended.
    #[serde(default)]
    pub parallel: bool,
    #[serde(default)]
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StepInput {
    step: u32,
    #[serde(flatten)]
    run: StepsInput,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepsResult {
    pub steps: u32,
    /// What each step returned, in order.
    pub outputs: Vec<String>,
}

pub struct StepsWorkflow;

#[async_trait(?Send)]
impl WorkflowDefinition for StepsWorkflow {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn validate(&self, input: &str) -> Result<(), String> {
        let parsed: StepsInput =
            serde_json::from_str(input).map_err(|e| format!("input is not valid: {e}"))?;
        if !(1..=1000).contains(&parsed.steps) {
            return Err("steps must be between 1 and 1000".into());
        }
        if parsed.sleep_ms > 600_000 || parsed.step_sleep_ms.values().any(|ms| *ms > 600_000) {
            return Err("sleep_ms must be at most 600000".into());
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure> {
        let run: StepsInput = parse("input", &input)?;
        ctx.set_total(run.steps);
        let options = ActivityOptions {
            timeout: Duration::from_millis(
                (run.step_sleep_ms.values().copied())
                    .fold(run.sleep_ms, u64::max)
                    .saturating_mul(4)
                    .max(30_000),
            ),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(run.backoff_ms.unwrap_or(50)),
            max_backoff: Duration::from_millis(run.backoff_ms.unwrap_or(50).max(2000)),
        };
        let step_input = |step| {
            serde_json::to_string(&StepInput {
                step,
                run: run.clone(),
            })
            .map_err(|e| WorkflowFailure::Invalid(e.to_string()))
        };
        let mut outputs = Vec::new();
        if run.parallel {
            let calls = (1..=run.steps)
                .map(|step| Ok(ParallelCall::new(STEP, step_input(step)?, options)))
                .collect::<Result<Vec<_>, WorkflowFailure>>()?;
            for out in ctx.call_all(calls, run.max_concurrent).await {
                outputs.push(parse::<String>("step output", &out?)?);
            }
        } else {
            for step in 1..=run.steps {
                let out = ctx.call(STEP, step_input(step)?, options).await?;
                outputs.push(parse::<String>("step output", &out)?);
            }
        }
        ctx.log(&format!("all {} steps done", run.steps));
        serde_json::to_string(&StepsResult {
            steps: run.steps,
            outputs,
        })
        .map_err(|e| WorkflowFailure::Invalid(e.to_string()))
    }
}

/// The step activity.
pub struct StepActivity;

#[async_trait]
impl Activity for StepActivity {
    fn name(&self) -> &'static str {
        STEP
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let input: StepInput = serde_json::from_str(&input)
            .map_err(|e| ActivityError::NonRetryable(format!("invalid step input: {e}")))?;
        let step = input.step;
        let sleep_ms = input
            .run
            .step_sleep_ms
            .get(&step.to_string())
            .copied()
            .unwrap_or(input.run.sleep_ms);
        let mut slept = 0;
        while slept < sleep_ms {
            if ctx.cancel.is_cancelled() {
                return Err(ActivityError::Retryable("cancelled while working".into()));
            }
            let chunk = (sleep_ms - slept).min(10);
            tokio::time::sleep(Duration::from_millis(chunk)).await;
            slept += chunk;
        }
        if let Some(&times) = input.run.fail_times.get(&step.to_string()) {
            if ctx.attempt <= times {
                return Err(ActivityError::Retryable(format!(
                    "step {step} fails on attempt {} of the first {times}",
                    ctx.attempt
                )));
            }
        }
        if input.run.fail_at == Some(step) {
            let unblocked = input
                .run
                .unless_file
                .as_deref()
                .is_some_and(|f| std::path::Path::new(f).exists());
            if !unblocked {
                return Err(ActivityError::NonRetryable(format!(
                    "step {step} is set to fail"
                )));
            }
        }
        if let Some(dir) = &input.run.effects_dir {
            let path = std::path::Path::new(dir).join(format!("{}.log", ctx.run_id));
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| ActivityError::Retryable(format!("cannot record the step: {e}")))?;
            // One write per line: steps running in parallel append to the same file, and an
            // O_APPEND write of a few bytes is not interleaved with another (`writeln!` on a
            // file writes each formatted piece separately).
            let line = format!("{} {} {}\n", ctx.run_id, step, ctx.attempt);
            file.write_all(line.as_bytes())
                .map_err(|e| ActivityError::Retryable(e.to_string()))?;
            file.sync_all()
                .map_err(|e| ActivityError::Retryable(e.to_string()))?;
        }
        serde_json::to_string(&format!("step {step} done"))
            .map_err(|e| ActivityError::NonRetryable(e.to_string()))
    }
}
