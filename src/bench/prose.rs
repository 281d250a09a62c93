//! The words of the synthetic corpus: article titles, authors, tags and
//! 1–5 KB HTML bodies, and each feed's title and habits.
//!
//! The vocabulary, title templates and block mix are those of the shared
//! Python generator (`bench/feedgen.py`), so documents have the same shape
//! and size (about 4 KB per entry on the wire) and the figures compare.
//! Everything is a pure function of `(seed, article)` or `(seed, feed)`.

use super::rng::Rng;

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "system", "data", "network", "kernel", "release", "update", "performance", "memory", "storage",
    "cluster", "database", "query", "index", "cache", "latency", "throughput", "compiler",
    "runtime", "library", "module", "package", "service", "server", "client", "request",
    "response", "protocol", "security", "patch", "bug", "feature", "design", "pattern", "model",
    "training", "inference", "dataset", "benchmark", "report", "study", "research", "climate",
    "energy", "battery", "solar", "policy", "market", "economy", "budget", "election", "city",
    "transport", "railway", "bicycle", "housing", "school", "health", "hospital", "vaccine",
    "science", "space", "rocket", "satellite", "telescope", "planet", "ocean", "forest", "river",
    "mountain", "weather", "storm", "history", "museum", "music", "festival", "film", "camera",
    "photo", "garden", "kitchen", "recipe", "coffee", "startup", "company", "founder", "investor",
    "product", "launch", "roadmap", "strategy", "team", "remote", "office", "meeting", "developer",
    "engineer", "designer", "writer", "editor", "community", "project", "source", "license",
    "open", "standard", "browser", "mobile", "desktop", "laptop", "phone", "chip", "processor",
    "graphics", "display", "screen", "keyboard", "sensor", "robot", "drone", "vehicle", "engine",
    "fuel", "grid", "water", "food", "farm", "harvest", "supply", "chain", "logistics", "shipping",
    "port", "airport", "flight",
];
#[rustfmt::skip]
const ADJS: &[&str] = &[
    "new", "fast", "secure", "open", "modern", "simple", "reliable", "scalable", "efficient",
    "experimental", "stable", "major", "minor", "critical", "important", "surprising", "quiet",
    "massive", "tiny", "hidden", "public", "private", "local", "global", "distributed",
    "concurrent", "async", "incremental", "lazy", "better", "worse", "faster", "slower", "cheaper",
    "greener", "smarter", "safer", "bold", "careful",
];
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "improves", "breaks", "fixes", "replaces", "accelerates", "simplifies", "explains", "changes",
    "reveals", "ships", "announces", "delays", "tests", "measures", "rewrites", "migrates",
    "scales", "secures", "audits", "doubles", "halves", "unlocks", "challenges", "rethinks",
    "benchmarks", "deprecates", "releases",
];
#[rustfmt::skip]
const COMPANIES: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka",
    "Tyrell", "Cyberdyne", "Soylent", "Aperture", "BlackMesa", "Oscorp", "Monarch", "Gringotts",
    "Nakatomi", "Zorg", "Duff",
];
#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Ingrid", "Jamal",
    "Katarzyna", "Liam", "Mei", "Nils", "Olga", "Pedro", "Quinn", "Rania", "Søren", "Tomás", "Uma",
    "Vikram", "Wen", "Xavier", "Yara", "Zoë",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Okafor", "Müller", "Smith", "Nguyen", "García", "Rossi", "Kowalski", "Tanaka", "Haddad",
    "Silva", "Andersson", "O'Brien", "Dubois", "Novak", "Petrov", "Kim", "Singh", "Cohen",
    "Jensen", "Ibrahim",
];
#[rustfmt::skip]
const TOPICS: &[&str] = &[
    "Linux", "Rust", "Python", "Databases", "Security", "Science", "Space", "Climate", "Cities",
    "Music", "Film", "Food", "Travel", "Economy", "Politics", "Health", "Hardware", "AI",
    "Networking", "Design", "Photography", "Gardening", "Cycling", "Education", "Open-Source",
];
#[rustfmt::skip]
const EXTRAS: &[&str] = &[
    "&amp; co", "— naïve", "“quoted”", "café", "über", "→ 42 °C", "© 2024",
];

/// How a feed names its entries' guids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidStyle {
    /// The guid is the link.
    Permalink,
    /// `site00001-post-7`.
    Opaque,
    /// `tag:site00001.example.com,2024:post/7`.
    Tag,
    /// `urn:uuid:…`.
    Uuid,
}

/// A feed's fixed traits.
#[derive(Debug, Clone)]
pub struct FeedTraits {
    /// `https://site00001.example.com`.
    pub site: String,
    /// Human title.
    pub title: String,
    /// Topic word, used in the description.
    pub topic: &'static str,
    /// How its own entries' guids look.
    pub guid_style: GuidStyle,
    /// RSS only: full HTML in `content:encoded` (else in `description`).
    pub rss_encoded: bool,
    /// Seconds between its posts.
    pub interval: i64,
}

/// The traits of feed number `idx` (1-based).
pub fn feed_traits(seed: u64, idx: u64) -> FeedTraits {
    let mut r = Rng::keyed(seed, "feed", idx);
    let topic = *r.pick(TOPICS);
    let title = match r.below(4) {
        0 => format!("{}'s {topic} blog", r.pick(LAST)),
        1 => format!("{} {topic} News", r.pick(COMPANIES)),
        2 => {
            let adj = *r.pick(ADJS);
            format!("The {} {topic} Digest", capitalize(adj))
        }
        _ => format!("{topic} & more — {}", r.pick(FIRST)),
    };
    let guid_style = *r.pick(&[
        GuidStyle::Permalink,
        GuidStyle::Permalink,
        GuidStyle::Opaque,
        GuidStyle::Tag,
        GuidStyle::Uuid,
    ]);
    FeedTraits {
        site: format!("https://site{idx:05}.example.com"),
        title,
        topic,
        guid_style,
        rss_encoded: r.below(3) < 2,
        interval: *r.pick(&[3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400]),
    }
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The title of article `aid`.
pub fn title(seed: u64, aid: u64) -> String {
    let mut r = Rng::keyed(seed, "title", aid);
    let (company, verb, adj) = (*r.pick(COMPANIES), *r.pick(VERBS), *r.pick(ADJS));
    let adjer = *r.pick(&["faster", "safer", "cheaper", "smaller", "greener"]);
    let (noun, noun2) = (*r.pick(WORDS), *r.pick(WORDS));
    let (n, m) = (r.range(2, 99), r.range(0, 20));
    let (topic, year) = (*r.pick(TOPICS), r.range(2019, 2024));
    let person = format!("{} {}", r.pick(FIRST), r.pick(LAST));
    match r.below(12) {
        0 => format!("{company} {verb} {adj} {noun} for {noun2}"),
        1 => format!("Why the {adj} {noun} {verb} everything"),
        2 => format!("{n} ways to make your {noun} {adjer}"),
        3 => format!("How we cut {noun} latency by {n}%"),
        4 => format!("Release notes: {topic} {n}.{m}"),
        5 => format!("Ask the editor: is {noun} {adj} enough?"),
        6 => format!("{topic} weekly #{n}: {adj} {noun}s and {noun2}s"),
        7 => format!("Inside {company}’s {adj} {noun} — an interview with {person}"),
        8 => format!("The {noun} problem nobody talks about"),
        9 => format!("{person} on {noun2}, {noun} and the {adj} web"),
        10 => format!("Understanding {noun} in {n} minutes"),
        _ => format!("A {adj} look at {topic} in {year}"),
    }
}

/// The author of article `aid`.
pub fn author(seed: u64, aid: u64) -> String {
    let mut r = Rng::keyed(seed, "author", aid);
    format!("{} {}", r.pick(FIRST), r.pick(LAST))
}

/// One to four topic tags of article `aid`, sorted.
pub fn tags(seed: u64, aid: u64) -> Vec<&'static str> {
    let mut r = Rng::keyed(seed, "tags", aid);
    let n = r.range(1, 4) as usize;
    let mut pool: Vec<&'static str> = TOPICS.to_vec();
    r.shuffle(&mut pool);
    pool.truncate(n);
    pool.sort_unstable();
    pool
}

fn sentence(r: &mut Rng, out: &mut String) {
    let n = r.range(6, 22) as usize;
    let pick = |r: &mut Rng| -> &'static str {
        let i = r.below((WORDS.len() + ADJS.len() + VERBS.len()) as u64) as usize;
        if i < WORDS.len() {
            WORDS[i]
        } else if i < WORDS.len() + ADJS.len() {
            ADJS[i - WORDS.len()]
        } else {
            VERBS[i - WORDS.len() - ADJS.len()]
        }
    };
    let mut words: Vec<String> = (0..n).map(|_| pick(r).to_owned()).collect();
    words[0] = capitalize(&words[0]);
    if r.unit() < 0.15 {
        let i = r.below(n as u64) as usize;
        words[i] = format!("<em>{}</em>", words[i]);
    }
    if r.unit() < 0.10 {
        let i = r.below(n as u64) as usize;
        words[i] = format!("<strong>{}</strong>", words[i]);
    }
    if r.unit() < 0.12 {
        let i = r.below(n as u64) as usize;
        let w = &words[i];
        words[i] = format!(
            "<a href=\"https://ref{}.example.org/{w}\">{w}</a>",
            r.range(1, 500)
        );
    }
    if r.unit() < 0.05 {
        words.push((*r.pick(EXTRAS)).to_owned());
    }
    out.push_str(&words.join(" "));
    let end = *r.pick(&[".", ".", ".", "?", "!"]);
    out.push_str(end);
}

/// 1–5 KB of blog-post HTML for article `aid`: paragraphs with inline
/// emphasis and links, headings, lists, quotes, code and an image.
pub fn html(seed: u64, aid: u64) -> String {
    let mut r = Rng::keyed(seed, "body", aid);
    let target = r.range(1000, 5000) as usize;
    let mut out = String::with_capacity(target + 600);
    let mut blocks = 0;
    while out.len() < target {
        if blocks > 0 {
            out.push('\n');
        }
        let roll = r.unit();
        if roll < 0.08 && blocks > 0 {
            out.push_str("<h2>");
            let start = out.len();
            sentence(&mut r, &mut out);
            let trimmed = out[start..].trim_end_matches(['.', '?', '!']).len();
            out.truncate(start + trimmed);
            out.push_str("</h2>");
        } else if roll < 0.14 {
            out.push_str("<ul>");
            for _ in 0..r.range(2, 5) {
                out.push_str("<li>");
                sentence(&mut r, &mut out);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        } else if roll < 0.18 {
            out.push_str("<blockquote><p>");
            sentence(&mut r, &mut out);
            out.push_str("</p></blockquote>");
        } else if roll < 0.21 {
            out.push_str("<pre><code>");
            for i in 0..r.range(2, 6) {
                if i > 0 {
                    out.push('\n');
                }
                let w = r.pick(WORDS);
                out.push_str(&format!("let x{i} = compute({w}_{i}) &lt;&lt; {i};"));
            }
            out.push_str("</code></pre>");
        } else if roll < 0.24 {
            let (n, alt) = (r.range(1, 9), r.pick(WORDS));
            let width = r.pick(&[640, 800, 1200]);
            out.push_str(&format!(
                "<p><img src=\"https://cdn.example.net/img/{aid}-{n}.jpg\" alt=\"{alt}\" width=\"{width}\"/></p>"
            ));
        } else {
            out.push_str("<p>");
            for i in 0..r.range(2, 6) {
                if i > 0 {
                    out.push(' ');
                }
                sentence(&mut r, &mut out);
            }
            out.push_str("</p>");
        }
        blocks += 1;
    }
    out
}

/// One paragraph of two to six sentences (about 300–900 bytes) for
/// article `aid`: the short body of bulk-filled articles.
pub fn paragraph(seed: u64, aid: u64) -> String {
    let mut r = Rng::keyed(seed, "paragraph", aid);
    let mut out = String::from("<p>");
    for i in 0..r.range(2, 6) {
        if i > 0 {
            out.push(' ');
        }
        sentence(&mut r, &mut out);
    }
    out.push_str("</p>");
    out
}

/// The plain text of `html`: tags dropped, the two entities the generator
/// writes decoded.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&amp;", "&")
}

/// A plain-text teaser: the first 40 words of the body and an ellipsis.
pub fn summary(html: &str) -> String {
    let text = text(html);
    let mut words: Vec<&str> = text.split_whitespace().take(40).collect();
    words.push("…");
    words.join(" ")
}

/// `s` as a URL slug: lower-case ASCII letters and digits, runs of anything
/// else as one dash, at most 60 characters.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    let mut trimmed: String = out.trim_matches('-').to_owned();
    trimmed.truncate(60);
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_deterministic_and_sized_like_the_python_corpus() {
        assert_eq!(html(42, 1), html(42, 1));
        let sizes: Vec<usize> = (1..200).map(|aid| html(42, aid).len()).collect();
        assert!(sizes.iter().all(|&s| (1000..=6500).contains(&s)));
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((2500..=4000).contains(&mean), "mean body {mean}");
        let all: String = (1..200).map(|aid| html(42, aid)).collect();
        for tag in ["<p>", "<a href=", "<img ", "<em>", "<ul>", "<h2>"] {
            assert!(all.contains(tag), "{tag} missing");
        }
    }

    #[test]
    fn slugs_and_text() {
        assert_eq!(
            slug("Inside Acme’s new cache — 42%!"),
            "inside-acme-s-new-cache-42"
        );
        assert_eq!(text("<p>a &lt;&lt; b <em>c</em></p>"), "a << b c");
        assert!(summary("<p>one two</p>").ends_with(" …"));
    }
}
