//! Hostile input: rendering must not panic, must finish quickly and must not hand deeply
//! nested markup to the HTML parser. Each case prints its size and time (`cargo test -p
//! orbit-markdown --test hostile -- --nocapture` shows them).
//!
//! Time bounds: the sanitizer (ammonia on html5ever) runs 10–40x slower unoptimized than in a
//! release build, and these cases are its worst (a 1 MiB table is ~300,000 elements: ~5 s in a
//! debug build, ~0.6 s in release). So a case may take [`LIMIT`]: 2 s in a release build, 20 s
//! in a debug build (several times the slowest case, for a loaded 2-core machine). Anything
//! superlinear blows far past both: before the writer bounded text nodes, 1 MiB of `&` took
//! minutes in html5ever's serializer.
//!
//! The timed sections run one at a time (a lock), so that parallel test threads do not
//! inflate each other's times. Tests run on the test harness's threads (2 MiB stacks by
//! default): no case needs a large stack.

use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use orbit_markdown::CommonMarkRenderer;
use orbit_ports::{MarkdownRenderer, Rendered};

/// Per case.
const LIMIT: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(20)
} else {
    Duration::from_secs(2)
};

/// The writer flattens beyond 64 open elements; leaf blocks, the sanitizer's wrapper and
/// implicit elements (`tbody`) may add a few levels on top.
const MAX_OUTPUT_DEPTH: usize = 64 + 12;

static RENDERER: LazyLock<CommonMarkRenderer> = LazyLock::new(CommonMarkRenderer::new);
static SERIAL: Mutex<()> = Mutex::new(());

fn render(name: &str, markdown: &str) -> Rendered {
    render_with(&RENDERER, name, markdown)
}

fn render_with(renderer: &CommonMarkRenderer, name: &str, markdown: &str) -> Rendered {
    render_within(renderer, name, markdown, LIMIT)
}

fn render_within(
    renderer: &CommonMarkRenderer,
    name: &str,
    markdown: &str,
    limit: Duration,
) -> Rendered {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let out = renderer.render(markdown);
    let elapsed = start.elapsed();
    eprintln!(
        "hostile {name}: {} bytes in, {} bytes html out, {elapsed:.2?}",
        markdown.len(),
        out.html.len()
    );
    assert!(elapsed < limit, "{name} took {elapsed:?}");
    let depth = nesting_depth(&out.html);
    assert!(
        depth <= MAX_OUTPUT_DEPTH,
        "{name}: output nested {depth} deep"
    );
    out
}

/// The deepest element nesting in sanitized HTML (as serialized by html5ever: every
/// non-void element has its end tag; attribute values are quoted).
fn nesting_depth(html: &str) -> usize {
    const VOID: &[&str] = &["br", "col", "hr", "img", "input", "wbr"];
    let bytes = html.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(off) = html[i..].find('<') {
        let lt = i + off;
        let closing = bytes.get(lt + 1) == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &html[name_start..name_start + name_len];
        // Skip to the end of the tag, over quoted attribute values.
        let mut j = name_start + name_len;
        let mut quote = None;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (None, b'>') => break,
                (None, q @ (b'"' | b'\'')) => quote = Some(q),
                (Some(q), b) if b == q => quote = None,
                _ => {}
            }
            j += 1;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !VOID.contains(&name) {
            depth += 1;
            max = max.max(depth);
        }
        i = j + 1;
        if i >= html.len() {
            break;
        }
    }
    max
}

// (a) A 10 MB single line. Larger than `DEFAULT_MAX_INPUT_BYTES`: shown as escaped source.

#[test]
fn ten_megabyte_line_of_words() {
    let line = "lorem ipsum *dolor* sit `amet` ".repeat(10_000_000 / 31);
    let out = render("10MB line of words", &line);
    assert!(
        out.html
            .starts_with("<pre>\nlorem ipsum *dolor* sit `amet`")
    );
    assert!(out.text.starts_with("lorem ipsum *dolor* sit `amet` lorem"));
    assert!(out.headings.is_empty());
}

#[test]
fn ten_megabyte_line_of_one_letter() {
    let out = render("10MB of 'a'", &"a".repeat(10 << 20));
    assert_eq!(out.text.len(), 10 << 20);
}

#[test]
fn ten_megabyte_line_of_markup_characters() {
    let line = "<a &amp; [x]( `*_~|\\".repeat((10 << 20) / 20);
    let out = render("10MB line of markup characters", &line);
    assert!(out.html.starts_with("<pre>\n&lt;a &amp;amp; [x]( `*_~|\\"));
}

#[test]
fn ten_megabyte_line_of_raw_tags() {
    let line = "<script>x</script><img src=x onerror=alert(1)>".repeat((10 << 20) / 46);
    let out = render("10MB line of raw tags", &line);
    assert!(!out.html.contains("<script") && !out.html.contains("<img"));
}

/// The whole pipeline on 10 MB lines, without the size cap: 0.1–2.6 s per case in a release
/// build (bound: 10 s), but a minute unoptimized: run with `cargo test --release -p
/// orbit-markdown --test hostile` (or with `-- --ignored` in a debug build, no time bound).
#[test]
#[cfg_attr(debug_assertions, ignore = "slow unoptimized: run with --release")]
fn ten_megabyte_lines_through_the_full_pipeline() {
    let renderer = CommonMarkRenderer::new().with_max_input_bytes(usize::MAX);
    let cases = [
        (
            "words",
            "lorem ipsum *dolor* sit `amet` ".repeat(10_000_000 / 31),
        ),
        ("one letter", "a".repeat(10 << 20)),
        (
            "markup characters",
            "<a &amp; [x]( `*_~|\\".repeat((10 << 20) / 20),
        ),
        (
            "raw tags",
            "<b>x</b><i title=\"t\">y</i><span>".repeat((10 << 20) / 32),
        ),
    ];
    for (name, line) in cases {
        let limit = if cfg!(debug_assertions) {
            Duration::MAX
        } else {
            Duration::from_secs(10)
        };
        let name = format!("10MB line of {name}, uncapped");
        let out = render_within(&renderer, &name, &line, limit);
        assert!(out.html.starts_with("<p>"));
    }
}

// (b) Deeply nested containers.

#[test]
fn ten_thousand_nested_bullet_lists() {
    let out = render("'- ' x 10000", &("- ".repeat(10_000) + "x"));
    assert_eq!(out.text, "x");
    // A line of dashes alone is a thematic break: also fine.
    render("'- ' x 10000 (thematic break)", &"- ".repeat(10_000));
}

#[test]
fn ten_thousand_nested_ordered_and_mixed_lists() {
    render("'1. ' x 10000", &("1. ".repeat(10_000) + "x"));
    render("'* > ' x 5000", &("* > ".repeat(5_000) + "x"));
    render("'- [ ] ' x 10000", &("- [ ] ".repeat(10_000) + "x"));
}

#[test]
fn ten_thousand_nested_block_quotes() {
    let out = render("'> ' x 10000", &("> ".repeat(10_000) + "x"));
    assert_eq!(out.text, "x");
    render("'>' x 100000", &">".repeat(100_000));
}

#[test]
fn lists_nested_by_indentation() {
    // One item per level, each indented under the previous: ~1 MB for 1000 levels.
    let md: String = (0..1000)
        .map(|level| format!("{}- item {level}\n", "  ".repeat(level)))
        .collect();
    let out = render("1000 indented list levels", &md);
    assert!(out.text.starts_with("item 0 item 1 item 2"));
    assert!(out.text.ends_with("item 998 item 999"));
    // Items beyond the depth limit become paragraphs of their own.
    assert!(out.html.contains("<p>item 999</p>"));
}

#[test]
fn deep_flattened_items_keep_loose_and_tight_content_apart() {
    let md = "> ".repeat(200) + "- a\n" + &"> ".repeat(200) + "- b\n";
    let out = render("deep items", &md);
    assert_eq!(out.text, "a b");
    assert!(out.html.contains("<p>a</p>") && out.html.contains("<p>b</p>"));
}

// (c) Brackets.

#[test]
fn hundred_thousand_open_brackets() {
    let out = render("'[' x 100000", &"[".repeat(100_000));
    assert_eq!(out.text.len(), 100_000);
    render("'![' x 50000", &"![".repeat(50_000));
    render("'[a](' x 50000", &"[a](".repeat(50_000));
    render(
        "'[' x 50000 + ']' x 50000",
        &("[".repeat(50_000) + "a" + &"]".repeat(50_000)),
    );
    render(
        "nested links '[[' .. '](u)'",
        &("[".repeat(20_000) + "a" + &"](u)".repeat(20_000)),
    );
    let refs = "[x]: /u\n".to_string() + &"[x]".repeat(100_000);
    render("100000 reference links", &refs);
}

// (d) Emphasis.

#[test]
fn fifty_thousand_emphasis_openers() {
    let out = render("'*a' x 50000", &"*a".repeat(50_000));
    assert!(out.text.contains('a'));
    render("'_a' x 50000", &"_a".repeat(50_000));
    render("'**a' x 50000", &"**a".repeat(50_000));
    render("'~~a' x 50000", &"~~a".repeat(50_000));
}

#[test]
fn deeply_nested_emphasis() {
    let n = 50_000;
    let md = "*".repeat(n) + "a" + &"*".repeat(n);
    let out = render("'*' x 50000 + a + '*' x 50000", &md);
    assert_eq!(out.text, "a");
    let md = "*a ".repeat(n) + &" b*".repeat(n);
    let out = render("'*a ' x 50000 + ' b*' x 50000", &md);
    assert!(out.text.starts_with("a a a"));
    let md = "[*".repeat(20_000) + "x" + &"*](/u)".repeat(20_000);
    render("links and emphasis interleaved", &md);
}

// (e) A 1 MiB table.

#[test]
fn one_mebibyte_table_of_rows() {
    let mut md = String::from("| a | b | c |\n|---|:-:|--:|\n");
    while md.len() < 1 << 20 {
        md.push_str("| 1 | *2* | `3` |\n");
    }
    let out = render("1 MiB table (rows)", &md);
    assert!(out.html.contains("<td align=\"center\"><em>2</em></td>"));
}

#[test]
fn one_mebibyte_table_wide_header_short_rows() {
    // 100,000 columns, then rows with one cell each: pulldown-cmark caps the empty cells it
    // fills in, so the output stays proportional.
    let cols = 100_000;
    let mut md = "|a".repeat(cols) + "|\n" + &"|-".repeat(cols) + "|\n";
    while md.len() < 1 << 20 {
        md.push_str("|x\n");
    }
    let out = render("1 MiB table (wide header)", &md);
    assert!(out.html.len() < 64 << 20);
}

#[test]
fn one_mebibyte_table_of_one_row() {
    let md = "|a|b|\n|-|-|\n".to_string() + &"|x".repeat(1 << 19);
    render("1 MiB table (one long row)", &md);
}

// Raw HTML: nesting that the HTML parser would otherwise build (and scan) in full.

#[test]
fn deeply_nested_raw_html() {
    for tag in [
        "div",
        "b",
        "span",
        "blockquote",
        "table",
        "a",
        "li",
        "ul",
        "p",
        "em",
    ] {
        let md = format!("<{tag}>").repeat(100_000);
        let name = format!("'<{tag}>' x 100000");
        render(&name, &md);
        let inline = format!("x <{tag}>").repeat(50_000);
        render(&format!("inline {name}"), &inline);
    }
    render("'</div>' x 100000", &"</div>".repeat(100_000));
}

#[test]
fn formatting_elements_reopened_in_every_paragraph() {
    // Unclosed formatting elements with distinct attributes defeat the HTML parser's
    // "Noah's Ark" limit: a parser that gets them all reopens every one of them in each new
    // paragraph (quadratic output). The writer closes them with their paragraph.
    let md: String = (0..50_000)
        .map(|i| format!("<p><b title={i}>x\n"))
        .collect();
    render("unclosed <b title=N> per paragraph", &md);
    let md: String = (0..50_000).map(|i| format!("<b title={i}>x\n\n")).collect();
    render("unclosed inline <b title=N> per paragraph", &md);
}

#[test]
fn unclosed_script_and_comments() {
    let md = "<script>".to_string() + &"alert(1)\n".repeat(100_000);
    let out = render("unclosed <script> + 900 KB", &md);
    assert!(!out.html.contains("alert"));
    let md = "<!--".to_string() + &"<b>".repeat(100_000);
    render("unclosed comment", &md);
    render("'<!--' x 100000", &"<!--".repeat(100_000));
    render("'<a x=\"' x 100000", &"<a x=\"".repeat(100_000));
}

/// html5ever's serializer scans to the next `<`/`>` for every `&` or 0xC2 byte it escapes:
/// quadratic in the length of a text node or attribute value unless the writer keeps them
/// short (text runs are cut by stripped comments, attribute values are capped).
#[test]
fn ampersands_and_latin1_in_long_text_and_attributes() {
    const MIB: usize = 1 << 20;
    let out = render("1 MiB of '&'", &"&".repeat(MIB));
    assert_eq!(out.text.len(), MIB);
    assert!(!out.html.contains("<!--"));
    render("1 MiB of 'a&amp;b '", &"a&amp;b ".repeat(MIB / 8));
    render("1 MiB of '\u{a9}'", &"\u{a9}".repeat(MIB / 2));
    render("1 MiB of '\u{a0}'", &"\u{a0}".repeat(MIB / 2));
    render("1 MiB of '&nbsp;'", &"&nbsp;".repeat(MIB / 6));
    render("1 MiB code span of '&'", &format!("`{}`", "&".repeat(MIB)));
    render(
        "1 MiB code block of '&'",
        &format!("```\n{}\n```", "&".repeat(MIB)),
    );
    render("1 MiB heading of '&'", &format!("# {}", "&".repeat(MIB)));
    render(
        "1 MiB raw HTML text of '&amp;'",
        &format!("<div>\n{}", "&amp;".repeat(MIB / 5)),
    );
    render(
        "1 MiB table of '&'",
        &format!("|{0}|\n|-|\n|{0}|", "&".repeat(MIB / 2)),
    );
    let link = format!("[x]({}) ", "&".repeat(4096));
    render(
        "2 MiB of links with 4 KB '&' URLs",
        &link.repeat((2 * MIB - 1024) / link.len()),
    );
    let image = format!("![{0}](u \"{0}\") ", "&".repeat(MIB / 4));
    render("1 MiB image alt/title of '&'", &image);
    let raw = format!(
        "<a href=\"{0}\" title=\"{0}\">x</a>",
        "&amp;".repeat(MIB / 10)
    );
    render("1 MiB raw attributes of '&amp;'", &raw);
}

/// Patterns that were quadratic in some Markdown parser at some point.
#[test]
fn known_parser_pathologies() {
    let runs: Vec<String> = (1..1000).map(|i| "`".repeat(i)).collect();
    render("backtick runs of every length", &runs.join("a"));
    render("'a_' x 100000", &"a_".repeat(100_000));
    render("'\\*' x 100000", &"\\*".repeat(100_000));
    render("'<a:' x 100000", &"<a:".repeat(100_000));
    render("'<a@' x 100000", &"<a@".repeat(100_000));
    render("'![[]()' x 50000", &"![[]()".repeat(50_000));
    render("'|' x 1 MiB", &"|".repeat(1 << 20));
    render("'|a' lines", &"|a\n".repeat(300_000));
    render("'*a**' x 50000", &"*a**".repeat(50_000));
    render("'a*_' x 50000", &"a*_".repeat(50_000));
    render("'[a]: <' lines", &"[a]: <\n".repeat(100_000));
    render(
        "50000 list items with continuation lines",
        &"- a\n  b\n".repeat(50_000),
    );
    render("200000 empty ordered items", &"1.\n".repeat(200_000));
    render("'> - ' lines", &"> - a\n".repeat(100_000));
    render("'~~~' fences", &"~~~\n".repeat(200_000));
    render("'<!--' per line", &"<!--\n".repeat(200_000));
    render("html block lines", &"<div>\n".repeat(200_000));
}

#[test]
fn many_headings_with_the_same_text() {
    let md = "# Same\n".repeat(100_000);
    let out = render("100000 equal headings", &md);
    assert_eq!(out.headings.len(), 100_000);
    assert_eq!(out.headings[99_999].2, "same-99999");
    let md = format!("# {}\n", "x".repeat(1 << 20));
    let out = render("1 MiB heading", &md);
    assert!(out.headings[0].2.len() <= 100);
}

#[test]
fn nesting_depth_helper_counts_elements() {
    assert_eq!(
        nesting_depth("<p>a<b title=\"<i>\">b<br></b></p><p></p>"),
        2
    );
    assert_eq!(nesting_depth("text"), 0);
}
