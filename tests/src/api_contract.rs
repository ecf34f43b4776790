//! The contract every `ApiStore` keeps. Call [`run`] on a fresh, migrated store that also
//! implements the workspace and user stores (APIs belong to workspaces).

use orbit_core::api::{
    Api, ApiFile, ApiFilter, ApiFormat, ApiId, ApiPolicy, ApiVersion, Consumer, Lifecycle, SemVer,
};
use orbit_core::knowledge::PathSlug;
use orbit_core::{Membership, Role, Timestamp, User, UserId, Workspace, WorkspaceId};
use orbit_ports::{ApiStore, StoreError, UserStore, WorkspaceStore};
use std::sync::Arc;

fn api(id: &str, ws: &str, slug: &str, format: ApiFormat, owner: &str, tags: &[&str]) -> Api {
    Api {
        id: ApiId::new(id),
        workspace_id: WorkspaceId::new(ws),
        slug: PathSlug::parse("slug", slug).unwrap(),
        name: format!("{slug} API"),
        description: format!("The {slug} API"),
        owner: owner.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        lifecycle: Lifecycle::Production,
        format,
        deprecation_note: String::new(),
        latest_version: String::new(),
        search_terms: String::new(),
        created_at: Timestamp(5),
        updated_at: Timestamp(5),
        created_by: UserId::new("a-alice"),
    }
}

fn v(s: &str) -> SemVer {
    SemVer::parse("version", s).unwrap()
}

fn version(a: &Api, ver: &str, files: &[(&str, &str)]) -> ApiVersion {
    ApiVersion {
        api_id: a.id.clone(),
        workspace_id: a.workspace_id.clone(),
        version: v(ver),
        content_hash: format!("hash-{ver}"),
        release_notes: format!("notes of {ver}"),
        breaking_changes: 0,
        files: files
            .iter()
            .map(|(n, c)| ApiFile {
                name: n.to_string(),
                content: c.to_string(),
            })
            .collect(),
        published_at: Timestamp(20),
        published_by: UserId::new("a-alice"),
    }
}

async fn setup<S: WorkspaceStore + UserStore>(s: &S) {
    s.create_user(&User {
        id: UserId::new("a-alice"),
        login: orbit_core::Login::parse("aalice").unwrap(),
        display_name: "Alice".into(),
        email: String::new(),
        instance_admin: false,
        created_at: Timestamp(1),
    })
    .await
    .unwrap();
    for (id, slug) in [("a-w1", "aw-one"), ("a-w2", "aw-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: UserId::new("a-alice"),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
}

async fn drain(s: &dyn ApiStore) -> Vec<String> {
    let jobs = s.pending_api_index_jobs(1000).await.unwrap();
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    s.complete_api_index_jobs(&ids).await.unwrap();
    jobs.into_iter().map(|j| j.api_id.to_string()).collect()
}

fn slugs(list: &[Api]) -> Vec<&str> {
    list.iter().map(|a| a.slug.as_str()).collect()
}

pub async fn run<S>(store: Arc<S>)
where
    S: WorkspaceStore + UserStore + ApiStore,
{
    let s = &*store;
    setup(s).await;
    let w1 = WorkspaceId::new("a-w1");
    let w2 = WorkspaceId::new("a-w2");

    // Create, read, uniqueness, isolation.
    let pets = api(
        "a-1",
        "a-w1",
        "pets",
        ApiFormat::OpenApi,
        "team-a",
        &["animals", "public"],
    );
    s.create_api(&pets, "job-1").await.unwrap();
    assert_eq!(s.get_api(&w1, &pets.id).await.unwrap().unwrap(), pets);
    assert_eq!(
        s.get_api_by_slug(&w1, &pets.slug)
            .await
            .unwrap()
            .unwrap()
            .id,
        pets.id
    );
    assert_eq!(s.get_api(&w2, &pets.id).await.unwrap(), None, "isolation");
    let dup = api("a-dup", "a-w1", "pets", ApiFormat::GraphQl, "x", &[]);
    assert!(matches!(
        s.create_api(&dup, "job-dup").await,
        Err(StoreError::AlreadyExists(_))
    ));
    // The same slug in another workspace is fine.
    s.create_api(
        &api(
            "a-9",
            "a-w2",
            "pets",
            ApiFormat::OpenApi,
            "team-a",
            &["public"],
        ),
        "job-9",
    )
    .await
    .unwrap();
    for (id, slug, format, owner, tags) in [
        (
            "a-2",
            "orders",
            ApiFormat::Protobuf,
            "team-b",
            vec!["commerce"],
        ),
        ("a-3", "graph", ApiFormat::GraphQl, "team-a", vec!["public"]),
        (
            "a-4",
            "events",
            ApiFormat::AsyncApi,
            "team-b",
            vec!["commerce", "public"],
        ),
    ] {
        s.create_api(
            &api(id, "a-w1", slug, format, owner, &tags),
            &format!("job-{id}"),
        )
        .await
        .unwrap();
    }
    let mut jobs = drain(s).await;
    jobs.sort();
    assert_eq!(jobs, ["a-1", "a-2", "a-3", "a-4", "a-9"]);

    // Lists: order, filters, cursor, overfetch by one.
    let all = s
        .list_apis(&w1, &ApiFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(slugs(&all), ["events", "graph", "orders", "pets"]);
    let page = s
        .list_apis(&w1, &ApiFilter::default(), None, 2)
        .await
        .unwrap();
    assert_eq!(slugs(&page), ["events", "graph", "orders"]);
    let next = s
        .list_apis(&w1, &ApiFilter::default(), Some("graph"), 2)
        .await
        .unwrap();
    assert_eq!(slugs(&next), ["orders", "pets"]);
    let f = ApiFilter {
        tag: Some("public".into()),
        ..Default::default()
    };
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, None, 10).await.unwrap()),
        ["events", "graph", "pets"]
    );
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, Some("events"), 1).await.unwrap()),
        ["graph", "pets"],
        "a tag's list pages on from the cursor, overfetching by one"
    );
    assert_eq!(
        slugs(&s.list_apis(&w2, &f, None, 10).await.unwrap()),
        ["pets"],
        "a tag lists only its workspace's APIs"
    );
    let f = ApiFilter {
        tag: Some("public".into()),
        owner: Some("team-b".into()),
        ..Default::default()
    };
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, None, 10).await.unwrap()),
        ["events"]
    );
    let f = ApiFilter {
        format: Some(ApiFormat::Protobuf),
        ..Default::default()
    };
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, None, 10).await.unwrap()),
        ["orders"]
    );
    assert_eq!(
        slugs(
            &s.list_apis(&w2, &ApiFilter::default(), None, 10)
                .await
                .unwrap()
        ),
        ["pets"]
    );

    // Update (tags replaced, lifecycle filter).
    let mut changed = pets.clone();
    changed.name = "Pets".into();
    changed.tags = vec!["animals".into()];
    changed.lifecycle = Lifecycle::Deprecated;
    changed.deprecation_note = "use pets v2".into();
    changed.updated_at = Timestamp(9);
    s.update_api(&changed, "job-u").await.unwrap();
    assert_eq!(s.get_api(&w1, &pets.id).await.unwrap().unwrap(), changed);
    let f = ApiFilter {
        lifecycle: Some(Lifecycle::Deprecated),
        ..Default::default()
    };
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, None, 10).await.unwrap()),
        ["pets"]
    );
    let f = ApiFilter {
        tag: Some("public".into()),
        ..Default::default()
    };
    assert_eq!(
        slugs(&s.list_apis(&w1, &f, None, 10).await.unwrap()),
        ["events", "graph"]
    );
    let mut foreign = changed.clone();
    foreign.workspace_id = w2.clone();
    assert!(matches!(
        s.update_api(&foreign, "job-x").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(drain(s).await, ["a-1"]);

    // Versions: stored with their files in order, immutable, scoped.
    let v1 = version(
        &changed,
        "1.0.0",
        &[("b.yaml", "second"), ("a.yaml", "first")],
    );
    let mut after = changed.clone();
    after.latest_version = "1.0.0".into();
    after.search_terms = "listPets /pets".into();
    after.updated_at = Timestamp(21);
    s.publish_version(&after, &v1, "job-p1").await.unwrap();
    assert_eq!(
        s.get_version(&w1, &pets.id, &v("1.0.0"))
            .await
            .unwrap()
            .unwrap(),
        v1
    );
    assert_eq!(
        s.get_version(&w2, &pets.id, &v("1.0.0")).await.unwrap(),
        None
    );
    let stored = s.get_api(&w1, &pets.id).await.unwrap().unwrap();
    assert_eq!(stored.latest_version, "1.0.0");
    assert_eq!(stored.search_terms, "listPets /pets");
    let again = version(&changed, "1.0.0", &[("a.yaml", "other")]);
    assert!(matches!(
        s.publish_version(&after, &again, "job-p1b").await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        s.get_version(&w1, &pets.id, &v("1.0.0"))
            .await
            .unwrap()
            .unwrap(),
        v1,
        "immutable"
    );
    s.publish_version(
        &after,
        &version(&changed, "1.1.0-beta.1", &[("a.yaml", "x")]),
        "job-p2",
    )
    .await
    .unwrap();
    let mut versions = s.list_versions(&w1, &pets.id).await.unwrap();
    versions.sort_by(|a, b| a.version.cmp(&b.version));
    let labels: Vec<String> = versions.iter().map(|v| v.version.to_string()).collect();
    assert_eq!(labels, ["1.0.0", "1.1.0-beta.1"]);
    assert_eq!(versions[0].total_bytes, 11);
    assert_eq!(versions[0].content_hash, "hash-1.0.0");
    assert!(s.list_versions(&w2, &pets.id).await.unwrap().is_empty());
    let mut ghost = after.clone();
    ghost.id = ApiId::new("a-ghost");
    assert!(matches!(
        s.publish_version(&ghost, &version(&ghost, "1.0.0", &[]), "job-g")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(drain(s).await, ["a-1", "a-1"]);

    // Consumers: put replaces by repository, ordered, scoped.
    let consumer = |repo: &str, ver: &str| Consumer {
        api_id: pets.id.clone(),
        workspace_id: w1.clone(),
        repository: repo.into(),
        version: v(ver),
        created_at: Timestamp(30),
        created_by: UserId::new("a-alice"),
        from_catalog_info: false,
    };
    s.put_consumer(&consumer("github.com/acme/web", "1.0.0"))
        .await
        .unwrap();
    s.put_consumer(&consumer("github.com/acme/app", "1.0.0"))
        .await
        .unwrap();
    s.put_consumer(&consumer("github.com/acme/web", "1.1.0-beta.1"))
        .await
        .unwrap();
    let list = s.list_consumers(&w1, &pets.id).await.unwrap();
    let repos: Vec<(&str, String)> = list
        .iter()
        .map(|c| (c.repository.as_str(), c.version.to_string()))
        .collect();
    assert_eq!(
        repos,
        [
            ("github.com/acme/app", "1.0.0".to_owned()),
            ("github.com/acme/web", "1.1.0-beta.1".to_owned())
        ]
    );
    assert!(s.list_consumers(&w2, &pets.id).await.unwrap().is_empty());
    let mut foreign = consumer("x", "1.0.0");
    foreign.workspace_id = w2.clone();
    assert!(matches!(
        s.put_consumer(&foreign).await,
        Err(StoreError::NotFound(_))
    ));
    s.remove_consumer(&w1, &pets.id, "github.com/acme/app")
        .await
        .unwrap();
    assert!(matches!(
        s.remove_consumer(&w1, &pets.id, "github.com/acme/app")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.remove_consumer(&w2, &pets.id, "github.com/acme/web")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.list_consumers(&w1, &pets.id).await.unwrap().len(), 1);

    // Policy: default, set, per workspace.
    assert_eq!(s.get_policy(&w1).await.unwrap(), ApiPolicy::default());
    let relaxed = ApiPolicy {
        allow_breaking_without_major: true,
    };
    s.set_policy(&w1, &relaxed, Timestamp(40)).await.unwrap();
    s.set_policy(&w1, &relaxed, Timestamp(41)).await.unwrap();
    assert_eq!(s.get_policy(&w1).await.unwrap(), relaxed);
    assert_eq!(s.get_policy(&w2).await.unwrap(), ApiPolicy::default());

    // Reindex walk: every workspace, in id order.
    let first = s.apis_after(None, 3).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a-1", "a-2", "a-3"]);
    let rest = s.apis_after(Some(&ApiId::new("a-3")), 10).await.unwrap();
    let ids: Vec<&str> = rest.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a-4", "a-9"]);

    // Deleting a workspace takes its APIs with it.
    s.delete_workspace(&w2).await.unwrap();
    assert_eq!(s.get_api(&w2, &ApiId::new("a-9")).await.unwrap(), None);
    assert_eq!(
        s.apis_after(Some(&ApiId::new("a-4")), 10)
            .await
            .unwrap()
            .len(),
        0
    );
}
