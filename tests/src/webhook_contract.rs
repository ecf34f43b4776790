//! The contract every `WebhookStore` keeps. Call [`run`] on a fresh, migrated store that
//! also implements the workspace and user stores: secrets are kept sealed byte for byte and
//! found by connection id; a delivery is recorded once; refreshes come out oldest first
//! and stop coming once completed; a workspace's removal takes its rows along.

use orbit_core::{Membership, Role, Timestamp, User, UserId, Workspace, WorkspaceId};
use orbit_ports::{
    SealedSecret, StoreError, UserStore, WebhookDelivery, WebhookStore, WorkspaceStore,
};
use std::sync::Arc;

async fn setup<S: WorkspaceStore + UserStore>(s: &S) {
    s.create_user(&User {
        id: UserId::new("wh-alice"),
        login: orbit_core::Login::parse("whalice").unwrap(),
        display_name: "Alice".into(),
        email: String::new(),
        instance_admin: false,
        created_at: Timestamp(1),
    })
    .await
    .unwrap();
    for (id, slug) in [("wh-w1", "wh-one"), ("wh-w2", "wh-two")] {
        let ws = Workspace::new(WorkspaceId::new(id), slug, slug, "", Timestamp(1)).unwrap();
        let owner = Membership {
            workspace_id: ws.id.clone(),
            user_id: UserId::new("wh-alice"),
            role: Role::Owner,
            created_at: Timestamp(1),
        };
        s.create_workspace(&ws, &owner).await.unwrap();
    }
}

fn delivery(ws: &str, id: &str, at: i64, pending: bool) -> WebhookDelivery {
    WebhookDelivery {
        workspace_id: WorkspaceId::new(ws),
        connection_id: "c1".into(),
        delivery_id: id.into(),
        repository_id: "r1".into(),
        git_ref: "refs/heads/main".into(),
        head_commit: "0123abcd".into(),
        default_branch: "main".into(),
        catalog_touched: true,
        refresh_pending: pending,
        received_at: at,
    }
}

pub async fn run<S>(store: Arc<S>)
where
    S: WorkspaceStore + UserStore + WebhookStore,
{
    let s = &*store;
    setup(s).await;
    let w1 = WorkspaceId::new("wh-w1");
    let w2 = WorkspaceId::new("wh-w2");

    // Secrets: kept byte for byte, found by connection id, replaced on regeneration.
    assert_eq!(s.webhook_secret("c1").await.unwrap(), None);
    let sealed = SealedSecret {
        key_id: "k1".into(),
        ciphertext: "bm9uY2U=.Y2lwaGVy+/==".into(),
    };
    s.put_webhook_secret(&w1, "c1", &sealed, 10).await.unwrap();
    assert_eq!(
        s.webhook_secret("c1").await.unwrap(),
        Some((w1.clone(), sealed.clone()))
    );
    let again = SealedSecret {
        key_id: "k2".into(),
        ciphertext: "c2Vjb25k".into(),
    };
    s.put_webhook_secret(&w1, "c1", &again, 11).await.unwrap();
    assert_eq!(
        s.webhook_secret("c1").await.unwrap(),
        Some((w1.clone(), again.clone()))
    );
    // Another workspace cannot take over a connection's secret.
    s.put_webhook_secret(&w2, "c1", &sealed, 12).await.unwrap();
    assert_eq!(
        s.webhook_secret("c1").await.unwrap(),
        Some((w1.clone(), again.clone())),
        "a secret stays with its workspace"
    );
    // Rotation: all secrets listed; a replacement applies only over the value it read.
    assert_eq!(
        s.all_webhook_secrets().await.unwrap(),
        vec![(w1.clone(), "c1".to_owned(), again.clone())]
    );
    assert!(matches!(
        s.replace_webhook_secrets(&[("c1".into(), sealed.clone(), sealed.clone())])
            .await,
        Err(StoreError::Stale { .. })
    ));
    assert_eq!(
        s.webhook_secret("c1").await.unwrap(),
        Some((w1.clone(), again.clone()))
    );
    s.replace_webhook_secrets(&[("c1".into(), again.clone(), sealed.clone())])
        .await
        .unwrap();
    assert_eq!(
        s.webhook_secret("c1").await.unwrap(),
        Some((w1.clone(), sealed.clone()))
    );
    let gone = WorkspaceId::new("wh-nope");
    assert!(matches!(
        s.put_webhook_secret(&gone, "c9", &sealed, 1).await,
        Err(StoreError::NotFound(_))
    ));

    // Deliveries: recorded once.
    assert!(
        s.record_delivery(&delivery("wh-w1", "d2", 20, true))
            .await
            .unwrap()
    );
    assert!(
        s.record_delivery(&delivery("wh-w1", "d1", 10, true))
            .await
            .unwrap()
    );
    assert!(
        s.record_delivery(&delivery("wh-w1", "d3", 30, false))
            .await
            .unwrap()
    );
    let mut changed = delivery("wh-w1", "d1", 99, false);
    changed.head_commit = "ffff".into();
    assert!(
        !s.record_delivery(&changed).await.unwrap(),
        "a redelivery is refused"
    );
    // The same id in another workspace is another delivery.
    assert!(
        s.record_delivery(&delivery("wh-w2", "d1", 40, true))
            .await
            .unwrap()
    );

    // Pending refreshes, oldest first; the redelivery changed nothing.
    let pending = s.pending_refreshes(10).await.unwrap();
    let ids: Vec<(&str, &str)> = pending
        .iter()
        .map(|d| (d.workspace_id.as_str(), d.delivery_id.as_str()))
        .collect();
    assert_eq!(ids, vec![("wh-w1", "d1"), ("wh-w1", "d2"), ("wh-w2", "d1")]);
    assert_eq!(pending[0], delivery("wh-w1", "d1", 10, true));
    assert_eq!(s.pending_refreshes(1).await.unwrap().len(), 1);

    s.complete_refresh(&w1, "c1", "d1").await.unwrap();
    let ids: Vec<String> = s
        .pending_refreshes(10)
        .await
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}", d.workspace_id, d.delivery_id))
        .collect();
    assert_eq!(ids, vec!["wh-w1/d2", "wh-w2/d1"]);
    // Completing an unknown delivery is harmless.
    s.complete_refresh(&w1, "c1", "nope").await.unwrap();

    // Deleting a workspace takes its secrets and deliveries along.
    s.delete_workspace(&w1).await.unwrap();
    assert_eq!(s.webhook_secret("c1").await.unwrap(), None);
    let ids: Vec<String> = s
        .pending_refreshes(10)
        .await
        .unwrap()
        .iter()
        .map(|d| format!("{}/{}", d.workspace_id, d.delivery_id))
        .collect();
    assert_eq!(ids, vec!["wh-w2/d1"]);
}
