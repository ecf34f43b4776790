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
        links: r
            .links
            .into_iter()
            .map(|l| pb::RepositoryLink {
                url: l.url,
                title: l.title,
            })
            .collect(),
        provides_apis: r.provides_apis,
        consumes_apis: r.consumes_apis,
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

fn template_to_pb(v: orbit_services::templates::TemplateView) -> pb::Template {
    use orbit_template::ParamKind;
    let t = v.template;
    pb::Template {
        id: t.id,
        name: t.name,
        title: v.manifest.title,
        description: v.manifest.description,
        source_url: t.source_url,
        r#ref: t.git_ref,
        path: t.path,
        parameters: v
            .manifest
            .parameters
            .into_iter()
            .map(|p| pb::TemplateParameter {
                name: p.name,
                title: p.title,
                description: p.description,
                r#type: p.kind.as_str().to_owned(),
                required: p.required,
                has_default: p.default.is_some(),
                default_value: p.default.map(|d| d.display()).unwrap_or_default(),
                pattern: p.pattern.unwrap_or_default(),
                min: p.min,
                max: p.max,
                options: match p.kind {
                    ParamKind::Enum(o) => o,
                    _ => Vec::new(),
                },
            })
            .collect(),
        create_time: Some(timestamp(t.created_at)),
    }
}

fn policy_to_pb(p: orbit_core::repository::RepoPolicy) -> pb::RepositoryPolicy {
    pb::RepositoryPolicy {
        name_pattern: p.name_pattern,
        require_owner: p.require_owner,
        allowed_visibilities: p
            .allowed_visibilities
            .iter()
            .map(|v| v.as_str().to_owned())
            .collect(),
        allowed_templates: p.allowed_templates,
    }
}

async fn register_template(
    s: AppState,
    a: Actor,
    r: pb::RegisterTemplateRequest,
) -> Result<pb::RegisterTemplateResponse> {
    let v = s
        .services
        .repositories
        .register_template(&a, &r.workspace_id, &r.source_url, &r.r#ref, &r.path)
        .await?;
    Ok(pb::RegisterTemplateResponse {
        template: Some(template_to_pb(v)),
    })
}

async fn list_templates(
    s: AppState,
    a: Actor,
    r: pb::ListTemplatesRequest,
) -> Result<pb::ListTemplatesResponse> {
    let list = s
        .services
        .repositories
        .list_templates(&a, &r.workspace_id)
        .await?;
    Ok(pb::ListTemplatesResponse {
        templates: list.into_iter().map(template_to_pb).collect(),
    })
}

async fn get_template(
    s: AppState,
    a: Actor,
    r: pb::GetTemplateRequest,
) -> Result<pb::GetTemplateResponse> {
    let v = s
        .services
        .repositories
        .get_template(&a, &r.workspace_id, &r.template)
        .await?;
    Ok(pb::GetTemplateResponse {
        template: Some(template_to_pb(v)),
    })
}

async fn dry_run_template(
    s: AppState,
    a: Actor,
    r: pb::DryRunTemplateRequest,
) -> Result<pb::DryRunTemplateResponse> {
    let params = r.parameters.into_iter().collect();
    let files = s
        .services
        .repositories
        .dry_run(&a, &r.workspace_id, &r.template, &params)
        .await?;
    Ok(pb::DryRunTemplateResponse {
        files: files
            .into_iter()
            .map(|f| pb::RenderedFile {
                size: f.content.len() as i64,
                path: f.path,
                content: f.content,
                verbatim: f.verbatim,
            })
            .collect(),
    })
}

async fn get_policy(
    s: AppState,
    a: Actor,
    r: pb::GetRepositoryPolicyRequest,
) -> Result<pb::GetRepositoryPolicyResponse> {
    let p = s
        .services
        .repositories
        .get_policy(&a, &r.workspace_id)
        .await?;
    Ok(pb::GetRepositoryPolicyResponse {
        policy: Some(policy_to_pb(p)),
    })
}

async fn set_policy(
    s: AppState,
    a: Actor,
    r: pb::SetRepositoryPolicyRequest,
) -> Result<pb::SetRepositoryPolicyResponse> {
    use orbit_core::repository::{RepoPolicy, RepoVisibility};
    let p = r.policy.unwrap_or_default();
    let visibilities = p
        .allowed_visibilities
        .iter()
        .map(|v| {
            RepoVisibility::parse(v).ok_or_else(|| {
                orbit_core::Error::invalid(
                    "allowed_visibilities",
                    format!("{v:?} is not one of public, internal, private"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let policy = RepoPolicy {
        name_pattern: p.name_pattern,
        require_owner: p.require_owner,
        allowed_visibilities: visibilities,
        allowed_templates: p.allowed_templates,
    };
    let p = s
        .services
        .repositories
        .set_policy(&a, &r.workspace_id, policy)
        .await?;
    Ok(pb::SetRepositoryPolicyResponse {
        policy: Some(policy_to_pb(p)),
    })
}

async fn create_from_template(
    s: AppState,
    a: Actor,
    r: pb::CreateRepositoryFromTemplateRequest,
) -> Result<pb::CreateRepositoryFromTemplateResponse> {
    let id = s
        .services
        .repositories
        .create_from_template(
            &a,
            &r.workspace_id,
            &r.template,
            RepositoryInput {
                name: r.name,
                description: r.description,
                owner: r.owner,
                language: r.language,
                topics: r.topics,
                lifecycle: r.lifecycle,
                default_branch: r.default_branch,
                remote_url: String::new(),
                visibility: r.visibility,
            },
            r.parameters.into_iter().collect(),
        )
        .await?;
    Ok(pb::CreateRepositoryFromTemplateResponse { workflow_id: id })
}

async fn import_repositories(
    s: AppState,
    a: Actor,
    r: pb::ImportRepositoriesRequest,
) -> Result<pb::ImportRepositoriesResponse> {
    let report = s
        .services
        .repositories
        .import_from_host(&a, &r.workspace_id, &s.services.git_hosts, &r.connection_id)
        .await?;
    Ok(pb::ImportRepositoriesResponse {
        created: report.created,
        updated: report.updated,
        gone: report.gone,
        warnings: report.warnings,
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let t = "orbit.v1.TemplateService";
    let r = route(r, state, t, "RegisterTemplate", register_template);
    let r = route(r, state, t, "ListTemplates", list_templates);
    let r = route(r, state, t, "GetTemplate", get_template);
    let r = route(r, state, t, "DryRunTemplate", dry_run_template);
    let r = route(r, state, t, "GetRepositoryPolicy", get_policy);
    let r = route(r, state, t, "SetRepositoryPolicy", set_policy);
    let r = route(
        r,
        state,
        t,
        "CreateRepositoryFromTemplate",
        create_from_template,
    );
    let k = "orbit.v1.RepositoryService";
    let r = route(r, state, k, "RegisterRepository", register_repository);
    let r = route(r, state, k, "GetRepository", get_repository);
    let r = route(r, state, k, "ListRepositories", list_repositories);
    let r = route(r, state, k, "UpdateRepository", update_repository);
    let r = route(r, state, k, "ImportRepositories", import_repositories);
    route(r, state, k, "ArchiveRepository", archive_repository)
}
