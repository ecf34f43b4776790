//! The API catalog's web pages: the list (with filters and search), an API's page (versions,
//! reference documentation, consumers, publishing), the compare view, and OpenAPI documents
//! rendered with Swagger UI, whose assets are embedded in the binary.

use crate::AppState;
use crate::web::{
    Session, WsView, current_workspace, date, encode, error_page, guard_origin, message_of,
    or_error_page, render_in_workspace, same_origin, session, signed_in, status_of,
};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use orbit_core::Error;
use orbit_core::api::{Api, ApiFile};
use orbit_services::ApiRef;
use serde::{Deserialize, Serialize};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("apis.html", include_str!("../templates/apis.html")),
    ("api.html", include_str!("../templates/api.html")),
    (
        "api_compare.html",
        include_str!("../templates/api_compare.html"),
    ),
    ("api_docs.html", include_str!("../templates/api_docs.html")),
];

const SWAGGER_JS: &[u8] = include_bytes!("../static/vendor/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../static/vendor/swagger-ui/swagger-ui.css");
const APIS_JS: &[u8] = include_bytes!("../static/apis.js");

#[derive(Serialize)]
struct ApiRow {
    slug: String,
    name: String,
    description: String,
    owner: String,
    tags: Vec<String>,
    lifecycle: &'static str,
    format: &'static str,
    latest_version: String,
    deprecation_note: String,
    updated: String,
}

fn row(a: Api) -> ApiRow {
    ApiRow {
        slug: a.slug.to_string(),
        name: a.name,
        description: a.description,
        owner: a.owner,
        tags: a.tags,
        lifecycle: a.lifecycle.as_str(),
        format: a.format.as_str(),
        latest_version: a.latest_version,
        deprecation_note: a.deprecation_note,
        updated: date(a.updated_at),
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    after: String,
    notice: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    description: String,
}

#[derive(Serialize)]
struct Hit {
    title: String,
    snippet: String,
    href: String,
}

async fn list_page(
    state: &AppState,
    s: &Session,
    ws: WsView,
    q: ListQuery,
    form: CreateForm,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let svc = &state.services.apis;
    let text = q.q.trim().to_owned();
    let mut hits = Vec::new();
    if !text.is_empty() {
        let found = or_error_page!(
            state,
            s,
            state
                .services
                .search
                .search(&s.actor, &ws.id, &text, &["api".to_owned()], &[], 50, "")
                .await
        );
        hits = found
            .hits
            .into_iter()
            .map(|h| Hit {
                href: format!("/ui/w/{}/apis/id/{}", ws.slug, h.id),
                title: h.title,
                snippet: h.snippet,
            })
            .collect();
    }
    let listed = svc
        .list_apis(
            &s.actor,
            &ws.id,
            &q.format,
            &q.owner,
            &q.tag,
            &q.lifecycle,
            50,
            &q.after,
        )
        .await;
    let (apis, next, list_error) = match listed {
        Ok((apis, next)) => (apis.into_iter().map(row).collect::<Vec<_>>(), next, None),
        Err(err) => (Vec::new(), None, Some(message_of(&err))),
    };
    let filters = format!(
        "format={}&owner={}&tag={}&lifecycle={}",
        encode(&q.format),
        encode(&q.owner),
        encode(&q.tag),
        encode(&q.lifecycle)
    );
    let next_href = next.map(|t| format!("/ui/w/{}/apis?{filters}&after={}", ws.slug, encode(&t)));
    render_in_workspace(
        state,
        s,
        &ws,
        status,
        "apis.html",
        context! {
            apis, hits, next_href, q => text, format => q.format, owner => q.owner, tag => q.tag,
            lifecycle => q.lifecycle, form, notice => q.notice, error => error.or(list_error),
        },
    )
}

async fn apis(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    list_page(
        &state,
        &s,
        ws,
        q,
        CreateForm::default(),
        StatusCode::OK,
        None,
    )
    .await
}

async fn create_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<CreateForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let tags: Vec<String> = form
        .tags
        .split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    match state
        .services
        .apis
        .create_api(
            &s.actor,
            &ws.id,
            form.slug.trim(),
            &form.name,
            &form.description,
            &form.owner,
            &tags,
            &form.format,
            "",
        )
        .await
    {
        Ok(api) => Redirect::to(&format!("/ui/w/{}/apis/{}", ws.slug, api.slug)).into_response(),
        Err(err) => {
            list_page(
                &state,
                &s,
                ws,
                ListQuery::default(),
                form,
                status_of(&err),
                Some(message_of(&err)),
            )
            .await
        }
    }
}

async fn api_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let api = or_error_page!(
        state,
        s,
        state
            .services
            .apis
            .get_api(&s.actor, &ws.id, &ApiRef::Id(id))
            .await
    );
    Redirect::to(&format!("/ui/w/{}/apis/{}", ws.slug, api.slug)).into_response()
}

#[derive(Deserialize, Default)]
struct ApiQuery {
    v: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
struct PublishForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    release_notes: String,
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    file_name_2: String,
    #[serde(default)]
    content_2: String,
}

#[derive(Deserialize, Serialize, Default)]
struct ConsumerForm {
    #[serde(default)]
    repository: String,
    #[serde(default)]
    version: String,
}

#[derive(Serialize)]
struct VersionRow {
    version: String,
    date: String,
    hash: String,
    notes: String,
    breaking: i64,
    kib: String,
    current: bool,
}

#[derive(Serialize)]
struct ArtifactRow {
    language: String,
    name: String,
    generator: String,
    kib: String,
    sha256: String,
    href: String,
}

#[derive(Deserialize, Default)]
struct GenerateForm {
    #[serde(default)]
    version: String,
    typescript: Option<String>,
    python: Option<String>,
    go: Option<String>,
    java: Option<String>,
    rust: Option<String>,
    force: Option<String>,
}

async fn generate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug)): Path<(String, String)>,
    Form(form): Form<GenerateForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug.clone()))
            .await
    );
    let languages: Vec<String> = [
        ("typescript", &form.typescript),
        ("python", &form.python),
        ("go", &form.go),
        ("java", &form.java),
        ("rust", &form.rust),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_some())
    .map(|(l, _)| l.to_owned())
    .collect();
    match svc
        .generate_clients(
            &s.actor,
            &ws.id,
            api.id.as_str(),
            &form.version,
            &languages,
            form.force.is_some(),
        )
        .await
    {
        Ok(run) => Redirect::to(&format!("/ui/w/{}/workflows/{run}", ws.slug)).into_response(),
        Err(err) => {
            api_page(
                &state,
                &s,
                ws,
                &api_slug,
                Some(form.version),
                (status_of(&err), None, Some(message_of(&err))),
                PublishForm::default(),
            )
            .await
        }
    }
}

#[derive(Serialize)]
struct Item {
    kind: &'static str,
    name: String,
    anchor: String,
    signature: String,
    description: String,
    members: Vec<(String, String, String)>,
}

async fn api_page(
    state: &AppState,
    s: &Session,
    ws: WsView,
    api_slug: &str,
    selected: Option<String>,
    shown: (StatusCode, Option<String>, Option<String>),
    publish: PublishForm,
) -> Response {
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug.to_owned()))
            .await
    );
    let id = api.id.to_string();
    let versions = or_error_page!(state, s, svc.list_versions(&s.actor, &ws.id, &id).await);
    let consumers = or_error_page!(state, s, svc.list_consumers(&s.actor, &ws.id, &id).await);
    let selected = selected
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| api.latest_version.clone());
    let (reference, format_version) = if selected.is_empty() {
        (Vec::new(), String::new())
    } else {
        match svc.reference(&s.actor, &ws.id, &id, &selected).await {
            Ok((_, _, r)) => (
                r.items
                    .into_iter()
                    .enumerate()
                    .map(|(i, it)| Item {
                        anchor: format!("ref-{i}"),
                        kind: it.kind,
                        name: it.name,
                        signature: it.signature,
                        description: it.description,
                        members: it.members,
                    })
                    .collect::<Vec<_>>(),
                r.format_version,
            ),
            Err(err) => return error_page(state, Some(s), &err),
        }
    };
    let rows: Vec<VersionRow> = versions
        .iter()
        .map(|v| VersionRow {
            version: v.version.to_string(),
            date: date(v.published_at),
            hash: v.content_hash.chars().take(12).collect(),
            notes: v.release_notes.clone(),
            breaking: v.breaking_changes,
            kib: format!("{:.1}", v.total_bytes as f64 / 1024.0),
            current: v.version.to_string() == selected,
        })
        .collect();
    // (repository, version, the repository's page for consumers from catalog-info.yaml)
    let consumers: Vec<(String, String, Option<String>)> = consumers
        .into_iter()
        .map(|c| {
            let href = c.from_catalog_info.then(|| {
                format!(
                    "/ui/w/{}/repositories/{}",
                    ws.slug,
                    crate::web::encode(&c.repository)
                )
            });
            (c.repository, c.version.to_string(), href)
        })
        .collect();
    let previous = versions.get(1).map(|v| v.version.to_string());
    let generates = matches!(
        api.format,
        orbit_core::api::ApiFormat::OpenApi | orbit_core::api::ApiFormat::Protobuf
    );
    let (artifacts, artifacts_error) = if generates && !selected.is_empty() {
        match state
            .services
            .artifacts
            .list(&s.actor, &ws.id, &id, &selected)
            .await
        {
            Ok(list) => (
                list.into_iter()
                    .map(|m| ArtifactRow {
                        href: orbit_services::ArtifactService::download_path(&m),
                        language: m.language,
                        name: m.name,
                        generator: format!("{} {}", m.generator, m.generator_version),
                        kib: format!("{:.1}", m.size as f64 / 1024.0),
                        sha256: m.sha256.chars().take(12).collect(),
                    })
                    .collect::<Vec<_>>(),
                None,
            ),
            Err(err) => (Vec::new(), Some(message_of(&err))),
        }
    } else {
        (Vec::new(), None)
    };
    let (status, notice, error) = shown;
    render_in_workspace(
        state,
        s,
        &ws,
        status,
        "api.html",
        context! {
            api => row(api.clone()), api_id => id, versions => rows, consumers, reference,
            selected, format_version, previous, notice, error, publish,
            is_openapi => api.format == orbit_core::api::ApiFormat::OpenApi,
            generates, artifacts, artifacts_error,
            languages => ["typescript", "python", "go", "java", "rust"],
        },
    )
}

async fn api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug)): Path<(String, String)>,
    Query(q): Query<ApiQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    api_page(
        &state,
        &s,
        ws,
        &api_slug,
        q.v,
        (StatusCode::OK, q.notice, None),
        PublishForm::default(),
    )
    .await
}

async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug)): Path<(String, String)>,
    Form(form): Form<PublishForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug.clone()))
            .await
    );
    let mut files = vec![ApiFile {
        name: form.file_name.trim().to_owned(),
        content: form.content.replace("\r\n", "\n"),
    }];
    if !form.file_name_2.trim().is_empty() {
        files.push(ApiFile {
            name: form.file_name_2.trim().to_owned(),
            content: form.content_2.replace("\r\n", "\n"),
        });
    }
    match svc
        .publish_version(
            &s.actor,
            &ws.id,
            api.id.as_str(),
            form.version.trim(),
            &form.release_notes,
            files,
        )
        .await
    {
        Ok(p) => Redirect::to(&format!(
            "/ui/w/{}/apis/{}?notice={}",
            ws.slug,
            api.slug,
            encode(&format!("Version {} published.", p.version.version))
        ))
        .into_response(),
        Err(err) => {
            api_page(
                &state,
                &s,
                ws,
                &api_slug,
                None,
                (status_of(&err), None, Some(message_of(&err))),
                form,
            )
            .await
        }
    }
}

async fn add_consumer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug)): Path<(String, String)>,
    Form(form): Form<ConsumerForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug.clone()))
            .await
    );
    match svc
        .add_consumer(
            &s.actor,
            &ws.id,
            api.id.as_str(),
            &form.repository,
            form.version.trim(),
        )
        .await
    {
        Ok(c) => Redirect::to(&format!(
            "/ui/w/{}/apis/{}?notice={}",
            ws.slug,
            api.slug,
            encode(&format!("{} consumes version {}.", c.repository, c.version))
        ))
        .into_response(),
        Err(err) => {
            api_page(
                &state,
                &s,
                ws,
                &api_slug,
                None,
                (status_of(&err), None, Some(message_of(&err))),
                PublishForm::default(),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn compare(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug)): Path<(String, String)>,
    Query(q): Query<CompareQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug)).await
    );
    let id = api.id.to_string();
    let versions = or_error_page!(state, s, svc.list_versions(&s.actor, &ws.id, &id).await);
    let labels: Vec<String> = versions.iter().map(|v| v.version.to_string()).collect();
    let to = if q.to.is_empty() {
        labels.first().cloned().unwrap_or_default()
    } else {
        q.to
    };
    let from = if q.from.is_empty() {
        labels.get(1).cloned().unwrap_or_default()
    } else {
        q.from
    };
    if from.is_empty() || to.is_empty() {
        return error_page(
            &state,
            Some(&s),
            &Error::FailedPrecondition(format!(
                "API '{}' needs two published versions to compare",
                api.slug
            )),
        );
    }
    let c = or_error_page!(
        state,
        s,
        svc.compare_versions(&s.actor, &ws.id, &id, &from, &to, Vec::new())
            .await
    );
    let breaking = c.breaking();
    let mut changes: Vec<(bool, String, String)> = c
        .changes
        .into_iter()
        .map(|ch| (ch.breaking, ch.location, ch.message))
        .collect();
    changes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let affected: Vec<(String, String)> = c
        .affected
        .into_iter()
        .map(|c| (c.repository, c.version.to_string()))
        .collect();
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "api_compare.html",
        context! { api => row(api), from, to, versions => labels, changes, breaking, affected },
    )
}

async fn docs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug, version)): Path<(String, String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let api = or_error_page!(
        state,
        s,
        state
            .services
            .apis
            .get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug))
            .await
    );
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "api_docs.html",
        context! { api => row(api), version },
    )
}

/// The version's OpenAPI document as JSON (YAML converted), for Swagger UI.
async fn openapi_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, api_slug, version)): Path<(String, String, String)>,
) -> Response {
    let s = match session(&state, &headers).await {
        Ok(s) => s,
        Err(_) => return (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
    };
    let ws = current_workspace!(state, s, slug);
    let svc = &state.services.apis;
    let api = or_error_page!(
        state,
        s,
        svc.get_api(&s.actor, &ws.id, &ApiRef::Slug(api_slug)).await
    );
    match svc
        .openapi_json(&s.actor, &ws.id, api.id.as_str(), &version)
        .await
    {
        Ok(json) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json,
        )
            .into_response(),
        Err(err) => error_page(&state, Some(&s), &err),
    }
}

async fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/w/{slug}/apis", get(apis).post(create_api))
        .route("/ui/w/{slug}/apis/id/{id}", get(api_by_id))
        .route("/ui/w/{slug}/apis/{api_slug}", get(api))
        .route(
            "/ui/w/{slug}/apis/{api_slug}/versions",
            axum::routing::post(publish),
        )
        .route(
            "/ui/w/{slug}/apis/{api_slug}/consumers",
            axum::routing::post(add_consumer),
        )
        .route("/ui/w/{slug}/apis/{api_slug}/compare", get(compare))
        .route(
            "/ui/w/{slug}/apis/{api_slug}/generate",
            axum::routing::post(generate),
        )
        .route("/ui/w/{slug}/apis/{api_slug}/v/{version}/docs", get(docs))
        .route(
            "/ui/w/{slug}/apis/{api_slug}/v/{version}/openapi.json",
            get(openapi_json),
        )
        .route(
            "/ui/static/vendor/swagger-ui-bundle.js",
            get(|| asset(SWAGGER_JS, "text/javascript")),
        )
        .route(
            "/ui/static/apis.js",
            get(|| asset(APIS_JS, "text/javascript")),
        )
        .route(
            "/ui/static/vendor/swagger-ui.css",
            get(|| asset(SWAGGER_CSS, "text/css")),
        )
}
