//! Durable workflows: long-running work that survives restarts, retries what failed and
//! never repeats a completed step.

use crate::{Error, Result, Timestamp, UserId, WorkspaceId};
use std::fmt;

/// A run's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Succeeded, failed or cancelled: nothing runs any more (a failed run may be retried).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workflow id: chosen by the caller (it doubles as the idempotency key of the start) or
/// generated. 1 to 128 characters of letters, digits, `-`, `_`, `.` and `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    pub fn new(value: impl Into<String>) -> Self {
        RunId(value.into())
    }
    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        if value.is_empty() || value.len() > 128 {
            return Err(Error::invalid(field, "must be 1 to 128 characters long"));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
        {
            return Err(Error::invalid(
                field,
                format!("may contain only letters, digits, '-', '_', '.' and ':', found {c:?}"),
            ));
        }
        Ok(RunId(value.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of a run's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEvent {
    pub at: Timestamp,
    pub message: String,
}

/// A workflow run as people watch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: RunId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub status: RunStatus,
    /// JSON input, as given to start.
    pub input: String,
    /// JSON result, once succeeded.
    pub result: Option<String>,
    /// What went wrong, once failed.
    pub error: Option<String>,
    /// The step running now (or the last one).
    pub current_step: String,
    pub steps_done: u32,
    pub steps_total: u32,
    pub events: Vec<RunEvent>,
    pub started_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// 1 for the first attempt; +1 per retry of a failed run.
    pub attempt: u32,
    pub cancel_requested: bool,
}
