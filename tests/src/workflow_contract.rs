//! The contract every `WorkflowEngine` keeps, run against the embedded engine (on memory,
//! SQLite and PostgreSQL) and Temporal. The engine must have `orbit.demo.steps` and its
//! activity registered (`orbit_workflows::demo`).

use orbit_core::workflow::{RunId, RunStatus, WorkflowRun};
use orbit_core::{PageRequest, UserId, WorkspaceId};
use orbit_ports::{EngineError, RunFilter, StartRun, WorkflowEngine};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn start(ws: &WorkspaceId, user: &UserId, id: &str, input: serde_json::Value) -> StartRun {
    StartRun {
        id: RunId::new(id),
        workspace_id: ws.clone(),
        kind: orbit_workflows::demo::KIND.into(),
        input: input.to_string(),
        started_by: user.clone(),
    }
}

/// Waits (bounded) until the run satisfies `done`.
pub async fn wait_for(
    engine: &dyn WorkflowEngine,
    ws: &WorkspaceId,
    id: &str,
    what: &str,
    done: impl Fn(&WorkflowRun) -> bool,
) -> WorkflowRun {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(run) = engine.get(ws, &RunId::new(id)).await.unwrap() {
            if done(&run) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} never became {what}: {run:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn finished(engine: &dyn WorkflowEngine, ws: &WorkspaceId, id: &str) -> WorkflowRun {
    wait_for(engine, ws, id, "finished", |r| r.status.is_finished()).await
}

/// Lines the demo activity wrote for a run: `(step, attempt)`.
pub fn effects(dir: &Path, id: &str) -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string(dir.join(format!("{id}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace().skip(1);
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect()
}

fn count(effects: &[(u32, u32)], step: u32) -> usize {
    effects.iter().filter(|(s, _)| *s == step).count()
}

/// Runs the whole contract. `ws` must exist and `other` be another workspace; `prefix` keeps
/// run ids unique when engines share a server.
pub async fn run(
    engine: &dyn WorkflowEngine,
    ws: &WorkspaceId,
    other: &WorkspaceId,
    user: &UserId,
    effects_dir: &Path,
    prefix: &str,
) {
    let dir = effects_dir.to_string_lossy().to_string();
    let id = |s: &str| format!("{prefix}{s}");

    // Three steps, start to finish, with progress and a log.
    let (run, created) = engine
        .start(start(
            ws,
            user,
            &id("three"),
            json!({"steps": 3, "effects_dir": dir}),
        ))
        .await
        .unwrap();
    assert!(created);
    assert!(
        matches!(run.status, RunStatus::Pending | RunStatus::Running),
        "{run:?}"
    );
    let done = finished(engine, ws, &id("three")).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");
    let result: serde_json::Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(result["steps"], 3);
    assert_eq!(result["outputs"][2], "step 3 done");
    assert_eq!((done.steps_done, done.steps_total), (3, 3));
    assert!(
        done.events.iter().any(|e| e.message.contains("step 2")),
        "{:?}",
        done.events
    );
    assert_eq!(effects(effects_dir, &id("three")), [(1, 1), (2, 1), (3, 1)]);

    // The id is an idempotency key.
    let (again, created) = engine
        .start(start(
            ws,
            user,
            &id("three"),
            json!({"steps": 3, "effects_dir": dir}),
        ))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(
        (again.created_at, again.status),
        (done.created_at, RunStatus::Succeeded)
    );
    let conflict = engine
        .start(start(ws, user, &id("three"), json!({"steps": 4})))
        .await
        .unwrap_err();
    assert!(matches!(conflict, EngineError::Conflict(_)), "{conflict:?}");
    assert_eq!(
        effects(effects_dir, &id("three")).len(),
        3,
        "starting again ran nothing"
    );

    // An activity failing twice, then succeeding.
    engine
        .start(start(
            ws,
            user,
            &id("flaky"),
            json!({"steps": 3, "effects_dir": dir, "fail_times": {"2": 2}}),
        ))
        .await
        .unwrap();
    let done = finished(engine, ws, &id("flaky")).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");
    assert_eq!(
        effects(effects_dir, &id("flaky")),
        [(1, 1), (2, 3), (3, 1)],
        "step 2 succeeded on its third attempt"
    );

    // A non-retryable failure, then a retry from the failed step.
    let flag = effects_dir.join(format!("{prefix}unblock"));
    engine
        .start(start(
            ws,
            user,
            &id("broken"),
            json!({"steps": 3, "effects_dir": dir, "fail_at": 2, "unless_file": flag.to_string_lossy()}),
        ))
        .await
        .unwrap();
    let failed = finished(engine, ws, &id("broken")).await;
    assert_eq!(failed.status, RunStatus::Failed, "{failed:?}");
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or("")
            .contains("step 2 is set to fail"),
        "{failed:?}"
    );
    assert_eq!(effects(effects_dir, &id("broken")), [(1, 1)]);
    std::fs::write(&flag, "go").unwrap();
    engine.retry(ws, &RunId::new(id("broken"))).await.unwrap();
    let done = wait_for(engine, ws, &id("broken"), "succeeded", |r| {
        r.status == RunStatus::Succeeded
    })
    .await;
    let lines = effects(effects_dir, &id("broken"));
    assert_eq!(
        count(&lines, 1),
        1,
        "step 1 ran exactly once across the retry: {lines:?}"
    );
    assert_eq!((count(&lines, 2), count(&lines, 3)), (1, 1));
    assert!(
        done.attempt >= 2 || done.events.iter().any(|e| e.message.contains("retry")),
        "{done:?}"
    );

    // Cancel mid-run.
    engine
        .start(start(
            ws,
            user,
            &id("long"),
            json!({"steps": 6, "sleep_ms": 400, "effects_dir": dir}),
        ))
        .await
        .unwrap();
    wait_for(engine, ws, &id("long"), "past its first step", |r| {
        r.steps_done >= 1
    })
    .await;
    engine.cancel(ws, &RunId::new(id("long"))).await.unwrap();
    let cancelled = finished(engine, ws, &id("long")).await;
    assert_eq!(cancelled.status, RunStatus::Cancelled, "{cancelled:?}");
    assert!(cancelled.steps_done < 6);

    // What cannot be done to finished runs.
    let e = engine
        .cancel(ws, &RunId::new(id("three")))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::FailedPrecondition(_)), "{e:?}");
    let e = engine
        .retry(ws, &RunId::new(id("three")))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::FailedPrecondition(_)), "{e:?}");
    let e = engine
        .cancel(ws, &RunId::new(id("no-such-run")))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::NotFound(_)), "{e:?}");

    // Workspaces do not see each other's runs.
    assert_eq!(
        engine.get(other, &RunId::new(id("three"))).await.unwrap(),
        None
    );
    let theirs = engine
        .list(other, &RunFilter::default(), &PageRequest::first(50))
        .await
        .unwrap();
    assert!(
        theirs.iter().all(|r| !r.id.as_str().starts_with(prefix)),
        "{theirs:?}"
    );

    // Listing: newest first, filtered, paginated.
    let all = engine
        .list(ws, &RunFilter::default(), &PageRequest::first(50))
        .await
        .unwrap();
    let mine: Vec<&str> = all
        .iter()
        .map(|r| r.id.as_str())
        .filter(|i| i.starts_with(prefix))
        .collect();
    assert_eq!(mine, [id("long"), id("broken"), id("flaky"), id("three")]);
    let failed_only = engine
        .list(
            ws,
            &RunFilter {
                status: Some(RunStatus::Cancelled),
                kind: None,
            },
            &PageRequest::first(50),
        )
        .await
        .unwrap();
    assert!(
        failed_only.iter().any(|r| r.id.as_str() == id("long"))
            && failed_only.iter().all(|r| r.status == RunStatus::Cancelled)
    );
    let none = engine
        .list(
            ws,
            &RunFilter {
                status: None,
                kind: Some("no.such.kind".into()),
            },
            &PageRequest::first(50),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    let first = engine
        .list(ws, &RunFilter::default(), &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(first.len(), 2, "limit + 1 rows");
    let next = engine
        .list(
            ws,
            &RunFilter::default(),
            &PageRequest {
                limit: 1,
                after: Some(first[0].id.to_string()),
            },
        )
        .await
        .unwrap();
    assert_eq!(next[0].id, first[1].id);
}

/// The parallel calls of the contract (`WorkflowContext::call_all`): all complete, results in
/// call order whatever order they finish in, one failing does not cancel the others, and a
/// retry runs only the failed one. Run ids start with `prefix` and `par-`.
pub async fn run_parallel(
    engine: &dyn WorkflowEngine,
    ws: &WorkspaceId,
    user: &UserId,
    effects_dir: &Path,
    prefix: &str,
) {
    let dir = effects_dir.to_string_lossy().to_string();
    let id = |s: &str| format!("{prefix}par-{s}");

    // Step 1 works longest: it finishes last, yet its result comes first.
    engine
        .start(start(
            ws,
            user,
            &id("all"),
            json!({"steps": 4, "parallel": true, "effects_dir": dir,
                   "step_sleep_ms": {"1": 1500, "2": 300}}),
        ))
        .await
        .unwrap();
    let done = finished(engine, ws, &id("all")).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");
    let result: serde_json::Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(
        result["outputs"],
        json!(["step 1 done", "step 2 done", "step 3 done", "step 4 done"]),
        "results in call order"
    );
    assert_eq!((done.steps_done, done.steps_total), (4, 4));
    let lines = effects(effects_dir, &id("all"));
    assert_eq!(lines.len(), 4, "each step ran once: {lines:?}");
    for step in 1..=4 {
        assert_eq!(count(&lines, step), 1, "step {step} ran once: {lines:?}");
    }
    assert_eq!(
        lines.last(),
        Some(&(1, 1)),
        "the steps ran at the same time (the longest, step 1, ended last): {lines:?}"
    );

    // At most two at a time: step 3 (the shortest) waits for a free slot, so it ends last.
    engine
        .start(start(
            ws,
            user,
            &id("bounded"),
            json!({"steps": 3, "parallel": true, "max_concurrent": 2, "effects_dir": dir,
                   "step_sleep_ms": {"1": 1500, "2": 1500, "3": 100}}),
        ))
        .await
        .unwrap();
    let done = finished(engine, ws, &id("bounded")).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{done:?}");
    let lines = effects(effects_dir, &id("bounded"));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines.last(),
        Some(&(3, 1)),
        "step 3 started only when step 1 or 2 had ended: {lines:?}"
    );

    // Step 2 fails for good; steps 1 and 3 are not cancelled (step 3 ends after the failure).
    let flag = effects_dir.join(format!("{prefix}par-unblock"));
    engine
        .start(start(
            ws,
            user,
            &id("broken"),
            json!({"steps": 3, "parallel": true, "effects_dir": dir, "fail_at": 2,
                   "unless_file": flag.to_string_lossy(), "step_sleep_ms": {"3": 1000}}),
        ))
        .await
        .unwrap();
    let failed = wait_for(engine, ws, &id("broken"), "failed", |r| {
        r.status == RunStatus::Failed
    })
    .await;
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or("")
            .contains("step 2 is set to fail"),
        "{failed:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while effects(effects_dir, &id("broken")).len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut lines = effects(effects_dir, &id("broken"));
    lines.sort();
    assert_eq!(
        lines,
        [(1, 1), (3, 1)],
        "the failure of step 2 did not stop steps 1 and 3"
    );
    let run = engine.get(ws, &RunId::new(id("broken"))).await.unwrap();
    assert_eq!(run.map(|r| r.status), Some(RunStatus::Failed));

    // The retry runs the failed step only.
    std::fs::write(&flag, "go").unwrap();
    engine.retry(ws, &RunId::new(id("broken"))).await.unwrap();
    let done = wait_for(engine, ws, &id("broken"), "succeeded", |r| {
        r.status == RunStatus::Succeeded
    })
    .await;
    let result: serde_json::Value = serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
    assert_eq!(
        result["outputs"],
        json!(["step 1 done", "step 2 done", "step 3 done"])
    );
    let lines = effects(effects_dir, &id("broken"));
    for step in 1..=3 {
        assert_eq!(count(&lines, step), 1, "step {step} ran once: {lines:?}");
    }
}
