//! What the renderer produces: CommonMark + GitHub extensions, anchors, plain text, and what
//! the sanitizer lets through.

use orbit_markdown::CommonMarkRenderer;
use orbit_ports::{MarkdownRenderer, Rendered};

fn render(markdown: &str) -> Rendered {
    CommonMarkRenderer::new().render(markdown)
}

fn html(markdown: &str) -> String {
    render(markdown).html
}

/// Asserts that nothing active survives: no dangerous element, no event handler, no `style`,
/// no URL with a scheme other than http, https or mailto. (Text may say anything: the
/// serializer escapes `<` and `>` in text and attribute values, so every `<` starts a tag.)
fn assert_inert(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            !matches!(
                name.as_str(),
                "script"
                    | "style"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "svg"
                    | "math"
                    | "form"
                    | "textarea"
                    | "noscript"
                    | "template"
                    | "base"
                    | "meta"
                    | "link"
            ),
            "<{tag}> in {html}"
        );
        for (attr, value) in attributes(tag) {
            assert!(!attr.starts_with("on"), "event handler in <{tag}>");
            assert!(
                !matches!(attr.as_str(), "style" | "srcdoc" | "formaction"),
                "<{tag}>"
            );
            if matches!(attr.as_str(), "href" | "src" | "action" | "data" | "cite") {
                if let Some(scheme) = url_scheme(&value) {
                    assert!(
                        ["http", "https", "mailto"].contains(&scheme.as_str()),
                        "{scheme}: URL in <{tag}>"
                    );
                }
            }
        }
    }
}

/// The attributes of a serialized start tag (`name attr="value" …`), values decoded.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.split_once(char::is_whitespace).map_or("", |(_, r)| r);
    while let Some((name, after)) = rest.trim_start().split_once("=\"") {
        let (value, after) = after.split_once('"').unwrap_or((after, ""));
        let value = value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&");
        out.push((name.trim().to_ascii_lowercase(), value));
        rest = after;
    }
    out
}

/// The scheme of a URL as a browser reads it, `None` when relative.
fn url_scheme(url: &str) -> Option<String> {
    let url: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (scheme, _) = url.split_once(':')?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then(|| scheme.to_ascii_lowercase())
}

#[test]
fn empty_and_whitespace_input() {
    assert_eq!(render(""), Rendered::default());
    let out = render("   \n\n\t\n");
    assert_eq!(out.html, "");
    assert_eq!(out.text, "");
}

#[test]
fn paragraphs_emphasis_code_and_breaks() {
    assert_eq!(
        html("Hello *world*, **bold**, ~~gone~~ and `a < b`.\nnext  \nline"),
        "<p>Hello <em>world</em>, <strong>bold</strong>, <del>gone</del> and \
         <code>a &lt; b</code>.\nnext<br>\nline</p>\n"
    );
    assert_eq!(html("a\n\n---\n\nb"), "<p>a</p>\n<hr>\n<p>b</p>\n");
}

#[test]
fn scripts_are_stripped_with_their_content() {
    for md in [
        "<script>alert(1)</script>",
        "before <script>alert(1)</script> after",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<script>\nalert(1)\n</script>\n\nafter",
        "<scr<script>ipt>alert(1)</script>",
        "<svg><script>alert(1)</script></svg>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<style>body { background: url(javascript:alert(1)) }</style>",
        "# Title <script>alert(1)</script>",
    ] {
        let out = render(md);
        assert_inert(&out.html);
        assert!(!out.html.contains("alert"), "{md:?} -> {}", out.html);
        assert!(!out.text.contains("alert"), "{md:?} -> {}", out.text);
    }
    assert_eq!(
        html("before <script>alert(1)</script> after"),
        "<p>before  after</p>\n"
    );
}

#[test]
fn event_handlers_are_stripped() {
    let out = html("<img src=x.png onerror=alert(1)> <a href=/x onclick=\"alert(1)\">l</a>");
    assert_inert(&out);
    assert!(out.contains("<img src=\"x.png\">"), "{out}");
    assert!(out.contains("<a href=\"/x\" rel=\"noopener noreferrer nofollow\">l</a>"));
    let out = html("<div onmouseover=alert(1) ONLOAD=x>text</div>");
    assert_inert(&out);
    assert!(out.contains("<div>text</div>"), "{out}");
}

#[test]
fn unsafe_urls_are_removed() {
    for md in [
        "[a](javascript:alert(1))",
        "[a](JAVASCRIPT:alert(1))",
        "[a](java&#115;cript:alert(1))",
        "[a](<java\tscript:alert(1)>)",
        "[a](vbscript:msgbox(1))",
        "[a](data:text/html;base64,PHNjcmlwdD4=)",
        "<a href=\"javascript:alert(1)\">a</a>",
        "<a href=\"&#106;avascript:alert(1)\">a</a>",
        "<a href=\" javascript:alert(1)\">a</a>",
        "<a href=\"java&#x09;script:alert(1)\">a</a>",
        "[a]: javascript:alert(1)\n\n[a]",
        "<javascript:alert(1)>",
    ] {
        let out = html(md);
        assert_inert(&out);
        // Either gone, or (a tab percent-encoded) no longer a scheme at all.
        assert!(
            !out.contains("href") || out.contains("href=\"java%09script:"),
            "{md:?} -> {out}"
        );
    }
    for md in [
        "![i](javascript:alert(1))",
        "![i](data:image/svg+xml,x)",
        "![i](mailto:a@b.c)",
        "<img src=\"javascript:alert(1)\">",
    ] {
        let out = html(md);
        assert_inert(&out);
        assert!(!out.contains("src"), "{md:?} -> {out}");
    }
}

#[test]
fn safe_urls_are_kept_and_links_get_rel() {
    let out = html(
        "[h](http://a.example) [s](https://a.example/p?q=1&r=2#f) [m](mailto:x@a.example) \
         [r](docs/page.md) [f](#setup) <https://auto.example> <x@a.example>",
    );
    for href in [
        "http://a.example",
        "https://a.example/p?q=1&amp;r=2#f",
        "mailto:x@a.example",
        "docs/page.md",
        "#setup",
        "https://auto.example",
        "mailto:x@a.example",
    ] {
        let link = format!("href=\"{href}\" rel=\"noopener noreferrer nofollow\"");
        assert!(out.contains(&link), "{link} not in {out}");
    }
    let out = html("![logo](https://a.example/l.png \"The logo\") ![rel](img/x.png)");
    assert!(out.contains("<img src=\"https://a.example/l.png\" alt=\"logo\" title=\"The logo\">"));
    assert!(out.contains("<img src=\"img/x.png\" alt=\"rel\">"), "{out}");
}

#[test]
fn iframes_objects_and_forms_are_removed() {
    let out = html(
        "<iframe src=\"https://evil.example\"></iframe>x<object data=x>y</object>\
         <embed src=x><form action=/x><input name=q><button>go</button></form>",
    );
    assert_inert(&out);
    assert!(!out.contains("<input"), "{out}");
    assert!(out.contains('x') && out.contains("go"), "{out}");
}

#[test]
fn raw_html_is_allowed_through_the_sanitizer() {
    assert_eq!(
        html(
            "Some <b>bold</b>, <kbd>Ctrl</kbd> and <span title=\"t\" class=\"c\" id=\"i\" style=\"color:red\">x</span>."
        ),
        "<p>Some <b>bold</b>, <kbd>Ctrl</kbd> and <span title=\"t\">x</span>.</p>\n"
    );
    let out = html("<details>\n<summary>More</summary>\n\nHidden *markdown*\n\n</details>\n");
    assert_eq!(
        out,
        "<details>\n<summary>More</summary>\n<p>Hidden <em>markdown</em></p>\n</details>\n"
    );
    // Unbalanced raw HTML is balanced, and a raw heading gets no id.
    let out = html("<div><h2 id=\"x\">t</h2><b>unclosed\n\nnext paragraph");
    assert_eq!(
        out,
        "<div><h2>t</h2><b>unclosed\n</b><p>next paragraph</p>\n</div>"
    );
    // Comments and stray end tags disappear.
    assert_eq!(html("a <!-- secret --> b </div> c"), "<p>a  b  c</p>\n");
}

#[test]
fn tables_with_alignment() {
    let out = html("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | *2* | `3` | 4 |\n| x |");
    assert_eq!(
        out,
        "<table><thead><tr><th align=\"left\">a</th><th align=\"center\">b</th>\
         <th align=\"right\">c</th><th>d</th></tr></thead><tbody>\
         <tr><td align=\"left\">1</td><td align=\"center\"><em>2</em></td>\
         <td align=\"right\"><code>3</code></td><td>4</td></tr>\
         <tr><td align=\"left\">x</td><td align=\"center\"></td><td align=\"right\"></td>\
         <td></td></tr></tbody></table>\n"
    );
    // Raw HTML may not set arbitrary alignment values or styles.
    let out = html("<table><tr><td align=\"justify\" style=\"x\">1</td></tr></table>");
    assert_eq!(out, "<table><tbody><tr><td>1</td></tr></tbody></table>");
}

#[test]
fn task_lists_render_disabled_checkboxes() {
    let out = html("- [ ] todo\n- [x] done\n- plain");
    assert_eq!(
        out,
        "<ul>\n<li><input type=\"checkbox\" class=\"task-list-item-checkbox\" disabled=\"\"> \
         todo</li>\n<li><input type=\"checkbox\" class=\"task-list-item-checkbox\" \
         disabled=\"\" checked=\"\"> done</li>\n<li>plain</li>\n</ul>\n"
    );
    // Raw inputs are not allowed at all.
    let out = html("<input type=\"text\" value=\"x\" autofocus onfocus=alert(1)>");
    assert!(!out.contains("<input"), "{out}");
}

#[test]
fn code_blocks_get_a_sanitized_language_class() {
    assert_eq!(
        html("```rust\nfn main() {}\n```"),
        "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n"
    );
    assert_eq!(
        html("```c++ linenos\nx\n```"),
        "<pre><code class=\"language-c++\">x\n</code></pre>\n"
    );
    assert_eq!(
        html("```\"><script>alert(1)</script>\nx\n```"),
        "<pre><code class=\"language-scriptalert1script\">x\n</code></pre>\n"
    );
    let long = "a".repeat(100);
    assert_eq!(
        html(&format!("```{long}\nx\n```")),
        format!(
            "<pre><code class=\"language-{}\">x\n</code></pre>\n",
            &long[..32]
        )
    );
    assert_eq!(html("```\nplain\n```"), "<pre><code>plain\n</code></pre>\n");
    assert_eq!(
        html("    indented <b>"),
        "<pre><code>indented &lt;b&gt;</code></pre>\n"
    );
    // Raw HTML cannot set classes.
    assert_eq!(
        html("<code class=\"language-x evil\">c</code>"),
        "<p><code>c</code></p>\n"
    );
}

#[test]
fn heading_anchors_are_unique() {
    let out = render(
        "# Getting Started\n\n## Install\n\n## Install\n\n### Install 1\n\n## Install\n\n\
         ## API: `render()` & *friends*!\n\n# ???\n\nSetext\n------",
    );
    assert_eq!(
        out.headings,
        vec![
            (1, "Getting Started".into(), "getting-started".into()),
            (2, "Install".into(), "install".into()),
            (2, "Install".into(), "install-1".into()),
            (3, "Install 1".into(), "install-1-1".into()),
            (2, "Install".into(), "install-2".into()),
            (
                2,
                "API: render() & friends!".into(),
                "api-render--friends".into()
            ),
            (1, "???".into(), "section".into()),
            (2, "Setext".into(), "setext".into()),
        ]
    );
    assert!(
        out.html
            .contains("<h1 id=\"getting-started\">Getting Started</h1>")
    );
    assert!(out.html.contains("<h2 id=\"install-2\">Install</h2>"));
    assert!(out.html.contains(
        "<h2 id=\"api-render--friends\">API: <code>render()</code> &amp; <em>friends</em>!</h2>"
    ));
    let ids: Vec<_> = out.headings.iter().map(|h| &h.2).collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
}

#[test]
fn text_extraction_for_search() {
    let out = render(
        "# Title\n\nSome *emphasis*,\na [link](https://x.example) and `code`.\n\n\
         - item one\n- item **two**\n\n| h1 | h2 |\n|----|----|\n| c1 | c2 |\n\n\
         ```sh\ncargo   test\n```\n\n> quoted\n\n<div>raw &amp; html</div>\n\n\
         ![alt text](a.png)<script>hidden()</script>",
    );
    assert_eq!(
        out.text,
        "Title Some emphasis, a link and code. item one item two h1 h2 c1 c2 \
         cargo test quoted raw & html alt text"
    );
}

#[test]
fn ordered_lists_keep_their_start() {
    assert_eq!(
        html("3. three\n4. four"),
        "<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n"
    );
    assert_eq!(html("1. one"), "<ol>\n<li>one</li>\n</ol>\n");
    assert_eq!(
        html("<ol start=\"-1\"><li>x</li></ol>"),
        "<ol><li>x</li></ol>"
    );
}

#[test]
fn deep_nesting_is_flattened_not_lost() {
    let md = "> ".repeat(100) + "deep *text*";
    let out = render(&md);
    assert_eq!(out.text, "deep text");
    assert!(
        out.html.contains("<p>deep <em>text</em></p>"),
        "{}",
        out.html
    );
    assert_eq!(out.html.matches("<blockquote>").count(), 48);
    // Emphasis nested beyond the limit loses its tags, not its text.
    let md = "*a ".repeat(100) + "b" + &"* c".repeat(100);
    let out = render(&md);
    assert_eq!(out.html.matches("<em>").count(), 63);
    assert_eq!(out.text.matches('a').count(), 100);
    let md: String = (0..100)
        .map(|i| format!("{}- level {i}\n", "  ".repeat(i)))
        .collect();
    let out = render(&md);
    assert!(out.html.contains("<p>level 99</p>"), "{}", out.html);
    assert!(out.text.ends_with("level 98 level 99"));
}

#[test]
fn oversized_input_is_shown_as_source() {
    let renderer = CommonMarkRenderer::new().with_max_input_bytes(16);
    let out = renderer.render("# Big <script>x</script> & more");
    assert_eq!(
        out.html,
        "<pre>\n# Big &lt;script&gt;x&lt;/script&gt; & more</pre>\n"
    );
    assert_eq!(out.text, "# Big <script>x</script> & more");
    assert!(out.headings.is_empty());
    assert_eq!(renderer.render("# Small").headings.len(), 1);
}

#[test]
fn ampersands_and_entities_survive_text_node_breaks() {
    // Long runs of `&` are broken into several text nodes (for the serializer); the
    // characters must come out unchanged.
    let md = "a&b &amp; &copy; &#169; ".repeat(2000);
    let out = render(&md);
    let expected = "a&amp;b &amp; © © ".repeat(2000);
    assert_eq!(out.html, format!("<p>{}</p>\n", expected.trim_end()));
    let raw = format!("<div>{}</div>", "x&amp;y&#38;&copy;&nbsp;".repeat(2000));
    let out = render(&raw);
    let expected = "x&amp;y&amp;©&nbsp;".repeat(2000);
    assert_eq!(out.html, format!("<div>{expected}</div>"));
}

/// Random Markdown-ish input from hostile fragments: never a panic, never anything active in
/// the output, never deep nesting.
#[test]
fn random_hostile_fragments() {
    const FRAGMENTS: &[&str] = &[
        "<",
        ">",
        "&",
        "&amp;",
        "&#",
        ";",
        "*",
        "**",
        "_",
        "~~",
        "[",
        "]",
        "(",
        ")",
        "!",
        "`",
        "```",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "> ",
        "# ",
        "|",
        "|-|",
        " ",
        "    ",
        "\\",
        "\"",
        "'",
        "<b>",
        "</b>",
        "<div>",
        "</div>",
        "<p>",
        "<table>",
        "<td>",
        "<li>",
        "<a href=x>",
        "</a>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<img src=x onerror=y>",
        "javascript:alert(1)",
        "[x](javascript:y)",
        "<svg>",
        "<math>",
        "<textarea>",
        "<iframe>",
        "<noscript>",
        "<![CDATA[",
        "]]>",
        "- [ ] ",
        "<details>",
        "\u{a9}",
        "é",
        "<a href=\"java\tscript:x\">",
        "<input type=text>",
        "<span style=x>",
        "=\"",
    ];
    let renderer = CommonMarkRenderer::new();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    for _ in 0..2000 {
        let len = next() % 300;
        let md: String = (0..len)
            .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
            .collect();
        let out = renderer.render(&md);
        assert_inert(&out.html);
        assert!(!out.html.contains("<input type=\"text\""), "{md:?}");
    }
}

#[test]
fn text_only_gives_the_same_text_and_headings_as_a_render() {
    let renderer = CommonMarkRenderer::new().with_max_input_bytes(4096);
    let page = "# Payments\n\nThe **ledger** moves `money`.\n\n## Setup\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n<script>alert(1)</script>\n";
    let oversized = "x & y ".repeat(1000);
    for markdown in [page, "", oversized.as_str()] {
        let full = renderer.render(markdown);
        let text = renderer.text(markdown);
        assert_eq!(text.text, full.text, "{markdown:.40}");
        assert_eq!(text.headings, full.headings, "{markdown:.40}");
        assert!(text.html.is_empty());
    }
    assert_eq!(renderer.text(page).headings.len(), 2);
}
