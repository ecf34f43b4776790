//! The contract every `GitHostConnectionStore` keeps. Call [`run`] on a fresh, migrated
//! store that also implements the workspace and user stores, with a real cipher: the store
//! must keep sealed tokens byte for byte, never anything in clear, and rotate atomically.

use orbit_core::{
    GitHostConnection, GitProvider, Membership, Role, Secret, Timestamp, User, UserId, Workspace,
    WorkspaceId,
};
use orbit_ports::{GitHostConnectionStore, SecretCipher, StoreError, UserStore, WorkspaceStore};
use std::sync::Arc;

fn conn(ws: &str, id: &str, name: &str) -> GitHostConnection {
    GitHostConnection {
        id: id.into(),
        workspace_id: WorkspaceId::new(ws),
        name: name.into(),
        provider: GitProvider::GitHub,
        base_url: "https://api.github.com".into(),
        namespace: "acme".into(),
        token_set: true,
        token_last4: "WXYZ".into(),
        created_at: Timestamp(5),
        updated_at: Timestamp(5),
    }
}

async fn setup<S: WorkspaceStore + UserStore>(s: &S) {
    s.create_user(&User {
        id: UserId::new("g-alice"),
        login: orbit_core::Login::parse("galice").unwrap(),
        display_name: "Alice".into(),
        email: String::new(),
        instance_admin: false,
        created_at: Timestamp(1),
    })
    .await
    .unwrap();
    for (id, slug) in [("g-w1", "gw-one"), ("g-w2", "gw-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: UserId::new("g-alice"),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
}

pub async fn run<S>(store: Arc<S>, cipher: Arc<dyn SecretCipher>, next: Arc<dyn SecretCipher>)
where
    S: WorkspaceStore + UserStore + GitHostConnectionStore,
{
    let s = &*store;
    setup(s).await;
    let w1 = WorkspaceId::new("g-w1");
    let w2 = WorkspaceId::new("g-w2");
    let token = Secret::new("ghp_ContractTokenValueWXYZ");
    let sealed = cipher.seal(&token, "g-w1/c1").unwrap();

    // Insert and read back: the sealed value unchanged, the token nowhere in clear.
    s.insert_git_connection(&conn("g-w1", "c1", "github-acme"), Some(&sealed))
        .await
        .unwrap();
    let (got, got_sealed) = s.get_git_connection(&w1, "c1").await.unwrap().unwrap();
    assert_eq!(got, conn("g-w1", "c1", "github-acme"));
    assert_eq!(got_sealed.as_ref(), Some(&sealed));
    assert_eq!(cipher.open(&sealed, "g-w1/c1").unwrap(), token);
    assert!(!format!("{got:?}{got_sealed:?}").contains(token.expose()));

    // Names are unique per workspace; the same name in another workspace is fine.
    let dup = s
        .insert_git_connection(&conn("g-w1", "c2", "github-acme"), None)
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::AlreadyExists(_)), "{dup:?}");
    let mut no_token = conn("g-w2", "c2", "github-acme");
    no_token.token_set = false;
    no_token.token_last4 = String::new();
    s.insert_git_connection(&no_token, None).await.unwrap();
    let (other, none) = s.get_git_connection(&w2, "c2").await.unwrap().unwrap();
    assert!(!other.token_set);
    assert!(none.is_none());
    // A connection of workspace 1 is invisible from workspace 2.
    assert!(s.get_git_connection(&w2, "c1").await.unwrap().is_none());
    assert!(!s.delete_git_connection(&w2, "c1").await.unwrap());

    // Lists are scoped and ordered by name.
    s.insert_git_connection(&conn("g-w1", "c3", "a-gitlab"), None)
        .await
        .unwrap();
    let names: Vec<String> = s
        .list_git_connections(&w1)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["a-gitlab", "github-acme"]);
    assert_eq!(s.list_git_connections(&w2).await.unwrap().len(), 1);

    // Update without a token keeps the sealed token; with one replaces it.
    let mut changed = got.clone();
    changed.namespace = "acme-platform".into();
    changed.updated_at = Timestamp(9);
    s.update_git_connection(&changed, None).await.unwrap();
    let (after, kept) = s.get_git_connection(&w1, "c1").await.unwrap().unwrap();
    assert_eq!(after.namespace, "acme-platform");
    assert_eq!(after.updated_at, Timestamp(9));
    assert_eq!(kept.as_ref(), Some(&sealed));
    let new_token = Secret::new("ghp_RotatedTokenValue1234");
    let resealed = cipher.seal(&new_token, "g-w1/c1").unwrap();
    changed.token_last4 = "1234".into();
    s.update_git_connection(&changed, Some(&resealed))
        .await
        .unwrap();
    let (after, replaced) = s.get_git_connection(&w1, "c1").await.unwrap().unwrap();
    assert_eq!(after.token_last4, "1234");
    assert_eq!(replaced.as_ref(), Some(&resealed));
    // Renaming onto another connection's name clashes; a missing row is NotFound.
    let mut clash = changed.clone();
    clash.name = "a-gitlab".into();
    assert!(matches!(
        s.update_git_connection(&clash, None).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let mut missing = changed.clone();
    missing.id = "nope".into();
    assert!(matches!(
        s.update_git_connection(&missing, None).await,
        Err(StoreError::NotFound(_))
    ));
    let mut foreign = changed.clone();
    foreign.workspace_id = w2.clone();
    assert!(matches!(
        s.update_git_connection(&foreign, None).await,
        Err(StoreError::NotFound(_))
    ));

    // Rotation: every sealed token, re-sealed with the next key in one transaction.
    let all = s.all_git_secrets().await.unwrap();
    assert_eq!(all, vec![(w1.clone(), "c1".to_owned(), resealed.clone())]);
    let changes: Vec<_> = all
        .iter()
        .map(|(ws, id, old)| {
            let ctx = format!("{ws}/{id}");
            let plain = cipher.open(old, &ctx).unwrap();
            (
                ws.clone(),
                id.clone(),
                old.clone(),
                next.seal(&plain, &ctx).unwrap(),
            )
        })
        .collect();
    // A batch with one stale entry changes nothing.
    let mut stale = changes.clone();
    stale.push((
        w2.clone(),
        "c2".to_owned(),
        sealed.clone(),
        next.seal(&token, "g-w2/c2").unwrap(),
    ));
    assert!(matches!(
        s.replace_git_secrets(&stale).await,
        Err(StoreError::Stale { .. })
    ));
    assert_eq!(
        s.get_git_connection(&w1, "c1").await.unwrap().unwrap().1,
        Some(resealed.clone())
    );
    s.replace_git_secrets(&changes).await.unwrap();
    let (_, rotated) = s.get_git_connection(&w1, "c1").await.unwrap().unwrap();
    let rotated = rotated.unwrap();
    assert_eq!(rotated.key_id, next.current_key_id());
    assert_ne!(rotated.key_id, cipher.current_key_id());
    assert_eq!(next.open(&rotated, "g-w1/c1").unwrap(), new_token);

    // Delete; deleting a workspace deletes its connections.
    assert!(s.delete_git_connection(&w1, "c3").await.unwrap());
    assert!(!s.delete_git_connection(&w1, "c3").await.unwrap());
    s.delete_workspace(&w1).await.unwrap();
    assert!(s.get_git_connection(&w1, "c1").await.unwrap().is_none());
    assert_eq!(s.all_git_secrets().await.unwrap().len(), 0);
    assert_eq!(s.list_git_connections(&w2).await.unwrap().len(), 1);
}
