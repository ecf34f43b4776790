//! Deterministic, English-like Markdown for the knowledge benchmark: no downloads, the same
//! pages for the same seed. Pages mix paragraphs, headings, lists, code fences, quotes and
//! tables built from a built-in vocabulary of common and technical words, with a skewed
//! (Zipf-like) word frequency so some words are everywhere and others rare.

use std::collections::HashSet;

/// splitmix64: small, fast, good enough for text.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A stable 64-bit mix of two numbers (seeds for page `a`, revision `b`…).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut r = Rng::new(a.wrapping_mul(0x100_0000_01B3) ^ b.rotate_left(32));
    r.next_u64()
}

/// Short words that glue sentences together (not used as queries).
pub const FUNCTION: &[&str] = &[
    "the", "a", "an", "of", "to", "and", "in", "is", "for", "with", "on", "that", "this", "by",
    "from", "as", "be", "are", "it", "or", "at", "when", "we", "you", "can", "will", "should",
    "each", "not", "if", "then", "after", "before", "into", "our", "its", "every", "only", "also",
    "but", "so", "which", "one", "two", "all", "any", "more", "most", "other", "new", "first",
    "last", "same", "some", "than", "there", "they", "their", "these", "those", "while", "until",
];

/// Content words, roughly most frequent first (the generator favours the front of the list).
pub const CONTENT: &[&str] = &[
    "service",
    "team",
    "deploy",
    "cluster",
    "request",
    "database",
    "release",
    "config",
    "build",
    "error",
    "user",
    "page",
    "data",
    "system",
    "version",
    "change",
    "test",
    "access",
    "server",
    "update",
    "api",
    "workflow",
    "process",
    "review",
    "network",
    "latency",
    "storage",
    "cache",
    "query",
    "index",
    "pipeline",
    "owner",
    "incident",
    "alert",
    "metric",
    "dashboard",
    "schema",
    "token",
    "secret",
    "policy",
    "backup",
    "restore",
    "migration",
    "rollback",
    "runbook",
    "endpoint",
    "client",
    "gateway",
    "proxy",
    "container",
    "image",
    "registry",
    "namespace",
    "node",
    "pod",
    "volume",
    "replica",
    "shard",
    "partition",
    "queue",
    "topic",
    "consumer",
    "producer",
    "event",
    "message",
    "stream",
    "batch",
    "job",
    "worker",
    "thread",
    "memory",
    "throughput",
    "timeout",
    "retry",
    "backoff",
    "circuit",
    "breaker",
    "limit",
    "quota",
    "budget",
    "capacity",
    "scaling",
    "autoscaler",
    "load",
    "balancer",
    "traffic",
    "routing",
    "certificate",
    "rotation",
    "identity",
    "permission",
    "role",
    "audit",
    "compliance",
    "encryption",
    "key",
    "vault",
    "credential",
    "login",
    "session",
    "cookie",
    "header",
    "payload",
    "response",
    "status",
    "health",
    "probe",
    "readiness",
    "liveness",
    "uptime",
    "availability",
    "durability",
    "consistency",
    "replication",
    "failover",
    "region",
    "zone",
    "datacenter",
    "provider",
    "account",
    "project",
    "repository",
    "branch",
    "commit",
    "merge",
    "conflict",
    "tag",
    "artifact",
    "package",
    "dependency",
    "library",
    "module",
    "crate",
    "binary",
    "compiler",
    "toolchain",
    "linter",
    "formatter",
    "benchmark",
    "profile",
    "trace",
    "span",
    "log",
    "sampling",
    "retention",
    "archive",
    "snapshot",
    "checkpoint",
    "journal",
    "transaction",
    "lock",
    "deadlock",
    "isolation",
    "constraint",
    "foreign",
    "primary",
    "column",
    "table",
    "row",
    "cursor",
    "pagination",
    "filter",
    "sort",
    "aggregate",
    "report",
    "export",
    "import",
    "sync",
    "schedule",
    "cron",
    "trigger",
    "hook",
    "callback",
    "handler",
    "middleware",
    "router",
    "controller",
    "template",
    "render",
    "markdown",
    "document",
    "guide",
    "tutorial",
    "reference",
    "overview",
    "architecture",
    "design",
    "proposal",
    "decision",
    "tradeoff",
    "requirement",
    "feature",
    "flag",
    "experiment",
    "rollout",
    "canary",
    "staging",
    "production",
    "environment",
    "variable",
    "setting",
    "default",
    "override",
    "fallback",
    "threshold",
    "window",
    "interval",
    "duration",
    "deadline",
    "priority",
    "severity",
    "escalation",
    "oncall",
    "pager",
    "handover",
    "postmortem",
    "followup",
    "action",
    "item",
    "ticket",
    "issue",
    "bug",
    "fix",
    "patch",
    "hotfix",
    "regression",
    "coverage",
    "integration",
    "contract",
    "mock",
    "fixture",
    "assertion",
    "flaky",
    "parallel",
    "sequential",
    "concurrency",
    "async",
    "future",
    "channel",
    "buffer",
    "socket",
    "connection",
    "pool",
    "handshake",
    "protocol",
    "codec",
    "serialization",
    "protobuf",
    "json",
    "yaml",
    "toml",
    "schema",
    "validation",
    "sanitizer",
    "frontend",
    "backend",
    "browser",
    "mobile",
    "desktop",
    "platform",
    "infrastructure",
    "terraform",
    "kubernetes",
    "helm",
    "docker",
    "postgres",
    "redis",
    "kafka",
    "nginx",
    "linux",
    "kernel",
    "filesystem",
    "disk",
    "cpu",
    "bandwidth",
    "packet",
    "firewall",
    "subnet",
    "dns",
    "domain",
    "hostname",
    "address",
    "port",
    "tunnel",
    "vpn",
    "sso",
    "oauth",
    "scope",
    "tenant",
    "workspace",
    "catalog",
    "inventory",
    "lifecycle",
    "deprecation",
    "upgrade",
    "compatibility",
    "breaking",
    "stable",
    "beta",
    "preview",
    "internal",
    "external",
    "public",
    "private",
    "onboarding",
    "checklist",
    "meeting",
    "roadmap",
    "quarter",
    "milestone",
    "estimate",
    "customer",
    "support",
    "feedback",
    "survey",
    "analytics",
    "funnel",
    "conversion",
    "invoice",
    "billing",
    "payment",
    "refund",
    "ledger",
    "currency",
    "pricing",
    "contract",
    "vendor",
    "license",
    "security",
    "vulnerability",
    "scanner",
    "exposure",
    "incident",
    "forensics",
    "monitoring",
    "observability",
    "telemetry",
    "collector",
    "exporter",
    "histogram",
    "counter",
    "gauge",
    "percentile",
    "median",
    "average",
    "spike",
    "saturation",
    "bottleneck",
    "hotspot",
    "optimize",
    "improve",
    "reduce",
    "increase",
    "measure",
    "verify",
    "ensure",
    "configure",
    "install",
    "remove",
    "create",
    "delete",
    "rename",
    "move",
    "copy",
    "enable",
    "disable",
    "approve",
    "reject",
    "publish",
    "subscribe",
    "notify",
    "escalate",
    "resolve",
    "investigate",
    "document",
    "explain",
    "describe",
    "clarify",
    "simple",
    "complex",
    "reliable",
    "fast",
    "slow",
    "small",
    "large",
    "safe",
    "risky",
    "manual",
    "automatic",
    "daily",
    "weekly",
    "monthly",
    "quickly",
    "carefully",
    "usually",
    "rarely",
    "always",
    "never",
    "often",
    "currently",
    "previously",
    "eventually",
    "immediately",
    "gradually",
    "mountain",
    "river",
    "garden",
    "kitchen",
    "coffee",
    "lunch",
    "holiday",
    "travel",
    "office",
    "remote",
    "hybrid",
    "calendar",
];

pub const LANGS: &[&str] = &["rust", "sh", "yaml", "json", "sql", "go", "ts", "toml"];

/// A content word, favouring the front of the list.
pub fn content_word(rng: &mut Rng) -> &'static str {
    let u = rng.unit();
    CONTENT[((u * u * u) * CONTENT.len() as f64) as usize % CONTENT.len()]
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn sentence(rng: &mut Rng, out: &mut String) {
    let n = rng.range(6, 18);
    for i in 0..n {
        let w = if rng.chance(0.35) {
            rng.pick(FUNCTION)
        } else {
            content_word(rng)
        };
        if i == 0 {
            out.push_str(&capitalize(w));
        } else {
            out.push(' ');
            if rng.chance(0.03) {
                out.push('`');
                out.push_str(w);
                out.push('_');
                out.push_str(content_word(rng));
                out.push('`');
            } else if rng.chance(0.02) {
                out.push_str("**");
                out.push_str(w);
                out.push_str("**");
            } else {
                out.push_str(w);
            }
            if i + 1 < n && rng.chance(0.06) {
                out.push(',');
            }
        }
    }
    out.push_str(if rng.chance(0.08) { "?" } else { "." });
}

fn words(rng: &mut Rng, n: usize, out: &mut String) {
    for i in 0..n {
        let w = if rng.chance(0.25) {
            rng.pick(FUNCTION)
        } else {
            content_word(rng)
        };
        if i == 0 {
            out.push_str(&capitalize(w));
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
}

fn paragraph(rng: &mut Rng, out: &mut String) {
    for i in 0..rng.range(2, 6) {
        if i > 0 {
            out.push(' ');
        }
        sentence(rng, out);
    }
    out.push_str("\n\n");
}

fn code_line(rng: &mut Rng, lang: &str, out: &mut String) {
    let (a, b, c) = (content_word(rng), content_word(rng), content_word(rng));
    let line = match lang {
        "rust" => format!("let {a}_{b} = {c}::load(&config.{a})?;"),
        "sh" => format!("kubectl -n {a} rollout restart deployment/{b}-{c}"),
        "yaml" => format!("{a}_{b}: {c}"),
        "json" => format!("  \"{a}\": {{ \"{b}\": \"{c}\" }},"),
        "sql" => format!("SELECT {a}, {b} FROM {c} WHERE {a}_id = $1;"),
        "go" => format!("if err := {a}.{b}(ctx, {c}); err != nil {{ return err }}"),
        "ts" => format!("const {a} = await client.{b}({{ {c}: true }});"),
        _ => format!("{a}.{b} = \"{c}\""),
    };
    out.push_str(&line);
    out.push('\n');
}

fn block(rng: &mut Rng, out: &mut String) {
    let roll = rng.below(100);
    if roll < 45 {
        paragraph(rng, out);
    } else if roll < 60 {
        out.push_str("## ");
        let n = rng.range(2, 5);
        words(rng, n, out);
        out.push_str("\n\n");
        paragraph(rng, out);
    } else if roll < 67 {
        out.push_str("### ");
        let n = rng.range(2, 4);
        words(rng, n, out);
        out.push_str("\n\n");
    } else if roll < 81 {
        let numbered = rng.chance(0.3);
        for i in 0..rng.range(3, 6) {
            if numbered {
                out.push_str(&format!("{}. ", i + 1));
            } else {
                out.push_str("- ");
            }
            let n = rng.range(4, 10);
            words(rng, n, out);
            out.push('\n');
        }
        out.push('\n');
    } else if roll < 92 {
        let lang = rng.pick(LANGS);
        out.push_str("```");
        out.push_str(lang);
        out.push('\n');
        for _ in 0..rng.range(3, 8) {
            code_line(rng, lang, out);
        }
        out.push_str("```\n\n");
    } else if roll < 96 {
        out.push_str("> ");
        sentence(rng, out);
        out.push_str("\n\n");
    } else {
        out.push_str("| name | owner | status |\n|---|---|---|\n");
        for _ in 0..rng.range(2, 5) {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                content_word(rng),
                content_word(rng),
                rng.pick(&["active", "deprecated", "planned"])
            ));
        }
        out.push('\n');
    }
}

/// A word unique to page `index` (letters only, so the index keeps it as one token).
pub fn marker(index: usize) -> String {
    let mut n = index;
    let mut s = String::new();
    for _ in 0..6 {
        s.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    format!("zqx{s}")
}

/// The title of page `index`: a few words and the index (so slugs never collide).
pub fn title(index: usize) -> String {
    let mut rng = Rng::new(mix(index as u64, 0xC0FFEE));
    let mut t = String::new();
    let n = rng.range(2, 4);
    words(&mut rng, n, &mut t);
    t.truncate(60);
    format!("{} {index}", t.trim_end())
}

/// The Markdown body of page `index` at `revision`: 2 to 4 KB, ending with its marker.
pub fn body(index: usize, revision: u64) -> String {
    let mut rng = Rng::new(mix(index as u64, revision));
    let target = rng.range(2048, 4096);
    let mut out = String::with_capacity(target + 512);
    out.push_str("# ");
    out.push_str(&title(index));
    out.push_str("\n\n");
    while out.len() < target {
        block(&mut rng, &mut out);
    }
    out.push_str("---\n\nReference: ");
    out.push_str(&marker(index));
    out.push('\n');
    out
}

/// The content words of a text, in order, lowercased.
pub fn content_words_of(text: &str) -> Vec<String> {
    let vocab: HashSet<&str> = CONTENT.iter().copied().collect();
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| vocab.contains(w.as_str()))
        .collect()
}

/// `word` with two adjacent inner letters swapped (one transposition), not itself a word of
/// the vocabulary. None for words too short to swap.
pub fn typo(word: &str, rng: &mut Rng) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 {
        return None;
    }
    let vocab: HashSet<&str> = CONTENT.iter().chain(FUNCTION).copied().collect();
    for _ in 0..8 {
        let j = rng.range(1, chars.len() - 3);
        if chars[j] == chars[j + 1] {
            continue;
        }
        let mut c = chars.clone();
        c.swap(j, j + 1);
        let s: String = c.into_iter().collect();
        if !vocab.contains(s.as_str()) {
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_deterministic_and_sized() {
        for i in [0usize, 1, 77, 49_999] {
            let b = body(i, 1);
            assert_eq!(b, body(i, 1));
            assert_ne!(b, body(i, 2));
            assert!(b.len() >= 2048 && b.len() < 6000, "{}", b.len());
            assert!(b.contains(&marker(i)));
        }
        assert_ne!(marker(1), marker(27));
    }

    #[test]
    fn typos_differ_from_words() {
        let mut rng = Rng::new(1);
        let t = typo("deployment", &mut rng).unwrap();
        assert_ne!(t, "deployment");
        assert_eq!(t.len(), "deployment".len());
    }
}
