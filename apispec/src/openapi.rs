//! OpenAPI 3.0 and 3.1.

use crate::compare::{Change, Flow, SchemaDiff, deref, resolve};
use crate::yaml::{Doc, escape};
use crate::{Diagnostic, RefItem};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub schema: Value,
    pub description: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: String,
    pub path: String,
    pub operation_id: String,
    pub summary: String,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<(bool, Value)>,
    pub responses: BTreeMap<String, Value>,
    pub security: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub root: Value,
    /// By "METHOD /path".
    pub operations: BTreeMap<String, Operation>,
}

struct Check<'a> {
    file: &'a str,
    doc: &'a Doc,
    diags: Vec<Diagnostic>,
}

impl Check<'_> {
    fn at(&mut self, pointer: &str, message: impl Into<String>) {
        let (line, col) = self.doc.pos(pointer);
        self.diags
            .push(Diagnostic::new(self.file, line, col, message.into()));
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The schema of a `content` map: the JSON media type's, else the first one's.
pub(crate) fn content_schema(content: Option<&Value>) -> Value {
    let Some(map) = content.and_then(Value::as_object) else {
        return Value::Null;
    };
    let media = map
        .iter()
        .find(|(k, _)| k.contains("json"))
        .or_else(|| map.iter().next());
    media
        .and_then(|(_, m)| m.get("schema"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Checks every `$ref` of the document: internal ones must point at something and must not
/// loop through other `$ref`s only; anything else (a URL, another file) is refused without
/// being fetched.
pub(crate) fn check_refs(
    file: &str,
    doc: &Doc,
    value: &Value,
    pointer: &str,
    diags: &mut Vec<Diagnostic>,
) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let here = format!("{pointer}/$ref");
                let (line, col) = doc.pos(&here);
                if !r.starts_with('#') {
                    diags.push(Diagnostic::new(
                        file,
                        line,
                        col,
                        format!(
                            "$ref {r:?} points outside this document; Orbit does not fetch URLs or other files: upload one self-contained document"
                        ),
                    ));
                } else {
                    let mut chain = vec![r.clone()];
                    let mut current = r.clone();
                    loop {
                        match resolve(&doc.root, &current) {
                            None => {
                                diags.push(Diagnostic::new(
                                    file,
                                    line,
                                    col,
                                    format!("$ref {current:?} points to nothing in this document"),
                                ));
                                break;
                            }
                            Some(target) => match target.get("$ref").and_then(Value::as_str) {
                                Some(next) if next.starts_with('#') => {
                                    if chain.iter().any(|c| c == next) {
                                        chain.push(next.to_owned());
                                        diags.push(Diagnostic::new(
                                            file,
                                            line,
                                            col,
                                            format!(
                                                "$ref cycle: {} (each $ref only points to another)",
                                                chain.join(" → ")
                                            ),
                                        ));
                                        break;
                                    }
                                    chain.push(next.to_owned());
                                    current = next.to_owned();
                                }
                                _ => break,
                            },
                        }
                    }
                }
            }
            for (k, v) in map {
                if k != "$ref" {
                    check_refs(file, doc, v, &format!("{pointer}/{}", escape(k)), diags);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(file, doc, v, &format!("{pointer}/{i}"), diags);
            }
        }
        _ => {}
    }
}

fn security_of(op: &Value, root: &Value) -> BTreeSet<String> {
    let sec = op.get("security").or_else(|| root.get("security"));
    sec.and_then(Value::as_array)
        .map(|alts| {
            alts.iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys().cloned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn validate(file: &str, doc: &Doc) -> Result<(String, String, Model), Vec<Diagnostic>> {
    let mut c = Check {
        file,
        doc,
        diags: Vec::new(),
    };
    let root = &doc.root;
    if !root.is_object() {
        c.at("", "an OpenAPI document must be a mapping at the top level");
        return Err(c.diags);
    }
    let version = str_of(root, "openapi").to_owned();
    if root.get("swagger").is_some() {
        c.at(
            "/swagger",
            "Swagger 2.0 is not supported; convert the document to OpenAPI 3.0 or 3.1",
        );
        return Err(c.diags);
    }
    let v31 = version.starts_with("3.1.");
    if !(version.starts_with("3.0.") || v31) {
        c.at(
            "/openapi",
            format!(
                "\"openapi\" must be a 3.0.x or 3.1.x version, found {}",
                root.get("openapi")
                    .map_or("nothing".into(), |v| v.to_string())
            ),
        );
    }
    let title = match root.get("info") {
        Some(info) if info.is_object() => {
            if !info.get("title").is_some_and(Value::is_string) {
                c.at("/info", "info.title is required (a string)");
            }
            if !info.get("version").is_some_and(Value::is_string) {
                c.at("/info", "info.version is required (a string)");
            }
            str_of(info, "title").to_owned()
        }
        _ => {
            c.at(
                "",
                "\"info\" is required (a mapping with title and version)",
            );
            String::new()
        }
    };
    let paths = root.get("paths");
    match paths {
        None if !v31 => c.at("", "\"paths\" is required in OpenAPI 3.0"),
        None if root.get("webhooks").is_none() && root.get("components").is_none() => c.at(
            "",
            "an OpenAPI 3.1 document needs \"paths\", \"webhooks\" or \"components\"",
        ),
        Some(p) if !p.is_object() => c.at("/paths", "\"paths\" must be a mapping"),
        _ => {}
    }
    check_refs(file, doc, root, "", &mut c.diags);

    let mut operations = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let empty = serde_json::Map::new();
    for (path, item) in paths.and_then(Value::as_object).unwrap_or(&empty) {
        let pp = format!("/paths/{}", escape(path));
        if !path.starts_with('/') {
            c.at(&pp, format!("path {path:?} must start with \"/\""));
        }
        let item = deref(root, item);
        let Some(item_map) = item.as_object() else {
            c.at(
                &pp,
                format!("path {path:?} must be a mapping of operations"),
            );
            continue;
        };
        let shared_params: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for (method, op) in item_map {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let opp = format!("{pp}/{method}");
            if !op.is_object() {
                c.at(
                    &opp,
                    format!("{} {path} must be a mapping", method.to_uppercase()),
                );
                continue;
            }
            let key = format!("{} {path}", method.to_uppercase());
            let operation_id = str_of(op, "operationId").to_owned();
            if !operation_id.is_empty() {
                if let Some(other) = ids.insert(operation_id.clone(), key.clone()) {
                    c.at(
                        &format!("{opp}/operationId"),
                        format!("operationId {operation_id:?} is also used by {other}"),
                    );
                }
            }
            let mut params: Vec<Param> = Vec::new();
            let own: Vec<(String, &Value)> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, p)| (format!("{opp}/parameters/{i}"), p))
                        .collect()
                })
                .unwrap_or_default();
            let shared: Vec<(String, &Value)> = shared_params
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("{pp}/parameters/{i}"), *p))
                .collect();
            for (ptr, p) in shared.into_iter().chain(own) {
                let p = deref(root, p);
                let name = str_of(p, "name");
                let location = str_of(p, "in");
                if name.is_empty() {
                    c.at(&ptr, "a parameter needs a \"name\"");
                    continue;
                }
                if !["query", "header", "path", "cookie"].contains(&location) {
                    c.at(
                        &ptr,
                        format!(
                            "parameter {name:?}: \"in\" must be query, header, path or cookie, found {location:?}"
                        ),
                    );
                    continue;
                }
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                if location == "path" && !required {
                    c.at(
                        &ptr,
                        format!("path parameter {name:?} must have \"required: true\""),
                    );
                }
                let param = Param {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    required,
                    schema: p
                        .get("schema")
                        .cloned()
                        .unwrap_or_else(|| content_schema(p.get("content"))),
                    description: str_of(p, "description").to_owned(),
                };
                // An operation's parameter overrides the path item's of the same name and place.
                params.retain(|q| !(q.name == param.name && q.location == param.location));
                params.push(param);
            }
            for name in path
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            {
                {
                    if !params
                        .iter()
                        .any(|p| p.location == "path" && p.name == name)
                    {
                        c.at(
                            &opp,
                            format!(
                                "{key}: path parameter {name:?} is not declared in \"parameters\""
                            ),
                        );
                    }
                }
            }
            let body = op.get("requestBody").map(|b| {
                let b = deref(root, b);
                (
                    b.get("required").and_then(Value::as_bool).unwrap_or(false),
                    content_schema(b.get("content")),
                )
            });
            let mut responses = BTreeMap::new();
            match op.get("responses").and_then(Value::as_object) {
                None if !v31 || op.get("responses").is_some() => c.at(
                    &opp,
                    format!("{key}: \"responses\" is required (a mapping of status codes)"),
                ),
                None => {}
                Some(rs) => {
                    for (code, r) in rs {
                        let valid = code == "default"
                            || (code.len() == 3
                                && code.as_bytes()[0].is_ascii_digit()
                                && (code[1..].bytes().all(|b| b.is_ascii_digit())
                                    || &code[1..] == "XX"));
                        if !valid {
                            c.at(
                                &format!("{opp}/responses/{}", escape(code)),
                                format!("{key}: response key {code:?} is not a status code, a range like 4XX, or \"default\""),
                            );
                        }
                        let r = deref(root, r);
                        responses.insert(code.clone(), content_schema(r.get("content")));
                    }
                }
            }
            operations.insert(
                key,
                Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    operation_id,
                    summary: str_of(op, "summary").to_owned(),
                    tags: op
                        .get("tags")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    params,
                    body,
                    responses,
                    security: security_of(op, root),
                },
            );
        }
    }
    if c.diags.is_empty() {
        Ok((
            version,
            title,
            Model {
                root: root.clone(),
                operations,
            },
        ))
    } else {
        Err(c.diags)
    }
}

pub(crate) fn compare(old: &Model, new: &Model) -> Vec<Change> {
    let mut out = Vec::new();
    let mut diff = SchemaDiff::new(&old.root, &new.root);
    for (key, o) in &old.operations {
        let Some(n) = new.operations.get(key) else {
            out.push(Change::breaking(key, "operation removed"));
            continue;
        };
        for p in &o.params {
            let loc = format!("{key} → {} parameter {}", p.location, p.name);
            match n
                .params
                .iter()
                .find(|q| q.name == p.name && q.location == p.location)
            {
                None => out.push(Change::compatible(&loc, "parameter removed")),
                Some(q) => {
                    if q.required && !p.required {
                        out.push(Change::breaking(&loc, "parameter is now required"));
                    }
                    diff.compare(&loc, &p.schema, &q.schema, Flow::Request);
                }
            }
        }
        for q in &n.params {
            if !o
                .params
                .iter()
                .any(|p| p.name == q.name && p.location == q.location)
            {
                let loc = format!("{key} → {} parameter {}", q.location, q.name);
                if q.required {
                    out.push(Change::breaking(&loc, "new required parameter"));
                } else {
                    out.push(Change::compatible(&loc, "new optional parameter"));
                }
            }
        }
        let loc = format!("{key} → request body");
        match (&o.body, &n.body) {
            (Some((or, os)), Some((nr, ns))) => {
                if *nr && !or {
                    out.push(Change::breaking(&loc, "request body is now required"));
                }
                diff.compare(&loc, os, ns, Flow::Request);
            }
            (None, Some((true, _))) => {
                out.push(Change::breaking(&loc, "new required request body"))
            }
            (None, Some(_)) => out.push(Change::compatible(&loc, "new optional request body")),
            (Some(_), None) => out.push(Change::breaking(&loc, "request body removed")),
            (None, None) => {}
        }
        for (code, os) in &o.responses {
            let loc = format!("{key} → response {code}");
            match n.responses.get(code) {
                None => out.push(Change::breaking(&loc, "response removed")),
                Some(ns) => {
                    if !os.is_null() && ns.is_null() {
                        out.push(Change::breaking(&loc, "response body removed"));
                    } else if !os.is_null() {
                        diff.compare(&format!("{loc} → body"), os, ns, Flow::Response);
                    }
                }
            }
        }
        for code in n.responses.keys().filter(|c| !o.responses.contains_key(*c)) {
            out.push(Change::compatible(
                format!("{key} → response {code}"),
                "response added",
            ));
        }
        for scheme in n.security.difference(&o.security) {
            out.push(Change::breaking(
                format!("{key} → security"),
                format!("security requirement {scheme:?} added"),
            ));
        }
        for scheme in o.security.difference(&n.security) {
            out.push(Change::compatible(
                format!("{key} → security"),
                format!("security requirement {scheme:?} removed"),
            ));
        }
    }
    for key in new.operations.keys() {
        if !old.operations.contains_key(key) {
            out.push(Change::compatible(key, "operation added"));
        }
    }
    out.extend(diff.changes);
    out
}

fn schema_type(root: &Value, schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    let s = deref(root, schema);
    match s.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!(
                "{}[]",
                s.get("items")
                    .map_or("any".into(), |i| schema_type(root, i))
            )
        }
        Some(Value::String(t)) => match s.get("format").and_then(Value::as_str) {
            Some(f) => format!("{t} ({f})"),
            None => t.clone(),
        },
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "object".into(),
    }
}

impl Model {
    pub fn terms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for op in self.operations.values() {
            out.push(op.path.clone());
            if !op.operation_id.is_empty() {
                out.push(op.operation_id.clone());
            }
            out.extend(op.tags.iter().cloned());
            out.extend(op.params.iter().map(|p| p.name.clone()));
        }
        if let Some(schemas) = self
            .root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, s) in schemas {
                out.push(name.clone());
                if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    out.extend(props.keys().cloned());
                }
            }
        }
        out
    }

    pub fn reference(&self) -> Vec<RefItem> {
        let mut items: Vec<RefItem> = self
            .operations
            .values()
            .map(|op| RefItem {
                kind: "operation",
                name: if op.operation_id.is_empty() {
                    format!("{} {}", op.method, op.path)
                } else {
                    op.operation_id.clone()
                },
                signature: format!("{} {}", op.method, op.path),
                description: op.summary.clone(),
                members: op
                    .params
                    .iter()
                    .map(|p| {
                        (
                            format!("{} ({})", p.name, p.location),
                            format!(
                                "{}{}",
                                schema_type(&self.root, &p.schema),
                                if p.required { ", required" } else { "" }
                            ),
                            p.description.clone(),
                        )
                    })
                    .collect(),
            })
            .collect();
        if let Some(schemas) = self
            .root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, s) in schemas {
                let req: BTreeSet<&str> = s
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                items.push(RefItem {
                    kind: "schema",
                    name: name.clone(),
                    signature: schema_type(&self.root, s),
                    description: str_of(s, "description").to_owned(),
                    members: s
                        .get("properties")
                        .and_then(Value::as_object)
                        .map(|props| {
                            props
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        format!(
                                            "{}{}",
                                            schema_type(&self.root, v),
                                            if req.contains(k.as_str()) {
                                                ", required"
                                            } else {
                                                ""
                                            }
                                        ),
                                        str_of(v, "description").to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        items
    }
}
