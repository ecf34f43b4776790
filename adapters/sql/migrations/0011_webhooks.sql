-- Webhooks from git hosts. The secret is sealed by the application (AES-256-GCM, like the
-- connections' tokens): the database never sees it in clear. A webhook URL names the
-- connection id alone, so the secret is keyed by it.
CREATE TABLE webhook_secrets (
    connection_id TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_id        TEXT NOT NULL,
    ciphertext    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Deliveries already processed: the unique key makes a redelivery change nothing. Rows
-- with refresh_pending are the outbox of catalog refreshes (reading the remote).
CREATE TABLE webhook_deliveries (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL,
    delivery_id     TEXT NOT NULL,
    repository_id   TEXT NOT NULL,
    git_ref         TEXT NOT NULL,
    head_commit     TEXT NOT NULL,
    default_branch  TEXT NOT NULL,
    catalog_touched BOOLEAN NOT NULL,
    refresh_pending BOOLEAN NOT NULL,
    received_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, connection_id, delivery_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (refresh_pending, received_at);
