//! Rendering a template folder into files.

use crate::{Limits, Manifest, Params, TemplateError, check_path, glob_match, scan};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use std::collections::BTreeSet;

/// One file of the rendered tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative to the new repository's root.
    pub path: String,
    pub content: Vec<u8>,
    /// Copied as it is (binary or listed as verbatim) rather than rendered.
    pub verbatim: bool,
}

fn too_big(limit: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("the result would be larger than {limit} bytes"),
    )
}

/// The minijinja environment templates render in: strict, fueled, with growing filters
/// bounded and the rest of the standard library that cannot grow values.
pub(crate) fn environment<'s>(limits: &Limits) -> Environment<'s> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(limits.fuel_per_file));
    env.set_recursion_limit(50);
    for name in [
        "indent",
        "format",
        "pprint",
        "escape",
        "e",
        "urlencode",
        "tojson",
    ] {
        env.remove_filter(name);
    }
    for name in ["namespace", "debug"] {
        env.remove_global(name);
    }
    let cap = limits.max_value_bytes;
    env.add_filter(
        "replace",
        move |value: String, from: String, to: String| -> Result<String, Error> {
            let hits = if from.is_empty() {
                value.chars().count() + 1
            } else {
                value.matches(from.as_str()).count()
            };
            let grown = value.len() + hits.saturating_mul(to.len());
            if grown > cap {
                return Err(too_big(cap));
            }
            Ok(value.replace(from.as_str(), &to))
        },
    );
    env.add_filter(
        "join",
        move |value: Value, sep: Option<String>| -> Result<String, Error> {
            let sep = sep.unwrap_or_default();
            let mut out = String::new();
            for (i, item) in value.try_iter()?.enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                out.push_str(&item.to_string());
                if out.len() > cap {
                    return Err(too_big(cap));
                }
            }
            Ok(out)
        },
    );
    env
}

/// A writer that refuses to grow beyond a limit.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.overflowed = true;
            return Err(std::io::Error::other("output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_error(file: &str, e: &Error) -> TemplateError {
    let message = match e.kind() {
        ErrorKind::OutOfFuel => {
            "the template does too much work (out of fuel): simplify its loops".to_owned()
        }
        _ => match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        },
    };
    TemplateError::Render {
        file: file.to_owned(),
        line: e.line().unwrap_or(1),
        message,
    }
}

fn render_text(
    limits: &Limits,
    file: &str,
    source: &str,
    ctx: &Value,
    limit: usize,
) -> Result<Vec<u8>, TemplateError> {
    scan::check_template(source).map_err(|(line, message)| TemplateError::Render {
        file: file.to_owned(),
        line,
        message,
    })?;
    let env = environment(limits);
    let template = env
        .template_from_named_str(file, source)
        .map_err(|e| render_error(file, &e))?;
    let mut out = Capped {
        buf: Vec::new(),
        limit,
        overflowed: false,
    };
    match template.render_captured_to(ctx, &mut out) {
        Ok(_) => Ok(out.buf),
        Err(_) if out.overflowed => Err(TemplateError::Limit(format!(
            "{file}: the rendered file is larger than {limit} bytes"
        ))),
        Err(e) => Err(render_error(file, &e)),
    }
}

/// Renders the template folder `files` (paths relative to the template folder, the
/// manifest included) with validated `params`. The result is sorted by path.
pub fn render(
    manifest: &Manifest,
    files: &[(String, Vec<u8>)],
    params: &Params,
    limits: &Limits,
) -> Result<Vec<RenderedFile>, TemplateError> {
    if files.len() > limits.max_files {
        return Err(TemplateError::Limit(format!(
            "the template has {} files; the limit is {}",
            files.len(),
            limits.max_files
        )));
    }
    let input_bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    if input_bytes > limits.max_total_bytes {
        return Err(TemplateError::Limit(format!(
            "the template holds {input_bytes} bytes; the limit is {}",
            limits.max_total_bytes
        )));
    }
    let env = environment(limits);
    let ctx = Value::from_serialize(Manifest::context(params));
    let prefix = format!("{}/", manifest.root);
    let mut conditions = Vec::new();
    for (glob, when) in &manifest.conditions {
        let expr = env
            .compile_expression(when)
            .map_err(|e| render_error(crate::MANIFEST_FILE, &e))?;
        let keep = expr
            .eval(&ctx)
            .map_err(|e| TemplateError::Render {
                file: crate::MANIFEST_FILE.to_owned(),
                line: 1,
                message: format!("condition {when:?}: {}", e.detail().unwrap_or("failed")),
            })?
            .is_true();
        conditions.push((glob.as_str(), keep));
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut total = 0usize;
    for (path, content) in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        check_path(rel)?;
        if content.len() > limits.max_file_bytes {
            return Err(TemplateError::Limit(format!(
                "{rel} is {} bytes; the limit is {}",
                content.len(),
                limits.max_file_bytes
            )));
        }
        if conditions
            .iter()
            .any(|(glob, keep)| !keep && glob_match(glob, rel))
        {
            continue;
        }
        // Each segment of the path is rendered on its own; a segment that renders empty
        // leaves the file out (conditional files), whatever a value contains is checked.
        let mut segments = Vec::new();
        let mut skip = false;
        for segment in rel.split('/') {
            let rendered = if segment.contains("{{") || segment.contains("{%") {
                let name = format!("{rel} (path)");
                let bytes = render_text(limits, &name, segment, &ctx, 1000)?;
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                segment.to_owned()
            };
            if rendered.trim().is_empty() {
                skip = true;
                break;
            }
            segments.push(rendered);
        }
        if skip {
            continue;
        }
        let target = segments.join("/");
        check_path(&target)?;
        let text = std::str::from_utf8(content)
            .ok()
            .filter(|t| !t.contains('\0'));
        let verbatim = text.is_none() || manifest.verbatim.iter().any(|g| glob_match(g, rel));
        let rendered = match text {
            Some(t) if !verbatim => render_text(limits, rel, t, &ctx, limits.max_file_bytes)?,
            _ => content.clone(),
        };
        total += rendered.len();
        if total > limits.max_total_bytes {
            return Err(TemplateError::Limit(format!(
                "the rendered repository is larger than {} bytes",
                limits.max_total_bytes
            )));
        }
        if !seen.insert(target.clone()) {
            return Err(TemplateError::Path {
                path: target,
                message: "is produced by two template files".into(),
            });
        }
        out.push(RenderedFile {
            path: target,
            content: rendered,
            verbatim,
        });
    }
    if out.len() > limits.max_files {
        return Err(TemplateError::Limit(format!(
            "the rendered repository has more than {} files",
            limits.max_files
        )));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
