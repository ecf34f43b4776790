//! `ApiStore` in memory, with the same rules as the SQL stores.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::api::{
    Api, ApiFilter, ApiId, ApiPolicy, ApiVersion, ApiVersionSummary, Consumer, SemVer,
};
use orbit_core::knowledge::PathSlug;
use orbit_core::{Timestamp, WorkspaceId};
use orbit_ports::{ApiIndexJob, ApiStore, StoreError};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub(crate) struct ApiState {
    apis: BTreeMap<ApiId, Api>,
    versions: BTreeMap<(ApiId, String), ApiVersion>,
    consumers: BTreeMap<(ApiId, String), Consumer>,
    policies: HashMap<WorkspaceId, ApiPolicy>,
    outbox: BTreeMap<String, (i64, ApiIndexJob)>,
    next_job: i64,
}

impl ApiState {
    pub(crate) fn remove_workspace(&mut self, workspace: &WorkspaceId) {
        self.apis.retain(|_, a| &a.workspace_id != workspace);
        self.versions.retain(|_, v| &v.workspace_id != workspace);
        self.consumers.retain(|_, c| &c.workspace_id != workspace);
        self.policies.remove(workspace);
    }

    fn job(&mut self, id: &str, api: &Api) {
        self.next_job += 1;
        self.outbox.insert(
            id.to_owned(),
            (
                self.next_job,
                ApiIndexJob {
                    id: id.to_owned(),
                    workspace_id: api.workspace_id.clone(),
                    api_id: api.id.clone(),
                },
            ),
        );
    }

    fn api_in(&self, workspace: &WorkspaceId, id: &ApiId) -> Result<&Api, StoreError> {
        self.apis
            .get(id)
            .filter(|a| &a.workspace_id == workspace)
            .ok_or_else(|| StoreError::NotFound(format!("API '{id}'")))
    }
}

#[async_trait]
impl ApiStore for MemoryStore {
    async fn create_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&api.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                api.workspace_id
            )));
        }
        let st = &mut s.apis;
        if st
            .apis
            .values()
            .any(|a| a.workspace_id == api.workspace_id && a.slug == api.slug)
        {
            return Err(StoreError::AlreadyExists(format!(
                "API slug '{}'",
                api.slug
            )));
        }
        st.apis.insert(api.id.clone(), api.clone());
        st.job(job_id, api);
        Ok(())
    }

    async fn get_api(
        &self,
        workspace: &WorkspaceId,
        id: &ApiId,
    ) -> Result<Option<Api>, StoreError> {
        Ok(self.lock().apis.api_in(workspace, id).ok().cloned())
    }

    async fn get_api_by_slug(
        &self,
        workspace: &WorkspaceId,
        slug: &PathSlug,
    ) -> Result<Option<Api>, StoreError> {
        Ok(self
            .lock()
            .apis
            .apis
            .values()
            .find(|a| &a.workspace_id == workspace && &a.slug == slug)
            .cloned())
    }

    async fn list_apis(
        &self,
        workspace: &WorkspaceId,
        filter: &ApiFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Api>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Api> = s
            .apis
            .apis
            .values()
            .filter(|a| &a.workspace_id == workspace)
            .filter(|a| after.is_none_or(|x| a.slug.as_str() > x))
            .filter(|a| filter.format.is_none_or(|f| a.format == f))
            .filter(|a| filter.owner.as_ref().is_none_or(|o| &a.owner == o))
            .filter(|a| filter.lifecycle.is_none_or(|l| a.lifecycle == l))
            .filter(|a| filter.tag.as_ref().is_none_or(|t| a.tags.contains(t)))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.slug.cmp(&b.slug));
        out.truncate(limit as usize + 1);
        Ok(out)
    }

    async fn update_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        let st = &mut s.apis;
        let stored = st
            .apis
            .get_mut(&api.id)
            .filter(|a| a.workspace_id == api.workspace_id)
            .ok_or_else(|| StoreError::NotFound(format!("API '{}'", api.id)))?;
        stored.name = api.name.clone();
        stored.description = api.description.clone();
        stored.owner = api.owner.clone();
        stored.tags = api.tags.clone();
        stored.lifecycle = api.lifecycle;
        stored.deprecation_note = api.deprecation_note.clone();
        stored.updated_at = api.updated_at;
        st.job(job_id, api);
        Ok(())
    }

    async fn publish_version(
        &self,
        api: &Api,
        version: &ApiVersion,
        job_id: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let st = &mut s.apis;
        st.api_in(&api.workspace_id, &api.id)?;
        let key = (api.id.clone(), version.version.to_string());
        if st.versions.contains_key(&key) {
            return Err(StoreError::AlreadyExists(format!(
                "version {} of API '{}'",
                version.version, api.slug
            )));
        }
        st.versions.insert(key, version.clone());
        if let Some(stored) = st.apis.get_mut(&api.id) {
            stored.latest_version = api.latest_version.clone();
            stored.search_terms = api.search_terms.clone();
            stored.updated_at = api.updated_at;
        }
        st.job(job_id, api);
        Ok(())
    }

    async fn get_version(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
        version: &SemVer,
    ) -> Result<Option<ApiVersion>, StoreError> {
        Ok(self
            .lock()
            .apis
            .versions
            .get(&(api.clone(), version.to_string()))
            .filter(|v| &v.workspace_id == workspace)
            .cloned())
    }

    async fn list_versions(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
    ) -> Result<Vec<ApiVersionSummary>, StoreError> {
        Ok(self
            .lock()
            .apis
            .versions
            .values()
            .filter(|v| &v.api_id == api && &v.workspace_id == workspace)
            .map(|v| ApiVersionSummary {
                version: v.version.clone(),
                content_hash: v.content_hash.clone(),
                release_notes: v.release_notes.clone(),
                breaking_changes: v.breaking_changes,
                total_bytes: v.files.iter().map(|f| f.content.len() as i64).sum(),
                published_at: v.published_at,
                published_by: v.published_by.clone(),
            })
            .collect())
    }

    async fn put_consumer(&self, consumer: &Consumer) -> Result<(), StoreError> {
        let mut s = self.lock();
        let st = &mut s.apis;
        st.api_in(&consumer.workspace_id, &consumer.api_id)?;
        st.consumers.insert(
            (consumer.api_id.clone(), consumer.repository.clone()),
            consumer.clone(),
        );
        Ok(())
    }

    async fn remove_consumer(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
        repository: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let key = (api.clone(), repository.to_owned());
        match s.apis.consumers.get(&key) {
            Some(c) if &c.workspace_id == workspace => {
                s.apis.consumers.remove(&key);
                Ok(())
            }
            _ => Err(StoreError::NotFound(format!("consumer '{repository}'"))),
        }
    }

    async fn list_consumers(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
    ) -> Result<Vec<Consumer>, StoreError> {
        Ok(self
            .lock()
            .apis
            .consumers
            .values()
            .filter(|c| &c.api_id == api && &c.workspace_id == workspace)
            .cloned()
            .collect())
    }

    async fn get_policy(&self, workspace: &WorkspaceId) -> Result<ApiPolicy, StoreError> {
        Ok(self
            .lock()
            .apis
            .policies
            .get(workspace)
            .copied()
            .unwrap_or_default())
    }

    async fn set_policy(
        &self,
        workspace: &WorkspaceId,
        policy: &ApiPolicy,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(workspace) {
            return Err(StoreError::NotFound(format!("workspace '{workspace}'")));
        }
        s.apis.policies.insert(workspace.clone(), *policy);
        Ok(())
    }

    async fn pending_api_index_jobs(&self, limit: u32) -> Result<Vec<ApiIndexJob>, StoreError> {
        let s = self.lock();
        let mut jobs: Vec<&(i64, ApiIndexJob)> = s.apis.outbox.values().collect();
        jobs.sort_by_key(|(n, _)| *n);
        Ok(jobs
            .into_iter()
            .take(limit as usize)
            .map(|(_, j)| j.clone())
            .collect())
    }

    async fn complete_api_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
        let mut s = self.lock();
        for id in ids {
            s.apis.outbox.remove(id);
        }
        Ok(())
    }

    async fn apis_after(&self, after: Option<&ApiId>, limit: u32) -> Result<Vec<Api>, StoreError> {
        Ok(self
            .lock()
            .apis
            .apis
            .values()
            .filter(|a| after.is_none_or(|x| &a.id > x))
            .take(limit as usize)
            .cloned()
            .collect())
    }
}
