use super::*;

fn url(path: &str) -> Url {
    Url::parse(&format!("https://news.example{path}")).unwrap()
}

const FILE: &str = "# comments are ignored\n\
    User-agent: *\n\
    Disallow: /private/\n\
    Allow: /private/open\n\
    \n\
    User-agent: otherbot\n\
    Disallow: /\n";

#[test]
fn the_star_group_applies_and_the_refusing_rule_is_named() {
    let p = Policy::parse(FILE.as_bytes());
    assert_eq!(
        p.verdict(&url("/2024/story.html")),
        Verdict::Allowed(Duration::ZERO)
    );
    assert_eq!(
        p.verdict(&url("/private/story.html")),
        Verdict::Disallowed(Some("Disallow: /private/".into()))
    );
    // The longer Allow wins.
    assert_eq!(
        p.verdict(&url("/private/open/story.html")),
        Verdict::Allowed(Duration::ZERO)
    );
}

#[test]
fn a_group_naming_tributary_wins_over_the_star_group() {
    let file = "User-agent: *\nDisallow: /\n\nUser-agent: Tributary\nDisallow: /drafts/*.html$\nCrawl-delay: 2.5\n";
    let p = Policy::parse(file.as_bytes());
    assert_eq!(
        p.verdict(&url("/news/a.html")),
        Verdict::Allowed(Duration::from_millis(2500))
    );
    assert_eq!(
        p.verdict(&url("/drafts/a.html")),
        Verdict::Disallowed(Some("Disallow: /drafts/*.html$".into()))
    );
    // Not the star group's `Disallow: /`.
    assert_eq!(
        p.verdict(&url("/drafts/a.html?x")),
        Verdict::Allowed(Duration::from_millis(2500))
    );
}

#[test]
fn crawl_delay_is_capped() {
    let p = Policy::parse(b"User-agent: *\nCrawl-delay: 86400\nDisallow: /x\n");
    assert_eq!(p.crawl_delay(), MAX_CRAWL_DELAY);
    let p = Policy::parse(b"User-agent: *\nCrawl-delay: -3\n");
    assert_eq!(p.crawl_delay(), Duration::ZERO);
}

#[test]
fn responses_mean_what_google_takes_them_to_mean() {
    let status = |status| {
        Policy::from_fetch(Err(FetchError::Status {
            status,
            retry_after: None,
            redirects: vec![],
        }))
    };
    assert!(matches!(status(404), Policy::AllowAll));
    assert!(matches!(status(403), Policy::AllowAll));
    assert!(matches!(status(503), Policy::Unreachable(m) if m.contains("503")));
    assert!(matches!(status(429), Policy::Unreachable(_)));
    assert!(matches!(
        Policy::from_fetch(Err(FetchError::Timeout(Duration::from_secs(5)))),
        Policy::Unreachable(_)
    ));
    assert!(matches!(
        Policy::from_fetch(Err(FetchError::Redirects("loop".into()))),
        Policy::AllowAll
    ));
    assert_eq!(
        status(500).verdict(&url("/a")),
        Verdict::Unreachable("HTTP 500 Internal Server Error".into())
    );
    // An unreachable file is asked for again soon, whatever the TTL.
    assert_eq!(status(500).ttl(DEFAULT_TTL), UNREACHABLE_TTL);
    assert_eq!(status(404).ttl(DEFAULT_TTL), DEFAULT_TTL);
}

#[test]
fn freshness_follows_the_callers_clock() {
    let t0 = Utc::now();
    let c = Cached {
        policy: Arc::new(Policy::AllowAll),
        fetched_at: t0,
        expires_at: t0 + chrono::Duration::hours(24),
    };
    assert!(c.fresh(t0));
    assert!(c.fresh(t0 + chrono::Duration::hours(23)));
    assert!(!c.fresh(t0 + chrono::Duration::hours(24)));
    // A clock set back does not keep an answer forever.
    assert!(!c.fresh(t0 - chrono::Duration::seconds(1)));
}

#[test]
fn origins_are_scheme_host_and_port() {
    assert_eq!(origin(&url("/a")), "https://news.example:443");
    assert_eq!(
        origin(&Url::parse("http://News.Example:8080/x").unwrap()),
        "http://news.example:8080"
    );
}

#[test]
fn only_the_groups_that_apply_name_rules() {
    let d = disallow_patterns("User-agent: a\nUser-agent: *\nDisallow: /x\nDisallow: /longer\n\nUser-agent: b\nDisallow: /b\n");
    assert_eq!(d, vec!["/longer".to_string(), "/x".to_string()]);
    let d = disallow_patterns("Disallow: /nogroup\n");
    assert_eq!(d, vec!["/nogroup".to_string()]);
}
