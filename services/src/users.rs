use crate::{Deps, store_err};
use orbit_core::{Actor, Error, NewUser, Page, PageRequest, Result, User, UserId};
use orbit_ports::page_of;

#[derive(Clone)]
pub struct UserService {
    deps: Deps,
}

impl UserService {
    pub(crate) fn new(deps: Deps) -> Self {
        UserService { deps }
    }

    pub async fn create(&self, actor: &Actor, input: NewUser) -> Result<User> {
        if !actor.user.instance_admin {
            return Err(Error::PermissionDenied(
                "only instance administrators can create users".into(),
            ));
        }
        let user = input.validate(UserId::new(self.deps.ids.new_id()), self.deps.clock.now())?;
        self.deps
            .users
            .create_user(&user)
            .await
            .map_err(|err| match err {
                orbit_ports::StoreError::AlreadyExists(_) => {
                    Error::AlreadyExists(format!("user with login '{}'", user.login.as_str()))
                }
                other => store_err(other),
            })?;
        tracing::info!(user = %user.id, login = user.login.as_str(), by = %actor.user.id, "user created");
        Ok(user)
    }

    /// Any signed-in user may look a user up (to add them to a workspace).
    pub async fn get(&self, _actor: &Actor, reference: &str) -> Result<User> {
        if reference.is_empty() {
            return Err(Error::invalid("user", "is required (a user id or login)"));
        }
        let users = &self.deps.users;
        if let Some(user) = users
            .get_user_by_login(reference)
            .await
            .map_err(store_err)?
        {
            return Ok(user);
        }
        if let Ok(id) = UserId::parse("user", reference) {
            if let Some(user) = users.get_user(&id).await.map_err(store_err)? {
                return Ok(user);
            }
        }
        Err(Error::NotFound(format!("user '{reference}'")))
    }

    pub async fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>> {
        if !actor.user.instance_admin {
            return Err(Error::PermissionDenied(
                "only instance administrators can list all users".into(),
            ));
        }
        let rows = self.deps.users.list_users(page).await.map_err(store_err)?;
        Ok(page_of(rows, page, |u| u.login.as_str().to_owned()))
    }
}
