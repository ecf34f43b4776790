//! Orbit's own git host: bare repositories on disk, created atomically and adopted on retry,
//! read and written by the real `git` through `SmartHttp` (git http-backend).

use orbit_core::{Slug, WorkspaceId};
use orbit_git::GitCli;
use orbit_githost::{EmbeddedHost, SmartHttp};
use orbit_ports::{
    GitAuthor, GitClient, GitHost, GitHostError, GitHttpRequest, GitHttpServer, NewHostedRepo,
    RepoVisibility,
};
use std::path::PathBuf;
use std::sync::Arc;

fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("orbit-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn host(root: &std::path::Path, ws: &str) -> EmbeddedHost {
    EmbeddedHost::new(
        root.to_path_buf(),
        WorkspaceId::new(ws),
        Slug::parse(ws).unwrap(),
        "http://127.0.0.1:9999",
    )
    .unwrap()
}

fn new(name: &str) -> NewHostedRepo {
    NewHostedRepo {
        name: name.into(),
        description: "The payments service".into(),
        visibility: RepoVisibility::Internal,
        default_branch: "main".into(),
    }
}

#[tokio::test]
async fn create_adopt_list_push_and_delete() {
    let root = tempdir("embedded-git");
    let acme = host(&root, "acme");
    let created = acme.create_repo(&new("payments")).await.unwrap();
    assert!(!created.already_existed);
    assert_eq!(
        created.repo.clone_url,
        "http://127.0.0.1:9999/git/acme/payments.git"
    );
    assert_eq!(created.repo.full_name, "acme/payments");
    assert_eq!(created.repo.description, "The payments service");
    assert_eq!(created.repo.visibility, RepoVisibility::Internal);
    assert_eq!(created.repo.default_branch, "main");
    assert!(root.join("acme/payments.git/HEAD").is_file());

    let again = acme.create_repo(&new("payments")).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(again.repo, created.repo);

    // Another workspace has its own namespace.
    let other = host(&root, "other");
    assert!(other.get_repo("payments").await.unwrap().is_none());
    assert!(other.list_repos(10).await.unwrap().is_empty());

    acme.create_repo(&new("billing")).await.unwrap();
    let names: Vec<String> = acme
        .list_repos(10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["billing", "payments"]);

    // Orbit pushes to its own repositories directly.
    let remote = acme.push_access("payments").await.unwrap();
    assert!(remote.credentials.is_none());
    let git = GitCli::new(tempdir("embedded-work"));
    let author = GitAuthor {
        name: "Orbit".into(),
        email: "orbit@example.com".into(),
    };
    let files = vec![("README.md".to_owned(), b"# Payments\n".to_vec())];
    let commit = git
        .publish_to(&remote, "main", "", &files, "Initial commit", &author)
        .await
        .unwrap()
        .unwrap();
    // Publishing the same tree again makes no second commit.
    assert_eq!(
        git.publish_to(&remote, "main", "", &files, "Initial commit", &author)
            .await
            .unwrap(),
        None
    );
    let (read, got) = git
        .read_from(&remote, "main", "", 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!((read, got), (commit, files));

    for bad in ["../x", "a/b", ".git", "x.git", ""] {
        assert!(matches!(
            acme.create_repo(&new(bad)).await,
            Err(GitHostError::InvalidName(_))
        ));
        assert!(acme.get_repo(bad).await.unwrap().is_none());
    }
    assert!(matches!(
        acme.push_access("missing").await,
        Err(GitHostError::NotFound(_))
    ));

    assert!(acme.delete_repo("payments").await.unwrap());
    assert!(!acme.delete_repo("payments").await.unwrap());
    assert!(!root.join("acme/payments.git").exists());
}

#[tokio::test]
async fn concurrent_creations_make_one_repository() {
    let root = tempdir("embedded-race");
    let acme = Arc::new(host(&root, "acme"));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let acme = acme.clone();
        tasks.push(tokio::spawn(async move {
            acme.create_repo(&new("payments")).await.unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        if !t.await.unwrap().already_existed {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one call created the repository");
    let leftovers: Vec<_> = std::fs::read_dir(root.join("acme"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["payments.git"], "no scratch folders left");
}

#[tokio::test]
async fn smart_http_serves_only_existing_repositories_and_the_protocol() {
    let root = tempdir("embedded-http");
    let acme = host(&root, "acme");
    acme.create_repo(&new("payments")).await.unwrap();
    let server = SmartHttp::new(root.clone());
    let req = |path: &str, query: &str| GitHttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        content_type: String::new(),
        content_encoding: String::new(),
        git_protocol: String::new(),
        body: Vec::new(),
    };
    let ws = WorkspaceId::new("acme");
    let ok = server
        .serve(
            &ws,
            "payments",
            req("/info/refs", "service=git-upload-pack"),
        )
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert!(ok.headers.iter().any(|(k, v)| k == "Content-Type"
        && v == "application/x-git-upload-pack-advertisement"));
    assert!(String::from_utf8_lossy(&ok.body).contains("# service=git-upload-pack"));
    // Files of the repository other than the protocol's are not served.
    let config = server
        .serve(&ws, "payments", req("/config", ""))
        .await
        .unwrap();
    assert_eq!(config.status, 404);
    assert!(matches!(
        server
            .serve(&ws, "missing", req("/info/refs", "service=git-upload-pack"))
            .await,
        Err(GitHostError::NotFound(_))
    ));
    assert!(matches!(
        server
            .serve(
                &WorkspaceId::new("other"),
                "payments",
                req("/info/refs", "service=git-upload-pack")
            )
            .await,
        Err(GitHostError::NotFound(_))
    ));
}
