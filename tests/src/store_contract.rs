//! The contract every store implementation keeps. Each adapter's test calls [`run`] on a
//! fresh, migrated, empty store.

use orbit_core::{
    ApiToken, Membership, PageRequest, Role, Slug, Timestamp, TokenId, User, UserId, Workspace,
    WorkspaceId,
};
use orbit_ports::{StoreError, TokenHash, UserStore, WorkspaceStore};
use std::sync::Arc;

fn user(id: &str, login: &str) -> User {
    User {
        id: UserId::new(id),
        login: orbit_core::Login::parse(login).unwrap(),
        display_name: format!("{login} display"),
        email: format!("{login}@example.test"),
        instance_admin: false,
        created_at: Timestamp(1_700_000_000_000),
    }
}

fn workspace(id: &str, slug: &str) -> Workspace {
    Workspace::new(
        WorkspaceId::new(id),
        slug,
        &format!("{slug} name"),
        "about",
        Timestamp(1_700_000_000_000),
    )
    .unwrap()
}

fn membership(ws: &str, user: &str, role: Role) -> Membership {
    Membership {
        workspace_id: WorkspaceId::new(ws),
        user_id: UserId::new(user),
        role,
        created_at: Timestamp(1_700_000_000_001),
    }
}

fn token(id: &str, user: &str, created: i64) -> ApiToken {
    ApiToken {
        id: TokenId::new(id),
        user_id: UserId::new(user),
        name: format!("token {id}"),
        prefix: "orbit_abc".into(),
        created_at: Timestamp(created),
        expires_at: Some(Timestamp(created + 1000)),
        last_used_at: None,
        revoked_at: None,
    }
}

fn page(limit: u32, after: Option<&str>) -> PageRequest {
    PageRequest {
        limit,
        after: after.map(str::to_owned),
    }
}

/// Runs every part of the contract against one store.
pub async fn run<S>(store: Arc<S>)
where
    S: WorkspaceStore + UserStore,
{
    users(&*store).await;
    tokens(&*store).await;
    workspaces(&*store).await;
    members(&*store).await;
    delete_cascades(&*store).await;
    concurrent_owner_changes(store.clone()).await;
    store.ping().await.unwrap();
    assert_eq!(
        store.instance_id("first").await.unwrap(),
        "first",
        "the first candidate becomes the id"
    );
    assert_eq!(
        store.instance_id("second").await.unwrap(),
        "first",
        "and stays"
    );
}

async fn users(s: &dyn UserStore) {
    assert_eq!(s.count_users().await.unwrap(), 0, "the store starts empty");
    for (id, login) in [("u-carol", "carol"), ("u-alice", "alice"), ("u-bob", "bob")] {
        s.create_user(&user(id, login)).await.unwrap();
    }
    let dup = s.create_user(&user("u-other", "alice")).await.unwrap_err();
    assert!(
        matches!(dup, StoreError::AlreadyExists(_)),
        "duplicate login: {dup:?}"
    );
    assert_eq!(s.count_users().await.unwrap(), 3);

    let alice = s.get_user(&UserId::new("u-alice")).await.unwrap().unwrap();
    assert_eq!(
        alice,
        user("u-alice", "alice"),
        "a user reads back exactly as written"
    );
    assert_eq!(
        s.get_user_by_login("bob").await.unwrap().unwrap().id,
        UserId::new("u-bob")
    );
    assert_eq!(s.get_user_by_login("nobody").await.unwrap(), None);
    assert_eq!(s.get_user(&UserId::new("u-nobody")).await.unwrap(), None);

    let first = s.list_users(&page(2, None)).await.unwrap();
    let logins: Vec<&str> = first.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(
        logins,
        ["alice", "bob", "carol"],
        "ordered by login; limit + 1 rows"
    );
    let rest = s.list_users(&page(2, Some("bob"))).await.unwrap();
    assert_eq!(
        rest.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(),
        ["carol"],
        "starts after the cursor"
    );
}

async fn tokens(s: &dyn UserStore) {
    let h1 = TokenHash("h1".into());
    s.create_token(&token("t1", "u-alice", 10), &h1)
        .await
        .unwrap();
    s.create_token(&token("t2", "u-alice", 20), &TokenHash("h2".into()))
        .await
        .unwrap();
    s.create_token(&token("t3", "u-bob", 30), &TokenHash("h3".into()))
        .await
        .unwrap();
    let dup = s
        .create_token(&token("t4", "u-bob", 40), &h1)
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::AlreadyExists(_)),
        "a known hash: {dup:?}"
    );
    let orphan = s
        .create_token(&token("t5", "u-ghost", 40), &TokenHash("h5".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(orphan, StoreError::NotFound(_)),
        "a token of a missing user: {orphan:?}"
    );

    let (t, u) = s.find_token(&h1).await.unwrap().unwrap();
    assert_eq!(t, token("t1", "u-alice", 10));
    assert_eq!(u.login.as_str(), "alice");
    assert_eq!(s.find_token(&TokenHash("nope".into())).await.unwrap(), None);

    let list = s.list_tokens(&UserId::new("u-alice")).await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["t2", "t1"],
        "newest first, own only"
    );

    s.touch_token(&TokenId::new("t1"), Timestamp(77))
        .await
        .unwrap();
    assert_eq!(
        s.find_token(&h1).await.unwrap().unwrap().0.last_used_at,
        Some(Timestamp(77))
    );

    let foreign = s
        .revoke_token(&UserId::new("u-bob"), &TokenId::new("t1"), Timestamp(90))
        .await
        .unwrap_err();
    assert!(
        matches!(foreign, StoreError::NotFound(_)),
        "nobody revokes another user's token: {foreign:?}"
    );
    assert_eq!(
        s.revoke_token(&UserId::new("u-alice"), &TokenId::new("t1"), Timestamp(90))
            .await
            .unwrap(),
        h1
    );
    let again = s
        .revoke_token(&UserId::new("u-alice"), &TokenId::new("t1"), Timestamp(91))
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::NotFound(_)),
        "revoking twice: {again:?}"
    );
    let (t, _) = s.find_token(&h1).await.unwrap().unwrap();
    assert_eq!(
        t.revoked_at,
        Some(Timestamp(90)),
        "the first revocation time stays"
    );
}

async fn workspaces(s: &dyn WorkspaceStore) {
    let ws_a = workspace("w-a", "alpha");
    s.create_workspace(&ws_a, &membership("w-a", "u-alice", Role::Owner))
        .await
        .unwrap();
    s.create_workspace(
        &workspace("w-b", "beta"),
        &membership("w-b", "u-alice", Role::Owner),
    )
    .await
    .unwrap();
    s.create_workspace(
        &workspace("w-c", "gamma"),
        &membership("w-c", "u-bob", Role::Owner),
    )
    .await
    .unwrap();

    let dup = s
        .create_workspace(
            &workspace("w-dup", "alpha"),
            &membership("w-dup", "u-bob", Role::Owner),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::AlreadyExists(_)),
        "duplicate slug: {dup:?}"
    );
    assert_eq!(
        s.get_workspace(&WorkspaceId::new("w-dup")).await.unwrap(),
        None,
        "nothing half-written"
    );
    assert_eq!(
        s.get_role(&WorkspaceId::new("w-dup"), &UserId::new("u-bob"))
            .await
            .unwrap(),
        None
    );

    let orphan = s
        .create_workspace(
            &workspace("w-orphan", "orphan"),
            &membership("w-orphan", "u-ghost", Role::Owner),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(orphan, StoreError::NotFound(_)),
        "owner must exist: {orphan:?}"
    );
    assert_eq!(
        s.get_workspace_by_slug(&Slug::parse("orphan").unwrap())
            .await
            .unwrap(),
        None,
        "the workspace row is rolled back with the failed membership"
    );

    assert_eq!(
        s.get_workspace(&WorkspaceId::new("w-a"))
            .await
            .unwrap()
            .unwrap(),
        ws_a
    );
    assert_eq!(
        s.get_workspace_by_slug(&Slug::parse("beta").unwrap())
            .await
            .unwrap()
            .unwrap()
            .id,
        WorkspaceId::new("w-b")
    );

    let mut changed = ws_a.clone();
    changed.name = "Alpha renamed".into();
    changed.description = String::new();
    changed.updated_at = Timestamp(1_800_000_000_000);
    s.update_workspace(&changed).await.unwrap();
    assert_eq!(
        s.get_workspace(&WorkspaceId::new("w-a"))
            .await
            .unwrap()
            .unwrap(),
        changed
    );
    let missing = s
        .update_workspace(&workspace("w-missing", "missing"))
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");

    let alice = UserId::new("u-alice");
    let rows = s
        .list_workspaces_for_user(&alice, &page(10, None))
        .await
        .unwrap();
    let slugs: Vec<(&str, Role)> = rows.iter().map(|(w, r)| (w.slug.as_str(), *r)).collect();
    assert_eq!(
        slugs,
        [("alpha", Role::Owner), ("beta", Role::Owner)],
        "only alice's, ordered by slug"
    );
    let rows = s
        .list_workspaces_for_user(&alice, &page(1, Some("alpha")))
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|(w, _)| w.slug.as_str())
            .collect::<Vec<_>>(),
        ["beta"]
    );
    let carol = s
        .list_workspaces_for_user(&UserId::new("u-carol"), &page(10, None))
        .await
        .unwrap();
    assert!(
        carol.is_empty(),
        "a user sees no workspace they are not a member of"
    );
}

async fn members(s: &dyn WorkspaceStore) {
    let ws = WorkspaceId::new("w-a");
    s.add_member(&membership("w-a", "u-carol", Role::Viewer))
        .await
        .unwrap();
    s.add_member(&membership("w-a", "u-bob", Role::Member))
        .await
        .unwrap();
    let dup = s
        .add_member(&membership("w-a", "u-bob", Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::AlreadyExists(_)), "{dup:?}");
    let no_ws = s
        .add_member(&membership("w-nope", "u-bob", Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(no_ws, StoreError::NotFound(_)), "{no_ws:?}");
    let no_user = s
        .add_member(&membership("w-a", "u-ghost", Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(no_user, StoreError::NotFound(_)), "{no_user:?}");

    assert_eq!(
        s.get_role(&ws, &UserId::new("u-bob")).await.unwrap(),
        Some(Role::Member)
    );
    let bob = s
        .get_member(&ws, &UserId::new("u-bob"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            bob.login.as_str(),
            bob.display_name.as_str(),
            bob.membership.role
        ),
        ("bob", "bob display", Role::Member)
    );
    assert_eq!(
        s.get_member(&ws, &UserId::new("u-nobody")).await.unwrap(),
        None
    );

    let all = s.list_members(&ws, &page(10, None)).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.login.as_str()).collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    let after = s.list_members(&ws, &page(1, Some("alice"))).await.unwrap();
    assert_eq!(
        after.iter().map(|m| m.login.as_str()).collect::<Vec<_>>(),
        ["bob", "carol"],
        "limit + 1 after the cursor"
    );
    let other = s
        .list_members(&WorkspaceId::new("w-c"), &page(10, None))
        .await
        .unwrap();
    assert_eq!(
        other.iter().map(|m| m.login.as_str()).collect::<Vec<_>>(),
        ["bob"],
        "members of one workspace only"
    );

    s.set_member_role(&ws, &UserId::new("u-bob"), Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        s.get_role(&ws, &UserId::new("u-bob")).await.unwrap(),
        Some(Role::Admin)
    );
    let last = s
        .set_member_role(&ws, &UserId::new("u-alice"), Role::Admin)
        .await
        .unwrap_err();
    assert_eq!(
        last,
        StoreError::LastOwner,
        "the last owner cannot be demoted"
    );
    let last = s
        .remove_member(&ws, &UserId::new("u-alice"))
        .await
        .unwrap_err();
    assert_eq!(
        last,
        StoreError::LastOwner,
        "the last owner cannot be removed"
    );
    assert_eq!(
        s.get_role(&ws, &UserId::new("u-alice")).await.unwrap(),
        Some(Role::Owner)
    );

    s.set_member_role(&ws, &UserId::new("u-bob"), Role::Owner)
        .await
        .unwrap();
    s.set_member_role(&ws, &UserId::new("u-alice"), Role::Member)
        .await
        .unwrap();
    assert_eq!(
        s.set_member_role(&ws, &UserId::new("u-bob"), Role::Viewer)
            .await
            .unwrap_err(),
        StoreError::LastOwner
    );
    let missing = s
        .set_member_role(&ws, &UserId::new("u-nobody"), Role::Viewer)
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing:?}");

    s.remove_member(&ws, &UserId::new("u-carol")).await.unwrap();
    assert_eq!(
        s.get_role(&ws, &UserId::new("u-carol")).await.unwrap(),
        None
    );
    let again = s
        .remove_member(&ws, &UserId::new("u-carol"))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::NotFound(_)), "{again:?}");
}

async fn delete_cascades(s: &dyn WorkspaceStore) {
    let ws = WorkspaceId::new("w-b");
    s.add_member(&membership("w-b", "u-carol", Role::Member))
        .await
        .unwrap();
    let mut removed = s.delete_workspace(&ws).await.unwrap();
    removed.sort();
    assert_eq!(
        removed,
        [UserId::new("u-alice"), UserId::new("u-carol")],
        "returns who was a member"
    );
    assert_eq!(s.get_workspace(&ws).await.unwrap(), None);
    assert_eq!(
        s.get_workspace_by_slug(&Slug::parse("beta").unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_role(&ws, &UserId::new("u-carol")).await.unwrap(),
        None,
        "no orphaned membership"
    );
    assert!(
        s.list_members(&ws, &page(10, None))
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.delete_workspace(&ws).await.unwrap_err();
    assert!(matches!(again, StoreError::NotFound(_)), "{again:?}");
    assert!(
        s.get_workspace(&WorkspaceId::new("w-a"))
            .await
            .unwrap()
            .is_some(),
        "other workspaces stay"
    );
    // The slug is free again.
    s.create_workspace(
        &workspace("w-b2", "beta"),
        &membership("w-b2", "u-carol", Role::Owner),
    )
    .await
    .unwrap();
}

/// Two owners each demote the other at the same moment: exactly one may win.
async fn concurrent_owner_changes<S: WorkspaceStore + UserStore>(s: Arc<S>) {
    for round in 0..5 {
        let id = format!("w-race-{round}");
        s.create_workspace(
            &workspace(&id, &format!("race-{round}")),
            &membership(&id, "u-alice", Role::Owner),
        )
        .await
        .unwrap();
        s.add_member(&membership(&id, "u-bob", Role::Owner))
            .await
            .unwrap();
        let ws = WorkspaceId::new(&id);
        let (a, b) = (s.clone(), s.clone());
        let (w1, w2) = (ws.clone(), ws.clone());
        let demote = tokio::spawn(async move {
            a.set_member_role(&w1, &UserId::new("u-alice"), Role::Member)
                .await
        });
        let remove = tokio::spawn(async move { b.remove_member(&w2, &UserId::new("u-bob")).await });
        let results = [demote.await.unwrap(), remove.await.unwrap()];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            ok, 1,
            "exactly one change wins, the other sees LastOwner: {results:?}"
        );
        assert!(results.iter().any(|r| r == &Err(StoreError::LastOwner)));
        let owners = s
            .list_members(&ws, &page(10, None))
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.membership.role == Role::Owner)
            .count();
        assert_eq!(owners, 1, "round {round}: one owner remains");
    }
}
