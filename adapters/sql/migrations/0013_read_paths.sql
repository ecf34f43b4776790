-- Faster read paths (issues #3, #5 and #6).

-- ListApis filtered by tag: each api_tags row carries its API's slug (slugs never change),
-- so one walk of (workspace_id, tag, slug) answers a page of a tag in slug order. Before,
-- the list walked the workspace's APIs in slug order and probed the tag of each, which on
-- PostgreSQL read most of the workspace for a tag held by a few APIs.
ALTER TABLE api_tags ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE api_tags SET slug = (SELECT a.slug FROM apis a WHERE a.id = api_tags.api_id);
CREATE INDEX api_tags_slug ON api_tags (workspace_id, tag, slug);
-- api_tags_slug starts with (workspace_id, tag): it serves what api_tags_tag did.
DROP INDEX api_tags_tag;
