//! Throwaway PostgreSQL databases for tests. `ORBIT_TEST_DATABASE_URL` names a server
//! (`scripts/test.sh` starts one); each test gets a fresh database on it. Without the
//! variable, PostgreSQL tests say that they were skipped, unless `ORBIT_REQUIRE_SERVICES=1`
//! (set by the test command), in which case a missing server fails the run.

use std::sync::atomic::{AtomicU32, Ordering};

/// Whether a missing service must fail the run instead of skipping.
pub fn services_required() -> bool {
    std::env::var("ORBIT_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The admin URL of the test server, or `None` (with a printed reason) to skip.
pub fn server_url() -> Option<String> {
    match std::env::var("ORBIT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !services_required(),
                "ORBIT_TEST_DATABASE_URL is not set but ORBIT_REQUIRE_SERVICES=1"
            );
            eprintln!(
                "SKIPPED: PostgreSQL tests need ORBIT_TEST_DATABASE_URL (scripts/test.sh sets it)"
            );
            None
        }
    }
}

/// The Redis URL for tests, or `None` (with a printed reason) to skip.
pub fn redis_url() -> Option<String> {
    match std::env::var("ORBIT_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !services_required(),
                "ORBIT_TEST_REDIS_URL is not set but ORBIT_REQUIRE_SERVICES=1"
            );
            eprintln!("SKIPPED: Redis tests need ORBIT_TEST_REDIS_URL (scripts/test.sh sets it)");
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Replaces the database name at the end of a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix_end = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..prefix_end], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A name for a fresh database: unique per process and call.
pub fn fresh_database_name(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("orbit_test_{}_{}_{}", tag, std::process::id(), n)
}
