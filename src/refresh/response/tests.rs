use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::Config;
use crate::fetch::Redirect;
use crate::model::FeedId;

fn config(feed: &str) -> Config {
    Config::parse(
        &format!("[[feeds]]\nname = \"f\"\n{feed}\n"),
        Path::new("t.toml"),
    )
    .unwrap()
}

fn record() -> FetchRecord {
    new_record(FeedId(1), "https://a.example/feed".into(), None, Utc::now())
}

fn meta(status: u16, hops: &[(u16, &str)]) -> ResponseMeta {
    ResponseMeta {
        status,
        validators: Validators::default(),
        cache_control: None,
        expires: None,
        redirects: hops
            .iter()
            .map(|(s, to)| Redirect {
                status: *s,
                to: Url::parse(to).unwrap(),
            })
            .collect(),
        final_url: hops.last().map(|(_, to)| Url::parse(to).unwrap()),
        links: Default::default(),
    }
}

#[test]
fn failures_are_classified_by_what_waiting_can_fix() {
    let c = config("url = \"https://a.example/feed\"");
    let feed = &c.feeds[0];
    let now = Utc::now();
    let status = |status, retry_after: Option<&str>| FetchError::Status {
        status,
        retry_after: retry_after.map(String::from),
        redirects: vec![],
    };
    let cases = [
        (status(410, None), Outcome::Gone),
        (status(404, None), Outcome::Permanent),
        (status(500, None), Outcome::Transient),
        (
            FetchError::Timeout(Duration::from_secs(30)),
            Outcome::Transient,
        ),
        (FetchError::TooLarge { limit: 10 }, Outcome::Permanent),
    ];
    for (e, want) in cases {
        let mut rec = record();
        failed(&mut rec, &e, feed, now);
        assert_eq!(rec.outcome, want, "{e}");
        assert_eq!(rec.error.as_deref(), Some(e.to_string().as_str()));
        assert_eq!(rec.retry_after_until, None);
    }
    // Retry-After counts from `now`, on 429 and 503 only.
    let mut rec = record();
    failed(&mut rec, &status(429, Some("120")), feed, now);
    assert_eq!(rec.outcome, Outcome::Transient);
    assert_eq!(rec.http_status, Some(429));
    assert_eq!(
        rec.retry_after_until,
        Some(now + chrono::Duration::seconds(120))
    );
    let mut rec = record();
    failed(&mut rec, &status(500, Some("120")), feed, now);
    assert_eq!(rec.retry_after_until, None);
}

#[test]
fn a_304_keeps_the_stored_validators_it_omits() {
    let c = config("url = \"https://a.example/feed\"");
    let secrets = &c.fetch.url_secrets;
    let redactor = Redactor::new(&c.feeds[0].http, &c.feeds[0].url, secrets);
    let stored = Validators {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Mon, 23 Nov 2026 10:00:00 GMT".into()),
    };
    let mut m = meta(304, &[]);
    m.validators.etag = Some("\"v2\"".into());
    let mut rec = record();
    not_modified(&mut rec, &m, &stored, &redactor);
    assert_eq!(rec.outcome, Outcome::NotModified);
    assert_eq!(rec.http_status, Some(304));
    let v = rec.validators.unwrap();
    assert_eq!(v.etag.as_deref(), Some("\"v2\""));
    assert_eq!(v.last_modified, stored.last_modified);
}

#[test]
fn only_a_chain_of_permanent_redirects_is_a_move_and_credentials_hold_it() {
    let plain = config("url = \"https://a.example/feed\"");
    let feed = &plain.feeds[0];
    let secrets = &plain.fetch.url_secrets;
    let redactor = Redactor::new(&feed.http, &feed.url, secrets);
    let moved = meta(
        200,
        &[
            (301, "https://a.example/new"),
            (308, "https://b.example/feed"),
        ],
    );
    let mut rec = record();
    permanent_move(&mut rec, Some(&moved), feed, &redactor, secrets);
    assert_eq!(
        rec.permanent_redirect.as_deref(),
        Some("https://b.example/feed")
    );
    assert!(!rec.move_held && rec.error.is_none());
    // One temporary hop: no move.
    let mut rec = record();
    let mixed = meta(
        200,
        &[
            (301, "https://a.example/new"),
            (302, "https://b.example/feed"),
        ],
    );
    permanent_move(&mut rec, Some(&mixed), feed, &redactor, secrets);
    assert_eq!(rec.permanent_redirect, None);

    // The feed's credentials would not follow to another origin: held,
    // with a note after any earlier message.
    let with_creds =
        config("url = \"https://a.example/feed\"\nheaders = { Authorization = \"Bearer s3cret\" }");
    let feed = &with_creds.feeds[0];
    let redactor = Redactor::new(&feed.http, &feed.url, secrets);
    let mut rec = record();
    rec.error = Some("only the first 10 entries kept".into());
    permanent_move(&mut rec, Some(&moved), feed, &redactor, secrets);
    assert!(rec.move_held);
    let error = rec.error.unwrap();
    assert!(
        error.starts_with("only the first 10 entries kept; permanently redirected to https://b.example/feed, not followed"),
        "{error}"
    );
}

#[test]
fn a_report_fails_when_its_fetch_could_not_be_stored() {
    assert_eq!(report_status(Outcome::Ok, true), Outcome::Ok);
    assert_eq!(report_status(Outcome::Ok, false), Outcome::Permanent);
    assert_eq!(report_status(Outcome::Transient, false), Outcome::Transient);
    assert_eq!(
        report_status(Outcome::NotModified, true),
        Outcome::NotModified
    );
}

#[test]
fn credentials_echoed_into_a_message_are_redacted() {
    let c = config("url = \"https://a.example/feed?token=s3cret\"");
    let secrets = &c.fetch.url_secrets;
    let redactor = Redactor::new(&c.feeds[0].http, &c.feeds[0].url, secrets);
    let mut rec = record();
    rec.error = Some("HTTP 500 at https://a.example/feed?token=s3cret".into());
    redact_error(&mut rec, &redactor);
    let error = rec.error.unwrap();
    assert!(
        !error.contains("s3cret") && error.starts_with("HTTP 500 at"),
        "{error}"
    );
}
