//! Work and storage bounded by the size of what came in:
//! - cleaning a document takes time linear in its size, for every shape
//!   known to make HTML parsers or serializers do more (named shapes, and
//!   random ones built from the same pieces): the time for eight times the
//!   input stays far under the 64 times a quadratic cost would take;
//! - what a document stores is bounded by its size
//!   (`HTML_GROWTH × decoded bytes + DOC_SLACK`), and the real
//!   `tributary fetch` of feeds built to amplify stores and holds only that,
//!   with a note on the feed saying what was left out.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use tributary::clean::{DOC_SLACK, HTML_GROWTH};
use tributary::model::IdentityMode;

use crate::util::{FeedServer, Route, Scratch};

/// An RSS document with one entry whose description is `body` (CDATA).
fn one_entry(link: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
         <link>https://site.example/</link><item><title>x</title><link>{link}</link>\
         <description><![CDATA[{body}]]></description></item></channel></rss>"
    )
}

/// CPU time this thread has used: unlike the wall clock, it does not
/// count the time other processes on a loaded machine had the CPU.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: fills in a valid timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The stored HTML of a processed document, checked against the bound,
/// and the CPU time processing took (the least of `runs`).
fn process(doc: &str, runs: usize) -> (usize, Duration) {
    let url = url::Url::parse("https://feeds.example/feed.xml").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut best = Duration::MAX;
    let mut html = 0;
    for _ in 0..runs {
        let started = thread_cpu();
        let d =
            tributary::refresh::process(doc.as_bytes(), None, Some(&url), IdentityMode::Guid, now)
                .unwrap();
        best = best.min(thread_cpu() - started);
        html = d.html_bytes();
        let bound = HTML_GROWTH * doc.len() + DOC_SLACK + 14 * d.entries.len();
        assert!(html <= bound, "{html} bytes of HTML from {}", doc.len());
    }
    (html, best)
}

/// Asserts that cleaning `piece` repeated to about `small` and to eight
/// times that many bytes takes time linear in the size.
fn assert_linear(name: &str, piece: &str, small: usize) {
    let times = small.div_ceil(piece.len()).max(1);
    let (a, b) = (
        one_entry("https://e.example/a/", &piece.repeat(times)),
        one_entry("https://e.example/a/", &piece.repeat(8 * times)),
    );
    // Warm up (first allocations, page faults), then the least of a few
    // runs: load on the machine only ever adds time.
    process(&a, 1);
    let (_, ta) = process(&a, 3);
    let (_, tb) = process(&b, 3);
    let ratio = tb.as_secs_f64() / ta.as_secs_f64().max(1e-6);
    eprintln!(
        "linear {name}: {} B {ta:?}, {} B {tb:?}, x{ratio:.1}",
        a.len(),
        b.len()
    );
    // Linear is 8; quadratic 64.
    assert!(
        ratio < 24.0,
        "{name}: 8x the input took {ratio:.1}x the time ({ta:?} -> {tb:?})"
    );
}

/// Shapes that once made cleaning super-linear, and their neighbours.
const SHAPES: &[(&str, &str)] = &[
    ("stray end tags", "<div></x>"),
    ("self-closed divs", "<div/>"),
    (
        "end tag inside a quoted value",
        "<div><i title=\"></div>\">",
    ),
    (
        "end tag inside a textarea",
        "<div><textarea></div></textarea>",
    ),
    ("end tag inside a comment", "<div><!-- </div> -->"),
    ("end tag stopped by a special element", "<span><div></span>"),
    ("end tag stopped by a table", "<div><table></div>"),
    ("bogus end tags", "<div></ div>"),
    ("unclosed identical formatting", "<b class=x>"),
    ("unclosed distinct formatting", "<font size=1><b>x"),
    (
        "formatting re-opened after paragraphs",
        "<b title=\"tttttttttttttttt\"><p>x",
    ),
    ("misnested formatting and blocks", "<b><div><i></b><p></i>"),
    ("deep lists", "<ul><li>"),
    (
        "list item end tags inside nested lists",
        "<ul></li><li></tr>",
    ),
    ("deep tables", "<table><tr><td>"),
    (
        "long attribute lists",
        "<img a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8>",
    ),
    ("bare ampersands", "&"),
    ("entities in one text node", "&amp; "),
    ("no-break spaces", "\u{a0}"),
    ("ampersands across stray end tags", "&</x>"),
    ("ampersands in a textarea", "<textarea>&&&&&&&&"),
    ("links", "<a>"),
    (
        "long relative URLs",
        "<img src=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">",
    ),
    ("srcset candidates", "<img srcset=\"a 1x,b 2x,c 3x,d 4x\">"),
    ("formatting before options", "<i class=a><option>"),
    ("formatting before selects", "<i class=a><select>"),
    ("ruby parts outside a ruby", "<rb>"),
    ("ruby annotations with text", "<rt>x"),
    ("formatting across end tags that close nothing", "<b></div>"),
    (
        "formatting across blocks opened and closed",
        "<b><div></div>",
    ),
    ("formatting across void elements", "<b><br>"),
    ("formatting across cells outside a table", "<b><td>"),
    (
        "formatting across an end tag that opens a paragraph",
        "<i></p>x",
    ),
    (
        "formatting closed and re-opened by paragraphs",
        "<p><b>x</p>\n",
    ),
    ("list items that stop at each other", "<dt><li><span></ul>"),
    (
        "HTML breaking out of foreign content",
        "<</math>\"<math><pre>\u{a0}<form>",
    ),
    ("ampersands across dropped end tags", "</>&"),
];

#[test]
fn cleaning_takes_time_linear_in_the_input_for_every_known_shape() {
    for (name, piece) in SHAPES {
        assert_linear(name, piece, 32 * 1024);
    }
}

/// Pieces random shapes are made of.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<i class=a>",
        "</i>",
        "<a href=x>",
        "</a>",
        "<ul>",
        "<li>",
        "</ul>",
        "<table>",
        "<tr>",
        "<td>",
        "</table>",
        "</x>",
        "<x>",
        "<span>",
        "</span>",
        "<!--",
        "-->",
        "<textarea>",
        "</textarea>",
        "<svg>",
        "<g/>",
        "</svg>",
        "&",
        "&amp;",
        "&lt;",
        "\u{a0}",
        "é",
        "<",
        ">",
        "\"",
        "'",
        "=",
        "/",
        "x",
        " ",
        "<img src=y srcset=\"z 1x\">",
        "<br/>",
        "<font color=red>",
        "<nobr>",
        "</>",
        "<!x>",
        "<?x>",
        "<title>",
        "<select>",
        "<option>",
        "<pre>",
        "<h1>",
        "<form>",
        "<li>",
        "<dd>",
        "<dt>",
        "<nobr>",
        "<caption>",
        "<object>",
        "</td>",
        "</tr>",
        "</li>",
        "<button>",
        "<math>",
        "</math>",
    ])
}

proptest! {
    // 48 random shapes a run (about 15 s); `PROPTEST_CASES=2000` for a
    // longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_shapes_clean_in_linear_time(pieces in prop::collection::vec(piece(), 1..8)) {
        let unit = pieces.concat();
        assert_linear(&format!("{unit:?}"), &unit, 8 * 1024);
    }
}

/// A document in one of the three formats with `entries` entries, each
/// holding `body` and linking to `link`.
fn document(format: usize, link: &str, body: &str, entries: usize) -> String {
    let escaped = body
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    match format {
        0 => {
            let item =
                format!("<item><link>{link}</link><description>{escaped}</description></item>");
            format!("<rss version=\"2.0\"><channel><title>t</title><link>{link}</link>{}</channel></rss>", item.repeat(entries))
        }
        1 => {
            let entry = format!("<entry><link href=\"{link}\"/><content type=\"html\">{escaped}</content><summary type=\"html\">{escaped}</summary></entry>");
            format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><link href=\"{link}\"/>{}</feed>", entry.repeat(entries))
        }
        _ => {
            let quoted = serde_json::to_string(body).unwrap();
            let item =
                format!("{{\"url\":\"{link}\",\"content_html\":{quoted},\"summary\":{quoted}}}");
            format!("{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"home_page_url\":\"{link}\",\"items\":[{}]}}", vec![item; entries].join(","))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// The fuzz target's resource oracle, on generated documents: output
    /// and CPU time per input byte.
    #[test]
    fn documents_stay_within_their_output_and_time_per_byte(
        format in 0usize..3,
        long_link in any::<bool>(),
        pieces in prop::collection::vec(piece(), 1..12),
        repeat in 1usize..3000,
        entries in 1usize..8,
    ) {
        let link = if long_link {
            format!("https://e.example/{}/", "a".repeat(8 * 1024 - 30))
        } else {
            "https://e.example/post/".to_string()
        };
        let unit = pieces.concat();
        let body = unit.repeat(repeat.min(32 * 1024 / unit.len()).max(1));
        let doc = document(format, &link, &body, entries);
        let url = url::Url::parse("https://feeds.example/feed.xml").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let started = thread_cpu();
        let result = tributary::refresh::process(doc.as_bytes(), None, Some(&url), IdentityMode::Guid, now);
        let took = thread_cpu() - started;
        // Unoptimized, the pipeline runs at 1 to 4 µs per byte.
        let allowed = Duration::from_micros(40 * doc.len() as u64) + Duration::from_millis(200);
        prop_assert!(took <= allowed, "{} bytes took {took:?}", doc.len());
        let d = result.unwrap();
        let html_bound = HTML_GROWTH * doc.len() + DOC_SLACK + 14 * d.entries.len();
        prop_assert!(d.html_bytes() <= html_bound, "{} bytes of HTML from {}", d.html_bytes(), doc.len());
        let stored_bound = 8 * doc.len() + 2 * DOC_SLACK + 256 * d.entries.len();
        prop_assert!(d.stored_bytes() <= stored_bound, "{} bytes stored from {}", d.stored_bytes(), doc.len());
    }
}

/// Runs `tributary fetch` and returns its peak resident memory in KiB.
fn fetch_peak_kib(s: &Scratch) -> u64 {
    crate::util::peak_kib(s, &["fetch"])
}

#[test]
fn amplifying_feeds_store_and_hold_only_their_bound() {
    // One entry: an 8 KiB link, 5,000 relative images (40 MB stored before).
    let link = format!("https://e.example/{}/", "a".repeat(8 * 1024 - 30));
    let images = one_entry(&link, &"<img src=x>".repeat(5000));
    // 2,000 entries without links under an 8 KiB site link: each summary's
    // image and srcset resolve against it.
    let mut site = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>{link}</link>"
    );
    for i in 0..2000 {
        site.push_str(&format!(
            "<item><guid>g{i}</guid><description>&lt;p&gt;{i} &lt;img src=x srcset=\"y 1x, z 2x\"&gt;</description></item>"
        ));
    }
    site.push_str("</channel></rss>");
    // 100,000 links, each given a `rel` by the sanitizer (14 times its size).
    let links = one_entry("https://e.example/", &"<a>".repeat(100_000));
    let server = FeedServer::start();
    let feeds = [("images", &images), ("site", &site), ("links", &links)];
    for (name, body) in feeds {
        server.set(&format!("/{name}"), Route::feed(body.clone()));
    }
    let s = Scratch::new();
    let urls: Vec<(String, String)> = feeds
        .iter()
        .map(|(n, _)| (n.to_string(), server.url(&format!("/{n}"))))
        .collect();
    let pairs: Vec<(&str, &str)> = urls.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
    s.write_config("", &pairs);
    let peak = fetch_peak_kib(&s);
    let db = s.db();
    for (name, body) in feeds {
        let (stored, entries, note): (i64, i64, Option<String>) = db
            .query_row(
                "SELECT coalesce(sum(coalesce(a.texts_size, 0)
                                 + length(a.content_text) + length(coalesce(a.url, ''))
                                 + length(coalesce(a.canonical_url, '')) + length(a.enclosures)), 0),
                        count(e.id), f.last_error
                 FROM feeds f LEFT JOIN entries e ON e.feed_id = f.id
                 LEFT JOIN articles a ON a.id = e.article_id WHERE f.name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let bound = (HTML_GROWTH + 3) * body.len() + 2 * DOC_SLACK;
        eprintln!(
            "bounded {name}: {} bytes in, {stored} stored in {entries} entries (bound {bound}); note {note:?}",
            body.len()
        );
        assert!(entries >= 1, "{name}: nothing stored");
        assert!(
            stored as usize <= bound,
            "{name}: {stored} bytes stored from {}",
            body.len()
        );
        let note = note.unwrap_or_default();
        assert!(
            note.contains("left out") || note.contains("plain text"),
            "{name}: no note on the feed: {note:?}"
        );
    }
    eprintln!("bounded: tributary fetch peak memory {} MiB", peak / 1024);
    // 142 MB for the first feed alone before; a few MB of documents now.
    assert!(peak < 96 * 1024, "tributary fetch peaked at {peak} KiB");
}
