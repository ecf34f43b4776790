//! Orbit's Markdown renderer: [`CommonMarkRenderer`] implements
//! [`orbit_ports::MarkdownRenderer`].
//!
//! Pipeline, one pass each and linear in the input:
//!
//! 1. **Parse** with pulldown-cmark: CommonMark plus GitHub tables, task lists and
//!    strikethrough.
//! 2. **Write** HTML from the events (`writer`): heading anchors (GitHub-style, unique),
//!    `language-*` classes on fenced code, `align` on table cells, disabled task-list
//!    checkboxes, plain text for search. Raw HTML is re-emitted in a canonical, balanced form
//!    with allowed tags and attributes only (`raw`, `policy`).
//! 3. **Sanitize** with ammonia using the same policy: the final word on what survives (no
//!    scripts, event handlers, `style`, frames or unsafe URLs), and every link gets
//!    `rel="noopener noreferrer nofollow"`.
//!
//! Hostile input is bounded before it reaches the sanitizer, whose HTML parser (html5ever)
//! and serializer have superlinear corners (see `tests/hostile.rs`):
//!
//! - **Nesting**: the writer flattens Markdown containers beyond 48 open elements and inline
//!   and raw HTML elements beyond 64 (content kept, tags dropped), so the parser never sees
//!   more than about 72 levels: no deep stacks, no long scope scans.
//! - **Text and attribute values**: html5ever's serializer is quadratic in the number of `&`
//!   in one text node; the writer breaks long text with empty comments, which the sanitizer
//!   strips, and keeps attribute values within the same budget (`budget`).
//! - **Size**: input over [`DEFAULT_MAX_INPUT_BYTES`] (configurable) is shown as escaped
//!   source instead of being rendered.
//!
//! Rendering does not panic and does not recurse; the hostile-input and random-input tests
//! check both.

mod budget;
mod escape;
mod policy;
mod raw;
mod slug;
mod writer;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use orbit_ports::{MarkdownRenderer, Rendered};
use pulldown_cmark::{Options, Parser};

/// Markdown longer than this (in bytes) is not parsed by default: it is shown as its source,
/// escaped, in a `<pre>` block. Twice Orbit's default page-size limit (1 MiB). Rendering
/// costs about 40 bytes of transient memory per input byte on markup-dense input (the
/// sanitizer's DOM) and around 0.3 s per MiB in a release build, so this bounds both.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 2 << 20;

/// Renders CommonMark with GitHub tables, task lists and strikethrough to sanitized HTML, plain
/// text and a heading list. Cheap to share: build one and keep it (`Send + Sync`).
pub struct CommonMarkRenderer {
    sanitizer: ammonia::Builder<'static>,
    max_input_bytes: usize,
}

impl CommonMarkRenderer {
    pub fn new() -> Self {
        Self {
            sanitizer: sanitizer(),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }

    /// Sets the largest input rendered as Markdown (default [`DEFAULT_MAX_INPUT_BYTES`]);
    /// larger input is shown as escaped source in a `<pre>` block, with its plain text but no
    /// headings. Keep it at or above the application's body-size limit.
    pub fn with_max_input_bytes(mut self, bytes: usize) -> Self {
        self.max_input_bytes = bytes;
        self
    }

    /// The fallback for oversized input. Safe by construction (one fixed tag around escaped
    /// text: nothing from the input is markup), so it skips the sanitizer, whose serializer
    /// is quadratic on long text full of `&` (see [`budget`]).
    fn render_source(&self, markdown: &str) -> Rendered {
        let mut html = String::with_capacity(markdown.len() + markdown.len() / 8 + 16);
        // A parser drops a newline right after `<pre>`: this one, not the author's.
        html.push_str("<pre>\n");
        escape::text(&mut html, markdown);
        html.push_str("</pre>\n");
        Rendered {
            html,
            text: writer::normalize_whitespace(markdown),
            headings: Vec::new(),
        }
    }

    fn options() -> Options {
        Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH
    }
}

impl Default for CommonMarkRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CommonMarkRenderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommonMarkRenderer").finish_non_exhaustive()
    }
}

impl MarkdownRenderer for CommonMarkRenderer {
    fn render(&self, markdown: &str) -> Rendered {
        if markdown.len() > self.max_input_bytes {
            return self.render_source(markdown);
        }
        let parser = Parser::new_ext(markdown, Self::options());
        let out = writer::Writer::new(markdown.len()).run(parser);
        let html = self.sanitizer.clean(&out.html).to_string();
        Rendered {
            html,
            text: out.text,
            headings: out.headings,
        }
    }
    /// Text and headings come from the writer, before and apart from sanitizing: the same as
    /// `render`'s, without the sanitizer's cost (most of a render).
    fn text(&self, markdown: &str) -> Rendered {
        if markdown.len() > self.max_input_bytes {
            return Rendered {
                html: String::new(),
                ..self.render_source(markdown)
            };
        }
        let parser = Parser::new_ext(markdown, Self::options());
        let out = writer::Writer::new(markdown.len()).run(parser);
        Rendered {
            html: String::new(),
            text: out.text,
            headings: out.headings,
        }
    }
}

/// The ammonia policy: the allowlists of [`policy`], plus checks on the values the writer
/// produces.
fn sanitizer() -> ammonia::Builder<'static> {
    let mut tag_attributes: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
    for (tag, attrs) in policy::RAW_TAG_ATTRS.iter().chain(policy::WRITER_TAG_ATTRS) {
        tag_attributes
            .entry(tag)
            .or_default()
            .extend(attrs.iter().copied());
    }
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(
            policy::RAW_TAGS
                .iter()
                .chain(policy::WRITER_ONLY_TAGS)
                .copied()
                .collect(),
        )
        .clean_content_tags(policy::DROP_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(tag_attributes)
        .generic_attributes(policy::GLOBAL_ATTRS.iter().copied().collect())
        .generic_attribute_prefixes(HashSet::new())
        .url_schemes(policy::URL_SCHEMES.iter().copied().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some(policy::LINK_REL))
        .strip_comments(true)
        .id_prefix(None)
        // Whatever reaches the sanitizer, an `<input>` is a disabled checkbox.
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .attribute_filter(filter_attribute);
    builder
}

fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    let keep = match (element, attribute) {
        ("code", "class") => policy::is_language_class(value),
        ("input", "class") => value == policy::TASK_CHECKBOX_CLASS,
        ("img", "src") => {
            policy::url_scheme(value).is_none_or(|scheme| scheme == "http" || scheme == "https")
        }
        ("td" | "th", "align") => ["left", "center", "right"]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(value.trim())),
        ("ol", "start") => is_number(value, 9),
        ("td" | "th", "colspan" | "rowspan") | ("col" | "colgroup", "span") => is_number(value, 3),
        ("img", "width" | "height") => is_number(value, 5),
        _ => true,
    };
    keep.then_some(Cow::Borrowed(value))
}

/// Whether `value` is a decimal number of at most `digits` digits.
fn is_number(value: &str, digits: usize) -> bool {
    let value = value.trim();
    !value.is_empty() && value.len() <= digits && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(markdown: &str) -> String {
        CommonMarkRenderer::new().render(markdown).html
    }

    #[test]
    fn renderer_is_shareable() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<CommonMarkRenderer>();
        let _: Box<dyn MarkdownRenderer> = Box::new(CommonMarkRenderer::default());
    }

    #[test]
    fn renders_commonmark() {
        assert_eq!(
            html("Hello *world*, **bold** and `code`."),
            "<p>Hello <em>world</em>, <strong>bold</strong> and <code>code</code>.</p>\n"
        );
    }

    #[test]
    fn attribute_filter_checks_values() {
        assert!(filter_attribute("code", "class", "language-rust").is_some());
        assert!(filter_attribute("code", "class", "language-rust evil").is_none());
        assert!(filter_attribute("img", "src", "https://x/y.png").is_some());
        assert!(filter_attribute("img", "src", "y.png").is_some());
        assert!(filter_attribute("img", "src", "mailto:a@b").is_none());
        assert!(filter_attribute("td", "align", "center").is_some());
        assert!(filter_attribute("td", "align", "justify").is_none());
        assert!(filter_attribute("ol", "start", "3").is_some());
        assert!(filter_attribute("ol", "start", "-3").is_none());
        assert!(filter_attribute("td", "colspan", "100000").is_none());
        assert!(filter_attribute("a", "href", "/x").is_some());
    }

    #[test]
    fn flattening_keeps_content() {
        let depth = writer::MAX_DEPTH * 2;
        let md = "> ".repeat(depth) + "deep";
        let out = CommonMarkRenderer::new().render(&md);
        assert_eq!(out.text, "deep");
        assert!(out.html.contains("deep"));
        let quotes = out.html.matches("<blockquote>").count();
        assert_eq!(quotes, writer::MAX_CONTAINER_DEPTH);
    }
}
