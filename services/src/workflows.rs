//! Watching and steering workflow runs, and starting them with validated input.

use crate::{Deps, WorkspaceService};
use orbit_core::workflow::{RunId, RunStatus, WorkflowRun};
use orbit_core::{Actor, Error, Page, PageRequest, Result};
use orbit_ports::{EngineError, RunFilter, StartRun};

pub(crate) fn engine_err(err: EngineError) -> Error {
    match err {
        EngineError::NotFound(what) => Error::NotFound(what),
        EngineError::FailedPrecondition(msg) => Error::FailedPrecondition(msg),
        EngineError::Conflict(msg) => Error::AlreadyExists(msg),
        EngineError::Unavailable(msg) => {
            Error::Unavailable(format!("the workflow engine is unavailable: {msg}"))
        }
    }
}

#[derive(Clone)]
pub struct WorkflowService {
    deps: Deps,
    workspaces: WorkspaceService,
}

impl WorkflowService {
    pub(crate) fn new(deps: Deps, workspaces: WorkspaceService) -> Self {
        WorkflowService { deps, workspaces }
    }

    /// The engine's name ("embedded", "temporal").
    pub fn engine(&self) -> &'static str {
        self.deps.workflows.name()
    }

    /// Starts a run after checking the kind and the input. `id` doubles as an idempotency
    /// key; empty: a new id.
    pub async fn start(
        &self,
        actor: &Actor,
        workspace_id: &str,
        kind: &str,
        input: &str,
        id: &str,
    ) -> Result<(WorkflowRun, bool)> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot start workflows".into(),
            ));
        }
        let Some(definition) = self.deps.workflow_definitions.definitions.get(kind) else {
            return Err(Error::invalid(
                "kind",
                format!("'{kind}' is not a workflow this server runs"),
            ));
        };
        definition
            .validate(input)
            .map_err(|msg| Error::invalid("input", msg))?;
        let id = if id.is_empty() {
            RunId::new(self.deps.ids.new_id())
        } else {
            RunId::parse("id", id)?
        };
        let start = StartRun {
            id,
            workspace_id: ws,
            kind: kind.to_owned(),
            input: input.to_owned(),
            started_by: actor.user.id.clone(),
        };
        let (run, created) = self.deps.workflows.start(start).await.map_err(engine_err)?;
        if created {
            tracing::info!(workspace = %run.workspace_id, run = %run.id, kind, user = %actor.user.id, "workflow started");
        }
        Ok((run, created))
    }

    pub async fn get(&self, actor: &Actor, workspace_id: &str, id: &str) -> Result<WorkflowRun> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let id = RunId::parse("id", id)?;
        self.deps
            .workflows
            .get(&ws, &id)
            .await
            .map_err(engine_err)?
            .ok_or_else(|| Error::NotFound(format!("workflow run '{id}'")))
    }

    pub async fn list(
        &self,
        actor: &Actor,
        workspace_id: &str,
        kind: &str,
        status: Option<RunStatus>,
        page: &PageRequest,
    ) -> Result<Page<WorkflowRun>> {
        let (ws, _) = self.workspaces.authorize(actor, workspace_id).await?;
        let filter = RunFilter {
            kind: (!kind.is_empty()).then(|| kind.to_owned()),
            status,
        };
        let rows = self
            .deps
            .workflows
            .list(&ws, &filter, page)
            .await
            .map_err(engine_err)?;
        Ok(Page::from_overfetch(rows, page.limit, |r| r.id.to_string()))
    }

    pub async fn cancel(&self, actor: &Actor, workspace_id: &str, id: &str) -> Result<WorkflowRun> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot cancel workflows".into(),
            ));
        }
        let id = RunId::parse("id", id)?;
        let run = self
            .deps
            .workflows
            .cancel(&ws, &id)
            .await
            .map_err(|e| match e {
                EngineError::FailedPrecondition(msg) => {
                    Error::FailedPrecondition(format!("cannot cancel: {msg}"))
                }
                other => engine_err(other),
            })?;
        tracing::info!(workspace = %ws, run = %id, user = %actor.user.id, "workflow cancellation requested");
        Ok(run)
    }

    pub async fn retry(&self, actor: &Actor, workspace_id: &str, id: &str) -> Result<WorkflowRun> {
        let (ws, role) = self.workspaces.authorize(actor, workspace_id).await?;
        if !role.can_write() {
            return Err(Error::PermissionDenied(
                "viewers cannot retry workflows".into(),
            ));
        }
        let id = RunId::parse("id", id)?;
        let run = self
            .deps
            .workflows
            .retry(&ws, &id)
            .await
            .map_err(|e| match e {
                EngineError::FailedPrecondition(msg) => {
                    Error::FailedPrecondition(format!("cannot retry: {msg}"))
                }
                other => engine_err(other),
            })?;
        tracing::info!(workspace = %ws, run = %id, user = %actor.user.id, "workflow retried");
        Ok(run)
    }
}
