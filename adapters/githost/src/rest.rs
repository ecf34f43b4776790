//! What the GitHub and GitLab adapters share: the HTTP client, URL checks, error mapping.

use orbit_ports::GitHostError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::time::Duration;

pub(crate) fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("orbit/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// An API base URL: http(s), no credentials, no query; without the trailing slash.
pub(crate) fn base_url(url: &str) -> Result<String, GitHostError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        GitHostError::Refused(format!("the API base URL {url:?} is not a URL: {e}"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https")
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.query().is_some()
        || parsed.host_str().is_none()
    {
        return Err(GitHostError::Refused(format!(
            "the API base URL {url:?} must be http(s)://host[/path] without credentials or query"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Percent-encodes one path segment (GitLab takes `group/sub` as `group%2Fsub`).
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, GitHostError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            GitHostError::Unavailable(format!("{what}: the host answered unreadable JSON: {e}"))
        })
    }

    /// The host's own message, for errors (GitHub `message`, GitLab `message`/`error`).
    pub fn message(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let m = v
            .get("message")
            .or_else(|| v.get("error"))
            .cloned()
            .unwrap_or_default();
        let text = match m {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::from_utf8_lossy(&self.body).into_owned(),
            other => other.to_string(),
        };
        text.chars().take(300).collect()
    }
}

pub(crate) async fn send(req: reqwest::RequestBuilder, what: &str) -> Result<Reply, GitHostError> {
    let resp = req
        .send()
        .await
        .map_err(|e| GitHostError::Unavailable(format!("{what}: {}", e.without_url())))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| GitHostError::Unavailable(format!("{what}: {}", e.without_url())))?
        .to_vec();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Maps an unexpected answer to the port's errors.
pub(crate) fn status_error(reply: &Reply, what: &str) -> GitHostError {
    let msg = format!(
        "{what}: the host answered {} ({})",
        reply.status,
        reply.message()
    );
    match reply.status {
        StatusCode::UNAUTHORIZED => GitHostError::Unauthenticated(msg),
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
            if reply
                .headers
                .get("x-ratelimit-remaining")
                .is_some_and(|v| v == "0")
                || reply.headers.contains_key("retry-after")
                || reply.status == StatusCode::TOO_MANY_REQUESTS =>
        {
            GitHostError::Unavailable(format!("{msg}; rate limited"))
        }
        StatusCode::FORBIDDEN => GitHostError::PermissionDenied(msg),
        StatusCode::NOT_FOUND => GitHostError::NotFound(msg),
        s if s.is_server_error() => GitHostError::Unavailable(msg),
        _ => GitHostError::Refused(msg),
    }
}

/// The `rel="next"` URL of a `Link` header (GitHub pagination).
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://api.github.com/orgs/a/repos?page=2>; rel=\"next\", <https://api.github.com/orgs/a/repos?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/orgs/a/repos?page=2")
        );
        h.insert("link", "<x?page=1>; rel=\"prev\"".parse().unwrap());
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("https://api.github.com/").unwrap(),
            "https://api.github.com"
        );
        assert!(base_url("https://user:pw@api.github.com").is_err());
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("nope").is_err());
        assert_eq!(encode("platform/backend"), "platform%2Fbackend");
    }
}
