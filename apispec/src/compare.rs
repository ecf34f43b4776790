//! What changed between two versions, and the JSON Schema comparison OpenAPI and AsyncAPI
//! share.

use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

static EMPTY: LazyLock<serde_json::Map<String, Value>> = LazyLock::new(serde_json::Map::new);

/// One difference between two versions of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether a client written against the old version can break against the new one.
    pub breaking: bool,
    /// Where: "GET /pets/{id} → response 200 → body.name", "message foo.v1.Pet field 3"…
    pub location: String,
    pub message: String,
}

impl Change {
    pub fn breaking(location: impl Into<String>, message: impl Into<String>) -> Change {
        Change {
            breaking: true,
            location: location.into(),
            message: message.into(),
        }
    }
    pub fn compatible(location: impl Into<String>, message: impl Into<String>) -> Change {
        Change {
            breaking: false,
            location: location.into(),
            message: message.into(),
        }
    }
}

/// Which way data flows: what clients send may not get stricter, what servers send may not
/// lose what clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Request,
    Response,
}

/// Resolves an internal `$ref` (`#/a/b`) against `root`.
pub(crate) fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

/// Follows `$ref`s until a schema with content, at most 64 hops (cycles are refused at
/// validation; this bound only guards comparison).
pub(crate) fn deref<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..64 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve(root, r) {
                Some(next) => schema = next,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

fn types(schema: &Value) -> BTreeSet<String> {
    match schema.get("type") {
        Some(Value::String(t)) => {
            let mut s = BTreeSet::from([t.clone()]);
            if schema.get("nullable") == Some(&Value::Bool(true)) {
                s.insert("null".into());
            }
            s
        }
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Compares two JSON Schemas (each in its own document, for `$ref`s).
pub(crate) struct SchemaDiff<'a> {
    pub old_root: &'a Value,
    pub new_root: &'a Value,
    pub changes: Vec<Change>,
    seen: HashSet<(usize, usize, bool)>,
}

impl<'a> SchemaDiff<'a> {
    pub fn new(old_root: &'a Value, new_root: &'a Value) -> Self {
        SchemaDiff {
            old_root,
            new_root,
            changes: Vec::new(),
            seen: HashSet::new(),
        }
    }

    pub fn compare(&mut self, location: &str, old: &'a Value, new: &'a Value, flow: Flow) {
        let old = deref(self.old_root, old);
        let new = deref(self.new_root, new);
        // Recursive schemas: each pair of schema nodes is compared once.
        if !self.seen.insert((
            old as *const Value as usize,
            new as *const Value as usize,
            flow == Flow::Request,
        )) {
            return;
        }
        let (ot, nt) = (types(old), types(new));
        if !ot.is_empty() && !nt.is_empty() && ot != nt {
            let widened = nt.is_superset(&ot);
            let narrowed = ot.is_superset(&nt);
            let breaking = match flow {
                Flow::Request => !widened,
                Flow::Response => !narrowed,
            };
            self.changes.push(Change {
                breaking,
                location: location.to_owned(),
                message: format!(
                    "type changed from {} to {}",
                    ot.into_iter().collect::<Vec<_>>().join("|"),
                    nt.into_iter().collect::<Vec<_>>().join("|")
                ),
            });
        }
        let (of, nf) = (old.get("format"), new.get("format"));
        if of != nf && (of.is_some() || nf.is_some()) {
            self.changes.push(Change::breaking(
                location,
                format!(
                    "format changed from {} to {}",
                    of.map_or("none".into(), show),
                    nf.map_or("none".into(), show)
                ),
            ));
        }
        if let (Some(Value::Array(oe)), Some(Value::Array(ne))) = (old.get("enum"), new.get("enum"))
        {
            for v in oe.iter().filter(|v| !ne.contains(v)) {
                self.changes.push(Change::breaking(
                    location,
                    format!("enum value {} removed", show(v)),
                ));
            }
            for v in ne.iter().filter(|v| !oe.contains(v)) {
                self.changes.push(Change {
                    breaking: flow == Flow::Response,
                    location: location.to_owned(),
                    message: format!("enum value {} added", show(v)),
                });
            }
        } else if old.get("enum").is_none() && new.get("enum").is_some() && flow == Flow::Request {
            self.changes.push(Change::breaking(
                location,
                "the value is now restricted to an enum",
            ));
        }
        let empty: &'a serde_json::Map<String, Value> = &EMPTY;
        let op = old
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(empty);
        let np = new
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(empty);
        let (or, nr) = (required(old), required(new));
        for (name, os) in op {
            let loc = format!("{location}.{name}");
            match np.get(name) {
                None => self
                    .changes
                    .push(Change::breaking(&loc, format!("property {name:?} removed"))),
                Some(ns) => self.compare(&loc, os, ns, flow),
            }
        }
        for name in np.keys().filter(|n| !op.contains_key(*n)) {
            let loc = format!("{location}.{name}");
            if nr.contains(name) && flow == Flow::Request {
                self.changes.push(Change::breaking(
                    &loc,
                    format!("new required property {name:?}"),
                ));
            } else {
                self.changes
                    .push(Change::compatible(&loc, format!("property {name:?} added")));
            }
        }
        for name in nr.difference(&or).filter(|n| op.contains_key(*n)) {
            if flow == Flow::Request {
                self.changes.push(Change::breaking(
                    format!("{location}.{name}"),
                    format!("property {name:?} is now required"),
                ));
            }
        }
        for name in or.difference(&nr).filter(|n| np.contains_key(*n)) {
            if flow == Flow::Response {
                self.changes.push(Change::breaking(
                    format!("{location}.{name}"),
                    format!("property {name:?} is no longer always present"),
                ));
            }
        }
        if let (Some(oi), Some(ni)) = (old.get("items"), new.get("items")) {
            self.compare(&format!("{location}[]"), oi, ni, flow);
        }
    }
}
