use crate::{Error, Result, Timestamp, TokenId, UserId, clean_text};

/// A user's unique handle: lowercase ASCII letters, digits, `.`, `-` and `_`, 2 to 64
/// characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    pub fn parse(value: &str) -> Result<Self> {
        let field = "login";
        if !(2..=64).contains(&value.len()) {
            return Err(Error::invalid(field, "must be 2 to 64 characters long"));
        }
        if let Some(c) = value.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        }) {
            return Err(Error::invalid(
                field,
                format!(
                    "may contain only lowercase letters, digits, '.', '-' and '_', found {c:?}"
                ),
            ));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(Error::invalid(field, "must start with a letter or digit"));
        }
        Ok(Login(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person (or robot) who can sign in to this Orbit instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub login: Login,
    pub display_name: String,
    pub email: String,
    /// Instance administrators create users; they have no special power inside workspaces.
    pub instance_admin: bool,
    pub created_at: Timestamp,
}

/// What a caller typed to create a user, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub instance_admin: bool,
}

impl NewUser {
    pub fn validate(self, id: UserId, now: Timestamp) -> Result<User> {
        let login = Login::parse(&self.login)?;
        let display_name = clean_text("display_name", &self.display_name, false, 100)?;
        let email = clean_text("email", &self.email, false, 254)?;
        if !email.is_empty() && (!email.contains('@') || email.contains(char::is_whitespace)) {
            return Err(Error::invalid("email", "is not an e-mail address"));
        }
        Ok(User {
            id,
            display_name: if display_name.is_empty() {
                login.as_str().to_owned()
            } else {
                display_name
            },
            login,
            email,
            instance_admin: self.instance_admin,
            created_at: now,
        })
    }
}

/// A personal API token. The secret itself is never stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// The authenticated caller of a use case. Every use case takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: User,
    /// The token that authenticated the request, if a token did.
    pub token_id: Option<TokenId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert!(Login::parse("ada.lovelace_1").is_ok());
        assert!(Login::parse("a").is_err());
        assert!(Login::parse("_ada").is_err());
        assert_eq!(
            Login::parse("Ada").unwrap_err().to_string(),
            "login may contain only lowercase letters, digits, '.', '-' and '_', found 'A'"
        );
    }

    #[test]
    fn new_user_defaults_display_name_and_checks_email() {
        let user = NewUser {
            login: "ada".into(),
            ..Default::default()
        }
        .validate(UserId::new("u1"), Timestamp(5))
        .unwrap();
        assert_eq!(user.display_name, "ada");
        let err = NewUser {
            login: "ada".into(),
            email: "nope".into(),
            ..Default::default()
        }
        .validate(UserId::new("u1"), Timestamp(5))
        .unwrap_err();
        assert_eq!(err.to_string(), "email is not an e-mail address");
    }

    #[test]
    fn token_usability() {
        let mut token = ApiToken {
            id: TokenId::new("t"),
            user_id: UserId::new("u"),
            name: "ci".into(),
            prefix: "orb_abcd".into(),
            created_at: Timestamp(0),
            expires_at: Some(Timestamp(10)),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(token.is_usable(Timestamp(9)));
        assert!(!token.is_usable(Timestamp(10)));
        token.expires_at = None;
        assert!(token.is_usable(Timestamp(1_000_000)));
        token.revoked_at = Some(Timestamp(3));
        assert!(!token.is_usable(Timestamp(4)));
    }
}
