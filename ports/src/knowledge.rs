use crate::StoreError;
use async_trait::async_trait;
use orbit_core::knowledge::{Page, PageSummary, PathSlug, Revision, RevisionSummary, Space};
use orbit_core::{PageId, SpaceId, UserId, WorkspaceId};

/// A page whose search document must be brought up to date (the transactional outbox
/// between the database and the search index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexJob {
    pub id: String,
    pub workspace_id: WorkspaceId,
    /// The page to index, or to remove from the index when it no longer exists.
    pub page_id: PageId,
}

/// A page revision's body as rendered by one version of the renderer, kept so that reads do
/// not render again (rendering and sanitizing a page costs far more than reading it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRender {
    /// The page revision that was rendered.
    pub revision: i64,
    /// The renderer's version: a rendering by another version is not used.
    pub renderer: i64,
    pub html: String,
    /// (level 1–6, text, anchor id), in document order.
    pub headings: Vec<(u8, String, String)>,
}

/// Knowledge spaces, pages and their revisions.
///
/// Invariants every implementation keeps (checked by the contract suite):
/// - every query is scoped to one workspace: an id from another workspace is not found;
/// - each page write (create, update, restore, delete, and deleting a space) records an
///   [`IndexJob`] in the same transaction, so the search index can never silently miss it;
/// - a page created or saved is stored with its rendering in the same transaction: a read
///   right after a save finds the rendering of the revision it reads;
/// - `update_page` is a compare-and-set on the revision: it returns [`StoreError::Stale`]
///   with the current revision when `base_revision` is not the stored one;
/// - page slugs are unique among siblings (`AlreadyExists`); a move never makes a page its
///   own ancestor (`Refused`), even under concurrent moves; a page with children cannot be
///   deleted (`Refused`).
#[async_trait]
pub trait KnowledgeStore: Send + Sync + 'static {
    /// `AlreadyExists` if the slug is taken in the workspace.
    async fn create_space(&self, space: &Space, members: &[UserId]) -> Result<(), StoreError>;
    async fn get_space(
        &self,
        workspace: &WorkspaceId,
        id: &SpaceId,
    ) -> Result<Option<Space>, StoreError>;
    async fn get_space_by_slug(
        &self,
        workspace: &WorkspaceId,
        slug: &PathSlug,
    ) -> Result<Option<Space>, StoreError>;
    /// Every space of the workspace, ordered by slug.
    async fn list_spaces(&self, workspace: &WorkspaceId) -> Result<Vec<Space>, StoreError>;
    /// Saves name, description, visibility and update time.
    async fn update_space(&self, space: &Space) -> Result<(), StoreError>;
    /// Replaces the members of a (restricted) space.
    async fn set_space_members(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
        members: &[UserId],
    ) -> Result<(), StoreError>;
    async fn space_members(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<Vec<UserId>, StoreError>;
    /// The restricted spaces of the workspace that list `user` as a member.
    async fn member_spaces(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<SpaceId>, StoreError>;
    /// Deletes the space, its pages and their revisions; records an index job per page,
    /// with id `"{job_prefix}:{page_id}"`. `NotFound` if absent.
    async fn delete_space(
        &self,
        workspace: &WorkspaceId,
        id: &SpaceId,
        job_prefix: &str,
    ) -> Result<Vec<PageId>, StoreError>;

    /// Inserts a page, its first revision and its rendering, in one transaction. A negative
    /// `sort_order` places it after its last sibling. `NotFound` if the space, or the parent
    /// in that space, does not exist; `AlreadyExists` if a sibling has the slug.
    async fn create_page(
        &self,
        page: &Page,
        first: &Revision,
        render: &StoredRender,
        job_id: &str,
    ) -> Result<(), StoreError>;
    async fn get_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
    ) -> Result<Option<Page>, StoreError>;
    /// The page with its stored rendering (of whichever revision was stored last, if any), in
    /// one read; `None` if the page is not in the workspace.
    async fn get_page_with_render(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
    ) -> Result<Option<(Page, Option<StoredRender>)>, StoreError>;
    /// Keeps a rendering of the page, replacing a stored one of an older or the same
    /// revision (never a newer one). Does nothing if the page is not in the workspace.
    async fn put_render(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        render: &StoredRender,
    ) -> Result<(), StoreError>;
    /// The pages of a space whose parent is one of `parents` (`None` stands for the top
    /// level), without bodies, in no particular order, each with whether it has children.
    async fn list_children(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
        parents: &[Option<PageId>],
    ) -> Result<Vec<(PageSummary, bool)>, StoreError>;
    /// How many pages the space has.
    async fn count_pages(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<u64, StoreError>;
    /// All pages of a space (without bodies), in no particular order.
    async fn list_pages(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<Vec<PageSummary>, StoreError>;
    /// Saves a new revision of the page (title, slug, body, revision, update time and
    /// author taken from `page`) and its rendering, in one transaction, if the stored
    /// revision is `base_revision` (otherwise nothing is written).
    async fn update_page(
        &self,
        page: &Page,
        revision: &Revision,
        render: &StoredRender,
        base_revision: i64,
        job_id: &str,
    ) -> Result<(), StoreError>;
    /// Moves a page under `parent` (None: the space's root) and renumbers the new siblings
    /// in the order given by `siblings` (which includes the page itself).
    async fn move_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        parent: Option<&PageId>,
        siblings: &[PageId],
    ) -> Result<(), StoreError>;
    /// Deletes a page without children, with its revisions.
    async fn delete_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        job_id: &str,
    ) -> Result<(), StoreError>;
    /// Revisions newest first, strictly older than `before` when given, at most `limit + 1`.
    async fn list_revisions(
        &self,
        workspace: &WorkspaceId,
        page: &PageId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RevisionSummary>, StoreError>;
    async fn get_revision(
        &self,
        workspace: &WorkspaceId,
        page: &PageId,
        revision: i64,
    ) -> Result<Option<Revision>, StoreError>;

    /// The oldest pending index jobs.
    async fn pending_index_jobs(&self, limit: u32) -> Result<Vec<IndexJob>, StoreError>;
    /// Marks jobs done (deletes them).
    async fn complete_index_jobs(&self, ids: &[String]) -> Result<(), StoreError>;
    /// Pages of every workspace in id order, after `after` (for rebuilding the index).
    async fn pages_after(
        &self,
        after: Option<&PageId>,
        limit: u32,
    ) -> Result<Vec<Page>, StoreError>;
}
