-- Knowledge spaces, pages with revisions, and the search outbox.
CREATE TABLE spaces (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    visibility   TEXT NOT NULL CHECK (visibility IN ('workspace', 'restricted')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, slug)
);

CREATE TABLE space_members (
    space_id TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (space_id, user_id)
);
CREATE INDEX space_members_user_id ON space_members (user_id);

-- parent_id is '' for pages at the root of their space (so the unique constraint on
-- sibling slugs also holds at the root, where NULLs would all be distinct).
CREATE TABLE pages (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    space_id     TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    parent_id    TEXT NOT NULL,
    slug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    sort_order   BIGINT NOT NULL,
    revision     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    UNIQUE (space_id, parent_id, slug)
);
CREATE INDEX pages_space ON pages (workspace_id, space_id);

CREATE TABLE page_revisions (
    page_id    TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    author_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note       TEXT NOT NULL,
    PRIMARY KEY (page_id, revision)
);

-- Written in the same transaction as the page it names; deleted once the search index
-- has the change. Rows left over after a crash are replayed on start.
CREATE TABLE search_outbox (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    page_id      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
