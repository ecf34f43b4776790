//! The repository catalog's web pages: the list (filters, search, paging), a repository's
//! page (README, branches, recent commits, clone URL), the template gallery, and the
//! "create repository" form generated from a template's parameters, with a dry-run preview.

use crate::AppState;
use crate::web::{
    Session, WsView, current_workspace, date, encode, error_page, guard_origin, message_of,
    or_error_page, render_in_workspace, same_origin, session, signed_in, status_of,
};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use orbit_core::Error;
use orbit_core::repository::Repository;
use orbit_services::repositories::{RepositoryFilter, RepositoryInput, RepositoryRef};
use orbit_template::{ParamKind, Parameter, TemplateError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "repositories.html",
        include_str!("../templates/repositories.html"),
    ),
    (
        "repository.html",
        include_str!("../templates/repository.html"),
    ),
    (
        "repo_templates.html",
        include_str!("../templates/repo_templates.html"),
    ),
    (
        "repo_create.html",
        include_str!("../templates/repo_create.html"),
    ),
];

#[derive(Serialize)]
struct RepoRow {
    id: String,
    name: String,
    description: String,
    owner: String,
    language: String,
    topics: Vec<String>,
    lifecycle: &'static str,
    visibility: &'static str,
    default_branch: String,
    remote_url: String,
    archived: bool,
    source: String,
    created: String,
    updated: String,
}

fn row(r: Repository) -> RepoRow {
    RepoRow {
        id: r.id.to_string(),
        name: r.name.to_string(),
        description: r.description,
        owner: r.owner,
        language: r.language,
        topics: r.topics,
        lifecycle: r.lifecycle.as_str(),
        visibility: r.visibility.as_str(),
        default_branch: r.default_branch,
        remote_url: r.remote_url,
        archived: r.archived,
        source: r.source,
        created: date(r.created_at),
        updated: date(r.updated_at),
    }
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    after: String,
}

#[derive(Serialize)]
struct Hit {
    title: String,
    snippet: String,
    href: String,
}

async fn repositories(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let text = q.q.trim().to_owned();
    let mut hits = Vec::new();
    if !text.is_empty() {
        let found = or_error_page!(
            state,
            s,
            state
                .services
                .search
                .search(
                    &s.actor,
                    &ws.id,
                    &text,
                    &["repository".to_owned()],
                    &[],
                    50,
                    ""
                )
                .await
        );
        hits = found
            .hits
            .into_iter()
            .map(|h| Hit {
                href: format!("/ui/w/{}/repositories/id/{}", ws.slug, h.id),
                title: h.title,
                snippet: h.snippet,
            })
            .collect();
    }
    let filter = RepositoryFilter {
        owner: q.owner.clone(),
        language: q.language.clone(),
        topic: q.topic.clone(),
        lifecycle: q.lifecycle.clone(),
        visibility: q.visibility.clone(),
        include_archived: false,
        sort: "name".into(),
    };
    let listed = state
        .services
        .repositories
        .list(&s.actor, &ws.id, &filter, 50, &q.after)
        .await;
    let (repos, next, error) = match listed {
        Ok(page) => (
            page.items.into_iter().map(row).collect::<Vec<_>>(),
            page.next,
            None,
        ),
        Err(err) => (Vec::new(), None, Some(message_of(&err))),
    };
    let filters = format!(
        "owner={}&language={}&topic={}&lifecycle={}&visibility={}",
        encode(&q.owner),
        encode(&q.language),
        encode(&q.topic),
        encode(&q.lifecycle),
        encode(&q.visibility)
    );
    let next_href = next.map(|t| {
        format!(
            "/ui/w/{}/repositories?{filters}&after={}",
            ws.slug,
            encode(&t)
        )
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render_in_workspace(
        &state,
        &s,
        &ws,
        status,
        "repositories.html",
        context! {
            repos, hits, next_href, q => text, owner => q.owner, language => q.language,
            topic => q.topic, lifecycle => q.lifecycle, visibility => q.visibility, error,
        },
    )
}

async fn repository_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let repo = or_error_page!(
        state,
        s,
        state
            .services
            .repositories
            .get(&s.actor, &ws.id, &RepositoryRef::Id(id))
            .await
    );
    Redirect::to(&format!(
        "/ui/w/{}/repositories/{}",
        ws.slug,
        encode(repo.name.as_str())
    ))
    .into_response()
}

#[derive(Serialize)]
struct CommitRow {
    id: String,
    short: String,
    summary: String,
    author: String,
}

#[derive(Serialize)]
struct BranchRow {
    name: String,
    tip: String,
}

/// The URL to clone a repository with: Orbit's own git server's URLs are shown absolute.
fn clone_url(headers: &HeaderMap, remote: &str) -> String {
    if remote.starts_with('/') {
        crate::web::absolute_url(headers, remote)
    } else {
        remote.to_owned()
    }
}

/// The README's headings two levels down (it sits under the page's h1 and its own h2), and
/// its element ids (and the links to them) prefixed with `readme-`, so that a heading such as
/// "Run" cannot take an id the page's own elements and scripts use.
fn demote_headings(html: &str) -> String {
    let mut out = html
        .replace(" id=\"", " id=\"readme-")
        .replace(" href=\"#", " href=\"#readme-");
    for (from, to) in [(5, 6), (4, 6), (3, 5), (2, 4), (1, 3)] {
        out = out
            .replace(&format!("<h{from}"), &format!("<h{to}"))
            .replace(&format!("</h{from}>"), &format!("</h{to}>"));
    }
    out
}

#[derive(Serialize)]
struct ApiLinkRow {
    relation: &'static str,
    name: String,
    /// The API's page, when the API is in the catalog.
    href: Option<String>,
}

#[derive(Serialize)]
struct LinkRow {
    url: String,
    title: String,
}

async fn repository(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, name)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let (repo, details) = or_error_page!(
        state,
        s,
        state
            .services
            .repositories
            .details(&s.actor, &ws.id, &RepositoryRef::Name(name))
            .await
    );
    let clone = clone_url(&headers, &repo.remote_url);
    // The APIs of catalog-info.yaml, linked to their pages when the API is in the catalog.
    let mut api_rows = Vec::new();
    for (relation, names) in [
        ("provides", &repo.provides_apis),
        ("consumes", &repo.consumes_apis),
    ] {
        for name in names {
            let known = state
                .services
                .apis
                .get_api(
                    &s.actor,
                    &ws.id,
                    &orbit_services::ApiRef::Slug(name.clone()),
                )
                .await
                .is_ok();
            api_rows.push(ApiLinkRow {
                relation,
                name: name.clone(),
                href: known.then(|| format!("/ui/w/{}/apis/{}", ws.slug, encode(name))),
            });
        }
    }
    let links: Vec<LinkRow> = repo
        .links
        .iter()
        .map(|l| LinkRow {
            url: l.url.clone(),
            title: if l.title.is_empty() {
                l.url.clone()
            } else {
                l.title.clone()
            },
        })
        .collect();
    let readme_html = demote_headings(&details.readme_html);
    let commits: Vec<CommitRow> = details
        .commits
        .iter()
        .map(|c| CommitRow {
            short: c.id.chars().take(12).collect(),
            id: c.id.clone(),
            summary: c.summary.clone(),
            author: c.author_name.clone(),
        })
        .collect();
    let branches: Vec<BranchRow> = details
        .branches
        .iter()
        .map(|(name, tip)| BranchRow {
            name: name.clone(),
            tip: tip.chars().take(12).collect(),
        })
        .collect();
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "repository.html",
        context! {
            repo => row(repo), clone_url => clone, readme_html,
            readme_path => details.readme_path, commits, branches, git_error => details.git_error,
            links, apis => api_rows,
        },
    )
}

// ---------------------------------------------------------------------------------------
// Templates

#[derive(Serialize)]
struct TemplateRow {
    name: String,
    title: String,
    description: String,
    source_url: String,
    git_ref: String,
    path: String,
    parameters: usize,
    created: String,
}

#[derive(Deserialize, Serialize, Default)]
struct RegisterForm {
    #[serde(default)]
    source_url: String,
    #[serde(default)]
    git_ref: String,
    #[serde(default)]
    path: String,
}

async fn templates_page(
    state: &AppState,
    s: &Session,
    ws: WsView,
    form: RegisterForm,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (templates, list_error) = match state
        .services
        .repositories
        .list_templates(&s.actor, &ws.id)
        .await
    {
        Ok(list) => (
            list.into_iter()
                .map(|v| TemplateRow {
                    parameters: v.manifest.parameters.len(),
                    title: if v.manifest.title.is_empty() {
                        v.manifest.name.clone()
                    } else {
                        v.manifest.title.clone()
                    },
                    description: v.manifest.description.clone(),
                    name: v.template.name,
                    source_url: v.template.source_url,
                    git_ref: v.template.git_ref,
                    path: v.template.path,
                    created: date(v.template.created_at),
                })
                .collect::<Vec<_>>(),
            None,
        ),
        Err(err) => (Vec::new(), Some(message_of(&err))),
    };
    render_in_workspace(
        state,
        s,
        &ws,
        status,
        "repo_templates.html",
        context! { templates, form, error => error.or(list_error) },
    )
}

async fn templates(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    templates_page(
        &state,
        &s,
        ws,
        RegisterForm {
            git_ref: "main".into(),
            ..Default::default()
        },
        StatusCode::OK,
        None,
    )
    .await
}

async fn register_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    match state
        .services
        .repositories
        .register_template(
            &s.actor,
            &ws.id,
            form.source_url.trim(),
            form.git_ref.trim(),
            form.path.trim(),
        )
        .await
    {
        Ok(v) => Redirect::to(&format!(
            "/ui/w/{}/templates/{}/create",
            ws.slug,
            encode(&v.template.name)
        ))
        .into_response(),
        Err(err) => {
            templates_page(
                &state,
                &s,
                ws,
                form,
                status_of(&err),
                Some(message_of(&err)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The "create repository" form

/// One field of the form, generated from a template parameter.
#[derive(Serialize)]
struct Field {
    name: String,
    id: String,
    label: String,
    help: String,
    kind: &'static str,
    required: bool,
    value: String,
    checked: bool,
    options: Vec<String>,
    pattern: Option<String>,
    min: Option<String>,
    max: Option<String>,
    error: Option<String>,
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A pattern as the HTML `pattern` attribute takes it: browsers compile it with the `v`
/// flag, where a literal `-`, `(`, `)`, `{`, `}`, `/` or `|` in a character class must be
/// escaped. The server checks the manifest's own pattern in any case.
fn html_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut escaped = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                out.push(c);
                escaped = true;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&'-') {
                    chars.next();
                    out.push_str("\\-");
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '-' if in_class && chars.peek() == Some(&']') => out.push_str("\\-"),
            '(' | ')' | '{' | '}' | '/' | '|' if in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn field(p: &Parameter, given: Option<&String>, error: Option<String>) -> Field {
    let default = p.default.as_ref().map(|d| d.display());
    let kind = match p.kind {
        ParamKind::String => "string",
        ParamKind::Number => "number",
        ParamKind::Boolean => "boolean",
        ParamKind::Enum(_) => "enum",
        ParamKind::List => "list",
    };
    let value = match (given, &p.kind) {
        (Some(v), _) => v.clone(),
        (None, ParamKind::List) => default
            .map(|d| d.split(',').map(str::trim).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default(),
        (None, _) => default.unwrap_or_default(),
    };
    let (min, max) = match p.kind {
        ParamKind::Number => (p.min.map(number), p.max.map(number)),
        ParamKind::String => (
            p.min.map(|n| number(n.max(0.0))),
            p.max.map(|n| number(n.max(0.0))),
        ),
        _ => (None, None),
    };
    Field {
        id: format!("param-{}", p.name),
        label: if p.title.is_empty() {
            p.name.clone()
        } else {
            p.title.clone()
        },
        help: p.description.clone(),
        kind,
        required: p.required,
        checked: value == "true",
        options: match &p.kind {
            ParamKind::Enum(o) => o.clone(),
            _ => Vec::new(),
        },
        pattern: match p.kind {
            ParamKind::String => p.pattern.as_deref().map(html_pattern),
            _ => None,
        },
        min,
        max,
        error,
        value,
        name: p.name.clone(),
    }
}

/// The repository's own fields, as the form sent them.
#[derive(Serialize, Default)]
struct RepoFields {
    name: String,
    owner: String,
    description: String,
    visibility: String,
    lifecycle: String,
    language: String,
    topics: String,
}

#[derive(Serialize)]
struct PreviewFile {
    path: String,
    size: usize,
    text: Option<String>,
    verbatim: bool,
}

#[derive(Default)]
struct Outcome {
    errors: HashMap<String, String>,
    error: Option<String>,
    violations: Vec<String>,
    preview: Option<Vec<PreviewFile>>,
    status: Option<StatusCode>,
}

const POLICY_PREFIX: &str = "the workspace's repository policy refuses this: ";

fn outcome_of(err: &Error) -> Outcome {
    let mut out = Outcome {
        status: Some(status_of(err)),
        ..Default::default()
    };
    match err {
        Error::FailedPrecondition(m) if m.starts_with(POLICY_PREFIX) => {
            out.violations = m[POLICY_PREFIX.len()..]
                .split("; ")
                .map(str::to_owned)
                .collect();
        }
        Error::InvalidArgument { field, message } if field != "parameters" => {
            let key = match field.as_str() {
                "name" | "owner" | "description" | "visibility" | "lifecycle" | "language"
                | "topics" => format!("repo.{field}"),
                other => other.to_owned(),
            };
            out.errors.insert(key, message.clone());
            out.error = Some(message_of(err));
        }
        _ => out.error = Some(message_of(err)),
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn create_page(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    template: &str,
    repo: RepoFields,
    given: &BTreeMap<String, String>,
    outcome: Outcome,
) -> Response {
    let view = match state
        .services
        .repositories
        .get_template(&s.actor, &ws.id, template)
        .await
    {
        Ok(v) => v,
        Err(err) => return error_page(state, Some(s), &err),
    };
    let fields: Vec<Field> = view
        .manifest
        .parameters
        .iter()
        .map(|p| field(p, given.get(&p.name), outcome.errors.get(&p.name).cloned()))
        .collect();
    let repo_errors: BTreeMap<String, String> = outcome
        .errors
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("repo.").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let field_errors = outcome.errors.len();
    render_in_workspace(
        state,
        s,
        ws,
        outcome.status.unwrap_or(StatusCode::OK),
        "repo_create.html",
        context! {
            template => context! {
                name => view.template.name, title => view.manifest.title,
                description => view.manifest.description, source_url => view.template.source_url,
                git_ref => view.template.git_ref, path => view.template.path,
            },
            fields, repo, repo_errors, field_errors, error => outcome.error,
            violations => outcome.violations, preview => outcome.preview,
        },
    )
}

async fn create_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, template)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let repo = RepoFields {
        visibility: "internal".into(),
        lifecycle: "experimental".into(),
        ..Default::default()
    };
    create_page(
        &state,
        &s,
        &ws,
        &template,
        repo,
        &BTreeMap::new(),
        Outcome::default(),
    )
    .await
}

async fn create_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, template)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let repo = RepoFields {
        name: get("repo_name").trim().to_owned(),
        owner: get("repo_owner").trim().to_owned(),
        description: get("repo_description"),
        visibility: get("repo_visibility"),
        lifecycle: get("repo_lifecycle"),
        language: get("repo_language").trim().to_owned(),
        topics: get("repo_topics"),
    };
    let action = get("action");
    let view = or_error_page!(
        state,
        s,
        state
            .services
            .repositories
            .get_template(&s.actor, &ws.id, &template)
            .await
    );
    // Every parameter the template has, as the form sent it; an unticked checkbox is false.
    let mut given = BTreeMap::new();
    for p in &view.manifest.parameters {
        let key = format!("p.{}", p.name);
        let sent = pairs
            .iter()
            .find(|(n, _)| n == &key)
            .map(|(_, v)| v.clone());
        let value = match p.kind {
            ParamKind::Boolean => {
                if sent.is_some_and(|v| !v.is_empty() && v != "false") {
                    "true".to_owned()
                } else {
                    "false".to_owned()
                }
            }
            ParamKind::List => sent
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => sent.unwrap_or_default(),
        };
        given.insert(p.name.clone(), value);
    }
    // Parameters are checked here first so that each error is shown next to its field.
    let input: BTreeMap<String, serde_json::Value> = given
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    if let Err(TemplateError::Parameters(list)) = view.manifest.validate(&input) {
        let outcome = Outcome {
            error: Some(format!(
                "{} parameter{} need{} fixing.",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                if list.len() == 1 { "s" } else { "" }
            )),
            errors: list.into_iter().collect(),
            status: Some(StatusCode::BAD_REQUEST),
            ..Default::default()
        };
        return create_page(&state, &s, &ws, &template, repo, &given, outcome).await;
    }
    let svc = &state.services.repositories;
    if action == "preview" {
        let outcome = match svc.dry_run(&s.actor, &ws.id, &template, &given).await {
            Ok(files) => Outcome {
                preview: Some(
                    files
                        .into_iter()
                        .map(|f| PreviewFile {
                            size: f.content.len(),
                            text: if f.verbatim {
                                None
                            } else {
                                String::from_utf8(f.content).ok()
                            },
                            verbatim: f.verbatim,
                            path: f.path,
                        })
                        .collect(),
                ),
                ..Default::default()
            },
            Err(err) => outcome_of(&err),
        };
        return create_page(&state, &s, &ws, &template, repo, &given, outcome).await;
    }
    let input = RepositoryInput {
        name: repo.name.clone(),
        description: repo.description.clone(),
        owner: repo.owner.clone(),
        language: repo.language.clone(),
        topics: repo
            .topics
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        lifecycle: repo.lifecycle.clone(),
        default_branch: String::new(),
        remote_url: String::new(),
        visibility: repo.visibility.clone(),
    };
    match svc
        .create_from_template(&s.actor, &ws.id, &template, input, given.clone())
        .await
    {
        Ok(run) => Redirect::to(&format!("/ui/w/{}/workflows/{run}", ws.slug)).into_response(),
        Err(err) => {
            let outcome = outcome_of(&err);
            create_page(&state, &s, &ws, &template, repo, &given, outcome).await
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/w/{slug}/repositories", get(repositories))
        .route("/ui/w/{slug}/repositories/id/{id}", get(repository_by_id))
        .route("/ui/w/{slug}/repositories/{name}", get(repository))
        .route(
            "/ui/w/{slug}/templates",
            get(templates).post(register_template),
        )
        .route(
            "/ui/w/{slug}/templates/{template}/create",
            get(create_form).post(create_submit),
        )
}

#[cfg(test)]
mod tests {
    #[test]
    fn readme_headings_go_under_the_page_heading() {
        assert_eq!(
            super::demote_headings("<h1 id=\"a\">A</h1><h2>B</h2><h4>C</h4><h6>D</h6>"),
            "<h3 id=\"readme-a\">A</h3><h4>B</h4><h6>C</h6><h6>D</h6>"
        );
        assert_eq!(
            super::demote_headings("<h2 id=\"run\">Run</h2><a href=\"#run\">run</a>"),
            "<h4 id=\"readme-run\">Run</h4><a href=\"#readme-run\">run</a>"
        );
    }

    #[test]
    fn html_patterns_escape_what_the_v_flag_refuses() {
        assert_eq!(super::html_pattern("[a-z][a-z0-9-]*"), "[a-z][a-z0-9\\-]*");
        assert_eq!(super::html_pattern("[-a-z]+"), "[\\-a-z]+");
        assert_eq!(super::html_pattern("[^-(]x"), "[^\\-\\(]x");
        assert_eq!(super::html_pattern("(a|b)-[\\]x]"), "(a|b)-[\\]x]");
    }
}
