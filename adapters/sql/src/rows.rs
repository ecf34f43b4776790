//! Row types as the database returns them, and their conversion into domain values.
//! A row that does not make a valid domain value is reported as corrupt, never hidden.

use orbit_core::{
    ApiToken, Login, Member, Membership, Role, Slug, Timestamp, TokenId, User, UserId, Workspace,
    WorkspaceId,
};
use orbit_ports::StoreError;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("corrupt row: invalid {what} {value:?}"))
}

pub fn role(value: &str) -> Result<Role, StoreError> {
    Role::parse(value).ok_or_else(|| corrupt("role", value))
}

fn slug(value: &str) -> Result<Slug, StoreError> {
    Slug::parse(value).map_err(|_| corrupt("slug", value))
}

fn login(value: &str) -> Result<Login, StoreError> {
    Login::parse(value).map_err(|_| corrupt("login", value))
}

#[derive(sqlx::FromRow)]
pub struct WorkspaceRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WorkspaceRow {
    pub fn into_domain(self) -> Result<Workspace, StoreError> {
        Ok(Workspace {
            slug: slug(&self.slug)?,
            id: WorkspaceId::new(self.id),
            name: self.name,
            description: self.description,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct WorkspaceRoleRow {
    #[sqlx(flatten)]
    pub workspace: WorkspaceRow,
    pub role: String,
}

impl WorkspaceRoleRow {
    pub fn into_domain(self) -> Result<(Workspace, Role), StoreError> {
        let role = role(&self.role)?;
        Ok((self.workspace.into_domain()?, role))
    }
}

#[derive(sqlx::FromRow)]
pub struct MemberRow {
    pub workspace_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: i64,
    pub login: String,
    pub display_name: String,
}

impl MemberRow {
    pub fn into_domain(self) -> Result<Member, StoreError> {
        Ok(Member {
            membership: Membership {
                workspace_id: WorkspaceId::new(self.workspace_id),
                user_id: UserId::new(self.user_id),
                role: role(&self.role)?,
                created_at: Timestamp(self.created_at),
            },
            login: self.login,
            display_name: self.display_name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub instance_admin: bool,
    pub created_at: i64,
}

impl UserRow {
    pub fn into_domain(self) -> Result<User, StoreError> {
        Ok(User {
            login: login(&self.login)?,
            id: UserId::new(self.id),
            display_name: self.display_name,
            email: self.email,
            instance_admin: self.instance_admin,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    pub fn into_domain(self) -> ApiToken {
        ApiToken {
            id: TokenId::new(self.id),
            user_id: UserId::new(self.user_id),
            name: self.name,
            prefix: self.prefix,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            last_used_at: self.last_used_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct TokenUserRow {
    #[sqlx(flatten)]
    pub token: TokenRow,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub instance_admin: bool,
    pub user_created_at: i64,
}

impl TokenUserRow {
    pub fn into_domain(self) -> Result<(ApiToken, User), StoreError> {
        let token = self.token.into_domain();
        let user = User {
            id: token.user_id.clone(),
            login: login(&self.login)?,
            display_name: self.display_name,
            email: self.email,
            instance_admin: self.instance_admin,
            created_at: Timestamp(self.user_created_at),
        };
        Ok((token, user))
    }
}

use orbit_core::knowledge::{
    Page, PageSummary, PathSlug, Revision, RevisionSummary, Space, Visibility,
};
use orbit_core::{PageId, SpaceId};

fn path_slug(value: &str) -> Result<PathSlug, StoreError> {
    PathSlug::parse("slug", value).map_err(|_| corrupt("slug", value))
}

fn parent(value: String) -> Option<PageId> {
    (!value.is_empty()).then(|| PageId::new(value))
}

#[derive(sqlx::FromRow)]
pub struct SpaceRow {
    pub id: String,
    pub workspace_id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SpaceRow {
    pub fn into_domain(self) -> Result<Space, StoreError> {
        Ok(Space {
            visibility: Visibility::parse(&self.visibility)
                .ok_or_else(|| corrupt("visibility", &self.visibility))?,
            slug: path_slug(&self.slug)?,
            id: SpaceId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            name: self.name,
            description: self.description,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct PageRow {
    pub id: String,
    pub workspace_id: String,
    pub space_id: String,
    pub parent_id: String,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub sort_order: i64,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A page with the columns of its stored rendering (all `None` when there is none).
#[derive(sqlx::FromRow)]
pub struct PageWithRenderRow {
    #[sqlx(flatten)]
    pub page: PageRow,
    pub render_revision: Option<i64>,
    pub renderer: Option<i64>,
    pub html: Option<String>,
    pub headings: Option<String>,
}

impl PageRow {
    pub fn into_domain(self) -> Result<Page, StoreError> {
        Ok(Page {
            slug: path_slug(&self.slug)?,
            id: PageId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            space_id: SpaceId::new(self.space_id),
            parent_id: parent(self.parent_id),
            title: self.title,
            body: self.body,
            sort_order: self.sort_order,
            revision: self.revision,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            updated_by: UserId::new(self.updated_by),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct PageSummaryRow {
    pub id: String,
    pub space_id: String,
    pub parent_id: String,
    pub slug: String,
    pub title: String,
    pub sort_order: i64,
    pub revision: i64,
    pub updated_at: i64,
}

/// A page summary and whether the page has children.
#[derive(sqlx::FromRow)]
pub struct PageChildRow {
    #[sqlx(flatten)]
    pub page: PageSummaryRow,
    pub has_children: bool,
}

impl PageSummaryRow {
    pub fn into_domain(self) -> Result<PageSummary, StoreError> {
        Ok(PageSummary {
            slug: path_slug(&self.slug)?,
            id: PageId::new(self.id),
            space_id: SpaceId::new(self.space_id),
            parent_id: parent(self.parent_id),
            title: self.title,
            sort_order: self.sort_order,
            revision: self.revision,
            updated_at: Timestamp(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct RevisionRow {
    pub page_id: String,
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub author_id: String,
    pub created_at: i64,
    pub note: String,
}

impl RevisionRow {
    pub fn into_domain(self) -> Revision {
        Revision {
            page_id: PageId::new(self.page_id),
            revision: self.revision,
            title: self.title,
            body: self.body,
            author: UserId::new(self.author_id),
            created_at: Timestamp(self.created_at),
            note: self.note,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct RevisionSummaryRow {
    pub revision: i64,
    pub title: String,
    pub author_id: String,
    pub author_login: Option<String>,
    pub created_at: i64,
    pub note: String,
    pub body_chars: i64,
}

impl RevisionSummaryRow {
    pub fn into_domain(self) -> RevisionSummary {
        RevisionSummary {
            revision: self.revision,
            title: self.title,
            author: UserId::new(self.author_id),
            author_login: self.author_login.unwrap_or_default(),
            created_at: Timestamp(self.created_at),
            note: self.note,
            body_chars: self.body_chars,
        }
    }
}

use orbit_core::workflow::{RunId, RunStatus, WorkflowRun};

#[derive(sqlx::FromRow)]
pub struct RunRow {
    pub workspace_id: String,
    pub id: String,
    pub kind: String,
    pub status: String,
    pub input: String,
    pub result: Option<String>,
    pub error: Option<String>,
    pub current_step: String,
    pub steps_done: i64,
    pub steps_total: i64,
    pub started_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub attempt: i64,
    pub cancel_requested: bool,
}

impl RunRow {
    pub fn into_domain(self) -> Result<WorkflowRun, StoreError> {
        Ok(WorkflowRun {
            status: RunStatus::parse(&self.status)
                .ok_or_else(|| corrupt("status", &self.status))?,
            id: RunId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            kind: self.kind,
            input: self.input,
            result: self.result,
            error: self.error,
            current_step: self.current_step,
            steps_done: self.steps_done as u32,
            steps_total: self.steps_total as u32,
            events: Vec::new(),
            started_by: UserId::new(self.started_by),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            attempt: self.attempt as u32,
            cancel_requested: self.cancel_requested,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ApiRow {
    pub id: String,
    pub workspace_id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub tags: String,
    pub lifecycle: String,
    pub format: String,
    pub deprecation_note: String,
    pub latest_version: String,
    pub search_terms: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
}

impl ApiRow {
    pub fn into_domain(self) -> Result<orbit_core::api::Api, StoreError> {
        use orbit_core::api::{Api, ApiFormat, ApiId, Lifecycle};
        Ok(Api {
            slug: orbit_core::knowledge::PathSlug::parse("slug", &self.slug)
                .map_err(|_| corrupt("slug", &self.slug))?,
            lifecycle: Lifecycle::parse(&self.lifecycle)
                .ok_or_else(|| corrupt("lifecycle", &self.lifecycle))?,
            format: ApiFormat::parse(&self.format)
                .ok_or_else(|| corrupt("format", &self.format))?,
            id: ApiId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            name: self.name,
            description: self.description,
            owner: self.owner,
            tags: self
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            deprecation_note: self.deprecation_note,
            latest_version: self.latest_version,
            search_terms: self.search_terms,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            created_by: UserId::new(self.created_by),
        })
    }
}

pub fn semver(value: &str) -> Result<orbit_core::api::SemVer, StoreError> {
    orbit_core::api::SemVer::parse("version", value).map_err(|_| corrupt("version", value))
}

#[derive(sqlx::FromRow)]
pub struct ApiVersionRow {
    pub version: String,
    pub content_hash: String,
    pub release_notes: String,
    pub breaking_changes: i64,
    pub total_bytes: i64,
    pub published_at: i64,
    pub published_by: String,
}

impl ApiVersionRow {
    pub fn into_domain(self) -> Result<orbit_core::api::ApiVersionSummary, StoreError> {
        Ok(orbit_core::api::ApiVersionSummary {
            version: semver(&self.version)?,
            content_hash: self.content_hash,
            release_notes: self.release_notes,
            breaking_changes: self.breaking_changes,
            total_bytes: self.total_bytes,
            published_at: Timestamp(self.published_at),
            published_by: UserId::new(self.published_by),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ConsumerRow {
    pub api_id: String,
    pub workspace_id: String,
    pub repository: String,
    pub version: String,
    pub created_at: i64,
    pub created_by: String,
}

impl ConsumerRow {
    pub fn into_domain(self) -> Result<orbit_core::api::Consumer, StoreError> {
        Ok(orbit_core::api::Consumer {
            version: semver(&self.version)?,
            api_id: orbit_core::api::ApiId::new(self.api_id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            repository: self.repository,
            created_at: Timestamp(self.created_at),
            created_by: UserId::new(self.created_by),
            from_catalog_info: false,
        })
    }
}
