//! The `WorkflowStore` implementation both SQL engines share (see [`impl_workflow_store!`]).

/// Implements `WorkflowStore` for `$store` (fields `read` and `write` pools).
#[macro_export]
macro_rules! impl_workflow_store {
    ($store:ty) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::workflow::{RunEvent, RunId, RunStatus, WorkflowRun};
            use $crate::orbit_core::{PageRequest, WorkspaceId};
            use $crate::orbit_ports::{RunFilter, StepRecord, StepStatus, StoreError, WorkflowStore};
            use $crate::rows::RunRow;
            use $crate::{db, sqlx};

            const RUN_COLUMNS: &str = "workspace_id, id, kind, status, input, result, error, current_step, steps_done, \
                 steps_total, started_by, created_at, updated_at, attempt, cancel_requested";

            #[async_trait]
            impl WorkflowStore for $store {
                async fn insert_run(&self, run: &WorkflowRun) -> Result<(WorkflowRun, bool), StoreError> {
                    let done = sqlx::query(
                        "INSERT INTO workflow_runs (workspace_id, id, kind, status, input, result, error, current_step, steps_done, \
                         steps_total, started_by, created_at, updated_at, attempt, cancel_requested) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING",
                    )
                    .bind(run.workspace_id.as_str())
                    .bind(run.id.as_str())
                    .bind(&run.kind)
                    .bind(run.status.as_str())
                    .bind(&run.input)
                    .bind(&run.result)
                    .bind(&run.error)
                    .bind(&run.current_step)
                    .bind(run.steps_done as i64)
                    .bind(run.steps_total as i64)
                    .bind(run.started_by.as_str())
                    .bind(run.created_at.0)
                    .bind(run.updated_at.0)
                    .bind(run.attempt as i64)
                    .bind(run.cancel_requested)
                    .execute(&self.write)
                    .await
                    .map_err(|e| $crate::store_error(e, || format!("workspace '{}'", run.workspace_id)))?;
                    if done.rows_affected() == 1 {
                        // Stored as given: no need to read it back.
                        return Ok((run.clone(), true));
                    }
                    let stored = self.get_run(&run.workspace_id, &run.id).await?.ok_or_else(|| StoreError::NotFound(format!("run '{}'", run.id)))?;
                    Ok((stored, false))
                }

                async fn get_run(&self, workspace: &WorkspaceId, id: &RunId) -> Result<Option<WorkflowRun>, StoreError> {
                    let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = $1 AND id = $2");
                    let row: Option<RunRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(id.as_str())
                        .fetch_optional(&self.write)
                        .await
                        .map_err(db)?;
                    let Some(row) = row else { return Ok(None) };
                    let mut run = row.into_domain()?;
                    let events: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT at, message FROM workflow_events WHERE workspace_id = $1 AND run_id = $2 ORDER BY n",
                    )
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    run.events = events.into_iter().map(|(at, message)| RunEvent { at: $crate::orbit_core::Timestamp(at), message }).collect();
                    Ok(Some(run))
                }

                async fn list_runs(&self, workspace: &WorkspaceId, filter: &RunFilter, page: &PageRequest) -> Result<Vec<WorkflowRun>, StoreError> {
                    // Keyset on (created_at, id) descending, starting after the cursor run.
                    let (after_created, after_id) = match &page.after {
                        Some(after) => {
                            let found: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM workflow_runs WHERE workspace_id = $1 AND id = $2")
                                .bind(workspace.as_str())
                                .bind(after)
                                .fetch_optional(&self.read)
                                .await
                                .map_err(db)?;
                            match found {
                                Some((c,)) => (c, after.clone()),
                                None => return Ok(Vec::new()),
                            }
                        }
                        None => (i64::MAX, String::new()),
                    };
                    let sql = format!(
                        "SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = $1 \
                         AND (created_at < $2 OR (created_at = $2 AND id < $3) OR $4 = '') \
                         AND ($5 = '' OR kind = $5) AND ($6 = '' OR status = $6) \
                         ORDER BY created_at DESC, id DESC LIMIT $7"
                    );
                    let rows: Vec<RunRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(after_created)
                        .bind(&after_id)
                        .bind(&after_id)
                        .bind(filter.kind.as_deref().unwrap_or(""))
                        .bind(filter.status.map_or("", RunStatus::as_str))
                        .bind(page.limit as i64 + 1)
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(RunRow::into_domain).collect()
                }

                async fn update_run(&self, run: &WorkflowRun) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE workflow_runs SET status = $1, result = $2, error = $3, current_step = $4, steps_done = $5, \
                         steps_total = $6, updated_at = $7, attempt = $8, cancel_requested = $9 WHERE workspace_id = $10 AND id = $11",
                    )
                    .bind(run.status.as_str())
                    .bind(&run.result)
                    .bind(&run.error)
                    .bind(&run.current_step)
                    .bind(run.steps_done as i64)
                    .bind(run.steps_total as i64)
                    .bind(run.updated_at.0)
                    .bind(run.attempt as i64)
                    .bind(run.cancel_requested)
                    .bind(run.workspace_id.as_str())
                    .bind(run.id.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(())
                }

                async fn append_event(&self, workspace: &WorkspaceId, id: &RunId, event: &RunEvent) -> Result<(), StoreError> {
                    // `n` orders the log. The run's row is touched first, in the same
                    // transaction: on PostgreSQL that row lock queues concurrent appends to one
                    // run (a log line and a step event), so each reads the other's `n`; SQLite's
                    // single writer serialises them already. Two processes racing without the
                    // row (a run being deleted) still retry on the unique key.
                    let mut tries = 0;
                    loop {
                        let mut tx = self.write.begin().await.map_err(db)?;
                        sqlx::query("UPDATE workflow_runs SET updated_at = updated_at WHERE workspace_id = $1 AND id = $2")
                            .bind(workspace.as_str())
                            .bind(id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                        let result = sqlx::query(
                            "INSERT INTO workflow_events (workspace_id, run_id, n, at, message) VALUES ($1, $2, \
                             (SELECT COALESCE(MAX(n), 0) + 1 FROM workflow_events WHERE workspace_id = $1 AND run_id = $2), $3, $4)",
                        )
                        .bind(workspace.as_str())
                        .bind(id.as_str())
                        .bind(event.at.0)
                        .bind(&event.message)
                        .execute(&mut *tx)
                        .await;
                        match result {
                            Ok(_) => return tx.commit().await.map_err(db),
                            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && tries < 20 => {
                                drop(tx);
                                tries += 1;
                            }
                            Err(e) => return Err(db(e)),
                        }
                    }
                }

                async fn request_cancel(&self, workspace: &WorkspaceId, id: &RunId) -> Result<WorkflowRun, StoreError> {
                    let done = sqlx::query(
                        "UPDATE workflow_runs SET cancel_requested = TRUE WHERE workspace_id = $1 AND id = $2 AND status IN ('pending', 'running')",
                    )
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    let run = self.get_run(workspace, id).await?.ok_or_else(|| StoreError::NotFound(format!("workflow run '{id}'")))?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Refused(format!("the run has already {}", run.status)));
                    }
                    Ok(run)
                }

                async fn steps(&self, workspace: &WorkspaceId, id: &RunId) -> Result<Vec<StepRecord>, StoreError> {
                    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
                        "SELECT seq, activity, status, output, attempts FROM workflow_steps WHERE workspace_id = $1 AND run_id = $2 ORDER BY seq",
                    )
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(seq, activity, status, output, attempts)| StepRecord {
                            seq: seq as u32,
                            activity,
                            status: match status.as_str() {
                                "completed" => StepStatus::Completed,
                                "waiting" => StepStatus::Waiting,
                                _ => StepStatus::Failed,
                            },
                            output,
                            attempts: attempts as u32,
                        })
                        .collect())
                }

                async fn record_step(&self, workspace: &WorkspaceId, id: &RunId, step: &StepRecord) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    sqlx::query("DELETE FROM workflow_steps WHERE workspace_id = $1 AND run_id = $2 AND seq = $3")
                        .bind(workspace.as_str())
                        .bind(id.as_str())
                        .bind(step.seq as i64)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query(
                        "INSERT INTO workflow_steps (workspace_id, run_id, seq, activity, status, output, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .bind(step.seq as i64)
                    .bind(&step.activity)
                    .bind(match step.status { StepStatus::Completed => "completed", StepStatus::Failed => "failed", StepStatus::Waiting => "waiting" })
                    .bind(&step.output)
                    .bind(step.attempts as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn reset_for_retry(&self, workspace: &WorkspaceId, id: &RunId) -> Result<WorkflowRun, StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let done = sqlx::query(
                        "UPDATE workflow_runs SET status = 'pending', error = NULL, cancel_requested = FALSE, attempt = attempt + 1 \
                         WHERE workspace_id = $1 AND id = $2 AND status IN ('failed', 'cancelled')",
                    )
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    if done.rows_affected() == 1 {
                        sqlx::query("DELETE FROM workflow_steps WHERE workspace_id = $1 AND run_id = $2 AND status = 'failed'")
                            .bind(workspace.as_str())
                            .bind(id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)?;
                    let run = self.get_run(workspace, id).await?.ok_or_else(|| StoreError::NotFound(format!("workflow run '{id}'")))?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::Refused(format!("only failed or cancelled runs can be retried; this one has {}", run.status)));
                    }
                    Ok(run)
                }

                async fn unfinished_runs(&self) -> Result<Vec<(WorkspaceId, RunId)>, StoreError> {
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "SELECT workspace_id, id FROM workflow_runs WHERE status IN ('pending', 'running') ORDER BY created_at",
                    )
                    .fetch_all(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(|(w, i)| (WorkspaceId::new(w), RunId::new(i))).collect())
                }

                async fn claim_run(&self, workspace: &WorkspaceId, id: &RunId, owner: &str, now: i64, until: i64) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE workflow_runs SET lease_owner = $1, lease_until = $2 \
                         WHERE workspace_id = $3 AND id = $4 AND (lease_owner = $1 OR lease_until < $5)",
                    )
                    .bind(owner)
                    .bind(until)
                    .bind(workspace.as_str())
                    .bind(id.as_str())
                    .bind(now)
                    .execute(&self.write)
                    .await
                    .map_err(db)?;
                    Ok(done.rows_affected() == 1)
                }
            }
        };
    };
}
