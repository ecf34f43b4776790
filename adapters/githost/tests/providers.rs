//! The GitHub and GitLab adapters against local HTTP servers that check every request
//! against the providers' documented REST APIs (method, path, headers, JSON fields) and
//! answer like them. Their clone URLs point at a real git smart-HTTP server (git
//! http-backend behind the same server, checking HTTP Basic credentials), so a push with
//! the credentials the adapter hands out is a real push, and a wrong token is refused.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use orbit_core::{GitProvider, Secret, WorkspaceId};
use orbit_git::GitCli;
use orbit_githost::{GitHosts, SmartHttp};
use orbit_ports::{
    GitAuthor, GitClient, GitCredentials, GitHost, GitHostError, GitHostFactory, GitHostTarget,
    GitHttpRequest, GitHttpServer, GitRemote, NewHostedRepo, RepoVisibility,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "ghp_TestTokenSecretValue0123456789";

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// State of a fake provider: its repositories, the requests that broke the documented API,
/// and a git server for the clone URLs.
struct Fake {
    base: String,
    repos: Mutex<BTreeMap<String, Value>>,
    violations: Mutex<Vec<String>>,
    calls: Mutex<Vec<String>>,
    git_root: PathBuf,
    git_user: &'static str,
    next_id: Mutex<u64>,
}

type Shared = Arc<Fake>;

impl Fake {
    fn violation(&self, what: String) -> Response {
        self.violations.lock().unwrap().push(what.clone());
        (StatusCode::BAD_REQUEST, format!("fake: {what}")).into_response()
    }

    fn record(&self, method: &Method, uri: &Uri) {
        self.calls.lock().unwrap().push(format!("{method} {uri}"));
    }

    fn init_bare(&self, name: &str) {
        let dir = self.git_root.join("acme").join(format!("{name}.git"));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = std::process::Command::new("git")
            .args(["init", "--quiet", "--bare", "--initial-branch", "main"])
            .arg(&dir)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn id(&self) -> u64 {
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        *n
    }
}

/// The git smart-HTTP server behind the fake's clone URLs: HTTP Basic with the provider's
/// documented user name and the token.
async fn git_http(
    State(fake): State<Shared>,
    Path((owner, rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{TOKEN}", fake.git_user))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("WWW-Authenticate", "Basic realm=\"fake\"")
            .body(Body::from("bad credentials"))
            .unwrap();
    }
    let Some((name, path)) = rest.split_once(".git") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let server = SmartHttp::new(fake.git_root.clone());
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let req = GitHttpRequest {
        method: method.to_string(),
        path: path.to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        content_type: h("content-type"),
        content_encoding: h("content-encoding"),
        git_protocol: h("git-protocol"),
        body: body.to_vec(),
    };
    match server.serve(&WorkspaceId::new(owner), name, req).await {
        Ok(r) => {
            let mut b = Response::builder().status(r.status);
            for (k, v) in r.headers {
                b = b.header(k, v);
            }
            b.body(Body::from(r.body)).unwrap()
        }
        Err(GitHostError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn start(fake_of: impl FnOnce(String) -> Fake, routes: Router<Shared>) -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = Arc::new(fake_of(base));
    let app = routes
        .route("/git/{owner}/{*rest}", any(git_http))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fake
}

fn new_fake(base: String, git_user: &'static str) -> Fake {
    Fake {
        base,
        repos: Mutex::default(),
        violations: Mutex::default(),
        calls: Mutex::default(),
        git_root: tempdir("fake-git"),
        git_user,
        next_id: Mutex::new(100),
    }
}

// ---------------------------------------------------------------------------------------
// GitHub: https://docs.github.com/en/rest/repos/repos

fn github_headers_ok(fake: &Fake, headers: &HeaderMap) -> Option<Response> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    if get("authorization") != format!("Bearer {TOKEN}") {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})),
            )
                .into_response(),
        );
    }
    if get("accept") != "application/vnd.github+json" {
        return Some(fake.violation(format!("Accept header {:?}", get("accept"))));
    }
    if get("x-github-api-version") != "2022-11-28" {
        return Some(fake.violation("missing X-GitHub-Api-Version".into()));
    }
    if get("user-agent").is_empty() {
        return Some(fake.violation("GitHub requires a User-Agent".into()));
    }
    None
}

fn github_repo(fake: &Fake, name: &str, body: &Value, id: u64) -> Value {
    let visibility = body["visibility"]
        .as_str()
        .unwrap_or(if body["private"] == true {
            "private"
        } else {
            "public"
        });
    json!({
        "id": id,
        "node_id": "R_x",
        "name": name,
        "full_name": format!("acme/{name}"),
        "private": visibility != "public",
        "visibility": visibility,
        "description": body["description"],
        "default_branch": "main",
        "archived": false,
        "html_url": format!("https://github.com/acme/{name}"),
        "clone_url": format!("{}/git/acme/{name}.git", fake.base),
        "ssh_url": format!("git@github.com:acme/{name}.git"),
        "owner": {"login": "acme", "type": "Organization"},
    })
}

async fn gh_create(
    State(fake): State<Shared>,
    Path(org): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = github_headers_ok(&fake, &headers) {
        return r;
    }
    if org != "acme" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fake.violation("the body is not JSON".into());
    };
    let Some(name) = body["name"].as_str().map(str::to_owned) else {
        return fake.violation("name is required".into());
    };
    for (field, ok) in [
        ("description", body["description"].is_string()),
        ("private", body["private"].is_boolean()),
        (
            "visibility",
            matches!(
                body["visibility"].as_str(),
                Some("public" | "private" | "internal")
            ),
        ),
        ("auto_init", body["auto_init"] == false),
    ] {
        if !ok {
            return fake.violation(format!("field {field} wrong in {body}"));
        }
    }
    if let Some(extra) = body.as_object().unwrap().keys().find(|k| {
        !["name", "description", "private", "visibility", "auto_init"].contains(&k.as_str())
    }) {
        return fake.violation(format!("unexpected field {extra}"));
    }
    let mut repos = fake.repos.lock().unwrap();
    if repos.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({
                "message": "Repository creation failed.",
                "errors": [{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}],
                "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository",
                "status": "422"
            })),
        )
            .into_response();
    }
    let repo = github_repo(&fake, &name, &body, fake.id());
    fake.init_bare(&name);
    repos.insert(name, repo.clone());
    (StatusCode::CREATED, axum::Json(repo)).into_response()
}

async fn gh_repo(
    State(fake): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = github_headers_ok(&fake, &headers) {
        return r;
    }
    let mut repos = fake.repos.lock().unwrap();
    let key = repos
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&name))
        .cloned()
        .filter(|_| owner == "acme");
    match (method, key) {
        (Method::GET, Some(k)) => axum::Json(repos[&k].clone()).into_response(),
        (Method::DELETE, Some(k)) => {
            repos.remove(&k);
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::GET | Method::DELETE, None) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response(),
        (m, _) => fake.violation(format!("{m} on a repository")),
    }
}

async fn gh_list(
    State(fake): State<Shared>,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = github_headers_ok(&fake, &headers) {
        return r;
    }
    if org != "acme" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response();
    }
    let per_page: usize = match q.get("per_page").map(|p| p.parse()) {
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        None => 30,
        _ => return fake.violation("per_page must be 1..=100".into()),
    };
    // Smaller pages than asked for, to exercise pagination (GitHub may do that too).
    let per_page = per_page.min(2);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let repos: Vec<Value> = fake.repos.lock().unwrap().values().cloned().collect();
    let pages = repos.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = repos
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut resp = axum::Json(chunk).into_response();
    let mut links = Vec::new();
    let url = |p: usize| {
        format!(
            "<{}/orgs/acme/repos?type=all&sort=full_name&direction=asc&per_page=100&page={p}>",
            fake.base
        )
    };
    if page < pages {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if !links.is_empty() {
        resp.headers_mut()
            .insert("link", links.join(", ").parse().unwrap());
    }
    resp
}

fn github_routes() -> Router<Shared> {
    Router::new()
        .route("/orgs/{org}/repos", post(gh_create).get(gh_list))
        .route("/repos/{owner}/{name}", get(gh_repo).delete(gh_repo))
}

// ---------------------------------------------------------------------------------------
// GitLab: https://docs.gitlab.com/api/projects/ and https://docs.gitlab.com/api/groups/

fn gitlab_auth(headers: &HeaderMap) -> Option<Response> {
    if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "401 Unauthorized"})),
            )
                .into_response(),
        );
    }
    None
}

fn gitlab_project(fake: &Fake, name: &str, body: &Value, id: u64) -> Value {
    json!({
        "id": id,
        "name": body["name"],
        "path": name,
        "path_with_namespace": format!("acme/{name}"),
        "description": body["description"],
        "visibility": body["visibility"],
        "default_branch": null,
        "archived": false,
        "http_url_to_repo": format!("{}/git/acme/{name}.git", fake.base),
        "ssh_url_to_repo": format!("git@gitlab.example.com:acme/{name}.git"),
        "web_url": format!("https://gitlab.example.com/acme/{name}"),
        "namespace": {"id": 7, "full_path": "acme", "kind": "group"},
    })
}

async fn gl_group(
    State(fake): State<Shared>,
    Path(group): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = gitlab_auth(&headers) {
        return r;
    }
    if group == "acme" || group == "7" {
        axum::Json(json!({"id": 7, "name": "Acme", "path": "acme", "full_path": "acme"}))
            .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404 Group Not Found"})),
        )
            .into_response()
    }
}

async fn gl_create(
    State(fake): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = gitlab_auth(&headers) {
        return r;
    }
    if !headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return fake.violation("the body must be JSON with a JSON content type".into());
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fake.violation("the body is not JSON".into());
    };
    let (Some(name), Some(path)) = (body["name"].as_str(), body["path"].as_str()) else {
        return fake.violation(format!("name and path are required: {body}"));
    };
    if body["namespace_id"] != 7 {
        return fake.violation(format!("namespace_id must be the group's id: {body}"));
    }
    if !matches!(
        body["visibility"].as_str(),
        Some("private" | "internal" | "public")
    ) {
        return fake.violation(format!("visibility wrong: {body}"));
    }
    if name != path {
        return fake.violation("name and path differ".into());
    }
    let path = path.to_owned();
    let mut repos = fake.repos.lock().unwrap();
    if repos.keys().any(|k| k.eq_ignore_ascii_case(&path)) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": {
                "project_namespace.name": ["has already been taken"],
                "name": ["has already been taken"],
                "path": ["has already been taken"]
            }})),
        )
            .into_response();
    }
    let project = gitlab_project(&fake, &path, &body, fake.id());
    fake.init_bare(&path);
    repos.insert(path, project.clone());
    (StatusCode::CREATED, axum::Json(project)).into_response()
}

async fn gl_project(
    State(fake): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = gitlab_auth(&headers) {
        return r;
    }
    // The path arrives URL-decoded by the router; the raw URI must have it encoded.
    if id.contains('/') && !uri.path().contains("%2F") {
        return fake.violation(format!("a project path must be URL-encoded: {uri}"));
    }
    let mut repos = fake.repos.lock().unwrap();
    let key = repos
        .iter()
        .find(|(_, p)| {
            p["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id.as_str())
                || p["path_with_namespace"]
                    .as_str()
                    .is_some_and(|f| f.eq_ignore_ascii_case(&id))
        })
        .map(|(k, _)| k.clone());
    match (method.clone(), key) {
        (Method::GET, Some(k)) => axum::Json(repos[&k].clone()).into_response(),
        (Method::DELETE, Some(k)) if !id.contains('/') => {
            repos.remove(&k);
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({"message": "202 Accepted"})),
            )
                .into_response()
        }
        (Method::GET | Method::DELETE, None) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404 Project Not Found"})),
        )
            .into_response(),
        (m, _) => fake.violation(format!("{m} {uri}")),
    }
}

async fn gl_group_projects(
    State(fake): State<Shared>,
    Path(group): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(&method, &uri);
    if let Some(r) = gitlab_auth(&headers) {
        return r;
    }
    if group != "7" && group != "acme" {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404 Group Not Found"})),
        )
            .into_response();
    }
    let per_page: usize = match q.get("per_page").map(|p| p.parse()) {
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        None => 20,
        _ => return fake.violation("per_page must be 1..=100".into()),
    };
    let per_page = per_page.min(2);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let repos: Vec<Value> = fake.repos.lock().unwrap().values().cloned().collect();
    let total = repos.len();
    let pages = total.div_ceil(per_page).max(1);
    let chunk: Vec<Value> = repos
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut resp = axum::Json(chunk).into_response();
    let h = resp.headers_mut();
    h.insert("x-page", page.to_string().parse().unwrap());
    h.insert("x-per-page", per_page.to_string().parse().unwrap());
    h.insert("x-total", total.to_string().parse().unwrap());
    h.insert("x-total-pages", pages.to_string().parse().unwrap());
    h.insert(
        "x-next-page",
        if page < pages {
            (page + 1).to_string()
        } else {
            String::new()
        }
        .parse()
        .unwrap(),
    );
    resp
}

fn gitlab_routes() -> Router<Shared> {
    Router::new()
        .route("/api/v4/groups/{group}", get(gl_group))
        .route("/api/v4/groups/{group}/projects", get(gl_group_projects))
        .route("/api/v4/projects", post(gl_create))
        .route("/api/v4/projects/{id}", get(gl_project).delete(gl_project))
}

// ---------------------------------------------------------------------------------------

fn open(fake: &Fake, provider: GitProvider, token: &str) -> Arc<dyn GitHost> {
    GitHosts::new(tempdir("hosts"), "http://unused")
        .open(&GitHostTarget::Remote {
            provider,
            base_url: fake.base.clone(),
            namespace: "acme".into(),
            token: Secret::new(token),
        })
        .unwrap()
}

fn author() -> GitAuthor {
    GitAuthor {
        name: "Orbit".into(),
        email: "orbit@example.com".into(),
    }
}

/// create, adopt, get, list (paginated), a real push with the adapter's credentials, a
/// push with a wrong token refused, delete.
async fn exercise(fake: Shared, provider: GitProvider) {
    let host = open(&fake, provider, TOKEN);
    assert_eq!(host.provider(), provider);
    let new = |name: &str| NewHostedRepo {
        name: name.into(),
        description: "Payments service".into(),
        visibility: RepoVisibility::Internal,
        default_branch: "main".into(),
    };
    let created = host.create_repo(&new("payments")).await.unwrap();
    assert!(!created.already_existed);
    assert_eq!(created.repo.name, "payments");
    assert_eq!(created.repo.full_name, "acme/payments");
    assert_eq!(created.repo.description, "Payments service");
    assert_eq!(created.repo.visibility, RepoVisibility::Internal);
    assert!(!created.repo.clone_url.contains(TOKEN));

    // A retried creation adopts the repository instead of failing or making another.
    let again = host.create_repo(&new("payments")).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(again.repo.id, created.repo.id);
    assert_eq!(fake.repos.lock().unwrap().len(), 1);

    for name in ["billing", "catalog", "docs", "edge"] {
        host.create_repo(&new(name)).await.unwrap();
    }
    let all = host.list_repos(100).await.unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["billing", "catalog", "docs", "edge", "payments"]);
    assert_eq!(host.list_repos(3).await.unwrap().len(), 3);

    assert_eq!(
        host.get_repo("payments").await.unwrap().unwrap().id,
        created.repo.id
    );
    assert!(host.get_repo("nope").await.unwrap().is_none());
    assert!(host.get_repo("../etc").await.unwrap().is_none());

    // A real push through the credentials the adapter hands out.
    let remote = host.push_access("payments").await.unwrap();
    let creds = remote.credentials.clone().unwrap();
    assert!(!remote.url.contains(TOKEN));
    assert!(
        !format!("{remote:?}").contains(TOKEN),
        "Debug redacts the token"
    );
    let git = GitCli::new(tempdir("gitwork"));
    let files = vec![("README.md".to_owned(), b"# Payments\n".to_vec())];
    let commit = git
        .publish_to(&remote, "main", "", &files, "Initial commit", &author())
        .await
        .unwrap()
        .expect("a first commit");
    let (read_commit, read) = git
        .read_from(&remote, "main", "", 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!(read_commit, commit);
    assert_eq!(read, files);
    // The bare repository on the server has the commit.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "refs/heads/main"])
        .current_dir(fake.git_root.join("acme/payments.git"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), commit);

    // The same push with a wrong token is refused by the git server.
    let wrong = GitRemote {
        url: remote.url.clone(),
        credentials: Some(GitCredentials {
            username: creds.username.clone(),
            password: Secret::new("wrong-token-value-000000"),
        }),
    };
    let err = git
        .publish_to(&wrong, "main", "", &files, "again", &author())
        .await
        .unwrap_err();
    assert!(matches!(err, orbit_ports::GitError::Refused(_)), "{err:?}");
    // And the API refuses a wrong token as Unauthenticated.
    let bad = open(&fake, provider, "wrong-token-value-000000");
    assert!(matches!(
        bad.create_repo(&new("x")).await,
        Err(GitHostError::Unauthenticated(_))
    ));

    // Names are checked before anything is sent.
    let calls = fake.calls.lock().unwrap().len();
    assert!(matches!(
        host.create_repo(&new("../escape")).await,
        Err(GitHostError::InvalidName(_))
    ));
    assert_eq!(fake.calls.lock().unwrap().len(), calls);

    assert!(host.delete_repo("payments").await.unwrap());
    assert!(!host.delete_repo("payments").await.unwrap());
    assert!(host.get_repo("payments").await.unwrap().is_none());
    assert!(matches!(
        host.push_access("payments").await,
        Err(GitHostError::NotFound(_))
    ));

    let violations = fake.violations.lock().unwrap().clone();
    assert!(
        violations.is_empty(),
        "requests off the documented API: {violations:?}"
    );
}

#[tokio::test]
async fn github_adapter_follows_the_rest_api_and_pushes_for_real() {
    let fake = start(|b| new_fake(b, "x-access-token"), github_routes()).await;
    exercise(fake.clone(), GitProvider::GitHub).await;
    let calls = fake.calls.lock().unwrap().clone();
    assert!(calls.iter().any(|c| c.starts_with("POST /orgs/acme/repos")));
    assert!(
        calls
            .iter()
            .filter(|c| c.starts_with("GET /orgs/acme/repos"))
            .count()
            >= 3,
        "the list followed the Link header over several pages: {calls:?}"
    );
    // A missing organisation is NotFound.
    let other = GitHosts::new(tempdir("hosts"), "http://unused")
        .open(&GitHostTarget::Remote {
            provider: GitProvider::GitHub,
            base_url: fake.base.clone(),
            namespace: "nobody".into(),
            token: Secret::new(TOKEN),
        })
        .unwrap();
    assert!(matches!(
        other.list_repos(10).await,
        Err(GitHostError::NotFound(_))
    ));
}

#[tokio::test]
async fn gitlab_adapter_follows_the_projects_api_and_pushes_for_real() {
    let fake = start(|b| new_fake(b, "oauth2"), gitlab_routes()).await;
    exercise(fake.clone(), GitProvider::GitLab).await;
    let calls = fake.calls.lock().unwrap().clone();
    assert!(calls.iter().any(|c| c == "GET /api/v4/groups/acme"));
    assert!(
        calls
            .iter()
            .filter(|c| c.starts_with("GET /api/v4/groups/7/projects"))
            .count()
            >= 3,
        "the list followed X-Next-Page over several pages: {calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("GET /api/v4/projects/acme%2Fpayments"))
    );
}

#[tokio::test]
async fn unreachable_hosts_are_unavailable_and_retryable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for provider in [GitProvider::GitHub, GitProvider::GitLab] {
        let host = GitHosts::new(tempdir("hosts"), "http://unused")
            .open(&GitHostTarget::Remote {
                provider,
                base_url: base.clone(),
                namespace: "acme".into(),
                token: Secret::new(TOKEN),
            })
            .unwrap();
        let err = host.get_repo("x").await.unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert!(!err.to_string().contains(TOKEN));
    }
}
