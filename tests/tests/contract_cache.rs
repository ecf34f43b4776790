//! The cache contract against every cache adapter with memory: process-local and Redis.

use orbit_ports::Cache;
use orbit_tests::{cache_contract, postgres};
use std::time::{Duration, Instant};

#[tokio::test]
async fn memory_cache_keeps_the_contract() {
    cache_contract::run(&orbit_memory::MemoryCache::new(), "t:").await;
}

#[tokio::test]
async fn redis_cache_keeps_the_contract() {
    let Some(url) = postgres::redis_url() else {
        return;
    };
    let cache = orbit_redis::RedisCache::connect(
        &url,
        &format!("orbit-test-{}:", std::process::id()),
        Duration::from_millis(100),
    )
    .unwrap();
    let started = Instant::now();
    while !cache.is_connected() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "Redis at {url} did not accept a connection"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cache_contract::run(&cache, "t:").await;
}

#[tokio::test]
async fn redis_cache_that_cannot_connect_fails_fast_and_cleanly() {
    // Nothing listens on port 1: every operation must fail quickly with an error (a miss for
    // the callers), never hang or panic.
    let cache =
        orbit_redis::RedisCache::connect("redis://127.0.0.1:1/", "x:", Duration::from_millis(100))
            .unwrap();
    let started = Instant::now();
    assert!(cache.get("k").await.is_err());
    assert!(cache.set("k", b"v", Duration::from_secs(1)).await.is_err());
    assert!(cache.delete(&["k".into()]).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        orbit_redis::RedisCache::connect("not a url", "x:", Duration::from_millis(100)).is_err()
    );
}
