use super::*;

fn title(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    title_words(text, |w| out.push(w.hash));
    out
}

fn hashes(words: &[&str]) -> Vec<u64> {
    words.iter().map(|w| fnv(w.as_bytes())).collect()
}

#[test]
fn stopwords_are_normalized_and_unique() {
    for word in STOPWORDS {
        assert_eq!(
            title(word),
            Vec::<u64>::new(),
            "{word} is read as a stopword"
        );
    }
    let stored = STOPWORD_TABLE.iter().filter(|&&h| h != 0).count();
    assert_eq!(stored, STOPWORDS.len(), "stopwords are distinct");
    assert!(
        STOPWORDS.iter().all(|w| w.len() <= 10),
        "longer words skip the lookup"
    );
    assert!(!is_stopword(fnv(b"council")));
}

#[test]
fn words_are_folded_and_stripped() {
    assert_eq!(
        title("The Café’s CRÈME brûlée, Straße & Zelenskyy's “red lines” won't stop"),
        hashes(&[
            "cafe",
            "creme",
            "brulee",
            "strasse",
            "zelenskyy",
            "red",
            "lines",
            "stop"
        ])
    );
}

#[test]
fn numbers_are_kept_and_normalized() {
    let mut words = Vec::new();
    title_words("Over 1,250 km; version 1.2.3 (a 10km run) in 2024.", |w| {
        words.push(w)
    });
    let numeric: Vec<u64> = words.iter().filter(|w| w.numeric).map(|w| w.hash).collect();
    assert_eq!(numeric, hashes(&["1250", "1.2.3", "10km", "2024"]));
    assert_eq!(words.len(), 7, "km, version and run are words too");
}

#[test]
fn ideographs_are_words() {
    assert_eq!(title("東京で地震"), hashes(&["東", "京", "で", "地", "震"]));
}

#[test]
fn boilerplate_and_short_blocks_are_not_prose() {
    let text = "Tuesday, November 5, 2024\n\nBy Jane Roe, Political Editor\n\
        Advertisement\nThe council approved the budget on Monday after a long debate.\n\
        Image:\nA crowd outside the town hall. Pic: Staff\n\
        Read more: Council tax to rise by 4%\nRelated stories\nBus lanes delayed again\n\
        Subscribers to the paper can read the full report in print.";
    let mut blocks = Vec::new();
    for_each_block(text, |block, prose| {
        if prose {
            blocks.push(block.trim().to_owned())
        }
    });
    assert_eq!(
        blocks,
        [
            "The council approved the budget on Monday after a long debate.",
            "Subscribers to the paper can read the full report in print."
        ]
    );
}

#[test]
fn text_without_prose_is_read_whole() {
    let mut count = 0;
    body_words("Rain later\nHighs of 14C", usize::MAX, |_| count += 1);
    assert_eq!(count, 4);
}

#[test]
fn body_stops_at_max_words() {
    let mut count = 0;
    let text = "One two three four five six seven eight nine ten eleven twelve.";
    body_words(text, 5, |_| count += 1);
    assert_eq!(count, 5);
}
