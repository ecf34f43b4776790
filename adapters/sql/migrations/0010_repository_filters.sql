-- Indexes for the catalog's common filters listed newest first (ListRepositories with a
-- language or lifecycle, sorted by update): without them the list walks the whole
-- workspace's update index and filters row by row.
CREATE INDEX repositories_language ON repositories (workspace_id, language_key, updated_at, id);
CREATE INDEX repositories_lifecycle ON repositories (workspace_id, lifecycle, updated_at, id);
