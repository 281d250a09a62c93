//! Every input in `tests/fixtures/regressions/` that once crashed, hung or
//! blew up something (most found by the fuzzers in `fuzz/`) goes through
//! the code that failed on it: `process-*` through `refresh::process`,
//! `config-*` through `Config::parse`. See that folder's README.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use tributary::clean::{DOC_SLACK, HTML_GROWTH};
use tributary::model::IdentityMode;
use tributary::parse::ParseError;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regressions");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "README.md")
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_input_that_once_failed_now_passes() {
    let url = url::Url::parse("https://feeds.example/feed.xml").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let files = fixtures();
    assert!(files.len() >= 4, "{files:?}");
    let deep = files.iter().filter(|(n, _)| n.contains("-nested-")).count();
    assert!(deep >= 3, "{deep} deep inputs");
    for (name, bytes) in &files {
        let started = Instant::now();
        if name.starts_with("process-") {
            let result = std::panic::catch_unwind(|| {
                tributary::refresh::process(bytes, None, Some(&url), IdentityMode::Guid, now)
            });
            let result = result.unwrap_or_else(|_| panic!("{name}: panicked"));
            if let Err(ParseError::Panic(p)) = &result {
                panic!("{name}: a parser panicked: {p}");
            }
            if let Ok(doc) = &result {
                // The document's bound: five times its decoded bytes, the
                // document slack, 7 bytes per body kept as text.
                let decoded = tributary::parse::decode(bytes, None).len();
                let bound = HTML_GROWTH * decoded + DOC_SLACK + 14 * doc.entries.len();
                let mut html = 0;
                for e in &doc.entries {
                    for s in [&e.title, &e.content_text] {
                        assert!(
                            s.chars().all(|c| matches!(c, '\t' | '\n' | '\r')
                                || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')),
                            "{name}: a character XML forbids survived: {s:?}"
                        );
                    }
                    for h in [&e.content_html, &e.summary_html].into_iter().flatten() {
                        html += h.len();
                        assert!(
                            !h.to_ascii_lowercase().contains("javascript:"),
                            "{name}: a script URL survived: {h}"
                        );
                        assert!(!h.contains("srcset=\"//"), "{name}: {h}");
                    }
                }
                assert!(
                    html <= bound,
                    "{name}: {html} bytes of HTML from {} (bound {bound})",
                    bytes.len()
                );
            }
            if name.starts_with("process-xml-base-") {
                assert!(
                    matches!(result, Err(ParseError::Malformed { .. })),
                    "{name}: {result:?}"
                );
            }
            // Deep documents (XML or JSON) are refused by name; deep HTML
            // inside a document is kept as text.
            if name.contains("-nested-") && !name.starts_with("process-html") {
                assert!(
                    matches!(&result, Err(e @ ParseError::Malformed { .. })
                        if e.to_string().ends_with("nested deeper than 256 levels")),
                    "{name}: {result:?}"
                );
            }
        } else if name.starts_with("config-") {
            let text = String::from_utf8_lossy(bytes);
            let path = Path::new("/nonexistent/tributary.toml");
            let result = std::panic::catch_unwind(|| {
                tributary::config::Config::parse(&text, path).map(|_| ())
            });
            assert!(result.is_ok(), "{name}: Config::parse panicked");
        } else {
            panic!("{name}: unknown kind (name it process-… or config-…)");
        }
        // The hangs took 11 s and minutes; each now takes well under a
        // second in a debug build (300 ms at most, measured), so 5 s leaves
        // a margin of more than 10x on a loaded machine.
        let took = started.elapsed();
        eprintln!("regression {name}: {took:?}");
        assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
    }
}
