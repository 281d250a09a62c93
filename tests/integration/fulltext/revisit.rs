//! Pages fetched again: an article whose feed text changed is queued
//! again and its page asked for conditionally (a 304 keeps the stored
//! extraction); and stories formed again on the fuller text once pages
//! are extracted. Through `tributary fetch` against loopback servers and
//! the real store.

use super::html_route;
use crate::util::*;

fn config(server: &FeedServer, feeds: &[&str]) -> String {
    let mut c = String::from("[fetch]\nhost_gap = \"0s\"\n");
    for f in feeds {
        c.push_str(&format!(
            "[[feeds]]\nname = \"{f}\"\nurl = \"{}\"\nfull_text = true\n",
            server.url(&format!("/{f}.xml"))
        ));
    }
    c
}

/// A page whose paragraphs talk about `words`.
fn page(words: &str) -> String {
    let paras: String = (0..6)
        .map(|i| format!("<p>Paragraph {i} about {words} is long enough to be taken for prose by any extractor, with clauses.</p>"))
        .collect();
    format!("<html><head><title>{words}</title></head><body><article><h1>{words}</h1>{paras}</article></body></html>")
}

/// The feed's text changes: the article is queued again and its page
/// fetched with `If-None-Match`; the server's 304 keeps the extraction and
/// records the check. A page that changed is extracted again. Nothing
/// changed: no page is fetched.
#[test]
fn changed_feed_text_revisits_the_page_conditionally() {
    let server = FeedServer::start();
    let link = server.url("/story/a.html");
    server.set("/story/a.html", html_route(page("tides")).etag("\"v1\""));
    let feed = |title: &str| Route::feed(rss("F", &[(Some("a"), Some(link.as_str()), title)]));
    server.set("/f.xml", feed("Tides"));
    let s = Scratch::new();
    s.write_config(&config(&server, &["f"]), &[]);
    let row = || -> (String, Option<String>, Option<String>, Option<String>) {
        s.db()
            .query_row(
                "SELECT extracted_text, page_etag, page_checked_at, extracted_at FROM articles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };

    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 1 extracted"),
        "{}",
        stdout(&out)
    );
    let hits = server.hits("/story/a.html");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].if_none_match, None);
    let (text, etag, checked, extracted_at) = row();
    assert!(text.contains("Paragraph 3 about tides"), "{text}");
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    assert_eq!(checked, extracted_at);

    // Nothing changed: the page is not asked for.
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.hits("/story/a.html").len(), 1);

    // The feed's text changed; the page did not.
    server.set("/f.xml", feed("Tides, corrected"));
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 0 extracted, 0 failed, 0 to retry later, 1 unchanged"),
        "{}",
        stdout(&out)
    );
    let hits = server.hits("/story/a.html");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].if_none_match.as_deref(), Some("\"v1\""));
    assert_eq!(hits[1].status, 304);
    let (text2, etag2, checked2, extracted_at2) = row();
    assert_eq!((text2, etag2), (text, etag));
    assert_eq!(extracted_at2, extracted_at);
    assert!(checked2.is_some());
    assert_eq!(s.count("SELECT count(*) FROM extract_queue"), 0);

    // Both changed: extracted again, new validators kept.
    server.set("/story/a.html", html_route(page("currents")).etag("\"v2\""));
    server.set("/f.xml", feed("Currents"));
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 1 extracted"),
        "{}",
        stdout(&out)
    );
    let hits = server.hits("/story/a.html");
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[2].status, 200);
    let (text3, etag3, ..) = row();
    assert!(text3.contains("Paragraph 3 about currents"), "{text3}");
    assert_eq!(etag3.as_deref(), Some("\"v2\""));
}

/// One news story told by two publishers, each with its own page layout.
fn publisher_page(site: &str, story: &[&str]) -> String {
    let paras: String = story.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!doctype html><html><head><title>{site}</title></head><body>\
         <header><nav><a href=\"/\">{site} home</a> <a href=\"/sport\">Sport</a></nav></header>\
         <main><article><h1>Harbour bridge reopens</h1>{paras}</article></main>\
         <aside><h2>Most read on {site}</h2><ul><li><a href=\"/x\">Something else entirely</a></li></ul></aside>\
         <footer><p>Copyright {site} 2026</p></footer></body></html>"
    )
}

const BRIDGE: [&str; 5] = [
    "The harbour bridge reopened to traffic on Monday morning after eighteen months of repairs that cost the city 42 million pounds.",
    "Engineers replaced 312 steel cables and resurfaced the whole deck, which had been closed since a lorry fire in the spring of last year.",
    "The mayor said the crossing would carry about 60,000 vehicles a day again and that buses would return to their old routes from Wednesday.",
    "Shopkeepers on both banks of the river welcomed the news, saying trade had fallen by a third while drivers took the long way round.",
    "A cycle lane and a wider footpath were added during the works, and tolls will stay suspended until the end of the summer holidays.",
];

const ORCHARD: [&str; 5] = [
    "Volunteers planted 400 apple and pear trees on the old airfield at the weekend, the first step towards a community orchard of nine hectares.",
    "The trust that owns the land said the varieties were chosen from heritage stock grown in the county before the Second World War.",
    "Schools will be invited to look after rows of their own, and the first fruit is expected to be picked in about four years.",
    "Beekeepers have offered to place twenty hives along the southern hedge once the trees flower for the first time.",
    "The project was paid for by a lottery grant of 180,000 pounds and by donations from more than 1,500 local residents.",
];

/// Two feeds carry teasers of one story (too short to compare) linking to
/// different publishers' pages: after extraction the articles tell the
/// same story on their fuller text and join one story; a third article,
/// another story, stays apart.
#[test]
fn stories_form_on_the_extracted_text() {
    let server = FeedServer::start();
    server.set(
        "/one/bridge.html",
        html_route(publisher_page("Daily One", &BRIDGE)),
    );
    server.set(
        "/two/bridge.html",
        html_route(publisher_page("Two Times", &BRIDGE)),
    );
    server.set(
        "/two/orchard.html",
        html_route(publisher_page("Two Times", &ORCHARD)),
    );
    let (one, two, orchard) = (
        server.url("/one/bridge.html"),
        server.url("/two/bridge.html"),
        server.url("/two/orchard.html"),
    );
    server.set(
        "/one.xml",
        Route::feed(rss(
            "One",
            &[(Some("b1"), Some(one.as_str()), "Bridge reopens")],
        )),
    );
    server.set(
        "/two.xml",
        Route::feed(rss(
            "Two",
            &[
                (Some("b2"), Some(two.as_str()), "Harbour bridge open again"),
                (
                    Some("o2"),
                    Some(orchard.as_str()),
                    "An orchard on the airfield",
                ),
            ],
        )),
    );
    let s = Scratch::new();
    s.write_config(&config(&server, &["one", "two"]), &[]);
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 3 extracted"),
        "{}",
        stdout(&out)
    );
    let story = |url: &str| -> (i64, i64, Option<i64>) {
        s.db()
            .query_row(
                "SELECT id, story_id, story_match_id FROM articles WHERE url = ?1",
                [url],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let (a, b, c) = (story(&one), story(&two), story(&orchard));
    assert_eq!(a.1, b.1, "one story: {a:?} {b:?}");
    assert_eq!(a.1, a.0.min(b.0), "named by its first article");
    assert!(a.2.is_some() || b.2.is_some(), "the match is recorded");
    assert_eq!(c.1, c.0, "another story stays apart: {c:?}");
    assert_eq!(s.count("SELECT count(*) FROM story_prints"), 3);
}
