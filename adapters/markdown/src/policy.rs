//! What may appear in the output: the one policy that both the raw-HTML canonicalizer (the
//! writer) and the sanitizer (ammonia) enforce.

/// Tags that raw HTML inside Markdown may use. None of them switches the HTML parser out of
/// its normal data state (no `script`, `style`, `textarea`, `title`, `svg`, `math`…), so what
/// the writer emits parses exactly as written.
pub(crate) const RAW_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Raw tags that stay open after the HTML block that opened them, so that Markdown can go
/// inside (`<details>`, `<div>`, `<td>`…). Others are closed with the block.
pub(crate) const RAW_CONTAINER_TAGS: &[&str] = &[
    "blockquote",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figure",
    "li",
    "ol",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Tags the writer itself emits beyond [`RAW_TAGS`] (task-list checkboxes).
pub(crate) const WRITER_ONLY_TAGS: &[&str] = &["input"];

/// Void elements among the allowed tags: never pushed on the element stack.
pub(crate) const VOID_TAGS: &[&str] = &["br", "col", "hr", "img", "input", "wbr"];

/// Raw tags that are dropped together with their content (the content of most of them is not
/// markup at all, and showing a script's source as text helps nobody).
pub(crate) const DROP_WITH_CONTENT: &[&str] = &[
    "applet",
    "frameset",
    "iframe",
    "math",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "plaintext",
    "script",
    "select",
    "style",
    "svg",
    "template",
    "textarea",
    "title",
    "xmp",
];

/// Attributes allowed on every allowed tag.
pub(crate) const GLOBAL_ATTRS: &[&str] = &["lang", "title"];

/// Attributes raw HTML may set, per tag (besides [`GLOBAL_ATTRS`]). Never `id`, `class`,
/// `style`, `on*` or `rel`.
pub(crate) const RAW_TAG_ATTRS: &[(&str, &[&str])] = &[
    ("a", &["href"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("del", &["datetime"]),
    ("details", &["open"]),
    ("img", &["src", "alt", "width", "height"]),
    ("ins", &["datetime"]),
    ("ol", &["start"]),
    ("td", &["align", "colspan", "rowspan"]),
    ("th", &["align", "colspan", "rowspan"]),
    ("time", &["datetime"]),
];

/// Attributes only the writer sets (heading anchors, code languages, task-list checkboxes).
pub(crate) const WRITER_TAG_ATTRS: &[(&str, &[&str])] = &[
    ("h1", &["id"]),
    ("h2", &["id"]),
    ("h3", &["id"]),
    ("h4", &["id"]),
    ("h5", &["id"]),
    ("h6", &["id"]),
    ("code", &["class"]),
    ("input", &["type", "checked", "disabled", "class"]),
];

/// The class of a task-list checkbox.
pub(crate) const TASK_CHECKBOX_CLASS: &str = "task-list-item-checkbox";

/// The `rel` every link gets.
pub(crate) const LINK_REL: &str = "noopener noreferrer nofollow";

/// URL schemes allowed in `href` (relative URLs and `#fragment`s are allowed too); `src` allows
/// only `http` and `https`.
pub(crate) const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// The longest language token kept on a code block.
pub(crate) const MAX_LANGUAGE_LEN: usize = 32;

/// Looks `name` up in `list` ASCII case-insensitively, returning the list's (lowercase,
/// `'static`) spelling.
pub(crate) fn lookup(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter().copied().find(|t| t.eq_ignore_ascii_case(name))
}

/// Whether raw HTML may set `attr` (lowercase) on `tag`.
pub(crate) fn raw_attr_allowed(tag: &str, attr: &str) -> bool {
    GLOBAL_ATTRS.contains(&attr)
        || RAW_TAG_ATTRS
            .iter()
            .any(|(t, attrs)| *t == tag && attrs.contains(&attr))
}

/// The code-block language token: the first word of the info string, reduced to
/// `[A-Za-z0-9_+-]` and cut to [`MAX_LANGUAGE_LEN`] characters.
pub(crate) fn language(info: &str) -> String {
    info.split(|c: char| c.is_whitespace() || c == ',' || c == '{')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
        .take(MAX_LANGUAGE_LEN)
        .collect()
}

/// Whether `class` is one the writer puts on `<code>`: `language-` and a valid token.
pub(crate) fn is_language_class(class: &str) -> bool {
    class.strip_prefix("language-").is_some_and(|lang| {
        !lang.is_empty()
            && lang.len() <= MAX_LANGUAGE_LEN
            && lang
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
    })
}

/// The scheme of `url` as a browser would read it (leading/trailing controls and spaces
/// trimmed, tabs and newlines removed, lowercased), or `None` for a relative URL.
pub(crate) fn url_scheme(url: &str) -> Option<String> {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let mut scheme = String::new();
    for c in trimmed.chars() {
        match c {
            '\t' | '\n' | '\r' => continue,
            ':' => break,
            c if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') => {
                scheme.push(c.to_ascii_lowercase());
            }
            _ => return None,
        }
    }
    let starts_alpha = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    (starts_alpha && trimmed.contains(':')).then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tokens_are_sanitized() {
        assert_eq!(language("rust"), "rust");
        assert_eq!(language("c++ linenos"), "c++");
        assert_eq!(language("js,ignore"), "js");
        assert_eq!(language("\"><script>"), "script");
        assert_eq!(language("x\u{e9}y"), "xy");
        assert_eq!(language(&"a".repeat(100)).len(), MAX_LANGUAGE_LEN);
        assert_eq!(language(""), "");
        assert!(is_language_class("language-objective-c"));
        assert!(!is_language_class("language-"));
        assert!(!is_language_class("language-a b"));
        assert!(!is_language_class("hljs"));
    }

    #[test]
    fn url_schemes_are_read_like_a_browser() {
        assert_eq!(url_scheme("https://x").as_deref(), Some("https"));
        assert_eq!(
            url_scheme(" \tJava\nScript:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(url_scheme("mailto:a@b").as_deref(), Some("mailto"));
        assert_eq!(url_scheme("/a:b"), None);
        assert_eq!(url_scheme("img.png"), None);
        assert_eq!(url_scheme("#top"), None);
        assert_eq!(url_scheme("1x:y"), None);
    }

    #[test]
    fn lookups_are_case_insensitive() {
        assert_eq!(lookup(RAW_TAGS, "DiV"), Some("div"));
        assert_eq!(lookup(RAW_TAGS, "script"), None);
        assert!(raw_attr_allowed("a", "href"));
        assert!(raw_attr_allowed("span", "title"));
        assert!(!raw_attr_allowed("a", "onclick"));
        assert!(!raw_attr_allowed("h1", "id"));
    }
}
