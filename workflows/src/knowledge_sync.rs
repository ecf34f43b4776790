//! `orbit.knowledge.sync`: exports a knowledge space to a folder of a git repository, or
//! imports one into a space. One durable step (the export or the import, both idempotent:
//! an export that finds nothing changed makes no commit; an import matches pages by id or
//! path and creates no duplicates).

use crate::parse;
use async_trait::async_trait;
use orbit_ports::{ActivityOptions, WorkflowContext, WorkflowDefinition, WorkflowFailure};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const KIND: &str = "orbit.knowledge.sync";
pub const EXPORT: &str = "knowledge.export";
pub const IMPORT: &str = "knowledge.import";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyncInput {
    pub space_id: String,
    /// "export" (space → git) or "import" (git → space).
    pub direction: String,
    pub remote: String,
    pub branch: String,
    /// The folder inside the repository ("docs").
    pub path: String,
    /// The user the sync acts for (who started it).
    pub user_id: String,
    /// The workspace's git host connection whose token authenticates to the remote
    /// (empty: none). Only the id is recorded; the token is looked up when the step runs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connection_id: String,
}

pub struct KnowledgeSyncWorkflow;

#[async_trait(?Send)]
impl WorkflowDefinition for KnowledgeSyncWorkflow {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn validate(&self, input: &str) -> Result<(), String> {
        let input: SyncInput =
            serde_json::from_str(input).map_err(|e| format!("input is not valid: {e}"))?;
        if !matches!(input.direction.as_str(), "export" | "import") {
            return Err("direction must be export or import".into());
        }
        if input.remote.is_empty() || input.space_id.is_empty() {
            return Err("remote and space_id are required".into());
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure> {
        let sync: SyncInput = parse("input", &input)?;
        ctx.set_total(1);
        let options = ActivityOptions {
            timeout: Duration::from_secs(600),
            max_attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        };
        let activity = if sync.direction == "export" {
            EXPORT
        } else {
            IMPORT
        };
        let out = ctx.call(activity, input, options).await?;
        ctx.log(&format!("{} finished: {out}", sync.direction));
        Ok(out)
    }
}
