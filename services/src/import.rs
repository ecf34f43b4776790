//! Importing repositories into the catalog: every repository of a git host's organisation
//! or group (through the `GitHost` port), enriched by a Backstage-style `catalog-info.yaml`
//! at the root of each. Re-importing updates entries (matched by name), never duplicates
//! them; an imported entry whose repository is gone from the host is archived and tagged
//! `gone-from-source`, not silently kept as if it were fresh.

use crate::repositories::{RepositoryInput, RepositoryService};
use crate::{GitHostService, githost_err, store_err};
use orbit_core::repository::{
    Lifecycle, RepoLink, RepoName, RepoQuery, RepoVisibility, Repository, api_names, clean_links,
    validate_owner, validate_topics,
};
use orbit_core::{Actor, Error, Result};
use orbit_ports::GitRemote;
use serde::Deserialize;

/// The topic that marks an imported repository whose source no longer has it.
pub const GONE_TOPIC: &str = "gone-from-source";

/// What `catalog-info.yaml` says about a component (the fields Orbit keeps).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogInfo {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub lifecycle: Option<Lifecycle>,
    pub tags: Vec<String>,
    /// `metadata.links`, cleaned ([`clean_links`]).
    pub links: Vec<RepoLink>,
    /// `spec.providesApis` and `spec.consumesApis` as API names ([`api_names`]).
    pub provides_apis: Vec<String>,
    pub consumes_apis: Vec<String>,
}

impl CatalogInfo {
    /// Copies what the file says into a catalog entry: links and APIs always (an absent
    /// list empties them, so a repository that stops consuming an API leaves its
    /// consumers); description, owner, lifecycle and tags when given and valid.
    pub fn apply(&self, repo: &mut Repository) {
        if !self.description.is_empty() {
            repo.description = self.description.clone();
        }
        if let Ok(owner) = validate_owner(&self.owner) {
            repo.owner = owner;
        }
        if let Some(l) = self.lifecycle {
            repo.lifecycle = l;
        }
        if let Ok(topics) = validate_topics(&self.tags)
            && !self.tags.is_empty()
        {
            repo.topics = topics;
        }
        repo.links = self.links.clone();
        repo.provides_apis = self.provides_apis.clone();
        repo.consumes_apis = self.consumes_apis.clone();
    }

    /// What a repository keeps once its `catalog-info.yaml` is gone: the fields only that
    /// file gives (links, provided and consumed APIs) are emptied, so the repository stops
    /// being listed as a consumer it no longer declares; description, owner, lifecycle and
    /// topics stay (they can be edited in Orbit too). Returns whether anything changed.
    pub fn forget(repo: &mut Repository) -> bool {
        let had = !repo.links.is_empty()
            || !repo.provides_apis.is_empty()
            || !repo.consumes_apis.is_empty();
        repo.links.clear();
        repo.provides_apis.clear();
        repo.consumes_apis.clear();
        had
    }
}

#[derive(Deserialize)]
struct Entity {
    kind: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: Spec,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize, Default)]
struct Link {
    #[serde(default)]
    url: String,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize, Default)]
struct Spec {
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    owner: String,
    #[serde(default, rename = "providesApis")]
    provides_apis: Vec<String>,
    #[serde(default, rename = "consumesApis")]
    consumes_apis: Vec<String>,
}

/// Reads the first `kind: Component` entity of a (possibly multi-document) file.
pub fn parse_catalog_info(text: &str) -> std::result::Result<CatalogInfo, String> {
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let value = serde_yaml_ng::Value::deserialize(doc).map_err(|e| e.to_string())?;
        if value.is_null() {
            continue;
        }
        let entity: Entity = serde_yaml_ng::from_value(value).map_err(|e| e.to_string())?;
        if entity.kind != "Component" {
            continue;
        }
        return Ok(CatalogInfo {
            name: entity.metadata.name,
            description: entity.metadata.description,
            owner: entity.spec.owner,
            lifecycle: Lifecycle::parse(&entity.spec.lifecycle),
            tags: entity.metadata.tags,
            links: clean_links(
                &entity
                    .metadata
                    .links
                    .into_iter()
                    .map(|l| RepoLink {
                        url: l.url,
                        title: l.title,
                    })
                    .collect::<Vec<_>>(),
            ),
            provides_apis: api_names(&entity.spec.provides_apis),
            consumes_apis: api_names(&entity.spec.consumes_apis),
        });
    }
    Err("no entity of kind Component".into())
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    /// Imported entries archived because the host no longer has them.
    pub gone: Vec<String>,
    /// Repositories whose catalog-info.yaml could not be used, with the reason.
    pub warnings: Vec<String>,
}

pub const MAX_IMPORT: usize = 5_000;

impl RepositoryService {
    /// Imports every repository of the host behind `connection_id` (Orbit's own server
    /// for the workspace when empty). Owners and admins.
    pub async fn import_from_host(
        &self,
        actor: &Actor,
        workspace_id: &str,
        hosts: &GitHostService,
        connection_id: &str,
    ) -> Result<ImportReport> {
        let (ws, role) = self.workspaces().authorize(actor, workspace_id).await?;
        if !role.can_administer() {
            return Err(Error::PermissionDenied(
                "only the workspace's owners and admins import repositories".into(),
            ));
        }
        let host = hosts
            .open_for_workspace(&ws, Some(connection_id).filter(|c| !c.is_empty()))
            .await?;
        let listed = host.list_repos(MAX_IMPORT).await.map_err(githost_err)?;
        let mut report = ImportReport::default();
        let mut seen = std::collections::HashSet::new();
        for hosted in listed {
            let Ok(name) = RepoName::parse("name", &hosted.name) else {
                report.warnings.push(format!(
                    "{}: the name is not usable in the catalog",
                    hosted.name
                ));
                continue;
            };
            seen.insert(name.key());
            let remote: GitRemote = host
                .push_access(&hosted.name)
                .await
                .unwrap_or_else(|_| GitRemote::anonymous(hosted.clone_url.clone()));
            let read = self
                .deps
                .git
                .read_file(
                    &remote,
                    &hosted.default_branch,
                    "catalog-info.yaml",
                    256 * 1024,
                )
                .await;
            // The repository has no catalog-info.yaml (any more): not the same as one that
            // could not be read or parsed, which leaves what an earlier import took from it.
            let absent = matches!(read, Ok(None));
            let info = match read {
                Ok(Some(bytes)) => match parse_catalog_info(&String::from_utf8_lossy(&bytes)) {
                    Ok(info) => Some(info),
                    Err(e) => {
                        report
                            .warnings
                            .push(format!("{}: catalog-info.yaml: {e}", hosted.name));
                        None
                    }
                },
                Ok(None) => None,
                Err(e) => {
                    report
                        .warnings
                        .push(format!("{}: catalog-info.yaml not read: {e}", hosted.name));
                    None
                }
            };
            let parsed = info.clone();
            let info = info.unwrap_or_default();
            let owner = validate_owner(&info.owner).unwrap_or_else(|_| "unknown".to_owned());
            let topics = validate_topics(&info.tags).unwrap_or_default();
            let description = if info.description.is_empty() {
                hosted.description.clone()
            } else {
                info.description.clone()
            };
            let visibility = RepoVisibility::parse(hosted.visibility.as_str())
                .unwrap_or(RepoVisibility::Internal);
            let existing = self
                .deps
                .repositories
                .get_repository_by_name(&ws, &name)
                .await
                .map_err(store_err)?;
            match existing {
                Some(mut repo) => {
                    repo.description = description;
                    if !info.owner.is_empty() {
                        repo.owner = owner;
                    }
                    if let Some(l) = info.lifecycle {
                        repo.lifecycle = l;
                    }
                    if !info.tags.is_empty() {
                        repo.topics = topics;
                    }
                    if let Some(info) = &parsed {
                        repo.links = info.links.clone();
                        repo.provides_apis = info.provides_apis.clone();
                        repo.consumes_apis = info.consumes_apis.clone();
                    } else if absent {
                        CatalogInfo::forget(&mut repo);
                    }
                    repo.topics.retain(|t| t != GONE_TOPIC);
                    repo.remote_url = hosted.clone_url.clone();
                    repo.default_branch = hosted.default_branch.clone();
                    repo.visibility = visibility;
                    repo.archived = hosted.archived;
                    repo.updated_at = self.deps.clock.now();
                    self.deps
                        .repositories
                        .update_repository(&repo, &format!("repo:{}", self.deps.ids.new_id()))
                        .await
                        .map_err(store_err)?;
                    report.updated.push(repo.name.to_string());
                }
                None => {
                    let mut repo = self.validate_new(
                        actor,
                        &ws,
                        RepositoryInput {
                            name: hosted.name.clone(),
                            description,
                            owner,
                            language: String::new(),
                            topics,
                            lifecycle: info
                                .lifecycle
                                .unwrap_or(Lifecycle::Experimental)
                                .as_str()
                                .to_owned(),
                            default_branch: hosted.default_branch.clone(),
                            remote_url: hosted.clone_url.clone(),
                            visibility: visibility.as_str().to_owned(),
                        },
                        "import",
                    )?;
                    repo.archived = hosted.archived;
                    repo.links = info.links.clone();
                    repo.provides_apis = info.provides_apis.clone();
                    repo.consumes_apis = info.consumes_apis.clone();
                    self.create(&repo).await?;
                    report.created.push(repo.name.to_string());
                }
            }
        }
        // Imported entries the host no longer lists are marked, not kept as if fresh.
        let query = RepoQuery {
            include_archived: true,
            limit: MAX_IMPORT as u32,
            ..RepoQuery::default()
        };
        let all = self
            .deps
            .repositories
            .list_repositories(&ws, &query)
            .await
            .map_err(store_err)?;
        for mut repo in all {
            if repo.source != "import" || seen.contains(&repo.name.key()) {
                continue;
            }
            if repo.topics.iter().any(|t| t == GONE_TOPIC) {
                continue;
            }
            repo.archived = true;
            repo.topics.push(GONE_TOPIC.to_owned());
            repo.topics.sort();
            repo.updated_at = self.deps.clock.now();
            self.deps
                .repositories
                .update_repository(&repo, &format!("repo:{}", self.deps.ids.new_id()))
                .await
                .map_err(store_err)?;
            report.gone.push(repo.name.to_string());
        }
        (self.deps.index_signal)();
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_component_of_a_catalog_file() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: shop\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: web-shop\n  description: The storefront\n  tags: [frontend, typescript]\n  links:\n    - url: https://example.com\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team-web\n  providesApis: [shop-api]\n";
        let info = parse_catalog_info(text).unwrap();
        assert_eq!(info.name, "web-shop");
        assert_eq!(info.owner, "group:default/team-web");
        assert_eq!(info.lifecycle, Some(Lifecycle::Production));
        assert_eq!(info.tags, ["frontend", "typescript"]);
        assert_eq!(
            info.links,
            [RepoLink {
                url: "https://example.com".into(),
                title: String::new()
            }]
        );
        assert_eq!(info.provides_apis, ["shop-api"]);
        assert!(info.consumes_apis.is_empty());
        assert!(parse_catalog_info("kind: API\n").is_err());
    }
}
