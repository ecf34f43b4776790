//! The API catalog: APIs, their immutable published versions, the repositories that consume
//! them, and the workspace's compatibility policy.

use crate::knowledge::PathSlug;
use crate::{Error, Result, Timestamp, UserId, WorkspaceId, clean_text};
use std::cmp::Ordering;
use std::fmt;

pub use crate::ids::ApiId;

/// The schema language of an API (every version of an API has the same format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiFormat {
    OpenApi,
    AsyncApi,
    Protobuf,
    GraphQl,
}

impl ApiFormat {
    pub const ALL: [ApiFormat; 4] = [
        ApiFormat::OpenApi,
        ApiFormat::AsyncApi,
        ApiFormat::Protobuf,
        ApiFormat::GraphQl,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ApiFormat::OpenApi => "openapi",
            ApiFormat::AsyncApi => "asyncapi",
            ApiFormat::Protobuf => "protobuf",
            ApiFormat::GraphQl => "graphql",
        }
    }
    pub fn parse(value: &str) -> Option<ApiFormat> {
        ApiFormat::ALL.into_iter().find(|f| f.as_str() == value)
    }
}

/// Where an API is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    Experimental,
    Production,
    Deprecated,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Experimental => "experimental",
            Lifecycle::Production => "production",
            Lifecycle::Deprecated => "deprecated",
        }
    }
    pub fn parse(value: &str) -> Option<Lifecycle> {
        match value {
            "experimental" => Some(Lifecycle::Experimental),
            "production" => Some(Lifecycle::Production),
            "deprecated" => Some(Lifecycle::Deprecated),
            _ => None,
        }
    }
}

/// A semantic version (`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`), ordered by semver rules
/// (build metadata ignored; a pre-release sorts before its release).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SemVer {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub build: String,
}

impl SemVer {
    pub fn parse(field: &'static str, value: &str) -> Result<SemVer> {
        let bad = || {
            Error::invalid(
                field,
                format!("{value:?} is not a semantic version like 1.4.0 or 2.0.0-beta.1"),
            )
        };
        if value.is_empty() || value.len() > 64 {
            return Err(bad());
        }
        let (rest, build) = value.split_once('+').unwrap_or((value, ""));
        let (core, pre) = rest.split_once('-').unwrap_or((rest, ""));
        let ident_ok = |s: &str| {
            s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        };
        if (!pre.is_empty() && !ident_ok(pre))
            || (value.contains('+') && !ident_ok(build))
            || (rest.contains('-') && pre.is_empty())
        {
            return Err(bad());
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let num = |p: &str| -> Result<u64> {
            if p.is_empty()
                || (p.len() > 1 && p.starts_with('0'))
                || !p.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        Ok(SemVer {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: num(parts[2])?,
            pre: pre.to_owned(),
            build: build.to_owned(),
        })
    }

    /// Whether moving from `self` to `next` announces breaking changes: a new major version,
    /// or (below 1.0.0, where the minor number plays that role) a new minor version.
    pub fn allows_breaking_to(&self, next: &SemVer) -> bool {
        next.major > self.major || (self.major == 0 && next.major == 0 && next.minor > self.minor)
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub id: ApiId,
    pub workspace_id: WorkspaceId,
    pub slug: PathSlug,
    pub name: String,
    pub description: String,
    /// The team or person answerable for the API (free text, e.g. "team-payments").
    pub owner: String,
    pub tags: Vec<String>,
    pub lifecycle: Lifecycle,
    pub format: ApiFormat,
    /// Why the API is deprecated and what to use instead (empty unless deprecated).
    pub deprecation_note: String,
    /// The highest published version, empty before the first.
    pub latest_version: String,
    /// Names from the latest version for the search index (operation ids, paths, types…).
    pub search_terms: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: UserId,
}

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;
pub const OWNER_MAX: usize = 100;
pub const TAG_MAX: usize = 40;
pub const TAGS_MAX: usize = 20;
pub const RELEASE_NOTES_MAX: usize = 10_000;
pub const FILES_MAX: usize = 100;
pub const REPOSITORY_MAX: usize = 200;

impl Api {
    pub fn validate_name(name: &str) -> Result<String> {
        let name = clean_text("name", name, true, NAME_MAX)?;
        if name.contains('\n') {
            return Err(Error::invalid("name", "must be a single line"));
        }
        Ok(name)
    }
    pub fn validate_description(text: &str) -> Result<String> {
        clean_text("description", text, false, DESCRIPTION_MAX)
    }
    pub fn validate_owner(owner: &str) -> Result<String> {
        let owner = clean_text("owner", owner, false, OWNER_MAX)?;
        if owner.contains('\n') {
            return Err(Error::invalid("owner", "must be a single line"));
        }
        Ok(owner)
    }
    /// Tags: lowercase letters, digits, `-`, `.`, `_`, `/`; at most 20, each at most 40
    /// characters. Duplicates are dropped; order is kept.
    pub fn validate_tags(tags: &[String]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for tag in tags {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() || tag.chars().count() > TAG_MAX {
                return Err(Error::invalid(
                    "tags",
                    format!("each tag must be 1 to {TAG_MAX} characters long"),
                ));
            }
            if let Some(c) = tag.chars().find(|c| {
                !(c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, '-' | '.' | '_' | '/'))
            }) {
                return Err(Error::invalid(
                    "tags",
                    format!(
                        "tag {tag:?} may contain only lowercase letters, digits, '-', '.', '_' and '/', found {c:?}"
                    ),
                ));
            }
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        if out.len() > TAGS_MAX {
            return Err(Error::invalid(
                "tags",
                format!("at most {TAGS_MAX} tags are allowed"),
            ));
        }
        Ok(out)
    }
}

/// One file of a version's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFile {
    pub name: String,
    pub content: String,
}

/// Checks an uploaded file name: a relative path of plain segments (protobuf imports name
/// files by such paths).
pub fn validate_file_name(name: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid("files.name", format!("{name:?} {why}"));
    if name.is_empty() || name.len() > 200 {
        return Err(bad("must be 1 to 200 characters long"));
    }
    if name.starts_with('/') || name.contains('\\') {
        return Err(bad("must be a relative path with '/' separators"));
    }
    if name
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(bad("must not contain empty, '.' or '..' segments"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Err(bad(
            "may contain only letters, digits, '-', '_', '.' and '/'",
        ));
    }
    Ok(())
}

/// A published version. Immutable: once stored it is never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion {
    pub api_id: ApiId,
    pub workspace_id: WorkspaceId,
    pub version: SemVer,
    /// SHA-256 (lowercase hex) over the files, in name order, each as
    /// `name NUL length NUL content`.
    pub content_hash: String,
    pub release_notes: String,
    /// How many breaking changes it has against the version before it.
    pub breaking_changes: i64,
    pub files: Vec<ApiFile>,
    pub published_at: Timestamp,
    pub published_by: UserId,
}

/// A version without its files, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionSummary {
    pub version: SemVer,
    pub content_hash: String,
    pub release_notes: String,
    pub breaking_changes: i64,
    pub total_bytes: i64,
    pub published_at: Timestamp,
    pub published_by: UserId,
}

/// A repository that declares it consumes a version of an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub api_id: ApiId,
    pub workspace_id: WorkspaceId,
    /// A free reference to the repository ("github.com/acme/shop", a catalog id…).
    pub repository: String,
    pub version: SemVer,
    pub created_at: Timestamp,
    pub created_by: UserId,
    /// Derived from a catalogued repository's `catalog-info.yaml` (`consumesApis`), not
    /// stored as a consumer: `repository` is then the catalog entry's name.
    pub from_catalog_info: bool,
}

pub fn validate_repository(reference: &str) -> Result<String> {
    let r = clean_text("repository", reference, true, REPOSITORY_MAX)?;
    if r.chars().any(char::is_whitespace) {
        return Err(Error::invalid("repository", "must not contain spaces"));
    }
    Ok(r)
}

/// A workspace's rules for publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiPolicy {
    /// Accept breaking changes under a minor or patch bump (they are still listed).
    pub allow_breaking_without_major: bool,
}

/// Filters of the API list; empty/None means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiFilter {
    pub format: Option<ApiFormat>,
    pub owner: Option<String>,
    pub tag: Option<String>,
    pub lifecycle: Option<Lifecycle>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse("version", s).unwrap()
    }

    #[test]
    fn semver_parse_and_order() {
        assert_eq!(v("1.2.3").to_string(), "1.2.3");
        assert_eq!(
            v("1.0.0-beta.2+exp.sha").to_string(),
            "1.0.0-beta.2+exp.sha"
        );
        for bad in ["1.2", "01.2.3", "1.2.3-", "1.2.x", "", "v1.2.3", "1.2.3+"] {
            assert!(SemVer::parse("version", bad).is_err(), "{bad}");
        }
        let mut list = [
            v("1.0.0"),
            v("1.0.0-rc.1"),
            v("1.0.0-beta.11"),
            v("1.0.0-beta.2"),
            v("0.9.9"),
        ];
        list.sort();
        let names: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "0.9.9",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0"
            ]
        );
    }

    #[test]
    fn breaking_needs_a_major_bump() {
        assert!(v("1.4.0").allows_breaking_to(&v("2.0.0")));
        assert!(!v("1.4.0").allows_breaking_to(&v("1.5.0")));
        assert!(!v("1.4.0").allows_breaking_to(&v("1.4.1")));
        assert!(v("0.3.0").allows_breaking_to(&v("0.4.0")));
        assert!(!v("0.3.0").allows_breaking_to(&v("0.3.1")));
    }

    #[test]
    fn tags_and_file_names() {
        assert_eq!(
            Api::validate_tags(&["Payments".into(), "payments".into(), "v2".into()]).unwrap(),
            ["payments", "v2"]
        );
        assert!(Api::validate_tags(&["no spaces".into()]).is_err());
        assert!(validate_file_name("pets/v1/pets.proto").is_ok());
        assert!(validate_file_name("../etc/passwd").is_err());
        assert!(validate_file_name("/abs.proto").is_err());
    }
}
