//! What the person typed, turned into words; and the snippet cut from a hit's body.
//!
//! The words come from the same analyzer the index uses (split on non-alphanumerics,
//! lowercased, ASCII-folded), so no query syntax exists that could fail to parse.

use tantivy::tokenizer::TextAnalyzer;

/// At most this many words of a query are used; the rest is ignored.
pub const MAX_WORDS: usize = 16;
/// The longest snippet cut around a match, in bytes of the body text.
pub const SNIPPET_CHARS: usize = 200;
/// The length of the excerpt shown when the body has no match (the match was in the title).
pub const LEAD_CHARS: usize = 160;

/// One word of the query and how loosely it may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub text: String,
    /// The last word also matches as a prefix: the person may still be typing it.
    pub prefix: bool,
    /// Edits (Damerau–Levenshtein, a transposition costs one) tolerated as a typo.
    pub distance: u8,
}

/// Splits `text` into query words with `analyzer`; the last word is a prefix.
pub fn query_words(analyzer: &TextAnalyzer, text: &str) -> Vec<QueryWord> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut words: Vec<QueryWord> = Vec::new();
    while let Some(token) = stream.next() {
        if words.len() == MAX_WORDS {
            break;
        }
        words.push(QueryWord {
            distance: typo_distance(&token.text),
            text: token.text.clone(),
            prefix: false,
        });
    }
    if let Some(last) = words.last_mut() {
        last.prefix = true;
    }
    words
}

/// Typos tolerated in a word: none under 4 characters, one from 4, two from 8.
pub fn typo_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// How well a body token matches the query (for highlighting), if at all.
fn token_weight(token: &str, words: &[QueryWord]) -> Option<f32> {
    let mut best: Option<f32> = None;
    for word in words {
        let weight = if token == word.text {
            1.0
        } else if word.prefix && token.starts_with(&word.text) {
            0.8
        } else if word.distance > 0 && within_distance(token, &word.text, word.distance) {
            0.5
        } else {
            continue;
        };
        best = Some(best.map_or(weight, |b: f32| b.max(weight)));
    }
    best
}

/// [`token_weight`] for an ASCII word as it stands in the body, for queries without typos:
/// its lowercase form is what the analyzer makes of it, so a case-insensitive comparison
/// with the (normalised) query words gives the same weight.
fn ascii_weight(raw: &[u8], words: &[QueryWord]) -> Option<f32> {
    let mut best: Option<f32> = None;
    for word in words {
        let w = word.text.as_bytes();
        let weight = if raw.len() == w.len() && raw.eq_ignore_ascii_case(w) {
            1.0
        } else if word.prefix && raw.len() > w.len() && raw[..w.len()].eq_ignore_ascii_case(w) {
            0.8
        } else {
            continue;
        };
        best = Some(best.map_or(weight, |b: f32| b.max(weight)));
    }
    best
}

/// Whether the optimal-string-alignment distance between `a` and `b` is at most `max`.
pub fn within_distance(a: &str, b: &str, max: u8) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // Three rows: the one before the previous (for transpositions), the previous, the current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = current[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
            row_min = row_min.min(value);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()] <= max
}

/// The snippet of a hit: the best fragment of `body` around the query's words with the
/// matches in `<mark>…</mark>`, or the start of the body when nothing in it matches; every
/// other character HTML-escaped.
pub fn snippet(analyzer: &TextAnalyzer, body: &str, words: &[QueryWord]) -> String {
    if !words.is_empty() {
        if let Some((start, stop, highlighted)) = best_fragment(analyzer, body, words) {
            let fragment = &body[start..stop];
            let mut html = String::with_capacity(fragment.len() + 32);
            if start > 0 {
                html.push('…');
            }
            let mut from = 0;
            for range in merge_ranges(&highlighted) {
                let range = range.start - start..range.end - start;
                escape_into(&mut html, &fragment[from..range.start]);
                html.push_str("<mark>");
                escape_into(&mut html, &fragment[range.clone()]);
                html.push_str("</mark>");
                from = range.end;
            }
            escape_into(&mut html, &fragment[from..]);
            if stop < body.len() {
                html.push('…');
            }
            return html;
        }
    }
    lead(body)
}

/// The best fragment of `body` (start, end, and the byte ranges of the matching words), in
/// one pass over its words: the body is cut into consecutive fragments of at most
/// [`SNIPPET_CHARS`] bytes at word starts, each scored by the weights of its matching words
/// (see [`token_weight`]); the highest score wins, the earliest on equal scores (tantivy's
/// `SnippetGenerator` cuts and scores the same way, but needs the matching words first: a
/// second pass). `None` when no word matches.
fn best_fragment(
    analyzer: &TextAnalyzer,
    body: &str,
    words: &[QueryWord],
) -> Option<(usize, usize, Vec<std::ops::Range<usize>>)> {
    best_fragment_with(analyzer, body, words, true)
}

/// [`best_fragment`]; `fast` lets a query without typos compare ASCII words as they are
/// (case-insensitively), without lowercasing each word of the body first: the same
/// weights (a test holds both ways equal), at a fraction of the cost.
fn best_fragment_with(
    analyzer: &TextAnalyzer,
    body: &str,
    words: &[QueryWord],
    fast: bool,
) -> Option<(usize, usize, Vec<std::ops::Range<usize>>)> {
    struct Fragment {
        start: usize,
        stop: usize,
        score: f32,
        highlighted: Vec<std::ops::Range<usize>>,
    }
    fn fragment(start: usize) -> Fragment {
        Fragment {
            start,
            stop: start,
            score: 0.0,
            highlighted: Vec::new(),
        }
    }
    fn keep_better(best: &mut Option<Fragment>, candidate: Fragment) {
        if candidate.score > 0.0 && best.as_ref().is_none_or(|b| candidate.score > b.score) {
            *best = Some(candidate);
        }
    }
    let mut current = fragment(0);
    let mut best: Option<Fragment> = None;
    let mut on_word = |from: usize, to: usize, weight: Option<f32>| {
        if to - current.start > SNIPPET_CHARS {
            let done = std::mem::replace(&mut current, fragment(from));
            keep_better(&mut best, done);
        }
        current.stop = to;
        if let Some(weight) = weight {
            current.score += weight;
            current.highlighted.push(from..to);
        }
    };
    let typos = words.iter().any(|w| w.distance > 0);
    if typos || !fast {
        // Typo matching (an edit distance per word) is worked out once per distinct word.
        let mut weights: std::collections::HashMap<String, Option<f32>> =
            std::collections::HashMap::new();
        for_each_word(analyzer, body, |from, to, text| {
            let weight = if !typos {
                token_weight(text, words)
            } else {
                match weights.get(text) {
                    Some(weight) => *weight,
                    None => {
                        let weight = token_weight(text, words);
                        weights.insert(text.to_owned(), weight);
                        weight
                    }
                }
            };
            on_word(from, to, weight);
        });
    } else {
        let mut full: Option<TextAnalyzer> = None;
        scan_words(body, |from, to, ascii| {
            let raw = &body[from..to];
            if ascii {
                on_word(from, to, ascii_weight(raw.as_bytes(), words));
            } else {
                let analyzer = full.get_or_insert_with(|| analyzer.clone());
                let mut stream = analyzer.token_stream(raw);
                while let Some(token) = stream.next() {
                    on_word(
                        from + token.offset_from,
                        from + token.offset_to,
                        token_weight(&token.text, words),
                    );
                }
            }
        });
    }
    keep_better(&mut best, current);
    best.map(|f| (f.start, f.stop, f.highlighted))
}

/// Words at least this long (in bytes) are left out, as the index's analyzer leaves them out.
const LONG_WORD_BYTES: usize = 40;

/// Calls `visit(from, to, text)` for each word of `body` exactly as the index's `analyzer`
/// cuts and normalises it (runs of alphanumeric characters, shorter than
/// [`LONG_WORD_BYTES`], lowercased, accents folded), without its per-token work where it is
/// not needed: an ASCII word (nearly all of them) is lowercased into one reused buffer, and
/// only a word with other characters goes through the analyzer. Cutting snippets from the
/// twenty bodies of a page of hits was the largest part of a search's CPU.
pub fn for_each_word(
    analyzer: &TextAnalyzer,
    body: &str,
    mut visit: impl FnMut(usize, usize, &str),
) {
    let mut normalized = String::new();
    let mut full: Option<TextAnalyzer> = None;
    scan_words(body, |from, to, ascii| {
        let word = &body[from..to];
        if ascii {
            normalized.clear();
            normalized.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
            visit(from, to, &normalized);
        } else {
            let analyzer = full.get_or_insert_with(|| analyzer.clone());
            let mut stream = analyzer.token_stream(word);
            while let Some(token) = stream.next() {
                visit(
                    from + token.offset_from,
                    from + token.offset_to,
                    &token.text,
                );
            }
        }
    });
}

/// Calls `visit(from, to, ascii)` for each run of alphanumeric characters of `body`
/// shorter than [`LONG_WORD_BYTES`] (the words the index's analyzer keeps), saying
/// whether the run is all ASCII.
fn scan_words(body: &str, mut visit: impl FnMut(usize, usize, bool)) {
    let bytes = body.as_bytes();
    let mut start: Option<usize> = None;
    let mut ascii = true;
    let mut i = 0;
    while i <= bytes.len() {
        let (alphanumeric, is_ascii, len) = match bytes.get(i) {
            None => (false, true, 1),
            Some(&b) if b < 0x80 => (b.is_ascii_alphanumeric(), true, 1),
            Some(_) => {
                let c = body[i..].chars().next().unwrap_or(' ');
                (c.is_alphanumeric(), false, c.len_utf8())
            }
        };
        if alphanumeric {
            if start.is_none() {
                start = Some(i);
                ascii = true;
            }
            ascii &= is_ascii;
        } else if let Some(from) = start.take()
            && i - from < LONG_WORD_BYTES
        {
            visit(from, i, ascii);
        }
        i += len;
    }
}

/// The first [`LEAD_CHARS`] characters of `body`, cut at a word boundary, escaped.
pub fn lead(body: &str) -> String {
    let body = body.trim();
    let mut html = String::new();
    match body.char_indices().nth(LEAD_CHARS) {
        None => escape_into(&mut html, body),
        Some((cut, _)) => {
            let head = &body[..cut];
            let head = match head.rfind(char::is_whitespace) {
                Some(space) if space > cut / 2 => &head[..space],
                _ => head,
            };
            escape_into(&mut html, head.trim_end());
            html.push('…');
        }
    }
    html
}

/// Sorted, non-overlapping ranges; adjacent highlights stay separate marks.
fn merge_ranges(ranges: &[std::ops::Range<usize>]) -> Vec<std::ops::Range<usize>> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start < last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Appends `text` with `& < > " '` escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_a_transposition_as_one_edit() {
        assert!(within_distance("deploymnet", "deployment", 1));
        assert!(within_distance("deploy", "deploy", 0));
        assert!(within_distance("kitten", "sitten", 1));
        assert!(!within_distance("kitten", "sitting", 2));
        assert!(within_distance("kitten", "sitting", 3));
        assert!(!within_distance("abc", "abcdef", 2));
    }

    #[test]
    fn words_are_cut_as_the_index_analyzer_cuts_them() {
        let analyzer = crate::analyzer();
        let long = "x".repeat(LONG_WORD_BYTES);
        let almost = "y".repeat(LONG_WORD_BYTES - 1);
        for body in [
            "",
            "Deploy the API-Gateway: v2.3 (rolling) — état Ünïcode Straße 東京 café",
            "  leading, trailing!! ",
            &format!("{long} short {almost} Ärger{long}"),
            "snake_case kebab-case CamelCase 42x ½ ⅷ",
        ] {
            let mut expected = Vec::new();
            let mut a = analyzer.clone();
            let mut stream = a.token_stream(body);
            while let Some(t) = stream.next() {
                expected.push((t.offset_from, t.offset_to, t.text.clone()));
            }
            let mut seen = Vec::new();
            for_each_word(&analyzer, body, |from, to, text| {
                seen.push((from, to, text.to_owned()))
            });
            assert_eq!(seen, expected, "{body:?}");
        }
    }

    #[test]
    fn the_fast_path_weighs_words_as_the_analyzer_does() {
        let analyzer = crate::analyzer();
        let bodies = [
            "Deploy the API gateway. Deployment notes: deploying to prod — DEPLOY now.",
            "Café crème: l'état du déploiement, Straße; CAFÉ and cafe and Ärger ärgern",
            &format!(
                "{} deployment {} tail",
                "filler ".repeat(60),
                "x".repeat(45)
            ),
            "東京 deploy 東京都 gate-way gateway",
        ];
        for query in [
            "deploy",
            "gateway deploy",
            "cafe",
            "état",
            "ärger",
            "東京",
            "dep",
            "zzz",
        ] {
            let words = query_words(&analyzer, query);
            let words: Vec<QueryWord> = words
                .into_iter()
                .map(|w| QueryWord { distance: 0, ..w })
                .collect();
            for body in &bodies {
                assert_eq!(
                    best_fragment_with(&analyzer, body, &words, true),
                    best_fragment_with(&analyzer, body, &words, false),
                    "{query:?} in {body:?}"
                );
            }
        }
    }

    #[test]
    fn typo_tolerance_grows_with_the_word() {
        assert_eq!(typo_distance("api"), 0);
        assert_eq!(typo_distance("docs"), 1);
        assert_eq!(typo_distance("deployment"), 2);
    }

    #[test]
    fn lead_cuts_at_a_word_and_escapes() {
        assert_eq!(lead("a <b> & c"), "a &lt;b&gt; &amp; c");
        let long = "word ".repeat(100);
        let cut = lead(&long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= LEAD_CHARS + 1);
    }
}
