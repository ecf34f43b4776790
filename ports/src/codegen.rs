//! The client generator port: turns an API's schema files into a zip archive of a client
//! library for one language, by running a real code generator. Embedded default and only
//! adapter: generator command-line tools run as subprocesses in a sandbox directory
//! (`orbit-codegen`).

use async_trait::async_trait;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// One schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative, `/`-separated path.
    pub path: String,
    pub content: String,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// "openapi" or "protobuf".
    pub format: String,
    /// "typescript", "python", "go", "java" or "rust".
    pub language: String,
    /// A name for the generated package (the API's id).
    pub package: String,
    /// For OpenAPI the first file is the document.
    pub files: Vec<SourceFile>,
}

/// Which generator produced an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub generator: String,
    pub generator_version: String,
}

/// Why generation failed. Every variant but `Unavailable` is final: another attempt would
/// fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenerateError {
    #[error("{0}")]
    Unsupported(String),
    /// The generator is not installed; the message says how to install it.
    #[error("{0}")]
    NotInstalled(String),
    /// The generator exited with an error; `stderr` is the end of what it printed.
    #[error("{message}\n{stderr}")]
    Failed { message: String, stderr: String },
    #[error("the generator ran longer than {limit:?} and was stopped\n{stderr}")]
    TimedOut { limit: Duration, stderr: String },
    #[error("the generator wrote more than {limit} bytes and was stopped")]
    OutputTooLarge { limit: u64 },
    /// A local I/O failure (disk full…), worth another attempt.
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait ClientGenerator: Send + Sync + 'static {
    /// Generates a client and writes it as a zip archive to `zip_path`. Must bound the
    /// generator's run time and output size, and never write outside its own temporary
    /// directory and `zip_path`.
    async fn generate(
        &self,
        request: &GenerateRequest,
        zip_path: &Path,
    ) -> Result<Generated, GenerateError>;
}
