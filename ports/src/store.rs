use async_trait::async_trait;
use orbit_core::{
    ApiToken, Member, Membership, Page, PageRequest, Role, Slug, TokenId, User, UserId, Workspace,
    WorkspaceId,
};
use thiserror::Error;

/// How a store can fail.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A unique key is taken; the payload names it for a person ("workspace slug 'x'").
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The row to change does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change would leave a workspace without an owner.
    #[error("the last owner of a workspace cannot be removed or demoted")]
    LastOwner,
    /// The row changed since the caller read it (optimistic concurrency): `current` is the
    /// revision now stored.
    #[error("the row was changed concurrently; it is now at revision {current}")]
    Stale { current: i64 },
    /// The store refuses the change for a reason stated in the message (a page with
    /// children, a move into its own subtree…).
    #[error("{0}")]
    Refused(String),
    /// The database cannot be reached; the request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; a bug or a corrupt row.
    #[error("database error: {0}")]
    Other(String),
}

/// The SHA-256 of a token secret, in lowercase hex. Stores only ever see this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

/// Workspaces and memberships.
///
/// Invariants every implementation keeps, checked by the contract suite:
/// - a write that touches several rows is atomic (`create_workspace`, `delete_workspace`);
/// - no operation leaves a workspace with zero owners: `set_member_role` and `remove_member`
///   return [`StoreError::LastOwner`] instead, even under concurrent calls;
/// - lists are ordered by their sort key (slug, login) and start strictly after
///   `PageRequest::after`; they return at most `limit + 1` rows so callers can tell
///   whether another page follows.
#[async_trait]
pub trait WorkspaceStore: Send + Sync + 'static {
    /// Inserts the workspace and its first owner together. `AlreadyExists` if the slug is taken.
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        owner: &Membership,
    ) -> Result<(), StoreError>;
    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError>;
    async fn get_workspace_by_slug(&self, slug: &Slug) -> Result<Option<Workspace>, StoreError>;
    /// The workspaces `user` is a member of, with the user's role, ordered by slug.
    async fn list_workspaces_for_user(
        &self,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Vec<(Workspace, Role)>, StoreError>;
    /// Saves name, description and update time. `NotFound` if the workspace is gone.
    async fn update_workspace(&self, workspace: &Workspace) -> Result<(), StoreError>;
    /// Deletes the workspace and every row that belongs to it, atomically. Returns the ids of
    /// the users who were members (so caches can be invalidated). `NotFound` if absent.
    async fn delete_workspace(&self, id: &WorkspaceId) -> Result<Vec<UserId>, StoreError>;

    async fn get_role(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Role>, StoreError>;
    /// `AlreadyExists` if the user is already a member; `NotFound` if the workspace or user is gone.
    async fn add_member(&self, membership: &Membership) -> Result<(), StoreError>;
    async fn get_member(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Member>, StoreError>;
    /// Members ordered by login.
    async fn list_members(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Vec<Member>, StoreError>;
    /// `NotFound` if not a member; `LastOwner` if it would demote the last owner.
    async fn set_member_role(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        role: Role,
    ) -> Result<(), StoreError>;
    /// `NotFound` if not a member; `LastOwner` if it would remove the last owner.
    async fn remove_member(&self, workspace: &WorkspaceId, user: &UserId)
    -> Result<(), StoreError>;

    /// Whether the store answers at all (for readiness checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The id of this installation: `candidate` the first time it is asked, the stored one
    /// ever after (by every process sharing the database).
    async fn instance_id(&self, candidate: &str) -> Result<String, StoreError>;
}

/// Users and their API tokens.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// `AlreadyExists` if the login is taken.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn get_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// Users ordered by login.
    async fn list_users(&self, page: &PageRequest) -> Result<Vec<User>, StoreError>;
    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Stores a token by the hash of its secret. `AlreadyExists` if the hash is known.
    async fn create_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<(), StoreError>;
    /// The token with this secret hash and its user, revoked or not.
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<(ApiToken, User)>, StoreError>;
    /// A user's tokens, newest first, revoked ones included.
    async fn list_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>, StoreError>;
    /// Marks the token revoked and returns its hash. `NotFound` if the user has no such
    /// token or it is already revoked.
    async fn revoke_token(
        &self,
        user: &UserId,
        token: &TokenId,
        at: orbit_core::Timestamp,
    ) -> Result<TokenHash, StoreError>;
    /// Records when a token was last used.
    async fn touch_token(
        &self,
        token: &TokenId,
        at: orbit_core::Timestamp,
    ) -> Result<(), StoreError>;
}

/// Convenience for tests and callers that want a whole list.
pub fn page_of<T>(rows: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    Page::from_overfetch(rows, page.limit, key)
}
