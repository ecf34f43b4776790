//! Connect handlers of `RepositoryService`.

use crate::AppState;
use crate::api::timestamp;
use crate::connect::route;
use crate::proto::v1 as pb;
use axum::Router;
use orbit_core::repository::Repository;
use orbit_core::{Actor, Result, Timestamp};
use orbit_services::{
    RepositoryDetails, RepositoryFilter, RepositoryInput, RepositoryPatch, RepositoryRef,
};

pub(crate) fn repository_to_pb(r: Repository) -> pb::Repository {
    pb::Repository {
        id: r.id.to_string(),
        workspace_id: r.workspace_id.to_string(),
        name: r.name.to_string(),
        description: r.description,
        owner: r.owner,
        language: r.language,
        topics: r.topics,
        lifecycle: r.lifecycle.as_str().to_owned(),
        default_branch: r.default_branch,
        remote_url: r.remote_url,
        visibility: r.visibility.as_str().to_owned(),
        archived: r.archived,
        source: r.source,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        created_by: r.created_by.to_string(),
    }
}

fn details_to_pb(d: RepositoryDetails) -> pb::RepositoryDetails {
    pb::RepositoryDetails {
        readme_html: d.readme_html,
        readme_path: d.readme_path,
        branches: d
            .branches
            .into_iter()
            .map(|(name, commit)| pb::Branch { name, commit })
            .collect(),
        commits: d
            .commits
            .into_iter()
            .map(|c| pb::Commit {
                id: c.id,
                author_name: c.author_name,
                author_email: c.author_email,
                time: Some(timestamp(Timestamp(c.time))),
                summary: c.summary,
            })
            .collect(),
        git_error: d.git_error,
    }
}

async fn register_repository(
    s: AppState,
    a: Actor,
    r: pb::RegisterRepositoryRequest,
) -> Result<pb::RegisterRepositoryResponse> {
    let repo = s
        .services
        .repositories
        .register(
            &a,
            &r.workspace_id,
            RepositoryInput {
                name: r.name,
                description: r.description,
                owner: r.owner,
                language: r.language,
                topics: r.topics,
                lifecycle: r.lifecycle,
                default_branch: r.default_branch,
                remote_url: r.remote_url,
                visibility: r.visibility,
            },
        )
        .await?;
    Ok(pb::RegisterRepositoryResponse {
        repository: Some(repository_to_pb(repo)),
    })
}

async fn get_repository(
    s: AppState,
    a: Actor,
    r: pb::GetRepositoryRequest,
) -> Result<pb::GetRepositoryResponse> {
    let reference = if r.id.is_empty() {
        RepositoryRef::Name(r.name)
    } else {
        RepositoryRef::Id(r.id)
    };
    let repos = &s.services.repositories;
    if r.include_details {
        let (repo, details) = repos.details(&a, &r.workspace_id, &reference).await?;
        return Ok(pb::GetRepositoryResponse {
            repository: Some(repository_to_pb(repo)),
            details: Some(details_to_pb(details)),
        });
    }
    let repo = repos.get(&a, &r.workspace_id, &reference).await?;
    Ok(pb::GetRepositoryResponse {
        repository: Some(repository_to_pb(repo)),
        details: None,
    })
}

async fn list_repositories(
    s: AppState,
    a: Actor,
    r: pb::ListRepositoriesRequest,
) -> Result<pb::ListRepositoriesResponse> {
    let filter = RepositoryFilter {
        owner: r.owner,
        language: r.language,
        topic: r.topic,
        lifecycle: r.lifecycle,
        visibility: r.visibility,
        include_archived: r.include_archived,
        sort: r.sort,
    };
    let page = s
        .services
        .repositories
        .list(&a, &r.workspace_id, &filter, r.page_size, &r.page_token)
        .await?;
    Ok(pb::ListRepositoriesResponse {
        repositories: page.items.into_iter().map(repository_to_pb).collect(),
        next_page_token: page.next.unwrap_or_default(),
    })
}

async fn update_repository(
    s: AppState,
    a: Actor,
    r: pb::UpdateRepositoryRequest,
) -> Result<pb::UpdateRepositoryResponse> {
    let patch = RepositoryPatch {
        name: r.name,
        description: r.description,
        owner: r.owner,
        language: r.language,
        topics: r.topics.map(|t| t.topics),
        lifecycle: r.lifecycle,
        default_branch: r.default_branch,
        remote_url: r.remote_url,
        visibility: r.visibility,
    };
    let repo = s
        .services
        .repositories
        .update(&a, &r.workspace_id, &r.id, patch)
        .await?;
    Ok(pb::UpdateRepositoryResponse {
        repository: Some(repository_to_pb(repo)),
    })
}

async fn archive_repository(
    s: AppState,
    a: Actor,
    r: pb::ArchiveRepositoryRequest,
) -> Result<pb::ArchiveRepositoryResponse> {
    let repo = s
        .services
        .repositories
        .archive(&a, &r.workspace_id, &r.id, r.archived)
        .await?;
    Ok(pb::ArchiveRepositoryResponse {
        repository: Some(repository_to_pb(repo)),
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let k = "orbit.v1.RepositoryService";
    let r = route(r, state, k, "RegisterRepository", register_repository);
    let r = route(r, state, k, "GetRepository", get_repository);
    let r = route(r, state, k, "ListRepositories", list_repositories);
    let r = route(r, state, k, "UpdateRepository", update_repository);
    route(r, state, k, "ArchiveRepository", archive_repository)
}
