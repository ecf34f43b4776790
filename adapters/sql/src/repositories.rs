//! The `RepositoryStore` implementation both SQL engines share (see
//! [`impl_repository_store!`]), and its row type.

use orbit_core::repository::{
    Lifecycle, RepoLink, RepoName, RepoVisibility, Repository, RepositoryId,
};
use orbit_core::{Timestamp, UserId, WorkspaceId};
use orbit_ports::StoreError;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("corrupt row: invalid {what} {value:?}"))
}

pub const REPOSITORY_COLUMNS: &str = "id, workspace_id, name, description, owner, language, topics, lifecycle, \
     default_branch, remote_url, visibility, archived, source, created_at, updated_at, created_by, \
     links, provides_apis, consumes_apis";

#[derive(sqlx::FromRow)]
pub struct RepositoryRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub language: String,
    pub topics: String,
    pub lifecycle: String,
    pub default_branch: String,
    pub remote_url: String,
    pub visibility: String,
    pub archived: bool,
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub links: String,
    pub provides_apis: String,
    pub consumes_apis: String,
}

/// Links as stored: one per line, `url<TAB>title` (neither holds a tab or a line break).
pub fn encode_links(links: &[RepoLink]) -> String {
    links
        .iter()
        .map(|l| format!("{}\t{}", l.url, l.title.replace(['\t', '\n', '\r'], " ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_links(text: &str) -> Vec<RepoLink> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (url, title) = l.split_once('\t').unwrap_or((l, ""));
            RepoLink {
                url: url.to_owned(),
                title: title.to_owned(),
            }
        })
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl RepositoryRow {
    pub fn into_domain(self) -> Result<Repository, StoreError> {
        Ok(Repository {
            name: RepoName::parse("name", &self.name).map_err(|_| corrupt("name", &self.name))?,
            lifecycle: Lifecycle::parse(&self.lifecycle)
                .ok_or_else(|| corrupt("lifecycle", &self.lifecycle))?,
            visibility: RepoVisibility::parse(&self.visibility)
                .ok_or_else(|| corrupt("visibility", &self.visibility))?,
            id: RepositoryId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            description: self.description,
            owner: self.owner,
            language: self.language,
            topics: self
                .topics
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            default_branch: self.default_branch,
            remote_url: self.remote_url,
            archived: self.archived,
            source: self.source,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            created_by: UserId::new(self.created_by),
            links: decode_links(&self.links),
            provides_apis: words(&self.provides_apis),
            consumes_apis: words(&self.consumes_apis),
        })
    }
}

/// A value bound to a dynamically built query, in placeholder order.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// Builds the `WHERE … ORDER BY … LIMIT` of a list query. Placeholders are numbered in
/// the order they appear, as SQLite requires.
pub fn list_query(
    workspace: &WorkspaceId,
    q: &orbit_core::repository::RepoQuery,
) -> (String, Vec<Bind>) {
    use orbit_core::repository::{RepoCursor, RepoSort};
    let mut binds = vec![Bind::Text(workspace.to_string())];
    let mut sql =
        format!("SELECT {REPOSITORY_COLUMNS} FROM repositories r WHERE r.workspace_id = $1");
    let mut push = |sql: &mut String, clause: &str, value: Bind| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(owner) = &q.owner {
        push(&mut sql, " AND r.owner = ?", Bind::Text(owner.clone()));
    }
    if let Some(language) = &q.language {
        push(
            &mut sql,
            " AND r.language_key = ?",
            Bind::Text(language.to_lowercase()),
        );
    }
    if let Some(topic) = &q.topic {
        push(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM repository_topics t WHERE t.repository_id = r.id AND t.topic = ?)",
            Bind::Text(topic.clone()),
        );
    }
    if let Some(lifecycle) = q.lifecycle {
        push(
            &mut sql,
            " AND r.lifecycle = ?",
            Bind::Text(lifecycle.as_str().into()),
        );
    }
    if let Some(visibility) = q.visibility {
        push(
            &mut sql,
            " AND r.visibility = ?",
            Bind::Text(visibility.as_str().into()),
        );
    }
    if !q.include_archived {
        sql.push_str(" AND r.archived = FALSE");
    }
    let time = match q.sort {
        RepoSort::Name => "",
        RepoSort::Updated => "r.updated_at",
        RepoSort::Created => "r.created_at",
    };
    match &q.after {
        Some(RepoCursor::Name(key)) if q.sort == RepoSort::Name => {
            push(&mut sql, " AND r.name_key > ?", Bind::Text(key.clone()));
        }
        Some(RepoCursor::Time(at, id)) if q.sort != RepoSort::Name => {
            binds.push(Bind::Int(*at));
            let a = binds.len();
            binds.push(Bind::Int(*at));
            let b = binds.len();
            binds.push(Bind::Text(id.to_string()));
            let c = binds.len();
            sql.push_str(&format!(
                " AND ({time} < ${a} OR ({time} = ${b} AND r.id < ${c}))"
            ));
        }
        _ => {}
    }
    if q.sort == RepoSort::Name {
        sql.push_str(" ORDER BY r.name_key");
    } else {
        sql.push_str(&format!(" ORDER BY {time} DESC, r.id DESC"));
    }
    binds.push(Bind::Int(i64::from(q.limit) + 1));
    sql.push_str(&format!(" LIMIT ${}", binds.len()));
    (sql, binds)
}

/// Implements `RepositoryStore` for `$store` (fields `read` and `write` pools).
#[macro_export]
macro_rules! impl_repository_store {
    ($store:ty) => {
        const _: () = {
            use $crate::async_trait::async_trait;
            use $crate::orbit_core::WorkspaceId;
            use $crate::orbit_core::repository::{
                RepoName, RepoPolicy, RepoQuery, RepoTemplate, RepoVisibility, Repository, RepositoryId,
            };
            use $crate::orbit_ports::{RepositoryIndexJob, RepositoryStore, StoreError};
            use $crate::repositories::{Bind, REPOSITORY_COLUMNS, RepositoryRow, encode_links, list_query};
            use $crate::{db, store_error};
            use $crate::sqlx;

            type Tx<'a> = sqlx::Transaction<'a, <$store as $crate::SqlEngine>::Db>;

            async fn insert_job(tx: &mut Tx<'_>, id: &str, repo: &Repository) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO repository_search_outbox (id, workspace_id, repository_id, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(repo.workspace_id.as_str())
                .bind(repo.id.as_str())
                .bind(repo.updated_at.0)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                Ok(())
            }

            async fn write_topics(tx: &mut Tx<'_>, repo: &Repository) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM repository_topics WHERE repository_id = $1")
                    .bind(repo.id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                for topic in &repo.topics {
                    sqlx::query("INSERT INTO repository_topics (repository_id, workspace_id, topic) VALUES ($1, $2, $3)")
                        .bind(repo.id.as_str())
                        .bind(repo.workspace_id.as_str())
                        .bind(topic)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                }
                sqlx::query("DELETE FROM repository_apis WHERE repository_id = $1")
                    .bind(repo.id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                for (relation, apis) in [("provides", &repo.provides_apis), ("consumes", &repo.consumes_apis)] {
                    for api in apis {
                        sqlx::query(
                            "INSERT INTO repository_apis (repository_id, workspace_id, relation, api) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(repo.id.as_str())
                        .bind(repo.workspace_id.as_str())
                        .bind(relation)
                        .bind(api)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                    }
                }
                Ok(())
            }

            fn template_of(
                (id, ws, name, source_url, git_ref, path, manifest, at, by): (String, String, String, String, String, String, String, i64, String),
            ) -> RepoTemplate {
                RepoTemplate {
                    id,
                    workspace_id: WorkspaceId::new(ws),
                    name,
                    source_url,
                    git_ref,
                    path,
                    manifest,
                    created_at: $crate::orbit_core::Timestamp(at),
                    created_by: $crate::orbit_core::UserId::new(by),
                }
            }

            fn name_taken(repo: &Repository) -> String {
                format!("repository '{}'", repo.name)
            }

            #[async_trait]
            impl RepositoryStore for $store {
                #[tracing::instrument(skip_all, fields(repository = %repo.id))]
                async fn create_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let ws: Option<(String,)> = sqlx::query_as("SELECT id FROM workspaces WHERE id = $1")
                        .bind(repo.workspace_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                    if ws.is_none() {
                        return Err(StoreError::NotFound(format!("workspace '{}'", repo.workspace_id)));
                    }
                    sqlx::query(
                        "INSERT INTO repositories (id, workspace_id, name, name_key, description, owner, language, language_key, \
                         topics, lifecycle, default_branch, remote_url, visibility, archived, source, created_at, updated_at, created_by, \
                         links, provides_apis, consumes_apis) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                    )
                    .bind(repo.id.as_str())
                    .bind(repo.workspace_id.as_str())
                    .bind(repo.name.as_str())
                    .bind(repo.name.key())
                    .bind(&repo.description)
                    .bind(&repo.owner)
                    .bind(&repo.language)
                    .bind(repo.language.to_lowercase())
                    .bind(repo.topics.join(" "))
                    .bind(repo.lifecycle.as_str())
                    .bind(&repo.default_branch)
                    .bind(&repo.remote_url)
                    .bind(repo.visibility.as_str())
                    .bind(repo.archived)
                    .bind(&repo.source)
                    .bind(repo.created_at.0)
                    .bind(repo.updated_at.0)
                    .bind(repo.created_by.as_str())
                    .bind(encode_links(&repo.links))
                    .bind(repo.provides_apis.join(" "))
                    .bind(repo.consumes_apis.join(" "))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || name_taken(repo)))?;
                    write_topics(&mut tx, repo).await?;
                    insert_job(&mut tx, job_id, repo).await?;
                    tx.commit().await.map_err(db)
                }

                async fn get_repository(&self, workspace: &WorkspaceId, id: &RepositoryId) -> Result<Option<Repository>, StoreError> {
                    let sql = format!("SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE id = $1 AND workspace_id = $2");
                    let row: Option<RepositoryRow> = sqlx::query_as(&sql)
                        .bind(id.as_str())
                        .bind(workspace.as_str())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(RepositoryRow::into_domain).transpose()
                }

                async fn get_repository_by_name(&self, workspace: &WorkspaceId, name: &RepoName) -> Result<Option<Repository>, StoreError> {
                    let sql = format!("SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE workspace_id = $1 AND name_key = $2");
                    let row: Option<RepositoryRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(name.key())
                        .fetch_optional(&self.read)
                        .await
                        .map_err(db)?;
                    row.map(RepositoryRow::into_domain).transpose()
                }

                async fn list_repositories(&self, workspace: &WorkspaceId, query: &RepoQuery) -> Result<Vec<Repository>, StoreError> {
                    let (sql, binds) = list_query(workspace, query);
                    let mut q = sqlx::query_as::<_, RepositoryRow>(&sql);
                    for b in binds {
                        q = match b {
                            Bind::Text(t) => q.bind(t),
                            Bind::Int(i) => q.bind(i),
                        };
                    }
                    let rows = q.fetch_all(&self.read).await.map_err(db)?;
                    rows.into_iter().map(RepositoryRow::into_domain).collect()
                }

                #[tracing::instrument(skip_all, fields(repository = %repo.id))]
                async fn update_repository(&self, repo: &Repository, job_id: &str) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    let done = sqlx::query(
                        "UPDATE repositories SET name = $1, name_key = $2, description = $3, owner = $4, language = $5, \
                         language_key = $6, topics = $7, lifecycle = $8, default_branch = $9, remote_url = $10, visibility = $11, \
                         archived = $12, source = $13, updated_at = $14, links = $15, provides_apis = $16, consumes_apis = $17 \
                         WHERE id = $18 AND workspace_id = $19",
                    )
                    .bind(repo.name.as_str())
                    .bind(repo.name.key())
                    .bind(&repo.description)
                    .bind(&repo.owner)
                    .bind(&repo.language)
                    .bind(repo.language.to_lowercase())
                    .bind(repo.topics.join(" "))
                    .bind(repo.lifecycle.as_str())
                    .bind(&repo.default_branch)
                    .bind(&repo.remote_url)
                    .bind(repo.visibility.as_str())
                    .bind(repo.archived)
                    .bind(&repo.source)
                    .bind(repo.updated_at.0)
                    .bind(encode_links(&repo.links))
                    .bind(repo.provides_apis.join(" "))
                    .bind(repo.consumes_apis.join(" "))
                    .bind(repo.id.as_str())
                    .bind(repo.workspace_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| store_error(e, || name_taken(repo)))?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("repository '{}'", repo.id)));
                    }
                    write_topics(&mut tx, repo).await?;
                    insert_job(&mut tx, job_id, repo).await?;
                    tx.commit().await.map_err(db)
                }

                async fn pending_repository_index_jobs(&self, limit: u32) -> Result<Vec<RepositoryIndexJob>, StoreError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT id, workspace_id, repository_id FROM repository_search_outbox ORDER BY created_at, id LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, ws, repo)| RepositoryIndexJob {
                            id,
                            workspace_id: WorkspaceId::new(ws),
                            repository_id: RepositoryId::new(repo),
                        })
                        .collect())
                }

                async fn complete_repository_index_jobs(&self, ids: &[String]) -> Result<(), StoreError> {
                    let mut tx = self.write.begin().await.map_err(db)?;
                    for id in ids {
                        sqlx::query("DELETE FROM repository_search_outbox WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn repositories_after(&self, after: Option<&RepositoryId>, limit: u32) -> Result<Vec<Repository>, StoreError> {
                    let sql = format!("SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE id > $1 ORDER BY id LIMIT $2");
                    let rows: Vec<RepositoryRow> = sqlx::query_as(&sql)
                        .bind(after.map_or("", |a| a.as_str()))
                        .bind(i64::from(limit))
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(RepositoryRow::into_domain).collect()
                }

                async fn repositories_with_api(&self, workspace: &WorkspaceId, relation: &str, api: &str) -> Result<Vec<Repository>, StoreError> {
                    let sql = format!(
                        "SELECT {REPOSITORY_COLUMNS} FROM repositories WHERE workspace_id = $1 AND id IN \
                         (SELECT repository_id FROM repository_apis WHERE workspace_id = $2 AND relation = $3 AND api = $4) \
                         ORDER BY name_key LIMIT 1000"
                    );
                    let rows: Vec<RepositoryRow> = sqlx::query_as(&sql)
                        .bind(workspace.as_str())
                        .bind(workspace.as_str())
                        .bind(relation)
                        .bind(api)
                        .fetch_all(&self.read)
                        .await
                        .map_err(db)?;
                    rows.into_iter().map(RepositoryRow::into_domain).collect()
                }

                async fn create_template(&self, t: &RepoTemplate) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO repository_templates (id, workspace_id, name, source_url, git_ref, path, manifest, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&t.id)
                    .bind(t.workspace_id.as_str())
                    .bind(&t.name)
                    .bind(&t.source_url)
                    .bind(&t.git_ref)
                    .bind(&t.path)
                    .bind(&t.manifest)
                    .bind(t.created_at.0)
                    .bind(t.created_by.as_str())
                    .execute(&self.write)
                    .await
                    .map_err(|e| match store_error(e, || format!("template '{}'", t.name)) {
                        StoreError::NotFound(_) => StoreError::NotFound(format!("workspace '{}'", t.workspace_id)),
                        other => other,
                    })?;
                    Ok(())
                }

                async fn get_template(&self, workspace: &WorkspaceId, id_or_name: &str) -> Result<Option<RepoTemplate>, StoreError> {
                    let row: Option<(String, String, String, String, String, String, String, i64, String)> = sqlx::query_as(
                        "SELECT id, workspace_id, name, source_url, git_ref, path, manifest, created_at, created_by \
                         FROM repository_templates WHERE workspace_id = $1 AND (id = $2 OR name = $3)",
                    )
                    .bind(workspace.as_str())
                    .bind(id_or_name)
                    .bind(id_or_name)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(row.map(template_of))
                }

                async fn list_templates(&self, workspace: &WorkspaceId) -> Result<Vec<RepoTemplate>, StoreError> {
                    let rows: Vec<(String, String, String, String, String, String, String, i64, String)> = sqlx::query_as(
                        "SELECT id, workspace_id, name, source_url, git_ref, path, manifest, created_at, created_by \
                         FROM repository_templates WHERE workspace_id = $1 ORDER BY name",
                    )
                    .bind(workspace.as_str())
                    .fetch_all(&self.read)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(template_of).collect())
                }

                async fn get_policy(&self, workspace: &WorkspaceId) -> Result<RepoPolicy, StoreError> {
                    let row: Option<(String, bool, String, String)> = sqlx::query_as(
                        "SELECT name_pattern, require_owner, allowed_visibilities, allowed_templates \
                         FROM repository_policies WHERE workspace_id = $1",
                    )
                    .bind(workspace.as_str())
                    .fetch_optional(&self.read)
                    .await
                    .map_err(db)?;
                    let Some((name_pattern, require_owner, vis, templates)) = row else {
                        return Ok(RepoPolicy::default());
                    };
                    let lines = |s: &str| s.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>();
                    Ok(RepoPolicy {
                        name_pattern,
                        require_owner,
                        allowed_visibilities: lines(&vis).iter().filter_map(|v| RepoVisibility::parse(v)).collect(),
                        allowed_templates: lines(&templates),
                    })
                }

                async fn put_policy(&self, workspace: &WorkspaceId, p: &RepoPolicy, at: $crate::orbit_core::Timestamp) -> Result<(), StoreError> {
                    let vis: Vec<&str> = p.allowed_visibilities.iter().map(|v| v.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO repository_policies (workspace_id, name_pattern, require_owner, allowed_visibilities, allowed_templates, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id) DO UPDATE SET name_pattern = excluded.name_pattern, \
                         require_owner = excluded.require_owner, allowed_visibilities = excluded.allowed_visibilities, \
                         allowed_templates = excluded.allowed_templates, updated_at = excluded.updated_at",
                    )
                    .bind(workspace.as_str())
                    .bind(&p.name_pattern)
                    .bind(p.require_owner)
                    .bind(vis.join("\n"))
                    .bind(p.allowed_templates.join("\n"))
                    .bind(at.0)
                    .execute(&self.write)
                    .await
                    .map_err(|e| match store_error(e, || "policy".into()) {
                        StoreError::NotFound(_) => StoreError::NotFound(format!("workspace '{workspace}'")),
                        other => other,
                    })?;
                    Ok(())
                }
            }
        };
    };
}
