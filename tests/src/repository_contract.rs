//! The contract every `RepositoryStore` keeps. Call [`run`] on a fresh, migrated store that
//! also implements the workspace and user stores (repositories belong to workspaces).

use orbit_core::repository::{
    Lifecycle, RepoCursor, RepoName, RepoPolicy, RepoQuery, RepoSort, RepoTemplate, RepoVisibility,
    Repository, RepositoryId,
};
use orbit_core::{Membership, Role, Timestamp, User, UserId, Workspace, WorkspaceId};
use orbit_ports::{RepositoryStore, StoreError, UserStore, WorkspaceStore};
use std::sync::Arc;

fn repo(id: &str, ws: &str, name: &str, at: i64) -> Repository {
    Repository {
        id: RepositoryId::new(id),
        workspace_id: WorkspaceId::new(ws),
        name: RepoName::parse("name", name).unwrap(),
        description: format!("The {name} service"),
        owner: "platform".into(),
        language: "Rust".into(),
        topics: vec!["api".into(), "backend".into()],
        lifecycle: Lifecycle::Production,
        default_branch: "main".into(),
        remote_url: format!("https://git.example.com/{name}.git"),
        visibility: RepoVisibility::Internal,
        archived: false,
        source: "manual".into(),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        created_by: UserId::new("r-alice"),
        links: Vec::new(),
        provides_apis: Vec::new(),
        consumes_apis: Vec::new(),
    }
}

async fn setup<S: WorkspaceStore + UserStore>(s: &S) {
    s.create_user(&User {
        id: UserId::new("r-alice"),
        login: orbit_core::Login::parse("ralice").unwrap(),
        display_name: "Alice".into(),
        email: String::new(),
        instance_admin: false,
        created_at: Timestamp(1),
    })
    .await
    .unwrap();
    for (id, slug) in [("r-w1", "rw-one"), ("r-w2", "rw-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: UserId::new("r-alice"),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
}

fn names(rows: &[Repository]) -> Vec<&str> {
    rows.iter().map(|r| r.name.as_str()).collect()
}

fn query(limit: u32) -> RepoQuery {
    RepoQuery {
        limit,
        ..RepoQuery::default()
    }
}

async fn drain_jobs(s: &dyn RepositoryStore) -> Vec<String> {
    let jobs = s.pending_repository_index_jobs(1000).await.unwrap();
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    s.complete_repository_index_jobs(&ids).await.unwrap();
    jobs.into_iter()
        .map(|j| j.repository_id.to_string())
        .collect()
}

pub async fn run<S>(store: Arc<S>)
where
    S: WorkspaceStore + UserStore + RepositoryStore,
{
    let s = &*store;
    setup(s).await;
    let w1 = WorkspaceId::new("r-w1");
    let w2 = WorkspaceId::new("r-w2");

    // Create, read back, by id and by name (case-insensitive).
    let payments = repo("r-1", "r-w1", "Payments", 10);
    s.create_repository(&payments, "j1").await.unwrap();
    let got = s.get_repository(&w1, &payments.id).await.unwrap().unwrap();
    assert_eq!(got, payments);
    let by_name = s
        .get_repository_by_name(&w1, &RepoName::parse("name", "payments").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, payments.id);

    // Workspace isolation: another workspace neither sees it nor blocks its name.
    assert_eq!(s.get_repository(&w2, &payments.id).await.unwrap(), None);
    assert_eq!(
        s.get_repository_by_name(&w2, &payments.name).await.unwrap(),
        None
    );
    s.create_repository(&repo("r-2", "r-w2", "payments", 10), "j2")
        .await
        .unwrap();
    assert!(
        s.list_repositories(&w2, &query(10))
            .await
            .unwrap()
            .iter()
            .all(|r| r.workspace_id == w2)
    );

    // Names are unique regardless of case; nothing is half-written on a conflict.
    let err = s
        .create_repository(&repo("r-3", "r-w1", "PAYMENTS", 11), "j3")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::AlreadyExists(what) if what.contains("PAYMENTS")),
        "{err:?}"
    );
    assert_eq!(
        s.get_repository(&w1, &RepositoryId::new("r-3"))
            .await
            .unwrap(),
        None
    );
    // A missing workspace is NotFound.
    let err = s
        .create_repository(&repo("r-x", "no-such-ws", "x", 1), "jx")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");

    // Every write queued an index job (the failed ones did not).
    let mut jobs = drain_jobs(s).await;
    jobs.sort();
    assert_eq!(jobs, vec!["r-1", "r-2"]);

    // More repositories for filters and ordering.
    let mut gateway = repo("r-4", "r-w1", "gateway", 20);
    gateway.language = "TypeScript".into();
    gateway.topics = vec!["frontend".into()];
    gateway.owner = "web".into();
    gateway.visibility = RepoVisibility::Public;
    s.create_repository(&gateway, "j4").await.unwrap();
    let mut ledger = repo("r-5", "r-w1", "ledger", 30);
    ledger.lifecycle = Lifecycle::Experimental;
    ledger.visibility = RepoVisibility::Private;
    s.create_repository(&ledger, "j5").await.unwrap();
    let mut old = repo("r-6", "r-w1", "Archive-me", 5);
    old.lifecycle = Lifecycle::Deprecated;
    s.create_repository(&old, "j6").await.unwrap();

    let all = s.list_repositories(&w1, &query(10)).await.unwrap();
    assert_eq!(names(&all), ["Archive-me", "gateway", "ledger", "Payments"]);

    let q = |f: &dyn Fn(&mut RepoQuery)| {
        let mut q = query(10);
        f(&mut q);
        q
    };
    let owner_web = q(&|q| q.owner = Some("web".into()));
    assert_eq!(
        names(&s.list_repositories(&w1, &owner_web).await.unwrap()),
        ["gateway"]
    );
    let lang = q(&|q| q.language = Some("typescript".into()));
    assert_eq!(
        names(&s.list_repositories(&w1, &lang).await.unwrap()),
        ["gateway"]
    );
    let topic = q(&|q| q.topic = Some("backend".into()));
    assert_eq!(
        names(&s.list_repositories(&w1, &topic).await.unwrap()),
        ["Archive-me", "ledger", "Payments"]
    );
    let lifecycle = q(&|q| q.lifecycle = Some(Lifecycle::Experimental));
    assert_eq!(
        names(&s.list_repositories(&w1, &lifecycle).await.unwrap()),
        ["ledger"]
    );
    let vis = q(&|q| q.visibility = Some(RepoVisibility::Private));
    assert_eq!(
        names(&s.list_repositories(&w1, &vis).await.unwrap()),
        ["ledger"]
    );
    let combined = q(&|q| {
        q.topic = Some("backend".into());
        q.lifecycle = Some(Lifecycle::Production);
    });
    assert_eq!(
        names(&s.list_repositories(&w1, &combined).await.unwrap()),
        ["Payments"]
    );

    // Updates: fields, topics (the filter follows), archive, rename; conflicts refused.
    let mut changed = old.clone();
    changed.archived = true;
    changed.topics = vec!["legacy".into()];
    changed.updated_at = Timestamp(40);
    s.update_repository(&changed, "j7").await.unwrap();
    let all = s.list_repositories(&w1, &query(10)).await.unwrap();
    assert_eq!(names(&all), ["gateway", "ledger", "Payments"]);
    let with_archived = q(&|q| q.include_archived = true);
    let all = s.list_repositories(&w1, &with_archived).await.unwrap();
    assert_eq!(names(&all), ["Archive-me", "gateway", "ledger", "Payments"]);
    let legacy = q(&|q| {
        q.topic = Some("legacy".into());
        q.include_archived = true;
    });
    assert_eq!(
        names(&s.list_repositories(&w1, &legacy).await.unwrap()),
        ["Archive-me"]
    );
    assert!(
        s.list_repositories(&w1, &topic)
            .await
            .unwrap()
            .iter()
            .all(|r| r.id != old.id)
    );
    let mut rename = ledger.clone();
    rename.name = RepoName::parse("name", "GATEWAY").unwrap();
    let err = s.update_repository(&rename, "j8").await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
    rename.name = RepoName::parse("name", "ledger-v2").unwrap();
    rename.updated_at = Timestamp(50);
    s.update_repository(&rename, "j9").await.unwrap();
    let got = s.get_repository(&w1, &ledger.id).await.unwrap().unwrap();
    assert_eq!(got.name.as_str(), "ledger-v2");
    assert_eq!(got.created_at, ledger.created_at);
    // Updating through another workspace finds nothing.
    let mut foreign = payments.clone();
    foreign.workspace_id = w2.clone();
    let err = s.update_repository(&foreign, "j10").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let mut jobs = drain_jobs(s).await;
    jobs.sort();
    assert_eq!(jobs, vec!["r-4", "r-5", "r-5", "r-6", "r-6"]);

    // Sorting and cursor pagination: by name, and by update time (newest first).
    let mut page = query(2);
    let first = s.list_repositories(&w1, &page).await.unwrap();
    assert_eq!(names(&first), ["gateway", "ledger-v2", "Payments"]);
    page.after = Some(RepoCursor::Name(first[1].name.key()));
    let second = s.list_repositories(&w1, &page).await.unwrap();
    assert_eq!(names(&second), ["Payments"]);

    // Two repositories changed at the same instant are still ordered (by id).
    let mut same = repo("r-7", "r-w1", "zeta", 50);
    same.updated_at = Timestamp(50);
    s.create_repository(&same, "j11").await.unwrap();
    let mut by_time = query(2);
    by_time.sort = RepoSort::Updated;
    let first = s.list_repositories(&w1, &by_time).await.unwrap();
    assert_eq!(names(&first), ["zeta", "ledger-v2", "gateway"]);
    by_time.after = Some(RepoCursor::Time(first[1].updated_at.0, first[1].id.clone()));
    let second = s.list_repositories(&w1, &by_time).await.unwrap();
    assert_eq!(names(&second), ["gateway", "Payments"]);
    let mut by_created = query(10);
    by_created.sort = RepoSort::Created;
    let created = s.list_repositories(&w1, &by_created).await.unwrap();
    assert_eq!(
        names(&created),
        ["zeta", "ledger-v2", "gateway", "Payments"]
    );

    // Rebuilding the index walks every workspace in id order.
    let mut seen = Vec::new();
    let mut after: Option<RepositoryId> = None;
    loop {
        let batch = s.repositories_after(after.as_ref(), 2).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        seen.extend(batch.into_iter().map(|r| r.id.to_string()));
    }
    assert_eq!(seen, ["r-1", "r-2", "r-4", "r-5", "r-6", "r-7"]);

    // Templates: unique names per workspace, found by id or name, isolated.
    let template = RepoTemplate {
        id: "t-1".into(),
        workspace_id: w1.clone(),
        name: "rust-service".into(),
        source_url: "https://git.example.com/templates.git".into(),
        git_ref: "main".into(),
        path: "rust".into(),
        manifest: "apiVersion: orbit/v1\nname: rust-service\n".into(),
        created_at: Timestamp(5),
        created_by: UserId::new("r-alice"),
    };
    s.create_template(&template).await.unwrap();
    let mut again = template.clone();
    again.id = "t-2".into();
    let err = s.create_template(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
    assert_eq!(
        s.get_template(&w1, "t-1").await.unwrap(),
        Some(template.clone())
    );
    assert_eq!(
        s.get_template(&w1, "rust-service").await.unwrap(),
        Some(template.clone())
    );
    assert_eq!(s.get_template(&w2, "t-1").await.unwrap(), None);
    assert_eq!(s.list_templates(&w1).await.unwrap(), vec![template]);
    assert!(s.list_templates(&w2).await.unwrap().is_empty());

    // Policies: the default restricts nothing; a saved one reads back; per workspace.
    assert_eq!(s.get_policy(&w1).await.unwrap(), RepoPolicy::default());
    let policy = RepoPolicy {
        name_pattern: "[a-z-]+".into(),
        require_owner: true,
        allowed_visibilities: vec![RepoVisibility::Internal, RepoVisibility::Private],
        allowed_templates: vec!["rust-service".into(), "ts".into()],
    };
    s.put_policy(&w1, &policy, Timestamp(6)).await.unwrap();
    assert_eq!(s.get_policy(&w1).await.unwrap(), policy);
    let mut relaxed = policy.clone();
    relaxed.require_owner = false;
    s.put_policy(&w1, &relaxed, Timestamp(7)).await.unwrap();
    assert_eq!(s.get_policy(&w1).await.unwrap(), relaxed);
    assert_eq!(s.get_policy(&w2).await.unwrap(), RepoPolicy::default());

    // Links and the APIs a repository provides and consumes (from catalog-info.yaml) are
    // kept, and an API's consumers are found by name, per workspace.
    let mut shop = s
        .get_repository(&w1, &RepositoryId::new("r-1"))
        .await
        .unwrap()
        .unwrap();
    shop.links = vec![
        orbit_core::repository::RepoLink {
            url: "https://grafana.example.com/d/shop".into(),
            title: "Dashboard".into(),
        },
        orbit_core::repository::RepoLink {
            url: "https://runbooks.example.com/shop".into(),
            title: String::new(),
        },
    ];
    shop.provides_apis = vec!["shop-api".into()];
    shop.consumes_apis = vec!["billing-api".into(), "users-api".into()];
    s.update_repository(&shop, "j-apis-1").await.unwrap();
    let got = s.get_repository(&w1, &shop.id).await.unwrap().unwrap();
    assert_eq!(got.links, shop.links);
    assert_eq!(got.provides_apis, shop.provides_apis);
    assert_eq!(got.consumes_apis, shop.consumes_apis);
    let mut other = repo("r-apis-w2", "r-w2", "consumer-elsewhere", 20);
    other.consumes_apis = vec!["billing-api".into()];
    s.create_repository(&other, "j-apis-2").await.unwrap();
    assert_eq!(
        s.get_repository(&w2, &other.id)
            .await
            .unwrap()
            .unwrap()
            .consumes_apis,
        ["billing-api"]
    );
    let names = |v: Vec<Repository>| v.into_iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        names(
            s.repositories_with_api(&w1, "consumes", "billing-api")
                .await
                .unwrap()
        ),
        ["r-1"]
    );
    assert_eq!(
        names(
            s.repositories_with_api(&w2, "consumes", "billing-api")
                .await
                .unwrap()
        ),
        ["r-apis-w2"]
    );
    assert_eq!(
        names(
            s.repositories_with_api(&w1, "provides", "shop-api")
                .await
                .unwrap()
        ),
        ["r-1"]
    );
    assert!(
        s.repositories_with_api(&w1, "consumes", "shop-api")
            .await
            .unwrap()
            .is_empty()
    );
    // A repository that stops consuming leaves the API's consumers.
    shop.consumes_apis = vec!["users-api".into()];
    s.update_repository(&shop, "j-apis-3").await.unwrap();
    assert!(
        s.repositories_with_api(&w1, "consumes", "billing-api")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        names(
            s.repositories_with_api(&w1, "consumes", "users-api")
                .await
                .unwrap()
        ),
        ["r-1"]
    );
    drain_jobs(s).await;

    // Deleting a workspace deletes its repositories.
    s.delete_workspace(&w2).await.unwrap();
    assert_eq!(
        s.get_repository(&w2, &RepositoryId::new("r-2"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.repositories_after(None, 100).await.unwrap().len(),
        5,
        "the other workspace's repositories stay"
    );
}
