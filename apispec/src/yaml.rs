//! YAML (and JSON, which YAML 1.2 contains) into a JSON value plus the position of every
//! node, built from `saphyr-parser`'s event stream so that the limits are ours: aliases are
//! expanded by copy and every copied node counts towards `Limits::max_nodes` (the
//! "billion laughs" document stops at the limit instead of exhausting memory), and nesting
//! deeper than `Limits::max_depth` is refused.

use crate::{Diagnostic, Limits};
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// A parsed document: its value and where each node starts (JSON pointer → line, column).
#[derive(Debug, Clone)]
pub struct Doc {
    pub root: Value,
    positions: HashMap<String, (u32, u32)>,
}

impl Doc {
    /// The 1-based line and column of the node at `pointer`, or of its nearest ancestor
    /// that has one (nodes copied from an alias have none of their own).
    pub fn pos(&self, pointer: &str) -> (u32, u32) {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }
}

/// Escapes one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        pointer: String,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        pointer: String,
    },
}

fn size(value: &Value) -> usize {
    match value {
        Value::Array(a) => 1 + a.iter().map(size).sum::<usize>(),
        Value::Object(o) => 1 + o.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

/// Parses one YAML or JSON document.
pub fn parse(file: &str, text: &str, limits: Limits) -> Result<Doc, Diagnostic> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut positions = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Value> = None;
    let mut documents = 0;

    let too_big = |line: usize, col: usize| {
        Diagnostic::new(
            file,
            line as u32,
            col as u32 + 1,
            format!(
                "the document expands to more than {} nodes (YAML aliases are copied when they are read); it is refused",
                limits.max_nodes
            ),
        )
    };

    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(err)) => {
                let m = err.marker();
                return Err(Diagnostic::new(
                    file,
                    m.line() as u32,
                    m.col() as u32 + 1,
                    format!("invalid YAML: {}", err.info()),
                ));
            }
        };
        let (line, col) = (span.start.line(), span.start.col());
        // The pointer of the node this event starts, if it is a value.
        let child_pointer = |stack: &Vec<Frame>| -> String {
            match stack.last() {
                None => String::new(),
                Some(Frame::Seq { items, pointer, .. }) => format!("{pointer}/{}", items.len()),
                Some(Frame::Map { key, pointer, .. }) => {
                    format!("{pointer}/{}", escape(key.as_deref().unwrap_or("")))
                }
            }
        };
        let value: Option<(Value, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::new(
                        file,
                        line as u32,
                        col as u32 + 1,
                        "the file holds more than one YAML document; upload one document",
                    ));
                }
                None
            }
            Event::Alias(id) => {
                let Some((value, count)) = anchors.get(&id) else {
                    return Err(Diagnostic::new(
                        file,
                        line as u32,
                        col as u32 + 1,
                        "alias to an unknown anchor",
                    ));
                };
                nodes += count;
                if nodes > limits.max_nodes {
                    return Err(too_big(line, col));
                }
                Some((value.clone(), 0))
            }
            Event::Scalar(text, style, anchor, _tag) => {
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(too_big(line, col));
                }
                // A scalar in key position of a mapping is its next key.
                if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                    if key.is_none() {
                        *key = Some(text.into_owned());
                        continue;
                    }
                }
                Some((scalar(&text, style), anchor))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(Diagnostic::new(
                        file,
                        line as u32,
                        col as u32 + 1,
                        "a mapping key must be a plain value, not a list or a mapping",
                    ));
                }
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(too_big(line, col));
                }
                if stack.len() >= limits.max_depth {
                    return Err(Diagnostic::new(
                        file,
                        line as u32,
                        col as u32 + 1,
                        format!(
                            "the document nests deeper than {} levels; it is refused",
                            limits.max_depth
                        ),
                    ));
                }
                let pointer = child_pointer(&stack);
                positions.insert(pointer.clone(), (line as u32, col as u32 + 1));
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        pointer,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        anchor,
                        pointer,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { items, anchor, .. }) => Some((Value::Array(items), anchor)),
                Some(Frame::Map { map, anchor, .. }) => Some((Value::Object(map), anchor)),
                None => None,
            },
        };
        let Some((value, anchor)) = value else {
            continue;
        };
        if !matches!(value, Value::Array(_) | Value::Object(_)) {
            positions
                .entry(child_pointer(&stack))
                .or_insert((line as u32, col as u32 + 1));
        }
        if anchor > 0 {
            anchors.insert(anchor, (value.clone(), size(&value)));
        }
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => {
                if let Some(k) = key.take() {
                    map.insert(k, value);
                }
            }
        }
    }
    match root {
        Some(root) => Ok(Doc { root, positions }),
        None => Err(Diagnostic::new(file, 1, 1, "the file is empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nodes() {
        let doc = parse(
            "a.yaml",
            "openapi: 3.1.0\npaths:\n  /pets:\n    get: {}\n",
            Limits::default(),
        )
        .unwrap();
        assert_eq!(doc.root["openapi"], "3.1.0");
        assert_eq!(doc.pos("/paths/~1pets/get"), (4, 10));
        assert_eq!(doc.pos("/openapi"), (1, 10));
    }

    #[test]
    fn json_is_yaml() {
        let doc = parse(
            "a.json",
            "{\n  \"a\": [1, 2.5, true, null, \"x\"]\n}",
            Limits::default(),
        )
        .unwrap();
        assert_eq!(
            doc.root,
            serde_json::json!({"a": [1, 2.5, true, null, "x"]})
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from(
            "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 9].join(",")));
        }
        let started = std::time::Instant::now();
        let err = parse("laughs.yaml", &text, Limits::default()).unwrap_err();
        assert!(err.message.contains("expands to more than"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn invalid_yaml_has_a_position() {
        let err = parse("x.yaml", "a: [1, 2\nb: c\n", Limits::default()).unwrap_err();
        assert!(
            err.line >= 1 && err.message.starts_with("invalid YAML"),
            "{err}"
        );
    }
}
