//! Connect handlers of `ApiCatalogService`.

use crate::AppState;
use crate::api::timestamp;
use crate::connect::{BodyLimit, route, route_limited};
use crate::error::Code;
use crate::proto::v1 as pb;
use axum::Router;
use orbit_core::api::{Api, ApiFile, ApiPolicy, ApiVersion, ApiVersionSummary, Consumer};
use orbit_core::{Actor, Error, Result};
use orbit_services::{ApiPatch, ApiRef, Change};

pub(crate) fn api_to_pb(a: Api) -> pb::Api {
    pb::Api {
        id: a.id.to_string(),
        workspace_id: a.workspace_id.to_string(),
        slug: a.slug.to_string(),
        name: a.name,
        description: a.description,
        owner: a.owner,
        tags: a.tags,
        lifecycle: a.lifecycle.as_str().into(),
        format: a.format.as_str().into(),
        deprecation_note: a.deprecation_note,
        latest_version: a.latest_version,
        create_time: Some(timestamp(a.created_at)),
        update_time: Some(timestamp(a.updated_at)),
    }
}

fn version_to_pb(v: ApiVersion) -> pb::ApiVersion {
    pb::ApiVersion {
        api_id: v.api_id.to_string(),
        version: v.version.to_string(),
        content_hash: v.content_hash,
        release_notes: v.release_notes,
        breaking_changes: v.breaking_changes,
        total_bytes: v.files.iter().map(|f| f.content.len() as i64).sum(),
        files: v
            .files
            .into_iter()
            .map(|f| pb::ApiFile {
                name: f.name,
                content: f.content,
            })
            .collect(),
        publish_time: Some(timestamp(v.published_at)),
        published_by: v.published_by.to_string(),
    }
}

fn summary_to_pb(api_id: &str, v: ApiVersionSummary) -> pb::ApiVersion {
    pb::ApiVersion {
        api_id: api_id.to_owned(),
        version: v.version.to_string(),
        content_hash: v.content_hash,
        release_notes: v.release_notes,
        breaking_changes: v.breaking_changes,
        files: Vec::new(),
        total_bytes: v.total_bytes,
        publish_time: Some(timestamp(v.published_at)),
        published_by: v.published_by.to_string(),
    }
}

fn change_to_pb(c: Change) -> pb::ApiChange {
    pb::ApiChange {
        breaking: c.breaking,
        location: c.location,
        message: c.message,
    }
}

fn consumer_to_pb(c: Consumer) -> pb::ApiConsumer {
    pb::ApiConsumer {
        api_id: c.api_id.to_string(),
        repository: c.repository,
        version: c.version.to_string(),
        create_time: Some(timestamp(c.created_at)),
        created_by: c.created_by.to_string(),
        from_catalog_info: c.from_catalog_info,
    }
}

fn files(files: Vec<pb::ApiFile>) -> Vec<ApiFile> {
    files
        .into_iter()
        .map(|f| ApiFile {
            name: f.name,
            content: f.content,
        })
        .collect()
}

async fn create_api(
    s: AppState,
    a: Actor,
    r: pb::CreateApiRequest,
) -> Result<pb::CreateApiResponse> {
    let api = s
        .services
        .apis
        .create_api(
            &a,
            &r.workspace_id,
            &r.slug,
            &r.name,
            &r.description,
            &r.owner,
            &r.tags,
            &r.format,
            &r.lifecycle,
        )
        .await?;
    Ok(pb::CreateApiResponse {
        api: Some(api_to_pb(api)),
    })
}

async fn get_api(s: AppState, a: Actor, r: pb::GetApiRequest) -> Result<pb::GetApiResponse> {
    use pb::get_api_request::Ref;
    let reference = match r.r#ref {
        Some(Ref::Id(id)) => ApiRef::Id(id),
        Some(Ref::Slug(slug)) => ApiRef::Slug(slug),
        None => return Err(Error::invalid("id or slug", "is required")),
    };
    let api = s
        .services
        .apis
        .get_api(&a, &r.workspace_id, &reference)
        .await?;
    Ok(pb::GetApiResponse {
        api: Some(api_to_pb(api)),
    })
}

async fn list_apis(s: AppState, a: Actor, r: pb::ListApisRequest) -> Result<pb::ListApisResponse> {
    let (apis, next) = s
        .services
        .apis
        .list_apis(
            &a,
            &r.workspace_id,
            &r.format,
            &r.owner,
            &r.tag,
            &r.lifecycle,
            r.page_size,
            &r.page_token,
        )
        .await?;
    Ok(pb::ListApisResponse {
        apis: apis.into_iter().map(api_to_pb).collect(),
        next_page_token: next.unwrap_or_default(),
    })
}

async fn update_api(
    s: AppState,
    a: Actor,
    r: pb::UpdateApiRequest,
) -> Result<pb::UpdateApiResponse> {
    let patch = ApiPatch {
        name: r.name,
        description: r.description,
        owner: r.owner,
        tags: r.set_tags.then_some(r.tags),
        lifecycle: r.lifecycle,
    };
    let api = s
        .services
        .apis
        .update_api(&a, &r.workspace_id, &r.api_id, patch)
        .await?;
    Ok(pb::UpdateApiResponse {
        api: Some(api_to_pb(api)),
    })
}

async fn deprecate_api(
    s: AppState,
    a: Actor,
    r: pb::DeprecateApiRequest,
) -> Result<pb::DeprecateApiResponse> {
    let api = s
        .services
        .apis
        .deprecate_api(&a, &r.workspace_id, &r.api_id, &r.note)
        .await?;
    Ok(pb::DeprecateApiResponse {
        api: Some(api_to_pb(api)),
    })
}

async fn publish_version(
    s: AppState,
    a: Actor,
    r: pb::PublishVersionRequest,
) -> Result<pb::PublishVersionResponse> {
    let p = s
        .services
        .apis
        .publish_version(
            &a,
            &r.workspace_id,
            &r.api_id,
            &r.version,
            &r.release_notes,
            files(r.files),
        )
        .await?;
    Ok(pb::PublishVersionResponse {
        version: Some(version_to_pb(p.version)),
        previous_version: p.previous.unwrap_or_default(),
        changes: p.changes.into_iter().map(change_to_pb).collect(),
    })
}

async fn get_version(
    s: AppState,
    a: Actor,
    r: pb::GetVersionRequest,
) -> Result<pb::GetVersionResponse> {
    let (_, v) = s
        .services
        .apis
        .get_version(&a, &r.workspace_id, &r.api_id, &r.version)
        .await?;
    Ok(pb::GetVersionResponse {
        version: Some(version_to_pb(v)),
    })
}

async fn list_versions(
    s: AppState,
    a: Actor,
    r: pb::ListVersionsRequest,
) -> Result<pb::ListVersionsResponse> {
    let versions = s
        .services
        .apis
        .list_versions(&a, &r.workspace_id, &r.api_id)
        .await?;
    Ok(pb::ListVersionsResponse {
        versions: versions
            .into_iter()
            .map(|v| summary_to_pb(&r.api_id, v))
            .collect(),
    })
}

async fn validate_schema(
    s: AppState,
    a: Actor,
    r: pb::ValidateSchemaRequest,
) -> Result<pb::ValidateSchemaResponse> {
    let v = s
        .services
        .apis
        .validate_schema(&a, &r.workspace_id, &r.format, files(r.files))
        .await?;
    Ok(pb::ValidateSchemaResponse {
        valid: v.problems.is_empty(),
        problems: v
            .problems
            .into_iter()
            .map(|p| pb::SchemaProblem {
                file: p.file,
                line: p.line as i32,
                column: p.column as i32,
                message: p.message,
            })
            .collect(),
        format_version: v.format_version,
        title: v.title,
        operations: v.operations as i32,
    })
}

async fn compare_versions(
    s: AppState,
    a: Actor,
    r: pb::CompareVersionsRequest,
) -> Result<pb::CompareVersionsResponse> {
    let c = s
        .services
        .apis
        .compare_versions(
            &a,
            &r.workspace_id,
            &r.api_id,
            &r.from_version,
            &r.to_version,
            files(r.proposed_files),
        )
        .await?;
    Ok(pb::CompareVersionsResponse {
        breaking_changes: c.breaking() as i32,
        from_version: c.from,
        to_version: c.to,
        changes: c.changes.into_iter().map(change_to_pb).collect(),
        affected_consumers: c.affected.into_iter().map(consumer_to_pb).collect(),
    })
}

async fn add_consumer(
    s: AppState,
    a: Actor,
    r: pb::AddConsumerRequest,
) -> Result<pb::AddConsumerResponse> {
    let c = s
        .services
        .apis
        .add_consumer(&a, &r.workspace_id, &r.api_id, &r.repository, &r.version)
        .await?;
    Ok(pb::AddConsumerResponse {
        consumer: Some(consumer_to_pb(c)),
    })
}

async fn remove_consumer(
    s: AppState,
    a: Actor,
    r: pb::RemoveConsumerRequest,
) -> Result<pb::RemoveConsumerResponse> {
    s.services
        .apis
        .remove_consumer(&a, &r.workspace_id, &r.api_id, &r.repository)
        .await?;
    Ok(pb::RemoveConsumerResponse {})
}

async fn list_consumers(
    s: AppState,
    a: Actor,
    r: pb::ListConsumersRequest,
) -> Result<pb::ListConsumersResponse> {
    let list = s
        .services
        .apis
        .list_consumers(&a, &r.workspace_id, &r.api_id)
        .await?;
    Ok(pb::ListConsumersResponse {
        consumers: list.into_iter().map(consumer_to_pb).collect(),
    })
}

async fn generate_clients(
    s: AppState,
    a: Actor,
    r: pb::GenerateClientsRequest,
) -> Result<pb::GenerateClientsResponse> {
    let id = s
        .services
        .apis
        .generate_clients(
            &a,
            &r.workspace_id,
            &r.api_id,
            &r.version,
            &r.languages,
            r.force,
        )
        .await?;
    Ok(pb::GenerateClientsResponse { workflow_id: id })
}

async fn get_policy(
    s: AppState,
    a: Actor,
    r: pb::GetApiPolicyRequest,
) -> Result<pb::GetApiPolicyResponse> {
    let p = s.services.apis.get_policy(&a, &r.workspace_id).await?;
    Ok(pb::GetApiPolicyResponse {
        policy: Some(pb::ApiPolicy {
            allow_breaking_without_major: p.allow_breaking_without_major,
        }),
    })
}

async fn update_policy(
    s: AppState,
    a: Actor,
    r: pb::UpdateApiPolicyRequest,
) -> Result<pb::UpdateApiPolicyResponse> {
    let policy = r
        .policy
        .ok_or_else(|| Error::invalid("policy", "is required"))?;
    let p = s
        .services
        .apis
        .set_policy(
            &a,
            &r.workspace_id,
            ApiPolicy {
                allow_breaking_without_major: policy.allow_breaking_without_major,
            },
        )
        .await?;
    Ok(pb::UpdateApiPolicyResponse {
        policy: Some(pb::ApiPolicy {
            allow_breaking_without_major: p.allow_breaking_without_major,
        }),
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let k = "orbit.v1.ApiCatalogService";
    // Schema uploads may be larger than ordinary requests: the version limit, with room for
    // JSON escaping, and refused with a message that names the limit.
    let version_limit = state.services.deps.limits.max_api_version_bytes;
    let upload = Some(BodyLimit {
        bytes: state
            .config
            .max_body_bytes
            .max(version_limit.saturating_mul(2).saturating_add(64 * 1024)),
        code: Code::InvalidArgument,
        hint: "; an API schema version may be at most 10 MiB unless the server is configured otherwise",
    });
    let r = route(r, state, k, "CreateApi", create_api);
    let r = route(r, state, k, "GetApi", get_api);
    let r = route(r, state, k, "ListApis", list_apis);
    let r = route(r, state, k, "UpdateApi", update_api);
    let r = route(r, state, k, "DeprecateApi", deprecate_api);
    let r = route_limited(r, state, k, "PublishVersion", upload, publish_version);
    let r = route(r, state, k, "GetVersion", get_version);
    let r = route(r, state, k, "ListVersions", list_versions);
    let r = route_limited(r, state, k, "ValidateSchema", upload, validate_schema);
    let r = route_limited(r, state, k, "CompareVersions", upload, compare_versions);
    let r = route(r, state, k, "AddConsumer", add_consumer);
    let r = route(r, state, k, "RemoveConsumer", remove_consumer);
    let r = route(r, state, k, "ListConsumers", list_consumers);
    let r = route(r, state, k, "GenerateClients", generate_clients);
    let r = route(r, state, k, "GetApiPolicy", get_policy);
    route(r, state, k, "UpdateApiPolicy", update_policy)
}
