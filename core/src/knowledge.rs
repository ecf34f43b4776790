//! Knowledge spaces and their pages.

use crate::{Error, Result, Timestamp, UserId, WorkspaceId, clean_text};
use std::fmt;

pub use crate::ids::{PageId, SpaceId};

/// Who may see a space and its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Every member of the workspace.
    Workspace,
    /// Only the space's listed members (and the workspace's owners and admins, who manage it).
    Restricted,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Workspace => "workspace",
            Visibility::Restricted => "restricted",
        }
    }
    pub fn parse(value: &str) -> Option<Visibility> {
        match value {
            "workspace" => Some(Visibility::Workspace),
            "restricted" => Some(Visibility::Restricted),
            _ => None,
        }
    }
}

/// A URL name inside a workspace (spaces) or inside a parent page (pages): lowercase
/// letters, digits and dashes, 1 to 100 characters, no leading or trailing dash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathSlug(String);

impl PathSlug {
    pub fn parse(field: &'static str, value: &str) -> Result<Self> {
        if value.is_empty() || value.len() > 100 {
            return Err(Error::invalid(field, "must be 1 to 100 characters long"));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(Error::invalid(
                field,
                format!("may contain only lowercase letters, digits and dashes, found {c:?}"),
            ));
        }
        if value.starts_with('-') || value.ends_with('-') {
            return Err(Error::invalid(field, "must not start or end with a dash"));
        }
        Ok(PathSlug(value.to_owned()))
    }

    /// Derives a slug from a title: "Getting Started!" → "getting-started". Falls back to
    /// "page" when nothing usable is left.
    pub fn from_title(title: &str) -> PathSlug {
        let mut out = String::new();
        let mut dash = false;
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c);
            } else {
                dash = true;
            }
            if out.len() >= 80 {
                break;
            }
        }
        let out = out.trim_matches('-').to_owned();
        PathSlug(if out.is_empty() {
            "page".to_owned()
        } else {
            out
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PathSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: SpaceId,
    pub workspace_id: WorkspaceId,
    pub slug: PathSlug,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub const SPACE_NAME_MAX: usize = 100;
pub const TITLE_MAX: usize = 200;

impl Space {
    pub fn validate_name(name: &str) -> Result<String> {
        clean_text("name", name, true, SPACE_NAME_MAX)
    }
}

/// A page as stored: its place in the tree and its current revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: PageId,
    pub workspace_id: WorkspaceId,
    pub space_id: SpaceId,
    pub parent_id: Option<PageId>,
    pub slug: PathSlug,
    pub title: String,
    /// Markdown source of the current revision.
    pub body: String,
    pub sort_order: i64,
    /// The current revision number: 1 for a new page, +1 per save.
    pub revision: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: UserId,
}

impl Page {
    /// The page as the tree lists it.
    pub fn summary(&self) -> PageSummary {
        PageSummary {
            id: self.id.clone(),
            space_id: self.space_id.clone(),
            parent_id: self.parent_id.clone(),
            slug: self.slug.clone(),
            title: self.title.clone(),
            sort_order: self.sort_order,
            revision: self.revision,
            updated_at: self.updated_at,
        }
    }
}

/// A page without its body, as the tree lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    pub id: PageId,
    pub space_id: SpaceId,
    pub parent_id: Option<PageId>,
    pub slug: PathSlug,
    pub title: String,
    pub sort_order: i64,
    pub revision: i64,
    pub updated_at: Timestamp,
}

/// One saved state of a page. Revisions are immutable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub page_id: PageId,
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub author: UserId,
    pub created_at: Timestamp,
    /// A short human note: "created", "edited", "restored revision 3", "moved".
    pub note: String,
}

/// A revision without its body, as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionSummary {
    pub revision: i64,
    pub title: String,
    pub author: UserId,
    pub author_login: String,
    pub created_at: Timestamp,
    pub note: String,
    pub body_chars: i64,
}

/// Checks a page title.
pub fn validate_title(title: &str) -> Result<String> {
    let title = clean_text("title", title, true, TITLE_MAX)?;
    if title.contains('\n') {
        return Err(Error::invalid("title", "must be a single line"));
    }
    Ok(title)
}

/// Checks a page body against the configured limit (bytes).
pub fn validate_body(body: &str, limit: usize) -> Result<()> {
    if body.len() > limit {
        return Err(Error::invalid(
            "body",
            format!("is {} bytes; the limit is {limit} bytes", body.len()),
        ));
    }
    if body.contains('\0') {
        return Err(Error::invalid("body", "must not contain NUL characters"));
    }
    Ok(())
}

/// Orders pages depth-first (parents before children, siblings by sort order then title),
/// giving each its depth. Pages whose parent is missing are treated as roots.
pub fn tree_order(pages: &[PageSummary]) -> Vec<(usize, &PageSummary)> {
    use std::collections::HashMap;
    let ids: std::collections::HashSet<&PageId> = pages.iter().map(|p| &p.id).collect();
    let mut children: HashMap<Option<&PageId>, Vec<&PageSummary>> = HashMap::new();
    for p in pages {
        let parent = p.parent_id.as_ref().filter(|id| ids.contains(id));
        children.entry(parent).or_default().push(p);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            a.sort_order
                .cmp(&b.sort_order)
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.id.cmp(&b.id))
        });
    }
    let mut out = Vec::with_capacity(pages.len());
    let mut stack: Vec<(usize, &PageSummary)> = children
        .get(&None)
        .map(|l| l.iter().rev().map(|p| (0, *p)).collect())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    while let Some((depth, page)) = stack.pop() {
        if !seen.insert(&page.id) {
            continue;
        }
        out.push((depth, page));
        if let Some(kids) = children.get(&Some(&page.id)) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    out
}

/// Whether `candidate` is `page` itself or one of its descendants, following parent links
/// (`parent_of`) from the candidate upwards. Bounded by the number of pages.
pub fn is_self_or_descendant(
    page: &PageId,
    candidate: &PageId,
    parent_of: impl Fn(&PageId) -> Option<PageId>,
    max_depth: usize,
) -> bool {
    let mut current = Some(candidate.clone());
    for _ in 0..=max_depth {
        match current {
            Some(id) if &id == page => return true,
            Some(id) => current = parent_of(&id),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, parent: Option<&str>, order: i64) -> PageSummary {
        PageSummary {
            id: PageId::new(id),
            space_id: SpaceId::new("s"),
            parent_id: parent.map(PageId::new),
            slug: PathSlug::from_title(id),
            title: id.to_owned(),
            sort_order: order,
            revision: 1,
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn slugs_from_titles() {
        assert_eq!(
            PathSlug::from_title("Getting Started!").as_str(),
            "getting-started"
        );
        assert_eq!(PathSlug::from_title("  API -- v2  ").as_str(), "api-v2");
        assert_eq!(PathSlug::from_title("日本語").as_str(), "page");
        assert!(PathSlug::parse("slug", "Bad").is_err());
        assert!(PathSlug::parse("slug", "ok-1").is_ok());
    }

    #[test]
    fn tree_order_is_depth_first_by_sort_order() {
        let pages = vec![
            summary("b", None, 2),
            summary("a", None, 1),
            summary("a2", Some("a"), 2),
            summary("a1", Some("a"), 1),
            summary("a1x", Some("a1"), 0),
        ];
        let order: Vec<(usize, &str)> = tree_order(&pages)
            .into_iter()
            .map(|(d, p)| (d, p.id.as_str()))
            .collect();
        assert_eq!(
            order,
            [(0, "a"), (1, "a1"), (2, "a1x"), (1, "a2"), (0, "b")]
        );
    }

    #[test]
    fn descendant_check() {
        let parents = [("c", "b"), ("b", "a")];
        let parent_of = |id: &PageId| {
            parents
                .iter()
                .find(|(c, _)| *c == id.as_str())
                .map(|(_, p)| PageId::new(*p))
        };
        assert!(is_self_or_descendant(
            &PageId::new("a"),
            &PageId::new("c"),
            parent_of,
            10
        ));
        assert!(is_self_or_descendant(
            &PageId::new("a"),
            &PageId::new("a"),
            parent_of,
            10
        ));
        assert!(!is_self_or_descendant(
            &PageId::new("c"),
            &PageId::new("a"),
            parent_of,
            10
        ));
    }

    #[test]
    fn body_and_title_limits() {
        assert!(validate_body("hello", 10).is_ok());
        assert_eq!(
            validate_body("hello world", 10).unwrap_err().to_string(),
            "body is 11 bytes; the limit is 10 bytes"
        );
        assert!(validate_title("").is_err());
        assert!(validate_title(&"x".repeat(201)).is_err());
    }
}
