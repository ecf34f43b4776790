//! Orbit's domain: the types every other crate speaks, the rules that make a value valid,
//! and the errors a use case can end with.
//!
//! Architecture invariant: this crate does no I/O and depends on no runtime, datastore,
//! web framework or generated protocol type. Values are validated when they are built
//! (`Slug::parse`, `Login::parse`…), so a value of a domain type is always valid.

pub mod api;
pub mod error;
pub mod githost;
pub mod ids;
pub mod knowledge;
pub mod page;
pub mod repository;
pub mod secret;
pub mod time;
pub mod user;
pub mod workflow;
pub mod workspace;

pub use error::{Error, Result};
pub use githost::{GitHostConnection, GitProvider};
pub use ids::RepositoryId;
pub use ids::{PageId, SpaceId, TokenId, UserId, WorkspaceId};
pub use page::{Cursor, Page, PageRequest};
pub use secret::Secret;
pub use time::Timestamp;
pub use user::{Actor, ApiToken, Login, NewUser, User};
pub use workspace::{Member, Membership, Role, Slug, Workspace, WorkspacePatch};

/// Checks free text a person typed: trimmed, at most `max` characters, no control characters.
/// Empty text is refused when `required`.
pub fn clean_text(field: &'static str, value: &str, required: bool, max: usize) -> Result<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(Error::invalid(
            field,
            format!("is {chars} characters long; the limit is {max}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_trims_and_limits() {
        assert_eq!(
            clean_text("name", "  Platform  ", true, 10).unwrap(),
            "Platform"
        );
        let err = clean_text("name", "   ", true, 10).unwrap_err();
        assert_eq!(err.to_string(), "name must not be empty");
        let err = clean_text("name", "abcdefghijk", true, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "name is 11 characters long; the limit is 10"
        );
        assert!(clean_text("name", "a\u{7}b", true, 10).is_err());
        assert_eq!(clean_text("description", "", false, 10).unwrap(), "");
    }
}
