//! The contract every `GitHost` keeps, run against Orbit's own git server and the GitHub
//! and GitLab adapters (against their API fakes): create-or-adopt, one creation under
//! concurrent calls, get, list ordered by name, a real push and read with the credentials
//! `push_access` hands out, delete. `prefix` keeps names apart when hosts are shared.

use orbit_ports::{GitAuthor, GitClient, GitHost, GitHostError, NewHostedRepo, RepoVisibility};
use std::sync::Arc;

fn new(name: &str) -> NewHostedRepo {
    NewHostedRepo {
        name: name.into(),
        description: "Contract repository".into(),
        visibility: RepoVisibility::Private,
        default_branch: "main".into(),
    }
}

pub async fn run(host: Arc<dyn GitHost>, git: &dyn GitClient, prefix: &str) {
    let name = format!("{prefix}payments");
    let created = host.create_repo(&new(&name)).await.unwrap();
    assert!(!created.already_existed);
    assert_eq!(created.repo.name, name);
    assert!(created.repo.full_name.ends_with(&format!("/{name}")));
    assert_eq!(created.repo.description, "Contract repository");
    assert_eq!(created.repo.visibility, RepoVisibility::Private);
    assert!(
        !created.repo.clone_url.contains('@'),
        "no credentials in URLs"
    );

    // Create-or-adopt: a retry returns the same repository.
    let again = host.create_repo(&new(&name)).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(again.repo.id, created.repo.id);

    // Concurrent creations of one name: exactly one creates.
    let race = format!("{prefix}race");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let host = host.clone();
        let race = race.clone();
        tasks.push(tokio::spawn(
            async move { host.create_repo(&new(&race)).await },
        ));
    }
    let mut fresh = 0;
    for t in tasks {
        if !t.await.unwrap().unwrap().already_existed {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1, "one call created, the others adopted");

    for n in ["c", "a", "b"] {
        host.create_repo(&new(&format!("{prefix}{n}")))
            .await
            .unwrap();
    }
    let listed: Vec<String> = host
        .list_repos(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .filter(|n| n.starts_with(prefix))
        .collect();
    let mut sorted = listed.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(listed, sorted, "ordered by name");
    for n in ["a", "b", "c", "payments", "race"] {
        assert!(listed.contains(&format!("{prefix}{n}")), "{listed:?}");
    }
    assert_eq!(host.list_repos(2).await.unwrap().len(), 2);

    assert_eq!(
        host.get_repo(&name).await.unwrap().map(|r| r.id),
        Some(created.repo.id.clone())
    );
    assert!(
        host.get_repo(&format!("{prefix}missing"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(host.get_repo("../escape").await.unwrap().is_none());
    assert!(matches!(
        host.create_repo(&new("../escape")).await,
        Err(GitHostError::InvalidName(_))
    ));

    // A real push and read through the access the host hands out; a retried push of the
    // same tree makes no second commit.
    let remote = host.push_access(&name).await.unwrap();
    let author = GitAuthor {
        name: "Orbit".into(),
        email: "orbit@example.com".into(),
    };
    let files = vec![
        ("README.md".to_owned(), b"# Payments\n".to_vec()),
        ("src/main.rs".to_owned(), b"fn main() {}\n".to_vec()),
    ];
    let commit = git
        .publish_to(&remote, "main", "", &files, "Initial commit", &author)
        .await
        .unwrap()
        .expect("the first push makes a commit");
    assert_eq!(
        git.publish_to(&remote, "main", "", &files, "Initial commit", &author)
            .await
            .unwrap(),
        None
    );
    let (read, got) = git
        .read_from(&remote, "main", "", 100, 1 << 20)
        .await
        .unwrap();
    assert_eq!((read, got), (commit, files));
    assert!(matches!(
        host.push_access(&format!("{prefix}missing")).await,
        Err(GitHostError::NotFound(_))
    ));

    assert!(host.delete_repo(&name).await.unwrap());
    assert!(!host.delete_repo(&name).await.unwrap());
    assert!(host.get_repo(&name).await.unwrap().is_none());
}
