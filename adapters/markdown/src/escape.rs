//! Escaping for the HTML the writer produces, and the little entity decoding that the plain
//! text of raw HTML needs.

/// Appends `s` with the bytes in `special` replaced by character references.
fn escape(out: &mut String, s: &str, special: &[u8]) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if !special.contains(&b) {
            continue;
        }
        out.push_str(&s[last..i]);
        out.push_str(match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Text content: `<`, `>` and `&` escaped. Quotes need no escaping outside attributes, and
/// neither does an `&` followed (in `s`) by a character that cannot continue a character
/// reference: the parser reads it as a plain `&` at a fraction of the cost of `&amp;`
/// (which matters for hostile input made of ampersands).
pub(crate) fn text(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' if !starts_reference(bytes, i) => continue,
            b'&' => "&amp;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// A double-quoted attribute value: `<`, `>`, `"` and `&` escaped (an `&` only where it could
/// start a character reference, as in [`text`]).
pub(crate) fn attr(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'&' if !starts_reference(bytes, i) => continue,
            b'&' => "&amp;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Whether the `&` at `i` could start a character reference: it is followed by an
/// alphanumeric or `#`, or by nothing (what follows is not known here).
fn starts_reference(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i + 1)
        .is_none_or(|next| next.is_ascii_alphanumeric() || *next == b'#')
}

/// Text taken from raw HTML: `<` and `>` escaped, `&` kept so that the author's character
/// references still mean what they meant.
pub(crate) fn raw_text(out: &mut String, s: &str) {
    escape(out, s, b"<>");
}

/// An attribute value taken from raw HTML, to be double-quoted: `<`, `>` and `"` escaped,
/// `&` kept.
pub(crate) fn raw_attr(out: &mut String, s: &str) {
    escape(out, s, b"<>\"");
}

/// Appends a link destination for an `href`/`src` attribute: characters that are safe in a URL
/// are kept (`&` as a reference; `'` is safe in the double-quoted value), everything else
/// is percent-encoded.
pub(crate) fn href(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'&' if starts_reference(bytes, i) => out.push_str("&amp;"),
            b'&' => out.push('&'),
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'('
            | b')'
            | b';'
            | b'/'
            | b'?'
            | b':'
            | b'@'
            | b'='
            | b'+'
            | b'$'
            | b','
            | b'%'
            | b'#'
            | b'\'' => out.push(char::from(b)),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// Appends `s` with the common character references decoded (`&amp;`, `&lt;`, `&gt;`,
/// `&quot;`, `&apos;`, `&nbsp;` and numeric ones); anything else is kept as written.
pub(crate) fn decode_entities(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // The longest reference decoded here is `&#x10FFFF;` (10 bytes).
        let window_end = rest
            .char_indices()
            .take(12)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = window_end.and_then(|semi| {
            let name = &rest[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let value = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    Some(char::from_u32(value).unwrap_or('\u{FFFD}'))
                }
            }?;
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: fn(&mut String, &str), s: &str) -> String {
        let mut out = String::new();
        f(&mut out, s);
        out
    }

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(with(text, r#"<a href="x">&'"#), r#"&lt;a href="x"&gt;&'"#);
        assert_eq!(
            with(text, "&amp; &#1 &x &"),
            "&amp;amp; &amp;#1 &amp;x &amp;"
        );
        assert_eq!(with(text, "a && b"), "a && b");
        assert_eq!(
            with(attr, r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&'"
        );
        assert_eq!(with(attr, "?a=1&b=2&&#&"), "?a=1&amp;b=2&&amp;#&amp;");
        assert_eq!(with(text, "plain"), "plain");
    }

    #[test]
    fn raw_keeps_references() {
        assert_eq!(with(raw_text, r#"&amp; <b> "q""#), r#"&amp; &lt;b&gt; "q""#);
        assert_eq!(
            with(raw_attr, r#"&amp; <b> "q""#),
            "&amp; &lt;b&gt; &quot;q&quot;"
        );
    }

    #[test]
    fn href_percent_encodes_unsafe_bytes() {
        assert_eq!(with(href, "a b\"<é>&'"), "a%20b%22%3C%C3%A9%3E&'");
        assert_eq!(with(href, "https://x.io/p?q=1#f"), "https://x.io/p?q=1#f");
        assert_eq!(with(href, "?a=1&b=2&&"), "?a=1&amp;b=2&&amp;");
    }

    #[test]
    fn decodes_common_references() {
        assert_eq!(
            with(
                decode_entities,
                "a &amp; b &lt;&#65;&#x42;&nbsp;&bogus; & &#xFFFFFFFF;"
            ),
            "a & b <AB &bogus; & \u{FFFD}"
        );
        assert_eq!(with(decode_entities, "&"), "&");
        assert_eq!(with(decode_entities, "&é;"), "&é;");
    }
}
