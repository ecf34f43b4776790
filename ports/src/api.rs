use crate::StoreError;
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_core::api::{
    Api, ApiFilter, ApiId, ApiPolicy, ApiVersion, ApiVersionSummary, Consumer, SemVer,
};
use orbit_core::knowledge::PathSlug;

/// An API whose search document must be brought up to date (the API catalog's side of the
/// search outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiIndexJob {
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub api_id: ApiId,
}

/// The API catalog: APIs, their published versions (immutable), consumers and the
/// workspace's publishing policy.
///
/// Invariants every implementation keeps (checked by the contract suite):
/// - every query is scoped to one workspace: an id from another workspace is not found;
/// - slugs are unique per workspace (`AlreadyExists`);
/// - a version, once published, is never changed: publishing the same version again is
///   `AlreadyExists`, and nothing is written;
/// - writes that change what search shows (create, update, publish) record an
///   [`ApiIndexJob`] in the same transaction;
/// - lists are ordered by slug and start strictly after the cursor; they return at most
///   `limit + 1` rows so callers can tell whether another page follows.
#[async_trait]
pub trait ApiStore: Send + Sync + 'static {
    /// `AlreadyExists` if the slug is taken in the workspace.
    async fn create_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError>;
    async fn get_api(&self, workspace: &WorkspaceId, id: &ApiId)
    -> Result<Option<Api>, StoreError>;
    async fn get_api_by_slug(
        &self,
        workspace: &WorkspaceId,
        slug: &PathSlug,
    ) -> Result<Option<Api>, StoreError>;
    /// APIs matching every filter, by slug, after `after` (a slug), at most `limit + 1`.
    async fn list_apis(
        &self,
        workspace: &WorkspaceId,
        filter: &ApiFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Api>, StoreError>;
    /// Saves name, description, owner, tags, lifecycle, deprecation note and update time.
    /// `NotFound` if the API is gone.
    async fn update_api(&self, api: &Api, job_id: &str) -> Result<(), StoreError>;
    /// Stores a new version with its files, and sets the API's `latest_version`,
    /// `search_terms` and `updated_at` from `api`, atomically. `AlreadyExists` if the
    /// version exists; `NotFound` if the API is gone.
    async fn publish_version(
        &self,
        api: &Api,
        version: &ApiVersion,
        job_id: &str,
    ) -> Result<(), StoreError>;
    async fn get_version(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
        version: &SemVer,
    ) -> Result<Option<ApiVersion>, StoreError>;
    /// Every version of the API (without files), in no particular order.
    async fn list_versions(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
    ) -> Result<Vec<ApiVersionSummary>, StoreError>;

    /// Adds or replaces (by repository) a consumer of the API. `NotFound` if the API is gone.
    async fn put_consumer(&self, consumer: &Consumer) -> Result<(), StoreError>;
    /// `NotFound` if the repository is not a consumer.
    async fn remove_consumer(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
        repository: &str,
    ) -> Result<(), StoreError>;
    /// Consumers ordered by repository.
    async fn list_consumers(
        &self,
        workspace: &WorkspaceId,
        api: &ApiId,
    ) -> Result<Vec<Consumer>, StoreError>;

    /// The workspace's policy (the default when never set).
    async fn get_policy(&self, workspace: &WorkspaceId) -> Result<ApiPolicy, StoreError>;
    async fn set_policy(
        &self,
        workspace: &WorkspaceId,
        policy: &ApiPolicy,
        at: orbit_core::Timestamp,
    ) -> Result<(), StoreError>;

    /// The oldest pending index jobs.
    async fn pending_api_index_jobs(&self, limit: u32) -> Result<Vec<ApiIndexJob>, StoreError>;
    /// Marks jobs done (deletes them).
    async fn complete_api_index_jobs(&self, ids: &[String]) -> Result<(), StoreError>;
    /// APIs of every workspace in id order after `after` (for rebuilding the index).
    async fn apis_after(&self, after: Option<&ApiId>, limit: u32) -> Result<Vec<Api>, StoreError>;
}
