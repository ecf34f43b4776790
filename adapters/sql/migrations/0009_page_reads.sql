-- Faster page reads.

-- The rendered HTML of each page (its latest rendered revision), kept so that reads do not
-- render Markdown again. A rendering is used only when its revision and renderer version
-- are the page's current ones; anything else is rendered anew and replaced.
CREATE TABLE page_renders (
    page_id  TEXT PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    renderer BIGINT NOT NULL,
    html     TEXT NOT NULL,
    -- JSON: [[level, text, anchor], …]
    headings TEXT NOT NULL
);

-- A covering index for a space's tree (ListPages): the summary columns without the rows,
-- whose bodies (kilobytes each) would otherwise be read past for every page.
CREATE INDEX pages_tree ON pages (workspace_id, space_id, parent_id, sort_order, id, slug, title, revision, updated_at);
-- pages_tree starts with (workspace_id, space_id): it serves what pages_space did.
DROP INDEX pages_space;
