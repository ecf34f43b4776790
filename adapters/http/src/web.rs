//! The server-rendered web UI. Plain HTML forms (works without JavaScript, keyboard-usable),
//! one template per page, and the same use cases the API calls. Sign-in stores the API
//! token in an `HttpOnly`, `SameSite=Strict` cookie; state-changing requests also check
//! `Origin` against `Host`, so another site cannot post forms on a user's behalf.

use crate::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use orbit_core::{Actor, Error, PageRequest, Role, Timestamp, WorkspacePatch};
use orbit_ports::{AuthError, Credentials};
use orbit_services::WorkspaceRef;
use serde::{Deserialize, Serialize};

const COOKIE: &str = "orbit_session";

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("home.html", include_str!("../templates/home.html")),
            (
                "workspace.html",
                include_str!("../templates/workspace.html"),
            ),
            ("members.html", include_str!("../templates/members.html")),
            ("tokens.html", include_str!("../templates/tokens.html")),
            ("message.html", include_str!("../templates/message.html")),
        ]
        .into_iter()
        .chain(crate::web_knowledge::TEMPLATES.iter().copied())
        .chain(crate::web_workflows::TEMPLATES.iter().copied())
        .chain(crate::web_apis::TEMPLATES.iter().copied())
        .chain(crate::web_repos::TEMPLATES.iter().copied())
        .chain(crate::web_githost::TEMPLATES.iter().copied())
        {
            if let Err(err) = env.add_template(name, src) {
                panic!("template {name} does not compile: {err}");
            }
        }
        Templates { env }
    }

    pub(crate) fn render(&self, status: StatusCode, name: &str, ctx: Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(template = name, error = %err, "template rendering failed");
                (StatusCode::INTERNAL_SERVER_ERROR, Html("<h1>Orbit could not render this page</h1><p>The server log has the details.</p>".to_string())).into_response()
            }
        }
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// HTML-escapes text for pages built without a template.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The token in the session cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

pub(crate) fn status_of(err: &Error) -> StatusCode {
    crate::error::ConnectError::from(err.clone())
        .code
        .http_status()
}

/// The error's message as a sentence for a page: capitalised.
pub(crate) fn message_of(err: &Error) -> String {
    let message = crate::error::ConnectError::from(err.clone()).message;
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => message,
    }
}

pub(crate) fn date(t: Timestamp) -> String {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm), to avoid a date crate.
    let days = t.0.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What every signed-in page needs: the actor and the workspace switcher's list.
pub(crate) struct Session {
    pub(crate) actor: Actor,
    pub(crate) workspaces: Vec<WsView>,
}

#[derive(Serialize)]
pub(crate) struct WsView {
    pub(crate) id: String,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) role: &'static str,
    /// Unfinished workflow runs, for the header's indicator (only on the current workspace).
    pub(crate) activity: crate::web_workflows::Activity,
}

#[derive(Serialize)]
pub(crate) struct UserView {
    login: String,
    display_name: String,
    instance_admin: bool,
}

impl Session {
    pub(crate) fn user(&self) -> UserView {
        UserView {
            login: self.actor.user.login.as_str().to_owned(),
            display_name: self.actor.user.display_name.clone(),
            instance_admin: self.actor.user.instance_admin,
        }
    }
}

pub(crate) async fn session(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let to_login = || Redirect::to("/ui/login").into_response();
    let Some(token) = session_token(headers) else {
        return Err(to_login());
    };
    let actor = match state.auth.authenticate(&Credentials::Bearer(token)).await {
        Ok(actor) => actor,
        Err(AuthError::Rejected(_)) => return Err(to_login()),
        Err(AuthError::Unavailable(msg)) => {
            tracing::error!(error = %msg, "authentication unavailable");
            return Err(state.web.render(StatusCode::SERVICE_UNAVAILABLE, "message.html", context! { heading => "Orbit cannot check your sign-in right now. Try again shortly." }));
        }
    };
    let page = state
        .services
        .workspaces
        .list(&actor, &PageRequest::first(orbit_core::page::MAX_PAGE_SIZE))
        .await
        .map_err(|e| error_page(state, None, &e))?;
    let workspaces = page
        .items
        .into_iter()
        .map(|(w, role)| WsView {
            id: w.id.to_string(),
            slug: w.slug.to_string(),
            name: w.name,
            description: w.description,
            role: role.as_str(),
            activity: Default::default(),
        })
        .collect();
    Ok(Session { actor, workspaces })
}

pub(crate) fn error_page(state: &AppState, session: Option<&Session>, err: &Error) -> Response {
    state.web.render(
        status_of(err),
        "message.html",
        context! { heading => message_of(err), user => session.map(Session::user), workspaces => session.map(|s| &s.workspaces) },
    )
}

/// Refuses state-changing requests sent by another origin.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin == "null" && host.is_empty()
        || origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host)
}

macro_rules! guard_origin {
    ($headers:expr) => {
        if !same_origin(&$headers) {
            return (
                StatusCode::FORBIDDEN,
                "cross-origin form submissions are refused",
            )
                .into_response();
        }
    };
}

macro_rules! signed_in {
    ($state:expr, $headers:expr) => {
        match session(&$state, &$headers).await {
            Ok(s) => s,
            Err(resp) => return resp,
        }
    };
}

pub(crate) use {guard_origin, signed_in};

/// Loads the workspace named by the URL, or returns its error page.
macro_rules! current_workspace {
    ($state:expr, $s:expr, $slug:expr) => {
        match $crate::web::current(&$state, &$s, &$slug).await {
            Ok(ws) => ws,
            Err(resp) => return resp,
        }
    };
}

/// Unwraps a use case's result, or returns the error page for it.
macro_rules! or_error_page {
    ($state:expr, $s:expr, $result:expr) => {
        match $result {
            Ok(v) => v,
            Err(err) => return $crate::web::error_page(&$state, Some(&$s), &err),
        }
    };
}

pub(crate) use {current_workspace, or_error_page};

/// Renders a page of a workspace: the shell's context (the user, their workspaces, the
/// current one and what their role allows) plus `extra`.
pub(crate) fn render_in_workspace(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    status: StatusCode,
    template: &str,
    extra: minijinja::Value,
) -> Response {
    let role = Role::parse(ws.role);
    state.web.render(
        status,
        template,
        minijinja::context! {
            user => s.user(), workspaces => &s.workspaces, current => ws,
            can_write => role.is_some_and(Role::can_write),
            can_administer => role.is_some_and(Role::can_administer),
            ..extra
        },
    )
}

/// An absolute URL on this server for `path` ("/git/…", "/webhooks/…"), as the browser
/// reached it: the `Host` header, and `X-Forwarded-Proto` when a proxy terminates TLS.
pub(crate) fn absolute_url(headers: &HeaderMap, path: &str) -> String {
    let header = |name| {
        headers
            .get(name)
            .and_then(|h: &HeaderValue| h.to_str().ok())
    };
    let host = header(header::HOST).unwrap_or("localhost");
    let scheme = match header(header::HeaderName::from_static("x-forwarded-proto")) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

/// Percent-encodes a value for a URL's path segment or query string.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let raw =
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&raw)
        .unwrap_or_else(|_| HeaderValue::from_static("orbit_session=; Path=/; Max-Age=0"))
}

async fn root() -> Redirect {
    Redirect::to("/ui")
}

async fn login_page(State(state): State<AppState>) -> Response {
    state.web.render(StatusCode::OK, "login.html", context! {})
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    guard_origin!(headers);
    let token = form.token.trim().to_owned();
    match state
        .auth
        .authenticate(&Credentials::Bearer(token.clone()))
        .await
    {
        Ok(actor) => {
            tracing::info!(user = %actor.user.id, "signed in to the web UI");
            let mut resp = Redirect::to("/ui").into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, cookie(&state, &token, 30 * 24 * 3600));
            resp
        }
        Err(err) => {
            let message = match err {
                AuthError::Rejected(_) => "That token is unknown, revoked or expired.".to_string(),
                AuthError::Unavailable(_) => {
                    "Orbit cannot check tokens right now. Try again shortly.".to_string()
                }
            };
            state.web.render(
                StatusCode::UNAUTHORIZED,
                "login.html",
                context! { error => message },
            )
        }
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    guard_origin!(headers);
    let mut resp = Redirect::to("/ui/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, "", 0));
    resp
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
    after: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
struct CreateForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    state.web.render(
        StatusCode::OK,
        "home.html",
        context! { user => s.user(), workspaces => s.workspaces, notice => q.notice, form => CreateForm::default() },
    )
}

async fn create_workspace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    match state.services.workspaces.create(&s.actor, &form.slug, &form.name, &form.description).await {
        Ok((ws, _)) => Redirect::to(&format!("/ui/w/{}?notice=Workspace+created", ws.slug)).into_response(),
        Err(err) => state.web.render(
            status_of(&err),
            "home.html",
            context! { user => s.user(), workspaces => s.workspaces, error => message_of(&err), form => form },
        ),
    }
}

#[derive(Deserialize)]
struct SwitchQuery {
    #[serde(default)]
    slug: String,
}

async fn switch(Query(q): Query<SwitchQuery>) -> Redirect {
    if q.slug.is_empty() || orbit_core::Slug::parse(&q.slug).is_err() {
        Redirect::to("/ui")
    } else {
        Redirect::to(&format!("/ui/w/{}", q.slug))
    }
}

/// Loads the workspace of the URL for a signed-in page; non-members get the not-found page.
pub(crate) async fn current(state: &AppState, s: &Session, slug: &str) -> Result<WsView, Response> {
    match state
        .services
        .workspaces
        .get(&s.actor, &WorkspaceRef::Slug(slug.to_owned()))
        .await
    {
        Ok((w, role)) => Ok(WsView {
            activity: crate::web_workflows::activity(state, &s.actor, w.id.as_str()).await,
            id: w.id.to_string(),
            slug: w.slug.to_string(),
            name: w.name,
            description: w.description,
            role: role.as_str(),
        }),
        Err(err) => Err(error_page(state, Some(s), &err)),
    }
}

fn render_workspace(
    state: &AppState,
    s: &Session,
    ws: WsView,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let role = Role::parse(ws.role);
    state.web.render(
        status,
        "workspace.html",
        context! {
            user => s.user(), workspaces => &s.workspaces, notice, error,
            can_administer => role.is_some_and(Role::can_administer),
            is_owner => role == Some(Role::Owner),
            current => ws,
        },
    )
}

async fn workspace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    match current(&state, &s, &slug).await {
        Ok(ws) => render_workspace(&state, &s, ws, StatusCode::OK, q.notice, None),
        Err(resp) => resp,
    }
}

#[derive(Deserialize)]
struct SettingsForm {
    name: String,
    #[serde(default)]
    description: String,
}

async fn save_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = match current(&state, &s, &slug).await {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    let patch = WorkspacePatch {
        name: Some(form.name),
        description: Some(form.description),
    };
    match state
        .services
        .workspaces
        .update(&s.actor, &ws.id, patch)
        .await
    {
        Ok(_) => Redirect::to(&format!("/ui/w/{slug}?notice=Settings+saved")).into_response(),
        Err(err) => render_workspace(
            &state,
            &s,
            ws,
            status_of(&err),
            None,
            Some(message_of(&err)),
        ),
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    confirm_slug: String,
}

async fn delete_workspace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = match current(&state, &s, &slug).await {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    match state
        .services
        .workspaces
        .delete(&s.actor, &ws.id, form.confirm_slug.trim())
        .await
    {
        Ok(()) => Redirect::to(&format!("/ui?notice=Workspace+{slug}+deleted")).into_response(),
        Err(err) => render_workspace(
            &state,
            &s,
            ws,
            status_of(&err),
            None,
            Some(message_of(&err)),
        ),
    }
}

#[derive(Serialize)]
struct MemberView {
    user_id: String,
    login: String,
    display_name: String,
    role: &'static str,
    /// Removing or demoting this member would leave the workspace without an owner.
    only_owner: bool,
}

async fn render_members(
    state: &AppState,
    s: &Session,
    ws: WsView,
    after: Option<String>,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let page = match PageRequest::parse(200, after.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(err) => return error_page(state, Some(s), &err),
    };
    let page = match state
        .services
        .workspaces
        .list_members(&s.actor, &ws.id, &page)
        .await
    {
        Ok(p) => p,
        Err(err) => return error_page(state, Some(s), &err),
    };
    let owners = page
        .items
        .iter()
        .filter(|m| m.membership.role == Role::Owner)
        .count();
    let single_page = page.next.is_none() && after.is_none();
    let members: Vec<MemberView> = page
        .items
        .into_iter()
        .map(|m| MemberView {
            user_id: m.membership.user_id.to_string(),
            only_owner: single_page && owners == 1 && m.membership.role == Role::Owner,
            login: m.login,
            display_name: m.display_name,
            role: m.membership.role.as_str(),
        })
        .collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    state.web.render(
        status,
        "members.html",
        context! {
            user => s.user(), workspaces => &s.workspaces, notice, error, members, roles, next => page.next,
            can_administer => Role::parse(ws.role).is_some_and(Role::can_administer),
            current => ws,
        },
    )
}

async fn members(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    match current(&state, &s, &slug).await {
        Ok(ws) => render_members(&state, &s, ws, q.after, StatusCode::OK, q.notice, None).await,
        Err(resp) => resp,
    }
}

#[derive(Deserialize)]
struct AddMemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

async fn member_result(
    state: &AppState,
    s: &Session,
    slug: &str,
    ws: WsView,
    result: orbit_core::Result<()>,
    notice: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/ui/w/{slug}/members?notice={notice}")).into_response(),
        Err(err) => {
            render_members(
                state,
                s,
                ws,
                None,
                status_of(&err),
                None,
                Some(message_of(&err)),
            )
            .await
        }
    }
}

async fn add_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<AddMemberForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = match current(&state, &s, &slug).await {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    let result = state
        .services
        .workspaces
        .add_member(&s.actor, &ws.id, form.user.trim(), Role::parse(&form.role))
        .await
        .map(|_| ());
    member_result(&state, &s, &slug, ws, result, "Member+added").await
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, user_id)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = match current(&state, &s, &slug).await {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    let result = state
        .services
        .workspaces
        .update_member_role(&s.actor, &ws.id, &user_id, Role::parse(&form.role))
        .await
        .map(|_| ());
    member_result(&state, &s, &slug, ws, result, "Role+changed").await
}

async fn remove_member(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, user_id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = match current(&state, &s, &slug).await {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    let result = state
        .services
        .workspaces
        .remove_member(&s.actor, &ws.id, &user_id)
        .await;
    member_result(&state, &s, &slug, ws, result, "Member+removed").await
}

#[derive(Serialize)]
struct TokenView {
    id: String,
    name: String,
    prefix: String,
    created: String,
    expires: Option<String>,
    last_used: Option<String>,
}

async fn render_tokens(
    state: &AppState,
    s: &Session,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    created: Option<(String, String)>,
) -> Response {
    let tokens = match state.services.tokens.list(&s.actor).await {
        Ok(t) => t,
        Err(err) => return error_page(state, Some(s), &err),
    };
    let tokens: Vec<TokenView> = tokens
        .into_iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| TokenView {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created: date(t.created_at),
            expires: t.expires_at.map(date),
            last_used: t.last_used_at.map(date),
        })
        .collect();
    let (created_name, secret) = created.unzip();
    state.web.render(
        status,
        "tokens.html",
        context! { user => s.user(), workspaces => &s.workspaces, notice, error, tokens, created_name, secret },
    )
}

async fn tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    render_tokens(&state, &s, StatusCode::OK, q.notice, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    ttl_days: i64,
}

async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ttl = form.ttl_days.saturating_mul(86_400);
    match state
        .services
        .tokens
        .create(&s.actor, &form.name, ttl, "")
        .await
    {
        Ok((token, secret)) => {
            render_tokens(
                &state,
                &s,
                StatusCode::OK,
                None,
                None,
                Some((token.name, secret)),
            )
            .await
        }
        Err(err) => {
            render_tokens(
                &state,
                &s,
                status_of(&err),
                None,
                Some(message_of(&err)),
                None,
            )
            .await
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    match state.services.tokens.revoke(&s.actor, &id).await {
        Ok(()) => Redirect::to("/ui/tokens?notice=Token+revoked").into_response(),
        Err(err) => {
            render_tokens(
                &state,
                &s,
                status_of(&err),
                None,
                Some(message_of(&err)),
                None,
            )
            .await
        }
    }
}

/// Any other page under `/ui`: an HTML not-found page, not the API's JSON.
async fn ui_not_found(State(state): State<AppState>) -> Response {
    state.web.render(
        StatusCode::NOT_FOUND,
        "message.html",
        context! { heading => "There is no such page in Orbit." },
    )
}

/// A form's address opened directly (reload, bookmark): back to where the form lives.
async fn back_to_home() -> Redirect {
    Redirect::to("/ui")
}

async fn back_to_workspace(Path(slug): Path<String>) -> Redirect {
    Redirect::to(&format!("/ui/w/{slug}"))
}

async fn back_to_members(Path((slug, _user)): Path<(String, String)>) -> Redirect {
    Redirect::to(&format!("/ui/w/{slug}/members"))
}

async fn back_to_tokens(Path(_id): Path<String>) -> Redirect {
    Redirect::to("/ui/tokens")
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/ui", get(home))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout).get(back_to_home))
        .route("/ui/switch", get(switch))
        .route("/ui/workspaces", post(create_workspace).get(back_to_home))
        .route("/ui/w/{slug}", get(workspace))
        .route(
            "/ui/w/{slug}/settings",
            post(save_settings).get(back_to_workspace),
        )
        .route(
            "/ui/w/{slug}/delete",
            post(delete_workspace).get(back_to_workspace),
        )
        .route("/ui/w/{slug}/members", get(members).post(add_member))
        .route(
            "/ui/w/{slug}/members/{user_id}/role",
            post(change_role).get(back_to_members),
        )
        .route(
            "/ui/w/{slug}/members/{user_id}/remove",
            post(remove_member).get(back_to_members),
        )
        .route("/ui/tokens", get(tokens).post(create_token))
        .route(
            "/ui/tokens/{id}/revoke",
            post(revoke_token).get(back_to_tokens),
        )
        .route("/ui/static/app.css", get(stylesheet))
        .merge(crate::web_knowledge::routes())
        .merge(crate::web_workflows::routes())
        .merge(crate::web_apis::routes())
        .merge(crate::web_repos::routes())
        .merge(crate::web_githost::routes())
        .route("/ui/{*rest}", get(ui_not_found))
}
