-- Runs of the embedded workflow engine, their recorded steps and event logs.
CREATE TABLE workflow_runs (
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    input            TEXT NOT NULL,
    result           TEXT,
    error            TEXT,
    current_step     TEXT NOT NULL,
    steps_done       BIGINT NOT NULL,
    steps_total      BIGINT NOT NULL,
    started_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    attempt          BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL,
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_until      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX workflow_runs_list ON workflow_runs (workspace_id, created_at);
CREATE INDEX workflow_runs_status ON workflow_runs (status);

CREATE TABLE workflow_steps (
    workspace_id TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    activity     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'waiting')),
    output       TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, run_id, seq),
    FOREIGN KEY (workspace_id, run_id) REFERENCES workflow_runs (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE workflow_events (
    workspace_id TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    n            BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    message      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, run_id, n),
    FOREIGN KEY (workspace_id, run_id) REFERENCES workflow_runs (workspace_id, id) ON DELETE CASCADE
);
