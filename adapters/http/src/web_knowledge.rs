//! The web UI of knowledge spaces and search: spaces, the page tree, pages with their table
//! of contents, the Markdown editor (live preview, drafts and conflicts are JavaScript
//! enhancements in `static/knowledge.js`; the forms work without it), history with restore
//! and line diffs, search, and a space's "Sync with git" form (the run it starts is shown by
//! `web_workflows.rs`). Same patterns as `web.rs`: the session cookie, same-origin
//! checks on every POST, POST-redirect-GET on success, and a GET on a POST-only address
//! goes back to where its form lives.

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
use orbit_core::knowledge::{PageSummary, Visibility};
use orbit_core::{Error, Role, Timestamp};
use orbit_services::{PagePatch, PageView, SpacePatch, SpaceRef, SpaceView};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The templates of this module, registered by `web::Templates::new`.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("spaces.html", include_str!("../templates/spaces.html")),
    ("space.html", include_str!("../templates/space.html")),
    (
        "space_settings.html",
        include_str!("../templates/space_settings.html"),
    ),
    ("page.html", include_str!("../templates/page.html")),
    ("editor.html", include_str!("../templates/editor.html")),
    ("move.html", include_str!("../templates/move.html")),
    ("history.html", include_str!("../templates/history.html")),
    ("revision.html", include_str!("../templates/revision.html")),
    ("compare.html", include_str!("../templates/compare.html")),
    ("search.html", include_str!("../templates/search.html")),
    (
        "knowledge_macros.html",
        include_str!("../templates/knowledge_macros.html"),
    ),
];

/// Spaces with more pages than this get a link to a page's own move form instead of one
/// inline form per page (each inline form lists the whole tree).
const INLINE_MOVE_FORMS_MAX: usize = 100;
/// Above this many pages a space's page shows only its first [`SHORT_TREE_LEVELS`] levels.
const FULL_TREE_MAX: u64 = 500;
const SHORT_TREE_LEVELS: i32 = 2;
const HISTORY_PAGE_SIZE: i32 = 50;
const SEARCH_PAGE_SIZE: i32 = 20;

/// How a page is shown: its HTTP status and the messages above its content.
struct Shown {
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
}

impl Shown {
    fn ok(notice: Option<String>) -> Self {
        Shown {
            status: StatusCode::OK,
            notice,
            error: None,
        }
    }

    fn failed(err: &Error) -> Self {
        Shown {
            status: status_of(err),
            notice: None,
            error: Some(message_of(err)),
        }
    }
}

/// "2026-03-01 14:05 UTC".
fn datetime(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1000).rem_euclid(86_400);
    format!("{} {:02}:{:02} UTC", date(t), secs / 3600, secs / 60 % 60)
}

/// "2026-03-01T14:05:09Z", for `<time datetime>`.
fn iso(t: Timestamp) -> String {
    let secs = t.0.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date(t),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Moves every heading of rendered page HTML one level down (h1 → h2 … h5 → h6), so that
/// the page's title stays the only `<h1>`. The HTML is the sanitizer's output, where a `<`
/// in text is always escaped, so these patterns only match tags.
fn demote_headings(html: &str) -> String {
    let mut out = html.to_owned();
    for level in (1..=5).rev() {
        let to = level + 1;
        out = out
            .replace(&format!("<h{level}>"), &format!("<h{to}>"))
            .replace(&format!("<h{level} "), &format!("<h{to} "))
            .replace(&format!("</h{level}>"), &format!("</h{to}>"));
    }
    out
}

fn visibility_label(v: Visibility) -> &'static str {
    match v {
        Visibility::Workspace => "Everyone in the workspace",
        Visibility::Restricted => "Restricted to its members",
    }
}

fn page_url(slug: &str, id: &str) -> String {
    format!("/ui/w/{slug}/pages/{id}")
}

// ---------------------------------------------------------------------------------------
// Spaces

#[derive(Serialize)]
struct SpaceRow {
    id: String,
    slug: String,
    name: String,
    description: String,
    visibility: &'static str,
    visibility_label: &'static str,
    members: usize,
}

impl From<SpaceView> for SpaceRow {
    fn from(v: SpaceView) -> Self {
        SpaceRow {
            id: v.space.id.to_string(),
            slug: v.space.slug.to_string(),
            name: v.space.name,
            description: v.space.description,
            visibility: v.space.visibility.as_str(),
            visibility_label: visibility_label(v.space.visibility),
            members: v.members.len(),
        }
    }
}

#[derive(Deserialize, Serialize, Default)]
struct SpaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
    /// A new page's parent, preselected in the space's "New page" form.
    parent: Option<String>,
    /// The base revision of a save that succeeded: its draft can go.
    saved: Option<i64>,
    after: Option<String>,
}

async fn render_spaces(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    shown: Shown,
    form: SpaceForm,
) -> Response {
    let spaces = or_error_page!(
        state,
        s,
        state.services.knowledge.list_spaces(&s.actor, &ws.id).await
    );
    let spaces: Vec<SpaceRow> = spaces.into_iter().map(SpaceRow::from).collect();
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "spaces.html",
        context! { spaces, notice => shown.notice, error => shown.error, form },
    )
}

async fn spaces(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let form = SpaceForm {
        visibility: "workspace".into(),
        ..SpaceForm::default()
    };
    render_spaces(&state, &s, &ws, Shown::ok(q.notice), form).await
}

async fn create_space(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<SpaceForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let result = match form.visibility.as_str() {
        "" => Ok(None),
        v => Visibility::parse(v)
            .map(Some)
            .ok_or_else(|| Error::invalid("visibility", "must be workspace or restricted")),
    };
    let result = match result {
        Ok(visibility) => {
            state
                .services
                .knowledge
                .create_space(
                    &s.actor,
                    &ws.id,
                    form.slug.trim(),
                    &form.name,
                    &form.description,
                    visibility,
                    &[],
                )
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(v) => Redirect::to(&format!(
            "/ui/w/{slug}/spaces/{}?notice=Space+created",
            v.space.slug
        ))
        .into_response(),
        Err(err) => render_spaces(&state, &s, &ws, Shown::failed(&err), form).await,
    }
}

// ---------------------------------------------------------------------------------------
// A space's settings: name, description, visibility and members; deleting it

#[derive(Deserialize, Serialize, Default)]
struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    visibility: String,
    /// Logins (or user ids), separated by commas, spaces or new lines.
    #[serde(default)]
    members: String,
}

#[derive(Deserialize, Default)]
struct DeleteSpaceForm {
    #[serde(default)]
    confirm_slug: String,
}

/// The members of a space, as logins where the user is known.
async fn member_logins(state: &AppState, members: &[orbit_core::UserId]) -> Vec<String> {
    let mut logins = Vec::with_capacity(members.len());
    for id in members {
        match state.services.deps.users.get_user(id).await {
            Ok(Some(user)) => logins.push(user.login.as_str().to_owned()),
            _ => logins.push(id.to_string()),
        }
    }
    logins.sort();
    logins
}

async fn render_settings(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    space_slug: &str,
    shown: Shown,
    form: Option<SettingsForm>,
) -> Response {
    let view = or_error_page!(
        state,
        s,
        state
            .services
            .knowledge
            .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.to_owned()))
            .await
    );
    let logins = member_logins(state, &view.members).await;
    let form = form.unwrap_or_else(|| SettingsForm {
        name: view.space.name.clone(),
        description: view.space.description.clone(),
        visibility: view.space.visibility.as_str().to_owned(),
        members: logins.join("\n"),
    });
    let space = SpaceRow::from(view);
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "space_settings.html",
        context! { space, members => logins, form, notice => shown.notice, error => shown.error },
    )
}

async fn space_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    render_settings(&state, &s, &ws, &space_slug, Shown::ok(q.notice), None).await
}

async fn save_space_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Form(form): Form<SettingsForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let space = match knowledge
        .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.clone()))
        .await
    {
        Ok(v) => v.space,
        Err(err) => return error_page(&state, Some(&s), &err),
    };
    let visibility = match Visibility::parse(&form.visibility) {
        Some(v) => v,
        None => {
            let err = Error::invalid("visibility", "must be workspace or restricted");
            return render_settings(
                &state,
                &s,
                &ws,
                &space_slug,
                Shown::failed(&err),
                Some(form),
            )
            .await;
        }
    };
    let members: Vec<String> = form
        .members
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    let patch = SpacePatch {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        visibility: Some(visibility),
        members: (visibility == Visibility::Restricted).then_some(members),
    };
    match knowledge
        .update_space(&s.actor, &ws.id, space.id.as_str(), patch)
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/ui/w/{slug}/spaces/{space_slug}/settings?notice=Settings+saved"
        ))
        .into_response(),
        Err(err) => {
            render_settings(
                &state,
                &s,
                &ws,
                &space_slug,
                Shown::failed(&err),
                Some(form),
            )
            .await
        }
    }
}

async fn delete_space(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Form(form): Form<DeleteSpaceForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let space = match knowledge
        .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.clone()))
        .await
    {
        Ok(v) => v.space,
        Err(err) => return error_page(&state, Some(&s), &err),
    };
    match knowledge
        .delete_space(
            &s.actor,
            &ws.id,
            space.id.as_str(),
            form.confirm_slug.trim(),
        )
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/ui/w/{slug}/spaces?notice=Space+deleted")).into_response()
        }
        Err(err) => render_settings(&state, &s, &ws, &space_slug, Shown::failed(&err), None).await,
    }
}

// ---------------------------------------------------------------------------------------
// A space and its page tree

/// A page in the tree, with what its move forms need.
#[derive(Serialize)]
struct Node {
    id: String,
    title: String,
    depth: usize,
    /// The effective parent ("" at the top level).
    parent_id: String,
    /// 1-based place among its siblings, and how many siblings there are (itself included).
    position: usize,
    siblings: usize,
    /// Its subtree is `tree[start..end]` of the depth-first list: the parents it cannot
    /// move under.
    start: usize,
    end: usize,
    /// It has subpages the (shortened) tree does not list.
    more: bool,
    children: Vec<Node>,
}

/// An entry of a parent `<select>`: every page, indented by depth.
#[derive(Serialize)]
struct ParentOption {
    id: String,
    label: String,
    index: usize,
}

struct Tree {
    roots: Vec<Node>,
    options: Vec<ParentOption>,
    count: usize,
}

fn build_tree(pages: &[(usize, PageSummary)]) -> Tree {
    build_tree_with(pages, &HashSet::new())
}

/// [`build_tree`], marking the pages in `more` as having subpages that are not listed.
fn build_tree_with(pages: &[(usize, PageSummary)], more: &HashSet<String>) -> Tree {
    let n = pages.len();
    // Effective parents: the depth-first order treats pages whose parent is missing as roots.
    let mut parent_at_depth: Vec<String> = Vec::new();
    let mut parents = Vec::with_capacity(n);
    for (depth, page) in pages {
        parent_at_depth.truncate(*depth);
        parents.push(parent_at_depth.last().cloned().unwrap_or_default());
        parent_at_depth.push(page.id.to_string());
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut positions = Vec::with_capacity(n);
    for parent in &parents {
        let count = seen.entry(parent.as_str()).or_default();
        *count += 1;
        positions.push(*count);
    }
    let ends: Vec<usize> = (0..n)
        .map(|i| (i + 1..n).find(|&j| pages[j].0 <= pages[i].0).unwrap_or(n))
        .collect();
    let flat: Vec<Node> = pages
        .iter()
        .enumerate()
        .map(|(i, (depth, p))| Node {
            id: p.id.to_string(),
            title: p.title.clone(),
            depth: *depth,
            parent_id: parents[i].clone(),
            position: positions[i],
            siblings: seen.get(parents[i].as_str()).copied().unwrap_or(1),
            start: i,
            end: ends[i],
            more: more.contains(p.id.as_str()),
            children: Vec::new(),
        })
        .collect();
    let options = pages
        .iter()
        .enumerate()
        .map(|(i, (depth, p))| ParentOption {
            id: p.id.to_string(),
            label: format!("{}{}", "\u{2014} ".repeat(*depth), p.title),
            index: i,
        })
        .collect();
    // Nest the depth-first list: a node's children follow it with a greater depth.
    fn nest(items: &mut std::iter::Peekable<std::vec::IntoIter<Node>>, depth: usize) -> Vec<Node> {
        let mut out = Vec::new();
        while let Some(next) = items.peek() {
            if next.depth < depth {
                break;
            }
            let Some(mut node) = items.next() else { break };
            node.children = nest(items, node.depth + 1);
            out.push(node);
        }
        out
    }
    let mut items = flat.into_iter().peekable();
    Tree {
        roots: nest(&mut items, 0),
        options,
        count: n,
    }
}

#[derive(Deserialize, Serialize, Default)]
struct NewPageForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    body: String,
}

/// The "Sync with git" form of a space's page, kept as typed after a refusal (without a
/// password in the remote).
#[derive(Deserialize, Serialize)]
struct SyncForm {
    #[serde(default)]
    direction: String,
    #[serde(default)]
    remote: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    path: String,
}

impl Default for SyncForm {
    fn default() -> Self {
        SyncForm {
            direction: "export".into(),
            remote: String::new(),
            branch: "main".into(),
            path: "docs".into(),
        }
    }
}

async fn render_space(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    space_slug: &str,
    shown: Shown,
    form: NewPageForm,
    sync: SyncForm,
) -> Response {
    let knowledge = &state.services.knowledge;
    let space = or_error_page!(
        state,
        s,
        knowledge
            .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.to_owned()))
            .await
    );
    let space_id = space.space.id.as_str();
    let total = or_error_page!(
        state,
        s,
        knowledge.count_pages(&s.actor, &ws.id, space_id).await
    );
    // A large space shows its first levels; a page with more below links to its own view,
    // which lists its subpages (the whole tree of thousands of pages is too slow to render
    // and to read).
    let shortened = total > FULL_TREE_MAX;
    let depth = if shortened { SHORT_TREE_LEVELS } else { 0 };
    let entries = or_error_page!(
        state,
        s,
        knowledge
            .list_tree(&s.actor, &ws.id, space_id, "", depth)
            .await
    );
    let more: HashSet<String> = entries
        .iter()
        .filter(|e| shortened && e.has_children && e.depth + 1 == SHORT_TREE_LEVELS as usize)
        .map(|e| e.page.id.to_string())
        .collect();
    let pages: Vec<(usize, PageSummary)> = entries.into_iter().map(|e| (e.depth, e.page)).collect();
    let mut tree = build_tree_with(&pages, &more);
    // "Add a subpage" of a page the shortened tree does not list: offer it as the parent.
    if !form.parent_id.is_empty() && !tree.options.iter().any(|o| o.id == form.parent_id) {
        if let Ok(parent) = knowledge.get_page(&s.actor, &ws.id, &form.parent_id).await {
            tree.options.push(ParentOption {
                id: parent.page.id.to_string(),
                label: parent.page.title.clone(),
                index: tree.options.len(),
            });
        }
    }
    let syncs = if Role::parse(ws.role).is_some_and(Role::can_write) {
        crate::web_workflows::recent_syncs(state, &s.actor, ws, space.space.id.as_str()).await
    } else {
        Vec::new()
    };
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "space.html",
        context! {
            space => SpaceRow::from(space), tree => tree.roots, options => tree.options,
            page_count => total, inline_move => total as usize <= INLINE_MOVE_FORMS_MAX,
            shortened, shown_count => tree.count,
            notice => shown.notice, error => shown.error, form, sync, syncs,
        },
    )
}

async fn space(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let form = NewPageForm {
        parent_id: q.parent.unwrap_or_default(),
        ..NewPageForm::default()
    };
    render_space(
        &state,
        &s,
        &ws,
        &space_slug,
        Shown::ok(q.notice),
        form,
        SyncForm::default(),
    )
    .await
}

async fn create_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Form(form): Form<NewPageForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let result = match knowledge
        .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.clone()))
        .await
    {
        Ok(space) => {
            knowledge
                .create_page(
                    &s.actor,
                    &ws.id,
                    space.space.id.as_str(),
                    &form.parent_id,
                    &form.title,
                    "",
                    &form.body,
                )
                .await
        }
        Err(err) => return error_page(&state, Some(&s), &err),
    };
    match result {
        Ok(v) => Redirect::to(&format!(
            "{}?notice=Page+created",
            page_url(&slug, v.page.id.as_str())
        ))
        .into_response(),
        Err(err) => {
            render_space(
                &state,
                &s,
                &ws,
                &space_slug,
                Shown::failed(&err),
                form,
                SyncForm::default(),
            )
            .await
        }
    }
}

/// Starts a sync of the space with a git repository and opens the run's page.
async fn sync_space(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, space_slug)): Path<(String, String)>,
    Form(form): Form<SyncForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let space = or_error_page!(
        state,
        s,
        knowledge
            .get_space(&s.actor, &ws.id, &SpaceRef::Slug(space_slug.clone()))
            .await
    );
    let result = knowledge
        .sync_space(
            &s.actor,
            &ws.id,
            space.space.id.as_str(),
            form.direction.trim(),
            form.remote.trim(),
            form.branch.trim(),
            form.path.trim(),
        )
        .await;
    match result {
        Ok(run) => Redirect::to(&format!(
            "/ui/w/{slug}/workflows/{}?notice=Sync+started",
            run.id
        ))
        .into_response(),
        Err(err) => {
            let sync = SyncForm {
                remote: crate::web_workflows::without_password(form.remote.trim()),
                ..form
            };
            render_space(
                &state,
                &s,
                &ws,
                &space_slug,
                Shown::failed(&err),
                NewPageForm::default(),
                sync,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
struct MoveForm {
    #[serde(default)]
    parent_id: String,
    /// Another parent given by its link or id (large spaces list only their first levels).
    #[serde(default)]
    parent_link: String,
    #[serde(default)]
    position: String,
}

/// The page id in a page link (`…/pages/{id}`, with or without query or fragment), or the
/// text itself.
fn page_ref(text: &str) -> String {
    let text = text.trim();
    let text = text.split(['?', '#']).next().unwrap_or_default();
    match text.rfind("/pages/") {
        Some(i) => text[i + "/pages/".len()..]
            .trim_end_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => text.to_owned(),
    }
}

/// The slug of a page's space, for links back to it.
async fn space_of(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    view: &PageView,
) -> Result<SpaceRow, Error> {
    state
        .services
        .knowledge
        .get_space(
            &s.actor,
            &ws.id,
            &SpaceRef::Id(view.page.space_id.to_string()),
        )
        .await
        .map(SpaceRow::from)
}

/// One page's own move form (for large spaces, and after a refused move).
async fn render_move(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    page_id: &str,
    shown: Shown,
) -> Response {
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, page_id).await
    );
    let space = or_error_page!(state, s, space_of(state, s, ws, &view).await);
    let total = or_error_page!(
        state,
        s,
        knowledge.count_pages(&s.actor, &ws.id, &space.id).await
    );
    if total > FULL_TREE_MAX {
        return render_short_move(state, s, ws, &view, space, shown).await;
    }
    let pages = or_error_page!(
        state,
        s,
        knowledge.list_pages(&s.actor, &ws.id, &space.id, "").await
    );
    let tree = build_tree(&pages);
    fn find(nodes: Vec<Node>, id: &str) -> Option<Node> {
        for mut n in nodes {
            if n.id == id {
                n.children.clear();
                return Some(n);
            }
            if let Some(found) = find(std::mem::take(&mut n.children), id) {
                return Some(found);
            }
        }
        None
    }
    let Some(node) = find(tree.roots, page_id) else {
        return error_page(
            state,
            Some(s),
            &Error::NotFound(format!("page '{page_id}'")),
        );
    };
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "move.html",
        context! { space, node, options => tree.options, error => shown.error },
    )
}

/// The move form of a page in a large space: the parents offered are the space's first
/// levels and the page's current parent; any other is given by its link.
async fn render_short_move(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    view: &PageView,
    space: SpaceRow,
    shown: Shown,
) -> Response {
    let knowledge = &state.services.knowledge;
    let page = &view.page;
    let entries = or_error_page!(
        state,
        s,
        knowledge
            .list_tree(&s.actor, &ws.id, &space.id, "", SHORT_TREE_LEVELS)
            .await
    );
    let pages: Vec<(usize, PageSummary)> = entries.into_iter().map(|e| (e.depth, e.page)).collect();
    let mut tree = build_tree(&pages);
    let parent = page.parent_id.as_ref().map(|p| p.to_string());
    // Its siblings, in order: its position among them.
    let siblings: Vec<String> = match &parent {
        None => pages
            .iter()
            .filter(|(d, _)| *d == 0)
            .map(|(_, p)| p.id.to_string())
            .collect(),
        Some(parent) => or_error_page!(
            state,
            s,
            knowledge
                .list_tree(&s.actor, &ws.id, &space.id, parent, 2)
                .await
        )
        .into_iter()
        .filter(|e| e.depth == 1)
        .map(|e| e.page.id.to_string())
        .collect(),
    };
    let position = siblings
        .iter()
        .position(|id| id == page.id.as_str())
        .map_or(1, |i| i + 1);
    // Its own subtree (where listed) cannot be its parent.
    let (start, end) = pages
        .iter()
        .position(|(_, p)| p.id == page.id)
        .map_or((0, 0), |i| {
            let depth = pages[i].0;
            let end = (i + 1..pages.len())
                .find(|&j| pages[j].0 <= depth)
                .unwrap_or(pages.len());
            (i, end)
        });
    if let Some(parent) = &parent
        && !tree.options.iter().any(|o| &o.id == parent)
        && let Ok(p) = knowledge.get_page(&s.actor, &ws.id, parent).await
    {
        tree.options.push(ParentOption {
            id: parent.clone(),
            label: p.page.title.clone(),
            index: tree.options.len(),
        });
    }
    let node = Node {
        id: page.id.to_string(),
        title: page.title.clone(),
        depth: 0,
        parent_id: parent.unwrap_or_default(),
        position,
        siblings: siblings.len().max(1),
        start,
        end,
        more: false,
        children: Vec::new(),
    };
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "move.html",
        context! {
            space, node, options => tree.options, error => shown.error,
            parent_link => true,
        },
    )
}

async fn move_page_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    render_move(&state, &s, &ws, &page_id, Shown::ok(None)).await
}

async fn move_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let parent = if form.parent_link.trim().is_empty() {
        form.parent_id.clone()
    } else {
        page_ref(&form.parent_link)
    };
    let position = match form.position.trim() {
        "" => Ok(1),
        p => p
            .parse::<i32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| Error::invalid("position", "must be a whole number from 1 up")),
    };
    let result = match position {
        Ok(position) => {
            knowledge
                .move_page(&s.actor, &ws.id, &page_id, &parent, position - 1)
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => {
            let view = or_error_page!(
                state,
                s,
                knowledge.get_page(&s.actor, &ws.id, &page_id).await
            );
            let space = or_error_page!(state, s, space_of(&state, &s, &ws, &view).await);
            Redirect::to(&format!(
                "/ui/w/{slug}/spaces/{}?notice=Page+moved#page-{page_id}",
                space.slug
            ))
            .into_response()
        }
        Err(err) => render_move(&state, &s, &ws, &page_id, Shown::failed(&err)).await,
    }
}

// ---------------------------------------------------------------------------------------
// A page

#[derive(Serialize)]
struct Crumb {
    title: String,
    href: String,
}

#[derive(Serialize)]
struct TocEntry {
    text: String,
    anchor: String,
    indent: u8,
}

#[derive(Serialize)]
struct PageInfo {
    id: String,
    title: String,
    body: String,
    html: String,
    revision: i64,
    updated: String,
    updated_iso: String,
}

impl From<&PageView> for PageInfo {
    fn from(v: &PageView) -> Self {
        PageInfo {
            id: v.page.id.to_string(),
            title: v.page.title.clone(),
            body: v.page.body.clone(),
            html: demote_headings(&v.rendered.html),
            revision: v.page.revision,
            updated: datetime(v.page.updated_at),
            updated_iso: iso(v.page.updated_at),
        }
    }
}

/// The login of whoever saved the page's current revision ("" when unknown).
async fn last_author(state: &AppState, s: &Session, ws: &WsView, page_id: &str) -> String {
    state
        .services
        .knowledge
        .list_revisions(&s.actor, &ws.id, page_id, 1, "")
        .await
        .ok()
        .and_then(|(revs, _)| revs.into_iter().next())
        .map(|r| r.author_login)
        .unwrap_or_default()
}

async fn render_page(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    page_id: &str,
    shown: Shown,
    saved: Option<i64>,
) -> Response {
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, page_id).await
    );
    let space = or_error_page!(state, s, space_of(state, s, ws, &view).await);
    let (above, below) = or_error_page!(
        state,
        s,
        knowledge.page_surroundings(&s.actor, &ws.id, page_id).await
    );
    let crumb = |p: &PageSummary| Crumb {
        title: p.title.clone(),
        href: page_url(&ws.slug, p.id.as_str()),
    };
    let ancestors: Vec<Crumb> = above.iter().map(crumb).collect();
    let children: Vec<Crumb> = below.iter().map(crumb).collect();
    let top = view
        .rendered
        .headings
        .iter()
        .map(|h| h.0)
        .min()
        .unwrap_or(1);
    let toc: Vec<TocEntry> = view
        .rendered
        .headings
        .iter()
        .map(|(level, text, anchor)| TocEntry {
            text: text.clone(),
            anchor: anchor.clone(),
            indent: level - top,
        })
        .collect();
    let author = last_author(state, s, ws, page_id).await;
    let saved_draft = saved.map(|base| format!("{page_id}:{base}"));
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "page.html",
        context! {
            page => PageInfo::from(&view), space, ancestors, children, toc, author, saved_draft,
            notice => shown.notice, error => shown.error,
        },
    )
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    render_page(&state, &s, &ws, &page_id, Shown::ok(q.notice), q.saved).await
}

async fn delete_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, &page_id).await
    );
    let space = or_error_page!(state, s, space_of(&state, &s, &ws, &view).await);
    match knowledge.delete_page(&s.actor, &ws.id, &page_id).await {
        Ok(()) => Redirect::to(&format!(
            "/ui/w/{slug}/spaces/{}?notice=Page+deleted",
            space.slug
        ))
        .into_response(),
        Err(err) => render_page(&state, &s, &ws, &page_id, Shown::failed(&err), None).await,
    }
}

// ---------------------------------------------------------------------------------------
// The editor

#[derive(Deserialize, Default)]
struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    base_revision: String,
}

/// What the editor shows: the text being edited and the revision it starts from.
#[derive(Serialize)]
struct Draft {
    title: String,
    body: String,
    base_revision: i64,
}

/// The saved revision beside a conflicting edit.
#[derive(Serialize)]
struct Theirs {
    revision: i64,
    title: String,
    body: String,
    author: String,
}

fn render_editor(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    view: &PageView,
    draft: Draft,
    shown: Shown,
    conflict: Option<(Theirs, i64)>,
) -> Response {
    let preview = state
        .services
        .knowledge
        .render(&s.actor, &draft.body)
        .map(|r| demote_headings(&r.html))
        .unwrap_or_default();
    let (theirs, previous_base) = conflict.unzip();
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "editor.html",
        context! {
            page => PageInfo::from(view), draft, preview, theirs, previous_base,
            error => shown.error,
        },
    )
}

async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let view = or_error_page!(
        state,
        s,
        state
            .services
            .knowledge
            .get_page(&s.actor, &ws.id, &page_id)
            .await
    );
    if !Role::parse(ws.role).is_some_and(Role::can_write) {
        return error_page(
            &state,
            Some(&s),
            &Error::PermissionDenied("viewers cannot edit pages".into()),
        );
    }
    let draft = Draft {
        title: view.page.title.clone(),
        body: view.page.body.clone(),
        base_revision: view.page.revision,
    };
    render_editor(&state, &s, &ws, &view, draft, Shown::ok(None), None)
}

async fn save_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
    Form(form): Form<EditForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let knowledge = &state.services.knowledge;
    let base = form.base_revision.trim().parse::<i64>().unwrap_or(0);
    let patch = PagePatch {
        title: Some(form.title.clone()),
        slug: None,
        body: Some(form.body.clone()),
    };
    let result = knowledge
        .update_page(&s.actor, &ws.id, &page_id, base, patch)
        .await;
    let err = match result {
        Ok(v) => {
            return Redirect::to(&format!(
                "{}?notice=Saved+revision+{}&saved={base}",
                page_url(&slug, &page_id),
                v.page.revision
            ))
            .into_response();
        }
        Err(err) => err,
    };
    // Show the form again with the text as typed, against the page as it is now.
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, &page_id).await
    );
    if let Error::Aborted(_) = err {
        let author = last_author(&state, &s, &ws, &page_id).await;
        let who = if author.is_empty() {
            "someone else".to_owned()
        } else {
            author.clone()
        };
        let message = format!(
            "While you were editing revision {base}, {who} saved revision {} of this page. \
             Your text is kept in the editor and the saved text is shown beside it: \
             merge the two and save again.",
            view.page.revision
        );
        let theirs = Theirs {
            revision: view.page.revision,
            title: view.page.title.clone(),
            body: view.page.body.clone(),
            author,
        };
        let draft = Draft {
            title: form.title,
            body: form.body,
            base_revision: view.page.revision,
        };
        return render_editor(
            &state,
            &s,
            &ws,
            &view,
            draft,
            Shown {
                status: StatusCode::CONFLICT,
                notice: None,
                error: Some(message),
            },
            Some((theirs, base)),
        );
    }
    let draft = Draft {
        title: form.title,
        body: form.body,
        base_revision: if base > 0 { base } else { view.page.revision },
    };
    render_editor(&state, &s, &ws, &view, draft, Shown::failed(&err), None)
}

// ---------------------------------------------------------------------------------------
// History

#[derive(Serialize)]
struct RevisionRow {
    revision: i64,
    title: String,
    author: String,
    time: String,
    iso: String,
    note: String,
    length: i64,
}

async fn render_history(
    state: &AppState,
    s: &Session,
    ws: &WsView,
    page_id: &str,
    after: Option<String>,
    shown: Shown,
) -> Response {
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, page_id).await
    );
    let (revisions, next) = or_error_page!(
        state,
        s,
        knowledge
            .list_revisions(
                &s.actor,
                &ws.id,
                page_id,
                HISTORY_PAGE_SIZE,
                after.as_deref().unwrap_or("")
            )
            .await
    );
    let rows: Vec<RevisionRow> = revisions
        .into_iter()
        .map(|r| RevisionRow {
            revision: r.revision,
            title: r.title,
            author: r.author_login,
            time: datetime(r.created_at),
            iso: iso(r.created_at),
            note: r.note,
            length: r.body_chars,
        })
        .collect();
    render_in_workspace(
        state,
        s,
        ws,
        shown.status,
        "history.html",
        context! {
            page => PageInfo::from(&view), revisions => rows, next, paged => after.is_some(),
            notice => shown.notice, error => shown.error,
        },
    )
}

async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    render_history(&state, &s, &ws, &page_id, q.after, Shown::ok(q.notice)).await
}

fn parse_revision(raw: &str) -> Result<i64, Error> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::NotFound(format!("revision '{raw}'")))
}

async fn revision(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id, n)): Path<(String, String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let n = or_error_page!(state, s, parse_revision(&n));
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, &page_id).await
    );
    let (rev, login, rendered) = or_error_page!(
        state,
        s,
        knowledge.get_revision(&s.actor, &ws.id, &page_id, n).await
    );
    let shown = RevisionRow {
        revision: rev.revision,
        title: rev.title,
        author: login,
        time: datetime(rev.created_at),
        iso: iso(rev.created_at),
        note: rev.note,
        length: rev.body.chars().count() as i64,
    };
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "revision.html",
        context! {
            page => PageInfo::from(&view), rev => shown, body => rev.body,
            html => demote_headings(&rendered.html),
        },
    )
}

#[derive(Deserialize)]
struct RestoreForm {
    #[serde(default)]
    base_revision: String,
}

async fn restore(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id, n)): Path<(String, String, String)>,
    Form(form): Form<RestoreForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let n = or_error_page!(state, s, parse_revision(&n));
    let base = form.base_revision.trim().parse::<i64>().unwrap_or(0);
    match state
        .services
        .knowledge
        .restore_revision(&s.actor, &ws.id, &page_id, n, base)
        .await
    {
        Ok(v) => Redirect::to(&format!(
            "{}?notice=Restored+revision+{n}+as+revision+{}",
            page_url(&slug, &page_id),
            v.page.revision
        ))
        .into_response(),
        Err(err) => render_history(&state, &s, &ws, &page_id, None, Shown::failed(&err)).await,
    }
}

/// A run of lines of one kind in a diff.
#[derive(Serialize)]
struct DiffBlock {
    /// "del", "ins" or "same".
    kind: &'static str,
    lines: Vec<DiffLine>,
}

/// One line of a diff with its numbers (1-based) in the older and the newer text.
#[derive(Serialize)]
struct DiffLine {
    old: Option<usize>,
    new: Option<usize>,
    text: String,
}

#[derive(Serialize)]
struct Hunk {
    blocks: Vec<DiffBlock>,
}

/// The line diff of two texts, in hunks with three lines of context.
fn line_diff(old: &str, new: &str) -> (Vec<Hunk>, usize, usize) {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(1))
        .diff_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(3) {
        let mut blocks: Vec<DiffBlock> = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Delete => {
                        removed += 1;
                        "del"
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        "ins"
                    }
                    ChangeTag::Equal => "same",
                };
                let value = change.value();
                let line = DiffLine {
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: value
                        .strip_suffix('\n')
                        .map(|t| t.strip_suffix('\r').unwrap_or(t))
                        .unwrap_or(value)
                        .to_owned(),
                };
                match blocks.last_mut() {
                    Some(b) if b.kind == kind => b.lines.push(line),
                    _ => blocks.push(DiffBlock {
                        kind,
                        lines: vec![line],
                    }),
                }
            }
        }
        hunks.push(Hunk { blocks });
    }
    (hunks, added, removed)
}

async fn compare(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, page_id, a, b)): Path<(String, String, String, String)>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let a = or_error_page!(state, s, parse_revision(&a));
    let b = or_error_page!(state, s, parse_revision(&b));
    let knowledge = &state.services.knowledge;
    let view = or_error_page!(
        state,
        s,
        knowledge.get_page(&s.actor, &ws.id, &page_id).await
    );
    let (old, old_author, _) = or_error_page!(
        state,
        s,
        knowledge.get_revision(&s.actor, &ws.id, &page_id, a).await
    );
    let (new, new_author, _) = or_error_page!(
        state,
        s,
        knowledge.get_revision(&s.actor, &ws.id, &page_id, b).await
    );
    let (hunks, added, removed) = line_diff(&old.body, &new.body);
    let side = |r: &orbit_core::knowledge::Revision, author: String| RevisionRow {
        revision: r.revision,
        title: r.title.clone(),
        author,
        time: datetime(r.created_at),
        iso: iso(r.created_at),
        note: r.note.clone(),
        length: r.body.chars().count() as i64,
    };
    let revisions: Vec<i64> = (1..=view.page.revision).rev().collect();
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "compare.html",
        context! {
            page => PageInfo::from(&view), old => side(&old, old_author), new => side(&new, new_author),
            hunks, added, removed, revisions,
        },
    )
}

#[derive(Deserialize)]
struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The "compare two revisions" form (a GET form cannot build the path itself).
async fn compare_form(
    Path((slug, page_id)): Path<(String, String)>,
    Query(q): Query<CompareQuery>,
) -> Redirect {
    match (parse_revision(q.from.trim()), parse_revision(q.to.trim())) {
        (Ok(a), Ok(b)) => Redirect::to(&format!("{}/history/{a}/{b}", page_url(&slug, &page_id))),
        _ => Redirect::to(&format!("{}/history", page_url(&slug, &page_id))),
    }
}

// ---------------------------------------------------------------------------------------
// Search

#[derive(Deserialize, Default)]
struct SearchQueryForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

#[derive(Serialize)]
struct ResultRow {
    title: String,
    href: Option<String>,
    snippet: String,
    kind: String,
    space: String,
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<SearchQueryForm>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let text = q.q.trim().to_owned();
    let result = state
        .services
        .search
        .search(
            &s.actor,
            &ws.id,
            &text,
            &[],
            &[],
            SEARCH_PAGE_SIZE,
            q.after.trim(),
        )
        .await;
    let page = match result {
        Ok(page) => page,
        Err(err) => {
            return render_in_workspace(
                &state,
                &s,
                &ws,
                status_of(&err),
                "search.html",
                context! { q => text, results => Vec::<ResultRow>::new(), error => message_of(&err) },
            );
        }
    };
    let spaces: HashMap<String, String> = state
        .services
        .knowledge
        .list_spaces(&s.actor, &ws.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.space.id.to_string(), v.space.name))
        .collect();
    let offset = if q.after.trim().is_empty() {
        0
    } else {
        orbit_core::Cursor::decode(q.after.trim())
            .ok()
            .and_then(|o| o.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let results: Vec<ResultRow> = page
        .hits
        .into_iter()
        .map(|h| ResultRow {
            href: match h.kind.as_str() {
                "page" => Some(page_url(&slug, &h.id)),
                "api" => Some(format!("/ui/w/{slug}/apis/id/{}", h.id)),
                _ => None,
            },
            space: spaces.get(&h.space_id).cloned().unwrap_or_default(),
            title: h.title,
            snippet: h.snippet,
            kind: h.kind.as_str().to_owned(),
        })
        .collect();
    let base = format!("/ui/w/{slug}/search?q={}", encode(&text));
    let next_href = page.next.map(|t| format!("{base}&after={}", encode(&t)));
    let first_href = (offset > 0).then_some(base);
    render_in_workspace(
        &state,
        &s,
        &ws,
        StatusCode::OK,
        "search.html",
        context! {
            q => text, first => offset + 1, last => offset + results.len(), total => page.total,
            more => page.total_is_lower_bound,
            results, next_href, first_href,
        },
    )
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
        include_str!("../static/knowledge.js"),
    )
        .into_response()
}

async fn back_to_space(Path((slug, space_slug)): Path<(String, String)>) -> Redirect {
    Redirect::to(&format!("/ui/w/{slug}/spaces/{space_slug}"))
}

async fn back_to_settings(Path((slug, space_slug)): Path<(String, String)>) -> Redirect {
    Redirect::to(&format!("/ui/w/{slug}/spaces/{space_slug}/settings"))
}

async fn back_to_page(Path((slug, page_id)): Path<(String, String)>) -> Redirect {
    Redirect::to(&page_url(&slug, &page_id))
}

async fn back_to_history(Path((slug, page_id, _n)): Path<(String, String, String)>) -> Redirect {
    Redirect::to(&format!("{}/history", page_url(&slug, &page_id)))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/w/{slug}/spaces", get(spaces).post(create_space))
        .route("/ui/w/{slug}/spaces/{space_slug}", get(space))
        .route(
            "/ui/w/{slug}/spaces/{space_slug}/settings",
            get(space_settings).post(save_space_settings),
        )
        .route(
            "/ui/w/{slug}/spaces/{space_slug}/delete",
            get(back_to_settings).post(delete_space),
        )
        .route(
            "/ui/w/{slug}/spaces/{space_slug}/sync",
            get(back_to_space).post(sync_space),
        )
        .route(
            "/ui/w/{slug}/spaces/{space_slug}/pages",
            get(back_to_space).post(create_page),
        )
        .route("/ui/w/{slug}/pages/{page_id}", get(page))
        .route(
            "/ui/w/{slug}/pages/{page_id}/delete",
            get(back_to_page).post(delete_page),
        )
        .route(
            "/ui/w/{slug}/pages/{page_id}/move",
            get(move_page_form).post(move_page),
        )
        .route(
            "/ui/w/{slug}/pages/{page_id}/edit",
            get(edit_page).post(save_page),
        )
        .route("/ui/w/{slug}/pages/{page_id}/history", get(history))
        .route(
            "/ui/w/{slug}/pages/{page_id}/history/compare",
            get(compare_form),
        )
        .route("/ui/w/{slug}/pages/{page_id}/history/{n}", get(revision))
        .route(
            "/ui/w/{slug}/pages/{page_id}/history/{n}/restore",
            get(back_to_history).post(restore),
        )
        .route("/ui/w/{slug}/pages/{page_id}/history/{a}/{b}", get(compare))
        .route("/ui/w/{slug}/search", get(search))
        .route("/ui/static/knowledge.js", get(script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_is_found_in_its_link_or_given_as_an_id() {
        assert_eq!(page_ref(" abc-123 "), "abc-123");
        assert_eq!(page_ref("/ui/w/docs/pages/abc-123"), "abc-123");
        assert_eq!(
            page_ref("https://orbit.example/ui/w/docs/pages/abc-123/edit?x=1#top"),
            "abc-123"
        );
        assert_eq!(page_ref("http://h/ui/w/d/pages/abc-123/"), "abc-123");
        assert_eq!(page_ref(""), "");
    }

    #[test]
    fn headings_move_one_level_down() {
        assert_eq!(
            demote_headings("<h1 id=\"a\">A</h1><h2>B</h2><h6>C</h6><p>&lt;h1&gt;</p>"),
            "<h2 id=\"a\">A</h2><h3>B</h3><h6>C</h6><p>&lt;h1&gt;</p>"
        );
    }

    #[test]
    fn diff_groups_lines_by_kind() {
        let (hunks, added, removed) = line_diff("a\nb\nc\n", "a\nB\nc\nd");
        assert_eq!((added, removed), (2, 1));
        type Line<'a> = (Option<usize>, Option<usize>, &'a str);
        let kinds: Vec<(&str, Vec<Line>)> = hunks[0]
            .blocks
            .iter()
            .map(|b| {
                let lines = b.lines.iter().map(|l| (l.old, l.new, l.text.as_str()));
                (b.kind, lines.collect())
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("same", vec![(Some(1), Some(1), "a")]),
                ("del", vec![(Some(2), None, "b")]),
                ("ins", vec![(None, Some(2), "B")]),
                ("same", vec![(Some(3), Some(3), "c")]),
                ("ins", vec![(None, Some(4), "d")])
            ]
        );
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn times() {
        let t = Timestamp(1_700_000_000_123);
        assert_eq!(datetime(t), "2023-11-14 22:13 UTC");
        assert_eq!(iso(t), "2023-11-14T22:13:20Z");
    }
}
