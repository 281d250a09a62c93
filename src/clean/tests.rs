use super::*;
use text::space_len;

/// The hash as first written (one allocation per word); stored hashes
/// were made with it, so the faster version must agree with it.
fn content_hash_reference(title: &str, text: &str) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for word in title.split_whitespace() {
        h.update(word.to_lowercase().as_bytes());
        h.update(b" ");
    }
    h.update(b"\n");
    for word in text.split_whitespace() {
        h.update(word.to_lowercase().as_bytes());
        h.update(b" ");
    }
    h.digest()
}

/// Text extraction as first written (a pass per step, an allocation per
/// tag); stored texts were made with it, so the one-pass version must
/// agree with it.
mod reference {
    use super::super::{text::BLOCK_TAGS, xml_safe};

    pub fn one_line(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for w in s.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
        xml_safe(&out).into_owned()
    }

    pub fn inline_text(html: &str) -> String {
        one_line(&strip_tags(html, false))
    }

    pub fn html_to_text(html: &str) -> String {
        let raw = strip_tags(html, true);
        let mut out = String::with_capacity(raw.len());
        for line in raw.lines() {
            let mut first = true;
            for w in line.split_whitespace() {
                if first {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    first = false;
                } else {
                    out.push(' ');
                }
                out.push_str(w);
            }
        }
        xml_safe(&out).into_owned()
    }

    fn strip_tags(html: &str, blocks: bool) -> String {
        let mut text = String::with_capacity(html.len());
        let push_text = |text: &mut String, t: &str| {
            if blocks {
                text.extend(
                    t.chars()
                        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                );
            } else {
                text.push_str(t);
            }
        };
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            push_text(&mut text, &rest[..lt]);
            let after = &rest[lt + 1..];
            if let Some(body) = after.strip_prefix("!--") {
                rest = body.find("-->").map_or("", |end| &body[end + 3..]);
                continue;
            }
            let Some(gt) = after.find('>') else {
                text.push('<');
                rest = after;
                continue;
            };
            let tag = &after[..gt];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            rest = &after[gt + 1..];
            if !tag.starts_with('/') && (name == "script" || name == "style") {
                let close = format!("</{name}");
                let lower = rest.to_ascii_lowercase();
                rest = match lower.find(&close) {
                    Some(i) => rest[i..].find('>').map_or("", |g| &rest[i + g + 1..]),
                    None => "",
                };
                continue;
            }
            if blocks && BLOCK_TAGS.contains(&name.as_str()) {
                text.push('\n');
            }
        }
        push_text(&mut text, rest);
        html_escape::decode_html_entities(&text).into_owned()
    }
}

/// Pieces of HTML, text and white space that text extraction treats
/// specially.
fn html_piece() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        prop::sample::select(vec![
            "<p>",
            "</p>",
            "<P class=\"x\">",
            "<br>",
            "<br/>",
            "<BR />",
            "</div>",
            "<h2>",
            "<li>",
            "</LI>",
            "<b>",
            "</b>",
            "<a href=\"/x?a=1&amp;b=2\">",
            "</a>",
            "<script>",
            "</script>",
            "</SCRIPT >",
            "<Style>",
            "</style",
            "<!--",
            "-->",
            "<!DOCTYPE html>",
            "<",
            ">",
            "</",
            "//",
            "<h1x>",
            "<scripts>",
            "&amp;",
            "&lt;",
            "&gt;",
            "&nbsp;",
            "&#10;",
            "&#13;",
            "&#x1;",
            "&#0;",
            "&",
            "&am",
            "p;",
            ";",
            " ",
            "  ",
            "\n",
            "\r\n",
            "\r",
            "\t",
            "\u{a0}",
            "\u{b}",
            "\u{c}",
            "\u{0}",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "\u{3000}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{1680}",
            "\u{200a}",
            "\u{2029}",
            "\u{202f}",
            "\u{205f}",
            "\u{200b}",
            "é",
            "Σ",
            "ΣΑΣ",
            "İ",
            "東京",
            "word",
            "Two",
            "CAFÉ",
            ".",
        ])
        .prop_map(str::to_string),
        "[a-z<>/&; \n]{1,6}",
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

    #[test]
    fn content_hash_is_unchanged_by_the_one_pass_version(
        pieces in proptest::collection::vec(html_piece(), 0..40)
    ) {
        let text = pieces.concat();
        proptest::prop_assert_eq!(
            content_hash(&text, &text),
            content_hash_reference(&text, &text)
        );
    }

    #[test]
    fn collapsed_text_hashes_as_any_text(
        title in proptest::collection::vec(html_piece(), 0..10),
        body in proptest::collection::vec(html_piece(), 0..40),
    ) {
        let title = inline_text(&title.concat());
        let text = html_to_text(&body.concat());
        proptest::prop_assert_eq!(
            content_hash_of_collapsed(&title, &text),
            content_hash(&title, &text)
        );
    }

    #[test]
    fn text_extraction_is_unchanged_by_the_one_pass_version(
        pieces in proptest::collection::vec(html_piece(), 0..40)
    ) {
        let html = pieces.concat();
        proptest::prop_assert_eq!(html_to_text(&html), reference::html_to_text(&html));
        proptest::prop_assert_eq!(inline_text(&html), reference::inline_text(&html));
        proptest::prop_assert_eq!(one_line(&html), reference::one_line(&html));
    }
}

#[test]
fn space_len_agrees_with_char_is_whitespace() {
    for c in (0..=0x10ffff).filter_map(char::from_u32) {
        let mut buf = [0; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        let expected = if c.is_whitespace() { bytes.len() } else { 0 };
        assert_eq!(space_len(bytes, 0), expected, "{c:?}");
        // No continuation byte reads as white space.
        for i in 1..bytes.len() {
            assert_eq!(space_len(bytes, i), 0, "{c:?} at {i}");
        }
    }
}

#[test]
fn content_hash_is_unchanged_by_the_fast_path() {
    let cases = [
        ("", ""),
        ("Hello World", "Some TEXT\n\twith  spaces"),
        ("ΟΔΥΣΣΕΥΣ ΣΑΣ", "İstanbul ǅemal Straße ΣΊΣΥΦΟΣ naïve CAFÉ"),
        ("mixed ASCII and Ünïcödé", "x\u{a0}y z\u{2003}w"),
    ];
    for (title, text) in cases {
        assert_eq!(
            content_hash(title, text),
            content_hash_reference(title, text),
            "{title:?} / {text:?}"
        );
    }
}

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn canonical_url_drops_tracking_fragment_and_default_port() {
    let c = canonical_url(&u(
        "HTTPS://News.Example.COM:443/a/b?utm_source=x&id=7&fbclid=abc&UTM_Medium=rss#comments",
    ));
    assert_eq!(c.as_deref(), Some("https://news.example.com/a/b?id=7"));
    let c = canonical_url(&u("http://example.com:8080/p?utm_campaign=z"));
    assert_eq!(c.as_deref(), Some("http://example.com:8080/p"));
    assert_eq!(canonical_url(&u("mailto:a@example.com")), None);
}

#[test]
fn canonical_url_is_idempotent() {
    for s in [
        "https://e.com/?a=1&utm_x=2&b=%20c",
        "http://e.com/x#y",
        "https://e.com/p?q",
    ] {
        let once = canonical_url(&u(s)).unwrap();
        let twice = canonical_url(&u(&once)).unwrap();
        assert_eq!(once, twice);
    }
}

#[test]
fn sanitizing_removes_scripts_and_resolves_relative_urls() {
    let c = Cleaner::new();
    let out = c.html(
        r#"<p onclick="x()">Hi <a href="/about">about</a><script>alert(1)</script><img src="i.png"><a href="javascript:alert(1)">j</a></p>"#,
        Some(&u("https://site.example/blog/post")),
    );
    assert!(
        !out.contains("script") && !out.contains("onclick") && !out.contains("javascript"),
        "{out}"
    );
    assert!(
        out.contains(r#"href="https://site.example/about""#),
        "{out}"
    );
    assert!(
        out.contains(r#"src="https://site.example/blog/i.png""#),
        "{out}"
    );
}

#[test]
fn text_from_html_keeps_blocks_apart() {
    let t = html_to_text(
        "<p>One &amp; <b>two</b></p><p>three\n  four</p><ul><li>a</li><li>b</li></ul>",
    );
    assert_eq!(t, "One & two\nthree four\na\nb");
}

#[test]
fn illegal_xml_chars_are_removed() {
    assert_eq!(xml_safe("a\u{0}b\u{1b}c\td\u{FFFE}"), "abc\td");
    assert!(matches!(xml_safe("fine"), Cow::Borrowed(_)));
}

#[test]
fn entry_dates_are_filled_and_clamped() {
    let now = Utc::now();
    let c = Cleaner::new();
    let e = c.entry(RawEntry::default(), None, None, now);
    assert_eq!(e.published, now);
    assert!(!e.published_from_feed);
    let raw = RawEntry {
        published: Some(now + Duration::days(400)),
        ..RawEntry::default()
    };
    assert_eq!(c.entry(raw, None, None, now).published, now);
}

#[test]
fn script_and_comments_are_not_title_text() {
    assert_eq!(
        inline_text("safe<script>alert(1);</script> description"),
        "safe description"
    );
    assert_eq!(
        inline_text("safe<!-- hidden --> text<!-- unclosed"),
        "safe text"
    );
}

#[test]
fn declared_canonical_link_unwraps_redirectors() {
    let raw = RawEntry {
        link: Some("http://feedproxy.google.com/~r/x/~3/abc/".into()),
        canonical_link: Some("https://Blog.example.org/a?utm_source=feedburner".into()),
        ..RawEntry::default()
    };
    let e = Cleaner::new().entry(raw, None, None, Utc::now());
    assert_eq!(
        e.canonical_url.as_deref(),
        Some("https://blog.example.org/a")
    );
    assert_eq!(
        e.url.as_deref(),
        Some("http://feedproxy.google.com/~r/x/~3/abc/")
    );
}

#[test]
fn html_titles_become_text() {
    let c = Cleaner::new();
    let raw = RawEntry {
        title: Some("Ben &amp; Jerry&#39;s <em>new</em>\n flavour".into()),
        ..RawEntry::default()
    };
    assert_eq!(
        c.entry(raw, None, None, Utc::now()).title,
        "Ben & Jerry's new flavour"
    );
}

#[test]
fn class_and_id_are_kept_only_when_asked() {
    let html = r#"<aside id="promo" class="ad wide" style="color:red"><p class=x>Hi</p></aside>"#;
    let kept = Cleaner::keeping(Attributes::WithClassAndId).html(html, None);
    assert_eq!(
        kept,
        r#"<aside id="promo" class="ad wide"><p class="x">Hi</p></aside>"#
    );
    assert_eq!(Cleaner::new().html(html, None), "<aside><p>Hi</p></aside>");
    // Cleaning the kept form again with the policy gives the policy's form.
    assert_eq!(
        Cleaner::new().html(&kept, None),
        Cleaner::new().html(html, None)
    );
}
