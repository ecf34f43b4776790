//! The repository catalog: what a repository is, and the rules that make its fields valid.

use crate::{Error, Result, Timestamp, UserId, WorkspaceId, clean_text};
use std::fmt;

pub use crate::ids::RepositoryId;

/// Where a repository stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    Experimental,
    Production,
    Deprecated,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 3] = [
        Lifecycle::Experimental,
        Lifecycle::Production,
        Lifecycle::Deprecated,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Experimental => "experimental",
            Lifecycle::Production => "production",
            Lifecycle::Deprecated => "deprecated",
        }
    }
    pub fn parse(value: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|l| l.as_str() == value)
    }
}

/// Who may read the repository on its git host. Every member of the workspace sees the
/// catalog entry whatever its visibility: the catalog is how an organisation finds its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoVisibility {
    Public,
    Internal,
    Private,
}

impl RepoVisibility {
    pub const ALL: [RepoVisibility; 3] = [
        RepoVisibility::Public,
        RepoVisibility::Internal,
        RepoVisibility::Private,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RepoVisibility::Public => "public",
            RepoVisibility::Internal => "internal",
            RepoVisibility::Private => "private",
        }
    }
    pub fn parse(value: &str) -> Option<RepoVisibility> {
        RepoVisibility::ALL
            .into_iter()
            .find(|v| v.as_str() == value)
    }
}

/// A repository name as git hosts accept it: 1 to 100 letters, digits, `.`, `_` and `-`,
/// not starting with `.` or `-`, not ending in `.git`. Names are unique in a workspace
/// regardless of case (as on GitHub and GitLab); [`RepoName::key`] is the lowercase form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

pub const REPO_NAME_MAX: usize = 100;

impl RepoName {
    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        if value.is_empty() {
            return Err(Error::invalid(field, "is required"));
        }
        if value.len() > REPO_NAME_MAX {
            return Err(Error::invalid(
                field,
                format!(
                    "is {} characters long; the limit is {REPO_NAME_MAX}",
                    value.len()
                ),
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(Error::invalid(
                field,
                format!("may contain only letters, digits, '.', '_' and '-', found {c:?}"),
            ));
        }
        if value.starts_with('.') || value.starts_with('-') {
            return Err(Error::invalid(field, "must not start with '.' or '-'"));
        }
        if value.to_ascii_lowercase().ends_with(".git") {
            return Err(Error::invalid(field, "must not end in '.git'"));
        }
        Ok(RepoName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form names are compared and sorted by.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const DESCRIPTION_MAX: usize = 1000;
pub const OWNER_MAX: usize = 100;
pub const LANGUAGE_MAX: usize = 50;
pub const TOPIC_MAX: usize = 50;
pub const TOPICS_MAX: usize = 20;
pub const BRANCH_MAX: usize = 200;
pub const URL_MAX: usize = 2000;

/// A catalogued repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: RepositoryId,
    pub workspace_id: WorkspaceId,
    pub name: RepoName,
    pub description: String,
    /// A member's login or a team's name (`platform`, `group:default/payments`).
    pub owner: String,
    /// The main language, as people write it ("Rust", "TypeScript"); may be empty.
    pub language: String,
    /// Lowercase tags, sorted, without duplicates.
    pub topics: Vec<String>,
    pub lifecycle: Lifecycle,
    pub default_branch: String,
    /// Where to clone it from (no credentials); may be empty for a repository known only
    /// by name.
    pub remote_url: String,
    pub visibility: RepoVisibility,
    pub archived: bool,
    /// Where the entry comes from: "manual", "template", "import".
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: UserId,
    /// Links from `catalog-info.yaml` (`metadata.links`): dashboards, runbooks…
    pub links: Vec<RepoLink>,
    /// API names (slugs in the API catalog) it provides (`spec.providesApis`), sorted.
    pub provides_apis: Vec<String>,
    /// API names it consumes (`spec.consumesApis`), sorted; these repositories are listed
    /// among the API's consumers.
    pub consumes_apis: Vec<String>,
}

/// A link shown on a repository's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoLink {
    pub url: String,
    /// May be empty (the URL is shown).
    pub title: String,
}

pub const LINKS_MAX: usize = 50;
pub const LINK_TITLE_MAX: usize = 200;
pub const APIS_MAX: usize = 100;

/// Keeps the usable links: `http(s)` URLs without spaces or control characters, at most
/// [`LINKS_MAX`]; titles are trimmed to one line of [`LINK_TITLE_MAX`] characters.
pub fn clean_links(links: &[RepoLink]) -> Vec<RepoLink> {
    links
        .iter()
        .filter_map(|l| {
            let url = l.url.trim();
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= URL_MAX
                && !url.chars().any(|c| c.is_whitespace() || c.is_control());
            ok.then(|| RepoLink {
                url: url.to_owned(),
                title: l
                    .title
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect::<String>()
                    .trim()
                    .chars()
                    .take(LINK_TITLE_MAX)
                    .collect(),
            })
        })
        .take(LINKS_MAX)
        .collect()
}

/// The API name of a Backstage entity reference: `shop-api`, `api:shop-api`,
/// `api:default/shop-api` and `default/shop-api` all name `shop-api` (lowercased). `None`
/// when what is left is not an API slug (lowercase letters, digits, dashes).
pub fn api_ref_name(reference: &str) -> Option<String> {
    let r = reference.trim();
    let r = match r.split_once(':') {
        Some((kind, rest)) if kind.eq_ignore_ascii_case("api") => rest,
        Some(_) => return None,
        None => r,
    };
    let name = r.rsplit('/').next().unwrap_or(r).to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(name)
}

/// The API names of a list of references, sorted, without duplicates or unusable ones,
/// at most [`APIS_MAX`].
pub fn api_names(references: &[String]) -> Vec<String> {
    let mut out: Vec<String> = references.iter().filter_map(|r| api_ref_name(r)).collect();
    out.sort();
    out.dedup();
    out.truncate(APIS_MAX);
    out
}

/// Checks an owner: a member login or a team name, 1 to 100 visible characters.
pub fn validate_owner(value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(
            "owner",
            "is required: name the member or team responsible",
        ));
    }
    if value.chars().count() > OWNER_MAX {
        return Err(Error::invalid(
            "owner",
            format!("is longer than {OWNER_MAX} characters"),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid("owner", "must not contain spaces"));
    }
    Ok(value.to_owned())
}

pub fn validate_description(value: &str) -> Result<String> {
    clean_text("description", value, false, DESCRIPTION_MAX)
}

pub fn validate_language(value: &str) -> Result<String> {
    let value = clean_text("language", value, false, LANGUAGE_MAX)?;
    if value.contains('\n') {
        return Err(Error::invalid("language", "must be a single line"));
    }
    Ok(value)
}

/// Normalises topics: lowercase letters, digits and dashes, 1 to 50 characters each, at
/// most 20; returned sorted without duplicates.
pub fn validate_topics(values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for raw in values {
        let t = raw.trim().to_lowercase();
        if t.is_empty() || t.len() > TOPIC_MAX {
            return Err(Error::invalid(
                "topics",
                format!("{raw:?}: each topic must be 1 to {TOPIC_MAX} characters"),
            ));
        }
        if t.starts_with('-')
            || !t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Error::invalid(
                "topics",
                format!(
                    "{raw:?}: a topic may contain only letters, digits and dashes, and must not start with a dash"
                ),
            ));
        }
        out.push(t);
    }
    out.sort();
    out.dedup();
    if out.len() > TOPICS_MAX {
        return Err(Error::invalid(
            "topics",
            format!("has {} topics; the limit is {TOPICS_MAX}", out.len()),
        ));
    }
    Ok(out)
}

/// Checks a git branch name (the rules of `git check-ref-format` that matter here).
pub fn validate_branch(field: &'static str, value: &str) -> Result<String> {
    let bad = value.is_empty()
        || value.len() > BRANCH_MAX
        || value.starts_with('-')
        || value.starts_with('/')
        || value.ends_with('/')
        || value.ends_with(".lock")
        || value.contains("..")
        || value.contains("//")
        || value.contains("@{")
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
    if bad {
        return Err(Error::invalid(field, "is not a valid git branch name"));
    }
    Ok(value.to_owned())
}

/// Accepts `git://`, `http(s)://`, `ssh://` and `file://` URLs without a password in them
/// (a password would be stored and shown to everyone), or nothing.
pub fn validate_remote_url(field: &'static str, remote: &str) -> Result<String> {
    let remote = remote.trim();
    if remote.is_empty() {
        return Ok(String::new());
    }
    let Some((scheme, rest)) = remote.split_once("://") else {
        return Err(Error::invalid(
            field,
            "must be a URL such as https://git.example.com/team/repo.git",
        ));
    };
    if !matches!(scheme, "git" | "http" | "https" | "ssh" | "file") {
        return Err(Error::invalid(
            field,
            format!("scheme '{scheme}' is not supported: use https, http, ssh, git or file"),
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') && authority.split('@').next().unwrap_or("").contains(':') {
        return Err(Error::invalid(
            field,
            "must not contain a password: credentials in URLs would be stored and shown",
        ));
    }
    if remote.len() > URL_MAX
        || remote.chars().any(|c| c.is_whitespace() || c.is_control())
        || rest.starts_with('-')
    {
        return Err(Error::invalid(field, "is not a valid URL"));
    }
    Ok(remote.to_owned())
}

/// How a list of repositories is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepoSort {
    /// By name, A to Z (case-insensitive).
    #[default]
    Name,
    /// Most recently changed first.
    Updated,
    /// Most recently registered first.
    Created,
}

impl RepoSort {
    pub fn parse(value: &str) -> Option<RepoSort> {
        match value {
            "" | "name" => Some(RepoSort::Name),
            "updated" => Some(RepoSort::Updated),
            "created" => Some(RepoSort::Created),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RepoSort::Name => "name",
            RepoSort::Updated => "updated",
            RepoSort::Created => "created",
        }
    }
}

/// Where a list page starts: strictly after this position in the sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoCursor {
    /// After the repository with this name key.
    Name(String),
    /// After (time, id) in descending order.
    Time(i64, RepositoryId),
}

impl RepoCursor {
    /// The cursor after `repo` in `sort` order, as text (made opaque by `Cursor::encode`).
    pub fn after(repo: &Repository, sort: RepoSort) -> String {
        match sort {
            RepoSort::Name => format!("n:{}", repo.name.key()),
            RepoSort::Updated => format!("t:{}:{}", repo.updated_at.0, repo.id),
            RepoSort::Created => format!("t:{}:{}", repo.created_at.0, repo.id),
        }
    }

    /// Reads a decoded cursor back; `None` if it was not made for `sort`.
    pub fn parse(text: &str, sort: RepoSort) -> Option<RepoCursor> {
        match (sort, text.split_once(':')?) {
            (RepoSort::Name, ("n", key)) => Some(RepoCursor::Name(key.to_owned())),
            (RepoSort::Updated | RepoSort::Created, ("t", rest)) => {
                let (time, id) = rest.split_once(':')?;
                Some(RepoCursor::Time(time.parse().ok()?, RepositoryId::new(id)))
            }
            _ => None,
        }
    }
}

/// What a list asks for. Empty/`None` filters match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoQuery {
    pub owner: Option<String>,
    /// Compared case-insensitively.
    pub language: Option<String>,
    pub topic: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub visibility: Option<RepoVisibility>,
    pub include_archived: bool,
    pub sort: RepoSort,
    pub after: Option<RepoCursor>,
    /// Stores return at most `limit + 1` rows so callers can tell whether more follow.
    pub limit: u32,
}

impl RepoQuery {
    /// Whether `repo` passes the filters (not the cursor): the rule every store implements.
    pub fn matches(&self, repo: &Repository) -> bool {
        self.owner.as_ref().is_none_or(|o| &repo.owner == o)
            && self
                .language
                .as_ref()
                .is_none_or(|l| repo.language.to_lowercase() == l.to_lowercase())
            && self.topic.as_ref().is_none_or(|t| repo.topics.contains(t))
            && self.lifecycle.is_none_or(|l| repo.lifecycle == l)
            && self.visibility.is_none_or(|v| repo.visibility == v)
            && (self.include_archived || !repo.archived)
    }
}

/// A registered template: a folder of a git repository at a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTemplate {
    pub id: String,
    pub workspace_id: WorkspaceId,
    /// The manifest's name, unique in the workspace.
    pub name: String,
    pub source_url: String,
    pub git_ref: String,
    pub path: String,
    /// `orbit-template.yaml` as read when the template was registered.
    pub manifest: String,
    pub created_at: Timestamp,
    pub created_by: UserId,
}

/// A workspace's rules for new repositories. Empty lists and patterns restrict nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoPolicy {
    /// A regular expression the whole name must match.
    pub name_pattern: String,
    pub require_owner: bool,
    pub allowed_visibilities: Vec<RepoVisibility>,
    /// Template names.
    pub allowed_templates: Vec<String>,
}

impl RepoPolicy {
    /// Every rule the new repository breaks, in words (empty: allowed). `name_matches` is
    /// the result of matching the name against `name_pattern` (regular expressions are
    /// compiled outside the core).
    pub fn violations(
        &self,
        name: &str,
        name_matches: bool,
        owner: &str,
        visibility: RepoVisibility,
        template: &str,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if !self.name_pattern.is_empty() && !name_matches {
            out.push(format!(
                "the name {name:?} does not match the pattern {}",
                self.name_pattern
            ));
        }
        if self.require_owner && owner.trim().is_empty() {
            out.push("an owner is required".to_owned());
        }
        if !self.allowed_visibilities.is_empty() && !self.allowed_visibilities.contains(&visibility)
        {
            let allowed: Vec<&str> = self
                .allowed_visibilities
                .iter()
                .map(|v| v.as_str())
                .collect();
            out.push(format!(
                "the visibility {} is not allowed (allowed: {})",
                visibility.as_str(),
                allowed.join(", ")
            ));
        }
        if !self.allowed_templates.is_empty()
            && !self.allowed_templates.iter().any(|t| t == template)
        {
            out.push(format!(
                "the template {template:?} is not allowed (allowed: {})",
                self.allowed_templates.join(", ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_git_host_rules() {
        assert!(RepoName::parse("name", "payments-api").is_ok());
        assert!(RepoName::parse("name", "My_Service.v2").is_ok());
        for bad in ["", ".hidden", "-x", "a/b", "a b", "x.git", "é"] {
            assert!(RepoName::parse("name", bad).is_err(), "{bad:?} accepted");
        }
        let err = RepoName::parse("name", "a/b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "name may contain only letters, digits, '.', '_' and '-', found '/'"
        );
        assert_eq!(RepoName::parse("name", "Api").unwrap().key(), "api");
    }

    #[test]
    fn topics_are_normalised() {
        let t = validate_topics(&["Rust".into(), "api".into(), "rust".into()]).unwrap();
        assert_eq!(t, vec!["api", "rust"]);
        assert!(validate_topics(&["no spaces".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(validate_topics(&many).is_err());
    }

    #[test]
    fn cursors_round_trip_for_their_sort_only() {
        let c = RepoCursor::parse("t:17:abc", RepoSort::Updated).unwrap();
        assert_eq!(c, RepoCursor::Time(17, RepositoryId::new("abc")));
        assert!(RepoCursor::parse("t:17:abc", RepoSort::Name).is_none());
        assert_eq!(
            RepoCursor::parse("n:api", RepoSort::Name),
            Some(RepoCursor::Name("api".into()))
        );
    }

    #[test]
    fn remote_urls_without_passwords() {
        assert!(validate_remote_url("remote_url", "https://git.example.com/a.git").is_ok());
        assert!(validate_remote_url("remote_url", "https://u:p@git.example.com/a.git").is_err());
        assert!(validate_remote_url("remote_url", "ftp://x").is_err());
        assert_eq!(validate_remote_url("remote_url", "").unwrap(), "");
    }
}

#[cfg(test)]
mod catalog_info_tests {
    use super::*;

    #[test]
    fn api_references_name_the_api() {
        for r in [
            "shop-api",
            "api:shop-api",
            "API:default/Shop-Api",
            "default/shop-api",
        ] {
            assert_eq!(api_ref_name(r).as_deref(), Some("shop-api"), "{r}");
        }
        assert_eq!(api_ref_name("component:shop"), None);
        assert_eq!(api_ref_name("shop api"), None);
        assert_eq!(
            api_names(&["b".into(), "api:a".into(), "a".into(), "bad name".into()]),
            ["a", "b"]
        );
    }

    #[test]
    fn links_keep_web_urls_only() {
        let links = clean_links(&[
            RepoLink {
                url: " https://grafana.example.com/d/1 ".into(),
                title: "Dash\nboard".into(),
            },
            RepoLink {
                url: "javascript:alert(1)".into(),
                title: "x".into(),
            },
        ]);
        assert_eq!(
            links,
            [RepoLink {
                url: "https://grafana.example.com/d/1".into(),
                title: "Dash board".into()
            }]
        );
    }
}
