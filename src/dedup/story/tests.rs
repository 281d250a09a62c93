use super::*;

const REPORT: &str = "The city council approved a new cycle route along the river on \
    Tuesday, after three years of consultation with residents and traders.\n\n\
    The route will run for 4.2 miles from the railway station to the university \
    campus and is expected to cost £6m, most of it paid by a government grant.\n\n\
    Work will start in the spring and should be finished by the end of 2026, \
    the council's transport chief told the meeting.";

#[test]
fn bytes_round_trip_and_refuse_other_versions() {
    let print = fingerprint("Cycle route approved", REPORT);
    let bytes = print.to_bytes();
    assert_eq!(Fingerprint::from_bytes(&bytes), Ok(print));
    let mut old = bytes.clone();
    old[0] = FINGERPRINT_VERSION + 1;
    assert_eq!(
        Fingerprint::from_bytes(&old),
        Err(DecodeError::Version {
            found: FINGERPRINT_VERSION + 1
        })
    );
    let short = &bytes[..bytes.len() - 1];
    assert_eq!(
        Fingerprint::from_bytes(short),
        Err(DecodeError::Length { found: short.len() })
    );
}

#[test]
fn page_furniture_does_not_change_the_fingerprint() {
    let page = format!(
        "Home | News | Local\nTuesday 4 March 2025\nBy Staff Reporter\n\n{REPORT}\n\n\
         Image caption,\nThe river path today\nAdvertisement\n\
         Read more: Bus fares to rise in April\nShare this article\n© 2025 The Post"
    );
    let print = fingerprint("Cycle route approved", REPORT);
    assert_eq!(fingerprint("Cycle route approved", &page), print);
    assert_eq!(
        verdict(&print, &print, DEFAULT_THRESHOLD),
        Verdict::Same(1.0)
    );
}

#[test]
fn short_items_never_merge_and_have_no_band_keys() {
    let headline = fingerprint("Cycle route approved", "");
    assert_eq!(band_keys(&headline).count(), 0);
    assert_eq!(verdict(&headline, &headline, 0.0), Verdict::TooShort);
    assert_eq!(similarity(&fingerprint("", ""), &fingerprint("", "")), 0.0);
}

#[test]
fn band_keys_carry_their_band_number() {
    let print = fingerprint("Cycle route approved", REPORT);
    let keys: Vec<i32> = band_keys(&print).collect();
    assert_eq!(keys.len(), BANDS);
    for (band, key) in keys.iter().enumerate() {
        assert_eq!(key_band(*key), band as u32);
        // What SQL reads of the key as stored (sign-extended).
        assert_eq!((i64::from(*key) >> 27) & 31, band as i64);
    }
    // Bands 16–19 are negative, so keys span all 32 bits.
    assert!(keys[..16].iter().all(|k| *k >= 0));
    assert!(keys[16..].iter().all(|k| *k < 0));
}

#[test]
fn keys_are_the_band_and_the_top_27_bits_of_the_hash() {
    assert_eq!(index_key(0, u64::MAX), (1 << 27) - 1);
    assert_eq!(index_key(1, 0), 1 << 27);
    assert_eq!(index_key(3, 0x8000_0000_0000_0000), 3 << 27 | 1 << 26);
    assert_eq!(index_key(FACT_BAND, 0), -(1 << 27));
    assert_eq!(index_key(FACT_BAND, u64::MAX), -1);
    assert_eq!(key_band(index_key(19, 12_345 << 40)), 19);
}

#[test]
fn other_numbers_keep_templates_apart() {
    let next = REPORT
        .replace("4.2", "3.1")
        .replace("£6m", "£4m")
        .replace("2026", "2027");
    let (a, b) = (fingerprint("Route", REPORT), fingerprint("Route", &next));
    assert!(similarity(&a, &b) >= DEFAULT_THRESHOLD);
    assert!(matches!(
        verdict(&a, &b, DEFAULT_THRESHOLD),
        Verdict::NumbersDiffer(_)
    ));
    // One number corrected out of three is an update, not another item.
    let corrected = fingerprint("Route", &REPORT.replace("£6m", "£6.5m"));
    assert!(same_story(&a, &corrected, DEFAULT_THRESHOLD).is_some());
}

/// One event told twice in other words (also used by the store's tests).
pub(crate) const WIRE: &str = "Firefighters were battling a wildfire in the Serra Alta hills on \
    Saturday after it burned 4,300 hectares and forced 1,200 people from their homes, \
    officials said.\n\n\
    The town of Valdoria was evacuated overnight. Mayor Lucia Ferrante said 350 \
    firefighters and 14 aircraft were at work, and that temperatures reached 41.5C.";

pub(crate) const RETOLD: &str = "Residents of Valdoria fled in the night as flames crept towards \
    their town, in a blaze that has now consumed some 4,300 hectares of the Serra Alta.\n\n\
    About 1,200 people have left. With 350 firefighters and 14 planes deployed and a high \
    of 41.5C, Lucia Ferrante, the mayor, said crews faced a long weekend.";

fn dated(title: &str, text: &str, hour: i64) -> Fingerprint {
    let at = chrono::DateTime::from_timestamp(1_750_000_000 + hour * 3600, 0).unwrap();
    fingerprint(title, text).dated(at)
}

#[test]
fn a_retelling_merges_by_its_facts_and_is_found_by_a_fact_key() {
    let a = dated("Wildfire in Serra Alta", WIRE, 0);
    let b = dated("Valdoria evacuated", RETOLD, 5);
    assert!(similarity(&a, &b) < DEFAULT_THRESHOLD);
    let verdict = verdict(&a, &b, DEFAULT_THRESHOLD);
    assert!(
        matches!(verdict, Verdict::SameFacts(_, f) if f >= FACT_THRESHOLD),
        "{verdict:?}"
    );
    let keys: Vec<i32> = index_keys(&a).collect();
    assert_eq!(keys.len(), BANDS + FACT_KEYS);
    assert!(fact_keys(&b).any(|k| keys.contains(&k)));
    assert!(fact_keys(&a).all(|k| key_band(k) == FACT_BAND));
    assert!(fact_keys(&a).all(|k| (i64::from(k) >> 27) & 31 == 31));
}

#[test]
fn other_figures_days_later_or_other_languages_stay_apart() {
    let a = dated("Wildfire in Serra Alta", WIRE, 0);
    // The same names with other figures: another fire.
    let other = RETOLD
        .replace("4,300", "780")
        .replace("1,200", "230")
        .replace("350", "190");
    let b = dated("Valdoria evacuated", &other, 5);
    assert_eq!(facts_verdict(&a, &b), None);
    assert!(matches!(
        verdict(&a, &b, DEFAULT_THRESHOLD),
        Verdict::Dissimilar(_)
    ));
    // The same facts three days later: a follow-up.
    let later = dated("Valdoria evacuated", RETOLD, 72);
    assert!(fact_match(&a, &later).is_some());
    assert_eq!(facts_verdict(&a, &later), None);
    // Undated items are judged on their facts alone.
    assert!(facts_verdict(&fingerprint("", WIRE), &later).is_some());
    // The same figures and names in another language: not by facts alone.
    let french = "Les pompiers de Valdoria ont lutté contre le feu dans la Serra Alta, \
        qui a brûlé 4,300 hectares; 1,200 habitants sont partis et 350 pompiers et 14 \
        avions sont sur place, a dit la maire Lucia Ferrante, avec une chaleur de 41.5C \
        dans les collines et une nuit très longue pour les familles de la ville.";
    let c = dated("Feu dans la Serra Alta", french, 1);
    assert!(fact_match(&a, &c).is_some());
    assert_eq!(facts_verdict(&a, &c), None);
}

#[test]
fn fingerprints_stored_before_facts_read_with_none() {
    let print = fingerprint("Wildfire", WIRE);
    let bytes = print.to_bytes();
    let old = Fingerprint::from_bytes(&bytes[..Fingerprint::LEXICAL_LEN]).unwrap();
    assert_eq!(old.facts(), &facts::Facts::NONE);
    assert_eq!(similarity(&old, &print), 1.0);
    assert_eq!(fact_keys(&old).count(), 0);
    assert_eq!(verdict(&old, &print, DEFAULT_THRESHOLD), Verdict::Same(1.0));
}

/// The version 1 encoding of the print of `title` and `text` (32-bit
/// slots), as that version wrote it; `facts: false` for one stored before
/// facts existed.
pub(crate) fn v1_bytes(title: &str, text: &str, facts: bool) -> Vec<u8> {
    let (minima, numbers, words) = minhash(title, text);
    let mut out = vec![1];
    out.extend_from_slice(&words.to_le_bytes());
    out.extend_from_slice(&numbers.to_le_bytes());
    for m in minima {
        out.extend_from_slice(&m.to_le_bytes());
    }
    if facts {
        out.extend(fixed_facts(&fingerprint(title, text).facts));
    }
    out
}

/// Facts in the fixed layout that prints had until schema 22: every slot,
/// zeros for the unused (151 bytes).
pub(crate) fn fixed_facts(f: &facts::Facts) -> Vec<u8> {
    let mut out = vec![f.lang, f.n_names, f.n_figures];
    for v in [f.hour].iter().chain(&f.names).chain(&f.figures) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// `print` as schema 21 stored it: its facts in the fixed layout (292
/// bytes).
pub(crate) fn fixed_bytes(print: &Fingerprint) -> Vec<u8> {
    let mut out = print.to_bytes();
    out.truncate(Fingerprint::LEXICAL_LEN);
    out.extend(fixed_facts(&print.facts));
    out
}

/// The index keys of `print` as schema 21 stored them: 64 bits, the band
/// number in the top six (63 for fact keys) and the hash's top 58 below.
pub(crate) fn wide_keys(print: &Fingerprint) -> Vec<i64> {
    let wide = |band: u64, hash: u64| (band << 58 | hash >> 6) as i64;
    let bands = print
        .minhash
        .chunks_exact(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let bytes: Vec<u8> = rows.iter().flat_map(|r| r.to_le_bytes()).collect();
            wide(band as u64, xxh3_64_with_seed(&bytes, band as u64))
        });
    let figures = print
        .facts
        .figures()
        .iter()
        .map(|figure| wide(63, xxh3_64_with_seed(&figure.to_le_bytes(), 63)));
    // As many of each as today's keys: the same rules decide which exist.
    bands
        .take(band_keys(print).count())
        .chain(figures.take(fact_keys(print).count()))
        .collect()
}

#[test]
fn version_1_prints_read_as_the_version_2_print_of_the_same_text() {
    for (title, text) in [
        ("Cycle route approved", REPORT),
        ("Wildfire in Serra Alta", WIRE),
        ("Valdoria evacuated", RETOLD),
        ("", ""),
    ] {
        let now = fingerprint(title, text);
        let old = v1_bytes(title, text, true);
        assert_eq!(old.len(), 412);
        assert_eq!(Fingerprint::from_bytes(&old), Ok(now));
        // Stored before facts: the same MinHash, no facts.
        let older = Fingerprint::from_bytes(&v1_bytes(title, text, false)).unwrap();
        assert_eq!(older.minhash, now.minhash);
        assert_eq!(older.facts(), &facts::Facts::NONE);
    }
    // A version 1 length under the version 2 byte, and the reverse, are refused.
    let mut mixed = v1_bytes("Cycle route approved", REPORT, true);
    mixed[0] = FINGERPRINT_VERSION;
    assert_eq!(
        Fingerprint::from_bytes(&mixed),
        Err(DecodeError::Length { found: 412 })
    );
    let mut mixed = fingerprint("Cycle route approved", REPORT).to_bytes();
    mixed[0] = 1;
    assert!(Fingerprint::from_bytes(&mixed).is_err());
    assert_eq!(Fingerprint::MAX_ENCODED_LEN, 292);
}

#[test]
fn prints_keep_only_the_facts_they_have_and_schema_20_prints_still_read() {
    for (title, text) in [
        ("Cycle route approved", REPORT),
        ("Wildfire in Serra Alta", WIRE),
        ("Valdoria evacuated", RETOLD),
        ("", ""),
    ] {
        let print = dated(title, text, 3);
        let bytes = print.to_bytes();
        let facts = print.facts().names().len() + print.facts().figures().len();
        assert_eq!(bytes.len(), Fingerprint::LEXICAL_LEN + 7 + 4 * facts);
        assert!(bytes.len() < Fingerprint::MAX_ENCODED_LEN, "{title}");
        assert_eq!(Fingerprint::from_bytes(&bytes), Ok(print));
        // The same print as schema 21 stored it reads back the same.
        let fixed = fixed_bytes(&print);
        assert_eq!(fixed.len(), 292);
        assert_eq!(Fingerprint::from_bytes(&fixed), Ok(print));
    }
    // Facts to keep, and still under half the fixed layout's.
    let wire = fingerprint("Wildfire in Serra Alta", WIRE);
    assert!(wire.facts().figures().len() >= 3 && wire.facts().names().len() >= 3);
    assert!(wire.to_bytes().len() - Fingerprint::LEXICAL_LEN < 151 / 2);
}

#[test]
fn prints_of_any_other_length_are_refused() {
    let print = fingerprint("Wildfire in Serra Alta", WIRE);
    let mut bytes = print.to_bytes();
    let own = bytes.len();
    bytes.resize(Fingerprint::MAX_ENCODED_LEN + 8, 0);
    for n in 0..bytes.len() {
        // Its own length, the lexical part alone and the fixed layout's
        // length are the ones that read.
        if [own, Fingerprint::LEXICAL_LEN, Fingerprint::MAX_ENCODED_LEN].contains(&n) {
            assert!(Fingerprint::from_bytes(&bytes[..n]).is_ok(), "{n}");
        } else {
            assert_eq!(
                Fingerprint::from_bytes(&bytes[..n]),
                Err(DecodeError::Length { found: n }),
                "{n}"
            );
        }
    }
}

proptest::proptest! {
    /// Any text: the version 1 print and the schema 21 layout read back
    /// as this version's, and this version's round-trips.
    #[test]
    fn any_texts_print_reads_the_same_in_both_versions(
        words in proptest::collection::vec("[A-Za-z0-9]{1,9}[.,]?", 0..120),
        title in "[A-Za-z ]{0,40}",
    ) {
        let text = words.join(" ");
        let now = fingerprint(&title, &text);
        proptest::prop_assert_eq!(Fingerprint::from_bytes(&v1_bytes(&title, &text, true)), Ok(now));
        proptest::prop_assert_eq!(Fingerprint::from_bytes(&now.to_bytes()), Ok(now));
        proptest::prop_assert_eq!(Fingerprint::from_bytes(&fixed_bytes(&now)), Ok(now));
    }
}
