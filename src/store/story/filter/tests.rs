use super::super::tests::{fetch, flushing_at, query};
use super::super::{index_keys, survey};
use super::*;
use crate::dedup::story::{fingerprint, DEFAULT_THRESHOLD};
use crate::store::Store;

/// A deterministic pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A made-up word of two or three syllables.
fn word(rng: &mut Rng) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mer", "dan", "ti", "sor", "vel", "qua", "ne", "bri", "tos", "gal", "ru",
        "phe", "min", "dor",
    ];
    (0..2 + rng.below(2))
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

/// A corpus like the benchmark's in miniature: a small vocabulary (so that
/// unrelated articles share band keys), sentences shared between articles
/// (templates, background paragraphs), names and figures (fact keys), and
/// copies of earlier articles with other page furniture.
fn corpus(seed: u64, articles: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let vocabulary: Vec<String> = (0..120).map(|_| word(&mut rng)).collect();
    let names = [
        "Harlow",
        "Okonkwo",
        "Brandt",
        "Ferreira",
        "Lindqvist",
        "Tanaka",
    ];
    let sentence = |rng: &mut Rng| {
        let mut s: Vec<String> = (0..12)
            .map(|_| vocabulary[rng.below(vocabulary.len())].clone())
            .collect();
        s[0] = format!("The {}", s[0]);
        s[4] = names[rng.below(names.len())].to_owned();
        s[8] = format!("{},{:03}", 1 + rng.below(9), rng.below(1000));
        s.join(" ") + "."
    };
    let shared: Vec<String> = (0..40).map(|_| sentence(&mut rng)).collect();
    let mut out: Vec<String> = Vec::new();
    for n in 0..articles {
        if n > 10 && rng.below(8) == 0 {
            let original = out[rng.below(out.len())].clone();
            out.push(format!("{original}\n\nShare this article\nAdvertisement"));
            continue;
        }
        let paragraphs: Vec<String> = (0..4)
            .map(|_| match rng.below(3) {
                0 => shared[rng.below(shared.len())].clone(),
                _ => format!("{} {}", sentence(&mut rng), sentence(&mut rng)),
            })
            .collect();
        out.push(paragraphs.join("\n\n"));
    }
    out
}

/// A filtered store holding the first `n` of `texts` (feed 1), and its
/// directory.
fn filled(texts: &[String], n: usize) -> (tempfile::TempDir, Store) {
    let (dir, mut s) = store(true);
    for (i, text) in texts.iter().enumerate().take(n) {
        s.record_fetch(&fetch(1, &format!("a{i}"), text, true))
            .unwrap();
    }
    (dir, s)
}

/// Where each article went: (id, story, best match, score).
fn stories(s: &Store) -> Vec<(i64, i64, Option<i64>, Option<f64>)> {
    let mut st = s
        .conn
        .prepare("SELECT id, story_id, story_match_id, story_score FROM articles ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// A store whose recent tier flushes every 16 articles, with the filter
/// built from the first sync (`filtered`) or never.
fn store(filtered: bool) -> (tempfile::TempDir, Store) {
    let (dir, mut s) = flushing_at(16);
    if !filtered {
        s.recent.build_after = u64::MAX;
    }
    (dir, s)
}

/// The filter never loses a key: every key of the table, whether it came
/// from a build, a flush or an extraction's re-placement, may be there.
fn assert_holds_the_table(s: &Store) {
    let filter = s.recent.filter.as_ref().expect("built");
    assert!(!filter.stale());
    let mut st = s.conn.prepare("SELECT band_key FROM story_bands").unwrap();
    let keys: Vec<i64> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        assert!(filter.may_contain(key), "key {key} lost");
    }
}

/// The same fetches give the same stories with the filter as without, in
/// a store whose table tier holds most of the window; each survey with
/// the filter has the same candidates as without it; and the filter
/// spares most lookups.
#[test]
fn the_filter_changes_no_story_and_no_candidate() {
    let texts = corpus(7, 600);
    let (_d1, mut with) = store(true);
    let (_d2, mut without) = store(false);
    for (n, text) in texts.iter().enumerate() {
        let rec = fetch(1 + (n % 4) as i64, &format!("a{n}"), text, true);
        with.record_fetch(&rec).unwrap();
        without.record_fetch(&rec).unwrap();
    }
    let placed = stories(&with);
    assert_eq!(placed, stories(&without));
    let merged = placed.iter().filter(|p| p.2.is_some()).count();
    assert!(merged > 40, "the corpus has copies: {merged} merged");
    assert!(query(&with, "SELECT count(*) FROM story_bands") > 10_000);
    assert_holds_the_table(&with);

    let tx = with.conn.transaction().unwrap();
    with.recent.sync(&tx).unwrap();
    let probes = corpus(8, 200);
    let (mut spared, mut keys) = (0, 0);
    for (n, text) in probes.iter().chain(&texts[..50]).enumerate() {
        let print = fingerprint("Cycle route approved", text);
        let window = 1 + (n as i64 % 3) * 100;
        let filtered = survey(&tx, &print, DEFAULT_THRESHOLD, window, &with.recent).unwrap();
        let filter = with.recent.filter.take();
        let plain = survey(&tx, &print, DEFAULT_THRESHOLD, window, &with.recent).unwrap();
        with.recent.filter = filter;
        assert_eq!(filtered, plain, "probe {n}");
        for key in index_keys(&print) {
            keys += 1;
            spared += u64::from(!with.recent.maybe_in_table(i64::from(key)));
        }
    }
    // Most keys of a new article are in no other article: no seek.
    assert!(spared * 2 > keys, "spared {spared} of {keys} seeks");
}

/// Built from the table when a store opens again: a copy of an article
/// flushed before the restart is found through it; and an extraction's
/// re-placement, a flush and a prune keep it whole.
#[test]
fn rebuilt_at_start_and_kept_whole_by_the_other_writes() {
    let texts = corpus(11, 120);
    let (dir, s) = filled(&texts, texts.len());
    assert_holds_the_table(&s);
    let path = dir.path().join("t.db");
    drop(s);
    let mut again = Store::open(&path).unwrap();
    again.recent.build_after = 0;
    again.recent.flush_at = 16;
    assert!(again.recent.filter.is_none());
    let copy = format!("{}\n\nShare this article", texts[3]);
    again.record_fetch(&fetch(2, "copy", &copy, true)).unwrap();
    assert_holds_the_table(&again);
    assert_eq!(
        query(
            &again,
            "SELECT story_id FROM articles WHERE id = (SELECT max(id) FROM articles)"
        ),
        query(&again, "SELECT story_id FROM articles WHERE id = 4"),
    );

    // Keys written outside a flush (an extraction's re-placement).
    let keys: Vec<i64> = (0..64).map(|k| (k << 20) + 12_345).collect();
    again.recent.written_to_table(&keys);
    let filter = again.recent.filter.as_ref().unwrap();
    assert!(keys.iter().all(|k| filter.may_contain(*k)));

    // A prune drops rows: the filter is built again from what is left.
    again.recent.pruned = true;
    let tx = again.conn.transaction().unwrap();
    again.recent.sync(&tx).unwrap();
    let rows = query_tx(&tx, "SELECT count(*) FROM story_bands");
    assert_eq!(again.recent.filter.as_ref().unwrap().keys as i64, rows);
}

fn query_tx(tx: &Transaction<'_>, sql: &str) -> i64 {
    tx.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Another connection's commit makes the filter stale (its flush wrote
/// keys this one never saw): it is not used until built again, and the
/// copy that connection flushed is found.
#[test]
fn another_writer_makes_it_stale_until_it_is_built_again() {
    let texts = corpus(13, 40);
    let (dir, mut one) = filled(&texts, 20);
    assert_holds_the_table(&one);
    let mut two = Store::open(&dir.path().join("t.db")).unwrap();
    two.recent.flush_at = 1;
    let original = &texts[30];
    two.record_fetch(&fetch(2, "original", original, true))
        .unwrap();
    one.recent.build_after = u64::MAX;
    let copy = format!("{original}\n\nShare this article");
    one.record_fetch(&fetch(3, "copy", &copy, true)).unwrap();
    assert!(one.recent.filter.as_ref().unwrap().stale());
    assert_eq!(
        query(
            &one,
            "SELECT story_id FROM articles WHERE id = (SELECT max(id) FROM articles)"
        ),
        query(
            &one,
            "SELECT story_id FROM articles WHERE id = (SELECT max(id) - 1 FROM articles)"
        ),
    );
    // Built again once enough lookups went without it.
    one.recent.build_after = 0;
    one.record_fetch(&fetch(4, "b", &texts[35], true)).unwrap();
    assert_holds_the_table(&one);
}

/// The bound: however many keys a build is asked to hold, the filter
/// takes at most `MAX_BYTES`, and then stops growing.
#[test]
fn it_never_takes_more_than_its_bound() {
    let (_dir, mut s) = store(true);
    let tx = s.conn.transaction().unwrap();
    let small = KeyFilter::build(&tx, 0).unwrap();
    assert_eq!(small.bytes(), MIN_BYTES);
    let mut big = KeyFilter::build(&tx, usize::MAX).unwrap();
    assert_eq!(big.bytes(), MAX_BYTES);
    for k in 0..(MAX_BYTES * 8 / BITS_PER_WORD_KEY + 1) as i64 {
        big.add(k);
    }
    assert!(!big.crowded(), "at its bound it does not grow");
    assert_eq!(big.bytes(), MAX_BYTES);
    // Still no false negatives, and still a useful filter.
    assert!((0..1000).all(|k| big.may_contain(k)));
    let absent = (1i64 << 40..(1 << 40) + 10_000)
        .filter(|k| big.may_contain(*k))
        .count();
    assert!(absent < 500, "{absent} false positives in 10,000");
}

/// A checkpoint on another connection (the store's checkpoint thread)
/// writes no rows: the filter stays in use.
#[test]
fn a_checkpoint_elsewhere_leaves_it_in_use() {
    let texts = corpus(19, 40);
    let (dir, mut s) = filled(&texts, 30);
    let other = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    other
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        .unwrap();
    s.record_fetch(&fetch(2, "b", &texts[35], true)).unwrap();
    s.record_fetch(&fetch(2, "c", &texts[36], true)).unwrap();
    assert!(!s.recent.filter.as_ref().unwrap().stale());
}

/// Keys are 32 bits with the band number on top (`dedup::story::index_key`):
/// at the bits per key the filter is sized for, absent keys still get a
/// false "maybe" about once in a hundred, as the module says.
#[test]
fn thirty_two_bit_keys_spread_over_the_filter() {
    use crate::dedup::story::{index_key, FACT_BAND};
    let bytes = 256 * 1024;
    let mut filter = KeyFilter {
        words: vec![0; bytes / 8],
        keys: 0,
        version: 0,
        stale: false,
    };
    let mut rng = Rng(7);
    // A key of one of the 20 bands or of the fact band, as stored.
    let key = |rng: &mut Rng| {
        let band = match rng.below(21) {
            20 => FACT_BAND,
            b => b as u32,
        };
        i64::from(index_key(band, rng.next()))
    };
    let held: std::collections::HashSet<i64> = (0..bytes * 8 / BITS_PER_WORD_KEY)
        .map(|_| key(&mut rng))
        .collect();
    for k in &held {
        filter.add(*k);
    }
    assert!(!filter.crowded());
    assert!(held.iter().all(|k| filter.may_contain(*k)));
    let (mut absent, mut maybe) = (0, 0);
    while absent < 200_000 {
        let k = key(&mut rng);
        if !held.contains(&k) {
            absent += 1;
            maybe += usize::from(filter.may_contain(k));
        }
    }
    let rate = maybe as f64 / absent as f64;
    assert!(rate < 0.01, "false maybe for {rate:.4} of absent keys");
}
