//! API schemas for Orbit's API catalog: parsing, validation, comparison between versions and
//! the terms a search index needs, for OpenAPI 3.0/3.1, AsyncAPI 2.6/3.0, protobuf and
//! GraphQL SDL.
//!
//! Pure: no I/O, no network. A `$ref` that points outside the document is refused, never
//! fetched. Every parser is bounded: YAML alias expansion and nesting depth are limited
//! ([`yaml`]), GraphQL parsing has token and recursion limits, and the caller limits the
//! upload size before anything is parsed.

mod asyncapi;
mod compare;
mod graphql;
mod openapi;
mod proto;
pub mod yaml;

pub use compare::Change;

use std::fmt;

/// The kinds of schema the catalog understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    OpenApi,
    AsyncApi,
    Protobuf,
    GraphQl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenApi => "openapi",
            Format::AsyncApi => "asyncapi",
            Format::Protobuf => "protobuf",
            Format::GraphQl => "graphql",
        }
    }
    pub fn parse(value: &str) -> Option<Format> {
        match value {
            "openapi" => Some(Format::OpenApi),
            "asyncapi" => Some(Format::AsyncApi),
            "protobuf" => Some(Format::Protobuf),
            "graphql" => Some(Format::GraphQl),
            _ => None,
        }
    }
    /// A person's name for the format.
    pub fn label(self) -> &'static str {
        match self {
            Format::OpenApi => "OpenAPI",
            Format::AsyncApi => "AsyncAPI",
            Format::Protobuf => "Protocol Buffers",
            Format::GraphQl => "GraphQL",
        }
    }
}

/// One uploaded file of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFile {
    pub name: String,
    pub content: String,
}

/// One problem found in a schema: where it is (file, 1-based line and column; 0 when the
/// problem has no single position) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl Diagnostic {
    pub fn new(file: &str, line: u32, column: u32, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// A named item of a schema's reference documentation (an operation, a message, a type…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefItem {
    /// "operation", "service", "method", "message", "enum", "type", "channel"…
    pub kind: &'static str,
    pub name: String,
    /// A one-line signature ("GET /pets/{id}", "rpc Get(GetRequest) returns (Pet)").
    pub signature: String,
    pub description: String,
    /// Members: fields, parameters, values, each as (name, type or detail, description).
    pub members: Vec<(String, String, String)>,
}

/// A validated schema, in the shape comparison, search and reference docs need.
#[derive(Debug, Clone)]
pub struct Spec {
    pub format: Format,
    /// The version of the format the document declares ("3.1.0", "2.6.0", "proto3", "SDL").
    pub format_version: String,
    pub title: String,
    model: Model,
}

#[derive(Debug, Clone)]
enum Model {
    OpenApi(openapi::Model),
    AsyncApi(asyncapi::Model),
    Protobuf(proto::Model),
    GraphQl(graphql::Model),
}

/// Bounds applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nodes a YAML/JSON document may expand to, aliases included.
    pub max_nodes: usize,
    /// Deepest nesting of a YAML/JSON document.
    pub max_depth: usize,
    /// Most problems reported (the rest are summarised in one line).
    pub max_diagnostics: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 1_000_000,
            max_depth: 200,
            max_diagnostics: 200,
        }
    }
}

/// Parses and validates the files of one schema version. All problems are returned, each
/// with its position, not only the first.
pub fn validate(format: Format, files: &[SpecFile]) -> Result<Spec, Vec<Diagnostic>> {
    validate_with(format, files, Limits::default())
}

pub fn validate_with(
    format: Format,
    files: &[SpecFile],
    limits: Limits,
) -> Result<Spec, Vec<Diagnostic>> {
    if files.is_empty() {
        return Err(vec![Diagnostic::new(
            "",
            0,
            0,
            "a schema needs at least one file",
        )]);
    }
    let result = match format {
        Format::OpenApi | Format::AsyncApi => {
            if files.len() != 1 {
                return Err(vec![Diagnostic::new(
                    &files[1].name,
                    0,
                    0,
                    format!(
                        "an {} schema is one document (YAML or JSON); {} files were given",
                        format.label(),
                        files.len()
                    ),
                )]);
            }
            let file = &files[0];
            let doc = yaml::parse(&file.name, &file.content, limits).map_err(|d| vec![d])?;
            if format == Format::OpenApi {
                openapi::validate(&file.name, &doc).map(|(version, title, m)| Spec {
                    format,
                    format_version: version,
                    title,
                    model: Model::OpenApi(m),
                })
            } else {
                asyncapi::validate(&file.name, &doc).map(|(version, title, m)| Spec {
                    format,
                    format_version: version,
                    title,
                    model: Model::AsyncApi(m),
                })
            }
        }
        Format::Protobuf => proto::validate(files).map(|(title, m)| Spec {
            format,
            format_version: "proto".into(),
            title,
            model: Model::Protobuf(m),
        }),
        Format::GraphQl => graphql::validate(files).map(|m| Spec {
            format,
            format_version: "SDL".into(),
            title: String::new(),
            model: Model::GraphQl(m),
        }),
    };
    result.map_err(|mut diags| {
        diags.sort_by(|a, b| {
            (a.file.as_str(), a.line, a.column).cmp(&(b.file.as_str(), b.line, b.column))
        });
        diags.dedup();
        if diags.len() > limits.max_diagnostics {
            let more = diags.len() - limits.max_diagnostics;
            diags.truncate(limits.max_diagnostics);
            diags.push(Diagnostic::new(
                "",
                0,
                0,
                format!("{more} more problems not shown"),
            ));
        }
        diags
    })
}

impl Spec {
    /// Every change from `old` to `self`, each marked breaking or not, with its location.
    /// Comparing schemas of different formats reports that as one breaking change.
    pub fn changes_since(&self, old: &Spec) -> Vec<Change> {
        match (&old.model, &self.model) {
            (Model::OpenApi(a), Model::OpenApi(b)) => openapi::compare(a, b),
            (Model::AsyncApi(a), Model::AsyncApi(b)) => asyncapi::compare(a, b),
            (Model::Protobuf(a), Model::Protobuf(b)) => proto::compare(a, b),
            (Model::GraphQl(a), Model::GraphQl(b)) => graphql::compare(a, b),
            _ => vec![Change::breaking(
                "",
                format!(
                    "the format changed from {} to {}",
                    old.format.label(),
                    self.format.label()
                ),
            )],
        }
    }

    /// Names a search index should know: operation ids, paths, messages, fields, types…
    pub fn search_terms(&self) -> Vec<String> {
        let mut terms = match &self.model {
            Model::OpenApi(m) => m.terms(),
            Model::AsyncApi(m) => m.terms(),
            Model::Protobuf(m) => m.terms(),
            Model::GraphQl(m) => m.terms(),
        };
        terms.sort();
        terms.dedup();
        terms
    }

    /// The reference documentation's items, in reading order.
    pub fn reference(&self) -> Vec<RefItem> {
        match &self.model {
            Model::OpenApi(m) => m.reference(),
            Model::AsyncApi(m) => m.reference(),
            Model::Protobuf(m) => m.reference(),
            Model::GraphQl(m) => m.reference(),
        }
    }

    /// How many operations (OpenAPI operations, RPCs, GraphQL root fields, AsyncAPI
    /// channels) the schema has.
    pub fn operation_count(&self) -> usize {
        match &self.model {
            Model::OpenApi(m) => m.operations.len(),
            Model::AsyncApi(m) => m.channels.len(),
            Model::Protobuf(m) => m.methods.len(),
            Model::GraphQl(m) => m.root_field_count(),
        }
    }
}

/// 1-based line and column of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line as u32, col as u32)
}
