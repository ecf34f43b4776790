-- A workspace's connections to git hosts (GitHub, GitLab). The token is sealed by the
-- application with AES-256-GCM before it gets here: `token_ciphertext` is base64 of
-- nonce || ciphertext || tag, `token_key_id` names the key (for rotation); both are empty
-- when no token is set. The database never sees a token in clear.
CREATE TABLE git_host_connections (
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    name             TEXT NOT NULL,
    provider         TEXT NOT NULL CHECK (provider IN ('orbit', 'github', 'gitlab')),
    base_url         TEXT NOT NULL,
    namespace        TEXT NOT NULL,
    token_key_id     TEXT NOT NULL DEFAULT '',
    token_ciphertext TEXT NOT NULL DEFAULT '',
    token_last4      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name)
);
