//! Prometheus metrics: request counts by code and latency histograms, per RPC.
//! Hand-rolled on atomics (a few dozen lines) rather than a metrics framework: the hot path
//! is one fetch_add per counter, and the text format is simple to write.

use crate::error::Code;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct RpcMetrics {
    path: String,
    ok: AtomicU64,
    errors: [AtomicU64; 16],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl RpcMetrics {
    pub fn observe(&self, code: Option<Code>, elapsed: Duration) {
        match code {
            None => self.ok.fetch_add(1, Ordering::Relaxed),
            Some(code) => {
                let i = Code::ALL.iter().position(|c| *c == code).unwrap_or(0);
                self.errors[i].fetch_add(1, Ordering::Relaxed)
            }
        };
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct Metrics {
    rpcs: Mutex<Vec<Arc<RpcMetrics>>>,
}

impl Metrics {
    pub fn register(&self, path: &str) -> Arc<RpcMetrics> {
        let m = Arc::new(RpcMetrics {
            path: path.to_owned(),
            ok: AtomicU64::new(0),
            errors: Default::default(),
            buckets: Default::default(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        });
        if let Ok(mut rpcs) = self.rpcs.lock() {
            rpcs.push(m.clone());
        }
        m
    }

    /// Renders the Prometheus text exposition format. `extra` lines are appended as they are.
    pub fn render(&self, extra: &str) -> String {
        let rpcs = self.rpcs.lock().map(|r| r.clone()).unwrap_or_default();
        let mut out = String::new();
        out.push_str("# HELP orbit_rpc_requests_total Connect RPCs handled, by method and code.\n");
        out.push_str("# TYPE orbit_rpc_requests_total counter\n");
        for m in &rpcs {
            let _ = writeln!(
                out,
                "orbit_rpc_requests_total{{method=\"{}\",code=\"ok\"}} {}",
                m.path,
                m.ok.load(Ordering::Relaxed)
            );
            for (i, code) in Code::ALL.iter().enumerate() {
                let n = m.errors[i].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "orbit_rpc_requests_total{{method=\"{}\",code=\"{}\"}} {n}",
                        m.path,
                        code.as_str()
                    );
                }
            }
        }
        out.push_str("# HELP orbit_rpc_duration_seconds Connect RPC latency, by method.\n");
        out.push_str("# TYPE orbit_rpc_duration_seconds histogram\n");
        for m in &rpcs {
            let mut cumulative = 0;
            for (i, le) in BUCKETS.iter().enumerate() {
                cumulative += m.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "orbit_rpc_duration_seconds_bucket{{method=\"{}\",le=\"{le}\"}} {cumulative}",
                    m.path
                );
            }
            let count = m.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "orbit_rpc_duration_seconds_bucket{{method=\"{}\",le=\"+Inf\"}} {count}",
                m.path
            );
            let sum = m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "orbit_rpc_duration_seconds_sum{{method=\"{}\"}} {sum}",
                m.path
            );
            let _ = writeln!(
                out,
                "orbit_rpc_duration_seconds_count{{method=\"{}\"}} {count}",
                m.path
            );
        }
        out.push_str(extra);
        out
    }
}
