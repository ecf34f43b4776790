//! The object storage contract, run against every `ObjectStore` adapter (the filesystem and
//! S3 on a real S3-compatible server). `prefix` keeps runs apart in a shared bucket.

use bytes::Bytes;
use orbit_ports::{ByteStream, ObjectStore, ObjectStoreError};
use std::time::Duration;

async fn read_all(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = orbit_ports::next_chunk(&mut stream).await {
        out.extend_from_slice(&chunk.expect("a chunk of the object"));
    }
    out
}

fn chunked(data: &[u8], size: usize) -> ByteStream {
    let chunks: Vec<Result<Bytes, ObjectStoreError>> = data
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Runs the whole contract. `expect_presigned`: whether this backend must hand out
/// presigned URLs (S3) or must not (filesystem).
pub async fn run(store: &dyn ObjectStore, prefix: &str, expect_presigned: bool) {
    let k = |s: &str| format!("{prefix}{s}");

    // A missing object.
    assert_eq!(store.head(&k("missing.txt")).await.unwrap(), None);
    match store.get(&k("missing.txt")).await {
        Err(ObjectStoreError::NotFound(key)) => assert_eq!(key, k("missing.txt")),
        Err(other) => panic!("get of a missing object: {other}"),
        Ok(_) => panic!("get of a missing object succeeded"),
    }
    store.delete(&k("missing.txt")).await.unwrap();
    assert!(store.list(&k("")).await.unwrap().is_empty());

    // Bytes in, the same bytes out.
    let meta = store
        .put_bytes(&k("a/hello.txt"), Bytes::from_static(b"hello, orbit"))
        .await
        .unwrap();
    assert_eq!(meta.key, k("a/hello.txt"));
    assert_eq!(meta.size, 12);
    let head = store.head(&k("a/hello.txt")).await.unwrap().unwrap();
    assert_eq!(head.size, 12);
    assert!(head.modified_ms > 1_600_000_000_000, "{head:?}");
    let (got, body) = store.get(&k("a/hello.txt")).await.unwrap();
    assert_eq!(got.size, 12);
    assert_eq!(read_all(body).await, b"hello, orbit");
    assert_eq!(
        &store.get_bytes(&k("a/hello.txt")).await.unwrap()[..],
        b"hello, orbit"
    );

    // Replacing an object.
    store
        .put_bytes(&k("a/hello.txt"), Bytes::from_static(b"bye"))
        .await
        .unwrap();
    assert_eq!(
        &store.get_bytes(&k("a/hello.txt")).await.unwrap()[..],
        b"bye"
    );

    // An empty object.
    store.put_bytes(&k("a/empty"), Bytes::new()).await.unwrap();
    assert_eq!(store.head(&k("a/empty")).await.unwrap().unwrap().size, 0);
    assert!(store.get_bytes(&k("a/empty")).await.unwrap().is_empty());

    // A large object streamed in many chunks (larger than one S3 multipart part).
    let big = pattern(6 * 1024 * 1024 + 123, 7);
    let meta = store
        .put_stream(&k("b/big.bin"), chunked(&big, 64 * 1024))
        .await
        .unwrap();
    assert_eq!(meta.size, big.len() as u64);
    let (_, body) = store.get(&k("b/big.bin")).await.unwrap();
    assert!(
        read_all(body).await == big,
        "the big object came back different"
    );

    // A local file.
    let dir = tempfile_dir();
    let file = dir.join("upload.zip");
    let data = pattern(200_000, 3);
    std::fs::write(&file, &data).unwrap();
    let meta = store.put_file(&k("b/upload.zip"), &file).await.unwrap();
    assert_eq!(meta.size, 200_000);
    assert!(store.get_bytes(&k("b/upload.zip")).await.unwrap() == data);
    let _ = std::fs::remove_dir_all(&dir);

    // A stream that fails halfway stores nothing and leaves the old object whole.
    let failing: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"partial ")),
        Err(ObjectStoreError::Unavailable("the upload broke".into())),
    ]));
    assert!(store.put_stream(&k("a/hello.txt"), failing).await.is_err());
    assert_eq!(
        &store.get_bytes(&k("a/hello.txt")).await.unwrap()[..],
        b"bye"
    );
    let failing: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"partial ")),
        Err(ObjectStoreError::Unavailable("the upload broke".into())),
    ]));
    assert!(store.put_stream(&k("a/never.txt"), failing).await.is_err());
    assert_eq!(store.head(&k("a/never.txt")).await.unwrap(), None);

    // Listing: by prefix, sorted, nothing outside the prefix.
    store
        .put_bytes(&k("ab/other.txt"), Bytes::from_static(b"x"))
        .await
        .unwrap();
    store
        .put_bytes(&k("a/z/deep.txt"), Bytes::from_static(b"deep"))
        .await
        .unwrap();
    let keys =
        |list: Vec<orbit_ports::ObjectMeta>| list.into_iter().map(|m| m.key).collect::<Vec<_>>();
    assert_eq!(
        keys(store.list(&k("a/")).await.unwrap()),
        vec![k("a/empty"), k("a/hello.txt"), k("a/z/deep.txt")]
    );
    assert_eq!(
        keys(store.list(&k("a")).await.unwrap()),
        vec![
            k("a/empty"),
            k("a/hello.txt"),
            k("a/z/deep.txt"),
            k("ab/other.txt")
        ]
    );
    assert_eq!(
        keys(store.list(&k("a/he")).await.unwrap()),
        vec![k("a/hello.txt")]
    );
    let all = store.list(&k("")).await.unwrap();
    assert_eq!(all.len(), 6, "{all:?}");
    let big_meta = all.iter().find(|m| m.key == k("b/big.bin")).unwrap();
    assert_eq!(big_meta.size, big.len() as u64);
    assert!(store.list(&k("nothing/")).await.unwrap().is_empty());

    // Concurrent writers of one key: the result is one writer's whole object.
    let one = pattern(300_000, 1);
    let two = pattern(300_000, 2);
    let race = k("race.bin");
    let (r1, r2) = tokio::join!(
        store.put_stream(&race, chunked(&one, 10_000)),
        store.put_stream(&race, chunked(&two, 10_000)),
    );
    r1.unwrap();
    r2.unwrap();
    let got = store.get_bytes(&k("race.bin")).await.unwrap();
    assert!(
        got == one || got == two,
        "concurrent puts mixed their bytes"
    );

    // Presigned URLs: where the backend has them, a plain HTTP GET returns the object.
    let url = store
        .presigned_get(&k("a/hello.txt"), Duration::from_secs(60))
        .await
        .unwrap();
    if expect_presigned {
        let url = url.expect("this backend hands out presigned URLs");
        assert!(url.starts_with("http"), "{url}");
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "GET {url}");
        assert_eq!(&response.bytes().await.unwrap()[..], b"bye");
        // A tampered signature is refused.
        let tampered = url.replacen("X-Amz-Signature=", "X-Amz-Signature=00", 1);
        let response = reqwest::get(&tampered).await.unwrap();
        assert_eq!(response.status(), 403, "GET {tampered}");
    } else {
        assert_eq!(url, None);
    }

    // Keys that could escape or confuse are refused by every method, before any I/O.
    for bad in [
        "../escape",
        "a/../../escape",
        "/etc/passwd",
        "a//b",
        "a\\b",
        "a\0b",
        "",
    ] {
        let bad = if bad.is_empty() {
            String::new()
        } else if bad.starts_with('/') || bad.starts_with("..") {
            bad.to_owned()
        } else {
            k(bad)
        };
        let invalid = |r: Result<(), ObjectStoreError>| {
            assert!(
                matches!(r, Err(ObjectStoreError::InvalidKey { .. })),
                "{bad:?}: {r:?}"
            )
        };
        invalid(
            store
                .put_bytes(&bad, Bytes::from_static(b"x"))
                .await
                .map(|_| ()),
        );
        invalid(store.get(&bad).await.map(|_| ()));
        invalid(store.head(&bad).await.map(|_| ()));
        invalid(store.delete(&bad).await);
        invalid(
            store
                .presigned_get(&bad, Duration::from_secs(1))
                .await
                .map(|_| ()),
        );
    }
    assert!(matches!(
        store.list("../").await,
        Err(ObjectStoreError::InvalidKey { .. })
    ));

    // Deleting.
    for key in [
        "a/hello.txt",
        "a/empty",
        "a/z/deep.txt",
        "ab/other.txt",
        "b/big.bin",
        "b/upload.zip",
        "race.bin",
    ] {
        store.delete(&k(key)).await.unwrap();
        assert_eq!(store.head(&k(key)).await.unwrap(), None, "{key}");
    }
    store.delete(&k("a/hello.txt")).await.unwrap();
    assert!(store.list(&k("")).await.unwrap().is_empty());
    assert!(matches!(
        store.get(&k("a/hello.txt")).await,
        Err(ObjectStoreError::NotFound(_))
    ));
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "orbit-storage-contract-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
