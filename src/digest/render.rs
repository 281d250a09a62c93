//! A digest as HTML (for browsers and mail clients: inline styles, no
//! scripts, no external assets), plain text, and Markdown.
//!
//! Everything that came from a feed is escaped for its format (the HTML
//! by its template, which escapes whatever it is given); links are only
//! ever http(s).

use std::fmt::Write;

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

use super::{Digest, Item};

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn period(d: &Digest) -> String {
    match d.head.period_start {
        Some(s) => format!("{} – {}", when(Some(s)), when(Some(d.head.period_end))),
        None => format!("until {}", when(Some(d.head.period_end))),
    }
}

fn summary(d: &Digest) -> String {
    let n = d.stories();
    let mut s = format!("{n} {}", if n == 1 { "story" } else { "stories" });
    if d.omitted > 0 {
        let _ = write!(s, " (and {} more not shown)", d.omitted);
    }
    s
}

/// Only http(s) links are rendered as links.
fn safe_url(u: &Option<String>) -> Option<&str> {
    u.as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// The HTML rendering: a complete document. The template escapes every
/// value it is given (maud), so nothing from a feed can become markup.
pub fn html(d: &Digest) -> String {
    const H2: &str = "font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #2a6f97;color:#2a6f97;";
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (d.head.title) }
            }
            body style="margin:0;padding:24px;background:#f4f4f1;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d1d1b;" {
                div style="max-width:680px;margin:0 auto;background:#ffffff;border-radius:8px;padding:28px 32px;" {
                    h1 style="font-size:24px;margin:0 0 4px;" { (d.head.title) }
                    p style="margin:0 0 20px;color:#6b6b66;font-size:14px;" {
                        (period(d)) " · " (summary(d))
                    }
                    @if d.is_empty() {
                        p style="color:#6b6b66;" { "Nothing new arrived in this period." }
                    }
                    @for s in d.sections.iter().filter(|s| !s.items.is_empty()) {
                        @if let Some(h) = &s.heading {
                            h2 style=(H2) { (h) }
                        }
                        @for i in &s.items {
                            (html_item(i))
                        }
                    }
                    p style="margin:28px 0 0;color:#9a9a94;font-size:12px;" { "Made by Tributary." }
                }
            }
        }
    };
    let mut o = page.into_string();
    o.push('\n');
    o
}

fn html_item(i: &Item) -> Markup {
    html! {
        div style="margin:0 0 18px;" {
            h3 style="font-size:16px;margin:0 0 2px;" {
                @match safe_url(&i.url) {
                    Some(u) => a href=(u) style="color:#1d1d1b;text-decoration:none;" { (i.title) },
                    None => (i.title),
                }
            }
            p style="margin:0 0 4px;color:#6b6b66;font-size:13px;" {
                @for (n, s) in i.sources.iter().enumerate() {
                    @if n > 0 { ", " }
                    @match safe_url(&s.url) {
                        Some(u) => a href=(u) style="color:#2a6f97;" { (s.feed) },
                        None => (s.feed),
                    }
                }
                @if i.time.is_some() { " · " (when(i.time)) }
            }
            @if !i.excerpt.is_empty() {
                p style="margin:0;font-size:14px;line-height:1.45;" { (i.excerpt) }
            }
        }
    }
}

/// The plain-text rendering.
pub fn text(d: &Digest) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}\n{}\n{} · {}\n",
        d.head.title,
        "=".repeat(d.head.title.chars().count().max(3)),
        period(d),
        summary(d)
    );
    if d.is_empty() {
        o.push_str("Nothing new arrived in this period.\n");
    }
    for s in &d.sections {
        if s.items.is_empty() {
            continue;
        }
        if let Some(h) = &s.heading {
            let _ = writeln!(o, "{h}\n{}\n", "-".repeat(h.chars().count().max(3)));
        }
        for i in &s.items {
            let _ = writeln!(o, "* {}", one_line(&i.title));
            let feeds: Vec<&str> = i.sources.iter().map(|s| s.feed.as_str()).collect();
            let _ = writeln!(o, "  {} · {}", feeds.join(", "), when(i.time));
            if let Some(u) = safe_url(&i.url) {
                let _ = writeln!(o, "  {u}");
            }
            if !i.excerpt.is_empty() {
                let _ = writeln!(o, "  {}", i.excerpt);
            }
            o.push('\n');
        }
    }
    o
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Markdown-escapes text (so a title cannot make links or headings).
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '.'
                | '!'
                | '|'
                | '<'
                | '>'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// A URL inside Markdown link parentheses.
fn md_url(u: &str) -> String {
    u.replace('(', "%28")
        .replace(')', "%29")
        .replace(' ', "%20")
}

/// The Markdown rendering.
pub fn markdown(d: &Digest) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# {}\n\n_{} · {}_\n",
        md(&d.head.title),
        md(&period(d)),
        md(&summary(d))
    );
    if d.is_empty() {
        o.push_str("Nothing new arrived in this period.\n");
    }
    for s in &d.sections {
        if s.items.is_empty() {
            continue;
        }
        if let Some(h) = &s.heading {
            let _ = writeln!(o, "## {}\n", md(h));
        }
        for i in &s.items {
            match safe_url(&i.url) {
                Some(u) => {
                    let _ = writeln!(o, "- **[{}]({})**", md(&i.title), md_url(u));
                }
                None => {
                    let _ = writeln!(o, "- **{}**", md(&i.title));
                }
            }
            let feeds: Vec<String> = i
                .sources
                .iter()
                .map(|s| match safe_url(&s.url) {
                    Some(u) => format!("[{}]({})", md(&s.feed), md_url(u)),
                    None => md(&s.feed),
                })
                .collect();
            let _ = writeln!(o, "  {} · {}", feeds.join(", "), md(&when(i.time)));
            if !i.excerpt.is_empty() {
                let _ = writeln!(o, "  {}", md(&i.excerpt));
            }
        }
        o.push('\n');
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{Section, Source};

    fn digest(title: &str, url: Option<&str>) -> Digest {
        Digest {
            head: crate::model::DigestHead {
                name: "d".into(),
                title: "Daily <b>news</b>".into(),
                made_at: Utc::now(),
                period_start: None,
                period_end: Utc::now(),
                last_article_id: 1,
            },
            sections: vec![Section {
                heading: Some("Feed & co".into()),
                items: vec![Item {
                    title: title.into(),
                    url: url.map(str::to_string),
                    sources: vec![Source {
                        feed: "Wire".into(),
                        url: url.map(str::to_string),
                    }],
                    time: Some(Utc::now()),
                    excerpt: "An <excerpt> & more".into(),
                    articles: vec![(1, 1)],
                }],
            }],
            omitted: 0,
        }
    }

    #[test]
    fn html_escapes_and_drops_unsafe_links() {
        let d = digest("<script>alert(1)</script>", Some("javascript:alert(1)"));
        let h = html(&d);
        assert!(!h.contains("<script") && !h.contains("javascript:"), "{h}");
        assert!(h.contains("&lt;script&gt;") && h.contains("Daily &lt;b&gt;news&lt;/b&gt;"));
        let d = digest("Fine", Some("https://e.example/a?x=1&y=\"2\""));
        assert!(html(&d).contains("href=\"https://e.example/a?x=1&amp;y=&quot;2&quot;\""));
    }

    #[test]
    fn markdown_cannot_inject_links() {
        let d = digest(
            "[click](javascript:x) # heading",
            Some("https://e.example/a(b)"),
        );
        let m = markdown(&d);
        assert!(
            m.contains("\\[click\\]\\(javascript:x\\) \\# heading"),
            "{m}"
        );
        assert!(m.contains("(https://e.example/a%28b%29)"), "{m}");
    }

    #[test]
    fn text_lists_items() {
        let t = text(&digest("A title", Some("https://e.example/a")));
        assert!(
            t.contains("* A title\n  Wire · ") && t.contains("  https://e.example/a\n"),
            "{t}"
        );
    }
}
