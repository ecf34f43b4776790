//! Protocol Buffers: one or more `.proto` files compiled in-process with protox. Imports
//! resolve only among the uploaded files and Google's well-known types; nothing is read from
//! disk or the network.

use crate::{Change, Diagnostic, RefItem, SpecFile, line_col};
use miette::Diagnostic as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorProto};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub name: String,
    pub number: i32,
    pub ty: String,
    pub repeated: bool,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Message {
    pub fields: Vec<Field>,
    pub reserved: Vec<(i32, i32)>,
    pub comment: String,
    pub file: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Method {
    pub input: String,
    pub output: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub packages: BTreeSet<String>,
    pub messages: BTreeMap<String, Message>,
    pub enums: BTreeMap<String, Vec<(String, i32)>>,
    pub services: BTreeMap<String, String>,
    /// "pkg.Service/Method" → method.
    pub methods: BTreeMap<String, Method>,
}

struct Uploaded(HashMap<String, String>);

impl FileResolver for Uploaded {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(source) => File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

fn resolver(files: &HashMap<String, String>) -> ChainFileResolver {
    let mut chain = ChainFileResolver::new();
    chain.add(Uploaded(files.clone()));
    chain.add(GoogleFileResolver::new());
    chain
}

fn diagnostics(
    err: &protox::Error,
    files: &HashMap<String, String>,
    fallback: &str,
) -> Vec<Diagnostic> {
    let file = err.file().unwrap_or(fallback).to_owned();
    let source = files.get(&file).map(String::as_str).unwrap_or("");
    let mut out = Vec::new();
    let mut push = |message: String, offset: Option<usize>| {
        let (line, col) = offset.map_or((0, 0), |o| line_col(source, o));
        let message = if let Some(name) = message
            .strip_prefix("import '")
            .and_then(|m| m.strip_suffix("' not found"))
        {
            format!(
                "import {name:?} not found: it is neither one of the uploaded files nor a google/protobuf well-known type; upload it with the other files of this version"
            )
        } else {
            message
        };
        out.push(Diagnostic::new(&file, line, col, message));
    };
    // The error itself is the first problem; `related` holds the file's other problems.
    let off = err.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    push(err.to_string(), off);
    if let Some(related) = err.related() {
        for d in related {
            let off = d.labels().and_then(|mut l| l.next()).map(|l| l.offset());
            push(d.to_string(), off);
        }
    }
    out
}

fn comments(file: &FileDescriptorProto) -> HashMap<Vec<i32>, String> {
    let mut out = HashMap::new();
    if let Some(info) = &file.source_code_info {
        for loc in &info.location {
            if let Some(c) = loc
                .leading_comments
                .as_deref()
                .or(loc.trailing_comments.as_deref())
            {
                let text = c.lines().map(str::trim).collect::<Vec<_>>().join(" ");
                out.insert(loc.path.clone(), text.trim().to_owned());
            }
        }
    }
    out
}

fn type_of(f: &prost_types::FieldDescriptorProto) -> String {
    match f.r#type() {
        Type::Message | Type::Enum | Type::Group => {
            f.type_name().trim_start_matches('.').to_owned()
        }
        t => t
            .as_str_name()
            .trim_start_matches("TYPE_")
            .to_ascii_lowercase(),
    }
}

fn add_message(
    model: &mut Model,
    prefix: &str,
    msg: &DescriptorProto,
    path: Vec<i32>,
    notes: &HashMap<Vec<i32>, String>,
    file: &str,
) {
    let name = format!("{prefix}.{}", msg.name());
    let name = name.trim_start_matches('.').to_owned();
    let fields = msg
        .field
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut p = path.clone();
            p.extend([2, i as i32]);
            Field {
                name: f.name().to_owned(),
                number: f.number(),
                ty: type_of(f),
                repeated: f.label() == Label::Repeated,
                comment: notes.get(&p).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let reserved = msg
        .reserved_range
        .iter()
        .map(|r| (r.start(), r.end()))
        .collect();
    for (k, nested) in msg.nested_type.iter().enumerate() {
        if nested.options.as_ref().is_some_and(|o| o.map_entry()) {
            continue;
        }
        let mut p = path.clone();
        p.extend([3, k as i32]);
        add_message(model, &name, nested, p, notes, file);
    }
    for e in &msg.enum_type {
        model.enums.insert(
            format!("{name}.{}", e.name()),
            e.value
                .iter()
                .map(|v| (v.name().to_owned(), v.number()))
                .collect(),
        );
    }
    model.messages.insert(
        name,
        Message {
            fields,
            reserved,
            comment: notes.get(&path).cloned().unwrap_or_default(),
            file: file.to_owned(),
        },
    );
}

pub(crate) fn validate(files: &[SpecFile]) -> Result<(String, Model), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut sources = HashMap::new();
    for f in files {
        if !f.name.ends_with(".proto") {
            diags.push(Diagnostic::new(
                &f.name,
                0,
                0,
                "a protobuf schema file's name must end in .proto",
            ));
        }
        if sources.insert(f.name.clone(), f.content.clone()).is_some() {
            diags.push(Diagnostic::new(&f.name, 0, 0, "the file is uploaded twice"));
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    // Each file on its own first, so that every file's problems are reported.
    for f in files {
        let mut compiler = protox::Compiler::with_file_resolver(resolver(&sources));
        if let Err(err) = compiler.open_file(&f.name) {
            diags.extend(diagnostics(&err, &sources, &f.name));
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut compiler = protox::Compiler::with_file_resolver(resolver(&sources));
    compiler.include_source_info(true).include_imports(false);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    if let Err(err) = compiler.open_files(names) {
        return Err(diagnostics(&err, &sources, &files[0].name));
    }
    let fds = compiler.file_descriptor_set();
    let mut model = Model::default();
    for file in &fds.file {
        let notes = comments(file);
        let pkg = file.package().to_owned();
        model.packages.insert(pkg.clone());
        for (i, m) in file.message_type.iter().enumerate() {
            add_message(&mut model, &pkg, m, vec![4, i as i32], &notes, file.name());
        }
        for e in &file.enum_type {
            model.enums.insert(
                format!("{pkg}.{}", e.name())
                    .trim_start_matches('.')
                    .to_owned(),
                e.value
                    .iter()
                    .map(|v| (v.name().to_owned(), v.number()))
                    .collect(),
            );
        }
        for (si, s) in file.service.iter().enumerate() {
            let sname = format!("{pkg}.{}", s.name())
                .trim_start_matches('.')
                .to_owned();
            model.services.insert(
                sname.clone(),
                notes.get(&vec![6, si as i32]).cloned().unwrap_or_default(),
            );
            for (mi, m) in s.method.iter().enumerate() {
                model.methods.insert(
                    format!("{sname}/{}", m.name()),
                    Method {
                        input: m.input_type().trim_start_matches('.').to_owned(),
                        output: m.output_type().trim_start_matches('.').to_owned(),
                        client_streaming: m.client_streaming(),
                        server_streaming: m.server_streaming(),
                        comment: notes
                            .get(&vec![6, si as i32, 2, mi as i32])
                            .cloned()
                            .unwrap_or_default(),
                    },
                );
            }
        }
    }
    let title = model
        .packages
        .iter()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    Ok((title, model))
}

fn reserved(ranges: &[(i32, i32)], number: i32) -> bool {
    // Descriptor reserved ranges are [start, end).
    ranges.iter().any(|(s, e)| number >= *s && number < *e)
}

pub(crate) fn compare(old: &Model, new: &Model) -> Vec<Change> {
    let mut out = Vec::new();
    for p in old.packages.difference(&new.packages) {
        out.push(Change::breaking(
            format!("package {p}"),
            if new.packages.len() == 1 && old.packages.len() == 1 {
                format!(
                    "package renamed to {}",
                    new.packages.iter().next().cloned().unwrap_or_default()
                )
            } else {
                "package removed or renamed".into()
            },
        ));
    }
    for (name, om) in &old.messages {
        let loc = format!("message {name}");
        let Some(nm) = new.messages.get(name) else {
            out.push(Change::breaking(&loc, "message removed"));
            continue;
        };
        for of in &om.fields {
            let floc = format!("{loc} field {} ({})", of.name, of.number);
            match nm.fields.iter().find(|f| f.number == of.number) {
                None => {
                    if let Some(moved) = nm.fields.iter().find(|f| f.name == of.name) {
                        out.push(Change::breaking(
                            &floc,
                            format!("field renumbered from {} to {}", of.number, moved.number),
                        ));
                    } else if reserved(&nm.reserved, of.number) {
                        out.push(Change::compatible(
                            &floc,
                            "field removed; its number is reserved",
                        ));
                    } else {
                        out.push(Change::breaking(
                            &floc,
                            "field removed without reserving its number",
                        ));
                    }
                }
                Some(nf) => {
                    if nf.ty != of.ty {
                        out.push(Change::breaking(
                            &floc,
                            format!("type changed from {} to {}", of.ty, nf.ty),
                        ));
                    }
                    if nf.repeated != of.repeated {
                        out.push(Change::breaking(
                            &floc,
                            if nf.repeated {
                                "field became repeated"
                            } else {
                                "field is no longer repeated"
                            },
                        ));
                    }
                    if nf.name != of.name {
                        out.push(Change::breaking(
                            &floc,
                            format!(
                                "field renamed to {} (breaks the JSON mapping and generated code)",
                                nf.name
                            ),
                        ));
                    }
                }
            }
        }
        for nf in &nm.fields {
            if !om.fields.iter().any(|f| f.number == nf.number)
                && !om.fields.iter().any(|f| f.name == nf.name)
            {
                out.push(Change::compatible(
                    format!("{loc} field {} ({})", nf.name, nf.number),
                    "field added",
                ));
            }
        }
    }
    for name in new
        .messages
        .keys()
        .filter(|n| !old.messages.contains_key(*n))
    {
        out.push(Change::compatible(
            format!("message {name}"),
            "message added",
        ));
    }
    for (name, ov) in &old.enums {
        let loc = format!("enum {name}");
        let Some(nv) = new.enums.get(name) else {
            out.push(Change::breaking(&loc, "enum removed"));
            continue;
        };
        for (v, n) in ov {
            if !nv.iter().any(|(w, m)| w == v && m == n) {
                out.push(Change::breaking(
                    format!("{loc} value {v}"),
                    "enum value removed or renumbered",
                ));
            }
        }
    }
    for name in old
        .services
        .keys()
        .filter(|s| !new.services.contains_key(*s))
    {
        out.push(Change::breaking(
            format!("service {name}"),
            "service removed",
        ));
    }
    for (name, om) in &old.methods {
        let loc = format!("rpc {name}");
        let Some(nm) = new.methods.get(name) else {
            out.push(Change::breaking(&loc, "RPC removed"));
            continue;
        };
        if om.input != nm.input {
            out.push(Change::breaking(
                &loc,
                format!("request type changed from {} to {}", om.input, nm.input),
            ));
        }
        if om.output != nm.output {
            out.push(Change::breaking(
                &loc,
                format!("response type changed from {} to {}", om.output, nm.output),
            ));
        }
        if om.client_streaming != nm.client_streaming || om.server_streaming != nm.server_streaming
        {
            out.push(Change::breaking(&loc, "streaming mode changed"));
        }
    }
    for name in new.methods.keys().filter(|m| !old.methods.contains_key(*m)) {
        out.push(Change::compatible(format!("rpc {name}"), "RPC added"));
    }
    out
}

impl Model {
    pub fn terms(&self) -> Vec<String> {
        let mut out: Vec<String> = self.packages.iter().cloned().collect();
        for (name, m) in &self.messages {
            out.push(name.rsplit('.').next().unwrap_or(name).to_owned());
            out.extend(m.fields.iter().map(|f| f.name.clone()));
        }
        for name in self.enums.keys().chain(self.services.keys()) {
            out.push(name.rsplit('.').next().unwrap_or(name).to_owned());
        }
        for name in self.methods.keys() {
            out.push(name.rsplit('/').next().unwrap_or(name).to_owned());
        }
        out
    }

    pub fn reference(&self) -> Vec<RefItem> {
        let mut items = Vec::new();
        for (name, comment) in &self.services {
            let prefix = format!("{name}/");
            items.push(RefItem {
                kind: "service",
                name: name.clone(),
                signature: format!("service {name}"),
                description: comment.clone(),
                members: self
                    .methods
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, m)| {
                        let stream = |s: bool| if s { "stream " } else { "" };
                        (
                            k[prefix.len()..].to_owned(),
                            format!(
                                "({}{}) returns ({}{})",
                                stream(m.client_streaming),
                                m.input,
                                stream(m.server_streaming),
                                m.output
                            ),
                            m.comment.clone(),
                        )
                    })
                    .collect(),
            });
        }
        for (name, m) in &self.messages {
            items.push(RefItem {
                kind: "message",
                name: name.clone(),
                signature: format!("message {name} ({})", m.file),
                description: m.comment.clone(),
                members: m
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            format!("{} = {}", f.name, f.number),
                            format!("{}{}", if f.repeated { "repeated " } else { "" }, f.ty),
                            f.comment.clone(),
                        )
                    })
                    .collect(),
            });
        }
        for (name, values) in &self.enums {
            items.push(RefItem {
                kind: "enum",
                name: name.clone(),
                signature: format!("enum {name}"),
                description: String::new(),
                members: values
                    .iter()
                    .map(|(v, n)| (v.clone(), n.to_string(), String::new()))
                    .collect(),
            });
        }
        items
    }
}
