use chrono::Duration;

use super::*;
use crate::model::{FeedHints, FeedId, IdentityMode, Validators};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T18:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn row(status: &str, http: Option<u16>, error: Option<&str>) -> FeedRow {
    FeedRow {
        id: FeedId(1),
        name: "wire".into(),
        url: "https://wire.example/feed.xml".into(),
        active: true,
        dedup: true,
        title: None,
        site_url: None,
        identity_mode: IdentityMode::Guid,
        validators: Validators::default(),
        final_url: None,
        status: status.into(),
        last_fetch_at: Some(now() - Duration::minutes(5)),
        last_success_at: Some(now() - Duration::days(2)),
        last_new_entry_at: None,
        last_http_status: http,
        last_error: error.map(str::to_string),
        consecutive_errors: u32::from(error.is_some()) * 4,
        next_check_at: None,
        next_check_reason: None,
        tags: vec![],
        moved_to: None,
        hints: FeedHints::default(),
        retry_after_until: None,
    }
}

fn log(outcomes: &[&str]) -> Vec<FetchLogRow> {
    outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| FetchLogRow {
            started_at: Some(now() - Duration::hours(i as i64 * 6)),
            url: "https://wire.example/feed.xml".into(),
            final_url: None,
            outcome: o.to_string(),
            http_status: None,
            bytes: 0,
            duration_ms: 0,
            new_entries: 0,
            error: None,
        })
        .collect()
}

fn kinds(d: &Diagnosis) -> Vec<Kind> {
    d.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn healthy_feeds_have_no_findings() {
    let d = diagnose(
        &row("ok", Some(200), None),
        &RedirectStreak::default(),
        &log(&["ok"]),
        now(),
    );
    assert!(d.is_ok());
    assert_eq!(d.probe, Probe::None);
    assert_eq!(d.history, None);
}

#[test]
fn stored_errors_are_classified() {
    let cases: &[(Option<u16>, &str, Kind)] = &[
        (None, "timed out after 30s", Kind::Timeout),
        (None, "cannot connect: client error (Connect): dns error: failed to lookup address information: Name or service not known", Kind::Dns),
        (None, "cannot connect: client error (Connect): invalid peer certificate: UnknownIssuer", Kind::Tls),
        (None, "cannot connect: client error (Connect): tcp connect error: Connection refused (os error 111)", Kind::Refused),
        (Some(403), "HTTP 403 Forbidden", Kind::Blocked),
        (Some(404), "HTTP 404 Not Found", Kind::NotFound),
        (Some(401), "HTTP 401 Unauthorized", Kind::Unauthorized),
        (Some(503), "HTTP 503 Service Unavailable", Kind::ServerError),
        (Some(418), "HTTP 418 I'm a teapot", Kind::HttpError),
        (Some(200), "not a feed: an HTML page", Kind::NotAFeed),
        (Some(200), "malformed XML: ill-formed document", Kind::ParseError),
        (Some(200), "empty document", Kind::Empty),
        (None, "body larger than the 1024-byte cap", Kind::TooLarge),
        (None, "redirect loop at https://x.example/", Kind::Redirects),
        (None, "cannot read /srv/x.xml: No such file or directory (os error 2)", Kind::File),
    ];
    for (http, error, kind) in cases {
        assert_eq!(classify(error, *http), *kind, "{error}");
    }
}

#[test]
fn moved_gone_and_rate_limited_are_explained() {
    let mut r = row("ok", Some(200), None);
    r.moved_to = Some("https://new.example/feed".into());
    let d = diagnose(&r, &RedirectStreak::default(), &[], now());
    assert_eq!(kinds(&d), [Kind::Moved]);
    assert!(d.findings[0]
        .todo
        .as_deref()
        .unwrap()
        .contains("url = \"https://new.example/feed\""));

    let r = row("ok", Some(200), None);
    let mut streak = RedirectStreak {
        count: 1,
        target: Some("https://new.example/feed".into()),
        held: None,
    };
    let d = diagnose(&r, &streak, &[], now());
    assert_eq!(kinds(&d), [Kind::Moved]);
    assert!(
        d.findings[0].what.contains("1 time in a row"),
        "{}",
        d.findings[0].what
    );
    // A move held back (credentials bound to the old origin) says so.
    streak.count = 4;
    streak.held = Some("its credentials belong to the configured origin");
    let d = diagnose(&r, &streak, &[], now());
    assert!(
        d.findings[0]
            .what
            .contains("does not follow it: its credentials"),
        "{}",
        d.findings[0].what
    );
    assert!(d.findings[0]
        .todo
        .as_deref()
        .unwrap()
        .contains("url = \"https://new.example/feed\""));

    let d = diagnose(
        &row("gone", Some(410), Some("HTTP 410 Gone")),
        &RedirectStreak::default(),
        &log(&["gone"]),
        now(),
    );
    assert_eq!(kinds(&d), [Kind::Gone]);
    assert_eq!(d.probe, Probe::None);

    let mut r = row("transient", Some(429), Some("HTTP 429 Too Many Requests"));
    r.retry_after_until = Some(now() + Duration::hours(2));
    let d = diagnose(&r, &RedirectStreak::default(), &log(&["transient"]), now());
    assert_eq!(kinds(&d), [Kind::RateLimited]);
    assert!(
        d.findings[0]
            .what
            .contains("until 2026-11-25 20:00 UTC (in 2h)"),
        "{}",
        d.findings[0].what
    );
    assert_eq!(d.probe, Probe::None);
}

#[test]
fn failures_get_a_history_and_a_probe() {
    let r = row("permanent", Some(404), Some("HTTP 404 Not Found"));
    let d = diagnose(
        &r,
        &RedirectStreak::default(),
        &log(&["permanent", "permanent", "ok"]),
        now(),
    );
    assert_eq!(kinds(&d), [Kind::NotFound]);
    assert_eq!(d.probe, Probe::Site);
    assert_eq!(
        d.history.as_deref(),
        Some("failing since 6h ago (4 fetches in a row); last success: 2d ago")
    );
    let r = row("permanent", Some(200), Some("not a feed: an HTML page"));
    let d = diagnose(&r, &RedirectStreak::default(), &log(&["permanent"]), now());
    assert_eq!(d.probe, Probe::Url);
    assert!(d
        .history
        .unwrap()
        .starts_with("failing since before 0s ago (4 fetches"));
}

#[test]
fn never_fetched_and_removed() {
    let mut r = row("new", None, None);
    r.last_fetch_at = None;
    assert_eq!(
        kinds(&diagnose(&r, &RedirectStreak::default(), &[], now())),
        [Kind::NotFetched]
    );
    let mut r = row("ok", None, None);
    r.active = false;
    assert_eq!(
        kinds(&diagnose(&r, &RedirectStreak::default(), &[], now())),
        [Kind::Removed]
    );
}

#[test]
fn bot_walls_are_recognised() {
    assert_eq!(
        bot_wall("<html><title>Just a moment...</title><script src=/cdn-cgi/challenge-platform/x>"),
        Some("Cloudflare")
    );
    assert_eq!(bot_wall("<html><body>Hello</body></html>"), None);
}

#[test]
fn error_positions_in_xml_and_json() {
    let xml = "<?xml version=\"1.0\"?>\n<rss><channel>\n  <item><title>A</title></itme>\n</channel></rss>";
    let p = error_position(xml).unwrap();
    assert_eq!((p.line, p.column), (3, 25), "{p:?}");
    assert!(p.excerpt.contains("</itme>"), "{p:?}");
    let p = error_position("<rss><channel><title>A &nbsp; B</title></channel></rss>").unwrap();
    assert_eq!((p.line, p.column), (1, 24), "{p:?}");
    assert!(p.message.contains("&nbsp;"));
    let p = error_position("<rss><channel><title>A</title>").unwrap();
    assert_eq!(p.line, 1);
    let p = error_position(
        "{\n  \"version\": \"https://jsonfeed.org/version/1.1\",\n  \"items\": [,]\n}",
    )
    .unwrap();
    assert_eq!((p.line, p.column), (3, 13), "{p:?}");
    assert_eq!(error_position("<rss><channel/></rss>"), None);
}
