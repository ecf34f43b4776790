//! git's smart HTTP protocol for Orbit's own repositories, by running `git http-backend`
//! (shipped with git) as a CGI program per request.

use crate::embedded::workspace_dir;
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_ports::{GitHostError, GitHttpRequest, GitHttpResponse, GitHttpServer, check_repo_name};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Serves `<root>/<workspace-id>/<name>.git`. Authentication and authorisation happen
/// before (in the HTTP edge and the git host use case); this only runs git.
#[derive(Debug, Clone)]
pub struct SmartHttp {
    pub root: PathBuf,
    /// A request's git process is killed after this long.
    pub timeout: Duration,
}

impl SmartHttp {
    pub fn new(root: PathBuf) -> Self {
        SmartHttp {
            root,
            timeout: Duration::from_secs(600),
        }
    }
}

/// The paths git's smart HTTP protocol uses (nothing else of the repository is served).
fn allowed(method: &str, path: &str, query: &str) -> bool {
    match (method, path) {
        ("GET", "/info/refs") => {
            query == "service=git-upload-pack" || query == "service=git-receive-pack"
        }
        ("POST", "/git-upload-pack" | "/git-receive-pack") => true,
        _ => false,
    }
}

#[async_trait]
impl GitHttpServer for SmartHttp {
    async fn serve(
        &self,
        workspace: &WorkspaceId,
        name: &str,
        request: GitHttpRequest,
    ) -> Result<GitHttpResponse, GitHostError> {
        let not_found = || GitHostError::NotFound(format!("repository '{name}'"));
        check_repo_name(name).map_err(|_| not_found())?;
        let project_root = workspace_dir(&self.root, workspace)?;
        if !project_root
            .join(format!("{name}.git"))
            .join("HEAD")
            .is_file()
        {
            return Err(not_found());
        }
        if !allowed(&request.method, &request.path, &request.query) {
            return Ok(GitHttpResponse {
                status: 404,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: b"only git's smart HTTP protocol is served here\n".to_vec(),
            });
        }
        let mut cmd = Command::new("git");
        cmd.arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &project_root)
            .env("GIT_PROJECT_ROOT", &project_root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GATEWAY_INTERFACE", "CGI/1.1")
            .env("REQUEST_METHOD", &request.method)
            .env("PATH_INFO", format!("/{name}.git{}", request.path))
            .env("QUERY_STRING", &request.query)
            .env("CONTENT_TYPE", &request.content_type)
            .env("CONTENT_LENGTH", request.body.len().to_string())
            .env("REMOTE_USER", "orbit")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if !request.content_encoding.is_empty() {
            cmd.env("HTTP_CONTENT_ENCODING", &request.content_encoding);
        }
        if !request.git_protocol.is_empty() {
            cmd.env("GIT_PROTOCOL", &request.git_protocol)
                .env("HTTP_GIT_PROTOCOL", &request.git_protocol);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| GitHostError::Unavailable(format!("cannot run git http-backend: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let body = request.body;
        // Feed the body while git writes its answer, so neither side blocks on a full pipe.
        let feeder = tokio::spawn(async move {
            let _ = stdin.write_all(&body).await;
            let _ = stdin.shutdown().await;
        });
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| GitHostError::Unavailable("git http-backend timed out".into()))?
            .map_err(|e| GitHostError::Unavailable(format!("git http-backend failed: {e}")))?;
        let _ = feeder.await;
        if !out.stderr.is_empty() {
            tracing::debug!(stderr = %String::from_utf8_lossy(&out.stderr).trim(), "git http-backend");
        }
        parse_cgi(&out.stdout).ok_or_else(|| {
            GitHostError::Unavailable(format!(
                "git http-backend answered nothing readable ({})",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        })
    }
}

/// Splits a CGI answer into status, headers and body.
fn parse_cgi(out: &[u8]) -> Option<GitHttpResponse> {
    let (head_len, sep) = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2)))?;
    let head = std::str::from_utf8(&out[..head_len]).ok()?;
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let (k, v) = line.split_once(':')?;
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            status = v.split_whitespace().next()?.parse().ok()?;
        } else {
            headers.push((k.to_owned(), v.to_owned()));
        }
    }
    Some(GitHttpResponse {
        status,
        headers,
        body: out[head_len + sep..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_answers_are_split() {
        let r =
            parse_cgi(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(
            r.headers,
            vec![("Content-Type".into(), "text/plain".into())]
        );
        assert_eq!(r.body, b"nope");
        let r = parse_cgi(b"Content-Type: x\n\nbody").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"body");
        assert!(parse_cgi(b"garbage").is_none());
    }

    #[test]
    fn only_the_protocol_paths_are_served() {
        assert!(allowed("GET", "/info/refs", "service=git-upload-pack"));
        assert!(allowed("POST", "/git-receive-pack", ""));
        assert!(!allowed("GET", "/HEAD", ""));
        assert!(!allowed("GET", "/objects/info/packs", ""));
        assert!(!allowed("GET", "/config", ""));
    }
}
