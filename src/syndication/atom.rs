//! Atom 1.0 (RFC 4287) documents.
//!
//! Beyond what the schema checks, the output keeps RFC 4287's other rules:
//! every entry has an author (see `byline`) and either an alternate link or
//! content; at most one alternate link per media type; dates with a zone.

use std::io;

use quick_xml::events::BytesStart;

use super::body::{body, mention_url};
use super::byline::{bylines, Byline};
use super::channel::{Channel, Item, Source};
use super::xml::{self, Xml};
use super::{date, href, text, Format};

const NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// Writes `channel` as an Atom feed document into `out`.
pub(crate) fn write(channel: &Channel, out: Vec<u8>) -> Vec<u8> {
    xml::finish(document(channel, out))
}

fn document(channel: &Channel, out: Vec<u8>) -> io::Result<Xml> {
    let mut xml = xml::start_document(out)?;
    let mut feed = BytesStart::new("feed");
    feed.push_attribute(("xmlns", NAMESPACE));
    if let Some(language) = channel.language.as_deref().and_then(text::language) {
        feed.push_attribute(("xml:lang", &*language));
    }
    xml::open(&mut xml, feed)?;
    xml::text_element(&mut xml, "id", &channel.id)?;
    xml::text_element(&mut xml, "title", &channel.title)?;
    if !text::is_blank(&channel.description) {
        xml::text_element(&mut xml, "subtitle", &channel.description)?;
    }
    let updated = channel
        .items
        .iter()
        .map(|item| item.updated)
        .fold(channel.updated, Ord::max);
    xml::text_element(&mut xml, "updated", &date::rfc3339(updated))?;
    if let Some(url) = channel.feed_urls.get(Format::Atom).and_then(href::web_url) {
        link(&mut xml, "self", Some(Format::Atom.media_type()), &url)?;
    }
    if let Some(url) = channel.home_page_url.as_deref().and_then(href::web_url) {
        link(&mut xml, "alternate", Some("text/html"), &url)?;
    }
    for hub in channel.hubs.iter().filter_map(|h| href::web_url(h)) {
        link(&mut xml, "hub", None, &hub)?;
    }
    generator(&mut xml, channel)?;
    let language = channel.language.as_deref().and_then(text::language);
    for item in &channel.items {
        entry(&mut xml, item, language.as_deref())?;
    }
    xml::close(&mut xml, "feed")?;
    Ok(xml)
}

fn generator(xml: &mut Xml, channel: &Channel) -> io::Result<()> {
    let generator = &channel.generator;
    let mut element = xml.create_element("generator");
    if let Some(url) = generator.url.as_deref().and_then(href::web_url) {
        element = element.with_attribute(("uri", &*url));
    }
    let version = generator.version.as_deref().map(text::short);
    if let Some(version) = version.as_deref().filter(|v| !v.is_empty()) {
        element = element.with_attribute(("version", version));
    }
    element.write_text_content(xml::text(&generator.name))?;
    Ok(())
}

/// One entry; `xml:lang` where its language differs from the feed's
/// (`language`).
fn entry(xml: &mut Xml, item: &Item, language: Option<&str>) -> io::Result<()> {
    let mut start = BytesStart::new("entry");
    let own = item.language.as_deref().and_then(text::language);
    if let Some(own) = own.as_deref().filter(|own| Some(*own) != language) {
        start.push_attribute(("xml:lang", own));
    }
    xml::open(xml, start)?;
    xml::text_element(xml, "id", &item.id)?;
    xml::text_element(xml, "title", &item.shown_title())?;
    xml::text_element(xml, "updated", &date::rfc3339(item.updated))?;
    xml::text_element(xml, "published", &date::rfc3339(item.published))?;
    let url = item.url.as_deref().and_then(href::web_url);
    if let Some(url) = &url {
        link(xml, "alternate", Some("text/html"), url)?;
    }
    for mention in &item.also_in {
        if let Some(url) = mention_url(mention) {
            let title = text::short(mention.source.display_name());
            let mut element = xml
                .create_element("link")
                .with_attribute(("rel", "related"))
                .with_attribute(("href", &*url));
            if !title.is_empty() {
                element = element.with_attribute(("title", &*title));
            }
            element.write_empty()?;
        }
    }
    enclosures(xml, item)?;
    for byline in bylines(item) {
        author(xml, &byline)?;
    }
    for category in &item.categories {
        let term = text::short(category);
        if !term.is_empty() {
            xml.create_element("category")
                .with_attribute(("term", &*term))
                .write_empty()?;
        }
    }
    if let Some(summary) = item.summary_text.as_deref().filter(|s| !text::is_blank(s)) {
        xml::text_element(xml, "summary", summary)?;
    }
    let body = body(item);
    if !body.is_empty() {
        xml.create_element("content")
            .with_attribute(("type", "html"))
            .write_inner_content(|xml| {
                xml::write_clean_text(xml, &body.main)?;
                xml::write_clean_text(xml, &body.also_in)
            })?;
    } else if url.is_none() {
        // An entry needs content or an alternate link: the title stands in.
        xml::text_element(xml, "content", &item.shown_title())?;
    }
    source(xml, &item.source)?;
    xml::close(xml, "entry")
}

fn enclosures(xml: &mut Xml, item: &Item) -> io::Result<()> {
    for enclosure in &item.enclosures {
        let Some(url) = href::web_url(&enclosure.url) else {
            continue;
        };
        let mut element = xml
            .create_element("link")
            .with_attribute(("rel", "enclosure"))
            .with_attribute(("href", &*url));
        if let Some(media_type) = enclosure.mime_type.as_deref().and_then(text::media_type) {
            element = element.with_attribute(("type", media_type));
        }
        if let Some(length) = enclosure.length {
            element = element.with_attribute(("length", length.to_string().as_str()));
        }
        element.write_empty()?;
    }
    Ok(())
}

fn author(xml: &mut Xml, byline: &Byline<'_>) -> io::Result<()> {
    xml::open(xml, BytesStart::new("author"))?;
    xml::text_element(xml, "name", &byline.name)?;
    if let Some(url) = &byline.url {
        xml::text_element(xml, "uri", url)?;
    }
    if let Some(email) = byline.email {
        xml::text_element(xml, "email", email)?;
    }
    xml::close(xml, "author")
}

/// `<source>`: the feed the entry was taken from, as RFC 4287 asks of
/// aggregators (its id, title, links and updated time where known).
fn source(xml: &mut Xml, source: &Source) -> io::Result<()> {
    let feed_url = source.feed_url.as_deref().and_then(href::web_url);
    let site_url = source.site_url.as_deref().and_then(href::web_url);
    let title = text::short(source.display_name());
    let id = source
        .id
        .as_deref()
        .map(text::short)
        .filter(|id| !id.is_empty())
        .or_else(|| feed_url.clone());
    if id.is_none() && site_url.is_none() && title.is_empty() {
        return Ok(());
    }
    xml::open(xml, BytesStart::new("source"))?;
    if let Some(id) = &id {
        xml::text_element(xml, "id", id)?;
    }
    if !title.is_empty() {
        xml::text_element(xml, "title", &title)?;
    }
    if let Some(updated) = source.updated {
        xml::text_element(xml, "updated", &date::rfc3339(updated))?;
    }
    if let Some(url) = &feed_url {
        link(xml, "self", None, url)?;
    }
    if let Some(url) = &site_url {
        link(xml, "alternate", Some("text/html"), url)?;
    }
    xml::close(xml, "source")
}

fn link(xml: &mut Xml, rel: &str, media_type: Option<&str>, href: &str) -> io::Result<()> {
    let mut element = xml.create_element("link").with_attribute(("rel", rel));
    if let Some(media_type) = media_type {
        element = element.with_attribute(("type", media_type));
    }
    element.with_attribute(("href", href)).write_empty()?;
    Ok(())
}
