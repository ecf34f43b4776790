//! The `GitClient` port on the `git` command-line tool.
//!
//! Why the CLI and not `gix`: publishing needs `push`, which gix does not offer yet; one
//! tool for both directions keeps behaviour identical. Each operation works in a fresh
//! temporary directory (a shallow clone of one branch), so concurrent syncs never share
//! state. Remote URLs are never logged with credentials: URLs with a password are refused
//! at the service edge, and git's own prompts are disabled (`GIT_TERMINAL_PROMPT=0`).
//!
//! Credentials ([`GitRemote::credentials`]) reach git through a credential helper that
//! reads them from the child process's environment (`ORBIT_GIT_USERNAME`,
//! `ORBIT_GIT_PASSWORD`): they are never in a command line (visible in `ps`), a URL, a
//! config file or a log.

use async_trait::async_trait;
use orbit_ports::{GitAuthor, GitClient, GitCommit, GitCredentials, GitError, GitFile, GitRemote};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// Settings of the git client.
#[derive(Debug, Clone)]
pub struct GitCli {
    /// Where temporary clones go.
    pub work_dir: PathBuf,
    /// Each git command is killed after this long.
    pub timeout: Duration,
}

impl GitCli {
    pub fn new(work_dir: PathBuf) -> Self {
        GitCli {
            work_dir,
            timeout: Duration::from_secs(300),
        }
    }

    fn scratch(&self) -> Result<TempDir, GitError> {
        std::fs::create_dir_all(&self.work_dir).map_err(|e| {
            GitError::Unavailable(format!("cannot create {}: {e}", self.work_dir.display()))
        })?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self
            .work_dir
            .join(format!("git-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| GitError::Unavailable(e.to_string()))?;
        Ok(TempDir(dir))
    }

    async fn git(
        &self,
        dir: &Path,
        auth: Option<&GitCredentials>,
        args: &[&str],
    ) -> Result<String, GitError> {
        self.git_with_input(dir, auth, args, None).await
    }

    /// Runs git with `input` on its standard input (`None`: no input).
    async fn git_with_input(
        &self,
        dir: &Path,
        auth: Option<&GitCredentials>,
        args: &[&str],
        input: Option<Vec<u8>>,
    ) -> Result<String, GitError> {
        let mut cmd = Command::new("git");
        if let Some(auth) = auth {
            if auth.username.contains(['\n', '\r', '\0'])
                || auth.password.expose().contains(['\n', '\r', '\0'])
            {
                return Err(GitError::Refused(
                    "git credentials must not contain line breaks".into(),
                ));
            }
            cmd.args(["-c", "credential.helper=", "-c", CREDENTIAL_HELPER])
                .env("ORBIT_GIT_USERNAME", &auth.username)
                .env("ORBIT_GIT_PASSWORD", auth.password.expose());
        }
        cmd.args(args)
            .current_dir(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .kill_on_drop(true);
        let run = async {
            match input {
                None => cmd.output().await,
                Some(input) => {
                    use tokio::io::AsyncWriteExt;
                    cmd.stdin(std::process::Stdio::piped())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped());
                    let mut child = cmd.spawn()?;
                    let mut stdin = child.stdin.take().expect("stdin is piped");
                    // Written while the output is read, so a large input cannot deadlock.
                    let writer = tokio::spawn(async move {
                        let r = stdin.write_all(&input).await;
                        drop(stdin);
                        r
                    });
                    let out = child.wait_with_output().await?;
                    writer.await.map_err(std::io::Error::other)??;
                    Ok(out)
                }
            }
        };
        let out = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| {
                GitError::Unavailable(format!("git {} timed out", args.first().unwrap_or(&"")))
            })?
            .map_err(|e| GitError::Unavailable(format!("cannot run git: {e}")))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let excerpt: String = stderr.chars().take(500).collect();
        let lower = stderr.to_lowercase();
        Err(
            if lower.contains("not found")
                || lower.contains("does not exist")
                || lower.contains("could not read from remote")
                || lower.contains("couldn't find remote ref")
            {
                GitError::NotFound(format!("git {}: {excerpt}", args.first().unwrap_or(&"")))
            } else if lower.contains("rejected")
                || lower.contains("denied")
                || lower.contains("authentication")
                || lower.contains("403")
                || lower.contains("401")
            {
                GitError::Refused(format!("git {}: {excerpt}", args.first().unwrap_or(&"")))
            } else {
                GitError::Unavailable(format!("git {}: {excerpt}", args.first().unwrap_or(&"")))
            },
        )
    }

    /// Clones `branch` of `remote` into `dir` (depth 1). Returns false when the remote has
    /// no such branch (an empty repository), leaving an initialised repository with the
    /// remote configured.
    async fn clone_branch(
        &self,
        remote: &str,
        auth: Option<&GitCredentials>,
        branch: &str,
        dir: &Path,
    ) -> Result<bool, GitError> {
        self.git(dir, auth, &["init", "--quiet", "--initial-branch", branch])
            .await?;
        self.git(dir, auth, &["remote", "add", "origin", remote])
            .await?;
        match self
            .git(
                dir,
                auth,
                &["fetch", "--quiet", "--depth", "1", "origin", branch],
            )
            .await
        {
            Ok(_) => {
                self.git(
                    dir,
                    auth,
                    &["checkout", "--quiet", "-B", branch, "FETCH_HEAD"],
                )
                .await?;
                Ok(true)
            }
            Err(GitError::NotFound(_)) => {
                // Either the repository is empty or the branch is missing; an unreachable
                // repository fails here too, so check that the remote answers at all.
                self.git(dir, auth, &["ls-remote", "--quiet", "origin"])
                    .await?;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

impl GitCli {
    /// Writes a parentless commit of `files` on `branch` in the repository at `dir` with
    /// `git fast-import`; returns its id.
    async fn first_commit(
        &self,
        dir: &Path,
        auth: Option<&GitCredentials>,
        branch: &str,
        files: &[GitFile],
        message: &str,
        author: &GitAuthor,
    ) -> Result<String, GitError> {
        let clean = |s: &str| s.replace(['<', '>', '\n', '\r'], "");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let who = format!(
            "{} <{}> {now} +0000",
            clean(&author.name),
            clean(&author.email)
        );
        let total: usize = files.iter().map(|(p, d)| p.len() + d.len() + 64).sum();
        let mut stream = Vec::with_capacity(total + message.len() + 256);
        stream.extend_from_slice(
            format!(
                "commit refs/heads/{branch}\nauthor {who}\ncommitter {who}\ndata {}\n{message}\n",
                message.len()
            )
            .as_bytes(),
        );
        let mut seen = std::collections::HashSet::new();
        for (rel, data) in files {
            let rel = safe_relative(rel)?.to_string_lossy().replace('\\', "/");
            if rel.contains(['\n', '"']) || rel.starts_with(".git/") || rel == ".git" {
                return Err(GitError::Refused(format!("refusing the path {rel:?}")));
            }
            if !seen.insert(rel.clone()) {
                return Err(GitError::Refused(format!(
                    "the path {rel:?} is given twice"
                )));
            }
            stream.extend_from_slice(
                format!("M 100644 inline {rel}\ndata {}\n", data.len()).as_bytes(),
            );
            stream.extend_from_slice(data);
            stream.push(b'\n');
        }
        stream.extend_from_slice(b"\ndone\n");
        self.git_with_input(
            dir,
            auth,
            &["fast-import", "--quiet", "--done", "--date-format=raw"],
            Some(stream),
        )
        .await?;
        self.git(dir, auth, &["rev-parse", &format!("refs/heads/{branch}")])
            .await
    }
}

/// Answers git's `get` with the user name and password from the environment.
const CREDENTIAL_HELPER: &str = "credential.helper=!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$ORBIT_GIT_USERNAME\" \"$ORBIT_GIT_PASSWORD\"; }; f";

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A relative path that stays inside its folder: no `..`, no absolute parts.
fn safe_relative(path: &str) -> Result<PathBuf, GitError> {
    let p = Path::new(path);
    if path.is_empty() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(GitError::Refused(format!(
            "refusing the path {path:?}: it must stay inside the synced folder"
        )));
    }
    Ok(p.to_path_buf())
}

fn folder(root: &Path, path: &str) -> Result<PathBuf, GitError> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Ok(root.to_path_buf());
    }
    Ok(root.join(safe_relative(path)?))
}

fn walk(
    base: &Path,
    dir: &Path,
    out: &mut Vec<GitFile>,
    max_files: usize,
    max_bytes: u64,
    bytes: &mut u64,
) -> Result<(), GitError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return Ok(()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| GitError::Unavailable(e.to_string()))?;
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(base, &path, out, max_files, max_bytes, bytes)?;
        } else if kind.is_file() {
            let data = std::fs::read(&path).map_err(|e| GitError::Unavailable(e.to_string()))?;
            *bytes += data.len() as u64;
            if out.len() >= max_files {
                return Err(GitError::TooLarge(format!("more than {max_files} files")));
            }
            if *bytes > max_bytes {
                return Err(GitError::TooLarge(format!("more than {max_bytes} bytes")));
            }
            let rel = path
                .strip_prefix(base)
                .map_err(|e| GitError::Unavailable(e.to_string()))?;
            out.push((rel.to_string_lossy().replace('\\', "/"), data));
        }
    }
    Ok(())
}

#[async_trait]
impl GitClient for GitCli {
    async fn publish_to(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        files: &[GitFile],
        message: &str,
        author: &GitAuthor,
    ) -> Result<Option<String>, GitError> {
        let auth = remote.credentials.as_ref();
        let tmp = self.scratch()?;
        let dir = tmp.0.clone();
        let existed = self.clone_branch(&remote.url, auth, branch, &dir).await?;
        if !existed && path.trim_matches('/').is_empty() {
            // A first commit at the root: one `git fast-import` writes every blob, the
            // tree and the commit into a pack, with no working tree, index or hashing of
            // files written to disk first.
            let commit = self
                .first_commit(&dir, auth, branch, files, message, author)
                .await?;
            let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
            self.git(&dir, auth, &["push", "--quiet", "origin", &refspec])
                .await?;
            tracing::info!(branch, commit = %commit, files = files.len(), "published a first commit to git");
            return Ok(Some(commit));
        }
        let target = folder(&dir, path)?;
        // Mirror: the folder holds exactly `files` afterwards.
        if target != dir {
            let _ = std::fs::remove_dir_all(&target);
        } else if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_name() == ".git" {
                    continue;
                }
                let p = entry.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        for (rel, data) in files {
            let file = target.join(safe_relative(rel)?);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| GitError::Unavailable(e.to_string()))?;
            }
            std::fs::write(&file, data).map_err(|e| GitError::Unavailable(e.to_string()))?;
        }
        self.git(&dir, auth, &["add", "--all", "."]).await?;
        let status = self.git(&dir, auth, &["status", "--porcelain"]).await?;
        if status.is_empty() && existed {
            return Ok(None);
        }
        let name = format!("user.name={}", author.name);
        let email = format!("user.email={}", author.email);
        self.git(
            &dir,
            auth,
            &[
                "-c",
                &name,
                "-c",
                &email,
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                message,
            ],
        )
        .await?;
        let commit = self.git(&dir, auth, &["rev-parse", "HEAD"]).await?;
        let refspec = format!("HEAD:refs/heads/{branch}");
        self.git(&dir, auth, &["push", "--quiet", "origin", &refspec])
            .await?;
        tracing::info!(branch, commit = %commit, files = files.len(), "published to git");
        Ok(Some(commit))
    }

    async fn read_from(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        max_files: usize,
        max_bytes: u64,
    ) -> Result<(String, Vec<GitFile>), GitError> {
        let auth = remote.credentials.as_ref();
        let tmp = self.scratch()?;
        let dir = tmp.0.clone();
        if !self.clone_branch(&remote.url, auth, branch, &dir).await? {
            return Err(GitError::NotFound(format!(
                "the remote has no branch '{branch}'"
            )));
        }
        let commit = self.git(&dir, auth, &["rev-parse", "HEAD"]).await?;
        let base = folder(&dir, path)?;
        if !base.is_dir() {
            return Err(GitError::NotFound(format!(
                "the branch '{branch}' has no folder '{path}'"
            )));
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        walk(&base, &base, &mut out, max_files, max_bytes, &mut bytes)?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((commit, out))
    }

    async fn branches(&self, remote: &GitRemote) -> Result<Vec<(String, String)>, GitError> {
        let tmp = self.scratch()?;
        let out = self
            .git(
                &tmp.0,
                remote.credentials.as_ref(),
                &["ls-remote", "--quiet", "--heads", &remote.url],
            )
            .await?;
        let mut branches: Vec<(String, String)> = out
            .lines()
            .filter_map(|line| {
                let (commit, name) = line.split_once('\t')?;
                let name = name.strip_prefix("refs/heads/")?;
                Some((name.to_owned(), commit.to_owned()))
            })
            .collect();
        branches.sort();
        Ok(branches)
    }

    async fn log(
        &self,
        remote: &GitRemote,
        branch: &str,
        limit: usize,
    ) -> Result<Vec<GitCommit>, GitError> {
        let tmp = self.scratch()?;
        let dir = tmp.0.clone();
        let depth = limit.max(1).to_string();
        self.git(&dir, None, &["init", "--quiet", "--bare"]).await?;
        self.git(
            &dir,
            remote.credentials.as_ref(),
            &["fetch", "--quiet", "--depth", &depth, &remote.url, branch],
        )
        .await?;
        let count = format!("-n{}", limit.max(1));
        let out = self
            .git(
                &dir,
                None,
                &[
                    "log",
                    &count,
                    "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s",
                    "FETCH_HEAD",
                ],
            )
            .await?;
        Ok(out
            .lines()
            .filter_map(|line| {
                let mut parts = line.split('\x1f');
                Some(GitCommit {
                    id: parts.next()?.to_owned(),
                    author_name: parts.next()?.to_owned(),
                    author_email: parts.next()?.to_owned(),
                    time: parts.next()?.parse::<i64>().ok()? * 1000,
                    summary: parts.next().unwrap_or("").to_owned(),
                })
            })
            .collect())
    }

    async fn read_file(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, GitError> {
        let rel = safe_relative(path.trim_matches('/'))?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let tmp = self.scratch()?;
        let dir = tmp.0.clone();
        self.git(&dir, None, &["init", "--quiet", "--bare"]).await?;
        self.git(
            &dir,
            remote.credentials.as_ref(),
            &["fetch", "--quiet", "--depth", "1", &remote.url, branch],
        )
        .await?;
        let object = format!("FETCH_HEAD:{rel}");
        let kind = match self.git(&dir, None, &["cat-file", "-t", &object]).await {
            Ok(kind) => kind,
            Err(_) => return Ok(None),
        };
        if kind != "blob" {
            return Ok(None);
        }
        let size: u64 = self
            .git(&dir, None, &["cat-file", "-s", &object])
            .await?
            .parse()
            .map_err(|e| GitError::Unavailable(format!("git cat-file -s: {e}")))?;
        if size > max_bytes {
            return Err(GitError::TooLarge(format!(
                "{rel} is {size} bytes; the limit is {max_bytes}"
            )));
        }
        let text = self.git(&dir, None, &["cat-file", "blob", &object]).await?;
        Ok(Some(text.into_bytes()))
    }
}
