//! Cross-feed dedup on the shared benchmark corpus generator, whose
//! manifest is ground truth: utm, new-guid and same-guid copies must all
//! merge into one article, nothing else may merge, and the result must not
//! depend on the order feeds are ingested in. Skips (visibly) without
//! `python3` or the generator.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

fn feedgen() -> Option<PathBuf> {
    let p = std::env::var_os("TRIBUTARY_BENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench"))
        .join("feedgen.py");
    p.is_file().then_some(p)
}

/// Article partition as sets of manifest article ids, and the same for stories.
fn partition(
    s: &Scratch,
    link_to_aid: &HashMap<String, u64>,
) -> (BTreeSet<Vec<u64>>, BTreeSet<Vec<u64>>) {
    let db = s.db();
    let mut st = db
        .prepare(
            "SELECT a.id, a.story_id, e.url FROM entries e JOIN articles a ON a.id = e.article_id",
        )
        .unwrap();
    let mut by_article: HashMap<i64, BTreeSet<u64>> = HashMap::new();
    let mut by_story: HashMap<i64, BTreeSet<u64>> = HashMap::new();
    for row in st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .unwrap()
    {
        let (article, story, url) = row.unwrap();
        let url = url.expect("every generated entry has a link");
        let aid = *link_to_aid
            .get(&url)
            .unwrap_or_else(|| panic!("unknown link {url}"));
        by_article.entry(article).or_default().insert(aid);
        by_story.entry(story).or_default().insert(aid);
    }
    let sets =
        |m: HashMap<i64, BTreeSet<u64>>| m.into_values().map(|v| v.into_iter().collect()).collect();
    (sets(by_article), sets(by_story))
}

fn ingest(dir: &Path, paths: &[String], reversed: bool) -> Scratch {
    let s = Scratch::new();
    let mut feeds: Vec<(String, String)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("f{i}"), dir.join(p).display().to_string()))
        .collect();
    if reversed {
        feeds.reverse();
    }
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    // One at a time, in config order, so the order really differs.
    s.write_config("[fetch]\nconcurrency = 1\n", &refs);
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
    s
}

#[test]
fn benchmark_corpus_merges_exactly_its_duplicates_in_any_order() {
    let Some(gen) = feedgen() else {
        skip("benchmark_corpus_merges_exactly_its_duplicates_in_any_order: no ../shared/bench/feedgen.py");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(&gen)
        .args(["generate", "--out"])
        .arg(dir.path())
        .args(["--feeds", "40", "--entries", "25", "--seed", "7"])
        .output();
    let Ok(out) = out else {
        skip("benchmark_corpus_merges_exactly_its_duplicates_in_any_order: no python3");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    let distinct = manifest["summary"]["all_formats"]["distinct_articles"]
        .as_i64()
        .unwrap();
    let mut link_to_aid = HashMap::new();
    let mut paths = Vec::new();
    for f in manifest["feeds"].as_array().unwrap() {
        paths.push(f["path"].as_str().unwrap().to_string());
        for e in f["entries"].as_array().unwrap() {
            link_to_aid.insert(
                e["link"].as_str().unwrap().to_string(),
                e["aid"].as_u64().unwrap(),
            );
        }
    }

    let forward = ingest(dir.path(), &paths, false);
    let articles = forward.count("SELECT count(*) FROM articles");
    let (by_article, by_story) = partition(&forward, &link_to_aid);
    eprintln!(
        "benchmark corpus: {} entries, {articles} articles (manifest: {distinct} distinct), {} stories",
        forward.count("SELECT count(*) FROM entries"),
        by_story.len()
    );
    // No false merge: every article holds exactly one manifest article.
    assert!(
        by_article.iter().all(|aids| aids.len() == 1),
        "an article merged distinct manifest articles"
    );
    assert_eq!(articles, distinct, "every copy merged");
    assert!(
        by_story.iter().all(|aids| aids.len() == 1),
        "a story merged distinct manifest articles"
    );

    let reverse = ingest(dir.path(), &paths, true);
    let (by_article_rev, by_story_rev) = partition(&reverse, &link_to_aid);
    assert_eq!(
        by_article, by_article_rev,
        "article merging depends on order"
    );
    assert_eq!(by_story, by_story_rev, "story merging depends on order");
}
