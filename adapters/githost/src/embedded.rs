//! Orbit's own git server: bare repositories on disk, one folder per workspace.

use async_trait::async_trait;
use orbit_core::{GitProvider, Slug, WorkspaceId};
use orbit_ports::{
    CreatedRepo, GitHost, GitHostError, GitRemote, HostedRepo, NewHostedRepo, RepoVisibility,
    check_repo_name,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::process::Command;

/// The repositories of one workspace on Orbit's own server:
/// `<root>/<workspace-id>/<name>.git` on disk, `<public-url>/git/<slug>/<name>.git` over
/// HTTP. The folder is named after the workspace's id, not its slug, so a slug freed by a
/// deleted workspace never leads to that workspace's repositories.
///
/// Creation is atomic: the repository is initialised in a scratch folder and renamed into
/// place; a rename onto an existing repository fails, and the existing one is adopted.
pub struct EmbeddedHost {
    root: PathBuf,
    workspace: WorkspaceId,
    slug: Slug,
    public_url: String,
}

static SCRATCH: AtomicU64 = AtomicU64::new(0);

/// The folder of a workspace's repositories; refuses ids that are not plain path segments.
pub(crate) fn workspace_dir(root: &Path, workspace: &WorkspaceId) -> Result<PathBuf, GitHostError> {
    let id = workspace.as_str();
    if id.is_empty()
        || id.starts_with('.')
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(GitHostError::Refused(format!(
            "the workspace id {id:?} cannot name a folder"
        )));
    }
    Ok(root.join(id))
}

fn io_err(what: &str, e: std::io::Error) -> GitHostError {
    GitHostError::Unavailable(format!("{what}: {e}"))
}

impl EmbeddedHost {
    pub fn new(
        root: PathBuf,
        workspace: WorkspaceId,
        slug: Slug,
        public_url: &str,
    ) -> Result<Self, GitHostError> {
        workspace_dir(&root, &workspace)?;
        Ok(EmbeddedHost {
            root,
            workspace,
            slug,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Where the repository `name` lives (whether or not it exists).
    pub fn repo_dir(&self, name: &str) -> Result<PathBuf, GitHostError> {
        check_repo_name(name)?;
        Ok(workspace_dir(&self.root, &self.workspace)?.join(format!("{name}.git")))
    }

    fn describe(&self, name: &str, dir: &Path) -> HostedRepo {
        let description = std::fs::read_to_string(dir.join("description"))
            .map(|d| d.trim().to_owned())
            .unwrap_or_default();
        let description = if description.starts_with("Unnamed repository") {
            String::new()
        } else {
            description
        };
        let head = std::fs::read_to_string(dir.join("HEAD")).unwrap_or_default();
        let default_branch = head
            .trim()
            .strip_prefix("ref: refs/heads/")
            .unwrap_or("main")
            .to_owned();
        let visibility = match std::fs::read_to_string(dir.join("orbit-visibility"))
            .unwrap_or_default()
            .trim()
        {
            "public" => RepoVisibility::Public,
            "internal" => RepoVisibility::Internal,
            _ => RepoVisibility::Private,
        };
        let url = format!("{}/git/{}/{name}.git", self.public_url, self.slug);
        HostedRepo {
            id: format!("{}/{name}", self.workspace),
            name: name.to_owned(),
            full_name: format!("{}/{name}", self.slug),
            description,
            visibility,
            default_branch,
            clone_url: url.clone(),
            web_url: url,
            archived: false,
        }
    }

    fn existing(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError> {
        let dir = self.repo_dir(name)?;
        if dir.join("HEAD").is_file() {
            Ok(Some(self.describe(name, &dir)))
        } else {
            Ok(None)
        }
    }
}

async fn git(args: &[&str], dir: &Path) -> Result<(), GitHostError> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| GitHostError::Unavailable(format!("cannot run git: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GitHostError::Unavailable(format!(
            "git {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch.len() <= 200
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.ends_with(".lock")
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

#[async_trait]
impl GitHost for EmbeddedHost {
    fn provider(&self) -> GitProvider {
        GitProvider::Orbit
    }

    fn location(&self) -> String {
        format!("orbit/{}", self.slug)
    }

    async fn create_repo(&self, new: &NewHostedRepo) -> Result<CreatedRepo, GitHostError> {
        let dir = self.repo_dir(&new.name)?;
        if let Some(repo) = self.existing(&new.name)? {
            return Ok(CreatedRepo {
                repo,
                already_existed: true,
            });
        }
        let branch = if new.default_branch.is_empty() {
            "main"
        } else {
            new.default_branch.as_str()
        };
        if !valid_branch(branch) {
            return Err(GitHostError::Refused(format!(
                "{branch:?} is not a valid branch name"
            )));
        }
        if new.description.contains(['\n', '\r']) {
            return Err(GitHostError::Refused(
                "the description must be one line".into(),
            ));
        }
        let parent = dir.parent().expect("repo_dir has a parent");
        std::fs::create_dir_all(parent).map_err(|e| io_err("cannot create the git folder", e))?;
        let scratch = parent.join(format!(
            ".creating-{}-{}-{}",
            new.name,
            std::process::id(),
            SCRATCH.fetch_add(1, Ordering::Relaxed)
        ));
        let scratch_name = scratch.to_string_lossy().into_owned();
        let result = async {
            git(
                &[
                    "init",
                    "--quiet",
                    "--bare",
                    "--initial-branch",
                    branch,
                    &scratch_name,
                ],
                parent,
            )
            .await?;
            let write = |file: &str, text: String| {
                std::fs::write(scratch.join(file), text)
                    .map_err(|e| io_err("cannot write the repository", e))
            };
            write("description", format!("{}\n", new.description))?;
            write("orbit-visibility", format!("{}\n", new.visibility.as_str()))?;
            // Pushes are authorised by Orbit before git sees them.
            git(&["config", "http.receivepack", "true"], &scratch).await?;
            Ok::<_, GitHostError>(())
        }
        .await;
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(e);
        }
        match std::fs::rename(&scratch, &dir) {
            Ok(()) => {
                tracing::info!(workspace = %self.workspace, repo = %new.name, "created a repository on Orbit's git server");
                Ok(CreatedRepo {
                    repo: self.describe(&new.name, &dir),
                    already_existed: false,
                })
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&scratch);
                // Someone else created it meanwhile: adopt theirs.
                match self.existing(&new.name)? {
                    Some(repo) => Ok(CreatedRepo {
                        repo,
                        already_existed: true,
                    }),
                    None => Err(io_err("cannot create the repository", e)),
                }
            }
        }
    }

    async fn get_repo(&self, name: &str) -> Result<Option<HostedRepo>, GitHostError> {
        if check_repo_name(name).is_err() {
            return Ok(None);
        }
        self.existing(name)
    }

    async fn list_repos(&self, limit: usize) -> Result<Vec<HostedRepo>, GitHostError> {
        let dir = workspace_dir(&self.root, &self.workspace)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("cannot list repositories", e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let name = name.strip_suffix(".git")?.to_owned();
                (check_repo_name(&name).is_ok() && e.path().join("HEAD").is_file()).then_some(name)
            })
            .collect();
        names.sort();
        names.truncate(limit);
        Ok(names
            .iter()
            .map(|n| self.describe(n, &dir.join(format!("{n}.git"))))
            .collect())
    }

    async fn push_access(&self, name: &str) -> Result<GitRemote, GitHostError> {
        let dir = self.repo_dir(name)?;
        if !dir.join("HEAD").is_file() {
            return Err(GitHostError::NotFound(format!(
                "there is no repository '{name}' in {}",
                self.location()
            )));
        }
        // Orbit writes to its own repositories directly; no credentials involved.
        Ok(GitRemote::anonymous(format!("file://{}", dir.display())))
    }

    async fn delete_repo(&self, name: &str) -> Result<bool, GitHostError> {
        if check_repo_name(name).is_err() {
            return Ok(false);
        }
        let dir = self.repo_dir(name)?;
        if !dir.join("HEAD").is_file() {
            return Ok(false);
        }
        // Rename first so the repository disappears at once, then remove the files.
        let parent = dir.parent().expect("repo_dir has a parent");
        let doomed = parent.join(format!(
            ".deleting-{name}-{}-{}",
            std::process::id(),
            SCRATCH.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_err("cannot delete the repository", e)),
        }
        std::fs::remove_dir_all(&doomed).map_err(|e| io_err("cannot delete the repository", e))?;
        tracing::info!(workspace = %self.workspace, repo = %name, "deleted a repository on Orbit's git server");
        Ok(true)
    }
}
