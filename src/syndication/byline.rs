//! Who an item is by, the same in every format.
//!
//! Atom requires an author on every entry (or on the feed), and readers
//! show a byline, so an item whose article names nobody usable is credited
//! to its source feed: "LWN.net", linking to the feed's site. In an
//! aggregated river that is the honest answer to "who wrote this?", and it
//! keeps each entry valid on its own, even when copied into another feed.

use std::borrow::Cow;

use super::channel::{Item, Person, Source};
use super::{href, text};

/// Name shown when neither the article nor its source feed has one.
const NOBODY: &str = "Unknown";

/// One author as published: every field cleaned and valid.
pub(crate) struct Byline<'a> {
    /// Non-blank, one line.
    pub(crate) name: Cow<'a, str>,
    /// A web URL.
    pub(crate) url: Option<Cow<'a, str>>,
    /// A plain `local@domain` address.
    pub(crate) email: Option<&'a str>,
}

/// The item's authors, or its source feed when none is usable.
pub(crate) fn bylines(item: &Item) -> impl Iterator<Item = Byline<'_>> {
    let fallback = if item.authors.iter().any(is_usable) {
        None
    } else {
        Some(source_byline(&item.source))
    };
    item.authors.iter().filter_map(byline).chain(fallback)
}

fn is_usable(person: &Person) -> bool {
    !text::is_blank(&person.name) || person.email.as_deref().and_then(text::email).is_some()
}

/// `person` as a byline; the email address stands in for a blank name.
fn byline(person: &Person) -> Option<Byline<'_>> {
    let email = person.email.as_deref().and_then(text::email);
    let name = text::short(&person.name);
    let name = if name.is_empty() {
        Cow::Borrowed(email?)
    } else {
        name
    };
    Some(Byline {
        name,
        url: person.url.as_deref().and_then(href::web_url),
        email,
    })
}

fn source_byline(source: &Source) -> Byline<'_> {
    let name = text::short(source.display_name());
    Byline {
        name: if name.is_empty() {
            Cow::Borrowed(NOBODY)
        } else {
            name
        },
        url: source.site_url.as_deref().and_then(href::web_url),
        email: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(authors: Vec<Person>, source_title: &str) -> Item {
        Item {
            id: "tag:example.org,2026:item/1".into(),
            title: "t".into(),
            title_derived: false,
            language: None,
            url: None,
            content_html: None,
            summary_text: None,
            published: chrono::DateTime::UNIX_EPOCH,
            updated: chrono::DateTime::UNIX_EPOCH,
            authors,
            categories: vec![],
            enclosures: vec![],
            source: Source {
                feed_name: "lwn".into(),
                title: source_title.into(),
                site_url: Some("https://lwn.net/".into()),
                ..Source::default()
            },
            also_in: vec![],
        }
    }

    fn names(item: &Item) -> Vec<String> {
        bylines(item).map(|b| b.name.into_owned()).collect()
    }

    #[test]
    fn own_authors_win_and_unusable_ones_are_skipped() {
        let ann = Person {
            name: " Ann\n".into(),
            ..Person::default()
        };
        let blank = Person {
            name: "\u{1} ".into(),
            ..Person::default()
        };
        let mail = Person {
            email: Some("bo@example.org".into()),
            ..Person::default()
        };
        assert_eq!(
            names(&item(vec![blank.clone(), ann, mail], "LWN.net")),
            ["Ann", "bo@example.org"]
        );
        assert_eq!(names(&item(vec![blank], "LWN.net")), ["LWN.net"]);
    }

    #[test]
    fn source_stands_in_then_its_name_then_nobody() {
        let it = item(vec![], "LWN.net");
        let byline = bylines(&it).next().unwrap();
        assert_eq!(byline.name, "LWN.net");
        assert_eq!(byline.url.as_deref(), Some("https://lwn.net/"));
        assert_eq!(names(&item(vec![], " ")), ["lwn"]);
        let mut it = item(vec![], "");
        it.source.feed_name.clear();
        assert_eq!(names(&it), [NOBODY]);
    }
}
