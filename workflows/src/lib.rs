//! Workflow definitions. Each is domain code that calls named activities through
//! `WorkflowContext`; the embedded engine and Temporal run the same definitions.
//!
//! - [`demo`]: `orbit.demo.steps`, N steps with injectable delays and failures. It exercises
//!   engines (tests, crash tests, benchmarks) and is registered only when enabled
//!   (`ORBIT_ENABLE_DEMO_WORKFLOWS=1`).
//! - [`codegen`]: `orbit.api.codegen`, client libraries for an API version, one activity per
//!   language.

pub mod codegen;
pub mod demo;
pub mod knowledge_sync;
pub mod repository_create;

use orbit_ports::WorkflowFailure;
use serde::de::DeserializeOwned;

/// Parses a JSON input or result, mapping errors to `WorkflowFailure::Invalid`.
pub fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, WorkflowFailure> {
    serde_json::from_str(json).map_err(|e| WorkflowFailure::Invalid(format!("invalid {what}: {e}")))
}
