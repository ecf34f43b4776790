//! The contract every `Cache` implementation keeps.

use orbit_ports::Cache;
use std::time::Duration;

/// Runs the whole cache contract. `prefix` keeps concurrent runs apart.
pub async fn run(cache: &dyn Cache, prefix: &str) {
    let k = |s: &str| format!("{prefix}{s}");
    assert_eq!(
        cache.get(&k("absent")).await.unwrap(),
        None,
        "a missing key is a miss"
    );

    cache
        .set(&k("a"), b"one", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        cache.get(&k("a")).await.unwrap().as_deref(),
        Some(&b"one"[..])
    );

    cache
        .set(&k("a"), b"two", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        cache.get(&k("a")).await.unwrap().as_deref(),
        Some(&b"two"[..]),
        "set overwrites"
    );

    cache
        .set(&k("b"), &[0, 255, 1], Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        cache.get(&k("b")).await.unwrap().as_deref(),
        Some(&[0u8, 255, 1][..]),
        "values are bytes"
    );

    cache
        .delete(&[k("a"), k("b"), k("never-set")])
        .await
        .unwrap();
    assert_eq!(cache.get(&k("a")).await.unwrap(), None, "delete removes");
    assert_eq!(cache.get(&k("b")).await.unwrap(), None);
    cache.delete(&[]).await.unwrap();

    cache
        .set(&k("short"), b"x", Duration::from_millis(50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        cache.get(&k("short")).await.unwrap(),
        None,
        "entries expire after their TTL"
    );
}
