//! Knowledge sync with git: the activities behind `orbit.knowledge.sync`, and how a space
//! maps to files. Export writes one Markdown file per page, mirroring the tree (`a.md`,
//! `a/child.md`), with front matter (id, title, revision) and a `.pages` file per folder
//! giving the order. Import reads `*.md` under the folder (front matter optional; order
//! from `.pages` or `mkdocs.yml` `nav` when present) and matches pages by front-matter id,
//! else by path, so a second import updates and never duplicates.

use crate::{GitHostService, KnowledgeService};
use async_trait::async_trait;
use orbit_core::knowledge::PathSlug;
use orbit_core::{Actor, UserId};
use orbit_ports::{
    Activity, ActivityContext, ActivityError, GitAuthor, GitClient, GitError, GitFile, GitRemote,
    UserStore,
};
use orbit_workflows::knowledge_sync::{EXPORT, IMPORT, SyncInput};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// Largest repository folder an import reads.
pub const MAX_IMPORT_FILES: usize = 20_000;
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

fn git_err(e: GitError) -> ActivityError {
    match e {
        GitError::Unavailable(m) => ActivityError::Retryable(m),
        other => ActivityError::NonRetryable(other.to_string()),
    }
}

fn svc_err(e: orbit_core::Error) -> ActivityError {
    match e {
        orbit_core::Error::Unavailable(m) | orbit_core::Error::Internal(m) => {
            ActivityError::Retryable(m)
        }
        other => ActivityError::NonRetryable(other.to_string()),
    }
}

/// The services the activities use, set once the services exist (they are built after
/// the workflow engine that runs these activities).
#[derive(Clone, Default)]
pub struct SyncHandle(
    Arc<OnceLock<(KnowledgeService, Arc<dyn UserStore>)>>,
    Arc<OnceLock<GitHostService>>,
);

impl SyncHandle {
    pub fn set(&self, knowledge: KnowledgeService, users: Arc<dyn UserStore>) {
        let _ = self.0.set((knowledge, users));
    }

    /// The git host service, for syncs that authenticate with a stored connection.
    pub fn set_git_hosts(&self, git_hosts: GitHostService) {
        let _ = self.1.set(git_hosts);
    }

    /// The remote of a sync, with the credentials of its connection when it names one. The
    /// token is read (and decrypted) only here, when the step runs; it is never part of the
    /// run's recorded input.
    async fn remote(
        &self,
        workspace: &orbit_core::WorkspaceId,
        sync: &SyncInput,
    ) -> Result<GitRemote, ActivityError> {
        if sync.connection_id.is_empty() {
            return Ok(GitRemote::anonymous(sync.remote.clone()));
        }
        let hosts = self
            .1
            .get()
            .ok_or_else(|| ActivityError::Retryable("services are starting".into()))?;
        hosts
            .remote_with_connection(workspace, &sync.connection_id, &sync.remote)
            .await
            .map_err(svc_err)
    }

    async fn actor(&self, user: &str) -> Result<(KnowledgeService, Actor), ActivityError> {
        let (k, users) = self
            .0
            .get()
            .cloned()
            .ok_or_else(|| ActivityError::Retryable("services are starting".into()))?;
        let user = users
            .get_user(&UserId::new(user))
            .await
            .map_err(|e| ActivityError::Retryable(e.to_string()))?
            .ok_or_else(|| {
                ActivityError::NonRetryable(format!(
                    "the user '{user}' who started the sync no longer exists"
                ))
            })?;
        Ok((
            k,
            Actor {
                user,
                token_id: None,
            },
        ))
    }
}

#[derive(Serialize, Deserialize)]
struct ExportResult {
    commit: Option<String>,
    files: usize,
}

#[derive(Serialize, Deserialize, Default)]
struct ImportResult {
    commit: String,
    created: usize,
    updated: usize,
    unchanged: usize,
}

/// Front matter as Orbit writes it (and reads, when present).
fn front_matter(id: &str, title: &str, revision: i64) -> String {
    let quoted = serde_json::to_string(title).unwrap_or_default();
    format!("---\nid: {id}\ntitle: {quoted}\nrevision: {revision}\n---\n\n")
}

/// Splits front matter off a Markdown file: (fields, body).
fn split_front_matter(text: &str) -> (HashMap<String, String>, String) {
    let mut fields = HashMap::new();
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (fields, text.to_owned());
    };
    let Some(end) = rest.find("\n---") else {
        return (fields, text.to_owned());
    };
    for line in rest[..end].lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            let v = serde_json::from_str::<String>(v)
                .unwrap_or_else(|_| v.trim_matches('\'').to_owned());
            fields.insert(k.trim().to_owned(), v);
        }
    }
    let body = rest[end + 4..]
        .trim_start_matches(['\r', '\n'])
        .trim_start_matches('\n');
    (fields, body.to_owned())
}

pub struct ExportActivity {
    pub handle: SyncHandle,
    pub git: Arc<dyn GitClient>,
}

#[async_trait]
impl Activity for ExportActivity {
    fn name(&self) -> &'static str {
        EXPORT
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let sync: SyncInput =
            serde_json::from_str(&input).map_err(|e| ActivityError::NonRetryable(e.to_string()))?;
        let (knowledge, actor) = self.handle.actor(&sync.user_id).await?;
        let ws = ctx.workspace_id.to_string();
        let tree = knowledge
            .list_pages(&actor, &ws, &sync.space_id, "")
            .await
            .map_err(svc_err)?;
        // Paths from slugs: a page's children live in a folder named after it.
        let mut path_of: HashMap<String, String> = HashMap::new();
        let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut files: Vec<GitFile> = Vec::new();
        for (_, node) in &tree {
            if ctx.cancel.is_cancelled() {
                return Err(ActivityError::Retryable("cancelled".into()));
            }
            let folder = node
                .parent_id
                .as_ref()
                .and_then(|p| path_of.get(p.as_str()).cloned())
                .unwrap_or_default();
            let base = if folder.is_empty() {
                node.slug.to_string()
            } else {
                format!("{folder}/{}", node.slug)
            };
            path_of.insert(node.id.to_string(), base.clone());
            order
                .entry(folder)
                .or_default()
                .push(format!("{}.md", node.slug));
            let page = knowledge
                .get_page(&actor, &ws, node.id.as_str())
                .await
                .map_err(svc_err)?
                .page;
            let mut text = front_matter(page.id.as_str(), &page.title, page.revision);
            text.push_str(&page.body);
            if !text.ends_with('\n') {
                text.push('\n');
            }
            files.push((format!("{base}.md"), text.into_bytes()));
        }
        for (folder, names) in order {
            let mut text = String::from("nav:\n");
            for n in names {
                text.push_str(&format!("  - {n}\n"));
            }
            let path = if folder.is_empty() {
                ".pages".to_owned()
            } else {
                format!("{folder}/.pages")
            };
            files.push((path, text.into_bytes()));
        }
        let author = GitAuthor {
            name: actor.user.display_name.clone(),
            email: if actor.user.email.is_empty() {
                format!("{}@orbit.invalid", actor.user.login.as_str())
            } else {
                actor.user.email.clone()
            },
        };
        let message = format!("Orbit: sync space {} ({} pages)", sync.space_id, tree.len());
        let commit = self
            .git
            .publish_to(
                &self.handle.remote(&ctx.workspace_id, &sync).await?,
                &sync.branch,
                &sync.path,
                &files,
                &message,
                &author,
            )
            .await
            .map_err(git_err)?;
        serde_json::to_string(&ExportResult {
            commit,
            files: tree.len(),
        })
        .map_err(|e| ActivityError::NonRetryable(e.to_string()))
    }
}

pub struct ImportActivity {
    pub handle: SyncHandle,
    pub git: Arc<dyn GitClient>,
}

/// The order of entries in a folder: from `.pages` (`nav:` list) when present.
fn nav_order(files: &HashMap<String, Vec<u8>>, folder: &str) -> Vec<String> {
    let key = if folder.is_empty() {
        ".pages".to_owned()
    } else {
        format!("{folder}/.pages")
    };
    let mut out = Vec::new();
    if let Some(text) = files
        .get(&key)
        .map(|b| String::from_utf8_lossy(b).into_owned())
    {
        for line in text.lines() {
            if let Some(entry) = line.trim().strip_prefix("- ") {
                let entry = entry
                    .rsplit(':')
                    .next()
                    .unwrap_or(entry)
                    .trim()
                    .trim_matches('"');
                out.push(entry.to_owned());
            }
        }
    }
    out
}

/// mkdocs.yml `nav` entries (`- Title: path.md`, nested), as paths in order.
fn mkdocs_order(files: &HashMap<String, Vec<u8>>) -> Vec<String> {
    let Some(text) = files
        .get("mkdocs.yml")
        .or_else(|| files.get("../mkdocs.yml"))
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|e| e.rsplit(':').next())
        .map(|p| p.trim().trim_matches('"').to_owned())
        .filter(|p| p.ends_with(".md"))
        .collect()
}

#[async_trait]
impl Activity for ImportActivity {
    fn name(&self) -> &'static str {
        IMPORT
    }

    async fn run(&self, ctx: &ActivityContext, input: String) -> Result<String, ActivityError> {
        let sync: SyncInput =
            serde_json::from_str(&input).map_err(|e| ActivityError::NonRetryable(e.to_string()))?;
        let (knowledge, actor) = self.handle.actor(&sync.user_id).await?;
        let ws = ctx.workspace_id.to_string();
        let (commit, files) = self
            .git
            .read_from(
                &self.handle.remote(&ctx.workspace_id, &sync).await?,
                &sync.branch,
                &sync.path,
                MAX_IMPORT_FILES,
                MAX_IMPORT_BYTES,
            )
            .await
            .map_err(git_err)?;
        let by_path: HashMap<String, Vec<u8>> = files.into_iter().collect();
        let mkdocs = mkdocs_order(&by_path);
        let mut docs: Vec<&String> = by_path.keys().filter(|p| p.ends_with(".md")).collect();
        // Parents before children; within a folder, nav order first, then by name.
        let rank = |p: &str| -> (usize, usize, String) {
            let depth = p.matches('/').count();
            let (folder, name) = p.rsplit_once('/').unwrap_or(("", p));
            let nav = nav_order(&by_path, folder);
            let pos = nav
                .iter()
                .position(|n| n == name)
                .or_else(|| mkdocs.iter().position(|m| m == p))
                .unwrap_or(usize::MAX);
            (depth, pos, p.to_owned())
        };
        docs.sort_by_key(|p| rank(p));
        // Existing pages: by id, and by path of slugs.
        let tree = knowledge
            .list_pages(&actor, &ws, &sync.space_id, "")
            .await
            .map_err(svc_err)?;
        let mut path_to_id: HashMap<String, String> = HashMap::new();
        let mut ids: HashMap<String, ()> = HashMap::new();
        let mut path_of: HashMap<String, String> = HashMap::new();
        for (_, node) in &tree {
            let folder = node
                .parent_id
                .as_ref()
                .and_then(|p| path_of.get(p.as_str()).cloned())
                .unwrap_or_default();
            let base = if folder.is_empty() {
                node.slug.to_string()
            } else {
                format!("{folder}/{}", node.slug)
            };
            path_of.insert(node.id.to_string(), base.clone());
            path_to_id.insert(base, node.id.to_string());
            ids.insert(node.id.to_string(), ());
        }
        let mut result = ImportResult {
            commit,
            ..Default::default()
        };
        for path in docs {
            if ctx.cancel.is_cancelled() {
                return Err(ActivityError::Retryable("cancelled".into()));
            }
            let text = String::from_utf8_lossy(&by_path[path]).into_owned();
            let (fields, body) = split_front_matter(&text);
            let stem = path.trim_end_matches(".md");
            let (folder, name) = stem.rsplit_once('/').unwrap_or(("", stem));
            let slug = PathSlug::from_title(if name == "index" {
                folder.rsplit('/').next().unwrap_or(name)
            } else {
                name
            });
            let title = fields
                .get("title")
                .cloned()
                .or_else(|| {
                    body.lines()
                        .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned()))
                })
                .unwrap_or_else(|| name.replace(['-', '_'], " "));
            let own_path = if folder.is_empty() {
                slug.to_string()
            } else {
                format!("{}/{}", slug_path(folder), slug)
            };
            let existing = fields
                .get("id")
                .filter(|id| ids.contains_key(*id))
                .cloned()
                .or_else(|| path_to_id.get(&own_path).cloned());
            match existing {
                Some(id) => {
                    let page = knowledge
                        .get_page(&actor, &ws, &id)
                        .await
                        .map_err(svc_err)?
                        .page;
                    if page.title == title && page.body.trim_end() == body.trim_end() {
                        result.unchanged += 1;
                    } else {
                        let patch = crate::PagePatch {
                            title: Some(title),
                            slug: None,
                            body: Some(body),
                        };
                        knowledge
                            .update_page(&actor, &ws, &id, page.revision, patch)
                            .await
                            .map_err(svc_err)?;
                        result.updated += 1;
                    }
                    path_to_id.insert(own_path, id);
                }
                None => {
                    let parent = if folder.is_empty() {
                        String::new()
                    } else {
                        path_to_id
                            .get(&slug_path(folder))
                            .cloned()
                            .unwrap_or_default()
                    };
                    let page = knowledge
                        .create_page(
                            &actor,
                            &ws,
                            &sync.space_id,
                            &parent,
                            &title,
                            slug.as_str(),
                            &body,
                        )
                        .await
                        .map_err(svc_err)?;
                    ids.insert(page.page.id.to_string(), ());
                    path_to_id.insert(own_path, page.page.id.to_string());
                    result.created += 1;
                }
            }
        }
        serde_json::to_string(&result).map_err(|e| ActivityError::NonRetryable(e.to_string()))
    }
}

/// A folder path as a path of slugs ("Getting Started/Linux" → "getting-started/linux").
fn slug_path(folder: &str) -> String {
    folder
        .split('/')
        .map(|part| PathSlug::from_title(part).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_round_trips() {
        let text = format!(
            "{}Body line\n",
            front_matter("p1", "A \"quoted\" title: yes", 7)
        );
        let (fields, body) = split_front_matter(&text);
        assert_eq!(fields["id"], "p1");
        assert_eq!(fields["title"], "A \"quoted\" title: yes");
        assert_eq!(fields["revision"], "7");
        assert_eq!(body, "Body line\n");
        let (fields, body) = split_front_matter("# Plain\n");
        assert!(fields.is_empty());
        assert_eq!(body, "# Plain\n");
    }

    #[test]
    fn nav_files_give_the_order() {
        let mut files = HashMap::new();
        files.insert(
            ".pages".to_owned(),
            b"nav:\n  - b.md\n  - Intro: a.md\n".to_vec(),
        );
        assert_eq!(nav_order(&files, ""), ["b.md", "a.md"]);
        files.insert(
            "mkdocs.yml".to_owned(),
            b"nav:\n  - Home: index.md\n  - Guide:\n    - guide/setup.md\n".to_vec(),
        );
        assert_eq!(mkdocs_order(&files), ["index.md", "guide/setup.md"]);
    }
}
