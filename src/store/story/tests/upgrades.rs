//! The upgrades that re-encode stored fingerprints and re-key the table
//! tier of the story index (migrations 20 and 22).

use super::*;

/// Runs migration `version` (1-based, as `user_version` counts) on the
/// store at `path` by itself, with the functions the store registers
/// while it migrates; `marks` is a word of its SQL, which says it is the
/// one meant.
fn run_migration(path: &std::path::Path, version: usize, marks: &str) {
    let sql = crate::store::schema::MIGRATIONS[version - 1];
    assert!(
        sql.contains(marks),
        "migration {version} is not the one meant"
    );
    let c = rusqlite::Connection::open(path).unwrap();
    crate::store::register_sql_functions(&c).unwrap();
    super::rekey::register(&c).unwrap();
    c.execute_batch(sql).unwrap();
}

/// The fingerprint stored for article `id`, as its bytes.
fn stored_print(s: &Store, id: i64) -> Vec<u8> {
    s.conn
        .query_row(
            "SELECT fingerprint FROM story_prints WHERE article_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn version_1_prints_are_re_encoded_and_the_table_tier_rekeyed_by_the_upgrade() {
    use crate::dedup::story::tests::v1_bytes;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let first = copy(0);
    {
        let mut s = open(&path);
        s.record_fetch(&fetch(1, "first", &first, true)).unwrap();
        // As schema 19 left it: a version 1 print, and the article in the
        // table tier under keys of that version (one stands for them).
        s.conn
            .execute(
                "UPDATE story_prints SET fingerprint = ?1 WHERE article_id = 1",
                [v1_bytes("Cycle route approved", &first, true)],
            )
            .unwrap();
        s.conn
            .execute_batch(
                "DELETE FROM story_bands; INSERT INTO story_bands VALUES (42, 1);
                 UPDATE story_index SET through = 1;",
            )
            .unwrap();
    }
    // The upgrade to schema 20, as `Store::open` runs it (the later
    // migrations, already applied here, leave these tables alone).
    run_migration(&path, 20, "story_print_current");
    let mut s = open(&path);
    let print = fingerprint("Cycle route approved", &first);
    assert_eq!(stored_print(&s, 1), print.to_bytes());
    let mut keys: Vec<i64> = crate::dedup::story::index_keys(&print)
        .map(i64::from)
        .collect();
    keys.sort_unstable();
    let mut st = s
        .conn
        .prepare("SELECT band_key FROM story_bands WHERE article_id = 1 ORDER BY band_key")
        .unwrap();
    let rows: Vec<i64> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(st);
    assert_eq!(rows, keys);
    assert_eq!(query(&s, "SELECT count(*) FROM story_bands"), BANDS as i64);
    // A copy arriving after the upgrade finds it through the new keys.
    s.record_fetch(&fetch(2, "second", &copy(1), true)).unwrap();
    assert_eq!(story_of(&s, "second"), story_of(&s, "first"));
}

#[test]
fn schema_21_prints_are_made_compact_and_the_table_tier_rekeyed_by_the_upgrade() {
    use crate::dedup::story::tests::{fixed_bytes, wide_keys, WIRE};
    use crate::store::schema::MIGRATIONS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    // Two articles in the table tier (one with fact keys), one after it.
    let texts = [
        ("wire", WIRE.to_owned()),
        ("first", copy(0)),
        ("other", OTHER.to_owned()),
    ];
    let prints: Vec<Fingerprint>;
    {
        let mut s = open(&path);
        for (feed, (item, text)) in (1..).zip(&texts) {
            s.record_fetch(&fetch(feed, item, text, true)).unwrap();
        }
        prints = (1..=3)
            .map(|id| Fingerprint::from_bytes(&stored_print(&s, id)).unwrap())
            .collect();
        // As schema 21 left them: prints in the fixed layout, and the
        // first two articles in the table tier under 64-bit keys.
        let tx = s.conn.transaction().unwrap();
        tx.execute("DELETE FROM story_bands", []).unwrap();
        for (id, print) in (1..).zip(&prints) {
            tx.execute(
                "UPDATE story_prints SET fingerprint = ?2 WHERE article_id = ?1",
                rusqlite::params![id, fixed_bytes(print)],
            )
            .unwrap();
            for key in wide_keys(print).into_iter().filter(|_| id <= 2) {
                tx.execute(
                    "INSERT INTO story_bands (band_key, article_id) VALUES (?1, ?2)",
                    [key, id],
                )
                .unwrap();
            }
        }
        tx.execute("UPDATE story_index SET through = 2", [])
            .unwrap();
        // The upgrades from 22 on to run, as `Store::open` runs them (the
        // later ones do not touch the story index).
        assert!(MIGRATIONS[21].contains("story_prints_compact"));
        tx.pragma_update(None, "user_version", 21).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            query(&s, "SELECT min(length(fingerprint)) FROM story_prints"),
            292
        );
        assert!(
            query(
                &s,
                "SELECT count(*) FROM story_bands WHERE band_key > 2147483647"
            ) > 0
        );
    }
    let mut s = open(&path);
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    for (id, print) in (1..).zip(&prints) {
        let stored = stored_print(&s, id);
        assert_eq!(stored, print.to_bytes(), "article {id}");
        assert!(stored.len() < 292);
        assert_eq!(Fingerprint::from_bytes(&stored).as_ref(), Ok(print));
    }
    // The table holds exactly the new keys of the articles it held.
    let mut want: Vec<(i64, i64)> = (1..)
        .zip(&prints[..2])
        .flat_map(|(id, p)| crate::dedup::story::index_keys(p).map(move |k| (i64::from(k), id)))
        .collect();
    want.sort_unstable();
    assert!(want.len() > 2 * BANDS, "the wire report has fact keys");
    let mut st = s
        .conn
        .prepare("SELECT band_key, article_id FROM story_bands ORDER BY 1, 2")
        .unwrap();
    let rows: Vec<(i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(st);
    assert_eq!(rows, want);
    // Every key fits in 32 bits.
    assert!(rows.iter().all(|(k, _)| i32::try_from(*k).is_ok()));
    // Copies arriving after the upgrade find them, in the table tier and
    // in the recent one.
    s.record_fetch(&fetch(4, "second", &copy(1), true)).unwrap();
    assert_eq!(story_of(&s, "second"), story_of(&s, "first"));
    let trees = format!("{OTHER}\n\nShare this article");
    s.record_fetch(&fetch(4, "trees", &trees, true)).unwrap();
    assert_eq!(story_of(&s, "trees"), story_of(&s, "other"));
    assert_ne!(story_of(&s, "trees"), story_of(&s, "first"));
}
