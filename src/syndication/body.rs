//! The HTML body of an item, the same in every format: the sanitized
//! article HTML (or, without it, the summary as a paragraph), followed by a
//! credit paragraph naming the feed it came from and the story's other
//! sources: `<p>Via <a href="…">LWN.net</a>. Also in: …</p>`.
//!
//! Naming sources inside the HTML is the one way every reader displays
//! them (a terminal reader shows neither `atom:source` nor RSS `source`);
//! the formats' structured fields (`atom:source`, `<link rel="related">`,
//! RSS `source`, the JSON `_tributary` object) carry the same facts for
//! programs.

use std::borrow::Cow;
use std::fmt;

use super::channel::{Item, Mention, Source};
use super::{href, text};

/// An item's body in two parts, so that neither is copied into the other.
/// Both are already cleaned of characters that may not be published.
pub(crate) struct Body<'a> {
    /// Article HTML, or the summary as a paragraph, or empty.
    pub(crate) main: Cow<'a, str>,
    /// The credit paragraph ("Via …. Also in: …."), or empty when there
    /// is no source to name.
    pub(crate) also_in: String,
}

impl Body<'_> {
    /// Whether there is nothing to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.main.is_empty() && self.also_in.is_empty()
    }
}

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.main)?;
        f.write_str(&self.also_in)
    }
}

/// The body of `item`.
pub(crate) fn body(item: &Item) -> Body<'_> {
    let content = item
        .content_html
        .as_deref()
        .filter(|html| !text::is_blank(html));
    let main = match (content, item.summary_text.as_deref()) {
        (Some(html), _) => text::clean(html),
        (None, Some(summary)) if !text::is_blank(summary) => {
            let summary = text::clean(summary);
            let mut paragraph = String::with_capacity(summary.len() + 16);
            paragraph.push_str("<p>");
            html_escape::encode_text_to_string(summary.trim(), &mut paragraph);
            paragraph.push_str("</p>");
            Cow::Owned(paragraph)
        }
        _ => Cow::Borrowed(""),
    };
    Body {
        main,
        also_in: credit(&item.source, &item.also_in),
    }
}

/// Where a mention links to: the story's article in that feed, or else
/// that feed's home page.
pub(crate) fn mention_url(mention: &Mention) -> Option<Cow<'_, str>> {
    mention
        .url
        .as_deref()
        .and_then(href::web_url)
        .or_else(|| mention.source.site_url.as_deref().and_then(href::web_url))
}

/// `<p>Via <a href="…">The Daily</a>. Also in: <a href="…">LWN.net</a>,
/// Hacker News.</p>`; either sentence is left out when it has nothing to
/// name, the paragraph when neither has.
fn credit(source: &Source, mentions: &[Mention]) -> String {
    let mut html = String::new();
    let name = text::short(source.display_name());
    if !name.is_empty() {
        html.push_str("<p>Via ");
        push_link(
            &mut html,
            &name,
            source.site_url.as_deref().and_then(href::web_url),
        );
        html.push('.');
    }
    let also = also_in(mentions);
    match (html.is_empty(), also.is_empty()) {
        (true, _) => also,
        (false, true) => html + "</p>",
        (false, false) => html + " " + &also["<p>".len()..],
    }
}

/// `<a href="url">label</a>`, or the label alone without a URL.
fn push_link(html: &mut String, label: &str, url: Option<Cow<'_, str>>) {
    if let Some(url) = &url {
        html.push_str("<a href=\"");
        html_escape::encode_double_quoted_attribute_to_string(url, html);
        html.push_str("\">");
        html_escape::encode_text_to_string(label, html);
        html.push_str("</a>");
    } else {
        html_escape::encode_text_to_string(label, html);
    }
}

/// `<p>Also in: <a href="…">LWN.net</a>, Hacker News.</p>`, or empty when
/// there is nothing to name.
fn also_in(mentions: &[Mention]) -> String {
    let mut html = String::new();
    for mention in mentions {
        let name = text::short(mention.source.display_name());
        let url = mention_url(mention);
        let label = match (&url, name.is_empty()) {
            (_, false) => &*name,
            (Some(url), true) => url,
            (None, true) => continue,
        };
        html.push_str(if html.is_empty() {
            "<p>Also in: "
        } else {
            ", "
        });
        let label = label.to_owned();
        push_link(&mut html, &label, url);
    }
    if !html.is_empty() {
        html.push_str(".</p>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::super::channel::Source;
    use super::*;

    fn mention(title: &str, url: Option<&str>, site: Option<&str>) -> Mention {
        Mention {
            source: Source {
                feed_name: "name".into(),
                title: title.into(),
                site_url: site.map(Into::into),
                ..Source::default()
            },
            url: url.map(Into::into),
        }
    }

    #[test]
    fn also_in_names_and_links_each_source() {
        let html = also_in(&[
            mention("A & B", Some("https://a.example/x?y=1&z=2"), None),
            mention("<C>", None, Some("https://c.example/")),
            mention("D", None, Some("javascript:alert(1)")),
        ]);
        assert_eq!(
            html,
            "<p>Also in: <a href=\"https://a.example/x?y=1&amp;z=2\">A &amp; B</a>, \
             <a href=\"https://c.example/\">&lt;C&gt;</a>, D.</p>"
        );
        assert_eq!(also_in(&[]), "");
    }

    #[test]
    fn the_credit_names_the_source_then_the_others() {
        let source = mention("The <Daily>", None, Some("https://daily.example/")).source;
        assert_eq!(
            credit(&source, &[]),
            "<p>Via <a href=\"https://daily.example/\">The &lt;Daily&gt;</a>.</p>"
        );
        assert_eq!(
            credit(&source, &[mention("B", None, None)]),
            "<p>Via <a href=\"https://daily.example/\">The &lt;Daily&gt;</a>. Also in: B.</p>"
        );
        assert_eq!(
            credit(&Source::default(), &[mention("B", None, None)]),
            "<p>Also in: B.</p>"
        );
        assert_eq!(credit(&Source::default(), &[]), "");
    }

    #[test]
    fn blank_names_fall_back_to_feed_name_then_url() {
        let mut nameless = mention(" ", Some("https://x.example/"), None);
        assert_eq!(
            also_in(std::slice::from_ref(&nameless)),
            "<p>Also in: <a href=\"https://x.example/\">name</a>.</p>"
        );
        nameless.source.feed_name.clear();
        assert!(also_in(std::slice::from_ref(&nameless)).contains(">https://x.example/</a>"));
        nameless.url = None;
        assert_eq!(also_in(&[nameless]), "");
    }
}
