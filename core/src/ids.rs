//! Identifiers. They are opaque strings made by the id port; the domain only compares them.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Checks an id that came from outside: non-empty, at most 64 visible ASCII characters.
            pub fn parse(field: &'static str, value: &str) -> crate::Result<Self> {
                if value.is_empty() {
                    return Err(crate::Error::invalid(field, "is required"));
                }
                if value.len() > 64 || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(crate::Error::invalid(field, "is not a valid id"));
                }
                Ok(Self(value.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A workspace's stable id.
    WorkspaceId
);
id_type!(
    /// A user's stable id.
    UserId
);
id_type!(
    /// An API token's id (not its secret).
    TokenId
);
id_type!(
    /// A knowledge space's id.
    SpaceId
);
id_type!(
    /// A page's id.
    PageId
);
id_type!(
    /// An API's id (API catalog).
    ApiId
);
id_type!(
    /// A catalogued repository's id.
    RepositoryId
);
