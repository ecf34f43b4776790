-- What a repository's catalog-info.yaml says beyond the basic fields: its links (one per
-- line, "url<TAB>title") and the APIs it provides and consumes (names joined by ' ').
-- repository_apis holds the API names one per row, so an API's consumers are found by
-- index.
ALTER TABLE repositories ADD COLUMN links TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN provides_apis TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN consumes_apis TEXT NOT NULL DEFAULT '';

CREATE TABLE repository_apis (
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL,
    -- "provides" or "consumes".
    relation      TEXT NOT NULL,
    api           TEXT NOT NULL,
    PRIMARY KEY (repository_id, relation, api)
);
CREATE INDEX repository_apis_by_api ON repository_apis (workspace_id, relation, api);
