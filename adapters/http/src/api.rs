//! The Connect handlers: decode nothing, validate nothing themselves. Each converts the
//! request into a use-case call and the result into a response message.

use crate::AppState;
use crate::connect::route;
use crate::proto::v1 as pb;
use axum::Router;
use orbit_core::{
    Actor, ApiToken, Member, NewUser, PageRequest, Result, Role, Timestamp, User, Workspace,
    WorkspacePatch,
};
use orbit_services::WorkspaceRef;

pub fn timestamp(t: Timestamp) -> pbjson_types::Timestamp {
    pbjson_types::Timestamp {
        seconds: t.0.div_euclid(1000),
        nanos: (t.0.rem_euclid(1000) * 1_000_000) as i32,
    }
}

fn role_to_pb(role: Role) -> i32 {
    let role = match role {
        Role::Owner => pb::Role::Owner,
        Role::Admin => pb::Role::Admin,
        Role::Member => pb::Role::Member,
        Role::Viewer => pb::Role::Viewer,
    };
    role as i32
}

fn role_from_pb(role: i32) -> Option<Role> {
    match pb::Role::try_from(role).ok()? {
        pb::Role::Owner => Some(Role::Owner),
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Member => Some(Role::Member),
        pb::Role::Viewer => Some(Role::Viewer),
        pb::Role::Unspecified => None,
    }
}

fn workspace_to_pb((w, role): (Workspace, Role)) -> pb::Workspace {
    pb::Workspace {
        id: w.id.to_string(),
        slug: w.slug.to_string(),
        name: w.name,
        description: w.description,
        create_time: Some(timestamp(w.created_at)),
        update_time: Some(timestamp(w.updated_at)),
        role: role_to_pb(role),
    }
}

fn member_to_pb(m: Member) -> pb::Member {
    pb::Member {
        workspace_id: m.membership.workspace_id.to_string(),
        user_id: m.membership.user_id.to_string(),
        login: m.login,
        display_name: m.display_name,
        role: role_to_pb(m.membership.role),
        create_time: Some(timestamp(m.membership.created_at)),
    }
}

fn user_to_pb(u: User) -> pb::User {
    pb::User {
        id: u.id.to_string(),
        login: u.login.as_str().to_owned(),
        display_name: u.display_name,
        email: u.email,
        instance_admin: u.instance_admin,
        create_time: Some(timestamp(u.created_at)),
    }
}

fn token_to_pb(t: ApiToken) -> pb::ApiToken {
    pb::ApiToken {
        id: t.id.to_string(),
        name: t.name,
        prefix: t.prefix,
        create_time: Some(timestamp(t.created_at)),
        expire_time: t.expires_at.map(timestamp),
        last_used_time: t.last_used_at.map(timestamp),
    }
}

// --- WorkspaceService ---

async fn create_workspace(
    s: AppState,
    a: Actor,
    r: pb::CreateWorkspaceRequest,
) -> Result<pb::CreateWorkspaceResponse> {
    let ws = s
        .services
        .workspaces
        .create(&a, &r.slug, &r.name, &r.description)
        .await?;
    Ok(pb::CreateWorkspaceResponse {
        workspace: Some(workspace_to_pb(ws)),
    })
}

async fn get_workspace(
    s: AppState,
    a: Actor,
    r: pb::GetWorkspaceRequest,
) -> Result<pb::GetWorkspaceResponse> {
    use pb::get_workspace_request::Ref;
    let reference = match r.r#ref {
        Some(Ref::Id(id)) => WorkspaceRef::Id(id),
        Some(Ref::Slug(slug)) => WorkspaceRef::Slug(slug),
        None => return Err(orbit_core::Error::invalid("id or slug", "is required")),
    };
    let ws = s.services.workspaces.get(&a, &reference).await?;
    Ok(pb::GetWorkspaceResponse {
        workspace: Some(workspace_to_pb(ws)),
    })
}

async fn list_workspaces(
    s: AppState,
    a: Actor,
    r: pb::ListWorkspacesRequest,
) -> Result<pb::ListWorkspacesResponse> {
    let page = PageRequest::parse(r.page_size, &r.page_token)?;
    let page = s.services.workspaces.list(&a, &page).await?;
    Ok(pb::ListWorkspacesResponse {
        workspaces: page.items.into_iter().map(workspace_to_pb).collect(),
        next_page_token: page.next.unwrap_or_default(),
    })
}

async fn update_workspace(
    s: AppState,
    a: Actor,
    r: pb::UpdateWorkspaceRequest,
) -> Result<pb::UpdateWorkspaceResponse> {
    let patch = WorkspacePatch {
        name: r.name,
        description: r.description,
    };
    let ws = s.services.workspaces.update(&a, &r.id, patch).await?;
    Ok(pb::UpdateWorkspaceResponse {
        workspace: Some(workspace_to_pb(ws)),
    })
}

async fn delete_workspace(
    s: AppState,
    a: Actor,
    r: pb::DeleteWorkspaceRequest,
) -> Result<pb::DeleteWorkspaceResponse> {
    s.services
        .workspaces
        .delete(&a, &r.id, &r.confirm_slug)
        .await?;
    Ok(pb::DeleteWorkspaceResponse {})
}

async fn add_member(
    s: AppState,
    a: Actor,
    r: pb::AddMemberRequest,
) -> Result<pb::AddMemberResponse> {
    let m = s
        .services
        .workspaces
        .add_member(&a, &r.workspace_id, &r.user, role_from_pb(r.role))
        .await?;
    Ok(pb::AddMemberResponse {
        member: Some(member_to_pb(m)),
    })
}

async fn list_members(
    s: AppState,
    a: Actor,
    r: pb::ListMembersRequest,
) -> Result<pb::ListMembersResponse> {
    let page = PageRequest::parse(r.page_size, &r.page_token)?;
    let page = s
        .services
        .workspaces
        .list_members(&a, &r.workspace_id, &page)
        .await?;
    Ok(pb::ListMembersResponse {
        members: page.items.into_iter().map(member_to_pb).collect(),
        next_page_token: page.next.unwrap_or_default(),
    })
}

async fn update_member_role(
    s: AppState,
    a: Actor,
    r: pb::UpdateMemberRoleRequest,
) -> Result<pb::UpdateMemberRoleResponse> {
    let m = s
        .services
        .workspaces
        .update_member_role(&a, &r.workspace_id, &r.user_id, role_from_pb(r.role))
        .await?;
    Ok(pb::UpdateMemberRoleResponse {
        member: Some(member_to_pb(m)),
    })
}

async fn remove_member(
    s: AppState,
    a: Actor,
    r: pb::RemoveMemberRequest,
) -> Result<pb::RemoveMemberResponse> {
    s.services
        .workspaces
        .remove_member(&a, &r.workspace_id, &r.user_id)
        .await?;
    Ok(pb::RemoveMemberResponse {})
}

// --- UserService ---

async fn create_user(
    s: AppState,
    a: Actor,
    r: pb::CreateUserRequest,
) -> Result<pb::CreateUserResponse> {
    let input = NewUser {
        login: r.login,
        display_name: r.display_name,
        email: r.email,
        instance_admin: r.instance_admin,
    };
    let user = s.services.users.create(&a, input).await?;
    Ok(pb::CreateUserResponse {
        user: Some(user_to_pb(user)),
    })
}

async fn get_user(s: AppState, a: Actor, r: pb::GetUserRequest) -> Result<pb::GetUserResponse> {
    let user = s.services.users.get(&a, &r.user).await?;
    Ok(pb::GetUserResponse {
        user: Some(user_to_pb(user)),
    })
}

async fn list_users(
    s: AppState,
    a: Actor,
    r: pb::ListUsersRequest,
) -> Result<pb::ListUsersResponse> {
    let page = PageRequest::parse(r.page_size, &r.page_token)?;
    let page = s.services.users.list(&a, &page).await?;
    Ok(pb::ListUsersResponse {
        users: page.items.into_iter().map(user_to_pb).collect(),
        next_page_token: page.next.unwrap_or_default(),
    })
}

// --- AuthService ---

async fn who_am_i(_s: AppState, a: Actor, _r: pb::WhoAmIRequest) -> Result<pb::WhoAmIResponse> {
    Ok(pb::WhoAmIResponse {
        token_id: a.token_id.map(|t| t.to_string()).unwrap_or_default(),
        user: Some(user_to_pb(a.user)),
    })
}

async fn create_token(
    s: AppState,
    a: Actor,
    r: pb::CreateTokenRequest,
) -> Result<pb::CreateTokenResponse> {
    let (token, secret) = s
        .services
        .tokens
        .create(&a, &r.name, r.ttl_seconds, &r.user)
        .await?;
    Ok(pb::CreateTokenResponse {
        token: Some(token_to_pb(token)),
        secret,
    })
}

async fn list_tokens(
    s: AppState,
    a: Actor,
    _r: pb::ListTokensRequest,
) -> Result<pb::ListTokensResponse> {
    let tokens = s.services.tokens.list(&a).await?;
    Ok(pb::ListTokensResponse {
        tokens: tokens
            .into_iter()
            .filter(|t| t.revoked_at.is_none())
            .map(token_to_pb)
            .collect(),
    })
}

async fn revoke_token(
    s: AppState,
    a: Actor,
    r: pb::RevokeTokenRequest,
) -> Result<pb::RevokeTokenResponse> {
    s.services.tokens.revoke(&a, &r.id).await?;
    Ok(pb::RevokeTokenResponse {})
}

/// Every Connect route Orbit serves.
pub fn routes(state: &AppState) -> Router<AppState> {
    let r = Router::new();
    let ws = "orbit.v1.WorkspaceService";
    let r = route(r, state, ws, "CreateWorkspace", create_workspace);
    let r = route(r, state, ws, "GetWorkspace", get_workspace);
    let r = route(r, state, ws, "ListWorkspaces", list_workspaces);
    let r = route(r, state, ws, "UpdateWorkspace", update_workspace);
    let r = route(r, state, ws, "DeleteWorkspace", delete_workspace);
    let r = route(r, state, ws, "AddMember", add_member);
    let r = route(r, state, ws, "ListMembers", list_members);
    let r = route(r, state, ws, "UpdateMemberRole", update_member_role);
    let r = route(r, state, ws, "RemoveMember", remove_member);
    let us = "orbit.v1.UserService";
    let r = route(r, state, us, "CreateUser", create_user);
    let r = route(r, state, us, "GetUser", get_user);
    let r = route(r, state, us, "ListUsers", list_users);
    let au = "orbit.v1.AuthService";
    let r = route(r, state, au, "WhoAmI", who_am_i);
    let r = route(r, state, au, "CreateToken", create_token);
    let r = route(r, state, au, "ListTokens", list_tokens);
    let r = route(r, state, au, "RevokeToken", revoke_token);
    let r = crate::api_knowledge::routes(state, r);
    let r = crate::api_repositories::routes(state, r);
    let r = crate::api_githost::routes(state, r);
    let r = crate::api_apis::routes(state, r);
    let r = crate::api_artifacts::routes(state, r);
    crate::api_workflows::routes(state, r)
}

/// The paths of every method declared in `proto/` (for tests that must cover them all).
pub fn method_paths() -> Vec<String> {
    use prost::Message;
    let fds =
        prost_types::FileDescriptorSet::decode(crate::proto::DESCRIPTOR_SET).unwrap_or_default();
    let mut paths = Vec::new();
    for file in fds
        .file
        .iter()
        .filter(|f| f.package().starts_with("orbit."))
    {
        for svc in &file.service {
            for m in &svc.method {
                paths.push(format!("/{}.{}/{}", file.package(), svc.name(), m.name()));
            }
        }
    }
    paths
}
