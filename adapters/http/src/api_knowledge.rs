//! Connect handlers of `KnowledgeService` and `SearchService`.

use crate::AppState;
use crate::api::timestamp;
use crate::connect::route;
use crate::proto::v1 as pb;
use axum::Router;
use orbit_core::knowledge::Visibility;
use orbit_core::{Actor, Error, Result};
use orbit_services::{PagePatch, PageView, SpacePatch, SpaceRef, SpaceView, TreeEntry};

fn visibility_from_pb(v: i32) -> Option<Visibility> {
    match pb::SpaceVisibility::try_from(v).ok()? {
        pb::SpaceVisibility::Workspace => Some(Visibility::Workspace),
        pb::SpaceVisibility::Restricted => Some(Visibility::Restricted),
        pb::SpaceVisibility::Unspecified => None,
    }
}

fn visibility_to_pb(v: Visibility) -> i32 {
    let v = match v {
        Visibility::Workspace => pb::SpaceVisibility::Workspace,
        Visibility::Restricted => pb::SpaceVisibility::Restricted,
    };
    v as i32
}

fn space_to_pb(v: SpaceView) -> pb::Space {
    let s = v.space;
    pb::Space {
        id: s.id.to_string(),
        workspace_id: s.workspace_id.to_string(),
        slug: s.slug.to_string(),
        name: s.name,
        description: s.description,
        visibility: visibility_to_pb(s.visibility),
        member_ids: v.members.into_iter().map(|m| m.to_string()).collect(),
        create_time: Some(timestamp(s.created_at)),
        update_time: Some(timestamp(s.updated_at)),
    }
}

fn page_to_pb(v: PageView) -> pb::Page {
    let p = v.page;
    pb::Page {
        id: p.id.to_string(),
        workspace_id: p.workspace_id.to_string(),
        space_id: p.space_id.to_string(),
        parent_id: p.parent_id.map(|x| x.to_string()).unwrap_or_default(),
        slug: p.slug.to_string(),
        title: p.title,
        body: p.body,
        html: v.rendered.html,
        revision: p.revision,
        create_time: Some(timestamp(p.created_at)),
        update_time: Some(timestamp(p.updated_at)),
        updated_by: p.updated_by.to_string(),
        headings: v
            .rendered
            .headings
            .into_iter()
            .map(|(level, text, anchor)| pb::Heading {
                level: i32::from(level),
                text,
                anchor,
            })
            .collect(),
    }
}

fn node_to_pb(e: TreeEntry) -> pb::PageNode {
    let p = e.page;
    pb::PageNode {
        id: p.id.to_string(),
        parent_id: p.parent_id.map(|x| x.to_string()).unwrap_or_default(),
        slug: p.slug.to_string(),
        title: p.title,
        depth: i32::try_from(e.depth).unwrap_or(i32::MAX),
        revision: p.revision,
        update_time: Some(timestamp(p.updated_at)),
        has_children: e.has_children,
    }
}

async fn create_space(
    s: AppState,
    a: Actor,
    r: pb::CreateSpaceRequest,
) -> Result<pb::CreateSpaceResponse> {
    let visibility = match r.visibility {
        0 => None,
        v => Some(
            visibility_from_pb(v)
                .ok_or_else(|| Error::invalid("visibility", "is not a known visibility"))?,
        ),
    };
    let v = s
        .services
        .knowledge
        .create_space(
            &a,
            &r.workspace_id,
            &r.slug,
            &r.name,
            &r.description,
            visibility,
            &r.members,
        )
        .await?;
    Ok(pb::CreateSpaceResponse {
        space: Some(space_to_pb(v)),
    })
}

async fn get_space(s: AppState, a: Actor, r: pb::GetSpaceRequest) -> Result<pb::GetSpaceResponse> {
    use pb::get_space_request::Ref;
    let reference = match r.r#ref {
        Some(Ref::Id(id)) => SpaceRef::Id(id),
        Some(Ref::Slug(slug)) => SpaceRef::Slug(slug),
        None => return Err(Error::invalid("id or slug", "is required")),
    };
    let v = s
        .services
        .knowledge
        .get_space(&a, &r.workspace_id, &reference)
        .await?;
    Ok(pb::GetSpaceResponse {
        space: Some(space_to_pb(v)),
    })
}

async fn list_spaces(
    s: AppState,
    a: Actor,
    r: pb::ListSpacesRequest,
) -> Result<pb::ListSpacesResponse> {
    let spaces = s
        .services
        .knowledge
        .list_spaces(&a, &r.workspace_id)
        .await?;
    Ok(pb::ListSpacesResponse {
        spaces: spaces.into_iter().map(space_to_pb).collect(),
    })
}

async fn update_space(
    s: AppState,
    a: Actor,
    r: pb::UpdateSpaceRequest,
) -> Result<pb::UpdateSpaceResponse> {
    let visibility = match r.visibility {
        0 => None,
        v => Some(
            visibility_from_pb(v)
                .ok_or_else(|| Error::invalid("visibility", "is not a known visibility"))?,
        ),
    };
    let patch = SpacePatch {
        name: r.name,
        description: r.description,
        visibility,
        members: r.members.map(|m| m.user_ids),
    };
    let v = s
        .services
        .knowledge
        .update_space(&a, &r.workspace_id, &r.id, patch)
        .await?;
    Ok(pb::UpdateSpaceResponse {
        space: Some(space_to_pb(v)),
    })
}

async fn delete_space(
    s: AppState,
    a: Actor,
    r: pb::DeleteSpaceRequest,
) -> Result<pb::DeleteSpaceResponse> {
    s.services
        .knowledge
        .delete_space(&a, &r.workspace_id, &r.id, &r.confirm_slug)
        .await?;
    Ok(pb::DeleteSpaceResponse {})
}

async fn create_page(
    s: AppState,
    a: Actor,
    r: pb::CreatePageRequest,
) -> Result<pb::CreatePageResponse> {
    let v = s
        .services
        .knowledge
        .create_page(
            &a,
            &r.workspace_id,
            &r.space_id,
            &r.parent_id,
            &r.title,
            &r.slug,
            &r.body,
        )
        .await?;
    Ok(pb::CreatePageResponse {
        page: Some(page_to_pb(v)),
    })
}

async fn get_page(s: AppState, a: Actor, r: pb::GetPageRequest) -> Result<pb::GetPageResponse> {
    let v = s
        .services
        .knowledge
        .get_page(&a, &r.workspace_id, &r.id)
        .await?;
    Ok(pb::GetPageResponse {
        page: Some(page_to_pb(v)),
    })
}

async fn update_page(
    s: AppState,
    a: Actor,
    r: pb::UpdatePageRequest,
) -> Result<pb::UpdatePageResponse> {
    let patch = PagePatch {
        title: r.title,
        slug: r.slug,
        body: r.body,
    };
    let v = s
        .services
        .knowledge
        .update_page(&a, &r.workspace_id, &r.id, r.base_revision, patch)
        .await?;
    Ok(pb::UpdatePageResponse {
        page: Some(page_to_pb(v)),
    })
}

async fn move_page(s: AppState, a: Actor, r: pb::MovePageRequest) -> Result<pb::MovePageResponse> {
    s.services
        .knowledge
        .move_page(&a, &r.workspace_id, &r.id, &r.parent_id, r.position)
        .await?;
    Ok(pb::MovePageResponse {})
}

async fn delete_page(
    s: AppState,
    a: Actor,
    r: pb::DeletePageRequest,
) -> Result<pb::DeletePageResponse> {
    s.services
        .knowledge
        .delete_page(&a, &r.workspace_id, &r.id)
        .await?;
    Ok(pb::DeletePageResponse {})
}

async fn list_pages(
    s: AppState,
    a: Actor,
    r: pb::ListPagesRequest,
) -> Result<pb::ListPagesResponse> {
    let nodes = s
        .services
        .knowledge
        .list_tree(&a, &r.workspace_id, &r.space_id, &r.root_id, r.max_depth)
        .await?;
    Ok(pb::ListPagesResponse {
        pages: nodes.into_iter().map(node_to_pb).collect(),
    })
}

async fn list_revisions(
    s: AppState,
    a: Actor,
    r: pb::ListPageRevisionsRequest,
) -> Result<pb::ListPageRevisionsResponse> {
    let (revisions, next) = s
        .services
        .knowledge
        .list_revisions(&a, &r.workspace_id, &r.page_id, r.page_size, &r.page_token)
        .await?;
    Ok(pb::ListPageRevisionsResponse {
        revisions: revisions
            .into_iter()
            .map(|r| pb::Revision {
                revision: r.revision,
                title: r.title,
                author_id: r.author.to_string(),
                author_login: r.author_login,
                create_time: Some(timestamp(r.created_at)),
                note: r.note,
                body_length: r.body_chars,
            })
            .collect(),
        next_page_token: next.unwrap_or_default(),
    })
}

async fn get_revision(
    s: AppState,
    a: Actor,
    r: pb::GetPageRevisionRequest,
) -> Result<pb::GetPageRevisionResponse> {
    let (rev, login, rendered) = s
        .services
        .knowledge
        .get_revision(&a, &r.workspace_id, &r.page_id, r.revision)
        .await?;
    Ok(pb::GetPageRevisionResponse {
        revision: Some(pb::Revision {
            revision: rev.revision,
            title: rev.title,
            author_id: rev.author.to_string(),
            author_login: login,
            create_time: Some(timestamp(rev.created_at)),
            note: rev.note,
            body_length: rev.body.chars().count() as i64,
        }),
        body: rev.body,
        html: rendered.html,
    })
}

async fn restore_revision(
    s: AppState,
    a: Actor,
    r: pb::RestorePageRevisionRequest,
) -> Result<pb::RestorePageRevisionResponse> {
    let v = s
        .services
        .knowledge
        .restore_revision(&a, &r.workspace_id, &r.page_id, r.revision, r.base_revision)
        .await?;
    Ok(pb::RestorePageRevisionResponse {
        page: Some(page_to_pb(v)),
    })
}

async fn render_markdown(
    s: AppState,
    a: Actor,
    r: pb::RenderMarkdownRequest,
) -> Result<pb::RenderMarkdownResponse> {
    let rendered = s.services.knowledge.render(&a, &r.markdown)?;
    Ok(pb::RenderMarkdownResponse {
        html: rendered.html,
    })
}

async fn search(s: AppState, a: Actor, r: pb::SearchRequest) -> Result<pb::SearchResponse> {
    let page = s
        .services
        .search
        .search(
            &a,
            &r.workspace_id,
            &r.query,
            &r.kinds,
            &r.space_ids,
            r.page_size,
            &r.page_token,
        )
        .await?;
    Ok(pb::SearchResponse {
        results: page
            .hits
            .into_iter()
            .map(|h| pb::SearchResult {
                kind: h.kind.as_str().to_owned(),
                id: h.id,
                title: h.title,
                snippet: h.snippet,
                score: h.score,
                space_id: h.space_id,
            })
            .collect(),
        total: page.total as i64,
        next_page_token: page.next.unwrap_or_default(),
        total_is_lower_bound: page.total_is_lower_bound,
    })
}

async fn sync_space(
    s: AppState,
    a: Actor,
    r: pb::SyncSpaceRequest,
) -> Result<pb::SyncSpaceResponse> {
    let run = s
        .services
        .knowledge
        .sync_space_with_connection(
            &a,
            &r.workspace_id,
            &r.space_id,
            &r.direction,
            &r.remote,
            &r.branch,
            &r.path,
            &r.connection_id,
        )
        .await?;
    Ok(pb::SyncSpaceResponse {
        workflow_id: run.id.to_string(),
    })
}

pub fn routes(state: &AppState, r: Router<AppState>) -> Router<AppState> {
    let k = "orbit.v1.KnowledgeService";
    let r = route(r, state, k, "CreateSpace", create_space);
    let r = route(r, state, k, "GetSpace", get_space);
    let r = route(r, state, k, "ListSpaces", list_spaces);
    let r = route(r, state, k, "UpdateSpace", update_space);
    let r = route(r, state, k, "DeleteSpace", delete_space);
    let r = route(r, state, k, "CreatePage", create_page);
    let r = route(r, state, k, "GetPage", get_page);
    let r = route(r, state, k, "UpdatePage", update_page);
    let r = route(r, state, k, "MovePage", move_page);
    let r = route(r, state, k, "DeletePage", delete_page);
    let r = route(r, state, k, "ListPages", list_pages);
    let r = route(r, state, k, "ListPageRevisions", list_revisions);
    let r = route(r, state, k, "GetPageRevision", get_revision);
    let r = route(r, state, k, "RestorePageRevision", restore_revision);
    let r = route(r, state, k, "RenderMarkdown", render_markdown);
    let r = route(r, state, k, "SyncSpace", sync_space);
    route(r, state, "orbit.v1.SearchService", "Search", search)
}
