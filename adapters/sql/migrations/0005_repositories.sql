-- The repository catalog and its search outbox.
-- name_key is the lowercase name: names are unique in a workspace regardless of case.
-- topics holds the sorted topics separated by single spaces (for reading); the
-- repository_topics rows are what the topic filter uses.
CREATE TABLE repositories (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    description    TEXT NOT NULL,
    owner          TEXT NOT NULL,
    language       TEXT NOT NULL,
    language_key   TEXT NOT NULL,
    topics         TEXT NOT NULL,
    lifecycle      TEXT NOT NULL CHECK (lifecycle IN ('experimental', 'production', 'deprecated')),
    default_branch TEXT NOT NULL,
    remote_url     TEXT NOT NULL,
    visibility     TEXT NOT NULL CHECK (visibility IN ('public', 'internal', 'private')),
    archived       BOOLEAN NOT NULL,
    source         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    UNIQUE (workspace_id, name_key)
);
CREATE INDEX repositories_updated ON repositories (workspace_id, updated_at, id);
CREATE INDEX repositories_created ON repositories (workspace_id, created_at, id);
CREATE INDEX repositories_owner ON repositories (workspace_id, owner, name_key);

CREATE TABLE repository_topics (
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL,
    topic         TEXT NOT NULL,
    PRIMARY KEY (repository_id, topic)
);
CREATE INDEX repository_topics_topic ON repository_topics (workspace_id, topic);

-- Written in the same transaction as the repository it names; deleted once the search
-- index has the change.
CREATE TABLE repository_search_outbox (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL,
    repository_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Registered repository templates: a folder of a git repository at a branch. The manifest
-- is kept as read at registration (for the gallery and the form); rendering always reads
-- the template again at its ref.
CREATE TABLE repository_templates (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    source_url   TEXT NOT NULL,
    git_ref      TEXT NOT NULL,
    path         TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- One policy per workspace, checked before a repository is created from a template.
-- Lists are newline-separated; empty means "no restriction".
CREATE TABLE repository_policies (
    workspace_id         TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    name_pattern         TEXT NOT NULL,
    require_owner        BOOLEAN NOT NULL,
    allowed_visibilities TEXT NOT NULL,
    allowed_templates    TEXT NOT NULL,
    updated_at           BIGINT NOT NULL
);
