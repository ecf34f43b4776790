//! GraphQL SDL, parsed with apollo-parser (error-tolerant: every syntax error is reported)
//! plus the checks a schema needs beyond syntax (unknown and duplicate types).

use crate::{Change, Diagnostic, RefItem, SpecFile, line_col};
use apollo_parser::Parser;
use apollo_parser::cst::{self, CstNode};
use std::collections::BTreeMap;

const BUILTIN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

#[derive(Debug, Clone, Default)]
pub(crate) struct GField {
    pub ty: String,
    /// Argument (or nothing for input fields) → (type, has a default).
    pub args: BTreeMap<String, (String, bool)>,
    pub has_default: bool,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct GType {
    pub kind: &'static str,
    pub description: String,
    pub fields: BTreeMap<String, GField>,
    pub values: Vec<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub types: BTreeMap<String, GType>,
}

fn compact(node: &impl CstNode) -> String {
    node.syntax()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect()
}

fn base(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

fn describe(d: Option<cst::Description>) -> String {
    d.and_then(|d| d.string_value())
        .map(String::from)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn fields_of(defs: Option<cst::FieldsDefinition>) -> BTreeMap<String, GField> {
    let mut out = BTreeMap::new();
    for f in defs.iter().flat_map(|d| d.field_definitions()) {
        let Some(name) = f.name() else { continue };
        let args = f
            .arguments_definition()
            .iter()
            .flat_map(|a| a.input_value_definitions())
            .filter_map(|a| {
                Some((
                    a.name()?.text().to_string(),
                    (
                        a.ty().map(|t| compact(&t)).unwrap_or_default(),
                        a.default_value().is_some(),
                    ),
                ))
            })
            .collect();
        out.insert(
            name.text().to_string(),
            GField {
                ty: f.ty().map(|t| compact(&t)).unwrap_or_default(),
                args,
                has_default: false,
                description: describe(f.description()),
            },
        );
    }
    out
}

fn inputs_of(defs: Option<cst::InputFieldsDefinition>) -> BTreeMap<String, GField> {
    let mut out = BTreeMap::new();
    for f in defs.iter().flat_map(|d| d.input_value_definitions()) {
        let Some(name) = f.name() else { continue };
        out.insert(
            name.text().to_string(),
            GField {
                ty: f.ty().map(|t| compact(&t)).unwrap_or_default(),
                args: BTreeMap::new(),
                has_default: f.default_value().is_some(),
                description: describe(f.description()),
            },
        );
    }
    out
}

pub(crate) fn validate(files: &[SpecFile]) -> Result<Model, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut model = Model::default();
    // Where each type was defined and where each type name is used, for the semantic checks.
    let mut defined: BTreeMap<String, (String, u32, u32)> = BTreeMap::new();
    let mut used: Vec<(String, String, u32, u32)> = Vec::new();
    for file in files {
        let tree = Parser::new(&file.content)
            .recursion_limit(200)
            .token_limit(2_000_000)
            .parse();
        for err in tree.errors() {
            let (line, col) = line_col(&file.content, err.index());
            diags.push(Diagnostic::new(&file.name, line, col, err.message()));
        }
        let doc = tree.document();
        for def in doc.definitions() {
            let pos = line_col(&file.content, def.syntax().text_range().start().into());
            let (name, ty) = match def {
                cst::Definition::ObjectTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "type",
                        description: describe(d.description()),
                        fields: fields_of(d.fields_definition()),
                        ..GType::default()
                    },
                ),
                cst::Definition::InterfaceTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "interface",
                        description: describe(d.description()),
                        fields: fields_of(d.fields_definition()),
                        ..GType::default()
                    },
                ),
                cst::Definition::InputObjectTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "input",
                        description: describe(d.description()),
                        fields: inputs_of(d.input_fields_definition()),
                        ..GType::default()
                    },
                ),
                cst::Definition::EnumTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "enum",
                        description: describe(d.description()),
                        values: d
                            .enum_values_definition()
                            .iter()
                            .flat_map(|v| v.enum_value_definitions())
                            .filter_map(|v| Some(v.enum_value()?.text().to_string()))
                            .collect(),
                        ..GType::default()
                    },
                ),
                cst::Definition::UnionTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "union",
                        description: describe(d.description()),
                        members: d
                            .union_member_types()
                            .iter()
                            .flat_map(|m| m.named_types())
                            .filter_map(|n| Some(n.name()?.text().to_string()))
                            .collect(),
                        ..GType::default()
                    },
                ),
                cst::Definition::ScalarTypeDefinition(d) => (
                    d.name(),
                    GType {
                        kind: "scalar",
                        description: describe(d.description()),
                        ..GType::default()
                    },
                ),
                _ => continue,
            };
            let Some(name) = name else { continue };
            let name = name.text().to_string();
            for f in ty.fields.values() {
                used.push((base(&f.ty).to_owned(), file.name.clone(), pos.0, pos.1));
                for (aty, _) in f.args.values() {
                    used.push((base(aty).to_owned(), file.name.clone(), pos.0, pos.1));
                }
            }
            for m in &ty.members {
                used.push((m.clone(), file.name.clone(), pos.0, pos.1));
            }
            if let Some((f, l, c)) = defined.get(&name) {
                diags.push(Diagnostic::new(
                    &file.name,
                    pos.0,
                    pos.1,
                    format!("type {name} is defined twice (first at {f}:{l}:{c})"),
                ));
                continue;
            }
            defined.insert(name.clone(), (file.name.clone(), pos.0, pos.1));
            model.types.insert(name, ty);
        }
    }
    for (name, file, line, col) in used {
        if !name.is_empty() && !BUILTIN.contains(&name.as_str()) && !defined.contains_key(&name) {
            diags.push(Diagnostic::new(
                &file,
                line,
                col,
                format!("unknown type {name}: it is not defined in the uploaded schema"),
            ));
        }
    }
    if model.types.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::new(
            &files[0].name,
            1,
            1,
            "the schema defines no types",
        ));
    }
    if diags.is_empty() {
        Ok(model)
    } else {
        Err(diags)
    }
}

/// How a type reference changed: None when equal.
fn type_change(old: &str, new: &str, input: bool) -> Option<Change> {
    if old == new {
        return None;
    }
    if old.replace('!', "") != new.replace('!', "") {
        return Some(Change::breaking(
            "",
            format!("type changed from {old} to {new}"),
        ));
    }
    let tightened = new.matches('!').count() > old.matches('!').count();
    Some(if tightened {
        Change {
            breaking: input,
            location: String::new(),
            message: format!("nullability tightened from {old} to {new}"),
        }
    } else {
        Change {
            breaking: !input,
            location: String::new(),
            message: format!("nullability loosened from {old} to {new}"),
        }
    })
}

pub(crate) fn compare(old: &Model, new: &Model) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |loc: String, change: Option<Change>| {
        if let Some(mut c) = change {
            c.location = loc;
            out.push(c);
        }
    };
    for (name, ot) in &old.types {
        let Some(nt) = new.types.get(name) else {
            push(name.clone(), Some(Change::breaking("", "type removed")));
            continue;
        };
        if ot.kind != nt.kind {
            push(
                name.clone(),
                Some(Change::breaking(
                    "",
                    format!("changed from {} to {}", ot.kind, nt.kind),
                )),
            );
            continue;
        }
        let input = ot.kind == "input";
        for (fname, of) in &ot.fields {
            let loc = format!("{name}.{fname}");
            let Some(nf) = nt.fields.get(fname) else {
                push(loc, Some(Change::breaking("", "field removed")));
                continue;
            };
            push(loc.clone(), type_change(&of.ty, &nf.ty, input));
            for (aname, (aty, _)) in &of.args {
                let aloc = format!("{loc}({aname})");
                match nf.args.get(aname) {
                    None => push(aloc, Some(Change::breaking("", "argument removed"))),
                    Some((nty, _)) => push(aloc, type_change(aty, nty, true)),
                }
            }
            for (aname, (aty, default)) in &nf.args {
                if !of.args.contains_key(aname) {
                    let required = aty.ends_with('!') && !default;
                    push(
                        format!("{loc}({aname})"),
                        Some(Change {
                            breaking: required,
                            location: String::new(),
                            message: if required {
                                "argument added as required".into()
                            } else {
                                "optional argument added".into()
                            },
                        }),
                    );
                }
            }
        }
        for (fname, nf) in &nt.fields {
            if !ot.fields.contains_key(fname) {
                let required = input && nf.ty.ends_with('!') && !nf.has_default;
                push(
                    format!("{name}.{fname}"),
                    Some(Change {
                        breaking: required,
                        location: String::new(),
                        message: if required {
                            "required input field added".into()
                        } else {
                            "field added".into()
                        },
                    }),
                );
            }
        }
        for v in ot.values.iter().filter(|v| !nt.values.contains(v)) {
            push(
                format!("{name}.{v}"),
                Some(Change::breaking("", "enum value removed")),
            );
        }
        for v in nt.values.iter().filter(|v| !ot.values.contains(v)) {
            push(
                format!("{name}.{v}"),
                Some(Change::compatible("", "enum value added")),
            );
        }
        for m in ot.members.iter().filter(|m| !nt.members.contains(m)) {
            push(
                format!("{name} | {m}"),
                Some(Change::breaking("", "union member removed")),
            );
        }
    }
    for name in new.types.keys().filter(|n| !old.types.contains_key(*n)) {
        push(name.clone(), Some(Change::compatible("", "type added")));
    }
    out
}

impl Model {
    pub fn root_field_count(&self) -> usize {
        ["Query", "Mutation", "Subscription"]
            .iter()
            .filter_map(|t| self.types.get(*t))
            .map(|t| t.fields.len())
            .sum()
    }

    pub fn terms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, t) in &self.types {
            out.push(name.clone());
            out.extend(t.fields.keys().cloned());
            out.extend(t.values.iter().cloned());
        }
        out
    }

    pub fn reference(&self) -> Vec<RefItem> {
        let order = |t: &GType, name: &str| match (name, t.kind) {
            ("Query" | "Mutation" | "Subscription", _) => 0,
            (_, "type" | "interface") => 1,
            (_, "input") => 2,
            (_, "enum" | "union") => 3,
            _ => 4,
        };
        let mut names: Vec<&String> = self.types.keys().collect();
        names.sort_by_key(|n| (order(&self.types[*n], n), (*n).clone()));
        names
            .into_iter()
            .map(|name| {
                let t = &self.types[name];
                let mut members: Vec<(String, String, String)> = t
                    .fields
                    .iter()
                    .map(|(f, gf)| {
                        let args = if gf.args.is_empty() {
                            String::new()
                        } else {
                            format!(
                                "({})",
                                gf.args
                                    .iter()
                                    .map(|(a, (ty, _))| format!("{a}: {ty}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        };
                        (format!("{f}{args}"), gf.ty.clone(), gf.description.clone())
                    })
                    .collect();
                members.extend(
                    t.values
                        .iter()
                        .map(|v| (v.clone(), String::new(), String::new())),
                );
                members.extend(
                    t.members
                        .iter()
                        .map(|m| (m.clone(), "member".into(), String::new())),
                );
                RefItem {
                    kind: t.kind,
                    name: name.clone(),
                    signature: format!("{} {name}", t.kind),
                    description: t.description.clone(),
                    members,
                }
            })
            .collect()
    }
}
