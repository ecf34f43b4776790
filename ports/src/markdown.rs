/// Markdown rendered for display.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// Sanitized HTML: no script, no event handlers, no `javascript:` (or other unsafe) URLs.
    pub html: String,
    /// Plain text of the document (for search indexing and snippets).
    pub text: String,
    /// The headings, in order: (level 1–6, text, anchor id). Anchors are unique per document.
    pub headings: Vec<(u8, String, String)>,
}

/// Renders CommonMark with GitHub tables, task lists and strikethrough, fenced code blocks
/// with `language-*` classes, and heading anchors. Rendering is total (any input renders)
/// and bounded in time and memory for any input within the body size limit.
pub trait MarkdownRenderer: Send + Sync + 'static {
    fn render(&self, markdown: &str) -> Rendered;

    /// The plain text and headings of `markdown`, as [`render`](Self::render) gives them;
    /// `html` may be left empty. For search indexing, which needs no HTML: an implementation
    /// can skip producing and sanitizing it.
    fn text(&self, markdown: &str) -> Rendered {
        self.render(markdown)
    }
}
