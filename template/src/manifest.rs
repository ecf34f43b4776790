//! `orbit-template.yaml`: parsing, checking, and validating parameter values against it.

use crate::{TemplateError, scan};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawManifest {
    api_version: String,
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Vec<RawParam>,
    #[serde(default)]
    files: RawFiles,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    required: bool,
    default: Option<serde_yaml_ng::Value>,
    pattern: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    options: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    root: Option<String>,
    #[serde(default)]
    verbatim: Vec<String>,
    #[serde(default)]
    conditions: Vec<RawCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    path: String,
    when: String,
}

/// A parameter's type.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    String,
    Number,
    Boolean,
    /// One of the listed options.
    Enum(Vec<String>),
    /// A list of strings.
    List,
}

impl ParamKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Number => "number",
            ParamKind::Boolean => "boolean",
            ParamKind::Enum(_) => "enum",
            ParamKind::List => "list",
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    String(String),
    Number(f64),
    Boolean(bool),
    List(Vec<String>),
}

impl ParamValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::String(s) => serde_json::Value::String(s.clone()),
            ParamValue::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => {
                serde_json::Value::from(*n as i64)
            }
            ParamValue::Number(n) => serde_json::Value::from(*n),
            ParamValue::Boolean(b) => serde_json::Value::Bool(*b),
            ParamValue::List(l) => serde_json::Value::from(l.clone()),
        }
    }

    /// As a person would type it in a form.
    pub fn display(&self) -> String {
        match self {
            ParamValue::String(s) => s.clone(),
            ParamValue::Number(_) => self.to_json().to_string(),
            ParamValue::Boolean(b) => b.to_string(),
            ParamValue::List(l) => l.join(", "),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: ParamKind,
    pub required: bool,
    pub default: Option<ParamValue>,
    /// A regular expression every string (and list item) must match entirely.
    pub pattern: Option<String>,
    /// Bounds: a number's value, a string's length, a list's length.
    pub min: Option<f64>,
    pub max: Option<f64>,
    regex: Option<regex::Regex>,
}

/// A template's manifest, checked.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: String,
    pub title: String,
    pub description: String,
    pub parameters: Vec<Parameter>,
    /// The folder (relative to the template folder) whose files make the new repository.
    pub root: String,
    /// Globs (relative to `root`) of files copied without rendering.
    pub verbatim: Vec<String>,
    /// (glob relative to `root`, minijinja expression): files matching are kept only when
    /// the expression is true.
    pub conditions: Vec<(String, String)>,
}

/// Validated parameter values, by name.
pub type Params = BTreeMap<String, ParamValue>;

pub const MAX_PARAMETERS: usize = 100;
pub const MAX_STRING_CHARS: usize = 4096;
pub const MAX_LIST_ITEMS: usize = 200;

/// The 1-based line of the first line of `source` that contains `needle` after `from_line`.
fn line_of(source: &str, needle: &str, from_line: usize) -> usize {
    source
        .lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map_or(from_line.max(1), |(i, _)| i + 1)
}

fn manifest_err(
    line: usize,
    field: impl Into<String>,
    message: impl Into<String>,
) -> TemplateError {
    TemplateError::Manifest {
        line,
        field: field.into(),
        message: message.into(),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

impl Manifest {
    /// Parses and checks a manifest. Errors name the field and its line.
    pub fn parse(source: &str) -> Result<Manifest, TemplateError> {
        if source.len() > 256 * 1024 {
            return Err(manifest_err(1, "manifest", "is larger than 256 KiB"));
        }
        let raw: RawManifest = serde_yaml_ng::from_str(source).map_err(|e| {
            let line = e.location().map_or(1, |l| l.line());
            let text = e.to_string();
            let text = match text.rfind(" at line ") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            match text.split_once(": ") {
                Some((field, rest)) if !field.contains(' ') => manifest_err(line, field, rest),
                _ => manifest_err(line, "manifest", text),
            }
        })?;
        if raw.api_version != "orbit/v1" {
            return Err(manifest_err(
                line_of(source, "apiVersion", 1),
                "apiVersion",
                format!("is {:?}; this Orbit reads \"orbit/v1\"", raw.api_version),
            ));
        }
        let name_ok = !raw.name.is_empty()
            && raw.name.len() <= 100
            && raw
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(manifest_err(
                line_of(source, "name:", 1),
                "name",
                "must be 1 to 100 lowercase letters, digits and dashes",
            ));
        }
        if raw.parameters.len() > MAX_PARAMETERS {
            return Err(manifest_err(
                line_of(source, "parameters:", 1),
                "parameters",
                format!("has more than {MAX_PARAMETERS} parameters"),
            ));
        }
        let params_line = line_of(source, "parameters:", 1);
        let mut parameters: Vec<Parameter> = Vec::new();
        for (i, p) in raw.parameters.into_iter().enumerate() {
            let line = line_of(source, &p.name, params_line);
            let field = |f: &str| format!("parameters[{i}].{f}");
            if !is_identifier(&p.name) {
                return Err(manifest_err(
                    line,
                    field("name"),
                    format!("{:?} must be an identifier (letters, digits, _)", p.name),
                ));
            }
            if parameters.iter().any(|q| q.name == p.name) {
                return Err(manifest_err(
                    line,
                    field("name"),
                    format!("{:?} is declared twice", p.name),
                ));
            }
            let kind = match (p.kind.as_str(), &p.options) {
                ("string", None) => ParamKind::String,
                ("number", None) => ParamKind::Number,
                ("boolean", None) => ParamKind::Boolean,
                ("list", None) => ParamKind::List,
                ("enum", Some(options)) if !options.is_empty() => ParamKind::Enum(options.clone()),
                ("enum", _) => {
                    return Err(manifest_err(
                        line,
                        field("options"),
                        "an enum needs a non-empty list of options",
                    ));
                }
                ("string" | "number" | "boolean" | "list", Some(_)) => {
                    return Err(manifest_err(
                        line,
                        field("options"),
                        "only enum parameters have options",
                    ));
                }
                (other, _) => {
                    return Err(manifest_err(
                        line,
                        field("type"),
                        format!("{other:?} is not one of string, number, boolean, enum, list"),
                    ));
                }
            };
            let regex = match &p.pattern {
                Some(pattern) => {
                    if !matches!(kind, ParamKind::String | ParamKind::List) {
                        return Err(manifest_err(
                            line,
                            field("pattern"),
                            "applies to string and list parameters only",
                        ));
                    }
                    Some(
                        regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                            .size_limit(1 << 20)
                            .build()
                            .map_err(|e| {
                                manifest_err(
                                    line,
                                    field("pattern"),
                                    format!("is not a valid regular expression: {e}"),
                                )
                            })?,
                    )
                }
                None => None,
            };
            if let (Some(min), Some(max)) = (p.min, p.max) {
                if min > max {
                    return Err(manifest_err(
                        line,
                        field("min"),
                        format!("({min}) is greater than max ({max})"),
                    ));
                }
            }
            if matches!(kind, ParamKind::Boolean | ParamKind::Enum(_))
                && (p.min.is_some() || p.max.is_some())
            {
                return Err(manifest_err(
                    line,
                    field("min"),
                    "min and max apply to strings, numbers and lists",
                ));
            }
            let mut param = Parameter {
                name: p.name.clone(),
                title: p.title,
                description: p.description,
                kind,
                required: p.required,
                default: None,
                pattern: p.pattern,
                min: p.min,
                max: p.max,
                regex,
            };
            if let Some(default) = p.default {
                let json = serde_json::to_value(&default)
                    .map_err(|e| manifest_err(line, field("default"), e.to_string()))?;
                let value = param
                    .coerce(&json)
                    .and_then(|v| param.check(v))
                    .map_err(|m| manifest_err(line, field("default"), m))?;
                param.default = Some(value);
            }
            parameters.push(param);
        }
        let root = raw.files.root.unwrap_or_else(|| "skeleton".to_owned());
        let root = root.trim_matches('/').to_owned();
        if let Err(e) = crate::check_path(&root) {
            return Err(manifest_err(
                line_of(source, "root:", 1),
                "files.root",
                e.to_string(),
            ));
        }
        let mut conditions = Vec::new();
        for (i, c) in raw.files.conditions.into_iter().enumerate() {
            let line = line_of(source, &c.when, line_of(source, "conditions:", 1));
            scan::check_expression(&c.when)
                .map_err(|m| manifest_err(line, format!("files.conditions[{i}].when"), m))?;
            let env = crate::render::environment(&crate::Limits::default());
            env.compile_expression(&c.when).map_err(|e| {
                manifest_err(line, format!("files.conditions[{i}].when"), e.to_string())
            })?;
            conditions.push((c.path, c.when));
        }
        Ok(Manifest {
            name: raw.name,
            title: if raw.title.is_empty() {
                String::new()
            } else {
                raw.title
            },
            description: raw.description,
            parameters,
            root,
            verbatim: raw.files.verbatim,
            conditions,
        })
    }

    /// Checks values a person gave (JSON values, or strings as a form sends them) against
    /// the parameters: every broken parameter is reported. Missing values take defaults.
    pub fn validate(
        &self,
        input: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Params, TemplateError> {
        let mut errors = Vec::new();
        for name in input.keys() {
            if !self.parameters.iter().any(|p| &p.name == name) {
                errors.push((
                    name.clone(),
                    "is not a parameter of this template".to_owned(),
                ));
            }
        }
        let mut out = Params::new();
        for p in &self.parameters {
            let given = input.get(&p.name).filter(|v| match v {
                serde_json::Value::Null => false,
                serde_json::Value::String(s) => {
                    !s.is_empty() || p.kind == ParamKind::String && !p.required
                }
                _ => true,
            });
            let value = match given {
                Some(v) => match p.coerce(v).and_then(|v| p.check(v)) {
                    Ok(v) => v,
                    Err(m) => {
                        errors.push((p.name.clone(), m));
                        continue;
                    }
                },
                None => match &p.default {
                    Some(d) => d.clone(),
                    None if p.required => {
                        errors.push((p.name.clone(), "is required".to_owned()));
                        continue;
                    }
                    None => match p.kind {
                        ParamKind::String => ParamValue::String(String::new()),
                        ParamKind::Number => ParamValue::Number(0.0),
                        ParamKind::Boolean => ParamValue::Boolean(false),
                        ParamKind::List => ParamValue::List(Vec::new()),
                        ParamKind::Enum(ref o) => ParamValue::String(o[0].clone()),
                    },
                },
            };
            out.insert(p.name.clone(), value);
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(TemplateError::Parameters(errors))
        }
    }

    /// The rendering context: every parameter by name.
    pub fn context(params: &Params) -> serde_json::Value {
        serde_json::Value::Object(
            params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }
}

impl Parameter {
    /// Turns a JSON value (or a string from a form) into a value of the parameter's type.
    fn coerce(&self, v: &serde_json::Value) -> Result<ParamValue, String> {
        use serde_json::Value as J;
        match (&self.kind, v) {
            (ParamKind::String | ParamKind::Enum(_), J::String(s)) => {
                Ok(ParamValue::String(s.clone()))
            }
            (ParamKind::String | ParamKind::Enum(_), J::Number(n)) => {
                Ok(ParamValue::String(n.to_string()))
            }
            (ParamKind::Number, J::Number(n)) => n
                .as_f64()
                .map(ParamValue::Number)
                .ok_or_else(|| "is not a number".into()),
            (ParamKind::Number, J::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(ParamValue::Number)
                .ok_or_else(|| format!("must be a number, not {s:?}")),
            (ParamKind::Boolean, J::Bool(b)) => Ok(ParamValue::Boolean(*b)),
            (ParamKind::Boolean, J::String(s)) => match s.as_str() {
                "true" | "on" | "yes" => Ok(ParamValue::Boolean(true)),
                "false" | "off" | "no" => Ok(ParamValue::Boolean(false)),
                _ => Err(format!("must be true or false, not {s:?}")),
            },
            (ParamKind::List, J::Array(items)) => items
                .iter()
                .map(|i| match i {
                    J::String(s) => Ok(s.clone()),
                    J::Number(n) => Ok(n.to_string()),
                    _ => Err("must be a list of strings".to_owned()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ParamValue::List),
            (ParamKind::List, J::String(s)) => Ok(ParamValue::List(
                s.split([',', '\n'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )),
            (kind, _) => Err(format!("must be a {}", kind.as_str())),
        }
    }

    fn check(&self, v: ParamValue) -> Result<ParamValue, String> {
        let bounds = |n: f64, what: &str| -> Result<(), String> {
            if let Some(min) = self.min {
                if n < min {
                    return Err(format!("{what} must be at least {min}"));
                }
            }
            if let Some(max) = self.max {
                if n > max {
                    return Err(format!("{what} must be at most {max}"));
                }
            }
            Ok(())
        };
        let text = |s: &str| -> Result<(), String> {
            if s.chars().count() > MAX_STRING_CHARS {
                return Err(format!("is longer than {MAX_STRING_CHARS} characters"));
            }
            if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err("must not contain control characters".into());
            }
            if let Some(re) = &self.regex {
                if !re.is_match(s) {
                    return Err(format!(
                        "{s:?} does not match the pattern {}",
                        self.pattern.as_deref().unwrap_or("")
                    ));
                }
            }
            Ok(())
        };
        match (&self.kind, &v) {
            (ParamKind::String, ParamValue::String(s)) => {
                text(s)?;
                bounds(s.chars().count() as f64, "its length")?;
            }
            (ParamKind::Enum(options), ParamValue::String(s)) => {
                if !options.contains(s) {
                    return Err(format!("{s:?} is not one of {}", options.join(", ")));
                }
            }
            (ParamKind::Number, ParamValue::Number(n)) => bounds(*n, "it")?,
            (ParamKind::List, ParamValue::List(items)) => {
                if items.len() > MAX_LIST_ITEMS {
                    return Err(format!("has more than {MAX_LIST_ITEMS} items"));
                }
                for item in items {
                    text(item)?;
                }
                bounds(items.len() as f64, "its number of items")?;
            }
            (ParamKind::Boolean, ParamValue::Boolean(_)) => {}
            (kind, _) => return Err(format!("must be a {}", kind.as_str())),
        }
        Ok(v)
    }
}
