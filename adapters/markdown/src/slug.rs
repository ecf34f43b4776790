//! GitHub-style heading anchors, unique per document.

use std::collections::{HashMap, HashSet};

/// Anchors longer than this (in characters) are cut: a hostile one-megabyte heading must not
/// turn into a one-megabyte `id`.
const MAX_SLUG_CHARS: usize = 100;

/// The anchor used when a heading has no letter or digit at all.
const EMPTY_SLUG: &str = "section";

/// Hands out unique anchors: the first `Intro` is `intro`, the next ones `intro-1`, `intro-2`…
#[derive(Debug, Default)]
pub(crate) struct Slugger {
    used: HashSet<String>,
    /// The next suffix to try per base slug, so that many equal headings stay linear.
    next_suffix: HashMap<String, usize>,
}

impl Slugger {
    pub(crate) fn unique(&mut self, text: &str) -> String {
        let base = slugify(text);
        let slug = if self.used.contains(&base) {
            let next = self.next_suffix.entry(base.clone()).or_insert(1);
            loop {
                let candidate = format!("{base}-{next}");
                *next += 1;
                if !self.used.contains(&candidate) {
                    break candidate;
                }
            }
        } else {
            base
        };
        self.used.insert(slug.clone());
        slug
    }
}

/// GitHub's rule: lowercase, letters, digits, `-` and `_` kept, each space becomes `-`, any
/// other character (punctuation, symbols) is dropped.
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::new();
    let mut chars = 0;
    for c in text.trim().chars() {
        if chars == MAX_SLUG_CHARS {
            break;
        }
        if c.is_alphanumeric() || c == '-' || c == '_' {
            slug.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            slug.push('-');
        } else {
            continue;
        }
        chars += 1;
    }
    if slug.is_empty() {
        slug.push_str(EMPTY_SLUG);
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_follows_github() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  API v2.0 (beta)  "), "api-v20-beta");
        assert_eq!(slugify("snake_case & kebab-case"), "snake_case--kebab-case");
        assert_eq!(slugify("Ünïcödé Straße"), "ünïcödé-straße");
        assert_eq!(slugify("?!"), "section");
        assert_eq!(slugify(&"x".repeat(1000)).len(), MAX_SLUG_CHARS);
    }

    #[test]
    fn duplicates_get_numbered_suffixes() {
        let mut s = Slugger::default();
        assert_eq!(s.unique("Intro"), "intro");
        assert_eq!(s.unique("Intro"), "intro-1");
        assert_eq!(s.unique("intro-2"), "intro-2");
        assert_eq!(s.unique("Intro"), "intro-3");
        assert_eq!(s.unique("Intro 1"), "intro-1-1");
        assert_eq!(s.unique("?"), "section");
        assert_eq!(s.unique("!"), "section-1");
    }
}
