-- The API catalog: APIs, immutable published versions with their files, consumers, the
-- workspace's publishing policy, and the API side of the search outbox.
CREATE TABLE apis (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    owner            TEXT NOT NULL,
    -- Tags joined by ','; api_tags holds them one per row for filtering.
    tags             TEXT NOT NULL,
    lifecycle        TEXT NOT NULL CHECK (lifecycle IN ('experimental', 'production', 'deprecated')),
    format           TEXT NOT NULL CHECK (format IN ('openapi', 'asyncapi', 'protobuf', 'graphql')),
    deprecation_note TEXT NOT NULL,
    latest_version   TEXT NOT NULL,
    search_terms     TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    created_by       TEXT NOT NULL,
    UNIQUE (workspace_id, slug)
);
CREATE INDEX apis_owner ON apis (workspace_id, owner, slug);
CREATE INDEX apis_format ON apis (workspace_id, format, slug);

CREATE TABLE api_tags (
    api_id       TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    tag          TEXT NOT NULL,
    PRIMARY KEY (api_id, tag)
);
CREATE INDEX api_tags_tag ON api_tags (workspace_id, tag);

-- Rows are inserted once and never updated: a published version is immutable.
CREATE TABLE api_versions (
    api_id           TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL,
    version          TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    release_notes    TEXT NOT NULL,
    breaking_changes BIGINT NOT NULL,
    total_bytes      BIGINT NOT NULL,
    published_at     BIGINT NOT NULL,
    published_by     TEXT NOT NULL,
    PRIMARY KEY (api_id, version)
);

CREATE TABLE api_version_files (
    api_id   TEXT NOT NULL,
    version  TEXT NOT NULL,
    position BIGINT NOT NULL,
    name     TEXT NOT NULL,
    content  TEXT NOT NULL,
    PRIMARY KEY (api_id, version, name),
    FOREIGN KEY (api_id, version) REFERENCES api_versions (api_id, version) ON DELETE CASCADE
);

CREATE TABLE api_consumers (
    api_id       TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    repository   TEXT NOT NULL,
    version      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (api_id, repository)
);

CREATE TABLE api_policies (
    workspace_id                 TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    allow_breaking_without_major BOOLEAN NOT NULL,
    updated_at                   BIGINT NOT NULL
);

-- Written in the same transaction as the API change it names; deleted once the search
-- index has it.
CREATE TABLE api_search_outbox (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    api_id       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
