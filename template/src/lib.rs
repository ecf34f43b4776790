//! Repository templates: the `orbit-template.yaml` manifest (see `docs/templates.md`),
//! parameter validation, and rendering a template's files into a new repository's tree.
//!
//! Rendering is pure (bytes in, bytes out, no I/O) and bounded, because templates come from
//! git repositories that anyone with write access to them controls:
//! - rendered paths must stay inside the new repository (no `..`, no absolute paths, no
//!   `.git`); a path that renders to an empty segment leaves the file out;
//! - the number of files, each file's size and the total size are limited, in and out;
//! - minijinja runs with fuel (instructions per file), a low recursion limit, strict
//!   undefined variables, and a reduced language: only `if` and `for` statements, no `~`
//!   or `*` operators and a short list of filters, the growing ones (`replace`, `join`)
//!   bounded. Without assignments, macros, includes or string repetition, no expression
//!   can grow beyond the bounded filters' output, and the streamed output is capped, so
//!   "billion laughs" templates and 10 GB outputs are refused early instead of exhausting
//!   memory.
//!
//! Errors name what is wrong and where: the manifest field and line, or the template file
//! and line.

mod manifest;
mod render;
mod scan;

pub use manifest::{Manifest, ParamKind, ParamValue, Parameter, Params};
pub use render::{RenderedFile, render};

use thiserror::Error;

/// The manifest's file name, at the root of the template folder.
pub const MANIFEST_FILE: &str = "orbit-template.yaml";

/// How a template can fail.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// The manifest is invalid: `field` is the YAML path of the offending value.
    #[error("orbit-template.yaml, line {line}: {field}: {message}")]
    Manifest {
        line: usize,
        field: String,
        message: String,
    },
    /// Parameter values are wrong; one entry per broken parameter (name, message).
    #[error("{}", .0.iter().map(|(n, m)| format!("parameter {n} {m}")).collect::<Vec<_>>().join("; "))]
    Parameters(Vec<(String, String)>),
    /// A file could not be rendered.
    #[error("{file}, line {line}: {message}")]
    Render {
        file: String,
        line: usize,
        message: String,
    },
    /// A path would escape the repository or is otherwise unusable.
    #[error("{path}: {message}")]
    Path { path: String, message: String },
    /// A size or count limit was exceeded.
    #[error("{0}")]
    Limit(String),
}

/// Bounds of one rendering.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Files in the template folder (input) and in the rendered tree (output).
    pub max_files: usize,
    /// Bytes of one file, in or out.
    pub max_file_bytes: usize,
    /// Bytes of all files together, in or out.
    pub max_total_bytes: usize,
    /// Bytes of one value produced by a bounded filter (`replace`, `join`).
    pub max_value_bytes: usize,
    /// minijinja instructions per file (fuel).
    pub fuel_per_file: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 5_000,
            max_file_bytes: 1024 * 1024,
            max_total_bytes: 32 * 1024 * 1024,
            max_value_bytes: 64 * 1024,
            fuel_per_file: 200_000,
        }
    }
}

/// Checks a relative path: non-empty segments, no `.`/`..`, not absolute, no backslashes
/// or control characters, nothing under `.git`.
pub fn check_path(path: &str) -> Result<(), TemplateError> {
    let bad = |message: &str| {
        Err(TemplateError::Path {
            path: path.to_owned(),
            message: message.to_owned(),
        })
    };
    if path.is_empty() {
        return bad("is empty");
    }
    if path.starts_with('/') {
        return bad("is absolute; paths must stay inside the repository");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return bad("contains a backslash or a control character");
    }
    if path.len() > 1000 {
        return bad("is longer than 1000 characters");
    }
    for segment in path.split('/') {
        match segment {
            "" => return bad("has an empty segment"),
            "." | ".." => {
                return bad("contains '.' or '..'; paths must stay inside the repository");
            }
            ".git" => return bad("writes into .git"),
            _ => {}
        }
    }
    Ok(())
}

/// Matches a path against a glob: `*` (within a segment), `**` (any number of segments),
/// `?` (one character).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn segs(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segs(&p[1..], s) || (!s.is_empty() && segs(p, &s[1..])),
            (Some(pp), Some(ss)) => seg(pp.as_bytes(), ss.as_bytes()) && segs(&p[1..], &s[1..]),
            _ => false,
        }
    }
    fn seg(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => seg(&p[1..], s) || (!s.is_empty() && seg(p, &s[1..])),
            (Some(b'?'), Some(_)) => seg(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => seg(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segs(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert!(check_path("src/main.rs").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            ".git/config",
            "a\\b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("k8s/**", "k8s/deploy.yaml"));
        assert!(glob_match("k8s/**", "k8s/a/b.yaml"));
        assert!(glob_match("**/*.png", "assets/img/logo.png"));
        assert!(glob_match("**/*.png", "logo.png"));
        assert!(!glob_match("k8s/*", "k8s/a/b.yaml"));
        assert!(glob_match("src/?.rs", "src/a.rs"));
    }
}
