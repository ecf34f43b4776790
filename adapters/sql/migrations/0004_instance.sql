-- Facts about this installation: `instance_id` names it (e.g. in shared cache keys, so that
-- two databases never read each other's cache entries through one Redis).
CREATE TABLE orbit_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
