//! robots.txt for article pages: the cache's answers per origin, through
//! the real fetch path against loopback servers, with the clock injected
//! (no sleeping), and the worker's use of it through `tributary fetch`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tributary::config::FetchConfig;
use tributary::extract::robots::{Asking, RobotsCache, Verdict, DEFAULT_TTL, UNREACHABLE_TTL};
use tributary::fetch::Fetcher;

use super::{html_route, own_page, runtime};
use crate::util::*;

fn text_route(body: &str) -> Route {
    let mut r = Route::feed(body.as_bytes().to_vec());
    r.content_type = "text/plain".into();
    r
}

/// Asks `cache` about `path` on `server` at `now`.
fn ask(
    cache: &RobotsCache,
    fetcher: &Fetcher,
    server: &FeedServer,
    path: &str,
    now: DateTime<Utc>,
) -> Verdict {
    let url = url::Url::parse(&server.url(path)).unwrap();
    let asking = Asking {
        configured: &url,
        internal: false,
        timeout: Duration::from_secs(10),
        user_agent: None,
    };
    runtime().block_on(cache.check(fetcher, &url, &asking, now))
}

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

/// Rules refuse and allow, naming the refusing rule; a missing file (404)
/// and a 403 allow everything; a 5xx or 429 refuses everything for now.
/// robots.txt is asked for with the same user agent as pages.
#[test]
fn robots_txt_allows_refuses_and_treats_errors_as_google_does() {
    let fetcher = Fetcher::new(&FetchConfig::default()).unwrap();
    let cache = RobotsCache::default();
    let now = Utc::now();

    let ruled = FeedServer::start();
    ruled.set(
        "/robots.txt",
        text_route(
            "User-agent: *\nDisallow: /\n\nUser-agent: tributary\nDisallow: /private/\nAllow: /private/open/\n",
        ),
    );
    assert_eq!(
        ask(&cache, &fetcher, &ruled, "/private/a.html", now),
        Verdict::Disallowed(Some("Disallow: /private/".into()))
    );
    assert_eq!(
        ask(&cache, &fetcher, &ruled, "/news/a.html", now),
        Verdict::Allowed(Duration::ZERO)
    );
    assert_eq!(
        ask(&cache, &fetcher, &ruled, "/private/open/a.html", now),
        Verdict::Allowed(Duration::ZERO)
    );
    let hits = ruled.hits("/robots.txt");
    assert_eq!(hits.len(), 1, "one fetch of the file per origin");
    let ua = hits[0].user_agent.clone().unwrap_or_default();
    assert!(ua.starts_with("Tributary/"), "{ua}");

    let missing = FeedServer::start();
    assert_eq!(
        ask(&cache, &fetcher, &missing, "/a.html", now),
        Verdict::Allowed(Duration::ZERO)
    );
    assert_eq!(missing.hits("/robots.txt")[0].status, 404);
    let forbidden = FeedServer::start();
    forbidden.set("/robots.txt", text_route("no").status(403));
    assert_eq!(
        ask(&cache, &fetcher, &forbidden, "/a.html", now),
        Verdict::Allowed(Duration::ZERO)
    );

    for status in [503, 429] {
        let broken = FeedServer::start();
        broken.set("/robots.txt", text_route("busy").status(status));
        assert!(
            matches!(
                ask(&cache, &fetcher, &broken, "/a.html", now),
                Verdict::Unreachable(why) if why.contains(&status.to_string())
            ),
            "{status}"
        );
    }
}

/// An answer is kept for the TTL, then asked for again; an unreachable
/// file is asked for again after a few minutes, and the pages come free
/// once it answers. `Crawl-delay` comes with the verdict.
#[test]
fn answers_are_kept_for_their_ttl() {
    let fetcher = Fetcher::new(&FetchConfig::default()).unwrap();
    let cache = RobotsCache::default();
    let t0 = Utc::now();
    let server = FeedServer::start();
    server.set(
        "/robots.txt",
        text_route("User-agent: *\nDisallow: /x/\nCrawl-delay: 2\n"),
    );
    let allowed = Verdict::Allowed(Duration::from_secs(2));
    assert_eq!(ask(&cache, &fetcher, &server, "/a", t0), allowed);
    assert_eq!(
        ask(&cache, &fetcher, &server, "/b", t0 + hours(23)),
        allowed
    );
    assert_eq!(server.hits("/robots.txt").len(), 1);
    // The file changed; the cache does not know until the TTL is over.
    server.set("/robots.txt", text_route("User-agent: *\nDisallow: /\n"));
    assert_eq!(
        ask(&cache, &fetcher, &server, "/c", t0 + hours(23)),
        allowed
    );
    let ttl = chrono::Duration::from_std(DEFAULT_TTL).unwrap();
    assert!(matches!(
        ask(&cache, &fetcher, &server, "/c", t0 + ttl),
        Verdict::Disallowed(Some(rule)) if rule == "Disallow: /"
    ));
    assert_eq!(server.hits("/robots.txt").len(), 2);

    let broken = FeedServer::start();
    broken.set("/robots.txt", text_route("down").status(500));
    assert!(matches!(
        ask(&cache, &fetcher, &broken, "/a", t0),
        Verdict::Unreachable(_)
    ));
    let soon = t0 + chrono::Duration::from_std(UNREACHABLE_TTL).unwrap();
    assert!(matches!(
        ask(
            &cache,
            &fetcher,
            &broken,
            "/a",
            soon - chrono::Duration::seconds(1)
        ),
        Verdict::Unreachable(_)
    ));
    assert_eq!(broken.hits("/robots.txt").len(), 1);
    broken.set("/robots.txt", text_route("User-agent: *\nDisallow:\n"));
    assert_eq!(
        ask(&cache, &fetcher, &broken, "/a", soon),
        Verdict::Allowed(Duration::ZERO)
    );
    assert_eq!(broken.hits("/robots.txt").len(), 2);
}

/// The cache holds at most its bound of origins: the least recently used
/// goes, and is asked for again when it is next needed.
#[test]
fn the_cache_is_bounded_in_origins() {
    let fetcher = Fetcher::new(&FetchConfig::default()).unwrap();
    let cache = RobotsCache::new(DEFAULT_TTL, 2);
    let now = Utc::now();
    let servers: Vec<FeedServer> = (0..3).map(|_| FeedServer::start()).collect();
    for s in &servers {
        s.set("/robots.txt", text_route("User-agent: *\nDisallow: /x\n"));
    }
    let [a, b, c] = [&servers[0], &servers[1], &servers[2]];
    ask(&cache, &fetcher, a, "/1", now);
    ask(&cache, &fetcher, b, "/1", now);
    ask(&cache, &fetcher, a, "/2", now); // a is now the most recent
    ask(&cache, &fetcher, c, "/1", now); // b goes
    assert_eq!(cache.len(), 2);
    ask(&cache, &fetcher, a, "/3", now);
    ask(&cache, &fetcher, c, "/2", now);
    assert_eq!(a.hits("/robots.txt").len(), 1);
    assert_eq!(c.hits("/robots.txt").len(), 1);
    ask(&cache, &fetcher, b, "/2", now);
    assert_eq!(b.hits("/robots.txt").len(), 2);
    assert_eq!(cache.len(), 2);
}

/// Through `tributary fetch`: a page robots.txt refuses is not fetched and
/// fails at once, naming the rule; the file is fetched once for the
/// origin; a feed with `robots = false` fetches the same kind of page; a
/// bad `robots` value is a config error with its line.
#[test]
fn fetch_honours_robots_txt_unless_turned_off() {
    let server = FeedServer::start();
    server.set(
        "/robots.txt",
        text_route("User-agent: *\nDisallow: /private/\n"),
    );
    let (closed, open, other) = (
        server.url("/private/a.html"),
        server.url("/news/b.html"),
        server.url("/private/c.html"),
    );
    for (path, words) in [
        ("/private/a.html", "lanterns"),
        ("/news/b.html", "orchards"),
        ("/private/c.html", "glaciers"),
    ] {
        server.set(path, html_route(own_page(words)));
    }
    server.set(
        "/polite.xml",
        Route::feed(rss(
            "Polite",
            &[
                (Some("a"), Some(closed.as_str()), "A"),
                (Some("b"), Some(open.as_str()), "B"),
            ],
        )),
    );
    server.set(
        "/rude.xml",
        Route::feed(rss("Rude", &[(Some("c"), Some(other.as_str()), "C")])),
    );
    let s = Scratch::new();
    s.write_config(
        &format!(
            "[fetch]\nhost_gap = \"0s\"\n\
             [[feeds]]\nname = \"polite\"\nurl = \"{}\"\nfull_text = true\n\
             [[feeds]]\nname = \"rude\"\nurl = \"{}\"\nfull_text = {{ robots = false }}\n",
            server.url("/polite.xml"),
            server.url("/rude.xml")
        ),
        &[],
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("full text: 2 extracted, 1 failed, 0 to retry later"),
        "{}",
        stdout(&out)
    );
    assert_eq!(server.hits("/private/a.html").len(), 0);
    assert_eq!(server.hits("/news/b.html").len(), 1);
    assert_eq!(server.hits("/private/c.html").len(), 1);
    assert_eq!(server.hits("/robots.txt").len(), 1);
    let error: String = s
        .db()
        .query_row(
            "SELECT extract_error FROM articles WHERE url = ?1",
            [&closed],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(error, "refused by robots.txt (Disallow: /private/)");
    let check = stdout(&s.tributary(&["check"]));
    assert!(
        check.contains("(full text)") && check.contains("(full text, robots.txt ignored)"),
        "{check}"
    );

    // Off for every feed: the section's switch.
    let s2 = Scratch::new();
    s2.write_config(
        &format!(
            "[fetch]\nhost_gap = \"0s\"\n[full_text]\nrobots = false\n\
             [[feeds]]\nname = \"polite\"\nurl = \"{}\"\nfull_text = true\n",
            server.url("/polite.xml"),
        ),
        &[],
    );
    let out = s2.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 2 extracted, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(server.hits("/private/a.html").len(), 1);
    assert_eq!(server.hits("/robots.txt").len(), 1);

    s2.write_config("[full_text]\nrobots = \"no\"\n", &[]);
    let out = s2.tributary(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("tributary.toml:4:") && err.contains("expected a boolean"),
        "{err}"
    );
}

/// A page that redirects to a page its robots.txt refuses (on another
/// site, or on its own) is not followed there: the target is never
/// requested, and the failure names the redirect and the rule. A redirect
/// to an allowed page is followed as before.
#[test]
fn redirects_are_followed_only_where_robots_txt_allows() {
    let news = FeedServer::start();
    let elsewhere = FeedServer::start();
    news.set(
        "/robots.txt",
        text_route("User-agent: *\nDisallow: /members/\n"),
    );
    elsewhere.set("/robots.txt", text_route("User-agent: *\nDisallow: /\n"));
    let away = elsewhere.url("/story.html");
    let inside = news.url("/members/story.html");
    let fine = news.url("/open/story.html");
    elsewhere.set("/story.html", html_route(own_page("harbours")));
    news.set("/members/story.html", html_route(own_page("meadows")));
    news.set("/open/story.html", html_route(own_page("canyons")));
    news.set(
        "/a.html",
        html_route("").status(302).header("Location", &away),
    );
    news.set(
        "/b.html",
        html_route("").status(301).header("Location", &inside),
    );
    news.set(
        "/c.html",
        html_route("").status(302).header("Location", &fine),
    );
    let links = [
        news.url("/a.html"),
        news.url("/b.html"),
        news.url("/c.html"),
    ];
    news.set(
        "/feed.xml",
        Route::feed(rss(
            "News",
            &[
                (Some("a"), Some(links[0].as_str()), "Away"),
                (Some("b"), Some(links[1].as_str()), "Inside"),
                (Some("c"), Some(links[2].as_str()), "Fine"),
            ],
        )),
    );
    let s = Scratch::new();
    s.write_config(
        &format!(
            "[fetch]\nhost_gap = \"0s\"\n\
             [[feeds]]\nname = \"news\"\nurl = \"{}\"\nfull_text = true\n",
            news.url("/feed.xml"),
        ),
        &[],
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("full text: 1 extracted, 2 failed, 0 to retry later"),
        "{}",
        stdout(&out)
    );
    assert_eq!(elsewhere.hits("/story.html").len(), 0);
    assert_eq!(elsewhere.hits("/robots.txt").len(), 1);
    assert_eq!(news.hits("/members/story.html").len(), 0);
    assert_eq!(news.hits("/open/story.html").len(), 1);
    let error = |link: &str| -> Option<String> {
        s.db()
            .query_row(
                "SELECT extract_error FROM articles WHERE url = ?1",
                [link],
                |r| r.get(0),
            )
            .unwrap()
    };
    let a = error(&links[0]).unwrap();
    assert!(
        a.contains(&format!("redirect to {away} refused")) && a.contains("(Disallow: /)"),
        "{a}"
    );
    let b = error(&links[1]).unwrap();
    assert!(b.contains("(Disallow: /members/)"), "{b}");
    assert_eq!(error(&links[2]), None);
}

/// `Crawl-delay` spaces the page fetches to its host (here 1 s, with
/// `host_gap = "0s"`: the larger of the two applies).
#[test]
fn crawl_delay_spaces_the_page_fetches_to_the_host() {
    let server = FeedServer::start();
    server.set(
        "/robots.txt",
        text_route("User-agent: tributary\nCrawl-delay: 1\nDisallow:\n"),
    );
    let (a, b) = (server.url("/p/a.html"), server.url("/p/b.html"));
    server.set("/p/a.html", html_route(own_page("ferns")));
    server.set("/p/b.html", html_route(own_page("mosses")));
    server.set(
        "/f.xml",
        Route::feed(rss(
            "F",
            &[
                (Some("a"), Some(a.as_str()), "A"),
                (Some("b"), Some(b.as_str()), "B"),
            ],
        )),
    );
    let s = Scratch::new();
    s.write_config(
        &format!(
            "[fetch]\nhost_gap = \"0s\"\n[[feeds]]\nname = \"f\"\nurl = \"{}\"\nfull_text = true\n",
            server.url("/f.xml")
        ),
        &[],
    );
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("full text: 2 extracted"),
        "{}",
        stdout(&out)
    );
    let mut at: Vec<std::time::Instant> = ["/p/a.html", "/p/b.html"]
        .iter()
        .map(|p| server.hits(p)[0].at)
        .collect();
    at.sort();
    let gap = at[1] - at[0];
    assert!(gap >= Duration::from_millis(900), "{gap:?}");
}

/// `tributary extract` is the operator's own request: robots.txt does not
/// stop it, and a note says the daemon would be refused.
#[test]
fn extract_notes_what_robots_txt_would_refuse() {
    let server = FeedServer::start();
    server.set(
        "/robots.txt",
        text_route("User-agent: *\nDisallow: /private/\n"),
    );
    server.set("/private/a.html", html_route(own_page("herons")));
    let s = Scratch::new();
    s.write_config("", &[]);
    let out = s.tributary(&["extract", &server.url("/private/a.html")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Paragraph 2 about herons"));
    assert!(
        stderr(&out).contains("robots.txt refuses this page to the daemon (Disallow: /private/)"),
        "{}",
        stderr(&out)
    );
}

/// A robots.txt over 500 KiB is read up to the cap (RFC 9309), not
/// refused: the rules before the cap hold.
#[test]
fn a_huge_robots_txt_is_read_up_to_the_cap() {
    let fetcher = Fetcher::new(&FetchConfig::default()).unwrap();
    let cache = RobotsCache::default();
    let server = FeedServer::start();
    let filler = "# filler line of a very long robots.txt\n".repeat(20_000);
    server.set(
        "/robots.txt",
        text_route(&format!(
            "User-agent: *\nDisallow: /x/\n{filler}Disallow: /late/\n"
        )),
    );
    let now = Utc::now();
    assert_eq!(
        ask(&cache, &fetcher, &server, "/x/a.html", now),
        Verdict::Disallowed(Some("Disallow: /x/".into()))
    );
    // Past the cap: not read.
    assert_eq!(
        ask(&cache, &fetcher, &server, "/late/a.html", now),
        Verdict::Allowed(Duration::ZERO)
    );
}
