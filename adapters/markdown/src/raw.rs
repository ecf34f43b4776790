//! A small, strict tokenizer for the raw HTML inside Markdown.
//!
//! The writer never passes the author's raw HTML through as written: it tokenizes it here and
//! re-emits it in a canonical form (known tag names, quoted attribute values, balanced
//! elements). Whatever this tokenizer does not recognise as a well-formed tag becomes escaped
//! text, so the HTML parser behind the sanitizer sees exactly the structure the writer
//! accounted for, and the writer can bound its nesting depth.
//!
//! Every byte is examined a bounded number of times: a tag that fails to parse is emitted as
//! text up to the point where it failed and scanning resumes there, so hostile input stays
//! linear.

/// One token of raw HTML. Names are as written (compare them case-insensitively).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// Text, including `<` that did not start a well-formed tag. Character references are
    /// left as written.
    Text(&'a str),
    Start {
        name: &'a str,
        /// `(name, value)`; the value is as written between its quotes, `""` for a bare name.
        attrs: Vec<(&'a str, &'a str)>,
        self_closing: bool,
    },
    End {
        name: &'a str,
    },
    /// A comment, doctype, processing instruction or CDATA section: dropped.
    Skip,
}

pub(crate) struct Tokenizer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// Skips to just after the end tag `</name>` (ASCII case-insensitive), as the content of
    /// `<script>` and friends is skipped. Returns `false`, having consumed everything, if there
    /// is no such end tag.
    pub(crate) fn skip_past_end_tag(&mut self, name: &str) -> bool {
        let bytes = self.s.as_bytes();
        let mut i = self.pos;
        while let Some(off) = find_byte(&bytes[i..], b'<') {
            let lt = i + off;
            let after = lt + 2 + name.len();
            if bytes.get(lt + 1) == Some(&b'/')
                && bytes
                    .get(lt + 2..after)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
                && bytes
                    .get(after)
                    .is_none_or(|&b| b == b'>' || b == b'/' || b.is_ascii_whitespace())
            {
                self.pos =
                    find_byte(&bytes[after..], b'>').map_or(bytes.len(), |gt| after + gt + 1);
                return true;
            }
            i = lt + 1;
        }
        self.pos = bytes.len();
        false
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let s = self.s;
        let bytes = s.as_bytes();
        let start = self.pos;
        if start >= bytes.len() {
            return None;
        }
        if bytes[start] != b'<' {
            let end = find_byte(&bytes[start..], b'<').map_or(bytes.len(), |off| start + off);
            self.pos = end;
            return Some(Token::Text(&s[start..end]));
        }
        match tag(s, start) {
            Ok((token, end)) => {
                self.pos = end;
                Some(token)
            }
            Err(failed_at) => {
                // Not a tag: what was scanned is text, and scanning resumes where it failed.
                let end = failed_at.max(start + 1);
                self.pos = end;
                Some(Token::Text(&s[start..end]))
            }
        }
    }
}

/// Parses the markup starting with the `<` at `lt`. `Ok((token, end))`, or `Err(position)`
/// of the first byte that does not fit (always on a char boundary, since only ASCII bytes are
/// ever matched).
fn tag(s: &str, lt: usize) -> Result<(Token<'_>, usize), usize> {
    let bytes = s.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let i = lt + 1;
    match at(i) {
        Some(b'!') => {
            if bytes[i..].starts_with(b"!--") {
                // `<!-->` and `<!--->` are (abruptly closed) comments, as in browsers.
                let body = i + 3;
                for abrupt in [&b">"[..], b"->"] {
                    if bytes[body..].starts_with(abrupt) {
                        return Ok((Token::Skip, body + abrupt.len()));
                    }
                }
                let end = find(&bytes[body..], b"-->").map_or(bytes.len(), |off| body + off + 3);
                return Ok((Token::Skip, end));
            }
            let end = find_byte(&bytes[i..], b'>').map_or(bytes.len(), |off| i + off + 1);
            Ok((Token::Skip, end))
        }
        Some(b'?') => {
            let end = find_byte(&bytes[i..], b'>').map_or(bytes.len(), |off| i + off + 1);
            Ok((Token::Skip, end))
        }
        Some(b'/') => {
            let name_start = i + 1;
            let name_end = name(bytes, name_start).ok_or(name_start)?;
            // Anything up to `>` after the name of an end tag is ignored, as in browsers.
            let mut j = name_end;
            match at(j) {
                Some(b'>') => {}
                Some(b) if b.is_ascii_whitespace() || b == b'/' => {
                    j = find_byte(&bytes[j..], b'>').map(|off| j + off).ok_or(j)?;
                }
                _ => return Err(j),
            }
            Ok((
                Token::End {
                    name: &s[name_start..name_end],
                },
                j + 1,
            ))
        }
        _ => {
            let name_end = name(bytes, i).ok_or(i)?;
            let mut attrs = Vec::new();
            let mut j = name_end;
            loop {
                let before_space = j;
                while at(j).is_some_and(|b| b.is_ascii_whitespace()) {
                    j += 1;
                }
                match at(j) {
                    Some(b'>') => {
                        let token = Token::Start {
                            name: &s[i..name_end],
                            attrs,
                            self_closing: false,
                        };
                        return Ok((token, j + 1));
                    }
                    Some(b'/') if at(j + 1) == Some(b'>') => {
                        let token = Token::Start {
                            name: &s[i..name_end],
                            attrs,
                            self_closing: true,
                        };
                        return Ok((token, j + 2));
                    }
                    _ if j == before_space => return Err(j), // attributes need a space before
                    _ => {}
                }
                let attr_start = j;
                let attr_end = attr_name(bytes, j).ok_or(j)?;
                j = attr_end;
                let mut k = j;
                while at(k).is_some_and(|b| b.is_ascii_whitespace()) {
                    k += 1;
                }
                let value = if at(k) == Some(b'=') {
                    k += 1;
                    while at(k).is_some_and(|b| b.is_ascii_whitespace()) {
                        k += 1;
                    }
                    match at(k) {
                        Some(q @ (b'"' | b'\'')) => {
                            let v_start = k + 1;
                            let v_end = find_byte(&bytes[v_start..], q)
                                .map(|off| v_start + off)
                                .ok_or(bytes.len())?;
                            j = v_end + 1;
                            &s[v_start..v_end]
                        }
                        _ => {
                            let v_start = k;
                            while at(k).is_some_and(|b| {
                                !b.is_ascii_whitespace()
                                    && !matches!(b, b'"' | b'\'' | b'=' | b'<' | b'>' | b'`')
                            }) {
                                k += 1;
                            }
                            if k == v_start {
                                return Err(k);
                            }
                            j = k;
                            &s[v_start..k]
                        }
                    }
                } else {
                    ""
                };
                attrs.push((&s[attr_start..attr_end], value));
            }
        }
    }
}

/// The end of a tag name `[A-Za-z][A-Za-z0-9-]*` starting at `i`.
fn name(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    let len = bytes[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    Some(i + len)
}

/// The end of an attribute name `[A-Za-z_:][A-Za-z0-9_:.-]*` starting at `i`.
fn attr_name(bytes: &[u8], i: usize) -> Option<usize> {
    let first = *bytes.get(i)?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b':') {
        return None;
    }
    let len = bytes[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
        .count();
    Some(i + len)
}

fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::Token::*;
    use super::*;

    fn tokens(s: &str) -> Vec<Token<'_>> {
        Tokenizer::new(s).collect()
    }

    #[test]
    fn tags_attributes_and_text() {
        assert_eq!(
            tokens(r#"a<b class=x title='it"s' hidden>c</b >"#),
            vec![
                Text("a"),
                Start {
                    name: "b",
                    attrs: vec![("class", "x"), ("title", "it\"s"), ("hidden", "")],
                    self_closing: false
                },
                Text("c"),
                End { name: "b" },
            ]
        );
        assert_eq!(
            tokens("<br/><img src = \"x.png\" />"),
            vec![
                Start {
                    name: "br",
                    attrs: vec![],
                    self_closing: true
                },
                Start {
                    name: "img",
                    attrs: vec![("src", "x.png")],
                    self_closing: true
                },
            ]
        );
    }

    #[test]
    fn malformed_tags_become_text() {
        assert_eq!(tokens("1 < 2"), vec![Text("1 "), Text("<"), Text(" 2")]);
        assert_eq!(
            tokens("<a <b>"),
            vec![
                Text("<a "),
                Start {
                    name: "b",
                    attrs: vec![],
                    self_closing: false
                }
            ]
        );
        assert_eq!(tokens("<a href=\"x"), vec![Text("<a href=\"x")]);
        assert_eq!(tokens("<a\"b>"), vec![Text("<a"), Text("\"b>")]);
        assert_eq!(tokens("</ a>"), vec![Text("</"), Text(" a>")]);
    }

    #[test]
    fn comments_and_declarations_are_skipped() {
        assert_eq!(tokens("<!-- <b> -->x"), vec![Skip, Text("x")]);
        assert_eq!(
            tokens("<!-->x<!--->y"),
            vec![Skip, Text("x"), Skip, Text("y")]
        );
        assert_eq!(tokens("<!-- never closed <b>"), vec![Skip]);
        assert_eq!(
            tokens("<!DOCTYPE html><?php x ?><![CDATA[y]]>"),
            vec![Skip, Skip, Skip]
        );
    }

    #[test]
    fn skips_raw_text_to_its_end_tag() {
        let mut t = Tokenizer::new("alert('</b>')</SCRIPT >after");
        assert!(t.skip_past_end_tag("script"));
        assert_eq!(t.collect::<Vec<_>>(), vec![Text("after")]);
        let mut t = Tokenizer::new("</scripts></script");
        assert!(t.skip_past_end_tag("script"));
        assert_eq!(t.next(), None);
        let mut t = Tokenizer::new("no end");
        assert!(!t.skip_past_end_tag("script"));
        assert_eq!(t.next(), None);
    }

    #[test]
    fn hostile_input_is_linear() {
        let s = "<a x=\"".repeat(200_000) + &"<a b ".repeat(200_000) + &"<".repeat(200_000);
        let t = std::time::Instant::now();
        let n = Tokenizer::new(&s).count();
        assert!(n > 0);
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }
}
