use crate::{Error, Result, Timestamp, UserId, WorkspaceId, clean_text};
use std::fmt;

/// A workspace's URL name: lowercase ASCII letters, digits and dashes, 3 to 63 characters,
/// starting with a letter or digit and not ending with a dash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(value: &str) -> Result<Self> {
        let field = "slug";
        let len = value.len();
        if !(3..=63).contains(&len) {
            return Err(Error::invalid(
                field,
                format!(
                    "must be 3 to 63 characters long, got {}",
                    value.chars().count()
                ),
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(Error::invalid(
                field,
                format!("may contain only lowercase letters, digits and dashes, found {c:?}"),
            ));
        }
        if value.starts_with('-') || value.ends_with('-') {
            return Err(Error::invalid(field, "must not start or end with a dash"));
        }
        Ok(Slug(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member's role inside one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Owners and admins manage members and settings.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Everyone but viewers writes content.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant. Everything else in Orbit belongs to exactly one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;

impl Workspace {
    /// Validates what a person typed for a new workspace.
    pub fn new(
        id: WorkspaceId,
        slug: &str,
        name: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<Self> {
        Ok(Workspace {
            id,
            slug: Slug::parse(slug)?,
            name: clean_text("name", name, true, NAME_MAX)?,
            description: clean_text("description", description, false, DESCRIPTION_MAX)?,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies a validated change. Returns whether anything changed.
    pub fn apply(&mut self, patch: WorkspacePatch, now: Timestamp) -> Result<bool> {
        let mut changed = false;
        if let Some(name) = patch.name {
            let name = clean_text("name", &name, true, NAME_MAX)?;
            changed |= name != self.name;
            self.name = name;
        }
        if let Some(description) = patch.description {
            let description = clean_text("description", &description, false, DESCRIPTION_MAX)?;
            changed |= description != self.description;
            self.description = description;
        }
        if changed {
            self.updated_at = now;
        }
        Ok(changed)
    }
}

/// The fields of a workspace a caller may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A user's membership of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: Role,
    pub created_at: Timestamp,
}

/// A membership with the user's names, as member lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub membership: Membership,
    pub login: String,
    pub display_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["abc", "platform-team", "a1-b2", &"a".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("ab", "slug must be 3 to 63 characters long, got 2"),
            (
                "Platform",
                "slug may contain only lowercase letters, digits and dashes, found 'P'",
            ),
            (
                "a_b",
                "slug may contain only lowercase letters, digits and dashes, found '_'",
            ),
            ("-abc", "slug must not start or end with a dash"),
            ("abc-", "slug must not start or end with a dash"),
        ];
        for (input, message) in cases {
            assert_eq!(Slug::parse(input).unwrap_err().to_string(), message);
        }
        assert!(Slug::parse(&"a".repeat(64)).is_err());
        assert!(Slug::parse("héllo").is_err());
    }

    #[test]
    fn roles_round_trip_and_rank() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(Role::Admin.can_administer());
        assert!(!Role::Member.can_administer());
        assert!(!Role::Viewer.can_write());
    }

    #[test]
    fn apply_patch_validates_and_tracks_changes() {
        let mut ws =
            Workspace::new(WorkspaceId::new("w"), "abc", "Name", "", Timestamp(1)).unwrap();
        let changed = ws
            .apply(
                WorkspacePatch {
                    name: Some("Name".into()),
                    description: None,
                },
                Timestamp(2),
            )
            .unwrap();
        assert!(!changed);
        assert_eq!(ws.updated_at, Timestamp(1));
        assert!(
            ws.apply(
                WorkspacePatch {
                    name: Some("".into()),
                    description: None
                },
                Timestamp(3)
            )
            .is_err()
        );
        let changed = ws
            .apply(
                WorkspacePatch {
                    name: None,
                    description: Some("About".into()),
                },
                Timestamp(4),
            )
            .unwrap();
        assert!(changed);
        assert_eq!(ws.updated_at, Timestamp(4));
    }
}
