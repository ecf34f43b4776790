//! Orbit's use cases. Each service method takes the authenticated [`Actor`], checks what the
//! actor may do inside the workspace it names, and talks to the outside world only through
//! the ports. Errors are `orbit_core::Error`, mapped to protocol codes once, at the edge.
//!
//! Architecture invariant: no method reads or writes a workspace's data before it has
//! resolved the actor's role in that workspace (`WorkspaceService::role_of`).

mod cached;
mod tokens;
mod users;
mod workspaces;

use std::sync::Arc;

pub use cached::{CacheStats, CachedReads};
pub use tokens::{Bootstrap, TOKEN_PREFIX, TokenService, hash_secret};
pub use users::UserService;
pub use workspaces::{WorkspaceRef, WorkspaceService};

use orbit_core::Error;
use orbit_ports::{Cache, Clock, IdGenerator, StoreError, UserStore, WorkspaceStore};

/// Everything the use cases need, chosen by the composition root.
#[derive(Clone)]
pub struct Deps {
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub users: Arc<dyn UserStore>,
    pub cache: Arc<dyn Cache>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

/// All use cases, built once per process and shared by every request.
#[derive(Clone)]
pub struct Services {
    pub workspaces: WorkspaceService,
    pub users: UserService,
    pub tokens: TokenService,
    pub cache: CachedReads,
    pub deps: Deps,
}

impl Services {
    pub fn new(deps: Deps) -> Self {
        let cache = CachedReads::new(deps.cache.clone());
        Services {
            workspaces: WorkspaceService::new(deps.clone(), cache.clone()),
            users: UserService::new(deps.clone()),
            tokens: TokenService::new(deps.clone(), cache.clone()),
            cache,
            deps,
        }
    }
}

/// Store failures become domain errors; `what` names the thing for messages.
pub(crate) fn store_err(err: StoreError) -> Error {
    match err {
        StoreError::AlreadyExists(what) => Error::AlreadyExists(what),
        StoreError::NotFound(what) => Error::NotFound(what),
        StoreError::LastOwner => Error::FailedPrecondition(
            "the last owner of a workspace cannot be removed or demoted; make another member an owner first"
                .into(),
        ),
        StoreError::Unavailable(msg) => Error::Unavailable(format!("the database is unavailable: {msg}")),
        StoreError::Other(msg) => Error::Internal(msg),
    }
}
