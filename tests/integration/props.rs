//! Properties, checked on generated inputs (proptest):
//! - URL canonicalization never panics, is idempotent
//!   (`canonical(canonical(u)) == canonical(u)`), and leaves no tracking
//!   parameter and no fragment;
//! - entry identity does not depend on the order of a document's entries:
//!   the same entries get the same keys, whatever their order.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use tributary::clean::{canonical_url, TRACKING_PARAMS};
use tributary::model::IdentityMode;
use tributary::refresh::process;
use url::Url;

fn is_tracking(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}

/// Query parameter names: tracking ones in any case, and others.
fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "utm_source",
            "UTM_Medium",
            "utm_",
            "fbclid",
            "gclid",
            "mc_cid",
            "_hsenc",
            "Share",
            "id",
            "page",
            "q",
            "a b",
            "utm",
            "x%20y",
            "ü",
            "",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_%+.~-]{0,8}",
    ]
}

fn url_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["http", "https", "HTTP", "hTtPs", "ftp"]),
        prop::sample::select(vec![
            "example.com",
            "News.Example.COM",
            "127.0.0.1",
            "[::1]",
            "xn--bcher-kva.example",
            "bücher.example",
        ]),
        prop::option::of(prop::sample::select(vec![80u16, 443, 8080])),
        "(/[a-zA-Z0-9%._~!$&'()*+,;=:@ -]{0,6}){0,4}",
        prop::collection::vec((param_name(), "[a-zA-Z0-9%&=+ /?#-]{0,6}"), 0..6),
        prop::option::of("[a-z0-9#%]{0,6}"),
    )
        .prop_map(|(scheme, host, port, path, params, fragment)| {
            let mut s = format!("{scheme}://{host}");
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            s.push_str(&path);
            if !params.is_empty() {
                let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                s.push('?');
                s.push_str(&q.join("&"));
            }
            if let Some(f) = fragment {
                s.push('#');
                s.push_str(&f);
            }
            s
        })
}

proptest! {
    #[test]
    fn canonical_urls_are_idempotent_and_untracked(text in url_text()) {
        let Ok(url) = Url::parse(&text) else { return Ok(()) };
        let Some(once) = canonical_url(&url) else { return Ok(()) };
        let reparsed = Url::parse(&once).expect("a canonical URL parses");
        let twice = canonical_url(&reparsed);
        prop_assert_eq!(twice.as_deref(), Some(once.as_str()), "from {}", text);
        prop_assert!(reparsed.fragment().is_none());
        for (name, _) in reparsed.query_pairs() {
            prop_assert!(!is_tracking(&name), "{} kept in {}", name, once);
        }
    }

    #[test]
    fn canonical_urls_exist_exactly_for_web_urls(text in prop_oneof![url_text(), "\\PC{0,40}"]) {
        let Ok(url) = Url::parse(&text) else { return Ok(()) };
        let web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
        let got = canonical_url(&url);
        prop_assert_eq!(got.is_some(), web, "{} → {:?}", text, got);
        if let Some(c) = got {
            let parsed = Url::parse(&c).expect("a canonical URL parses");
            prop_assert_eq!(parsed.scheme(), url.scheme());
            prop_assert_eq!(parsed.host_str(), url.host_str());
            prop_assert!(parsed.fragment().is_none(), "{}", c);
        }
    }
}

/// One generated item: small pools so that guids, links and titles repeat.
#[derive(Debug, Clone)]
struct Item {
    guid: Option<u8>,
    link: Option<u8>,
    title: u8,
}

fn item() -> impl Strategy<Value = Item> {
    (prop::option::of(0u8..4), prop::option::of(0u8..4), 0u8..5)
        .prop_map(|(guid, link, title)| Item { guid, link, title })
}

fn document(items: &[Item]) -> String {
    let mut s = String::from("<rss version=\"2.0\"><channel><title>P</title>");
    for i in items {
        s.push_str("<item>");
        if let Some(g) = i.guid {
            s.push_str(&format!("<guid isPermaLink=\"false\">g{g}</guid>"));
        }
        if let Some(l) = i.link {
            s.push_str(&format!(
                "<link>https://site.example/{l}?utm_source=x</link>"
            ));
        }
        s.push_str(&format!(
            "<title>Title {}</title><description>Body {}</description></item>",
            i.title, i.title
        ));
    }
    s.push_str("</channel></rss>");
    s
}

/// key → (title, content hash) of a document's entries.
fn keyed(items: &[Item], mode: IdentityMode) -> BTreeMap<String, (String, u64)> {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let url = Url::parse("https://site.example/feed.xml").unwrap();
    let doc = process(document(items).as_bytes(), None, Some(&url), mode, now).unwrap();
    let mut map = BTreeMap::new();
    for e in doc.entries {
        let before = map.insert(e.key.clone(), (e.title, e.content_hash));
        assert!(before.is_none(), "key {} twice in one document", e.key);
    }
    map
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn entry_keys_do_not_depend_on_order(
        (items, shuffled) in prop::collection::vec(item(), 1..12)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        link_mode in any::<bool>(),
    ) {
        let mode = if link_mode { IdentityMode::Link } else { IdentityMode::Guid };
        prop_assert_eq!(keyed(&items, mode), keyed(&shuffled, mode));
    }
}
