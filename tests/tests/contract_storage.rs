//! The object storage contract against every adapter: the filesystem (embedded default).

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
