use super::*;

#[test]
fn rss_without_version_is_read_as_rss2() {
    let doc = br#"<?xml version="1.0"?><rss><channel><title>T</title><item><title>A</title></item></channel></rss>"#;
    let f = parse(doc, None, None).unwrap();
    assert_eq!(f.meta.title.as_deref(), Some("T"));
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].guid, None);
}

#[test]
fn html_page_and_empty_body_are_refused_clearly() {
    assert_eq!(
        parse(b"<!DOCTYPE html>\n<html><head></head></html>", None, None),
        Err(ParseError::HtmlPage)
    );
    assert_eq!(parse(b"  \n", None, None), Err(ParseError::Empty));
}

#[test]
fn http_charset_applies_only_without_declaration() {
    // "café" in Latin-1.
    let body = b"<rss version=\"2.0\"><channel><title>caf\xe9</title></channel></rss>";
    let f = parse(body, Some("text/xml; charset=ISO-8859-1"), None).unwrap();
    assert_eq!(f.meta.title.as_deref(), Some("café"));
    // The declaration wins over the header.
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>café</title></channel></rss>";
    let f = parse(body.as_bytes(), Some("text/xml; charset=ISO-8859-1"), None).unwrap();
    assert_eq!(f.meta.title.as_deref(), Some("café"));
}

#[test]
fn utf16_with_bom_is_decoded() {
    let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Ünïcode</title></channel></rss>";
    let mut bytes = vec![0xFF, 0xFE];
    for u in doc.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let f = parse(&bytes, None, None).unwrap();
    assert_eq!(f.meta.title.as_deref(), Some("Ünïcode"));
}

#[test]
fn atom_mime_style_text_type_is_accepted() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="text/plain">T</title><id>x</id><entry><id>e</id><title type="application/xhtml+xml">E</title></entry></feed>"#;
    let f = parse(doc.as_bytes(), None, None).unwrap();
    assert_eq!(f.entries[0].guid.as_deref(), Some("e"));
}

#[test]
fn atom03_base64_titles_are_decoded() {
    let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title><modified>2004-01-02T03:04:05Z</modified><entry><id>e</id><title>E</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>"#;
    let f = parse(doc.as_bytes(), None, None).unwrap();
    assert_eq!(f.meta.title.as_deref(), Some("Example <b>Atom</b>"));
    assert_eq!(
        f.entries[0].published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2004-01-01T00:00:00+00:00")
    );
}

#[test]
fn feedburner_orig_link_is_kept() {
    let doc = r#"<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><title>T</title>
        <item><title>A</title><link>http://feedproxy.google.com/~r/x/~3/abc/</link><feedburner:origLink>https://blog.example.org/a?utm_source=feedburner</feedburner:origLink></item>
        <item><title>B</title><link>https://blog.example.org/b</link></item></channel></rss>"#;
    let f = parse(doc.as_bytes(), None, None).unwrap();
    assert_eq!(
        f.entries[0].canonical_link.as_deref(),
        Some("https://blog.example.org/a?utm_source=feedburner")
    );
    assert_eq!(f.entries[1].canonical_link, None);
}

#[test]
fn hints_are_scanned_from_the_channel() {
    let doc = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>T</title><ttl>60</ttl>
        <skipHours><hour>0</hour><hour>23</hour></skipHours><skipDays><day>Saturday</day><day>Sunday</day></skipDays>
        <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel></rss>"#;
    let h = parse(doc.as_bytes(), None, None).unwrap().meta.hints;
    assert_eq!(h.ttl_minutes, Some(60));
    assert_eq!(h.skip_hours, vec![0, 23]);
    assert_eq!(h.skip_days, vec![5, 6]);
    assert_eq!(h.update_interval_secs, Some(1800));
}

#[test]
fn malformed_xml_is_an_error_not_a_panic() {
    let e = parse(b"<rss version=\"2.0\"><channel><title>x</chan", None, None).unwrap_err();
    assert!(
        matches!(e, ParseError::Malformed { .. } | ParseError::NotAFeed(_)),
        "{e:?}"
    );
}

#[test]
fn deeply_nested_json_is_refused() {
    let doc = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let doc = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":{doc}}}"
    );
    assert!(parse(doc.as_bytes(), None, None).is_err());
}
