//! The web UI of durable workflows: a workspace's runs (filters, pages), one run's details
//! with its event log, cancel and retry, and the header's "N running" indicator. Live
//! progress is a JavaScript enhancement (`static/workflows.js` polls `GetWorkflow` through
//! the session cookie); without it, an unfinished run's page refreshes itself every few
//! seconds. Same patterns as `web.rs`: the session cookie, same-origin checks on every
//! POST, POST-redirect-GET on success, and a GET on a POST-only address goes back to the
//! run.

use crate::AppState;
use crate::web::{
    Session, WsView, current_workspace, date, encode, error_page, guard_origin, message_of,
    render_in_workspace, same_origin, session, signed_in, status_of,
};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use orbit_core::workflow::{RunStatus, WorkflowRun};
use orbit_core::{Actor, Error, PageRequest, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The templates of this module, registered by `web::Templates::new`.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "workflows.html",
        include_str!("../templates/workflows.html"),
    ),
    ("workflow.html", include_str!("../templates/workflow.html")),
];

const LIST_PAGE_SIZE: u32 = 25;
/// The header's indicator counts unfinished runs up to this many ("20+ running" beyond).
const ACTIVITY_CAP: u32 = 20;
/// How many of a space's recent syncs its page lists, and how many sync runs it looks at.
const RECENT_SYNCS: usize = 5;
const SYNC_SCAN: u32 = 50;

/// The knowledge sync's workflow kind (`orbit_workflows::knowledge_sync::KIND`).
const SYNC_KIND: &str = "orbit.knowledge.sync";

// ---------------------------------------------------------------------------------------
// Formatting

/// "2026-03-01 14:05:09 UTC".
fn datetime(t: Timestamp) -> String {
    format!("{} {} UTC", date(t), clock(t))
}

/// "14:05:09".
fn clock(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// "2026-03-01T14:05:09Z", for `<time datetime>`.
fn iso(t: Timestamp) -> String {
    format!("{}T{}Z", date(t), clock(t))
}

/// "Running", "Succeeded"…
fn status_label(s: RunStatus) -> String {
    let s = s.as_str();
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A readable name for the kinds Orbit ships; other kinds are shown as they are.
fn kind_label(kind: &str) -> String {
    match kind {
        SYNC_KIND => "Knowledge sync".to_owned(),
        "orbit.demo.steps" => "Demo steps".to_owned(),
        other => other.to_owned(),
    }
}

/// JSON indented for a `<pre>`; text that is not JSON is shown as it is.
fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_owned())
}

/// A git remote as it may be shown again: the password of `scheme://user:password@host/…`
/// is dropped (the user name is kept).
pub(crate) fn without_password(remote: &str) -> String {
    let (prefix, rest) = match remote.find("://") {
        Some(i) => remote.split_at(i + 3),
        None => ("", remote),
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{prefix}{user}{host}{path}")
        }
        None => remote.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// What the templates see

#[derive(Serialize)]
struct RunRow {
    id: String,
    href: String,
    kind: String,
    kind_label: String,
    status: &'static str,
    status_label: String,
    finished: bool,
    done: u32,
    total: u32,
    started_by: String,
    created: String,
    /// Date and time apart, for the list's narrow columns.
    created_date: String,
    created_clock: String,
    created_iso: String,
    updated: String,
    updated_date: String,
    updated_clock: String,
    updated_iso: String,
}

#[derive(Serialize)]
struct EventRow {
    time: String,
    iso: String,
    message: String,
}

#[derive(Serialize)]
struct RunDetails {
    current_step: String,
    attempt: u32,
    cancel_requested: bool,
    error: Option<String>,
    result: Option<String>,
    input: String,
    events: Vec<EventRow>,
    can_cancel: bool,
    can_retry: bool,
}

/// Resolves user ids to logins, once per id and request.
struct Logins<'a> {
    state: &'a AppState,
    actor: &'a Actor,
    known: HashMap<String, String>,
}

impl<'a> Logins<'a> {
    fn new(state: &'a AppState, actor: &'a Actor) -> Self {
        Logins {
            state,
            actor,
            known: HashMap::new(),
        }
    }

    async fn login(&mut self, id: &str) -> String {
        if let Some(login) = self.known.get(id) {
            return login.clone();
        }
        let login = match self.state.services.users.get(self.actor, id).await {
            Ok(user) => user.login.as_str().to_owned(),
            Err(_) => id.to_owned(),
        };
        self.known.insert(id.to_owned(), login.clone());
        login
    }
}

async fn row(slug: &str, run: &WorkflowRun, logins: &mut Logins<'_>) -> RunRow {
    RunRow {
        id: run.id.to_string(),
        href: run_url(slug, run.id.as_str()),
        kind: run.kind.clone(),
        kind_label: kind_label(&run.kind),
        status: run.status.as_str(),
        status_label: status_label(run.status),
        finished: run.status.is_finished(),
        done: run.steps_done,
        total: run.steps_total,
        started_by: logins.login(run.started_by.as_str()).await,
        created: datetime(run.created_at),
        created_date: date(run.created_at),
        created_clock: clock(run.created_at),
        created_iso: iso(run.created_at),
        updated: datetime(run.updated_at),
        updated_date: date(run.updated_at),
        updated_clock: clock(run.updated_at),
        updated_iso: iso(run.updated_at),
    }
}

fn details(run: &WorkflowRun) -> RunDetails {
    RunDetails {
        current_step: run.current_step.clone(),
        attempt: run.attempt,
        cancel_requested: run.cancel_requested,
        error: run
            .error
            .clone()
            .filter(|_| run.status == RunStatus::Failed),
        result: run
            .result
            .as_deref()
            .filter(|_| run.status == RunStatus::Succeeded)
            .map(pretty_json),
        input: pretty_json(&run.input),
        events: run
            .events
            .iter()
            .map(|e| EventRow {
                time: clock(e.at),
                iso: iso(e.at),
                message: e.message.clone(),
            })
            .collect(),
        can_cancel: !run.status.is_finished(),
        can_retry: matches!(run.status, RunStatus::Failed | RunStatus::Cancelled),
    }
}

fn run_url(slug: &str, id: &str) -> String {
    format!("/ui/w/{slug}/workflows/{id}")
}

// ---------------------------------------------------------------------------------------
// The header's indicator

/// Unfinished runs of a workspace, for the header: how many (up to `ACTIVITY_CAP`, `more`
/// beyond) and the status filter its link opens.
#[derive(Serialize, Default)]
pub(crate) struct Activity {
    pub(crate) count: u32,
    pub(crate) more: bool,
    pub(crate) status: &'static str,
}

/// Two small keyset queries (running, then pending), at most `ACTIVITY_CAP + 1` rows each
/// and no event logs. Errors are logged and show no indicator: the page still renders.
pub(crate) async fn activity(state: &AppState, actor: &Actor, workspace_id: &str) -> Activity {
    let workflows = &state.services.workflows;
    let page = PageRequest::first(ACTIVITY_CAP);
    let mut out = Activity::default();
    for status in [RunStatus::Running, RunStatus::Pending] {
        match workflows
            .list(actor, workspace_id, "", Some(status), &page)
            .await
        {
            Ok(p) => {
                if !p.items.is_empty() && out.count == 0 {
                    out.status = status.as_str();
                }
                out.count += p.items.len() as u32;
                out.more |= p.next.is_some();
            }
            Err(err) => {
                tracing::debug!(workspace = workspace_id, error = %err, "cannot count unfinished workflow runs");
                return Activity::default();
            }
        }
    }
    if out.count > ACTIVITY_CAP {
        out.count = ACTIVITY_CAP;
        out.more = true;
    }
    out
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
    notice: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let kind = q.kind.trim().to_owned();
    let status_value = q.status.trim().to_owned();
    let mut kinds: Vec<&str> = state
        .services
        .deps
        .workflow_definitions
        .definitions
        .keys()
        .copied()
        .collect();
    if !kind.is_empty() && !kinds.contains(&kind.as_str()) {
        kinds.push(&kind);
    }
    kinds.sort_unstable();
    let kinds: Vec<Choice> = kinds
        .into_iter()
        .map(|k| Choice {
            value: k.to_owned(),
            label: if kind_label(k) == k {
                k.to_owned()
            } else {
                format!("{} ({k})", kind_label(k))
            },
        })
        .collect();
    let statuses: Vec<Choice> = RunStatus::ALL
        .iter()
        .map(|st| Choice {
            value: st.as_str().to_owned(),
            label: status_label(*st),
        })
        .collect();
    let status = match status_value.as_str() {
        "" => Ok(None),
        v => RunStatus::parse(v).map(Some).ok_or_else(|| {
            Error::invalid(
                "status",
                "must be pending, running, succeeded, failed or cancelled",
            )
        }),
    };
    let result = match (
        status,
        PageRequest::parse(LIST_PAGE_SIZE as i32, q.after.trim()),
    ) {
        (Ok(status), Ok(page)) => {
            state
                .services
                .workflows
                .list(&s.actor, &ws.id, &kind, status, &page)
                .await
        }
        (Err(err), _) | (_, Err(err)) => Err(err),
    };
    let filtered = !kind.is_empty() || !status_value.is_empty();
    let base = format!(
        "/ui/w/{slug}/workflows?kind={}&status={}",
        encode(&kind),
        encode(&status_value)
    );
    let (page, shown_status, error) = match result {
        Ok(page) => (page, StatusCode::OK, None),
        Err(err) => (
            orbit_core::Page {
                items: Vec::new(),
                next: None,
            },
            status_of(&err),
            Some(message_of(&err)),
        ),
    };
    let mut logins = Logins::new(&state, &s.actor);
    let mut runs = Vec::with_capacity(page.items.len());
    for run in &page.items {
        runs.push(row(&slug, run, &mut logins).await);
    }
    let next_href = page.next.map(|t| format!("{base}&after={}", encode(&t)));
    let first_href = (!q.after.trim().is_empty()).then_some(base);
    render_in_workspace(
        &state,
        &s,
        &ws,
        shown_status,
        "workflows.html",
        context! {
            runs, kinds, statuses, kind, status => status_value, filtered, next_href, first_href,
            error, notice => q.notice,
        },
    )
}

// ---------------------------------------------------------------------------------------
// One run

#[derive(Deserialize, Default)]
struct RunQuery {
    notice: Option<String>,
}

async fn render_run(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let run = match state.services.workflows.get(&s.actor, &ws.id, id).await {
        Ok(run) => run,
        Err(err) => return error_page(state, Some(s), &err),
    };
    let mut logins = Logins::new(state, &s.actor);
    let summary = row(&ws.slug, &run, &mut logins).await;
    let details = details(&run);
    let sync_space = sync_space_of(state, s, ws, &run).await;
    let new_repository = new_repository_of(ws, &run);
    render_in_workspace(
        state,
        s,
        ws,
        status,
        "workflow.html",
        context! {
            run => summary, details, sync_space, new_repository, notice, error,
            engine => state.services.workflows.engine(),
        },
    )
}

/// The repository an `orbit.repository.create` run creates, for a link to it.
fn new_repository_of(ws: &WsView, run: &WorkflowRun) -> Option<SpaceLink> {
    if run.kind != "orbit.repository.create" {
        return None;
    }
    let input: serde_json::Value = serde_json::from_str(&run.input).ok()?;
    let name = input.get("repository")?.get("name")?.as_str()?;
    let path: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect();
    Some(SpaceLink {
        name: name.to_owned(),
        href: format!("/ui/w/{}/repositories/{path}", ws.slug),
    })
}

/// The space a knowledge sync run works on, for a link back to it.
#[derive(Serialize)]
struct SpaceLink {
    name: String,
    href: String,
}

async fn sync_space_of(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    run: &WorkflowRun,
) -> Option<SpaceLink> {
    if run.kind != SYNC_KIND {
        return None;
    }
    let input: serde_json::Value = serde_json::from_str(&run.input).ok()?;
    let space_id = input.get("space_id")?.as_str()?;
    let view = state
        .services
        .knowledge
        .get_space(
            &s.actor,
            &ws.id,
            &orbit_services::SpaceRef::Id(space_id.to_owned()),
        )
        .await
        .ok()?;
    Some(SpaceLink {
        href: format!("/ui/w/{}/spaces/{}", ws.slug, view.space.slug),
        name: view.space.name,
    })
}

async fn run_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<RunQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    render_run(&state, &s, &ws, &id, StatusCode::OK, q.notice, None).await
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    match state.services.workflows.cancel(&s.actor, &ws.id, &id).await {
        Ok(_) => Redirect::to(&format!(
            "{}?notice=Cancellation+requested",
            run_url(&slug, &id)
        ))
        .into_response(),
        Err(err) => {
            render_run(
                &state,
                &s,
                &ws,
                &id,
                status_of(&err),
                None,
                Some(message_of(&err)),
            )
            .await
        }
    }
}

async fn retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    match state.services.workflows.retry(&s.actor, &ws.id, &id).await {
        Ok(run) => Redirect::to(&format!(
            "{}?notice=Retrying%3A+attempt+{}",
            run_url(&slug, &id),
            run.attempt
        ))
        .into_response(),
        Err(err) => {
            render_run(
                &state,
                &s,
                &ws,
                &id,
                status_of(&err),
                None,
                Some(message_of(&err)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// A space's recent syncs (shown on the space page by `web_knowledge`)

#[derive(Serialize)]
pub(crate) struct SyncRow {
    href: String,
    status: &'static str,
    status_label: String,
    direction: String,
    remote: String,
    created: String,
    created_iso: String,
}

/// The latest sync runs of a space, newest first (looks at the workspace's latest
/// `SYNC_SCAN` sync runs). Errors show no list.
pub(crate) async fn recent_syncs(
    state: &AppState,
    actor: &Actor,
    ws: &WsView,
    space_id: &str,
) -> Vec<SyncRow> {
    let page = PageRequest::first(SYNC_SCAN);
    let Ok(page) = state
        .services
        .workflows
        .list(actor, &ws.id, SYNC_KIND, None, &page)
        .await
    else {
        return Vec::new();
    };
    page.items
        .iter()
        .filter_map(|run| {
            let input: serde_json::Value = serde_json::from_str(&run.input).ok()?;
            if input.get("space_id")?.as_str()? != space_id {
                return None;
            }
            let field = |name: &str| {
                input
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            Some(SyncRow {
                href: run_url(&ws.slug, run.id.as_str()),
                status: run.status.as_str(),
                status_label: status_label(run.status),
                direction: field("direction"),
                remote: without_password(&field("remote")),
                created: datetime(run.created_at),
                created_iso: iso(run.created_at),
            })
        })
        .take(RECENT_SYNCS)
        .collect()
}

// ---------------------------------------------------------------------------------------

async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/workflows.js"),
    )
        .into_response()
}

async fn back_to_run(Path((slug, id)): Path<(String, String)>) -> Redirect {
    Redirect::to(&run_url(&slug, &id))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/w/{slug}/workflows", get(list))
        .route("/ui/w/{slug}/workflows/{id}", get(run_page))
        .route(
            "/ui/w/{slug}/workflows/{id}/cancel",
            post(cancel).get(back_to_run),
        )
        .route(
            "/ui/w/{slug}/workflows/{id}/retry",
            post(retry).get(back_to_run),
        )
        .route("/ui/static/workflows.js", get(script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_dropped_from_remotes() {
        assert_eq!(
            without_password("https://u:secret@host/r.git"),
            "https://u@host/r.git"
        );
        assert_eq!(without_password("u:secret@host"), "u@host");
        assert_eq!(
            without_password("git://127.0.0.1:9418/docs.git"),
            "git://127.0.0.1:9418/docs.git"
        );
        assert_eq!(without_password("ssh://git@host/a@b"), "ssh://git@host/a@b");
    }

    #[test]
    fn formats() {
        let t = Timestamp(1_700_000_000_123);
        assert_eq!(datetime(t), "2023-11-14 22:13:20 UTC");
        assert_eq!(iso(t), "2023-11-14T22:13:20Z");
        assert_eq!(status_label(RunStatus::Cancelled), "Cancelled");
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("not json"), "not json");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
