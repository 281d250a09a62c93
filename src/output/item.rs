//! One stored story → one published [`Item`] (pure).
//!
//! The item is the story's lead article; its source is the first feed in
//! the output's selection that carried that article, and every other feed
//! that carried it, or another article of the story, is named once in
//! `also_in`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::clean;
use crate::model;
use crate::store::{FeedRef, OutputStory, Sighting};
use crate::syndication::{Enclosure, Item, Mention, Person, Source, TagUri};

/// The published item for `story`; its id comes from the lead article's
/// row id, which never changes (see [`TagUri::item`]).
pub fn item(ids: &TagUri, story: &OutputStory) -> Item {
    let lead = &story.lead;
    let url = lead.canonical_url.clone().or_else(|| lead.url.clone());
    let content_html = lead
        .content_html
        .clone()
        .or_else(|| lead.summary_html.clone());
    let summary_text = match &lead.summary_html {
        Some(summary) if Some(summary) != lead.content_html.as_ref() => {
            Some(clean::html_to_text(summary))
        }
        _ if content_html.is_none() && !lead.content_text.is_empty() => {
            Some(lead.content_text.clone())
        }
        _ => None,
    };
    let source_sighting = source(story);
    let feed_source = |feed: &FeedRef| feed_source(ids, feed);
    let source_name = source_sighting.map(|s| s.feed.name.as_str());
    let mut named: HashSet<&str> = source_name.into_iter().collect();
    let also_in = story
        .sightings
        .iter()
        .filter(|s| named.insert(s.feed.name.as_str()))
        .map(|s| Mention {
            source: feed_source(&s.feed),
            url: s.url.clone().filter(|u| Some(u) != url.as_ref()),
        })
        .collect();
    // Rows stored before titles were derived at ingest get theirs here,
    // the same way.
    let derived = (lead.title.trim().is_empty())
        .then(|| clean::title::derive(&lead.content_text, url.as_deref()))
        .flatten();
    Item {
        id: ids.item(lead.id.0),
        title_derived: lead.title_derived || derived.is_some(),
        title: derived.unwrap_or_else(|| lead.title.clone()),
        language: source_sighting.and_then(|s| s.feed.language.clone()),
        url,
        content_html,
        summary_text,
        published: lead.published_at,
        updated: updated(story),
        authors: lead
            .authors
            .split(", ")
            .filter(|a| !a.trim().is_empty())
            .map(|name| Person {
                name: name.trim().to_owned(),
                ..Person::default()
            })
            .collect(),
        categories: serde_json::from_str(&lead.categories).unwrap_or_default(),
        enclosures: serde_json::from_str::<Vec<model::Enclosure>>(&lead.enclosures)
            .unwrap_or_default()
            .into_iter()
            .map(|e| Enclosure {
                url: e.url,
                mime_type: e.mime_type,
                length: e.length,
            })
            .collect(),
        source: source_sighting
            .map(|s| feed_source(&s.feed))
            .unwrap_or_default(),
        also_in,
    }
}

/// The feed the item is credited to: the first selected feed that carried
/// the lead article, else the first feed that carried it at all.
fn source(story: &OutputStory) -> Option<&Sighting> {
    let lead = story.lead.id;
    let of_lead = || story.sightings.iter().filter(move |s| s.article == lead);
    of_lead()
        .find(|s| s.selected)
        .or_else(|| of_lead().next())
        .or_else(|| story.sightings.first())
}

/// When the item last changed: the feed's own update time or Tributary's
/// record of a content change, whichever is later, never before publication.
fn updated(story: &OutputStory) -> DateTime<Utc> {
    let lead = &story.lead;
    [lead.updated_at, lead.changed_at]
        .into_iter()
        .flatten()
        .fold(lead.published_at, DateTime::max)
}

/// The latest stored time a story shows: when it, or any sighting of it,
/// arrived or changed. The channel's `updated` is the latest of these.
pub fn last_change(story: &OutputStory) -> DateTime<Utc> {
    story
        .sightings
        .iter()
        .map(|s| s.first_seen_at)
        .chain([story.lead.first_seen_at])
        .chain(story.lead.changed_at)
        .fold(updated(story), DateTime::max)
}

fn feed_source(ids: &TagUri, feed: &FeedRef) -> Source {
    let feed_url = public_feed_url(&feed.url);
    Source {
        id: Some(feed_url.clone().unwrap_or_else(|| ids.source(&feed.name))),
        feed_name: feed.name.clone(),
        title: feed.title.clone().unwrap_or_default(),
        site_url: feed.site_url.clone(),
        feed_url,
        updated: feed.updated,
    }
}

/// Query parameter names that carry secrets in subscription URLs of
/// private feeds (`?token=…`, `?key=…`).
const SECRET_PARAMETERS: &[&str] = &[
    "token",
    "key",
    "secret",
    "auth",
    "pass",
    "password",
    "sig",
    "signature",
    "session",
    "apikey",
];

/// A subscribed feed's URL, if it may be republished: an `http(s)` URL
/// with no user name, password or secret-looking query parameter (private
/// feeds often carry their credentials in the URL). Sources stay
/// identified by their name, title and site either way.
pub fn public_feed_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        SECRET_PARAMETERS.iter().any(|s| name.contains(s))
    };
    let public = matches!(parsed.scheme(), "http" | "https")
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && !parsed.query_pairs().any(|(name, _)| secret(&name));
    public.then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::ArticleId;
    use crate::store::OutputArticle;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
    }

    fn sighting(article: i64, feed: &str, selected: bool, day: u32) -> Sighting {
        Sighting {
            article: ArticleId(article),
            feed: FeedRef {
                name: feed.into(),
                title: Some(format!("The {feed}")),
                site_url: Some(format!("https://{feed}.example/")),
                url: format!("https://{feed}.example/feed"),
                language: Some("en".into()),
                updated: None,
            },
            url: Some(format!("https://{feed}.example/story?utm_source=x")),
            selected,
            first_seen_at: at(day),
        }
    }

    fn story() -> OutputStory {
        OutputStory {
            lead: OutputArticle {
                id: ArticleId(42),
                title: "Bridge reopens".into(),
                title_derived: false,
                url: Some("https://news.example/bridge?utm_source=x".into()),
                canonical_url: Some("https://news.example/bridge".into()),
                authors: "Ann, Bo".into(),
                summary_html: Some("<p>Short &amp; sweet</p>".into()),
                content_html: Some("<p>Long</p>".into()),
                content_text: "Long".into(),
                published_at: at(3),
                updated_at: Some(at(4)),
                first_seen_at: at(5),
                changed_at: Some(at(6)),
                categories: r#"["city","transport"]"#.into(),
                enclosures:
                    r#"[{"url":"https://cdn.example/a.jpg","mime_type":"image/jpeg","length":5}]"#
                        .into(),
            },
            sightings: vec![
                sighting(42, "wire", false, 5),
                sighting(42, "world", true, 7),
                sighting(42, "wire", false, 8),
                sighting(43, "local", false, 9),
            ],
        }
    }

    #[test]
    fn a_story_becomes_an_item_credited_to_a_selected_feed() {
        let ids = TagUri::new("river.example", "2026").unwrap();
        let item = item(&ids, &story());
        assert_eq!(item.id, "tag:river.example,2026:item/42");
        assert_eq!(item.url.as_deref(), Some("https://news.example/bridge"));
        assert_eq!(item.content_html.as_deref(), Some("<p>Long</p>"));
        assert_eq!(item.summary_text.as_deref(), Some("Short & sweet"));
        assert_eq!(item.source.feed_name, "world");
        let also: Vec<&str> = item
            .also_in
            .iter()
            .map(|m| m.source.feed_name.as_str())
            .collect();
        assert_eq!(also, ["wire", "local"]);
        assert_eq!(item.authors.len(), 2);
        assert_eq!(item.authors[1].name, "Bo");
        assert_eq!(item.categories, ["city", "transport"]);
        assert_eq!(item.enclosures[0].length, Some(5));
        assert_eq!(item.updated, at(6));
        assert_eq!(last_change(&story()), at(9));
    }

    #[test]
    fn private_feed_urls_are_not_republished() {
        for public in [
            "https://a.example/feed.xml",
            "https://a.example/feed?format=rss&page=1",
        ] {
            assert_eq!(public_feed_url(public).as_deref(), Some(public));
        }
        for private in [
            "https://a.example/feed?token=abc",
            "https://a.example/feed?x=1&API_KEY=abc",
            "https://user:pw@a.example/feed",
            "file:///srv/feeds/a.xml",
        ] {
            assert_eq!(public_feed_url(private), None, "{private}");
        }
    }

    #[test]
    fn without_a_selected_feed_the_first_is_the_source() {
        let ids = TagUri::new("river.example", "2026").unwrap();
        let mut story = story();
        story.sightings.iter_mut().for_each(|s| s.selected = false);
        story.lead.content_html = None;
        story.lead.summary_html = None;
        let item = item(&ids, &story);
        assert_eq!(item.source.feed_name, "wire");
        assert_eq!(item.content_html, None);
        assert_eq!(item.summary_text.as_deref(), Some("Long"), "text stands in");
    }
}
