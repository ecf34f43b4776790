//! The contract every `KnowledgeStore` keeps. Call [`run`] on a fresh, migrated store that
//! also implements the workspace and user stores (spaces belong to workspaces).

use orbit_core::knowledge::{Page, PathSlug, Revision, Space, Visibility};
use orbit_core::{
    Membership, PageId, Role, SpaceId, Timestamp, User, UserId, Workspace, WorkspaceId,
};
use orbit_ports::{KnowledgeStore, StoreError, StoredRender, UserStore, WorkspaceStore};
use std::sync::Arc;

fn space(id: &str, ws: &str, slug: &str, visibility: Visibility) -> Space {
    Space {
        id: SpaceId::new(id),
        workspace_id: WorkspaceId::new(ws),
        slug: PathSlug::parse("slug", slug).unwrap(),
        name: format!("{slug} space"),
        description: String::new(),
        visibility,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

fn page(id: &str, ws: &str, space: &str, parent: Option<&str>, slug: &str, order: i64) -> Page {
    Page {
        id: PageId::new(id),
        workspace_id: WorkspaceId::new(ws),
        space_id: SpaceId::new(space),
        parent_id: parent.map(PageId::new),
        slug: PathSlug::parse("slug", slug).unwrap(),
        title: format!("Title of {slug}"),
        body: format!("Body of {slug}"),
        sort_order: order,
        revision: 1,
        created_at: Timestamp(10),
        updated_at: Timestamp(10),
        updated_by: UserId::new("k-alice"),
    }
}

fn first(p: &Page) -> Revision {
    Revision {
        page_id: p.id.clone(),
        revision: 1,
        title: p.title.clone(),
        body: p.body.clone(),
        author: UserId::new("k-alice"),
        created_at: Timestamp(10),
        note: "created".into(),
    }
}

async fn setup<S: WorkspaceStore + UserStore>(s: &S) {
    for (id, login) in [("k-alice", "kalice"), ("k-bob", "kbob")] {
        s.create_user(&User {
            id: UserId::new(id),
            login: orbit_core::Login::parse(login).unwrap(),
            display_name: login.into(),
            email: String::new(),
            instance_admin: false,
            created_at: Timestamp(1),
        })
        .await
        .unwrap();
    }
    for (id, slug) in [("k-w1", "kw-one"), ("k-w2", "kw-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: UserId::new("k-alice"),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
}

async fn drain_jobs(s: &dyn KnowledgeStore) -> Vec<String> {
    let jobs = s.pending_index_jobs(1000).await.unwrap();
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    s.complete_index_jobs(&ids).await.unwrap();
    jobs.into_iter().map(|j| j.page_id.to_string()).collect()
}

pub async fn run<S>(store: Arc<S>)
where
    S: WorkspaceStore + UserStore + KnowledgeStore,
{
    let s = &*store;
    setup(s).await;
    let w1 = WorkspaceId::new("k-w1");
    let w2 = WorkspaceId::new("k-w2");

    // Spaces.
    s.create_space(
        &space("k-s1", "k-w1", "handbook", Visibility::Workspace),
        &[],
    )
    .await
    .unwrap();
    s.create_space(
        &space("k-s2", "k-w1", "secret", Visibility::Restricted),
        &[UserId::new("k-alice")],
    )
    .await
    .unwrap();
    s.create_space(
        &space("k-s3", "k-w2", "handbook", Visibility::Workspace),
        &[],
    )
    .await
    .unwrap();
    let dup = s
        .create_space(
            &space("k-sx", "k-w1", "handbook", Visibility::Workspace),
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::AlreadyExists(_)), "{dup:?}");
    let ghost = s
        .create_space(
            &space("k-sy", "k-w1", "ghosts", Visibility::Restricted),
            &[UserId::new("nobody")],
        )
        .await
        .unwrap_err();
    assert!(matches!(ghost, StoreError::NotFound(_)), "{ghost:?}");
    assert_eq!(
        s.get_space(&w1, &SpaceId::new("k-sy")).await.unwrap(),
        None,
        "nothing half-written"
    );
    assert_eq!(
        s.get_space(&w2, &SpaceId::new("k-s1")).await.unwrap(),
        None,
        "scoped to the workspace"
    );
    let by_slug = s
        .get_space_by_slug(&w2, &PathSlug::parse("slug", "handbook").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_slug.id, SpaceId::new("k-s3"));
    let listed: Vec<String> = s
        .list_spaces(&w1)
        .await
        .unwrap()
        .iter()
        .map(|x| x.slug.to_string())
        .collect();
    assert_eq!(listed, ["handbook", "secret"]);
    assert_eq!(
        s.space_members(&w1, &SpaceId::new("k-s2")).await.unwrap(),
        [UserId::new("k-alice")]
    );
    s.set_space_members(
        &w1,
        &SpaceId::new("k-s2"),
        &[UserId::new("k-bob"), UserId::new("k-alice")],
    )
    .await
    .unwrap();
    assert_eq!(
        s.space_members(&w1, &SpaceId::new("k-s2"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.member_spaces(&w1, &UserId::new("k-bob")).await.unwrap(),
        [SpaceId::new("k-s2")]
    );
    assert!(
        s.member_spaces(&w2, &UserId::new("k-bob"))
            .await
            .unwrap()
            .is_empty()
    );
    let mut changed = space("k-s1", "k-w1", "handbook", Visibility::Restricted);
    changed.name = "Handbook".into();
    s.update_space(&changed).await.unwrap();
    assert_eq!(
        s.get_space(&w1, &SpaceId::new("k-s1"))
            .await
            .unwrap()
            .unwrap()
            .visibility,
        Visibility::Restricted
    );
    changed.visibility = Visibility::Workspace;
    s.update_space(&changed).await.unwrap();

    // Pages.
    let root = page("k-p1", "k-w1", "k-s1", None, "intro", 0);
    s.create_page(&root, &first(&root), &rendered(&root), "job-1")
        .await
        .unwrap();
    let child = page("k-p2", "k-w1", "k-s1", Some("k-p1"), "setup", 0);
    s.create_page(&child, &first(&child), &rendered(&child), "job-2")
        .await
        .unwrap();
    let grandchild = page("k-p3", "k-w1", "k-s1", Some("k-p2"), "linux", 0);
    s.create_page(
        &grandchild,
        &first(&grandchild),
        &rendered(&grandchild),
        "job-3",
    )
    .await
    .unwrap();
    let same_slug_elsewhere = page("k-p4", "k-w1", "k-s1", Some("k-p1"), "intro", 1);
    s.create_page(
        &same_slug_elsewhere,
        &first(&same_slug_elsewhere),
        &rendered(&same_slug_elsewhere),
        "job-4",
    )
    .await
    .unwrap();
    let dup = page("k-p5", "k-w1", "k-s1", None, "intro", 1);
    let err = s
        .create_page(&dup, &first(&dup), &rendered(&dup), "job-5")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyExists(_)),
        "sibling slugs are unique: {err:?}"
    );
    let orphan = page("k-p6", "k-w1", "k-s1", Some("k-nope"), "orphan", 0);
    let err = s
        .create_page(&orphan, &first(&orphan), &rendered(&orphan), "job-6")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let cross = page("k-p7", "k-w1", "k-s2", Some("k-p1"), "cross", 0);
    let err = s
        .create_page(&cross, &first(&cross), &rendered(&cross), "job-7")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(_)),
        "a parent from another space: {err:?}"
    );
    let foreign = page("k-p8", "k-w2", "k-s1", None, "foreign", 0);
    let err = s
        .create_page(&foreign, &first(&foreign), &rendered(&foreign), "job-8")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(_)),
        "a space of another workspace: {err:?}"
    );
    let mut jobs = drain_jobs(s).await;
    jobs.sort();
    assert_eq!(
        jobs,
        ["k-p1", "k-p2", "k-p3", "k-p4"],
        "one index job per successful write, none for failures"
    );

    assert_eq!(
        s.get_page(&w1, &PageId::new("k-p1"))
            .await
            .unwrap()
            .unwrap(),
        root
    );
    assert_eq!(s.get_page(&w2, &PageId::new("k-p1")).await.unwrap(), None);
    assert_eq!(
        s.list_pages(&w1, &SpaceId::new("k-s1"))
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        s.list_pages(&w2, &SpaceId::new("k-s1"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.count_pages(&w1, &SpaceId::new("k-s1")).await.unwrap(), 4);
    assert_eq!(s.count_pages(&w2, &SpaceId::new("k-s1")).await.unwrap(), 0);
    // One level at a time, each page saying whether it has children.
    let children = |parents: Vec<Option<&str>>, ws: WorkspaceId| {
        let parents: Vec<Option<PageId>> = parents
            .into_iter()
            .map(|p| p.map(|p| PageId::new(p.to_owned())))
            .collect();
        async move {
            let mut found: Vec<(String, bool)> = s
                .list_children(&ws, &SpaceId::new("k-s1"), &parents)
                .await
                .unwrap()
                .into_iter()
                .map(|(p, n)| (p.id.to_string(), n))
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(
        children(vec![None], w1.clone()).await,
        [("k-p1".to_owned(), true)]
    );
    assert_eq!(
        children(vec![Some("k-p1")], w1.clone()).await,
        [("k-p2".to_owned(), true), ("k-p4".to_owned(), false)]
    );
    assert_eq!(
        children(vec![Some("k-p2"), Some("k-p4"), None], w1.clone()).await,
        [("k-p1".to_owned(), true), ("k-p3".to_owned(), false)]
    );
    assert!(
        children(vec![None, Some("k-p1")], w2.clone())
            .await
            .is_empty()
    );

    // Compare-and-set saves.
    let mut edit = root.clone();
    edit.title = "Introduction".into();
    edit.body = "New body".into();
    edit.revision = 2;
    edit.updated_at = Timestamp(20);
    let rev2 = Revision {
        revision: 2,
        title: edit.title.clone(),
        body: edit.body.clone(),
        note: "edited".into(),
        created_at: Timestamp(20),
        ..first(&root)
    };
    s.update_page(&edit, &rev2, &rendered(&edit), 1, "job-9")
        .await
        .unwrap();
    let stale = s
        .update_page(&edit, &rev2, &rendered(&edit), 1, "job-10")
        .await
        .unwrap_err();
    assert_eq!(
        stale,
        StoreError::Stale { current: 2 },
        "a save from revision 1 after revision 2 is refused"
    );
    let mut foreign_edit = edit.clone();
    foreign_edit.workspace_id = w2.clone();
    assert!(matches!(
        s.update_page(&foreign_edit, &rev2, &rendered(&foreign_edit), 2, "job-11")
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert_eq!(
        s.get_page(&w1, &PageId::new("k-p1"))
            .await
            .unwrap()
            .unwrap()
            .title,
        "Introduction"
    );
    assert_eq!(drain_jobs(s).await, ["k-p1"]);

    let revs = s
        .list_revisions(&w1, &PageId::new("k-p1"), None, 10)
        .await
        .unwrap();
    assert_eq!(
        revs.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
    assert_eq!(revs[0].author_login, "kalice");
    assert_eq!(revs[0].body_chars, 8);
    let older = s
        .list_revisions(&w1, &PageId::new("k-p1"), Some(2), 10)
        .await
        .unwrap();
    assert_eq!(older.iter().map(|r| r.revision).collect::<Vec<_>>(), [1]);
    assert_eq!(
        s.get_revision(&w1, &PageId::new("k-p1"), 1)
            .await
            .unwrap()
            .unwrap()
            .body,
        "Body of intro"
    );
    assert_eq!(
        s.get_revision(&w2, &PageId::new("k-p1"), 1).await.unwrap(),
        None
    );
    assert_eq!(
        s.get_revision(&w1, &PageId::new("k-p1"), 9).await.unwrap(),
        None
    );

    // Moves: never under itself or a descendant; sibling order as given.
    let cycle = s
        .move_page(
            &w1,
            &PageId::new("k-p1"),
            Some(&PageId::new("k-p3")),
            &[PageId::new("k-p1")],
        )
        .await
        .unwrap_err();
    assert!(matches!(cycle, StoreError::Refused(_)), "{cycle:?}");
    let clash = s
        .move_page(
            &w1,
            &PageId::new("k-p4"),
            None,
            &[PageId::new("k-p4"), PageId::new("k-p1")],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(clash, StoreError::AlreadyExists(_)),
        "a sibling has the slug: {clash:?}"
    );
    s.move_page(
        &w1,
        &PageId::new("k-p3"),
        None,
        &[PageId::new("k-p3"), PageId::new("k-p1")],
    )
    .await
    .unwrap();
    let moved = s
        .get_page(&w1, &PageId::new("k-p3"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.parent_id, moved.sort_order), (None, 0));
    assert_eq!(
        s.get_page(&w1, &PageId::new("k-p1"))
            .await
            .unwrap()
            .unwrap()
            .sort_order,
        1
    );
    assert!(matches!(
        s.move_page(&w2, &PageId::new("k-p3"), None, &[])
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));

    // Deleting: refused with children; then allowed, with an index job.
    let refused = s
        .delete_page(&w1, &PageId::new("k-p1"), "job-12")
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Refused(_)), "{refused:?}");
    s.delete_page(&w1, &PageId::new("k-p2"), "job-13")
        .await
        .unwrap();
    assert_eq!(s.get_page(&w1, &PageId::new("k-p2")).await.unwrap(), None);
    assert_eq!(
        s.get_revision(&w1, &PageId::new("k-p2"), 1).await.unwrap(),
        None,
        "revisions go with the page"
    );
    assert_eq!(drain_jobs(s).await, ["k-p2"]);

    // Reindexing walks every page of every workspace in id order.
    let other = page("k-p9", "k-w2", "k-s3", None, "other", 0);
    s.create_page(&other, &first(&other), &rendered(&other), "job-14")
        .await
        .unwrap();
    let mut all = Vec::new();
    let mut after: Option<PageId> = None;
    loop {
        let batch = s.pages_after(after.as_ref(), 2).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.id.clone());
        all.extend(batch.into_iter().map(|p| p.id.to_string()));
    }
    assert_eq!(all, ["k-p1", "k-p3", "k-p4", "k-p9"]);

    // Deleting a space removes its pages and queues their removal from the index.
    drain_jobs(s).await;
    let mut removed = s
        .delete_space(&w1, &SpaceId::new("k-s1"), "del")
        .await
        .unwrap();
    removed.sort();
    assert_eq!(
        removed,
        [
            PageId::new("k-p1"),
            PageId::new("k-p3"),
            PageId::new("k-p4")
        ]
    );
    let mut jobs = drain_jobs(s).await;
    jobs.sort();
    assert_eq!(jobs, ["k-p1", "k-p3", "k-p4"]);
    assert_eq!(s.get_space(&w1, &SpaceId::new("k-s1")).await.unwrap(), None);
    assert!(
        s.list_pages(&w1, &SpaceId::new("k-s1"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.get_page(&w2, &PageId::new("k-p9"))
            .await
            .unwrap()
            .is_some(),
        "other workspaces untouched"
    );

    // Deleting the workspace cascades to its spaces and pages.
    s.delete_workspace(&w2).await.unwrap();
    assert_eq!(s.get_page(&w2, &PageId::new("k-p9")).await.unwrap(), None);
    assert!(s.list_spaces(&w2).await.unwrap().is_empty());

    renders(s).await;
    saved_with_rendering(s).await;
    concurrent_moves(store.clone()).await;
}

/// The rendering a page is written with: of its revision, naming it in the HTML.
fn rendered(p: &Page) -> StoredRender {
    StoredRender {
        revision: p.revision,
        renderer: 1,
        html: format!("<p>{} at revision {}</p>", p.id, p.revision),
        headings: vec![(1, p.title.clone(), p.slug.to_string())],
    }
}

fn render(revision: i64, html: &str) -> StoredRender {
    StoredRender {
        revision,
        renderer: 1,
        html: html.into(),
        headings: vec![(2, "Setup \"quoted\" <b>".into(), "setup".into())],
    }
}

/// Stored renderings: kept per page, never of another workspace's page, never replaced by an
/// older revision's, gone with their page.
async fn renders(s: &dyn KnowledgeStore) {
    async fn stored(s: &dyn KnowledgeStore, ws: &WorkspaceId, id: &PageId) -> Option<StoredRender> {
        s.get_page_with_render(ws, id)
            .await
            .unwrap()
            .and_then(|(_, r)| r)
    }
    let w1 = WorkspaceId::new("k-w1");
    let w2 = WorkspaceId::new("k-w2");
    let id = PageId::new("k-pr");
    s.create_space(
        &space("k-sr", "k-w1", "renders", Visibility::Workspace),
        &[],
    )
    .await
    .unwrap();
    let p = page("k-pr", "k-w1", "k-sr", None, "rendered", 0);
    s.create_page(&p, &first(&p), &rendered(&p), "job-r1")
        .await
        .unwrap();
    assert_eq!(
        s.get_page_with_render(&w1, &id).await.unwrap(),
        Some((p.clone(), Some(rendered(&p)))),
        "a page is created with its rendering"
    );
    assert_eq!(
        s.get_page_with_render(&w2, &id).await.unwrap(),
        None,
        "not through another workspace"
    );

    s.put_render(&w1, &id, &render(1, "<p>one</p>"))
        .await
        .unwrap();
    assert_eq!(stored(s, &w1, &id).await, Some(render(1, "<p>one</p>")));
    assert_eq!(
        stored(s, &w2, &id).await,
        None,
        "not through another workspace"
    );
    s.put_render(&w2, &id, &render(9, "<p>intruder</p>"))
        .await
        .unwrap();
    assert_eq!(stored(s, &w1, &id).await, Some(render(1, "<p>one</p>")));

    s.put_render(&w1, &id, &render(3, "<p>three</p>"))
        .await
        .unwrap();
    s.put_render(&w1, &id, &render(2, "<p>two</p>"))
        .await
        .unwrap();
    assert_eq!(
        stored(s, &w1, &id).await,
        Some(render(3, "<p>three</p>")),
        "an older revision's rendering never replaces a newer one"
    );
    let mut again = render(3, "<p>three, by renderer 2</p>");
    again.renderer = 2;
    s.put_render(&w1, &id, &again).await.unwrap();
    assert_eq!(stored(s, &w1, &id).await, Some(again));

    let missing = PageId::new("k-nothing");
    s.put_render(&w1, &missing, &render(1, "<p>x</p>"))
        .await
        .unwrap();
    assert_eq!(stored(s, &w1, &missing).await, None);

    s.delete_page(&w1, &id, "job-r2").await.unwrap();
    assert_eq!(s.get_page_with_render(&w1, &id).await.unwrap(), None);
    drain_jobs(s).await;
}

/// A page is created and saved together with its rendering: a read finds the rendering of
/// the revision it reads, and a save that is refused writes neither the page nor the
/// rendering.
async fn saved_with_rendering(s: &dyn KnowledgeStore) {
    let w1 = WorkspaceId::new("k-w1");
    s.create_space(
        &space("k-st", "k-w1", "together", Visibility::Workspace),
        &[],
    )
    .await
    .unwrap();
    let p = page("k-pt", "k-w1", "k-st", None, "together", 0);
    s.create_page(&p, &first(&p), &rendered(&p), "job-t1")
        .await
        .unwrap();
    let sibling = page("k-pt2", "k-w1", "k-st", None, "taken", 1);
    s.create_page(&sibling, &first(&sibling), &rendered(&sibling), "job-t2")
        .await
        .unwrap();

    let mut edit = p.clone();
    edit.body = "Second body".into();
    edit.revision = 2;
    edit.updated_at = Timestamp(30);
    let rev2 = Revision {
        revision: 2,
        body: edit.body.clone(),
        created_at: Timestamp(30),
        note: "edited".into(),
        ..first(&p)
    };
    s.update_page(&edit, &rev2, &rendered(&edit), 1, "job-t3")
        .await
        .unwrap();
    let (read, render) = s.get_page_with_render(&w1, &p.id).await.unwrap().unwrap();
    assert_eq!((read.revision, read.body.as_str()), (2, "Second body"));
    assert_eq!(
        render,
        Some(rendered(&edit)),
        "the save wrote revision 2's rendering with it"
    );

    // Refused saves leave page and rendering as they were.
    let mut late = edit.clone();
    late.body = "Lost edit".into();
    late.revision = 3;
    let rev3 = Revision {
        revision: 3,
        body: late.body.clone(),
        ..rev2.clone()
    };
    let mut late_render = rendered(&late);
    late_render.html = "<p>must not be stored</p>".into();
    assert_eq!(
        s.update_page(&late, &rev3, &late_render, 1, "job-t4")
            .await
            .unwrap_err(),
        StoreError::Stale { current: 2 }
    );
    let mut clash = late.clone();
    clash.slug = PathSlug::parse("slug", "taken").unwrap();
    assert!(matches!(
        s.update_page(&clash, &rev3, &late_render, 2, "job-t5")
            .await
            .unwrap_err(),
        StoreError::AlreadyExists(_)
    ));
    let (read, render) = s.get_page_with_render(&w1, &p.id).await.unwrap().unwrap();
    assert_eq!((read.revision, read.body.as_str()), (2, "Second body"));
    assert_eq!(
        render,
        Some(rendered(&edit)),
        "no rendering of a refused save"
    );
    assert!(
        s.get_revision(&w1, &p.id, 3).await.unwrap().is_none(),
        "no revision of a refused save"
    );

    s.delete_page(&w1, &p.id, "job-t6").await.unwrap();
    s.delete_page(&w1, &sibling.id, "job-t7").await.unwrap();
    drain_jobs(s).await;
}

/// Two pages moved under each other at the same moment: at most one move may win.
async fn concurrent_moves<S: KnowledgeStore + WorkspaceStore + UserStore>(s: Arc<S>) {
    let w1 = WorkspaceId::new("k-w1");
    s.create_space(&space("k-race", "k-w1", "race", Visibility::Workspace), &[])
        .await
        .unwrap();
    for round in 0..5 {
        let (a, b) = (format!("k-ra{round}"), format!("k-rb{round}"));
        for (id, slug) in [(&a, format!("a{round}")), (&b, format!("b{round}"))] {
            let p = page(id, "k-w1", "k-race", None, &slug, 0);
            s.create_page(&p, &first(&p), &rendered(&p), &format!("job-{id}"))
                .await
                .unwrap();
        }
        let (s1, s2) = (s.clone(), s.clone());
        let (w_a, w_b) = (w1.clone(), w1.clone());
        let (pa, pb) = (PageId::new(&a), PageId::new(&b));
        let (pa2, pb2) = (pa.clone(), pb.clone());
        let m1 = tokio::spawn(async move {
            s1.move_page(&w_a, &pa, Some(&pb), std::slice::from_ref(&pa))
                .await
        });
        let m2 = tokio::spawn(async move {
            s2.move_page(&w_b, &pb2, Some(&pa2), std::slice::from_ref(&pb2))
                .await
        });
        let results = [m1.await.unwrap(), m2.await.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        let pa = s.get_page(&w1, &PageId::new(&a)).await.unwrap().unwrap();
        let pb = s.get_page(&w1, &PageId::new(&b)).await.unwrap().unwrap();
        assert!(
            pa.parent_id.is_none() || pb.parent_id.is_none(),
            "round {round}: no cycle"
        );
    }
}
