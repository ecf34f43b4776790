//! Keeping the sanitizer's serializer linear.
//!
//! html5ever's HTML serializer (which ammonia uses) escapes a text node or an attribute value
//! by searching for the next `<`, `>` (or `"`) and then for the next `&` or 0xC2 byte before
//! it; after each `&`/0xC2 it starts over. So one text node or value of length `L` holding `k`
//! such bytes costs about `k × L`: a megabyte of `&` in one text node takes minutes.
//!
//! The writer keeps every text node and attribute value within [`BUDGET`]: it breaks text with
//! empty comments (`<!---->`, which the parser turns into separate text nodes and the sanitizer
//! then strips), cuts `title`/`alt` values and drops URLs that would exceed it. Normal text,
//! with few ampersands, is hardly ever broken.

/// The most `k × L` allowed for one text node or attribute value. Whatever the input, the
/// serializer then does at most `sqrt(BUDGET)` (256) steps per byte.
pub(crate) const BUDGET: usize = 1 << 16;

/// Bytes that make the serializer start over.
pub(crate) fn is_special(b: u8) -> bool {
    b == b'&' || b == 0xC2
}

/// The serializer's cost for `s` as one text node or attribute value.
pub(crate) fn cost(s: &str) -> usize {
    let specials = s.bytes().filter(|&b| is_special(b)).count();
    specials.saturating_mul(s.len())
}

/// The longest prefix of `s`, cut on a char boundary, that is within the budget.
pub(crate) fn fit(s: &str) -> &str {
    let mut specials = 0usize;
    for (i, b) in s.bytes().enumerate() {
        specials += usize::from(is_special(b));
        if specials * (i + 1) > BUDGET {
            let mut cut = i;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            return &s[..cut];
        }
    }
    s
}

/// The text written since the last break.
#[derive(Debug, Default)]
pub(crate) struct TextRun {
    len: usize,
    specials: usize,
}

impl TextRun {
    /// Accounts for the byte `b`, which is about to be written; `true` when a break must come
    /// before it.
    pub(crate) fn needs_break_before(&self, b: u8) -> bool {
        self.len > 0 && (self.specials + usize::from(is_special(b))) * (self.len + 1) > BUDGET
    }

    pub(crate) fn add(&mut self, b: u8) {
        self.len += 1;
        self.specials += usize::from(is_special(b));
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_counts_ampersands_and_latin1_lead_bytes() {
        assert_eq!(cost("abc"), 0);
        assert_eq!(cost("a&b"), 3);
        assert_eq!(cost("\u{a9}\u{a9}"), 2 * 4);
    }

    #[test]
    fn fit_cuts_within_budget_on_char_boundaries() {
        let amps = "&".repeat(1000);
        let fitted = fit(&amps);
        assert_eq!(fitted.len(), 256);
        assert!(cost(fitted) <= BUDGET);
        let latin = "\u{a9}".repeat(1000);
        let fitted = fit(&latin);
        assert!(cost(fitted) <= BUDGET && fitted.len() > 300);
        let plain = "a".repeat(1 << 20);
        assert_eq!(fit(&plain).len(), 1 << 20);
    }

    #[test]
    fn text_runs_break_only_when_the_budget_is_spent() {
        let mut run = TextRun::default();
        for _ in 0..100_000 {
            assert!(!run.needs_break_before(b'a'));
            run.add(b'a');
        }
        assert!(run.needs_break_before(b'&'));
        run.reset();
        let mut breaks = 0;
        for _ in 0..1 << 20 {
            if run.needs_break_before(b'&') {
                breaks += 1;
                run.reset();
            }
            run.add(b'&');
        }
        assert_eq!(breaks, (1 << 20) / 256 - 1);
    }
}
