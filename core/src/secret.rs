//! Secrets (git host tokens, passwords): values that must never reach a log, an error
//! message or an API response.

use std::fmt;

/// A secret string. `Debug` and `Display` print `[redacted]`; the value is only reachable
/// through [`Secret::expose`], so every place that reads it is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: hand it only to the thing that needs it (an HTTP header, a child
    /// process's environment), never to a log or a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, to show a person which token is set (empty when the secret
    /// has fewer than 12 characters, so a short secret is not half revealed).
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return String::new();
        }
        chars[chars.len() - 4..].iter().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let s = Secret::new("ghp_abcdefghijklmnop1234");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(s.expose(), "ghp_abcdefghijklmnop1234");
        assert_eq!(s.last4(), "1234");
        assert_eq!(Secret::new("short").last4(), "");
    }
}
