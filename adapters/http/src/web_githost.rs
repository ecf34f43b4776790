//! The workspace's git host connections page (owners and admins): list, add, replace a
//! token, create a webhook secret (shown once, with the payload URL), delete. Tokens are
//! password fields, never echoed back into the form after an error, never shown again.

use crate::AppState;
use crate::web::{
    Session, WsView, current_workspace, guard_origin, message_of, render_in_workspace, same_origin,
    session, signed_in, status_of,
};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use orbit_core::{Error, Secret};
use orbit_services::{GitHostConnectionPatch, NewGitHostConnection};
use serde::{Deserialize, Serialize};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "git_hosts.html",
    include_str!("../templates/git_hosts.html"),
)];

#[derive(Serialize)]
struct ConnectionRow {
    id: String,
    name: String,
    provider: &'static str,
    base_url: String,
    namespace: String,
    token_set: bool,
    token_last4: String,
    webhook_secret_set: bool,
}

/// The add form as submitted; the token is never sent back to the page.
#[derive(Deserialize, Serialize, Default)]
struct ConnectionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    namespace: String,
    #[serde(default, skip_serializing)]
    token: String,
}

#[derive(Serialize)]
struct ShownSecret {
    name: String,
    provider: &'static str,
    url: String,
    secret: String,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

/// What a page render may add besides the list: the form to keep, an error, a notice, a
/// freshly created webhook secret.
#[derive(Default)]
struct Extra {
    form: ConnectionForm,
    error: Option<String>,
    notice: Option<String>,
    webhook: Option<ShownSecret>,
}

async fn render(
    state: &AppState,
    s: &Session,
    ws: WsView,
    status: StatusCode,
    extra: Extra,
) -> Response {
    let listed = state
        .services
        .git_hosts
        .list_connections(&s.actor, &ws.id)
        .await;
    let list = match listed {
        Ok(list) => list,
        // A member who is not an admin reaches the page by URL: say why, in the shell.
        Err(err) => {
            return render_in_workspace(
                state,
                s,
                &ws,
                status_of(&err),
                "git_hosts.html",
                context! { connections => Vec::<ConnectionRow>::new(), form => ConnectionForm::default(), error => message_of(&err), forbidden => true },
            );
        }
    };
    let flagged = match state.services.webhooks.with_secret_flags(list).await {
        Ok(f) => f,
        Err(err) => return crate::web::error_page(state, Some(s), &err),
    };
    let connections: Vec<ConnectionRow> = flagged
        .into_iter()
        .map(|(c, webhook_secret_set)| ConnectionRow {
            webhook_secret_set,
            provider: c.provider.as_str(),
            id: c.id,
            name: c.name,
            base_url: c.base_url,
            namespace: c.namespace,
            token_set: c.token_set,
            token_last4: c.token_last4,
        })
        .collect();
    render_in_workspace(
        state,
        s,
        &ws,
        status,
        "git_hosts.html",
        context! {
            connections, form => extra.form, error => extra.error,
            notice => extra.notice, webhook => extra.webhook,
        },
    )
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let extra = Extra {
        notice: q.notice,
        ..Default::default()
    };
    render(&state, &s, ws, StatusCode::OK, extra).await
}

fn back(ws: &WsView, notice: &str) -> Response {
    Redirect::to(&format!(
        "/ui/w/{}/git-hosts?notice={}",
        ws.slug,
        crate::web::encode(notice)
    ))
    .into_response()
}

async fn failed(
    state: &AppState,
    s: &Session,
    ws: WsView,
    err: Error,
    form: ConnectionForm,
) -> Response {
    let extra = Extra {
        form,
        error: Some(message_of(&err)),
        ..Default::default()
    };
    render(state, s, ws, status_of(&err), extra).await
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<ConnectionForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let result = state
        .services
        .git_hosts
        .create_connection(
            &s.actor,
            &ws.id,
            NewGitHostConnection {
                name: form.name.clone(),
                provider: form.provider.clone(),
                base_url: form.base_url.clone(),
                namespace: form.namespace.clone(),
                token: Secret::new(form.token.trim().to_owned()),
            },
        )
        .await;
    match result {
        Ok(c) => back(&ws, &format!("Connection {} added", c.name)),
        Err(err) => failed(&state, &s, ws, err, form).await,
    }
}

async fn replace_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<TokenForm>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let patch = GitHostConnectionPatch {
        token: Some(Secret::new(form.token.trim().to_owned())),
        ..Default::default()
    };
    match state
        .services
        .git_hosts
        .update_connection(&s.actor, &ws.id, &id, patch)
        .await
    {
        Ok(c) => back(&ws, &format!("Token of {} replaced", c.name)),
        Err(err) => failed(&state, &s, ws, err, ConnectionForm::default()).await,
    }
}

async fn create_webhook_secret(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    let created = match state
        .services
        .webhooks
        .create_secret(&s.actor, &ws.id, &id)
        .await
    {
        Ok(c) => c,
        Err(err) => return failed(&state, &s, ws, err, ConnectionForm::default()).await,
    };
    let extra = Extra {
        webhook: Some(ShownSecret {
            provider: created.connection.provider.as_str(),
            name: created.connection.name,
            url: crate::web::absolute_url(&headers, &created.webhook_path),
            secret: created.secret.expose().to_owned(),
        }),
        ..Default::default()
    };
    render(&state, &s, ws, StatusCode::OK, extra).await
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    guard_origin!(headers);
    let s = signed_in!(state, headers);
    let ws = current_workspace!(state, s, slug);
    match state
        .services
        .git_hosts
        .delete_connection(&s.actor, &ws.id, &id)
        .await
    {
        Ok(()) => back(&ws, "Connection deleted"),
        Err(err) => failed(&state, &s, ws, err, ConnectionForm::default()).await,
    }
}

/// A form's address opened directly (reload, bookmark): back to the page.
async fn back_to_page(Path((slug, _id)): Path<(String, String)>) -> Redirect {
    Redirect::to(&format!("/ui/w/{slug}/git-hosts"))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/w/{slug}/git-hosts", get(page).post(create))
        .route(
            "/ui/w/{slug}/git-hosts/{id}/token",
            post(replace_token).get(back_to_page),
        )
        .route(
            "/ui/w/{slug}/git-hosts/{id}/webhook-secret",
            post(create_webhook_secret).get(back_to_page),
        )
        .route(
            "/ui/w/{slug}/git-hosts/{id}/delete",
            post(delete).get(back_to_page),
        )
}
