//! `KnowledgeStore` in memory, with the same rules as the SQL stores.

use crate::MemoryStore;
use async_trait::async_trait;
use orbit_core::knowledge::{Page, PageSummary, PathSlug, Revision, RevisionSummary, Space};
use orbit_core::{PageId, SpaceId, UserId, WorkspaceId};
use orbit_ports::{IndexJob, KnowledgeStore, StoreError, StoredRender};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Default)]
pub(crate) struct KnowledgeState {
    spaces: HashMap<SpaceId, Space>,
    members: BTreeSet<(SpaceId, UserId)>,
    pages: BTreeMap<PageId, Page>,
    revisions: BTreeMap<(PageId, i64), Revision>,
    /// Renderings of pages still present (looked up through `pages`, so never of another
    /// workspace's or a deleted page).
    renders: HashMap<PageId, StoredRender>,
    outbox: BTreeMap<String, (i64, IndexJob)>,
    next_job: i64,
}

impl KnowledgeState {
    /// Deletes everything of a workspace (its deletion cascades, as in SQL).
    pub(crate) fn remove_workspace(&mut self, workspace: &WorkspaceId) {
        let spaces: Vec<SpaceId> = self
            .spaces
            .values()
            .filter(|s| &s.workspace_id == workspace)
            .map(|s| s.id.clone())
            .collect();
        self.members.retain(|(sp, _)| !spaces.contains(sp));
        self.spaces.retain(|_, s| &s.workspace_id != workspace);
        let pages: Vec<PageId> = self
            .pages
            .values()
            .filter(|p| &p.workspace_id == workspace)
            .map(|p| p.id.clone())
            .collect();
        self.revisions.retain(|(p, _), _| !pages.contains(p));
        self.renders.retain(|p, _| !pages.contains(p));
        self.pages.retain(|_, p| &p.workspace_id != workspace);
    }

    fn job(&mut self, id: &str, workspace: &WorkspaceId, page: &PageId) {
        self.next_job += 1;
        let job = IndexJob {
            id: id.to_owned(),
            workspace_id: workspace.clone(),
            page_id: page.clone(),
        };
        self.outbox.insert(id.to_owned(), (self.next_job, job));
    }

    fn space_in(&self, workspace: &WorkspaceId, id: &SpaceId) -> Result<&Space, StoreError> {
        self.spaces
            .get(id)
            .filter(|s| &s.workspace_id == workspace)
            .ok_or_else(|| StoreError::NotFound(format!("space '{id}'")))
    }

    fn sibling_slug_taken(
        &self,
        space: &SpaceId,
        parent: Option<&PageId>,
        slug: &PathSlug,
        except: &PageId,
    ) -> bool {
        self.pages.values().any(|p| {
            &p.space_id == space
                && p.parent_id.as_ref() == parent
                && &p.slug == slug
                && &p.id != except
        })
    }
}

#[async_trait]
impl KnowledgeStore for MemoryStore {
    async fn create_space(&self, space: &Space, members: &[UserId]) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.workspaces.contains_key(&space.workspace_id) {
            return Err(StoreError::NotFound(format!(
                "workspace '{}'",
                space.workspace_id
            )));
        }
        if let Some(m) = members.iter().find(|m| !s.users.contains_key(m)) {
            return Err(StoreError::NotFound(format!("user '{m}'")));
        }
        let k = &mut s.knowledge;
        if k.spaces
            .values()
            .any(|x| x.workspace_id == space.workspace_id && x.slug == space.slug)
        {
            return Err(StoreError::AlreadyExists(format!(
                "space slug '{}'",
                space.slug
            )));
        }
        k.spaces.insert(space.id.clone(), space.clone());
        for m in members {
            k.members.insert((space.id.clone(), m.clone()));
        }
        Ok(())
    }

    async fn get_space(
        &self,
        workspace: &WorkspaceId,
        id: &SpaceId,
    ) -> Result<Option<Space>, StoreError> {
        Ok(self
            .lock()
            .knowledge
            .spaces
            .get(id)
            .filter(|s| &s.workspace_id == workspace)
            .cloned())
    }

    async fn get_space_by_slug(
        &self,
        workspace: &WorkspaceId,
        slug: &PathSlug,
    ) -> Result<Option<Space>, StoreError> {
        Ok(self
            .lock()
            .knowledge
            .spaces
            .values()
            .find(|s| &s.workspace_id == workspace && &s.slug == slug)
            .cloned())
    }

    async fn list_spaces(&self, workspace: &WorkspaceId) -> Result<Vec<Space>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Space> = s
            .knowledge
            .spaces
            .values()
            .filter(|x| &x.workspace_id == workspace)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(out)
    }

    async fn update_space(&self, space: &Space) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(existing) = s
            .knowledge
            .spaces
            .get_mut(&space.id)
            .filter(|x| x.workspace_id == space.workspace_id)
        else {
            return Err(StoreError::NotFound(format!("space '{}'", space.id)));
        };
        existing.name = space.name.clone();
        existing.description = space.description.clone();
        existing.visibility = space.visibility;
        existing.updated_at = space.updated_at;
        Ok(())
    }

    async fn set_space_members(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
        members: &[UserId],
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some(m) = members.iter().find(|m| !s.users.contains_key(m)) {
            return Err(StoreError::NotFound(format!("user '{m}'")));
        }
        let k = &mut s.knowledge;
        k.space_in(workspace, space)?;
        k.members.retain(|(sp, _)| sp != space);
        for m in members {
            k.members.insert((space.clone(), m.clone()));
        }
        Ok(())
    }

    async fn space_members(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<Vec<UserId>, StoreError> {
        let s = self.lock();
        if s.knowledge.space_in(workspace, space).is_err() {
            return Ok(Vec::new());
        }
        Ok(s.knowledge
            .members
            .iter()
            .filter(|(sp, _)| sp == space)
            .map(|(_, u)| u.clone())
            .collect())
    }

    async fn member_spaces(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<SpaceId>, StoreError> {
        let s = self.lock();
        let k = &s.knowledge;
        Ok(k.members
            .iter()
            .filter(|(sp, u)| {
                u == user
                    && k.spaces
                        .get(sp)
                        .is_some_and(|x| &x.workspace_id == workspace)
            })
            .map(|(sp, _)| sp.clone())
            .collect())
    }

    async fn delete_space(
        &self,
        workspace: &WorkspaceId,
        id: &SpaceId,
        job_prefix: &str,
    ) -> Result<Vec<PageId>, StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        k.space_in(workspace, id)?;
        let pages: Vec<PageId> = k
            .pages
            .values()
            .filter(|p| &p.space_id == id)
            .map(|p| p.id.clone())
            .collect();
        for p in &pages {
            k.pages.remove(p);
            k.revisions.retain(|(page, _), _| page != p);
            k.renders.remove(p);
            k.job(&format!("{job_prefix}:{p}"), workspace, p);
        }
        k.members.retain(|(sp, _)| sp != id);
        k.spaces.remove(id);
        Ok(pages)
    }

    async fn create_page(
        &self,
        page: &Page,
        first: &Revision,
        render: &StoredRender,
        job_id: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        k.space_in(&page.workspace_id, &page.space_id)?;
        if let Some(parent) = &page.parent_id {
            if k.pages
                .get(parent)
                .is_none_or(|p| p.space_id != page.space_id)
            {
                return Err(StoreError::NotFound(format!(
                    "parent page '{parent}' in this space"
                )));
            }
        }
        if k.sibling_slug_taken(
            &page.space_id,
            page.parent_id.as_ref(),
            &page.slug,
            &page.id,
        ) || k.pages.contains_key(&page.id)
        {
            return Err(StoreError::AlreadyExists(format!(
                "a page with slug '{}' under the same parent",
                page.slug
            )));
        }
        let mut page = page.clone();
        if page.sort_order < 0 {
            page.sort_order = k
                .pages
                .values()
                .filter(|p| p.space_id == page.space_id && p.parent_id == page.parent_id)
                .map(|p| p.sort_order + 1)
                .max()
                .unwrap_or(0);
        }
        k.pages.insert(page.id.clone(), page.clone());
        k.revisions
            .insert((page.id.clone(), first.revision), first.clone());
        k.renders.insert(page.id.clone(), render.clone());
        k.job(job_id, &page.workspace_id, &page.id);
        Ok(())
    }

    async fn get_page_with_render(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
    ) -> Result<Option<(Page, Option<StoredRender>)>, StoreError> {
        let s = self.lock();
        let k = &s.knowledge;
        Ok(k.pages
            .get(id)
            .filter(|p| &p.workspace_id == workspace)
            .map(|p| (p.clone(), k.renders.get(id).cloned())))
    }

    async fn put_render(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        render: &StoredRender,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        if k.pages.get(id).is_none_or(|p| &p.workspace_id != workspace) {
            return Ok(());
        }
        if k.renders
            .get(id)
            .is_none_or(|r| r.revision <= render.revision)
        {
            k.renders.insert(id.clone(), render.clone());
        }
        Ok(())
    }

    async fn get_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
    ) -> Result<Option<Page>, StoreError> {
        Ok(self
            .lock()
            .knowledge
            .pages
            .get(id)
            .filter(|p| &p.workspace_id == workspace)
            .cloned())
    }

    async fn list_children(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
        parents: &[Option<PageId>],
    ) -> Result<Vec<(PageSummary, bool)>, StoreError> {
        let all = self.list_pages(workspace, space).await?;
        let with_children: std::collections::HashSet<&PageId> =
            all.iter().filter_map(|p| p.parent_id.as_ref()).collect();
        Ok(all
            .iter()
            .filter(|p| parents.contains(&p.parent_id))
            .map(|p| (p.clone(), with_children.contains(&p.id)))
            .collect())
    }

    async fn count_pages(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<u64, StoreError> {
        Ok(self.list_pages(workspace, space).await?.len() as u64)
    }

    async fn list_pages(
        &self,
        workspace: &WorkspaceId,
        space: &SpaceId,
    ) -> Result<Vec<PageSummary>, StoreError> {
        Ok(self
            .lock()
            .knowledge
            .pages
            .values()
            .filter(|p| &p.workspace_id == workspace && &p.space_id == space)
            .map(|p| PageSummary {
                id: p.id.clone(),
                space_id: p.space_id.clone(),
                parent_id: p.parent_id.clone(),
                slug: p.slug.clone(),
                title: p.title.clone(),
                sort_order: p.sort_order,
                revision: p.revision,
                updated_at: p.updated_at,
            })
            .collect())
    }

    async fn update_page(
        &self,
        page: &Page,
        revision: &Revision,
        render: &StoredRender,
        base_revision: i64,
        job_id: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        let Some(current) = k
            .pages
            .get(&page.id)
            .filter(|p| p.workspace_id == page.workspace_id)
        else {
            return Err(StoreError::NotFound(format!("page '{}'", page.id)));
        };
        if current.revision != base_revision {
            return Err(StoreError::Stale {
                current: current.revision,
            });
        }
        let (space, parent) = (current.space_id.clone(), current.parent_id.clone());
        if k.sibling_slug_taken(&space, parent.as_ref(), &page.slug, &page.id) {
            return Err(StoreError::AlreadyExists(format!(
                "a page with slug '{}' under the same parent",
                page.slug
            )));
        }
        let stored = k
            .pages
            .get_mut(&page.id)
            .ok_or_else(|| StoreError::NotFound(format!("page '{}'", page.id)))?;
        stored.title = page.title.clone();
        stored.slug = page.slug.clone();
        stored.body = page.body.clone();
        stored.revision = page.revision;
        stored.updated_at = page.updated_at;
        stored.updated_by = page.updated_by.clone();
        k.revisions
            .insert((page.id.clone(), revision.revision), revision.clone());
        k.renders.insert(page.id.clone(), render.clone());
        k.job(job_id, &page.workspace_id, &page.id);
        Ok(())
    }

    async fn move_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        parent: Option<&PageId>,
        siblings: &[PageId],
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        let Some(page) = k
            .pages
            .get(id)
            .filter(|p| &p.workspace_id == workspace)
            .cloned()
        else {
            return Err(StoreError::NotFound(format!("page '{id}'")));
        };
        if let Some(parent) = parent {
            if k.pages
                .get(parent)
                .is_none_or(|p| p.space_id != page.space_id)
            {
                return Err(StoreError::NotFound(format!(
                    "parent page '{parent}' in this space"
                )));
            }
            let parent_of = |x: &PageId| k.pages.get(x).and_then(|p| p.parent_id.clone());
            if orbit_core::knowledge::is_self_or_descendant(id, parent, parent_of, k.pages.len()) {
                return Err(StoreError::Refused(
                    "a page cannot be moved under itself or one of its own descendants".into(),
                ));
            }
        }
        if k.sibling_slug_taken(&page.space_id, parent, &page.slug, id) {
            return Err(StoreError::AlreadyExists(
                "a page with the same slug under the new parent".into(),
            ));
        }
        if let Some(p) = k.pages.get_mut(id) {
            p.parent_id = parent.cloned();
        }
        for (i, sibling) in siblings.iter().enumerate() {
            if let Some(p) = k
                .pages
                .get_mut(sibling)
                .filter(|p| p.space_id == page.space_id && p.parent_id.as_ref() == parent)
            {
                p.sort_order = i as i64;
            }
        }
        Ok(())
    }

    async fn delete_page(
        &self,
        workspace: &WorkspaceId,
        id: &PageId,
        job_id: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let k = &mut s.knowledge;
        if k.pages.get(id).is_none_or(|p| &p.workspace_id != workspace) {
            return Err(StoreError::NotFound(format!("page '{id}'")));
        }
        let children = k
            .pages
            .values()
            .filter(|p| p.parent_id.as_ref() == Some(id))
            .count();
        if children > 0 {
            return Err(StoreError::Refused(format!(
                "the page has {children} child page(s): move or delete them first"
            )));
        }
        k.pages.remove(id);
        k.revisions.retain(|(page, _), _| page != id);
        k.renders.remove(id);
        k.job(job_id, workspace, id);
        Ok(())
    }

    async fn list_revisions(
        &self,
        workspace: &WorkspaceId,
        page: &PageId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RevisionSummary>, StoreError> {
        let s = self.lock();
        if s.knowledge
            .pages
            .get(page)
            .is_none_or(|p| &p.workspace_id != workspace)
        {
            return Ok(Vec::new());
        }
        Ok(s.knowledge
            .revisions
            .range((page.clone(), i64::MIN)..(page.clone(), before.unwrap_or(i64::MAX)))
            .rev()
            .take(limit as usize + 1)
            .map(|(_, r)| RevisionSummary {
                revision: r.revision,
                title: r.title.clone(),
                author: r.author.clone(),
                author_login: s
                    .users
                    .get(&r.author)
                    .map(|u| u.login.as_str().to_owned())
                    .unwrap_or_default(),
                created_at: r.created_at,
                note: r.note.clone(),
                body_chars: r.body.chars().count() as i64,
            })
            .collect())
    }

    async fn get_revision(
        &self,
        workspace: &WorkspaceId,
        page: &PageId,
        revision: i64,
    ) -> Result<Option<Revision>, StoreError> {
        let s = self.lock();
        if s.knowledge
            .pages
            .get(page)
            .is_none_or(|p| &p.workspace_id != workspace)
        {
            return Ok(None);
        }
        Ok(s.knowledge
            .revisions
            .get(&(page.clone(), revision))
            .cloned())
    }

    async fn pending_index_jobs(&self, limit: u32) -> Result<Vec<IndexJob>, StoreError> {
        let s = self.lock();
        let mut jobs: Vec<&(i64, IndexJob)> = s.knowledge.outbox.values().collect();
        jobs.sort_by_key(|(n, _)| *n);
        Ok(jobs
            .into_iter()
            .take(limit as usize)
            .map(|(_, j)| j.clone())
            .collect())
    }

    async fn complete_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
        let mut s = self.lock();
        for id in ids {
            s.knowledge.outbox.remove(id);
        }
        Ok(())
    }

    async fn pages_after(
        &self,
        after: Option<&PageId>,
        limit: u32,
    ) -> Result<Vec<Page>, StoreError> {
        let s = self.lock();
        let iter: Box<dyn Iterator<Item = &Page>> = match after {
            Some(a) => Box::new(
                s.knowledge
                    .pages
                    .range((
                        std::ops::Bound::Excluded(a.clone()),
                        std::ops::Bound::Unbounded,
                    ))
                    .map(|(_, p)| p),
            ),
            None => Box::new(s.knowledge.pages.values()),
        };
        Ok(iter.take(limit as usize).cloned().collect())
    }
}
