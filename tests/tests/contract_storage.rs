//! The object storage contract against every adapter: the filesystem (embedded default) and
//! S3 on a real MinIO server.

use orbit_ports::ObjectStore;
use orbit_tests::storage_contract;

#[tokio::test]
async fn filesystem_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = orbit_storage::FilesystemStore::open(dir.path()).unwrap();
    assert_eq!(store.name(), "filesystem");
    storage_contract::run(&store, "", false).await;
    // Nothing was written outside the store's directory, and no temporary file is left.
    let tmp: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
    storage_contract::run(&store, "nested/prefix/", false).await;
}

#[tokio::test]
async fn filesystem_store_keeps_keys_inside_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = orbit_storage::FilesystemStore::open(&root).unwrap();
    for key in ["../outside.txt", "a/../../outside.txt", "/tmp/outside.txt"] {
        assert!(
            store
                .put_bytes(key, bytes::Bytes::from_static(b"x"))
                .await
                .is_err()
        );
    }
    assert!(!dir.path().join("outside.txt").exists());
    assert!(!root.join("outside.txt").exists());
}

/// The test bucket on a real S3-compatible server (`scripts/lib/minio.sh` starts MinIO and
/// exports `ORBIT_TEST_S3_*`), or `None` (printed) to skip.
fn s3_config() -> Option<orbit_storage::S3Config> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match var("ORBIT_TEST_S3_ENDPOINT") {
        Some(endpoint) => Some(orbit_storage::S3Config {
            endpoint: Some(endpoint),
            region: var("ORBIT_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            bucket: var("ORBIT_TEST_S3_BUCKET").expect("ORBIT_TEST_S3_BUCKET"),
            access_key_id: var("ORBIT_TEST_S3_ACCESS_KEY").expect("ORBIT_TEST_S3_ACCESS_KEY"),
            secret_access_key: var("ORBIT_TEST_S3_SECRET_KEY").expect("ORBIT_TEST_S3_SECRET_KEY"),
        }),
        None => {
            assert!(
                !orbit_tests::postgres::services_required(),
                "ORBIT_TEST_S3_ENDPOINT is not set but ORBIT_REQUIRE_SERVICES=1"
            );
            eprintln!(
                "SKIPPED: S3 tests need ORBIT_TEST_S3_* (scripts/test.sh starts MinIO with scripts/lib/minio.sh)"
            );
            None
        }
    }
}

fn unique_prefix(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("contract/{tag}-{}-{nanos}/", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_keeps_the_contract() {
    let Some(config) = s3_config() else { return };
    let store = orbit_storage::S3Store::new(&config).unwrap();
    assert_eq!(store.name(), "s3");
    storage_contract::run(&store, &unique_prefix("s3"), true).await;
}

#[tokio::test]
async fn s3_store_with_wrong_credentials_fails_cleanly() {
    let Some(mut config) = s3_config() else {
        return;
    };
    config.secret_access_key = "not-the-secret".into();
    let store = orbit_storage::S3Store::new(&config).unwrap();
    let key = format!("{}x", unique_prefix("badcreds"));
    let err = store
        .put_bytes(&key, bytes::Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, orbit_ports::ObjectStoreError::Unavailable(_)),
        "{err:?}"
    );
    // A presigned URL made with the wrong secret is refused by the server.
    let url = store
        .presigned_get(&key, std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
}

#[test]
fn s3_configuration_is_checked_and_never_prints_the_secret() {
    let config = orbit_storage::S3Config {
        endpoint: Some("http://127.0.0.1:9".into()),
        region: "us-east-1".into(),
        bucket: String::new(),
        access_key_id: "k".into(),
        secret_access_key: "very-secret".into(),
    };
    assert!(
        orbit_storage::S3Store::new(&config)
            .unwrap_err()
            .contains("ORBIT_S3_BUCKET")
    );
    assert!(!format!("{config:?}").contains("very-secret"));
}
