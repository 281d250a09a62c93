//! RSS 2.0 documents, with `atom:link rel="self"` (as the RSS Advisory
//! Board recommends) and `dc:creator` for authors without an email address.
//!
//! RSS has no schema; the choices where the specification is loose:
//! - `guid` is always the stable item id with `isPermaLink="false"`: ids are
//!   `tag:` URIs, and the article URL is in `link`;
//! - `author` holds only people with an email address (the element must be
//!   one); every author, including the source feed standing in for a
//!   missing one, is also a `dc:creator`;
//! - one `enclosure` per item, the first usable one, because readers
//!   disagree on whether several are allowed; each needs a length and a
//!   type, so unknown ones become `0` and `application/octet-stream`.

use std::io;

use quick_xml::events::BytesStart;

use super::body::body;
use super::byline::bylines;
use super::channel::{Channel, Item};
use super::xml::{self, Xml};
use super::{date, href, text, Format};

/// Writes `channel` as an RSS 2.0 document into `out`.
pub(crate) fn write(channel: &Channel, out: Vec<u8>) -> Vec<u8> {
    xml::finish(document(channel, out))
}

fn document(channel: &Channel, out: Vec<u8>) -> io::Result<Xml> {
    let mut xml = xml::start_document(out)?;
    let mut rss = BytesStart::new("rss");
    rss.push_attribute(("version", "2.0"));
    rss.push_attribute(("xmlns:atom", "http://www.w3.org/2005/Atom"));
    rss.push_attribute(("xmlns:dc", "http://purl.org/dc/elements/1.1/"));
    xml::open(&mut xml, rss)?;
    xml::open(&mut xml, BytesStart::new("channel"))?;
    xml::text_element(&mut xml, "title", &channel.title)?;
    let self_url = channel.feed_urls.get(Format::Rss).and_then(href::web_url);
    // `link` is required: the HTML page, or else the feed itself.
    let home = channel.home_page_url.as_deref().and_then(href::web_url);
    if let Some(url) = home.as_ref().or(self_url.as_ref()) {
        xml::text_element(&mut xml, "link", url)?;
    }
    // `description` is required too: the title stands in for a blank one.
    let description = if text::is_blank(&channel.description) {
        &channel.title
    } else {
        &channel.description
    };
    xml::text_element(&mut xml, "description", description)?;
    if let Some(language) = channel.language.as_deref().and_then(text::language) {
        xml::text_element(&mut xml, "language", &language)?;
    }
    let updated = channel
        .items
        .iter()
        .map(|item| item.updated)
        .fold(channel.updated, Ord::max);
    xml::text_element(&mut xml, "lastBuildDate", &date::rfc2822(updated))?;
    generator(&mut xml, channel)?;
    if let Some(url) = &self_url {
        xml.create_element("atom:link")
            .with_attribute(("href", &**url))
            .with_attribute(("rel", "self"))
            .with_attribute(("type", Format::Rss.media_type()))
            .write_empty()?;
    }
    for hub in channel.hubs.iter().filter_map(|h| href::web_url(h)) {
        xml.create_element("atom:link")
            .with_attribute(("href", &*hub))
            .with_attribute(("rel", "hub"))
            .write_empty()?;
    }
    for item in &channel.items {
        write_item(&mut xml, item)?;
    }
    xml::close(&mut xml, "channel")?;
    xml::close(&mut xml, "rss")?;
    Ok(xml)
}

/// `Name version`, as RSS has one text field for it.
fn generator(xml: &mut Xml, channel: &Channel) -> io::Result<()> {
    let generator = &channel.generator;
    let name = text::short(&generator.name);
    let version = generator.version.as_deref().map(text::short);
    match version.as_deref().filter(|v| !v.is_empty()) {
        Some(version) => xml::text_element(xml, "generator", &format!("{name} {version}")),
        None => xml::text_element(xml, "generator", &name),
    }
}

fn write_item(xml: &mut Xml, item: &Item) -> io::Result<()> {
    xml::open(xml, BytesStart::new("item"))?;
    xml::text_element(xml, "title", &item.shown_title())?;
    if let Some(url) = item.url.as_deref().and_then(href::web_url) {
        xml::text_element(xml, "link", &url)?;
    }
    xml.create_element("guid")
        .with_attribute(("isPermaLink", "false"))
        .write_text_content(xml::text(&item.id))?;
    xml::text_element(xml, "pubDate", &date::rfc2822(item.published))?;
    let body = body(item);
    if !body.is_empty() {
        xml.create_element("description")
            .write_inner_content(|xml| {
                xml::write_clean_text(xml, &body.main)?;
                xml::write_clean_text(xml, &body.also_in)
            })?;
    }
    for byline in bylines(item) {
        if let Some(email) = byline.email {
            let author = format!("{email} ({})", byline.name);
            xml::text_element(xml, "author", &author)?;
        }
        xml::text_element(xml, "dc:creator", &byline.name)?;
    }
    for category in &item.categories {
        let name = text::short(category);
        if !name.is_empty() {
            xml::text_element(xml, "category", &name)?;
        }
    }
    enclosure(xml, item)?;
    // `url` is required: the feed's own, or else its site.
    let source = &item.source;
    let url = source.feed_url.as_deref().and_then(href::web_url);
    let url = url.or_else(|| source.site_url.as_deref().and_then(href::web_url));
    let name = text::short(source.display_name());
    if let Some(url) = url.filter(|_| !name.is_empty()) {
        xml.create_element("source")
            .with_attribute(("url", &*url))
            .write_text_content(xml::text(&name))?;
    }
    xml::close(xml, "item")
}

fn enclosure(xml: &mut Xml, item: &Item) -> io::Result<()> {
    let usable = item
        .enclosures
        .iter()
        .find_map(|e| href::web_url(&e.url).map(|url| (url, e)));
    if let Some((url, enclosure)) = usable {
        let media_type = enclosure.mime_type.as_deref().and_then(text::media_type);
        xml.create_element("enclosure")
            .with_attribute(("url", &*url))
            .with_attribute(("length", enclosure.length.unwrap_or(0).to_string().as_str()))
            .with_attribute(("type", media_type.unwrap_or(text::UNKNOWN_MEDIA_TYPE)))
            .write_empty()?;
    }
    Ok(())
}
