//! Writes a planned feed as the document a publisher would serve: RSS 2.0
//! (full HTML in `content:encoded` with a teaser in `description`, or the
//! HTML escaped in `description`), Atom 1.0 (escaped HTML `content` and a
//! text `summary`) or JSON Feed 1.1, with authors, categories, dates and,
//! in RSS, podcast enclosures — element for element what the shared
//! `bench/feedgen.py` writes.

use chrono::DateTime;

use super::corpus::{PlannedEntry, PlannedFeed, SourceFormat};
use super::prose;

/// The document for `feed`.
pub fn render(seed: u64, feed: &PlannedFeed) -> String {
    match feed.format {
        SourceFormat::Rss => rss(seed, feed),
        SourceFormat::Atom => atom(seed, feed),
        SourceFormat::Json => json(seed, feed),
    }
}

/// `&`, `<` and `>` escaped (what Python's `saxutils.escape` does).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

fn rfc822(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn rfc3339(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn newest(entries: &[PlannedEntry]) -> i64 {
    entries.iter().map(|e| e.date).max().unwrap_or(0)
}

fn rss(seed: u64, feed: &PlannedFeed) -> String {
    let t = &feed.traits;
    let mut out = String::with_capacity(feed.entries.len() * 4600 + 600);
    out.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" ",
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n"
    ));
    out.push_str(&format!(
        "<title>{}</title>\n<link>{}/</link>\n<description>Posts about {}</description>\n\
         <language>en</language>\n<lastBuildDate>{}</lastBuildDate>\n\
         <generator>tributary-bench</generator>\n<ttl>60</ttl>\n",
        esc(&t.title),
        t.site,
        esc(t.topic),
        rfc822(newest(&feed.entries))
    ));
    for e in &feed.entries {
        let html = prose::html(seed, e.aid);
        out.push_str("<item>\n");
        out.push_str(&format!(
            "<title>{}</title>\n<link>{}</link>\n",
            esc(&prose::title(seed, e.aid)),
            esc(&e.link)
        ));
        if let Some(g) = &e.guid {
            let perma = if *g == e.link { "true" } else { "false" };
            out.push_str(&format!(
                "<guid isPermaLink=\"{perma}\">{}</guid>\n",
                esc(g)
            ));
        }
        out.push_str(&format!(
            "<pubDate>{}</pubDate>\n<dc:creator>{}</dc:creator>\n",
            rfc822(e.date),
            esc(&prose::author(seed, e.aid))
        ));
        for tag in prose::tags(seed, e.aid) {
            out.push_str(&format!("<category>{}</category>\n", esc(tag)));
        }
        if t.rss_encoded {
            out.push_str(&format!(
                "<description>{}</description>\n<content:encoded><![CDATA[{html}]]></content:encoded>\n",
                esc(&prose::summary(&html))
            ));
        } else {
            out.push_str(&format!("<description>{}</description>\n", esc(&html)));
        }
        if e.aid % 17 == 0 {
            out.push_str(&format!(
                "<enclosure url=\"https://cdn.example.net/audio/{}.mp3\" length=\"{}\" type=\"audio/mpeg\"/>\n",
                e.aid,
                e.aid * 131 % 90_000_000
            ));
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn atom(seed: u64, feed: &PlannedFeed) -> String {
    let t = &feed.traits;
    let mut out = String::with_capacity(feed.entries.len() * 5200 + 600);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    out.push_str(&format!(
        "<title type=\"text\">{}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}/\"/>\n\
         <id>tag:{},2024:{}</id>\n<updated>{}</updated>\n<subtitle>Posts about {}</subtitle>\n\
         <generator uri=\"https://example.org/feedgen\" version=\"1\">tributary-bench</generator>\n",
        esc(&t.title),
        t.site,
        t.site.trim_start_matches("https://"),
        feed.id(),
        rfc3339(newest(&feed.entries)),
        esc(t.topic)
    ));
    for e in &feed.entries {
        let html = prose::html(seed, e.aid);
        out.push_str(&format!(
            "<entry>\n<title type=\"text\">{}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            esc(&prose::title(seed, e.aid)),
            esc(&e.link)
        ));
        if let Some(g) = &e.guid {
            out.push_str(&format!("<id>{}</id>\n", esc(g)));
        }
        out.push_str(&format!(
            "<published>{}</published>\n<updated>{}</updated>\n<author><name>{}</name></author>\n",
            rfc3339(e.date),
            rfc3339(e.date + 600),
            esc(&prose::author(seed, e.aid))
        ));
        for tag in prose::tags(seed, e.aid) {
            out.push_str(&format!("<category term=\"{}\"/>\n", esc(tag)));
        }
        out.push_str(&format!(
            "<summary type=\"text\">{}</summary>\n<content type=\"html\">{}</content>\n</entry>\n",
            esc(&prose::summary(&html)),
            esc(&html)
        ));
    }
    out.push_str("</feed>\n");
    out
}

fn json(seed: u64, feed: &PlannedFeed) -> String {
    use serde_json::{json, Map, Value};
    let t = &feed.traits;
    let items: Vec<Value> = feed
        .entries
        .iter()
        .map(|e| {
            let html = prose::html(seed, e.aid);
            let mut item = Map::new();
            if let Some(g) = &e.guid {
                item.insert("id".into(), json!(g));
            }
            item.insert("url".into(), json!(e.link));
            item.insert("title".into(), json!(prose::title(seed, e.aid)));
            item.insert("summary".into(), json!(prose::summary(&html)));
            item.insert("content_html".into(), json!(html));
            item.insert("date_published".into(), json!(rfc3339(e.date)));
            item.insert(
                "authors".into(),
                json!([{ "name": prose::author(seed, e.aid) }]),
            );
            item.insert("tags".into(), json!(prose::tags(seed, e.aid)));
            Value::Object(item)
        })
        .collect();
    let doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": t.title,
        "home_page_url": format!("{}/", t.site),
        "description": format!("Posts about {}", t.topic),
        "language": "en",
        "items": items,
    });
    let mut out = Vec::with_capacity(feed.entries.len() * 4200);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&doc, &mut ser).expect("a JSON value always serializes");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::super::corpus::{Corpus, Params};
    use super::*;

    #[test]
    fn every_format_parses_with_all_its_entries() {
        let c = Corpus::plan(Params::new(3, 20, 8));
        for format in [SourceFormat::Rss, SourceFormat::Atom, SourceFormat::Json] {
            let feed = c.feeds.iter().find(|f| f.format == format).unwrap();
            let doc = render(3, feed);
            let parsed = crate::parse::parse(doc.as_bytes(), None, None).unwrap();
            assert_eq!(parsed.entries.len(), feed.entries.len(), "{format:?}");
            let per_entry = doc.len() / feed.entries.len();
            assert!((1200..9000).contains(&per_entry), "{format:?}: {per_entry}");
        }
    }
}
