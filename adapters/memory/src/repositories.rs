//! `RepositoryStore` in memory, with the same rules as the SQL stores.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_core::repository::{
    RepoCursor, RepoName, RepoPolicy, RepoQuery, RepoSort, RepoTemplate, Repository, RepositoryId,
};
use orbit_ports::{RepositoryIndexJob, RepositoryStore, StoreError};
use std::collections::BTreeMap;

#[derive(Default)]
pub(crate) struct RepositoryState {
    repos: BTreeMap<RepositoryId, Repository>,
    outbox: BTreeMap<String, (i64, RepositoryIndexJob)>,
    next_job: i64,
    templates: BTreeMap<String, RepoTemplate>,
    policies: BTreeMap<WorkspaceId, RepoPolicy>,
}

impl RepositoryState {
    pub(crate) fn remove_workspace(&mut self, workspace: &WorkspaceId) {
        self.repos.retain(|_, r| &r.workspace_id != workspace);
        self.templates.retain(|_, t| &t.workspace_id != workspace);
        self.policies.remove(workspace);
    }

    fn job(&mut self, id: &str, repo: &Repository) {
        self.next_job += 1;
        let job = RepositoryIndexJob {
            id: id.to_owned(),
            workspace_id: repo.workspace_id.clone(),
            repository_id: repo.id.clone(),
        };
        self.outbox.insert(id.to_owned(), (self.next_job, job));
    }

    fn name_taken(&self, repo: &Repository) -> bool {
        self.repos.values().any(|r| {
            r.workspace_id == repo.workspace_id
                && r.name.key() == repo.name.key()
                && r.id != repo.id
        })
    }
}

fn after_cursor(repo: &Repository, q: &RepoQuery) -> bool {
    match (&q.after, q.sort) {
        (Some(RepoCursor::Name(key)), RepoSort::Name) => repo.name.key() > *key,
        (Some(RepoCursor::Time(at, id)), RepoSort::Updated | RepoSort::Created) => {
            let t = if q.sort == RepoSort::Updated {
                repo.updated_at.0
            } else {
                repo.created_at.0
            };
            t < *at || (t == *at && repo.id < *id)
        }
        _ => true,
    }
}

#[async_trait]
impl RepositoryStore for MemoryStore {
    async fn create_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&repo.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                repo.workspace_id
            )));
        }
        if s.repositories.name_taken(repo) || s.repositories.repos.contains_key(&repo.id) {
            return Err(StoreError::AlreadyExists(format!(
                "repository '{}'",
                repo.name
            )));
        }
        s.repositories.repos.insert(repo.id.clone(), repo.clone());
        s.repositories.job(job_id, repo);
        Ok(())
    }

    async fn get_repository(
        &self,
        workspace: &WorkspaceId,
        id: &RepositoryId,
    ) -> Result<Option<Repository>, StoreError> {
        let s = self.lock();
        Ok(s.repositories
            .repos
            .get(id)
            .filter(|r| &r.workspace_id == workspace)
            .cloned())
    }

    async fn get_repository_by_name(
        &self,
        workspace: &WorkspaceId,
        name: &RepoName,
    ) -> Result<Option<Repository>, StoreError> {
        let s = self.lock();
        let key = name.key();
        Ok(s.repositories
            .repos
            .values()
            .find(|r| &r.workspace_id == workspace && r.name.key() == key)
            .cloned())
    }

    async fn list_repositories(
        &self,
        workspace: &WorkspaceId,
        query: &RepoQuery,
    ) -> Result<Vec<Repository>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<Repository> = s
            .repositories
            .repos
            .values()
            .filter(|r| &r.workspace_id == workspace && query.matches(r) && after_cursor(r, query))
            .cloned()
            .collect();
        match query.sort {
            RepoSort::Name => rows.sort_by_key(|r| r.name.key()),
            RepoSort::Updated => {
                rows.sort_by(|a, b| (b.updated_at.0, &b.id).cmp(&(a.updated_at.0, &a.id)))
            }
            RepoSort::Created => {
                rows.sort_by(|a, b| (b.created_at.0, &b.id).cmp(&(a.created_at.0, &a.id)))
            }
        }
        rows.truncate(query.limit as usize + 1);
        Ok(rows)
    }

    async fn update_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(stored) = s
            .repositories
            .repos
            .get(&repo.id)
            .filter(|r| r.workspace_id == repo.workspace_id)
            .cloned()
        else {
            return Err(StoreError::NotFound(format!("repository '{}'", repo.id)));
        };
        if s.repositories.name_taken(repo) {
            return Err(StoreError::AlreadyExists(format!(
                "repository '{}'",
                repo.name
            )));
        }
        let mut updated = repo.clone();
        updated.created_at = stored.created_at;
        updated.created_by = stored.created_by;
        s.repositories.repos.insert(repo.id.clone(), updated);
        s.repositories.job(job_id, repo);
        Ok(())
    }

    async fn pending_repository_index_jobs(
        &self,
        limit: u32,
    ) -> Result<Vec<RepositoryIndexJob>, StoreError> {
        let s = self.lock();
        let mut jobs: Vec<&(i64, RepositoryIndexJob)> = s.repositories.outbox.values().collect();
        jobs.sort_by_key(|(n, _)| *n);
        Ok(jobs
            .into_iter()
            .take(limit as usize)
            .map(|(_, j)| j.clone())
            .collect())
    }

    async fn complete_repository_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
        let mut s = self.lock();
        for id in ids {
            s.repositories.outbox.remove(id);
        }
        Ok(())
    }

    async fn repositories_after(
        &self,
        after: Option<&RepositoryId>,
        limit: u32,
    ) -> Result<Vec<Repository>, StoreError> {
        let s = self.lock();
        Ok(s.repositories
            .repos
            .values()
            .filter(|r| after.is_none_or(|a| &r.id > a))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn repositories_with_api(
        &self,
        workspace: &WorkspaceId,
        relation: &str,
        api: &str,
    ) -> Result<Vec<Repository>, StoreError> {
        let s = self.lock();
        let mut rows: Vec<Repository> = s
            .repositories
            .repos
            .values()
            .filter(|r| {
                &r.workspace_id == workspace
                    && match relation {
                        "provides" => r.provides_apis.iter().any(|a| a == api),
                        "consumes" => r.consumes_apis.iter().any(|a| a == api),
                        _ => false,
                    }
            })
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.name.key());
        rows.truncate(1000);
        Ok(rows)
    }

    async fn create_template(&self, template: &RepoTemplate) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&template.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                template.workspace_id
            )));
        }
        let taken = s.repositories.templates.values().any(|t| {
            t.workspace_id == template.workspace_id
                && (t.name == template.name || t.id == template.id)
        });
        if taken {
            return Err(StoreError::AlreadyExists(format!(
                "template '{}'",
                template.name
            )));
        }
        s.repositories
            .templates
            .insert(template.id.clone(), template.clone());
        Ok(())
    }

    async fn get_template(
        &self,
        workspace: &WorkspaceId,
        id_or_name: &str,
    ) -> Result<Option<RepoTemplate>, StoreError> {
        let s = self.lock();
        Ok(s.repositories
            .templates
            .values()
            .find(|t| &t.workspace_id == workspace && (t.id == id_or_name || t.name == id_or_name))
            .cloned())
    }

    async fn list_templates(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<RepoTemplate>, StoreError> {
        let s = self.lock();
        let mut out: Vec<RepoTemplate> = s
            .repositories
            .templates
            .values()
            .filter(|t| &t.workspace_id == workspace)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn get_policy(&self, workspace: &WorkspaceId) -> Result<RepoPolicy, StoreError> {
        let s = self.lock();
        Ok(s.repositories
            .policies
            .get(workspace)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_policy(
        &self,
        workspace: &WorkspaceId,
        policy: &RepoPolicy,
        _at: orbit_core::Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(workspace) {
            return Err(StoreError::NotFound(format!("workspace '{workspace}'")));
        }
        s.repositories
            .policies
            .insert(workspace.clone(), policy.clone());
        Ok(())
    }
}
