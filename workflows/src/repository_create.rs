//! `orbit.repository.create`: creates a repository from a template. Two durable steps:
//! `repository.generate` (read the template at its ref, render it, create the remote
//! repository on the git host or adopt the one a previous attempt created, and push the
//! first commit unless the branch already holds exactly the rendered files) and
//! `repository.register` (add it to the catalog, or find the entry a previous attempt
//! added). Both are idempotent, so a crash or retry never makes a second remote
//! repository, a second initial commit or a second catalog entry.

use crate::parse;
use async_trait::async_trait;
use orbit_ports::{ActivityOptions, WorkflowContext, WorkflowDefinition, WorkflowFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub const KIND: &str = "orbit.repository.create";
pub const GENERATE: &str = "repository.generate";
pub const REGISTER: &str = "repository.register";

/// The new repository's catalog fields, as validated when the run started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct NewRepository {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub language: String,
    pub topics: Vec<String>,
    pub lifecycle: String,
    pub visibility: String,
    pub default_branch: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    pub template_id: String,
    pub repository: NewRepository,
    /// The template's parameter values as the person gave them.
    pub parameters: BTreeMap<String, String>,
    /// The user the run acts for.
    pub user_id: String,
    /// Set by the generate step for the register step: where the repository lives.
    #[serde(default)]
    pub clone_url: String,
}

/// What `repository.generate` did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Generated {
    pub clone_url: String,
    /// The first commit (the one found when a previous attempt had pushed it).
    pub commit: String,
    pub files: usize,
    /// The remote existed already (a previous attempt created it).
    pub adopted: bool,
    /// How long the attempt that succeeded spent reading the template, rendering it,
    /// creating (or finding) the remote, and committing and pushing (ms).
    #[serde(default)]
    pub fetch_ms: u64,
    #[serde(default)]
    pub render_ms: u64,
    #[serde(default)]
    pub create_ms: u64,
    #[serde(default)]
    pub push_ms: u64,
}

pub struct RepositoryCreateWorkflow;

#[async_trait(?Send)]
impl WorkflowDefinition for RepositoryCreateWorkflow {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn validate(&self, input: &str) -> Result<(), String> {
        let input: CreateInput =
            serde_json::from_str(input).map_err(|e| format!("input is not valid: {e}"))?;
        if input.template_id.is_empty() || input.repository.name.is_empty() {
            return Err("template_id and repository.name are required".into());
        }
        Ok(())
    }

    async fn run(
        &self,
        ctx: &mut dyn WorkflowContext,
        input: String,
    ) -> Result<String, WorkflowFailure> {
        let mut create: CreateInput = parse("input", &input)?;
        ctx.set_total(2);
        let options = ActivityOptions {
            timeout: Duration::from_secs(600),
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        };
        let out = ctx.call(GENERATE, input, options).await?;
        let generated: Generated = parse("generate output", &out)?;
        ctx.log(&format!(
            "pushed {} files to {} (commit {}; fetch {} ms, render {} ms, create {} ms, push {} ms)",
            generated.files,
            generated.clone_url,
            generated.commit,
            generated.fetch_ms,
            generated.render_ms,
            generated.create_ms,
            generated.push_ms
        ));
        create.clone_url = generated.clone_url;
        let next = serde_json::to_string(&create)
            .map_err(|e| WorkflowFailure::Invalid(format!("cannot encode the input: {e}")))?;
        let registered = ctx.call(REGISTER, next, options).await?;
        ctx.log(&format!("registered in the catalog as {registered}"));
        Ok(registered)
    }
}
