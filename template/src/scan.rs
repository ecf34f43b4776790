//! A static check of template sources before minijinja sees them: only `if` and `for`
//! statements (and `raw`), and no `~` or `*` operators. Together with the bounded filters
//! this keeps every value small (see the crate documentation).

const STATEMENTS: [&str; 7] = ["if", "elif", "else", "endif", "for", "endfor", "raw"];

/// Refuses the operators that can grow a value without bound.
pub fn check_expression(code: &str) -> Result<(), String> {
    check_code(code)
}

fn check_code(code: &str) -> Result<(), String> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in code.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '~' => {
                    return Err(
                        "the ~ operator is not allowed in templates; write {{ a }}{{ b }} instead"
                            .into(),
                    );
                }
                '*' => {
                    return Err("the * operator is not allowed in templates".into());
                }
                _ => {}
            },
        }
    }
    Ok(())
}

/// Finds the end of a tag opened at `start` (after the opening delimiter): the index of
/// `close` outside string literals.
fn tag_end(source: &str, start: usize, close: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' {
                    quote = Some(b);
                } else if source[i..].starts_with(close) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

fn line_at(source: &str, index: usize) -> usize {
    source[..index].matches('\n').count() + 1
}

/// Checks a template source. On failure returns the 1-based line and a message.
pub fn check_template(source: &str) -> Result<(), (usize, String)> {
    let mut i = 0;
    while let Some(found) = source[i..].find('{') {
        let at = i + found;
        let rest = &source[at..];
        let (close, is_statement) = if rest.starts_with("{{") {
            ("}}", false)
        } else if rest.starts_with("{%") {
            ("%}", true)
        } else if rest.starts_with("{#") {
            match source[at + 2..].find("#}") {
                Some(end) => {
                    i = at + 2 + end + 2;
                    continue;
                }
                None => return Err((line_at(source, at), "a comment is not closed".into())),
            }
        } else {
            i = at + 1;
            continue;
        };
        let Some(end) = tag_end(source, at + 2, close) else {
            return Err((
                line_at(source, at),
                format!("a tag is not closed with {close}"),
            ));
        };
        let code =
            source[at + 2..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        let line = line_at(source, at);
        if is_statement {
            let word = code
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if !STATEMENTS.contains(&word) {
                return Err((
                    line,
                    format!(
                        "the statement {word:?} is not allowed in templates (only if, elif, else, endif, for, endfor, raw)"
                    ),
                ));
            }
            if word == "raw" {
                let Some(close_raw) = source[end..].find("endraw") else {
                    return Err((line, "a raw block is not closed".into()));
                };
                let after = end + close_raw;
                i = match source[after..].find("%}") {
                    Some(e) => after + e + 2,
                    None => return Err((line, "a raw block is not closed".into())),
                };
                continue;
            }
        }
        check_code(code).map_err(|m| (line, m))?;
        i = end + 2;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_plain_templates() {
        let ok = "name = \"{{ name | replace('-', '_') }}\"\n{% if k8s %}x{% endif %}\n{% for p in ports %}{{ p }}{% endfor %}\n{# a * b #}\"~\" {% raw %}{% set x %}{% endraw %}";
        assert_eq!(check_template(ok), Ok(()));
    }

    #[test]
    fn refuses_growth() {
        let (line, msg) = check_template("a\n{% set x = 'a' %}").unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("\"set\""), "{msg}");
        assert!(check_template("{{ 'a' * 100000000 }}").is_err());
        assert!(check_template("{{ a ~ a }}").is_err());
        assert!(check_template("{% macro m() %}{% endmacro %}").is_err());
        assert!(check_template("{%- include 'x' -%}").is_err());
        assert!(check_template("{{ unclosed").is_err());
        assert_eq!(check_template("{{ '~*' }}"), Ok(()));
    }
}
