//! What travels through Temporal: the workflow's input, the activity's input, the start memo
//! and the progress the workflow exposes (query) and leaves behind (memo). All of it is JSON.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The memo key holding [`RunMeta`], written by `start`.
pub(crate) const META_MEMO: &str = "orbit";
/// The memo key holding the last [`Progress`] snapshot, upserted by the workflow when it starts
/// waiting for a retry, when it resumes, and when it ends.
pub(crate) const PROGRESS_MEMO: &str = "orbit_progress";
/// How many events a run keeps (the oldest are dropped).
pub const MAX_EVENTS: usize = 200;

/// The input of the generic Temporal workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInput {
    pub workspace_id: String,
    pub kind: String,
    /// The definition's JSON input, as given to `start`.
    pub input: String,
    pub run_id: String,
    pub started_by: String,
}

/// What `get` and `list` need that Temporal does not know: set as the memo at start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct RunMeta {
    pub workspace_id: String,
    pub kind: String,
    pub input: String,
    pub run_id: String,
    pub started_by: String,
}

/// The input of the generic Temporal activity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityCall {
    /// The registered activity's name.
    pub name: String,
    pub input: String,
    pub workspace_id: String,
    pub run_id: String,
    /// `{run_id}:{call sequence number}`: the same for every attempt and every retry.
    pub idempotency_key: String,
}

/// One line of the event log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProgressEvent {
    /// Milliseconds since the Unix epoch, from the workflow's (replay-safe) clock.
    pub at_ms: i64,
    pub message: String,
}

/// A run's progress as the workflow knows it: the answer to the `progress` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Progress {
    /// `running`, `failed` (an activity failed for good; waiting for a retry or a cancel),
    /// `succeeded`, `cancelled`.
    pub status: String,
    pub current_step: String,
    pub steps_done: u32,
    pub steps_total: u32,
    pub events: Vec<ProgressEvent>,
    pub error: Option<String>,
    /// The definition's JSON result, once succeeded.
    pub result: Option<String>,
    /// 1, then +1 per retry.
    pub attempt: u32,
    pub cancel_requested: bool,
    pub updated_at_ms: i64,
}

impl Progress {
    pub(crate) fn push_event(&mut self, at_ms: i64, message: impl Into<String>) {
        if self.events.len() >= MAX_EVENTS {
            let excess = self.events.len() + 1 - MAX_EVENTS;
            self.events.drain(..excess);
        }
        self.events.push(ProgressEvent {
            at_ms,
            message: message.into(),
        });
        self.updated_at_ms = at_ms;
    }
}

pub(crate) const STATUS_RUNNING: &str = "running";
pub(crate) const STATUS_FAILED: &str = "failed";
pub(crate) const STATUS_SUCCEEDED: &str = "succeeded";
pub(crate) const STATUS_CANCELLED: &str = "cancelled";

pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Microseconds since the epoch: the precision list pages compare start times at (visibility
/// stores may keep less than nanoseconds).
pub(crate) fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// RFC 3339 in UTC with nanoseconds, the form Temporal's list filters take.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::new(1_709_210_096, 123_456_789); // 2024-02-29 12:34:56
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.123456789Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29 00:00:00
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn events_are_bounded() {
        let mut p = Progress::default();
        for i in 0..(MAX_EVENTS as i64 + 50) {
            p.push_event(i, format!("e{i}"));
        }
        assert_eq!(p.events.len(), MAX_EVENTS);
        assert_eq!(p.events[0].message, "e50");
        assert_eq!(p.updated_at_ms, MAX_EVENTS as i64 + 49);
    }
}
