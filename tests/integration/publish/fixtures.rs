//! Channels for the publishing tests: an ordinary one whose every value is
//! asserted after a round trip, and a hostile one built to break documents.

use chrono::{DateTime, TimeZone, Utc};
use tributary::syndication::{
    Channel, Enclosure, FeedUrls, Generator, Item, Mention, Person, Source, TagUri,
};

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn lwn() -> Source {
    Source {
        id: None,
        feed_name: "lwn".into(),
        title: "LWN.net".into(),
        site_url: Some("https://lwn.example/".into()),
        feed_url: Some("https://lwn.example/feed".into()),
        updated: Some(at(2026, 3, 2, 0, 0, 0)),
    }
}

fn item(tag: &TagUri, number: i64, title: &str, when: DateTime<Utc>) -> Item {
    Item {
        id: tag.item(number),
        title: title.into(),
        title_derived: false,
        language: None,
        url: None,
        content_html: None,
        summary_text: None,
        published: when,
        updated: when,
        authors: vec![],
        categories: vec![],
        enclosures: vec![],
        source: lwn(),
        also_in: vec![],
    }
}

/// Three items: a complete one seen in two other feeds, one without
/// author or content, and one with nothing but an id and dates.
pub fn sample_channel() -> Channel {
    let tag = TagUri::new("river.example", "2026").unwrap();
    let first = Item {
        url: Some("https://lwn.example/a/1".into()),
        content_html: Some("<p>Hello <b>world</b> &amp; ]]> friends</p>".into()),
        summary_text: Some("Rust in 2026.".into()),
        updated: at(2026, 3, 2, 9, 30, 0),
        authors: vec![
            Person {
                name: "Ann Author".into(),
                url: Some("https://ann.example/".into()),
                email: Some("ann@example.org".into()),
            },
            Person {
                name: "Bo".into(),
                ..Person::default()
            },
        ],
        categories: vec!["rust".into(), "feeds".into(), " ".into()],
        enclosures: vec![Enclosure {
            url: "https://cdn.example/ep1.mp3".into(),
            mime_type: Some("audio/mpeg".into()),
            length: Some(12_345_678),
        }],
        also_in: vec![
            Mention {
                source: Source {
                    id: None,
                    feed_name: "hn".into(),
                    title: "Hacker News".into(),
                    site_url: Some("https://hn.example/".into()),
                    feed_url: Some("https://hn.example/rss".into()),
                    updated: None,
                },
                url: Some("https://hn.example/item?id=9".into()),
            },
            Mention {
                source: Source {
                    id: None,
                    feed_name: "blog".into(),
                    title: "A Blog".into(),
                    site_url: Some("https://blog.example/".into()),
                    ..Source::default()
                },
                url: None,
            },
        ],
        ..item(&tag, 1, "Rust 2026 & <you>", at(2026, 3, 1, 8, 0, 0))
    };
    let second = Item {
        url: Some("https://lwn.example/a/2".into()),
        summary_text: Some("Only a summary <here>.".into()),
        ..item(&tag, 2, "Second", at(2026, 2, 28, 12, 0, 0))
    };
    let third = Item {
        authors: vec![Person::default()],
        source: Source {
            id: None,
            feed_name: "bare".into(),
            ..Source::default()
        },
        ..item(&tag, 3, "", at(2026, 2, 27, 0, 0, 0))
    };
    Channel {
        id: tag.channel("tech"),
        title: "Tech & Science <river>".into(),
        description: "News about tech.".into(),
        language: Some("en".into()),
        home_page_url: Some("https://river.example/tech".into()),
        feed_urls: FeedUrls {
            atom: Some("https://river.example/tech.atom".into()),
            rss: Some("https://river.example/tech.rss".into()),
            json_feed: Some("https://river.example/tech.json".into()),
        },
        hubs: Vec::new(),
        updated: at(2026, 3, 1, 0, 0, 0),
        generator: Generator::tributary(),
        items: vec![first, second, third],
    }
}

/// Control characters, CDATA terminators, markup, megabyte values,
/// malformed URLs, addresses, types and tags, and dates at both ends of
/// time: nothing here may break a document.
pub fn hostile_channel() -> Channel {
    let evil_source = Source {
        id: None,
        feed_name: "\u{0}".into(),
        title: "]]>".into(),
        site_url: Some("data:text/html,hi".into()),
        feed_url: Some(String::new()),
        updated: Some(DateTime::<Utc>::MIN_UTC),
    };
    let evil = Item {
        id: "tag:x,2026:\u{0}]]>".into(),
        title: format!("]]>{}", "<script>\u{1}".repeat(20_000)),
        title_derived: false,
        language: None,
        url: Some("https://bad.example/a b|c".into()),
        content_html: Some(
            "<script>alert('x')</script>]]><![CDATA[ boom ]]>\u{0}\u{1b}[31m\u{ffff}".into(),
        ),
        summary_text: Some("\r\n\t".into()),
        published: DateTime::<Utc>::MIN_UTC,
        updated: DateTime::<Utc>::MAX_UTC,
        authors: vec![
            Person {
                name: "\u{0}".into(),
                url: Some("javascript:x".into()),
                email: Some("not an email".into()),
            },
            Person {
                name: "Eve \"the\" <hacker> & co".into(),
                url: Some("https://eve.example/ok".into()),
                email: Some("eve@evil.example\n<x>".into()),
            },
        ],
        categories: vec![
            String::new(),
            "  ".into(),
            "\u{0}".into(),
            "a\"b'c<d>&e\u{7f}".into(),
            format!("{}\"'<>&", "x".repeat(1_000_000)),
        ],
        enclosures: vec![
            Enclosure {
                url: format!("https://cdn.example/{}", "a".repeat(1_000_000)),
                mime_type: Some("audio/mpeg".into()),
                length: Some(u64::MAX),
            },
            Enclosure {
                url: "relative.mp3".into(),
                mime_type: None,
                length: None,
            },
            Enclosure {
                url: "https://cdn.example/ok.mp3".into(),
                mime_type: Some("not a type".into()),
                length: None,
            },
        ],
        source: evil_source.clone(),
        also_in: vec![
            Mention {
                source: Source {
                    title: "<b>bold</b>".into(),
                    site_url: Some("https://ok.example/\"onmouseover=\"x".into()),
                    ..Source::default()
                },
                url: Some("vbscript:x".into()),
            },
            Mention::default(),
            Mention {
                source: evil_source,
                url: None,
            },
        ],
    };
    let empty = Item {
        id: String::new(),
        title: String::new(),
        title_derived: false,
        language: None,
        url: Some(String::new()),
        content_html: Some(String::new()),
        summary_text: Some(String::new()),
        published: DateTime::<Utc>::UNIX_EPOCH,
        updated: DateTime::<Utc>::UNIX_EPOCH,
        authors: vec![Person::default()],
        categories: vec![String::new()],
        enclosures: vec![],
        source: Source::default(),
        also_in: vec![],
    };
    Channel {
        id: "tag:x,2026:\u{0}channel".into(),
        title: "\u{1}Evil ]]> <script>alert(1)</script> & \u{fffe}".into(),
        description: "\u{b}".into(),
        language: Some("en US!".into()),
        home_page_url: Some("javascript:alert(1)".into()),
        feed_urls: FeedUrls {
            atom: Some("https://user:secret@river.example/x.atom".into()),
            rss: Some("not a url".into()),
            json_feed: Some("http://[::1".into()),
        },
        hubs: Vec::new(),
        updated: DateTime::<Utc>::MAX_UTC,
        generator: Generator {
            name: "Gen <\u{0}>".into(),
            version: Some("1.0\"'<>&\n".into()),
            url: Some("ftp://x".into()),
        },
        items: vec![evil, empty],
    }
}
