use crate::StoreError;
use async_trait::async_trait;
use orbit_core::WorkspaceId;
use orbit_core::repository::{
    RepoName, RepoPolicy, RepoQuery, RepoTemplate, Repository, RepositoryId,
};

/// A repository whose search document must be brought up to date (the repositories'
/// transactional outbox, applied by the search indexer like the pages' one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryIndexJob {
    pub id: String,
    pub workspace_id: WorkspaceId,
    /// The repository to index, or to remove from the index when it no longer exists.
    pub repository_id: RepositoryId,
}

/// The repository catalog.
///
/// Invariants every implementation keeps (checked by the contract suite):
/// - every query is scoped to one workspace: an id from another workspace is not found;
/// - names are unique in a workspace regardless of case (`AlreadyExists` names the name);
/// - each write records a [`RepositoryIndexJob`] in the same transaction;
/// - `list` applies every filter of [`RepoQuery`] exactly as [`RepoQuery::matches`] says,
///   orders by the query's sort (name key ascending; or time descending then id
///   descending), starts strictly after the cursor and returns at most `limit + 1` rows.
#[async_trait]
pub trait RepositoryStore: Send + Sync + 'static {
    /// `AlreadyExists` if the name is taken in the workspace; `NotFound` if the workspace
    /// is gone.
    async fn create_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError>;
    async fn get_repository(
        &self,
        workspace: &WorkspaceId,
        id: &RepositoryId,
    ) -> Result<Option<Repository>, StoreError>;
    /// Looks a repository up by name, case-insensitively.
    async fn get_repository_by_name(
        &self,
        workspace: &WorkspaceId,
        name: &RepoName,
    ) -> Result<Option<Repository>, StoreError>;
    async fn list_repositories(
        &self,
        workspace: &WorkspaceId,
        query: &RepoQuery,
    ) -> Result<Vec<Repository>, StoreError>;
    /// Saves every field but id, workspace, creation time and creator. `NotFound` if the
    /// repository is gone; `AlreadyExists` if a rename takes another repository's name.
    async fn update_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError>;

    /// The oldest pending index jobs.
    async fn pending_repository_index_jobs(
        &self,
        limit: u32,
    ) -> Result<Vec<RepositoryIndexJob>, StoreError>;
    /// Marks jobs done (deletes them).
    async fn complete_repository_index_jobs(&self, ids: &[String]) -> Result<(), StoreError>;
    /// Repositories of every workspace in id order, after `after` (rebuilding the index).
    async fn repositories_after(
        &self,
        after: Option<&RepositoryId>,
        limit: u32,
    ) -> Result<Vec<Repository>, StoreError>;

    /// The workspace's repositories whose `catalog-info.yaml` names the API `api` under
    /// `relation` ("provides" or "consumes"), by name (at most 1,000).
    async fn repositories_with_api(
        &self,
        workspace: &WorkspaceId,
        relation: &str,
        api: &str,
    ) -> Result<Vec<Repository>, StoreError>;

    /// `AlreadyExists` when the workspace has a template of that name.
    async fn create_template(&self, template: &RepoTemplate) -> Result<(), StoreError>;
    /// By id or by name.
    async fn get_template(
        &self,
        workspace: &WorkspaceId,
        id_or_name: &str,
    ) -> Result<Option<RepoTemplate>, StoreError>;
    /// Every template of the workspace, by name.
    async fn list_templates(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<RepoTemplate>, StoreError>;
    /// The workspace's policy (the default, restricting nothing, when none was set).
    async fn get_policy(&self, workspace: &WorkspaceId) -> Result<RepoPolicy, StoreError>;
    async fn put_policy(
        &self,
        workspace: &WorkspaceId,
        policy: &RepoPolicy,
        at: orbit_core::Timestamp,
    ) -> Result<(), StoreError>;
}
