//! Corpus conformance: every input of the shared real-world corpus through
//! the parser and the ingest path. Skips (visibly) when the corpus is absent.
//!
//! Set `TRIBUTARY_CORPUS` to its folder; the default is `../shared/corpus`
//! next to the repository.
//!
//! No input may make a parser panic (a contained panic is still a
//! failure). The inputs that fail a check today are listed, by check, in
//! `tests/fixtures/corpus/known-failures.txt`: an input failing that is
//! not listed fails the test, and so does a listed one that now passes
//! (remove its line), so the list always says exactly what fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use tributary::clean::inline_text;
use tributary::model::{FeedSpec, IdentityMode};
use tributary::parse::ParseError;
use tributary::refresh::process;
use tributary::store::{FetchRecord, Outcome, Store};

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TRIBUTARY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("MANIFEST.jsonl").is_file().then_some(dir)
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn corpus_conformance() {
    let Some(dir) = corpus_dir() else {
        crate::util::skip(
            "corpus_conformance: no corpus (set TRIBUTARY_CORPUS or place it at ../shared/corpus)",
        );
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.jsonl")).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let mut store = Store::open(&scratch.path().join("corpus.db")).unwrap();
    let now = Utc::now();

    let (mut inputs, mut ingested, mut rejected) = (0, 0, 0);
    let (mut clean_total, mut clean_ok) = (0, 0);
    let (mut title_checks, mut title_ok) = (0, 0);
    let mut entries_stored = 0usize;
    let mut clean_failures: Vec<String> = Vec::new();
    let mut title_failures: Vec<String> = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, String::new());
    let (mut multi, mut skimmable, mut skimmed) = (0usize, 0usize, 0usize);
    let mut skim_failures = Vec::<String>::new();
    let mut specs = Vec::new();
    // "check path" of every input failing a check; parser panics apart.
    let mut failing = BTreeSet::<String>::new();
    let mut panics = Vec::<String>::new();

    let records: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for rec in records.iter().filter(|r| r["role"] == "input") {
        let path = rec["path"].as_str().unwrap();
        specs.push(FeedSpec {
            name: format!("c{}", specs.len()),
            url: format!("corpus:{path}"),
            tags: vec![],
            dedup: true,
        });
    }
    store.reconcile(&specs, now).unwrap();
    let feeds = store.feeds().unwrap();

    for rec in records.iter().filter(|r| r["role"] == "input") {
        let path = rec["path"].as_str().unwrap();
        let body = std::fs::read(dir.join(path)).unwrap();
        let exp = &rec["expectation"];
        let content_type = exp["http_headers"].as_array().and_then(|hs| {
            hs.iter().find_map(|h| {
                let (k, v) = (h[0].as_str()?, h[1].as_str()?);
                k.eq_ignore_ascii_case("content-type")
                    .then(|| v.to_string())
            })
        });
        let url = url::Url::parse(&format!("http://corpus.example/{path}")).unwrap();
        inputs += 1;
        let started = Instant::now();
        let result = process(
            &body,
            content_type.as_deref(),
            Some(&url),
            IdentityMode::Guid,
            now,
        );
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, path.to_string());
        }
        let clean = exp["bozo"] == false;
        if clean {
            clean_total += 1;
        }
        match result {
            Ok(doc) => {
                ingested += 1;
                if clean {
                    clean_ok += 1;
                }
                // The feed title, where the manifest states one.
                if let Some(checks) = exp["simple_checks"].as_array() {
                    for c in checks {
                        if c["path"] == serde_json::json!(["feed", "title"]) {
                            title_checks += 1;
                            // Titles are plain text here: compare with the text of
                            // the expected (sanitized, possibly HTML) value.
                            let want = norm(&inline_text(c["equals"].as_str().unwrap_or("")));
                            let got = norm(doc.meta.title.as_deref().unwrap_or(""));
                            if want == got {
                                title_ok += 1;
                            } else {
                                title_failures.push(format!("{path}: want {want:?}, got {got:?}"));
                                failing.insert(format!("title {path}"));
                            }
                        }
                    }
                }
                // Re-fetched with all but its first entry known, the same
                // document must come out the same: known entries left out
                // by their bytes, or all read again.
                if doc.entries.len() >= 2 {
                    multi += 1;
                }
                match skims_the_same(&body, content_type.as_deref(), &url, now, &doc) {
                    Ok(Some(true)) => (skimmable, skimmed) = (skimmable + 1, skimmed + 1),
                    Ok(Some(false)) => {
                        skimmable += 1;
                        failing.insert(format!("read-whole {path}"));
                    }
                    Ok(None) => {}
                    Err(why) => skim_failures.push(format!("{path}: {why}")),
                }
                // Through the ingest path into the real store.
                let feed = feeds
                    .iter()
                    .find(|f| f.url == format!("corpus:{path}"))
                    .unwrap();
                let n = doc.entries.len();
                let applied = store
                    .record_fetch(&FetchRecord {
                        feed_id: feed.id,
                        started_at: now,
                        url: url.to_string(),
                        final_url: None,
                        outcome: Outcome::Ok,
                        http_status: Some(200),
                        bytes: body.len() as u64,
                        duration_ms: 0,
                        validators: None,
                        meta: Some(doc.meta),
                        entries: doc.entries,
                        kept: doc.kept,
                        error: None,
                        dedup: true,
                        story: Some(tributary::store::StoryPolicy {
                            threshold: tributary::dedup::story::DEFAULT_THRESHOLD,
                            window: std::time::Duration::from_secs(7 * 86400),
                        }),
                        permanent_redirect: None,
                        move_held: false,
                        moves_after: 3,
                        retry_after_until: None,
                        now,
                        judged: Default::default(),
                        packed_texts: Default::default(),
                        pushed: false,
                    })
                    .unwrap_or_else(|e| panic!("{path}: storing failed: {e}"));
                assert_eq!(
                    applied.new, n,
                    "{path}: every distinct entry of a fresh feed is new"
                );
                entries_stored += n;
            }
            Err(ParseError::Panic(p)) => panics.push(format!("{path}: {p}")),
            Err(e) => {
                rejected += 1;
                if !clean {
                    failing.insert(format!("bozo-refused {path}"));
                }
                let msg = e.to_string();
                assert!(
                    !msg.is_empty() && !msg.contains('\n'),
                    "{path}: unclear error {msg:?}"
                );
                let reason: String = msg.chars().take(60).collect();
                *reasons.entry(reason).or_default() += 1;
                if clean {
                    clean_failures.push(format!("{path}: {msg}"));
                    failing.insert(format!("clean-refused {path}"));
                }
            }
        }
    }
    assert!(store.integrity_ok().unwrap());
    validate_outputs(&store, scratch.path());
    let rate = clean_ok as f64 * 100.0 / clean_total.max(1) as f64;
    eprintln!("corpus: {inputs} inputs, {ingested} ingested ({entries_stored} entries), {rejected} rejected with an error");
    eprintln!("corpus: bozo=false inputs ingested: {clean_ok}/{clean_total} ({rate:.1} %)");
    eprintln!("corpus: feed titles matching: {title_ok}/{title_checks}");
    eprintln!("corpus: slowest input {:?} ({})", slowest.0, slowest.1);
    eprintln!("corpus: rejection reasons:");
    for (r, n) in &reasons {
        eprintln!("  {n:5}  {r}");
    }
    for f in clean_failures.iter().take(40) {
        eprintln!("  clean input rejected: {f}");
    }
    for f in title_failures.iter().take(40) {
        eprintln!("  title mismatch: {f}");
    }
    eprintln!(
        "corpus: {multi} inputs with two entries or more, {skimmable} with every entry told apart by its bytes; re-fetched with all but one entry known, {skimmed} left the known ones out, the rest were read whole"
    );
    for f in skim_failures.iter().take(40) {
        eprintln!("  re-fetch differs: {f}");
    }
    assert!(
        skim_failures.is_empty(),
        "{} re-fetches differ",
        skim_failures.len()
    );
    assert!(
        panics.is_empty(),
        "parsers panicked on {} inputs: {panics:#?}",
        panics.len()
    );
    assert!(
        inputs > 3000,
        "the corpus should hold about 3,165 inputs, found {inputs}"
    );
    eprintln!("corpus: {rate:.1} % of bozo=false inputs ingested; {skimmed} of {skimmable} re-fetches left known entries out");
    check_known_failures(&failing);
}

/// Compares the inputs failing a check with the committed list.
fn check_known_failures(failing: &BTreeSet<String>) {
    let list = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus/known-failures.txt");
    let text = std::fs::read_to_string(&list).unwrap();
    let known: BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let new: Vec<&String> = failing.difference(&known).collect();
    let fixed: Vec<&String> = known.difference(failing).collect();
    eprintln!(
        "corpus: {} known failures listed, {} failing now",
        known.len(),
        failing.len()
    );
    assert!(
        new.is_empty() && fixed.is_empty(),
        "tests/fixtures/corpus/known-failures.txt is out of date.\n\
         Failing now and not listed (a regression, or list it with its reason):\n{}\n\
         Listed and passing now (fixed: remove these lines):\n{}",
        new.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        fixed
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// Processes `body` again with every entry of `full` but the first known
/// (as the store would know them) and checks that the outcome is the same
/// document: the entries read plus those left out are exactly `full`'s,
/// and what was read equals what a full read made. Returns whether known
/// entries were left out (rather than the document read whole); `None`
/// for documents with fewer than two entries or entries not told apart by
/// their bytes.
fn skims_the_same(
    body: &[u8],
    content_type: Option<&str>,
    url: &url::Url,
    now: chrono::DateTime<Utc>,
    full: &tributary::refresh::Processed,
) -> Result<Option<bool>, String> {
    use tributary::model::{KnownEntries, KnownItem};
    if full.entries.len() < 2 || full.entries.iter().any(|e| e.item_hash.is_none()) {
        return Ok(None);
    }
    let mut known = KnownEntries {
        site_url: full.meta.site_url.clone(),
        ..KnownEntries::default()
    };
    for e in &full.entries[1..] {
        known.by_item.insert(
            e.item_hash.unwrap(),
            KnownItem {
                key: e.key.clone(),
                guid: e.guid.clone(),
                url: e.url.clone(),
            },
        );
    }
    let again = tributary::refresh::process_with(
        body,
        content_type,
        Some(url),
        IdentityMode::Guid,
        now,
        &known,
        tributary::clean::Attributes::Policy,
    )
    .map_err(|e| format!("failed: {e}"))?;
    let mut keys: Vec<&str> = again
        .entries
        .iter()
        .map(|e| e.key.as_str())
        .chain(again.kept.iter().map(String::as_str))
        .collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = full.entries.iter().map(|e| e.key.as_str()).collect();
    want.sort_unstable();
    if keys != want {
        return Err(format!("keys {keys:?}, want {want:?}"));
    }
    for e in &again.entries {
        let f = full
            .entries
            .iter()
            .find(|f| f.key == e.key)
            .expect("same keys");
        if e != f {
            return Err(format!("entry {} differs: {e:?} against {f:?}", e.key));
        }
    }
    if again.meta != full.meta {
        return Err(format!("meta {:?} against {:?}", again.meta, full.meta));
    }
    Ok(Some(!again.kept.is_empty()))
}

/// Renders the default output (the newest articles of the corpus, hostile
/// titles and content included) in every format and validates it: Atom
/// against RFC 4287's schema, JSON Feed against its schema, RSS well-formed.
fn validate_outputs(store: &Store, dir: &std::path::Path) {
    use crate::publish::validate_files;
    use tributary::syndication::Format;
    let config = tributary::config::Config::parse(
        "[store]\npath = \"corpus.db\"\n[river]\nlimit = 1000\n",
        &dir.join("t.toml"),
    )
    .unwrap();
    let site = tributary::output::Site::new(&config);
    let rendered = site.render(store, site.default_output()).unwrap();
    let mut files = Vec::new();
    for (format, bytes) in Format::ALL.into_iter().zip(rendered) {
        let path = dir.join(format!("corpus.{}", format.extension()));
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    validate_files(&files[0], &files[1], &files[2]);
    eprintln!("corpus: the default output of the corpus store (1000 items) validates as Atom, RSS and JSON Feed");
}
