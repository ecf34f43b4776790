//! Turns pulldown-cmark's event stream into HTML (still to be sanitized), plain text and the
//! heading list.
//!
//! Two things make the result safe to hand to an HTML parser whatever the input:
//!
//! - **Bounded nesting.** Every element the writer opens sits on one stack (Markdown
//!   containers, inline elements, raw HTML elements). Once [`MAX_CONTAINER_DEPTH`] elements
//!   are open, further Markdown containers (lists, items, block quotes) are *flattened*: their
//!   content is kept, their tags are not written, and text directly inside a flattened list
//!   item gets a paragraph of its own. Once [`MAX_DEPTH`] elements are open, inline elements
//!   (emphasis, links…) and raw HTML elements are flattened too. Leaf blocks (paragraphs,
//!   headings, code blocks, tables) are always written; they add a few levels at most. So
//!   the parser and sanitizer never see more than about `MAX_DEPTH + 8` levels.
//! - **Canonical raw HTML.** Raw HTML is tokenized ([`crate::raw`]) and re-emitted with
//!   allowed tags and attributes only, properly quoted, each end tag matched to an element the
//!   writer opened (others are dropped) and every element closed by the end of the Markdown
//!   element it was opened in. `<script>`, `<style>`, `<iframe>`… are dropped with their content.
//!
//! The writer is a single pass over the events with O(1) work per event (plus work bounded by
//! `MAX_DEPTH`), so it is linear in the input.

use std::mem;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, LinkType, Tag, TagEnd};

use crate::budget::{self, TextRun};
use crate::escape;
use crate::policy;
use crate::raw::{Token, Tokenizer};
use crate::slug::Slugger;

/// The most elements open at once before inline and raw HTML elements are flattened.
pub(crate) const MAX_DEPTH: usize = 64;

/// The most elements open at once before Markdown containers (lists, items, block quotes) are
/// flattened: lower than [`MAX_DEPTH`], so that the content of the deepest containers keeps
/// its emphasis and links. 24 levels of nested lists (`ul` + `li` each).
pub(crate) const MAX_CONTAINER_DEPTH: usize = 48;

/// What the writer produced for one document.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub html: String,
    pub text: String,
    pub headings: Vec<(u8, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A Markdown container that may hold blocks: list, item, block quote.
    Container,
    /// A Markdown leaf block (paragraph, heading, code block, table parts): always written.
    Leaf,
    /// A Markdown inline element (emphasis, strong, strikethrough, link).
    Inline,
    /// A `<p>` the writer opened for text directly inside a flattened container.
    ImplicitParagraph,
    /// An element from raw HTML; `inline` when it came from inline HTML inside a paragraph.
    Raw { inline: bool },
}

#[derive(Debug)]
struct Frame {
    kind: Kind,
    /// The markup that closes the element, `""` when it was flattened (or closes specially).
    close: &'static str,
    /// The element's name, for raw HTML end tags.
    name: &'static str,
    written: bool,
}

struct HeadingCapture {
    level: HeadingLevel,
    /// The document's HTML so far; the heading's content is written into a fresh buffer.
    outer_html: String,
    text: String,
}

struct ImageCapture<'a> {
    dest: pulldown_cmark::CowStr<'a>,
    title: pulldown_cmark::CowStr<'a>,
    alt: String,
    /// Start tags seen inside the image's description and not yet ended.
    nesting: usize,
}

#[derive(Default)]
struct Table {
    alignments: Vec<Alignment>,
    in_head: bool,
    body_open: bool,
    cell: usize,
}

/// Raw HTML content being skipped: the content of a dropped `<script>`, `<style>`…
struct Suppress {
    /// The end tag that ends the skipping.
    name: &'static str,
    /// The stack height when it started; the end of the element below ends it too.
    depth: usize,
}

pub(crate) struct Writer<'a> {
    out: Output,
    stack: Vec<Frame>,
    /// How many frames on the stack were written (flattened ones are not counted).
    open: usize,
    slugger: Slugger,
    heading: Option<HeadingCapture>,
    image: Option<ImageCapture<'a>>,
    table: Table,
    suppress: Option<Suppress>,
    /// The text of the HTML block being read (its lines arrive as separate events).
    html_block: String,
    /// The text written since the last text-node break (see [`crate::budget`]).
    run: TextRun,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            out: Output {
                html: String::with_capacity(capacity + capacity / 4),
                text: String::with_capacity(capacity),
                headings: Vec::new(),
            },
            stack: Vec::new(),
            open: 0,
            slugger: Slugger::default(),
            heading: None,
            image: None,
            table: Table::default(),
            suppress: None,
            html_block: String::new(),
            run: TextRun::default(),
        }
    }

    pub(crate) fn run(mut self, events: impl Iterator<Item = Event<'a>>) -> Output {
        for event in events {
            self.event(event);
        }
        self.finish()
    }

    fn finish(mut self) -> Output {
        self.flush_html_block();
        // Only reachable with an unbalanced event stream, which pulldown-cmark does not
        // produce; close whatever is open anyway.
        while let Some(frame) = self.stack.pop() {
            self.close_frame(&frame);
        }
        if let Some(heading) = self.heading.take() {
            let inner = mem::replace(&mut self.out.html, heading.outer_html);
            self.out.html.push_str(&inner);
        }
        self.out.text = normalize_whitespace(&self.out.text);
        self.out
    }

    fn event(&mut self, event: Event<'a>) {
        if let Event::Html(html) = event {
            self.html_block.push_str(&html);
            return;
        }
        self.flush_html_block();
        if self.suppress.is_some() {
            self.suppressed_event(event);
            return;
        }
        if self.image.is_some() {
            self.image_event(event);
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                self.ensure_inline_context();
                self.write_text(&text, false);
                self.push_text(&text);
            }
            Event::Code(code) => {
                self.ensure_inline_context();
                self.out.html.push_str("<code>");
                self.write_text(&code, false);
                self.out.html.push_str("</code>");
                self.push_text(&code);
            }
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                self.ensure_inline_context();
                self.write_text(&math, false);
                self.push_text(&math);
            }
            Event::FootnoteReference(name) => {
                self.ensure_inline_context();
                self.write_text("[^", false);
                self.write_text(&name, false);
                self.write_text("]", false);
            }
            Event::InlineHtml(html) => {
                self.ensure_inline_context();
                self.raw_html(&html, true);
            }
            Event::Html(_) => {} // handled above
            Event::SoftBreak => {
                self.out.html.push('\n');
                self.push_text(" ");
            }
            Event::HardBreak => {
                self.out.html.push_str("<br>\n");
                self.push_text(" ");
            }
            Event::Rule => {
                self.close_inline_frames();
                self.out.html.push_str("<hr>\n");
                self.push_text(" ");
            }
            Event::TaskListMarker(checked) => {
                self.ensure_inline_context();
                self.out.html.push_str("<input type=\"checkbox\" class=\"");
                self.out.html.push_str(policy::TASK_CHECKBOX_CLASS);
                self.out.html.push_str("\" disabled=\"\"");
                if checked {
                    self.out.html.push_str(" checked=\"\"");
                }
                self.out.html.push_str("> ");
            }
        }
    }

    fn start(&mut self, tag: Tag<'a>) {
        match tag {
            Tag::Paragraph => {
                self.close_inline_frames();
                self.push_text(" ");
                self.open(Kind::Leaf, "<p>", "</p>\n");
            }
            Tag::Heading { level, .. } => {
                self.close_inline_frames();
                self.push_text(" ");
                let outer_html = mem::take(&mut self.out.html);
                self.heading = Some(HeadingCapture {
                    level,
                    outer_html,
                    text: String::new(),
                });
                // Written when the heading ends, once its anchor is known.
                self.push(Kind::Leaf, "", "", true);
            }
            Tag::BlockQuote(_) => {
                self.close_inline_frames();
                self.open(Kind::Container, "<blockquote>\n", "</blockquote>\n");
            }
            Tag::CodeBlock(kind) => {
                self.close_inline_frames();
                self.push_text(" ");
                let language = match &kind {
                    CodeBlockKind::Fenced(info) => policy::language(info),
                    CodeBlockKind::Indented => String::new(),
                };
                if language.is_empty() {
                    self.out.html.push_str("<pre><code>");
                } else {
                    self.out.html.push_str("<pre><code class=\"language-");
                    self.out.html.push_str(&language);
                    self.out.html.push_str("\">");
                }
                self.push(Kind::Leaf, "</code></pre>\n", "", true);
            }
            Tag::HtmlBlock => {
                self.close_inline_frames();
                self.push_text(" ");
            }
            Tag::List(Some(start)) if start != 1 => {
                self.close_inline_frames();
                if self.has_room(Kind::Container) {
                    self.out.html.push_str("<ol start=\"");
                    self.out.html.push_str(&start.to_string());
                    self.out.html.push_str("\">\n");
                }
                self.push_flattenable(Kind::Container, "</ol>\n");
            }
            Tag::List(Some(_)) => {
                self.close_inline_frames();
                self.open(Kind::Container, "<ol>\n", "</ol>\n");
            }
            Tag::List(None) => {
                self.close_inline_frames();
                self.open(Kind::Container, "<ul>\n", "</ul>\n");
            }
            Tag::Item => {
                self.close_inline_frames();
                self.push_text(" ");
                self.open(Kind::Container, "<li>", "</li>\n");
            }
            Tag::Table(alignments) => {
                self.close_inline_frames();
                self.push_text(" ");
                self.table = Table {
                    alignments,
                    ..Table::default()
                };
                self.open(Kind::Leaf, "<table>", "</table>\n");
            }
            Tag::TableHead => {
                self.table.in_head = true;
                self.table.cell = 0;
                self.open(Kind::Leaf, "<thead><tr>", "</tr></thead>");
            }
            Tag::TableRow => {
                if !self.table.in_head && !self.table.body_open {
                    self.table.body_open = true;
                    self.out.html.push_str("<tbody>");
                }
                self.table.cell = 0;
                self.open(Kind::Leaf, "<tr>", "</tr>");
            }
            Tag::TableCell => {
                let (open, close) = if self.table.in_head {
                    ("<th", "</th>")
                } else {
                    ("<td", "</td>")
                };
                self.out.html.push_str(open);
                match self.table.alignments.get(self.table.cell) {
                    Some(Alignment::Left) => self.out.html.push_str(" align=\"left\""),
                    Some(Alignment::Center) => self.out.html.push_str(" align=\"center\""),
                    Some(Alignment::Right) => self.out.html.push_str(" align=\"right\""),
                    Some(Alignment::None) | None => {}
                }
                self.out.html.push('>');
                self.push_text(" ");
                self.push(Kind::Leaf, close, "", true);
            }
            Tag::Emphasis => self.open_inline("<em>", "</em>"),
            Tag::Strong => self.open_inline("<strong>", "</strong>"),
            Tag::Strikethrough => self.open_inline("<del>", "</del>"),
            Tag::Superscript => self.open_inline("<sup>", "</sup>"),
            Tag::Subscript => self.open_inline("<sub>", "</sub>"),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                self.ensure_inline_context();
                if self.has_room(Kind::Inline) {
                    let html = &mut self.out.html;
                    html.push_str("<a");
                    let scheme = if link_type == LinkType::Email {
                        "mailto:"
                    } else {
                        ""
                    };
                    write_url(html, "href", scheme, &dest_url);
                    write_attr(html, "title", &title);
                    html.push('>');
                }
                self.push_flattenable(Kind::Inline, "</a>");
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                self.ensure_inline_context();
                self.image = Some(ImageCapture {
                    dest: dest_url,
                    title,
                    alt: String::new(),
                    nesting: 0,
                });
            }
            // Not enabled; should they ever appear, keep their content without markup.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => {
                self.close_inline_frames();
                self.push(Kind::Container, "", "", false);
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        if tag == TagEnd::HtmlBlock {
            return; // no frame: its content was flushed before this event
        }
        // Close whatever raw HTML (or implicit paragraph) was left open inside the element.
        while self
            .stack
            .last()
            .is_some_and(|f| matches!(f.kind, Kind::Raw { .. } | Kind::ImplicitParagraph))
        {
            self.pop();
        }
        match tag {
            TagEnd::Heading(_) => {
                self.pop();
                self.finish_heading();
            }
            TagEnd::Table => {
                if mem::take(&mut self.table.body_open) {
                    self.out.html.push_str("</tbody>");
                }
                self.pop();
            }
            TagEnd::TableHead => {
                self.table.in_head = false;
                self.pop();
            }
            TagEnd::TableCell => {
                self.table.cell += 1;
                self.pop();
            }
            TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock => {
                self.pop();
                self.push_text(" ");
            }
            _ => self.pop(),
        }
    }

    fn finish_heading(&mut self) {
        let Some(heading) = self.heading.take() else {
            return;
        };
        let inner = mem::replace(&mut self.out.html, heading.outer_html);
        let text = normalize_whitespace(&heading.text);
        let id = self.slugger.unique(&text);
        let level = heading.level as u8;
        self.out.html.push_str(&format!("<h{level}"));
        write_attr(&mut self.out.html, "id", &id);
        self.out.html.push('>');
        self.out.html.push_str(&inner);
        self.out.html.push_str(&format!("</h{level}>\n"));
        self.out.headings.push((level, text, id));
        self.push_text(" ");
    }

    /// Events inside an image are its description: plain text for `alt`.
    fn image_event(&mut self, event: Event<'a>) {
        let Some(image) = self.image.as_mut() else {
            return;
        };
        match event {
            Event::Start(_) => image.nesting += 1,
            Event::End(_) if image.nesting > 0 => image.nesting -= 1,
            Event::End(_) => {
                let Some(image) = self.image.take() else {
                    return;
                };
                let html = &mut self.out.html;
                html.push_str("<img");
                write_url(html, "src", "", &image.dest);
                html.push_str(" alt=\"");
                escape::attr(html, budget::fit(&image.alt));
                html.push('"');
                write_attr(html, "title", &image.title);
                html.push('>');
                self.push_text(" ");
                self.push_text(&image.alt);
                self.push_text(" ");
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                image.alt.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => image.alt.push(' '),
            _ => {}
        }
    }

    /// Events while the content of a dropped `<script>` (or similar) is skipped: Markdown
    /// structure is tracked so that the skipping ends with the element it started in.
    fn suppressed_event(&mut self, event: Event<'a>) {
        let Some(suppress) = self.suppress.as_ref() else {
            return;
        };
        match event {
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => {}
            Event::Start(_) => self.push(Kind::Container, "", "", false),
            Event::End(tag) => {
                if self.stack.len() > suppress.depth {
                    self.stack.pop();
                } else {
                    self.suppress = None;
                    self.end(tag);
                }
            }
            Event::InlineHtml(html) => self.raw_html(&html, true),
            _ => {}
        }
    }

    /// Writes raw HTML in canonical form (see the module documentation).
    fn raw_html(&mut self, html: &str, inline: bool) {
        let mut tokens = Tokenizer::new(html);
        loop {
            if let Some(suppress) = &self.suppress {
                if !tokens.skip_past_end_tag(suppress.name) {
                    return;
                }
                self.suppress = None;
            }
            let Some(token) = tokens.next() else {
                return;
            };
            match token {
                Token::Text(text) => {
                    self.write_text(text, true);
                    let mut decoded = String::new();
                    escape::decode_entities(&mut decoded, text);
                    self.push_text(&decoded);
                }
                Token::Start {
                    name,
                    attrs,
                    self_closing,
                } => self.raw_start(name, &attrs, self_closing, inline),
                Token::End { name } => self.raw_end(name),
                Token::Skip => {}
            }
        }
    }

    fn raw_start(&mut self, name: &str, attrs: &[(&str, &str)], self_closing: bool, inline: bool) {
        if let Some(name) = policy::lookup(policy::DROP_WITH_CONTENT, name) {
            if !self_closing {
                self.suppress = Some(Suppress {
                    name,
                    depth: self.stack.len(),
                });
            }
            return;
        }
        let Some(name) = policy::lookup(policy::RAW_TAGS, name) else {
            return; // unknown tag: dropped, its content kept
        };
        let void = policy::VOID_TAGS.contains(&name);
        if !void && !self.has_room(Kind::Raw { inline }) {
            return; // flattened
        }
        let html = &mut self.out.html;
        html.push('<');
        html.push_str(name);
        for (attr, value) in attrs {
            let attr = attr.to_ascii_lowercase();
            if !policy::raw_attr_allowed(name, &attr) {
                continue;
            }
            // Kept within the serializer's budget (see `crate::budget`): URLs whole or not at
            // all, other values cut.
            let value = if attr == "href" || attr == "src" {
                if budget::cost(value) > budget::BUDGET {
                    continue;
                }
                value
            } else {
                budget::fit(value)
            };
            html.push(' ');
            html.push_str(&attr);
            html.push_str("=\"");
            escape::raw_attr(html, value);
            html.push('"');
        }
        html.push('>');
        if void {
            if name == "br" || name == "hr" {
                self.push_text(" ");
            }
        } else if self_closing {
            html.push_str("</");
            html.push_str(name);
            html.push('>');
        } else {
            self.push(Kind::Raw { inline }, "", name, true);
            if !inline {
                self.push_text(" ");
            }
        }
    }

    /// Closes the raw element `name` if one is open inside the current Markdown element
    /// (closing any raw elements opened after it); otherwise the end tag is dropped.
    fn raw_end(&mut self, name: &str) {
        let Some(name) = policy::lookup(policy::RAW_TAGS, name) else {
            return;
        };
        let found = self
            .stack
            .iter()
            .rev()
            .take_while(|f| matches!(f.kind, Kind::Raw { .. }))
            .position(|f| f.name == name);
        if let Some(above) = found {
            for _ in 0..=above {
                self.pop();
            }
            self.push_text(" ");
        }
    }

    fn flush_html_block(&mut self) {
        if !self.html_block.is_empty() {
            let html = mem::take(&mut self.html_block);
            self.raw_html(&html, false);
            self.push_text(" ");
            // Only block containers (`<div>`, `<details>`, `<td>`…) stay open for the Markdown
            // that follows; a `<p>` or `<b>` left open at the end of an HTML block is closed.
            while self.stack.last().is_some_and(|f| {
                matches!(f.kind, Kind::Raw { .. }) && !policy::RAW_CONTAINER_TAGS.contains(&f.name)
            }) {
                self.pop();
            }
        }
    }

    /// Text directly inside a flattened container gets a paragraph of its own.
    fn ensure_inline_context(&mut self) {
        if self
            .stack
            .last()
            .is_some_and(|f| f.kind == Kind::Container && !f.written)
        {
            self.out.html.push_str("<p>");
            self.push(Kind::ImplicitParagraph, "</p>\n", "", true);
        }
    }

    /// Before a block starts: close raw inline elements and an implicit paragraph left open.
    fn close_inline_frames(&mut self) {
        while self
            .stack
            .last()
            .is_some_and(|f| matches!(f.kind, Kind::Raw { inline: true } | Kind::ImplicitParagraph))
        {
            self.pop();
        }
    }

    fn open_inline(&mut self, open: &'static str, close: &'static str) {
        self.ensure_inline_context();
        self.open(Kind::Inline, open, close);
    }

    /// Writes `open` and pushes a frame, unless the element has to be flattened. Leaf blocks
    /// are never flattened.
    fn open(&mut self, kind: Kind, open: &'static str, close: &'static str) {
        if self.has_room(kind) {
            self.out.html.push_str(open);
        }
        self.push_flattenable(kind, close);
    }

    /// Whether an element of `kind` may be written at the current depth.
    fn has_room(&self, kind: Kind) -> bool {
        match kind {
            Kind::Leaf | Kind::ImplicitParagraph => true,
            Kind::Container => self.open < MAX_CONTAINER_DEPTH,
            Kind::Inline | Kind::Raw { .. } => self.open < MAX_DEPTH,
        }
    }

    /// Pushes the frame of an element whose start was written if the depth allowed it.
    fn push_flattenable(&mut self, kind: Kind, close: &'static str) {
        let written = self.has_room(kind);
        self.push(kind, if written { close } else { "" }, "", written);
    }

    fn push(&mut self, kind: Kind, close: &'static str, name: &'static str, written: bool) {
        if written {
            self.open += 1;
        }
        self.stack.push(Frame {
            kind,
            close,
            name,
            written,
        });
    }

    fn pop(&mut self) {
        if let Some(frame) = self.stack.pop() {
            self.close_frame(&frame);
        }
    }

    fn close_frame(&mut self, frame: &Frame) {
        if frame.written {
            self.open -= 1;
        }
        if !frame.written {
            return;
        }
        if let Kind::Raw { .. } = frame.kind {
            self.out.html.push_str("</");
            self.out.html.push_str(frame.name);
            self.out.html.push('>');
        } else {
            self.out.html.push_str(frame.close);
        }
    }

    /// Writes escaped text (`raw`: text from raw HTML, whose character references are kept),
    /// with a break (`<!---->`) wherever the current text node would exceed the serializer's
    /// budget. Breaks go on char boundaries, never inside a character reference of raw text.
    fn write_text(&mut self, s: &str, raw: bool) {
        let bytes = s.as_bytes();
        let mut start = 0;
        let mut in_reference = false;
        for (i, &b) in bytes.iter().enumerate() {
            let char_boundary = (b & 0xC0) != 0x80;
            // A reference is `&` and alphanumerics (or `#`): it ends at any other byte, and a
            // new `&` cannot belong to the one before.
            let can_break = char_boundary && (!in_reference || b == b'&');
            if can_break && self.run.needs_break_before(b) {
                self.escape_text(&s[start..i], raw);
                self.out.html.push_str("<!---->");
                self.run.reset();
                start = i;
            }
            self.run.add(b);
            if raw {
                in_reference =
                    b == b'&' || (in_reference && (b.is_ascii_alphanumeric() || b == b'#'));
            }
        }
        self.escape_text(&s[start..], raw);
    }

    fn escape_text(&mut self, s: &str, raw: bool) {
        if raw {
            escape::raw_text(&mut self.out.html, s);
        } else {
            escape::text(&mut self.out.html, s);
        }
    }

    fn push_text(&mut self, s: &str) {
        self.out.text.push_str(s);
        if let Some(heading) = self.heading.as_mut() {
            heading.text.push_str(s);
        }
    }
}

/// Writes ` name="value"` (escaped, cut to the serializer's budget), or nothing for an
/// empty value.
fn write_attr(html: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    html.push(' ');
    html.push_str(name);
    html.push_str("=\"");
    escape::attr(html, budget::fit(value));
    html.push('"');
}

/// Writes ` name="url"` for a Markdown link destination, or nothing if the URL is over the
/// serializer's budget (a URL cannot be cut).
fn write_url(html: &mut String, name: &str, prefix: &str, url: &str) {
    let mut encoded = String::with_capacity(prefix.len() + url.len());
    encoded.push_str(prefix);
    escape::href(&mut encoded, url);
    // The serializer sees the value decoded: one `&` per escaped or literal `&`.
    if budget::cost(&encoded) > budget::BUDGET {
        return;
    }
    html.push(' ');
    html.push_str(name);
    html.push_str("=\"");
    html.push_str(&encoded);
    html.push('"');
}

/// Collapses every run of whitespace to one space and trims both ends.
pub(crate) fn normalize_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
