//! AsyncAPI 2.6 and 3.0.

use crate::compare::{Change, Flow, SchemaDiff, deref};
use crate::openapi::check_refs;
use crate::yaml::{Doc, escape};
use crate::{Diagnostic, RefItem};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub description: String,
    /// Message name → payload schema.
    pub messages: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub root: Value,
    pub channels: BTreeMap<String, Channel>,
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn message_name(root: &Value, m: &Value, fallback: String) -> String {
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        if let Some(last) = r.rsplit('/').next() {
            return last.to_owned();
        }
    }
    let d = deref(root, m);
    let name = str_of(d, "name");
    if name.is_empty() {
        fallback
    } else {
        name.to_owned()
    }
}

pub(crate) fn validate(file: &str, doc: &Doc) -> Result<(String, String, Model), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let at = |diags: &mut Vec<Diagnostic>, pointer: &str, msg: String| {
        let (l, c) = doc.pos(pointer);
        diags.push(Diagnostic::new(file, l, c, msg));
    };
    let root = &doc.root;
    if !root.is_object() {
        at(
            &mut diags,
            "",
            "an AsyncAPI document must be a mapping at the top level".into(),
        );
        return Err(diags);
    }
    let version = str_of(root, "asyncapi").to_owned();
    let v3 = version.starts_with("3.0.");
    if !(version.starts_with("2.6.") || v3) {
        at(
            &mut diags,
            "/asyncapi",
            format!(
                "\"asyncapi\" must be a 2.6.x or 3.0.x version, found {}",
                root.get("asyncapi")
                    .map_or("nothing".into(), |v| v.to_string())
            ),
        );
    }
    let info = root.get("info");
    if !info.is_some_and(|i| i.get("title").is_some_and(Value::is_string)) {
        at(
            &mut diags,
            "/info",
            "info.title is required (a string)".into(),
        );
    }
    if !info.is_some_and(|i| i.get("version").is_some_and(Value::is_string)) {
        at(
            &mut diags,
            "/info",
            "info.version is required (a string)".into(),
        );
    }
    let title = info.map(|i| str_of(i, "title")).unwrap_or("").to_owned();
    check_refs(file, doc, root, "", &mut diags);
    let mut channels = BTreeMap::new();
    match root.get("channels") {
        None if !v3 => at(
            &mut diags,
            "",
            "\"channels\" is required in AsyncAPI 2.6".into(),
        ),
        None => {}
        Some(Value::Object(map)) => {
            for (name, ch) in map {
                let cp = format!("/channels/{}", escape(name));
                let ch = deref(root, ch);
                if !ch.is_object() {
                    at(
                        &mut diags,
                        &cp,
                        format!("channel {name:?} must be a mapping"),
                    );
                    continue;
                }
                let mut messages = BTreeMap::new();
                if v3 {
                    if let Some(ms) = ch.get("messages").and_then(Value::as_object) {
                        for (id, m) in ms {
                            let md = deref(root, m);
                            messages.insert(
                                message_name(root, m, id.clone()),
                                md.get("payload").cloned().unwrap_or(Value::Null),
                            );
                        }
                    }
                } else {
                    for action in ["publish", "subscribe"] {
                        let Some(op) = ch.get(action) else { continue };
                        let Some(m) = op.get("message") else {
                            at(
                                &mut diags,
                                &format!("{cp}/{action}"),
                                format!("channel {name:?}: {action} needs a \"message\""),
                            );
                            continue;
                        };
                        let md = deref(root, m);
                        let list: Vec<&Value> = match md.get("oneOf").and_then(Value::as_array) {
                            Some(one_of) => one_of.iter().collect(),
                            None => vec![m],
                        };
                        for (i, m) in list.into_iter().enumerate() {
                            let md = deref(root, m);
                            messages.insert(
                                message_name(root, m, format!("{action}-{i}")),
                                md.get("payload").cloned().unwrap_or(Value::Null),
                            );
                        }
                    }
                }
                channels.insert(
                    name.clone(),
                    Channel {
                        description: str_of(ch, "description").to_owned(),
                        messages,
                    },
                );
            }
        }
        Some(_) => at(
            &mut diags,
            "/channels",
            "\"channels\" must be a mapping".into(),
        ),
    }
    if diags.is_empty() {
        Ok((
            version,
            title,
            Model {
                root: root.clone(),
                channels,
            },
        ))
    } else {
        Err(diags)
    }
}

pub(crate) fn compare(old: &Model, new: &Model) -> Vec<Change> {
    let mut out = Vec::new();
    let mut diff = SchemaDiff::new(&old.root, &new.root);
    for (name, oc) in &old.channels {
        let loc = format!("channel {name}");
        let Some(nc) = new.channels.get(name) else {
            out.push(Change::breaking(&loc, "channel removed"));
            continue;
        };
        for (m, op) in &oc.messages {
            let mloc = format!("{loc} → message {m}");
            match nc.messages.get(m) {
                None => out.push(Change::breaking(&mloc, "message removed")),
                // Consumers read payloads: compared as responses.
                Some(np) => diff.compare(&format!("{mloc} → payload"), op, np, Flow::Response),
            }
        }
        for m in nc.messages.keys().filter(|m| !oc.messages.contains_key(*m)) {
            out.push(Change::compatible(
                format!("{loc} → message {m}"),
                "message added",
            ));
        }
    }
    for name in new.channels.keys() {
        if !old.channels.contains_key(name) {
            out.push(Change::compatible(
                format!("channel {name}"),
                "channel added",
            ));
        }
    }
    out.extend(diff.changes);
    out
}

impl Model {
    pub fn terms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, ch) in &self.channels {
            out.push(name.clone());
            for (m, payload) in &ch.messages {
                out.push(m.clone());
                let p = deref(&self.root, payload);
                if let Some(props) = p.get("properties").and_then(Value::as_object) {
                    out.extend(props.keys().cloned());
                }
            }
        }
        out
    }

    pub fn reference(&self) -> Vec<RefItem> {
        self.channels
            .iter()
            .map(|(name, ch)| RefItem {
                kind: "channel",
                name: name.clone(),
                signature: format!("channel {name}"),
                description: ch.description.clone(),
                members: ch
                    .messages
                    .iter()
                    .map(|(m, payload)| {
                        let p = deref(&self.root, payload);
                        let fields = p
                            .get("properties")
                            .and_then(Value::as_object)
                            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                            .unwrap_or_default();
                        (
                            m.clone(),
                            format!("message {{{fields}}}"),
                            str_of(p, "description").to_owned(),
                        )
                    })
                    .collect(),
            })
            .collect()
    }
}
