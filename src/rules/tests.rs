use std::path::Path;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::clean::Cleaner;
use crate::config::Config;
use crate::model::KeyKind;

/// The rules of feed `a` (tags `news`) under `rules` (TOML), plus a feed
/// `b` without tags.
fn rules_of(rules: &str, feed: &str) -> Rules {
    let text = format!(
        "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"news\"]\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n{rules}"
    );
    let c = Config::parse(&text, Path::new("/etc/tributary/t.toml")).unwrap();
    c.feed(feed).unwrap().rules.clone()
}

fn config_error(rules: &str) -> String {
    let text = format!(
        "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"news\"]\n{rules}"
    );
    Config::parse(&text, Path::new("/etc/tributary/t.toml"))
        .unwrap_err()
        .to_string()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

fn entry(title: &str, url: &str, html: &str) -> Entry {
    let text = crate::clean::html_to_text(html);
    Entry {
        key: url.to_string(),
        key_kind: KeyKind::Link,
        guid: None,
        url: Some(url.to_string()),
        canonical_url: Some(url.to_string()),
        title: title.to_string(),
        title_derived: false,
        title_original: None,
        authors: vec!["Ann Author".into()],
        summary_html: None,
        content_html: Some(html.to_string()),
        content_hash: crate::clean::content_hash(title, &text),
        content_text: text,
        story_print: None,
        published: now() - Duration::days(2),
        published_from_feed: true,
        updated: None,
        categories: vec!["Tech".into(), "Sponsored".into()],
        enclosures: vec![],
        raw_hash: 1,
        content_elided: false,
        item_hash: None,
    }
}

fn judge(rules: &Rules, e: &mut Entry, language: Option<&str>) -> Verdict {
    let cleaner = Cleaner::new();
    let cx = Context {
        language,
        now: now(),
        cleaner: &cleaner,
    };
    apply(rules, e, &cx)
}

fn plain() -> Entry {
    entry(
        "Rust 2.0 released",
        "https://news.example.com/rust?utm_source=x&id=7",
        "<p>Big <b>news</b> today.</p>",
    )
}

#[test]
fn every_condition_given_must_match() {
    let r = rules_of(
        "[[rules]]\nname = \"ads\"\nif = { title = \"(?i)rust\", host = \"example.com\" }\nthen = \"drop\"\n",
        "a",
    );
    let v = judge(&r, &mut plain(), None);
    assert_eq!(v.dropped_by.as_deref(), Some("ads"));
    assert_eq!(v.matched, vec![("ads".to_string(), "drop")]);
    // The host is a domain: `notexample.com` is not below `example.com`.
    let mut other = plain();
    other.url = Some("https://notexample.com/rust".into());
    assert_eq!(judge(&r, &mut other, None).dropped_by, None);
    let mut title = plain();
    title.title = "Go 2.0 released".into();
    assert_eq!(judge(&r, &mut title, None).dropped_by, None);
}

#[test]
fn each_matcher_reads_its_field() {
    let cases = [
        ("link = \"id=7$\"", true),
        ("link = \"id=8\"", false),
        ("author = \"^Ann\"", true),
        ("author = \"Bob\"", false),
        ("category = \"^Sponsored$\"", true),
        ("category = \"^Sports$\"", false),
        ("text = \"Big news\"", true),
        ("text = \"<b>\"", false),
        ("language = \"en\"", true),
        ("language = \"de\"", false),
        ("older_than = \"1 day\"", true),
        ("older_than = \"3 days\"", false),
    ];
    for (cond, hit) in cases {
        let r = rules_of(
            &format!("[[rules]]\nif = {{ {cond} }}\nthen = \"drop\"\n"),
            "a",
        );
        let v = judge(&r, &mut plain(), Some("en-GB"));
        assert_eq!(v.dropped_by.is_some(), hit, "{cond}");
    }
    // A feed that declares no language matches no language condition.
    let r = rules_of("[[rules]]\nif.language = \"en\"\nthen = \"drop\"\n", "a");
    assert_eq!(judge(&r, &mut plain(), None).dropped_by, None);
}

#[test]
fn scope_is_global_tag_or_feed() {
    let rules = "[[rules]]\nname = \"all\"\nthen.tag = \"g\"\n\
                 [[rules]]\nname = \"news\"\ntags = [\"news\"]\nthen.tag = \"t\"\n\
                 [[rules]]\nname = \"only-b\"\nfeeds = [\"b\"]\nthen.tag = \"f\"\n";
    let names = |feed| -> Vec<String> {
        rules_of(rules, feed)
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    assert_eq!(names("a"), ["all", "news"]);
    assert_eq!(names("b"), ["all", "only-b"]);
}

#[test]
fn order_decides_between_keep_and_drop() {
    let keep_first = rules_of(
        "[[rules]]\nname = \"k\"\nif.author = \"Ann\"\nthen = \"keep\"\n\
         [[rules]]\nname = \"d\"\nif.title = \"Rust\"\nthen = \"drop\"\n\
         [[rules]]\nname = \"t\"\nthen.tag = \"late\"\n",
        "a",
    );
    let v = judge(&keep_first, &mut plain(), None);
    assert_eq!(v.dropped_by, None, "{v:?}");
    // Tags after the keep still apply; the skipped drop is not listed.
    assert_eq!(v.tags, vec![("late".to_string(), "t".to_string())]);
    assert_eq!(v.matched, vec![("k".into(), "keep"), ("t".into(), "tag")]);
    let drop_first = rules_of(
        "[[rules]]\nname = \"d\"\nif.title = \"Rust\"\nthen = \"drop\"\n\
         [[rules]]\nname = \"k\"\nif.author = \"Ann\"\nthen = \"keep\"\n",
        "a",
    );
    assert_eq!(
        judge(&drop_first, &mut plain(), None).dropped_by.as_deref(),
        Some("d")
    );
}

#[test]
fn keep_rules_drop_everything_else() {
    let r = rules_of(
        "[[rules]]\nname = \"rusty\"\nif.title = \"Rust\"\nthen = \"keep\"\n\
         [[rules]]\nname = \"gopher\"\nif.title = \"Go\"\nthen = \"keep\"\n",
        "a",
    );
    assert_eq!(judge(&r, &mut plain(), None).dropped_by, None);
    let mut other = plain();
    other.title = "Python news".into();
    assert_eq!(
        judge(&r, &mut other, None).dropped_by.as_deref(),
        Some("not kept by rusty, gopher")
    );
    // Keep rules of another feed do not apply.
    let r = rules_of(
        "[[rules]]\nfeeds = [\"b\"]\nif.title = \"Rust\"\nthen = \"keep\"\n",
        "a",
    );
    assert_eq!(judge(&r, &mut other, None).dropped_by, None);
}

#[test]
fn tags_and_marks_accumulate_without_repeats() {
    let r = rules_of(
        "[[rules]]\nname = \"one\"\nthen.tag = [\"Security\", \"rust\"]\n\
         [[rules]]\nname = \"two\"\nthen.tag = \"rust\"\n\
         [[rules]]\nname = \"star\"\nif.category = \"Tech\"\nthen.mark = \"starred\"\n",
        "a",
    );
    let v = judge(&r, &mut plain(), None);
    assert_eq!(
        v.tags,
        vec![
            ("security".into(), "one".into()),
            ("rust".into(), "one".into())
        ]
    );
    assert_eq!(v.marks, vec![("starred".into(), "star".into())]);
    assert!(!v.changed);
}

#[test]
fn rewrite_title_and_text_with_groups() {
    let r = rules_of(
        r#"[[rules]]
then.rewrite.title = { find = '^Rust (\d)\.(\d) released$', replace = 'Rust $1.$2 is out' }
[[rules]]
then.rewrite.text = { find = 'news', replace = '<script>x</script>' }
"#,
        "a",
    );
    let mut e = entry(
        "Rust 2.0 released",
        "https://x.example/1",
        "<p>Big <a href=\"https://x.example/news\">news</a> today.</p>",
    );
    let before = e.content_hash;
    let v = judge(&r, &mut e, None);
    assert!(v.changed);
    assert_eq!(e.title, "Rust 2.0 is out");
    let html = e.content_html.as_deref().unwrap();
    // Only text changed: the link's address still says `news`, and the
    // replacement is text, escaped, never markup.
    assert!(html.contains("href=\"https://x.example/news\""), "{html}");
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert_eq!(e.content_text, "Big <script>x</script> today.");
    assert_ne!(e.content_hash, before);
    assert_eq!(
        e.content_hash,
        crate::clean::content_hash(&e.title, &e.content_text)
    );
}

#[test]
fn remove_by_selector_cleans_again() {
    // Selectors see cleaned HTML: its elements and the attributes cleaning
    // keeps (and `class` and `id`, which `refresh::judge` keeps for them:
    // tests/integration/rules.rs).
    let r = rules_of(
        "[[rules]]\nthen.rewrite.remove = [\"a[href*='ads.example']\", \"p:last-child\"]\n",
        "a",
    );
    let mut e = entry(
        "t",
        "https://x.example/1",
        "<p>Keep me <a href=\"https://ads.example/a\">Buy now</a>.</p><figure><figcaption>Chart</figcaption></figure><p>Share this</p>",
    );
    let v = judge(&r, &mut e, None);
    assert!(v.changed);
    let html = e.content_html.as_deref().unwrap();
    assert!(
        !html.contains("ads.example") && !html.contains("Share"),
        "{html}"
    );
    assert!(html.contains("Keep me") && html.contains("Chart"), "{html}");
    assert!(!e.content_text.contains("Buy"), "{}", e.content_text);
    // Nothing matched: nothing changes.
    let mut same = entry(
        "t",
        "https://x.example/1",
        "<p>Plain</p><p>Last</p><figure>x</figure>",
    );
    same.content_html = Some("<figure>only</figure>".into());
    let copy = same.clone();
    assert!(!judge(&r, &mut same, None).changed);
    assert_eq!(same, copy);
}

#[test]
fn strip_query_all_or_named() {
    let r = rules_of("[[rules]]\nthen.rewrite.strip_query = [\"id\"]\n", "a");
    let mut e = plain();
    judge(&r, &mut e, None);
    assert_eq!(
        e.url.as_deref(),
        Some("https://news.example.com/rust?utm_source=x")
    );
    assert_eq!(
        e.canonical_url.as_deref(),
        Some("https://news.example.com/rust")
    );
    let r = rules_of("[[rules]]\nthen.rewrite.strip_query = true\n", "a");
    let mut e = plain();
    judge(&r, &mut e, None);
    assert_eq!(e.url.as_deref(), Some("https://news.example.com/rust"));
}

#[test]
fn later_rules_see_earlier_rewrites() {
    let r = rules_of(
        "[[rules]]\nthen.rewrite.title = { find = 'Rust', replace = 'Ferris' }\n\
         [[rules]]\nname = \"f\"\nif.title = \"^Ferris\"\nthen = \"drop\"\n",
        "a",
    );
    assert_eq!(
        judge(&r, &mut plain(), None).dropped_by.as_deref(),
        Some("f")
    );
}

/// The bound: a rewrite's output never exceeds `MAX_GROWTH` × input +
/// `GROWTH_SLACK`; a replacement that would is refused and the field
/// kept as it was, whatever the input's size.
#[test]
fn rewrite_growth_is_bounded() {
    let r = rules_of(
        "[[rules]]\nname = \"x8\"\nthen.rewrite.text = { find = '.', replace = '$0$0$0$0$0$0$0$0' }\n",
        "a",
    );
    for n in [10usize, 1_000, 100_000] {
        let html = format!("<p>{}</p>", "a".repeat(n));
        let mut e = entry("t", "https://x.example/1", &html);
        let before = e.clone();
        let v = judge(&r, &mut e, None);
        if 8 * n + 7 > growth_limit(html.len()) {
            assert_eq!(v.refused, vec!["x8: text".to_string()], "n = {n}");
            assert_eq!(e, before);
        } else {
            // Short fields may grow by the slack.
            assert!(v.refused.is_empty() && e.content_text.len() == 8 * n);
        }
    }
    // Within the bound (×3), the rewrite applies.
    let r = rules_of(
        "[[rules]]\nthen.rewrite.text = { find = '.', replace = '$0$0$0' }\n",
        "a",
    );
    let mut e = entry(
        "t",
        "https://x.example/1",
        &format!("<p>{}</p>", "a".repeat(50_000)),
    );
    let v = judge(&r, &mut e, None);
    assert!(v.refused.is_empty());
    assert_eq!(e.content_text.len(), 150_000);
    // The building blocks: output within the budget, or nothing.
    let every = regex::Regex::new("").unwrap();
    for n in [0usize, 1, 100, 10_000] {
        let s = "b".repeat(n);
        let mut budget = growth_limit(n);
        match rewrite::replace_bounded(&every, "xxxxxxxx", &s, &mut budget) {
            Some(out) => assert!(out.len() <= growth_limit(n), "n = {n}"),
            None => assert!(n * 9 + 8 > growth_limit(n), "n = {n}"),
        }
    }
}

#[test]
fn config_errors_point_at_the_rule() {
    let at = |e: &str, want: &str| {
        assert!(e.starts_with("/etc/tributary/t.toml:"), "{e}");
        assert!(e.contains(want), "{e}");
    };
    let e = config_error("[[rules]]\nif.title = \"(unclosed\"\nthen = \"drop\"\n");
    at(&e, ":6:");
    at(&e, "invalid regular expression `(unclosed`");
    let e = config_error("[[rules]]\nthen.rewrite.remove = \"p[\"\n");
    at(&e, ":6:");
    at(&e, "invalid selector `p[`");
    at(
        &config_error("[[rules]]\nthen.rewrite.remove = \"div:has(p)\"\n"),
        ":has() is not supported",
    );
    at(
        &config_error("[[rules]]\nif.titel = \"x\"\nthen = \"drop\"\n"),
        "unknown field `titel`",
    );
    at(
        &config_error("[[rules]]\nthen = \"delete\"\n"),
        "unknown action `delete`",
    );
    at(
        &config_error("[[rules]]\nthen.tagg = \"x\"\n"),
        "unknown field `tagg`",
    );
    at(
        &config_error("[[rules]]\nfeeds = [\"nope\"]\nthen = \"drop\"\n"),
        "no feed named `nope`",
    );
    at(
        &config_error("[[rules]]\ntags = [\"nope\"]\nthen = \"drop\"\n"),
        "no feed has the tag `nope`",
    );
    at(
        &config_error(
            "[[rules]]\nthen.rewrite.title = { find = 'x', replace = '$0$0$0$0$0$0$0$0$0' }\n",
        ),
        "at most 8",
    );
    at(
        &config_error("[[rules]]\nif.title = 'a{1000}{1000}'\nthen = \"drop\"\n"),
        "compiles to more than",
    );
    at(
        &config_error(
            "[[rules]]\nname = \"x\"\nthen = \"drop\"\n[[rules]]\nname = \"x\"\nthen = \"keep\"\n",
        ),
        "duplicate rule name `x` (first used on line 5)",
    );
    at(
        &config_error("[[outputs]]\nname = \"sec\"\nrule_tags = [\"security\"]\n"),
        "no rule adds the tag `security`",
    );
}

#[test]
fn the_documented_example_is_a_valid_config() {
    let doc = include_str!("../../docs/rules.md");
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let feeds = "[[feeds]]\nname = \"wire\"\nurl = \"https://w.example/f\"\n\
                 [[feeds]]\nname = \"blog\"\nurl = \"https://b.example/f\"\ntags = [\"tech\"]\n";
    let c = Config::parse(&format!("{feeds}{example}"), Path::new("/t.toml")).unwrap();
    let names: Vec<&str> = c.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["no-ads", "europe-only", "cves", "editor", "tidy-blog"]
    );
    assert_eq!(c.feed("blog").unwrap().rules.len(), 4);
    let mut e = entry(
        "[Blog] Ten years",
        "https://blog.example.org/ten?ref=rss",
        "<p>Text</p><p><a href=\"https://share.example/x\">share</a></p>",
    );
    let v = judge(&c.feed("blog").unwrap().rules, &mut e, None);
    assert_eq!(v.dropped_by, None);
    assert_eq!(e.title, "Ten years");
    assert_eq!(e.url.as_deref(), Some("https://blog.example.org/ten"));
    assert_eq!(e.content_text, "Text");
}

/// Time against input size on adversarial shapes (deep nesting under a
/// descendant selector, many siblings, a regex on every text node): eight
/// times the input must cost well under the 64 times a quadratic cost
/// would.
#[test]
fn evaluation_is_linear_in_the_entry() {
    let r = rules_of(
        "[[rules]]\nthen.rewrite.remove = [\"div div div blockquote p\", \"p:last-child\"]\n\
         [[rules]]\nthen.rewrite.text = { find = '(a+)b', replace = '$1' }\n\
         [[rules]]\nif.text = '(x+x+)+y'\nthen = \"drop\"\n",
        "a",
    );
    let shape = |units: usize| {
        // 100 levels deep, then a paragraph, repeated; and many siblings.
        let deep = format!(
            "{}<p>{}</p>{}",
            "<div>".repeat(100),
            "a".repeat(50),
            "</div>".repeat(100)
        );
        let siblings = "<p>xxxxxxxxxxxxxxxxxxxx</p>".repeat(10);
        [deep, siblings].concat().repeat(units)
    };
    let cost = |units: usize| {
        let html = shape(units);
        (0..3)
            .map(|_| {
                let mut e = entry("t", "https://x.example/1", &html);
                let started = std::time::Instant::now();
                let v = judge(&r, &mut e, None);
                assert!(v.dropped_by.is_none() && v.refused.is_empty());
                started.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let (small, large) = (cost(6), cost(48));
    println!("rules on 8x the entry: {:.1}x the time", large / small);
    assert!(
        large / small < 32.0,
        "8x the input cost {:.1}x the time ({small:.4}s → {large:.4}s)",
        large / small
    );
}
