//! `ArtifactService` over Connect, and the download route of generated client archives:
//! `GET /artifacts/{workspace_id}/{api_id}/{version}/{language}`. A download checks the
//! caller's membership (API token or web session cookie) and then streams the archive
//! (filesystem storage) or redirects to a presigned URL valid for five minutes (S3).
//! Non-members get 404, as for everything in a workspace they are not part of.

use crate::AppState;
use crate::api::timestamp;
use crate::connect::route;
use crate::error::ConnectError;
use crate::proto::v1 as pb;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use orbit_core::{Actor, Result, Timestamp};
use orbit_services::{ArtifactService, Download};

async fn list_artifacts(
    s: AppState,
    a: Actor,
    r: pb::ListArtifactsRequest,
) -> Result<pb::ListArtifactsResponse> {
    let artifacts = s
        .services
        .artifacts
        .list(&a, &r.workspace_id, &r.api_id, &r.version)
        .await?;
    Ok(pb::ListArtifactsResponse {
        artifacts: artifacts
            .into_iter()
            .map(|m| pb::Artifact {
                download_url: ArtifactService::download_path(&m),
                name: m.name,
                workspace_id: m.workspace_id,
                api_id: m.api_id,
                version: m.version,
                format: m.format,
                language: m.language,
                generator: m.generator,
                generator_version: m.generator_version,
                size: i64::try_from(m.size).unwrap_or(i64::MAX),
                sha256: m.sha256,
                create_time: Some(timestamp(Timestamp(m.created_ms))),
            })
            .collect(),
    })
}

async fn download(
    State(state): State<AppState>,
    Path((workspace_id, api_id, version, language)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let actor = match crate::connect::authenticate(&state, &headers).await {
        Ok(actor) => actor,
        Err(err) => return err.into_response(),
    };
    let download = state
        .services
        .artifacts
        .download(&actor, &workspace_id, &api_id, &version, &language)
        .await;
    match download {
        Ok(Download::Redirect(url)) => {
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(location) = HeaderValue::from_str(&url) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(Download::Stream { meta, name, body }) => {
            let stream = futures::stream::unfold(body, |mut body| async move {
                orbit_ports::next_chunk(&mut body)
                    .await
                    .map(|chunk| (chunk.map_err(std::io::Error::other), body))
            });
            let mut response = Response::new(Body::from_stream(stream));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            // The name comes from validated ids and versions ([A-Za-z0-9._+-]).
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(err) => ConnectError::from(err).into_response(),
    }
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let r = route(
        r,
        state,
        "orbit.v1.ArtifactService",
        "ListArtifacts",
        list_artifacts,
    );
    r.route(
        "/artifacts/{workspace_id}/{api_id}/{version}/{language}",
        axum::routing::get(download),
    )
}
