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
    assert_eq!(
        Fingerprint::from_bytes(&bytes[1..]),
        Err(DecodeError::Length {
            found: Fingerprint::ENCODED_LEN - 1
        })
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
    let keys: Vec<u64> = band_keys(&print).collect();
    assert_eq!(keys.len(), BANDS);
    for (band, key) in keys.iter().enumerate() {
        assert_eq!(key >> 58, band as u64);
    }
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
    let keys: Vec<u64> = index_keys(&a).collect();
    assert_eq!(keys.len(), BANDS + FACT_KEYS);
    assert!(fact_keys(&b).any(|k| keys.contains(&k)));
    assert!(fact_keys(&a).all(|k| k >> 58 == 63));
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
        fingerprint(title, text).facts.write(&mut out);
    }
    out
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
    assert_eq!(Fingerprint::ENCODED_LEN, 292);
}

proptest::proptest! {
    /// Any text: the version 1 print reads back as this version's, and
    /// this version's round-trips.
    #[test]
    fn any_texts_print_reads_the_same_in_both_versions(
        words in proptest::collection::vec("[A-Za-z0-9]{1,9}[.,]?", 0..120),
        title in "[A-Za-z ]{0,40}",
    ) {
        let text = words.join(" ");
        let now = fingerprint(&title, &text);
        proptest::prop_assert_eq!(Fingerprint::from_bytes(&v1_bytes(&title, &text, true)), Ok(now));
        proptest::prop_assert_eq!(Fingerprint::from_bytes(&now.to_bytes()), Ok(now));
    }
}
