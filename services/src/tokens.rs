use crate::{CachedReads, Deps, store_err};
use async_trait::async_trait;
use orbit_core::{
    Actor, ApiToken, Error, Login, NewUser, Result, Timestamp, TokenId, User, UserId, clean_text,
};
use orbit_ports::{AuthError, Authenticator, Credentials, StoreError, TokenHash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every secret Orbit issues starts with this, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "orbit_";
/// The longest token lifetime a caller may ask for: ten years.
const MAX_TTL_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// How stale a token's `last_used_time` may be.
const TOUCH_EVERY_MS: i64 = 5 * 60 * 1000;

/// Token secrets carry at least 128 bits of entropy, so one round of SHA-256 is the right
/// hash (a slow password hash would add latency to every request and no security).
pub fn hash_secret(secret: &str) -> TokenHash {
    let digest = Sha256::digest(secret.as_bytes());
    TokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn token_key(hash: &TokenHash) -> String {
    format!("tok:{}", hash.0)
}

/// What the cache keeps for an authenticated token.
#[derive(Serialize, Deserialize)]
struct CachedActor {
    user_id: String,
    login: String,
    display_name: String,
    email: String,
    instance_admin: bool,
    created_at: i64,
    token_id: String,
    expires_at: Option<i64>,
}

/// The outcome of first-start bootstrapping.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub user: User,
    /// The secret of the admin's token.
    pub secret: String,
    /// True when Orbit made the secret up (it must be shown to the operator once).
    pub generated: bool,
}

#[derive(Clone)]
pub struct TokenService {
    deps: Deps,
    cache: CachedReads,
}

impl TokenService {
    pub(crate) fn new(deps: Deps, cache: CachedReads) -> Self {
        TokenService { deps, cache }
    }

    fn new_secret(&self) -> String {
        format!("{TOKEN_PREFIX}{}", self.deps.ids.secret_hex(24))
    }

    async fn insert(
        &self,
        user: &UserId,
        name: String,
        secret: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<ApiToken> {
        let token = ApiToken {
            id: TokenId::new(self.deps.ids.new_id()),
            user_id: user.clone(),
            name,
            // Generated secrets show their random start; a secret chosen by hand (the
            // bootstrap token) shows only 4 characters, to reveal little of it.
            prefix: if secret.starts_with(TOKEN_PREFIX) {
                secret.chars().take(TOKEN_PREFIX.len() + 6).collect()
            } else {
                secret.chars().take(4).collect()
            },
            created_at: self.deps.clock.now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        self.deps
            .users
            .create_token(&token, &hash_secret(secret))
            .await
            .map_err(store_err)?;
        Ok(token)
    }

    /// On an empty database, creates the instance administrator `admin` and a token for it:
    /// `configured` when given (e.g. from `ORBIT_BOOTSTRAP_TOKEN`), else a new random secret.
    /// Returns `None` when users exist already.
    pub async fn bootstrap(&self, configured: Option<&str>) -> Result<Option<Bootstrap>> {
        if self.deps.users.count_users().await.map_err(store_err)? > 0 {
            return Ok(None);
        }
        if let Some(secret) = configured {
            if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::invalid(
                    "ORBIT_BOOTSTRAP_TOKEN",
                    "must be at least 16 visible ASCII characters",
                ));
            }
        }
        let user = NewUser {
            login: "admin".into(),
            display_name: "Administrator".into(),
            email: String::new(),
            instance_admin: true,
        }
        .validate(UserId::new(self.deps.ids.new_id()), self.deps.clock.now())?;
        match self.deps.users.create_user(&user).await {
            Ok(()) => {}
            // Another process bootstrapped at the same moment.
            Err(StoreError::AlreadyExists(_)) => return Ok(None),
            Err(err) => return Err(store_err(err)),
        }
        let (secret, generated) = match configured {
            Some(secret) => (secret.to_owned(), false),
            None => (self.new_secret(), true),
        };
        self.insert(&user.id, "bootstrap".into(), &secret, None)
            .await?;
        tracing::info!(user = %user.id, "bootstrapped the instance administrator 'admin'");
        Ok(Some(Bootstrap {
            user,
            secret,
            generated,
        }))
    }

    /// Creates a token for the actor, or (instance administrators only) for another user.
    pub async fn create(
        &self,
        actor: &Actor,
        name: &str,
        ttl_seconds: i64,
        for_user: &str,
    ) -> Result<(ApiToken, String)> {
        let name = clean_text("name", name, true, 100)?;
        if !(0..=MAX_TTL_SECONDS).contains(&ttl_seconds) {
            return Err(Error::invalid(
                "ttl_seconds",
                format!("must be between 0 (never expires) and {MAX_TTL_SECONDS}"),
            ));
        }
        let owner = if for_user.is_empty()
            || for_user == actor.user.login.as_str()
            || for_user == actor.user.id.as_str()
        {
            actor.user.id.clone()
        } else {
            if !actor.user.instance_admin {
                return Err(Error::PermissionDenied(
                    "only instance administrators can create tokens for other users".into(),
                ));
            }
            let users = &self.deps.users;
            let found = match Login::parse(for_user) {
                Ok(login) => users
                    .get_user_by_login(login.as_str())
                    .await
                    .map_err(store_err)?,
                Err(_) => None,
            };
            let found = match found {
                Some(u) => Some(u),
                None => match UserId::parse("user", for_user) {
                    Ok(id) => users.get_user(&id).await.map_err(store_err)?,
                    Err(_) => None,
                },
            };
            found
                .ok_or_else(|| Error::NotFound(format!("user '{for_user}'")))?
                .id
        };
        let expires_at = (ttl_seconds > 0).then(|| self.deps.clock.now().plus_seconds(ttl_seconds));
        let secret = self.new_secret();
        let token = self.insert(&owner, name, &secret, expires_at).await?;
        tracing::info!(token = %token.id, user = %owner, by = %actor.user.id, "token created");
        Ok((token, secret))
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        self.deps
            .users
            .list_tokens(&actor.user.id)
            .await
            .map_err(store_err)
    }

    pub async fn revoke(&self, actor: &Actor, token_id: &str) -> Result<()> {
        let id = TokenId::parse("id", token_id)?;
        let now = self.deps.clock.now();
        let hash = self
            .deps
            .users
            .revoke_token(&actor.user.id, &id, now)
            .await
            .map_err(|err| match err {
                StoreError::NotFound(_) => Error::NotFound(format!("active token '{token_id}'")),
                other => store_err(other),
            })?;
        self.cache.invalidate(vec![token_key(&hash)]).await;
        tracing::info!(token = %id, user = %actor.user.id, "token revoked");
        Ok(())
    }

    async fn actor_for_secret(&self, secret: &str) -> std::result::Result<Actor, AuthError> {
        let rejected = || AuthError::Rejected("the token is unknown, revoked or expired".into());
        if secret.is_empty() || secret.len() > 512 {
            return Err(rejected());
        }
        let now = self.deps.clock.now();
        let hash = hash_secret(secret);
        let key = token_key(&hash);
        if let Some(c) = self.cache.get::<CachedActor>(&key).await {
            if c.expires_at.is_some_and(|at| now.0 >= at) {
                return Err(rejected());
            }
            if let Ok(login) = Login::parse(&c.login) {
                return Ok(Actor {
                    user: User {
                        id: UserId::new(c.user_id),
                        login,
                        display_name: c.display_name,
                        email: c.email,
                        instance_admin: c.instance_admin,
                        created_at: Timestamp(c.created_at),
                    },
                    token_id: Some(TokenId::new(c.token_id)),
                });
            }
        }
        let found = self
            .deps
            .users
            .find_token(&hash)
            .await
            .map_err(|err| match err {
                StoreError::Unavailable(msg) => AuthError::Unavailable(msg),
                other => AuthError::Unavailable(other.to_string()),
            })?;
        let Some((token, user)) = found else {
            return Err(rejected());
        };
        if !token.is_usable(now) {
            return Err(rejected());
        }
        // Last use is recorded with a resolution of a few minutes, not on every request:
        // a write per request would make every read a write.
        if token
            .last_used_at
            .is_none_or(|at| now.0 - at.0 >= TOUCH_EVERY_MS)
        {
            if let Err(err) = self.deps.users.touch_token(&token.id, now).await {
                tracing::warn!(token = %token.id, error = %err, "could not record token use");
            }
        }
        let cached = CachedActor {
            user_id: user.id.to_string(),
            login: user.login.as_str().to_owned(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            instance_admin: user.instance_admin,
            created_at: user.created_at.0,
            token_id: token.id.to_string(),
            expires_at: token.expires_at.map(|t| t.0),
        };
        self.cache.put(&key, &cached).await;
        Ok(Actor {
            user,
            token_id: Some(token.id),
        })
    }
}

#[async_trait]
impl Authenticator for TokenService {
    async fn authenticate(
        &self,
        credentials: &Credentials,
    ) -> std::result::Result<Actor, AuthError> {
        match credentials {
            Credentials::Bearer(secret) => self.actor_for_secret(secret).await,
        }
    }
}
