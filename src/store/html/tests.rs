use std::io::Write;

use proptest::prelude::*;
use rusqlite::Connection;

use super::*;

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    register(&c).unwrap();
    c
}

#[test]
fn html_is_compressed_and_read_back() {
    let html = "<p>The harbour <b>bridge</b> opens on Monday.</p>".repeat(40);
    let packed = pack(html.as_bytes());
    assert!(packed.len() * 5 < html.len(), "{} bytes", packed.len());
    assert_eq!(unpack(&packed, html.len() as i64).unwrap(), html.as_bytes());
    // Another zlib writer's stream reads the same (the shell's `compress`).
    assert_eq!(
        unpack(&zlib(html.as_bytes()), html.len() as i64).unwrap(),
        html.as_bytes()
    );
}

#[test]
fn what_would_not_shrink_is_kept_as_it_is() {
    for short in ["", "<p>a</p>", "é"] {
        let packed = pack(short.as_bytes());
        assert_eq!(packed, short.as_bytes());
        assert_eq!(
            unpack(&packed, short.len() as i64).unwrap(),
            short.as_bytes()
        );
    }
}

#[test]
fn a_value_never_inflates_past_its_declared_size() {
    // 64 MiB of zeros in a stream of about 64 KiB, declared as 100 bytes.
    let bomb = zlib(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 100_000);
    assert_eq!(unpack(&bomb, 100), Err(UnpackError::TooLong(100)));
    // Declared longer than it is, or not a stream at all.
    let short = zlib(b"<p>x</p>");
    assert!(matches!(
        unpack(&short, 9),
        Err(UnpackError::WrongSize {
            got: 8,
            declared: 9
        })
    ));
    assert!(matches!(
        unpack(b"not zlib at all", 40),
        Err(UnpackError::Corrupt(_))
    ));
    assert!(matches!(
        unpack(&short[..short.len() - 6], 8),
        Err(UnpackError::Corrupt(_))
    ));
}

#[test]
fn the_sql_functions_mean_what_the_shells_do() {
    let c = conn();
    let html = "<p>Ferry <i>timetable</i></p>".repeat(20);
    let (round, packed_len): (Vec<u8>, i64) = c
        .query_row(
            "SELECT sqlar_uncompress(z, length(CAST(?1 AS BLOB))), length(z)
             FROM (SELECT sqlar_compress(CAST(?1 AS BLOB)) AS z)",
            [&html],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(round, html.as_bytes());
    assert!((packed_len as usize) < html.len() / 4);
    // Only a BLOB is compressed; NULL stays NULL; a size that is not
    // positive, or the value's own length, returns the value.
    let (text, null, kept): (String, Option<Vec<u8>>, Vec<u8>) = c
        .query_row(
            "SELECT sqlar_compress(?1), sqlar_uncompress(NULL, NULL),
                    sqlar_uncompress(CAST('abc' AS BLOB), 3)",
            [&html],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(text, html);
    assert_eq!(null, None);
    assert_eq!(kept, b"abc");
    let err = c
        .query_row("SELECT sqlar_uncompress(x'00010203', 1000)", [], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .unwrap_err();
    assert!(err.to_string().contains("not a zlib stream"), "{err}");
}

proptest! {
    /// Any bytes (HTML-like and not) read back as they were, and what is
    /// stored is never longer than they are.
    #[test]
    fn packing_round_trips_and_never_grows(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..4096),
            "(<p>[a-z ]{0,40}</p>){0,60}".prop_map(String::into_bytes),
        ]
    ) {
        let packed = pack(&bytes);
        prop_assert!(packed.len() <= bytes.len());
        prop_assert_eq!(unpack(&packed, bytes.len() as i64).unwrap(), bytes);
    }

    /// Whatever the stored value and size, reading gives the value itself,
    /// exactly the declared size, or an error: never more.
    #[test]
    fn reading_is_bounded_by_the_declared_size(
        data in proptest::collection::vec(any::<u8>(), 0..512),
        source in proptest::collection::vec(any::<u8>(), 0..8192),
        size in 0i64..10_000,
        stream in any::<bool>(),
    ) {
        let data = if stream { zlib(&source) } else { data };
        match unpack(&data, size) {
            Ok(out) => prop_assert!(
                out == data || out.len() as i64 == size,
                "{} bytes from a value of {} declared {}", out.len(), data.len(), size
            ),
            Err(_) => prop_assert!(size > 0 && size as usize != data.len()),
        }
    }
}

fn entry(key: &str, html: Option<&str>, summary: Option<&str>) -> Entry {
    let mut e = crate::store::story::tests::fetch(1, key, "text", true).entries[0].clone();
    e.content_html = html.map(str::to_owned);
    e.content_text = html.map(crate::clean::html_to_text).unwrap_or_default();
    e.summary_html = summary.map(str::to_owned);
    e
}

#[test]
fn an_entrys_texts_are_its_content_summary_and_excerpt_in_turn() {
    let html = "<p>The harbour bridge opens on Monday, after é years.</p>".repeat(8);
    let summary = "<p>The harbour bridge opens.</p>";
    let t = Texts::of(&entry("a", Some(&html), Some(summary))).unwrap();
    let text = crate::clean::html_to_text(&html);
    let excerpt: String = text
        .chars()
        .take(super::super::text::EXCERPT_CHARS)
        .collect();
    assert!(
        excerpt.chars().count() == 200 && excerpt.len() > 200,
        "multi-byte"
    );
    assert_eq!(t.bytes(), format!("{html}{summary}{excerpt}").as_bytes());
    assert_eq!(t.content_size(), Some(html.len()));
    assert_eq!(t.summary_size(), Some(summary.len()));
    // A summary alone: no excerpt (the text is stored then).
    let t = Texts::of(&entry("b", None, Some(summary))).unwrap();
    assert_eq!((t.bytes(), t.content_size()), (summary.as_bytes(), None));
    // Empty texts are texts; no texts at all is nothing to store.
    let t = Texts::of(&entry("c", Some(""), None)).unwrap();
    assert_eq!(
        (t.bytes(), t.content_size(), t.summary_size()),
        (&b""[..], Some(0), None)
    );
    assert_eq!(Texts::of(&entry("d", None, None)), None);
}

/// The SQL that cuts the texts apart, in a plain connection with only
/// the shell's functions: each part comes back as it was, NULL where the
/// feed gave none.
#[test]
fn the_sql_cuts_the_texts_apart_as_they_were_put_together() {
    let c = conn();
    c.execute_batch(
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, texts_zlib BLOB, texts_size INTEGER,
                                content_html_size INTEGER, summary_html_size INTEGER)",
    )
    .unwrap();
    let html = "<p>Ferry <i>timetable</i> changes — é</p>".repeat(20);
    let cases = [
        (Some(html.as_str()), Some("<p>Ferry timetable</p>")),
        (Some(html.as_str()), None),
        (None, Some("<p>Only a summary</p>")),
        (Some(""), Some("")),
        (None, None),
    ];
    for (id, (h, s)) in cases.iter().enumerate() {
        let t = Texts::of(&entry("k", *h, *s));
        c.execute(
            "INSERT INTO articles VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                id,
                t.as_ref().map(|t| pack(t.bytes())),
                t.as_ref().map(|t| t.bytes().len()),
                t.as_ref().and_then(Texts::content_size),
                t.as_ref().and_then(Texts::summary_size),
            ],
        )
        .unwrap();
        let sql = format!(
            "SELECT {}, {} FROM articles a WHERE id = ?1",
            html_sql!(),
            summary_sql!()
        );
        let got: (Option<String>, Option<String>) = c
            .query_row(&sql, [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        let want = (h.map(str::to_owned), s.map(str::to_owned));
        assert_eq!(got, want, "case {id}");
        // Cut apart in the program, from one inflating, the same.
        let sql = format!("SELECT {STORED_TEXTS} FROM articles a WHERE id = ?1");
        let cut = c.query_row(&sql, [id], |r| stored_texts(r, 0)).unwrap();
        assert_eq!(cut, want, "case {id}, cut in the program");
    }
}

#[test]
fn texts_packed_ahead_are_found_by_entry_and_content() {
    let first = "<p>One</p>".repeat(30);
    let second = "<p>Two</p>".repeat(30);
    let entries = [
        entry("a", Some(&first), None),
        entry("b", Some(&second), Some("<p>Two</p>")),
        entry("c", None, None),
    ];
    let packed = PackedTexts::of(&entries);
    assert_eq!(packed.len(), 2);
    for e in &entries[..2] {
        let t = Texts::of(e).unwrap();
        let got = packed.get(&e.key, &t);
        assert!(matches!(got, Cow::Borrowed(_)), "made ahead");
        assert_eq!(unpack(&got, t.bytes().len() as i64).unwrap(), t.bytes());
    }
    // Other texts than the ones it was made from (the entry processed
    // again, changed; another entry's), or an entry it does not know, are
    // compressed then, never taken for another.
    let other = "<p>Three</p>".repeat(30);
    for (key, e) in [
        ("a", entry("a", Some(&other), None)),
        ("a", entry("a", Some(&second), Some("<p>Two</p>"))),
        ("a", entry("a", Some(&first), Some("<p>One</p>"))),
        ("c", entry("c", Some(&first), None)),
    ] {
        let t = Texts::of(&e).unwrap();
        let got = packed.get(key, &t);
        assert!(matches!(got, Cow::Owned(_)), "{key}");
        assert_eq!(unpack(&got, t.bytes().len() as i64).unwrap(), t.bytes());
    }
}

proptest! {
    /// Whatever the stored sizes say (a row edited by hand), the texts cut
    /// apart in the program are what the SQL of the views gives.
    #[test]
    fn the_program_cuts_the_texts_as_the_sql_does(
        texts in "[a-z<>/ ]{0,40}",
        packed in any::<bool>(),
        content in proptest::option::of(0usize..50),
        summary in proptest::option::of(0usize..50),
    ) {
        let c = conn();
        let stored = if packed { pack(texts.as_bytes()) } else { texts.clone().into_bytes() };
        let sql = format!(
            "SELECT {}, {}, {STORED_TEXTS}
             FROM (SELECT ?1 AS texts_zlib, ?2 AS texts_size, ?3 AS content_html_size,
                          ?4 AS summary_html_size) a",
            html_sql!(),
            summary_sql!()
        );
        let (by_sql, by_program) = c
            .query_row(
                &sql,
                rusqlite::params![stored, texts.len(), content, summary],
                |r| {
                    let by_sql: (Option<String>, Option<String>) = (r.get(0)?, r.get(1)?);
                    Ok((by_sql, stored_texts(r, 2)?))
                },
            )
            .unwrap();
        prop_assert_eq!(by_program, by_sql);
    }
}

/// A value that does not inflate is an error, in the program as in SQL.
#[test]
fn a_value_that_does_not_inflate_is_an_error() {
    let c = conn();
    let read = c.query_row("SELECT x'00010203', 1000, 10, NULL", [], |r| {
        stored_texts(r, 0)
    });
    assert!(read.is_err());
}
