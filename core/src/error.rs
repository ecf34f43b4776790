use thiserror::Error;

/// How a use case can fail. Each variant maps to exactly one Connect code at the edge;
/// the message is written for the person who made the request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The request itself is wrong; `field` names the offending input.
    #[error("{field} {message}")]
    InvalidArgument { field: String, message: String },
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// The system is not in a state that allows the operation (e.g. removing the last owner).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A concurrent change won: e.g. the page was saved by someone else since the caller
    /// read it. The caller should reload and merge.
    #[error("{0}")]
    Aborted(String),
    /// A dependency (database…) is unreachable; retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the message is for the logs, not for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }
}
