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
