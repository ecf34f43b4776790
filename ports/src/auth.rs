use async_trait::async_trait;
use orbit_core::Actor;
use thiserror::Error;

/// What a request presented to prove who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Bearer <secret>`, or the web UI's session cookie holding the same.
    Bearer(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The credentials are unknown, revoked or expired. The message is safe to show.
    #[error("{0}")]
    Rejected(String),
    /// The identity backend could not be asked.
    #[error("authentication unavailable: {0}")]
    Unavailable(String),
}

/// Turns credentials into the actor every use case takes. The embedded default checks
/// hashed API tokens; an OIDC adapter implements the same trait.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Actor, AuthError>;
}
