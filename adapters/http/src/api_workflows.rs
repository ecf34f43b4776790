//! Connect handlers of `WorkflowService`.

use crate::AppState;
use crate::api::timestamp;
use crate::connect::route;
use crate::proto::v1 as pb;
use axum::Router;
use orbit_core::workflow::{RunStatus, WorkflowRun};
use orbit_core::{Actor, Error, PageRequest, Result};

pub fn status_to_pb(s: RunStatus) -> i32 {
    let s = match s {
        RunStatus::Pending => pb::WorkflowStatus::Pending,
        RunStatus::Running => pb::WorkflowStatus::Running,
        RunStatus::Succeeded => pb::WorkflowStatus::Succeeded,
        RunStatus::Failed => pb::WorkflowStatus::Failed,
        RunStatus::Cancelled => pb::WorkflowStatus::Cancelled,
    };
    s as i32
}

fn status_from_pb(s: i32) -> Result<Option<RunStatus>> {
    Ok(
        match pb::WorkflowStatus::try_from(s)
            .map_err(|_| Error::invalid("status", "is not a known status"))?
        {
            pb::WorkflowStatus::Unspecified => None,
            pb::WorkflowStatus::Pending => Some(RunStatus::Pending),
            pb::WorkflowStatus::Running => Some(RunStatus::Running),
            pb::WorkflowStatus::Succeeded => Some(RunStatus::Succeeded),
            pb::WorkflowStatus::Failed => Some(RunStatus::Failed),
            pb::WorkflowStatus::Cancelled => Some(RunStatus::Cancelled),
        },
    )
}

pub fn workflow_to_pb(r: WorkflowRun, engine: &str) -> pb::Workflow {
    pb::Workflow {
        id: r.id.to_string(),
        workspace_id: r.workspace_id.to_string(),
        kind: r.kind,
        status: status_to_pb(r.status),
        input: r.input,
        result: r.result.unwrap_or_default(),
        error: r.error.unwrap_or_default(),
        current_step: r.current_step,
        steps_done: r.steps_done as i32,
        steps_total: r.steps_total as i32,
        events: r
            .events
            .into_iter()
            .map(|e| pb::WorkflowEvent {
                time: Some(timestamp(e.at)),
                message: e.message,
            })
            .collect(),
        started_by: r.started_by.to_string(),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        attempt: r.attempt as i32,
        cancel_requested: r.cancel_requested,
        engine: engine.to_owned(),
    }
}

async fn get_workflow(
    s: AppState,
    a: Actor,
    r: pb::GetWorkflowRequest,
) -> Result<pb::GetWorkflowResponse> {
    let run = s.services.workflows.get(&a, &r.workspace_id, &r.id).await?;
    Ok(pb::GetWorkflowResponse {
        workflow: Some(workflow_to_pb(run, s.services.workflows.engine())),
    })
}

async fn list_workflows(
    s: AppState,
    a: Actor,
    r: pb::ListWorkflowsRequest,
) -> Result<pb::ListWorkflowsResponse> {
    let page = PageRequest::parse(r.page_size, &r.page_token)?;
    let status = status_from_pb(r.status)?;
    let page = s
        .services
        .workflows
        .list(&a, &r.workspace_id, &r.kind, status, &page)
        .await?;
    let engine = s.services.workflows.engine();
    Ok(pb::ListWorkflowsResponse {
        workflows: page
            .items
            .into_iter()
            .map(|r| workflow_to_pb(r, engine))
            .collect(),
        next_page_token: page.next.unwrap_or_default(),
    })
}

async fn cancel_workflow(
    s: AppState,
    a: Actor,
    r: pb::CancelWorkflowRequest,
) -> Result<pb::CancelWorkflowResponse> {
    let run = s
        .services
        .workflows
        .cancel(&a, &r.workspace_id, &r.id)
        .await?;
    Ok(pb::CancelWorkflowResponse {
        workflow: Some(workflow_to_pb(run, s.services.workflows.engine())),
    })
}

async fn retry_workflow(
    s: AppState,
    a: Actor,
    r: pb::RetryWorkflowRequest,
) -> Result<pb::RetryWorkflowResponse> {
    let run = s
        .services
        .workflows
        .retry(&a, &r.workspace_id, &r.id)
        .await?;
    Ok(pb::RetryWorkflowResponse {
        workflow: Some(workflow_to_pb(run, s.services.workflows.engine())),
    })
}

async fn start_workflow(
    s: AppState,
    a: Actor,
    r: pb::StartWorkflowRequest,
) -> Result<pb::StartWorkflowResponse> {
    let (run, created) = s
        .services
        .workflows
        .start(&a, &r.workspace_id, &r.kind, &r.input, &r.id)
        .await?;
    Ok(pb::StartWorkflowResponse {
        workflow: Some(workflow_to_pb(run, s.services.workflows.engine())),
        created,
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let w = "orbit.v1.WorkflowService";
    let r = route(r, state, w, "GetWorkflow", get_workflow);
    let r = route(r, state, w, "ListWorkflows", list_workflows);
    let r = route(r, state, w, "CancelWorkflow", cancel_workflow);
    let r = route(r, state, w, "RetryWorkflow", retry_workflow);
    route(r, state, w, "StartWorkflow", start_workflow)
}
