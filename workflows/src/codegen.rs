//! `orbit.api.codegen`: generates client libraries for one version of an API, one activity
//! per target language. A language whose generator fails is reported (with a stderr
//! excerpt) and the others go on; the run fails only when every language failed.
//!
//! Each activity runs a real generator in a sandbox directory, zips what it produced and
//! stores the archive and its metadata in object storage under
//! [`artifact_prefix`]`/<language>.zip|.json`. A version is immutable, so generating the
//! same version and language again is served from the stored artifact unless `force`.

use crate::parse;
use async_trait::async_trait;
use orbit_ports::{
    ActivityOptions, ParallelCall, WorkflowContext, WorkflowDefinition, WorkflowFailure,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const KIND: &str = "orbit.api.codegen";

/// The languages clients can be generated in, and their activity names.
pub const LANGUAGES: [(&str, &str); 5] = [
    ("typescript", "codegen.typescript"),
    ("python", "codegen.python"),
    ("go", "codegen.go"),
    ("java", "codegen.java"),
    ("rust", "codegen.rust"),
];

/// The schema formats clients can be generated from.
pub const FORMATS: [&str; 2] = ["openapi", "protobuf"];

/// At most this many schema files, and this many bytes of them in all.
pub const MAX_FILES: usize = 200;
pub const MAX_SCHEMA_BYTES: usize = 8 * 1024 * 1024;

/// One schema file of the version, as published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// Relative path (`orbit/v1/pets.proto`, `openapi.yaml`).
    pub path: String,
    pub content: String,
}

/// The input of a codegen run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CodegenInput {
    pub workspace_id: String,
    pub api_id: String,
    pub version: String,
    /// "openapi" or "protobuf".
    pub format: String,
    /// The version's files; for OpenAPI the first one is the document (others may be
    /// `$ref`'d from it by relative path).
    pub files: Vec<SchemaFile>,
    /// Languages from [`LANGUAGES`], each at most once.
    pub languages: Vec<String>,
    /// Generate again even when an artifact exists.
    #[serde(default)]
    pub force: bool,
}

/// What one language's activity is given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LanguageInput {
    pub workspace_id: String,
    pub api_id: String,
    pub version: String,
    pub format: String,
    pub files: Vec<SchemaFile>,
    pub language: String,
    #[serde(default)]
    pub force: bool,
}

/// A stored client archive, as its metadata document describes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArtifactMeta {
    /// The archive's file name (`petstore-1.2.0-typescript.zip`).
    pub name: String,
    pub workspace_id: String,
    pub api_id: String,
    pub version: String,
    pub format: String,
    pub language: String,
    pub generator: String,
    pub generator_version: String,
    /// Bytes of the archive.
    pub size: u64,
    /// Hex SHA-256 of the archive.
    pub sha256: String,
    pub created_ms: i64,
    /// The archive's object key.
    pub key: String,
}

/// What a language's activity returns. A generator that failed (or is missing) is a
/// *result* — `error` set, no artifact — not an activity failure: the same on every engine
/// (Temporal holds a run at a failed activity until it is retried), and another attempt
/// would fail the same way. Activity failures are left to the infrastructure (storage).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LanguageOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactMeta>,
    /// True when an existing artifact was returned instead of generating again.
    #[serde(default)]
    pub reused: bool,
    /// Why the generator failed, with the end of its stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One language's outcome in the run's result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LanguageResult {
    pub language: String,
    /// "succeeded" or "failed".
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<ArtifactMeta>,
    #[serde(default)]
    pub reused: bool,
    /// Why it failed, with the end of the generator's stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The run's result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CodegenOutput {
    pub results: Vec<LanguageResult>,
}

/// The object key prefix of a version's artifacts (ends with `/`).
pub fn artifact_prefix(workspace_id: &str, api_id: &str, version: &str) -> String {
    format!("artifacts/{workspace_id}/{api_id}/{version}/")
}

/// The activity that generates `language`, if it is one.
pub fn activity_for(language: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, a)| *a)
}

/// An id, api id or version usable as one segment of an object key.
pub fn check_segment(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 128 {
        return Err(format!("{what} must be 1 to 128 characters"));
    }
    if value == "." || value == ".." {
        return Err(format!("{what} cannot be '.' or '..'"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
    {
        return Err(format!(
            "{what} {value:?} may only contain letters, digits, '.', '-', '_' and '+'"
        ));
    }
    Ok(())
}

/// A schema file path: relative, `/`-separated, no `..`, no empty or hidden tricks.
pub fn check_file_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > 512 {
        return Err("a schema file path must be 1 to 512 characters".into());
    }
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(format!(
            "schema file path {path:?} must be relative, with '/' separators"
        ));
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!(
            "schema file path {path:?} cannot contain empty, '.' or '..' segments"
        ));
    }
    Ok(())
}

impl CodegenInput {
    /// Every rule the input must follow, with a message for the caller.
    pub fn check(&self) -> Result<(), String> {
        check_segment("workspace_id", &self.workspace_id)?;
        check_segment("api_id", &self.api_id)?;
        check_segment("version", &self.version)?;
        if !FORMATS.contains(&self.format.as_str()) {
            return Err(format!(
                "format {:?} cannot be generated from: use openapi or protobuf",
                self.format
            ));
        }
        if self.files.is_empty() {
            return Err("at least one schema file is needed".into());
        }
        if self.files.len() > MAX_FILES {
            return Err(format!("at most {MAX_FILES} schema files"));
        }
        let total: usize = self.files.iter().map(|f| f.content.len()).sum();
        if total > MAX_SCHEMA_BYTES {
            return Err(format!(
                "the schema files are {total} bytes; at most {MAX_SCHEMA_BYTES}"
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.files {
            check_file_path(&f.path)?;
            if !seen.insert(f.path.as_str()) {
                return Err(format!("schema file {:?} is given twice", f.path));
            }
        }
        if self.languages.is_empty() {
            return Err("name at least one language".into());
        }
        let mut langs = std::collections::HashSet::new();
        for l in &self.languages {
            if activity_for(l).is_none() {
                return Err(format!(
                    "unknown language {l:?}: use {}",
                    LANGUAGES.map(|(l, _)| l).join(", ")
                ));
            }
            if !langs.insert(l.as_str()) {
                return Err(format!("language {l:?} is named twice"));
            }
        }
        Ok(())
    }
}

pub struct CodegenWorkflow;

/// How many languages generate at the same time (0: all of them). Measured on a 2-core
/// machine (docs/benchmarks.md): see there for why this value.
pub const PARALLEL_LANGUAGES: usize = 0;

/// Time limit of one generator run (the activity's timeout is a little longer).
pub const GENERATOR_TIME_LIMIT: Duration = Duration::from_secs(180);

#[async_trait(?Send)]
impl WorkflowDefinition for CodegenWorkflow {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn validate(&self, input: &str) -> Result<(), String> {
        let input: CodegenInput =
            serde_json::from_str(input).map_err(|e| format!("input is not valid: {e}"))?;
        input.check()
    }

    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure> {
        let run: CodegenInput = parse("input", &input)?;
        run.check().map_err(WorkflowFailure::Invalid)?;
        ctx.set_total(u32::try_from(run.languages.len()).unwrap_or(u32::MAX));
        // Generator failures are final (NonRetryable); a storage hiccup gets retries.
        let options = ActivityOptions {
            timeout: GENERATOR_TIME_LIMIT + Duration::from_secs(60),
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        };
        let mut languages = Vec::new();
        let mut calls = Vec::new();
        for language in &run.languages {
            let Some(activity) = activity_for(language) else {
                continue;
            };
            let step = LanguageInput {
                workspace_id: run.workspace_id.clone(),
                api_id: run.api_id.clone(),
                version: run.version.clone(),
                format: run.format.clone(),
                files: run.files.clone(),
                language: language.clone(),
                force: run.force,
            };
            let step = serde_json::to_string(&step)
                .map_err(|e| WorkflowFailure::Invalid(e.to_string()))?;
            languages.push(language.clone());
            calls.push(ParallelCall::new(activity, step, options));
        }
        // The languages run at the same time, each its own activity; one failing does not
        // stop the others.
        let outcomes = ctx.call_all(calls, PARALLEL_LANGUAGES).await;
        let mut results = Vec::new();
        for (language, outcome) in languages.into_iter().zip(outcomes) {
            match outcome {
                Ok(out) => {
                    let out: LanguageOutput = parse("activity result", &out)?;
                    match (out.artifact, out.error) {
                        (Some(artifact), None) => {
                            ctx.log(&format!(
                                "{language}: {} ({}, {} bytes, {} {})",
                                if out.reused { "reused" } else { "generated" },
                                artifact.name,
                                artifact.size,
                                artifact.generator,
                                artifact.generator_version
                            ));
                            results.push(LanguageResult {
                                language,
                                status: "succeeded".into(),
                                artifact: Some(artifact),
                                reused: out.reused,
                                error: None,
                            });
                        }
                        (_, error) => {
                            let message =
                                error.unwrap_or_else(|| "the generator produced nothing".into());
                            ctx.log(&format!("{language}: failed: {message}"));
                            results.push(LanguageResult {
                                language,
                                status: "failed".into(),
                                artifact: None,
                                reused: false,
                                error: Some(message),
                            });
                        }
                    }
                }
                Err(WorkflowFailure::Activity { message, .. }) => {
                    ctx.log(&format!("{language}: failed: {message}"));
                    results.push(LanguageResult {
                        language,
                        status: "failed".into(),
                        artifact: None,
                        reused: false,
                        error: Some(message),
                    });
                }
                Err(other) => return Err(other),
            }
        }
        if results.iter().all(|r| r.status == "failed") {
            let summary = results
                .iter()
                .map(|r| format!("{}: {}", r.language, r.error.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(WorkflowFailure::Activity {
                activity: "codegen".into(),
                message: format!("every language failed: {summary}"),
            });
        }
        serde_json::to_string(&CodegenOutput { results })
            .map_err(|e| WorkflowFailure::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CodegenInput {
        CodegenInput {
            workspace_id: "01J".into(),
            api_id: "petstore".into(),
            version: "1.0.0".into(),
            format: "openapi".into(),
            files: vec![SchemaFile {
                path: "openapi.yaml".into(),
                content: "openapi: 3.0.0".into(),
            }],
            languages: vec!["typescript".into()],
            force: false,
        }
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason() {
        input().check().unwrap();
        type Case = (fn(&mut CodegenInput), &'static str);
        let cases: Vec<Case> = vec![
            (|i| i.format = "graphql".into(), "cannot be generated"),
            (|i| i.api_id = "../x".into(), "may only contain"),
            (|i| i.version = "..".into(), "cannot be '.'"),
            (|i| i.files.clear(), "at least one schema file"),
            (|i| i.files[0].path = "../etc/passwd".into(), "'..'"),
            (|i| i.files[0].path = "/abs.yaml".into(), "relative"),
            (|i| i.languages = vec!["cobol".into()], "unknown language"),
            (
                |i| i.languages = vec!["go".into(), "go".into()],
                "named twice",
            ),
            (|i| i.languages.clear(), "at least one language"),
        ];
        for (change, expected) in cases {
            let mut i = input();
            change(&mut i);
            let err = i.check().unwrap_err();
            assert!(err.contains(expected), "{err} (expected {expected})");
            let json = serde_json::to_string(&i).unwrap();
            assert!(CodegenWorkflow.validate(&json).is_err());
        }
    }
}
