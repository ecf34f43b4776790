//! `WorkflowStore` in memory.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::workflow::{RunEvent, RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, WorkspaceId};
use orbit_ports::{RunFilter, StepRecord, StepStatus, StoreError, WorkflowStore};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub(crate) struct WorkflowState {
    runs: HashMap<(WorkspaceId, RunId), (WorkflowRun, String, i64)>,
    steps: BTreeMap<(WorkspaceId, RunId, u32), StepRecord>,
}

impl WorkflowState {
    pub(crate) fn remove_workspace(&mut self, ws: &WorkspaceId) {
        self.runs.retain(|(w, _), _| w != ws);
        self.steps.retain(|(w, _, _), _| w != ws);
    }
}

fn not_found(id: &RunId) -> StoreError {
    StoreError::NotFound(format!("workflow run '{id}'"))
}

#[async_trait]
impl WorkflowStore for MemoryStore {
    async fn insert_run(&self, run: &WorkflowRun) -> Result<(WorkflowRun, bool), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&run.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                run.workspace_id
            )));
        }
        let key = (run.workspace_id.clone(), run.id.clone());
        if let Some((existing, _, _)) = s.workflows.runs.get(&key) {
            return Ok((existing.clone(), false));
        }
        s.workflows
            .runs
            .insert(key, (run.clone(), String::new(), 0));
        Ok((run.clone(), true))
    }

    async fn get_run(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Option<WorkflowRun>, StoreError> {
        Ok(self
            .lock()
            .workflows
            .runs
            .get(&(workspace.clone(), id.clone()))
            .map(|(r, _, _)| r.clone()))
    }

    async fn list_runs(
        &self,
        workspace: &WorkspaceId,
        filter: &RunFilter,
        page: &PageRequest,
    ) -> Result<Vec<WorkflowRun>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<WorkflowRun> = s
            .workflows
            .runs
            .values()
            .map(|(r, _, _)| r)
            .filter(|r| &r.workspace_id == workspace)
            .filter(|r| filter.kind.as_ref().is_none_or(|k| &r.kind == k))
            .filter(|r| filter.status.is_none_or(|st| r.status == st))
            .cloned()
            .collect();
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        if let Some(after) = &page.after {
            match rows.iter().position(|r| r.id.as_str() == after) {
                Some(i) => {
                    rows.drain(..=i);
                }
                None => return Ok(Vec::new()),
            }
        }
        rows.truncate(page.limit as usize + 1);
        for r in &mut rows {
            r.events.clear();
        }
        Ok(rows)
    }

    async fn update_run(&self, run: &WorkflowRun) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some((stored, _, _)) = s
            .workflows
            .runs
            .get_mut(&(run.workspace_id.clone(), run.id.clone()))
        else {
            return Err(not_found(&run.id));
        };
        let events = std::mem::take(&mut stored.events);
        *stored = run.clone();
        stored.events = events;
        Ok(())
    }

    async fn append_event(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        event: &RunEvent,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let (run, _, _) = s
            .workflows
            .runs
            .get_mut(&(workspace.clone(), id.clone()))
            .ok_or_else(|| not_found(id))?;
        run.events.push(event.clone());
        Ok(())
    }

    async fn request_cancel(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, StoreError> {
        let mut s = self.lock();
        let (run, _, _) = s
            .workflows
            .runs
            .get_mut(&(workspace.clone(), id.clone()))
            .ok_or_else(|| not_found(id))?;
        if run.status.is_finished() {
            return Err(StoreError::Refused(format!(
                "the run has already {}",
                run.status
            )));
        }
        run.cancel_requested = true;
        Ok(run.clone())
    }

    async fn steps(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<Vec<StepRecord>, StoreError> {
        let s = self.lock();
        Ok(s.workflows
            .steps
            .iter()
            .filter(|((w, r, _), _)| w == workspace && r == id)
            .map(|(_, step)| step.clone())
            .collect())
    }

    async fn record_step(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        step: &StepRecord,
    ) -> Result<(), StoreError> {
        self.lock()
            .workflows
            .steps
            .insert((workspace.clone(), id.clone(), step.seq), step.clone());
        Ok(())
    }

    async fn reset_for_retry(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
    ) -> Result<WorkflowRun, StoreError> {
        let mut s = self.lock();
        let (run, _, _) = s
            .workflows
            .runs
            .get_mut(&(workspace.clone(), id.clone()))
            .ok_or_else(|| not_found(id))?;
        if !matches!(run.status, RunStatus::Failed | RunStatus::Cancelled) {
            return Err(StoreError::Refused(format!(
                "only failed or cancelled runs can be retried; this one has {}",
                run.status
            )));
        }
        run.status = RunStatus::Pending;
        run.error = None;
        run.cancel_requested = false;
        run.attempt += 1;
        let run = run.clone();
        s.workflows.steps.retain(|(w, r, _), step| {
            !(w == workspace && r == id && step.status == StepStatus::Failed)
        });
        Ok(run)
    }

    async fn unfinished_runs(&self) -> Result<Vec<(WorkspaceId, RunId)>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<&WorkflowRun> = s
            .workflows
            .runs
            .values()
            .map(|(r, _, _)| r)
            .filter(|r| !r.status.is_finished())
            .collect();
        rows.sort_by_key(|r| r.created_at);
        Ok(rows
            .into_iter()
            .map(|r| (r.workspace_id.clone(), r.id.clone()))
            .collect())
    }

    async fn claim_run(
        &self,
        workspace: &WorkspaceId,
        id: &RunId,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        let (_, lease_owner, lease_until) = s
            .workflows
            .runs
            .get_mut(&(workspace.clone(), id.clone()))
            .ok_or_else(|| not_found(id))?;
        if lease_owner == owner || *lease_until < now {
            *lease_owner = owner.to_owned();
            *lease_until = until;
            return Ok(true);
        }
        Ok(false)
    }
}
