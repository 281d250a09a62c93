use super::*;
use crate::dedup::story::tests::fixed_facts;

/// The facts of a text as written, in order.
fn listed(title: &str, text: &str) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    each_fact(title, text, |kind, _, shown| {
        out.push((kind, shown.to_owned()))
    });
    out
}

/// The hashes of a text's figures.
fn figures(text: &str) -> Vec<u32> {
    facts("", text).figures().to_vec()
}

#[test]
fn figures_are_values_whatever_their_spelling() {
    assert_eq!(
        figures("The bill came to 1,250 euros."),
        figures("The bill came to 1250 euros.")
    );
    assert_eq!(
        figures("It will cost £6m over two years."),
        figures("It will cost 6 million pounds over two years.")
    );
    assert_eq!(
        figures("It will cost £6m over two years."),
        figures("It will cost 6,000,000 pounds over two years.")
    );
    assert_eq!(
        figures("They finished 19th out of the field."),
        figures("They finished 19 out of the field.")
    );
    assert_ne!(
        figures("A quake of magnitude 6.1 hit."),
        figures("A quake of magnitude 6.2 hit.")
    );
    // Small counts and years tell nothing about the event.
    assert!(figures("In 2024 three of the 7 members and 10 others left.").is_empty());
    // Decimals are kept however small; grouped four-digit numbers are no years.
    assert_eq!(
        figures("Rates rose to 4.75 from 4.5 as 2,024 people watched.").len(),
        3
    );
}

#[test]
fn names_are_capitalised_words_inside_sentences() {
    let found = listed(
        "Putin Bluffing On Threats",
        "The Kremlin’s threats are a bluff, Ukraine’s president Volodymyr Zelenskyy said on \
         Monday. Troops hold 90 settlements, he told Mr Dobriak. “We are winning,” he said.",
    );
    let names: Vec<&str> = found
        .iter()
        .filter(|(k, _)| *k == Kind::Name)
        .map(|(_, s)| s.as_str())
        .collect();
    // Not the title (every word capitalised), not sentence openings ("The",
    // "Troops", "We"), not days or titles ("Monday", "Mr").
    assert_eq!(
        names,
        ["Kremlin", "Ukraine", "Volodymyr", "Zelenskyy", "Dobriak"]
    );
    assert_eq!(found[0], (Kind::Figure, "90 settlements".to_owned()));
    // A name's first letters identify it: Ukraine and Ukrainian are one.
    let a = facts(
        "",
        "Troops from Ukraine and Russia met in Kursk on the border.",
    );
    let b = facts(
        "",
        "Forces of the Ukrainian and Russian armies met in Kursk near here.",
    );
    assert_eq!(a.names(), b.names());
}

#[test]
fn language_tags_tell_languages_and_scripts_apart() {
    let en = facts(
        "",
        "The council said that the road was closed for the winter and is to reopen.",
    );
    let fr = facts(
        "",
        "Le conseil a dit que la route est fermée pour les mois d'hiver et une partie du pont.",
    );
    let de = facts(
        "",
        "Der Rat sagte, dass die Straße im Winter nicht offen ist und mit dem Bau begonnen wird.",
    );
    assert_eq!(en.lang(), 1);
    assert_eq!(fr.lang(), 2);
    assert_eq!(de.lang(), 3);
    assert!(same_language(en.lang(), en.lang()));
    assert!(!same_language(en.lang(), fr.lang()));
    // A Latin text too short to tell counts as any language in Latin letters.
    assert!(same_language(en.lang(), 100));
    let zh = facts(
        "",
        "北京市政府周二宣布，从明年起地铁票价将上涨百分之十五，影响约1200万乘客。",
    );
    assert_eq!(zh.lang(), 105);
    assert!(!same_language(zh.lang(), en.lang()));
    // No capital letters, no names: facts of such scripts never match alone.
    assert!(zh.names().is_empty());
}

#[test]
fn input_is_read_up_to_a_bound() {
    // Far more than the bound: later figures are never read, and the
    // sketch stays its fixed size.
    let many: String = (0..50_000)
        .map(|i| format!("Rovers paid {} pounds to Castleton. ", 1_000 + i))
        .collect();
    let f = facts("", &many);
    assert_eq!(f.figures().len(), MAX_FIGURES);
    assert!(f.names().len() <= MAX_NAMES);
    let mut read = 0;
    each_fact("", &many, |kind, _, _| {
        read += usize::from(kind == Kind::Figure)
    });
    assert!(read <= MAX_TOKENS, "{read} figures read");
    // Odd input never panics.
    for odd in [
        "",
        "1,",
        "1.",
        ",1",
        "9.9.9.9",
        "’s",
        "'",
        "１２３",
        "Ⅻ",
        "Ǆemal said.",
    ] {
        facts(odd, odd);
    }
}

#[test]
fn sketches_keep_the_smallest_hashes_and_compare_on_them() {
    let a = [1, 3, 5, 7];
    let b = [3, 5, 9];
    assert_eq!(
        overlap(&a, &b, 8),
        Overlap {
            shared: 2,
            left: 4,
            right: 3
        }
    );
    // Full at cap 3: only facts up to its largest kept (5) compare.
    assert_eq!(
        overlap(&a[..3], &b, 3),
        Overlap {
            shared: 2,
            left: 3,
            right: 2
        }
    );
}

#[test]
fn shared_facts_are_listed_as_the_first_text_writes_them() {
    let a = (
        "Quake",
        "Rescuers in the town of Merin said 1,250 homes were damaged and 37 people hurt in Tarsa.",
    );
    let b = (
        "Quake",
        "About 1250 houses were damaged in Tarsa province, officials in Merin told us on the phone.",
    );
    let shared = shared(a, b);
    assert_eq!(
        shared,
        [
            (Kind::Figure, "1,250 homes".to_owned()),
            (Kind::Name, "Merin".to_owned()),
            (Kind::Name, "Tarsa".to_owned()),
        ]
    );
}

#[test]
fn encoding_keeps_the_facts_kept_and_refuses_bad_counts_and_lengths() {
    let f = facts(
        "",
        "Rovers paid 32 million to Castleton for Okafor on Tuesday in Northgate.",
    );
    assert_eq!((f.names().len(), f.figures().len()), (3, 1));
    let mut bytes = Vec::new();
    f.write(&mut bytes);
    assert_eq!(bytes.len(), 7 + 4 * 4);
    assert_eq!(Facts::read(&bytes), Some(f));
    for n in 0..bytes.len() {
        assert_eq!(Facts::read(&bytes[..n]), None, "{n}");
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 4]);
    assert_eq!(Facts::read(&longer), None);
    let mut bad = bytes.clone();
    bad[1] = MAX_NAMES as u8 + 1;
    assert_eq!(Facts::read(&bad), None);
    let mut bad = bytes.clone();
    bad[2] = MAX_FIGURES as u8 + 1;
    assert_eq!(Facts::read(&bad), None);
    // The fixed layout: the same facts, and the same refusal of counts
    // out of range.
    let mut fixed = fixed_facts(&f);
    assert_eq!(fixed.len(), Facts::FIXED_LEN);
    assert_eq!(Facts::read(&fixed), Some(f));
    fixed[2] = MAX_FIGURES as u8 + 1;
    assert_eq!(Facts::read(&fixed), None);
}

/// Any facts: counts from none to full, hashes ascending and distinct, as
/// `facts` makes them (unused slots zero).
fn any_facts() -> impl proptest::strategy::Strategy<Value = Facts> {
    use proptest::collection::btree_set;
    use proptest::prelude::*;
    (
        any::<u8>(),
        any::<u32>(),
        btree_set(1u32.., 0..=MAX_NAMES),
        btree_set(1u32.., 0..=MAX_FIGURES),
    )
        .prop_map(|(lang, hour, names, figures)| {
            let mut f = Facts {
                lang,
                hour,
                n_names: names.len() as u8,
                n_figures: figures.len() as u8,
                ..Facts::NONE
            };
            for (slot, v) in f.names.iter_mut().zip(names) {
                *slot = v;
            }
            for (slot, v) in f.figures.iter_mut().zip(figures) {
                *slot = v;
            }
            f
        })
}

/// The tokenizer's definition, one character at a time: what `tokenize`
/// must give, however fast it reads.
fn tokens_by_definition(block: &str, budget: usize) -> Vec<(usize, usize, bool)> {
    let (mut out, mut opens, mut start) = (Vec::new(), true, None::<usize>);
    let chars: Vec<(usize, char)> = block.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let next = chars.get(n + 1).map(|&(_, c)| c);
        let joins = (c.is_alphanumeric() && !words::is_ideograph(c))
            || (start.is_some()
                && matches!(c, '\'' | '’')
                && next.is_some_and(char::is_alphabetic))
            || (matches!(c, ',' | '.')
                && start.is_some_and(|s| block.as_bytes()[s].is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit()));
        if joins {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push((s, i, opens));
            opens = false;
        }
        if matches!(
            c,
            '.' | '!' | '?' | ':' | ';' | '"' | '“' | '‘' | '«' | '(' | '—'
        ) || words::is_ideograph(c)
        {
            opens = true;
        }
    }
    out.extend(start.map(|s| (s, block.len(), opens)));
    out.truncate(budget);
    out
}

proptest::proptest! {
    /// Any facts read back from their compact bytes, and from the fixed
    /// layout that prints had until schema 22.
    #[test]
    fn any_facts_read_back_from_either_layout(f in any_facts()) {
        let mut compact = Vec::new();
        f.write(&mut compact);
        proptest::prop_assert_eq!(compact.len(), 7 + 4 * (f.names().len() + f.figures().len()));
        proptest::prop_assert_eq!(Facts::read(&compact), Some(f));
        let fixed = fixed_facts(&f);
        proptest::prop_assert_eq!(fixed.len(), Facts::FIXED_LEN);
        proptest::prop_assert_eq!(Facts::read(&fixed), Some(f));
    }

    #[test]
    fn tokens_are_what_the_definition_says(
        block in "[a-zA-Z0-9 ,.'’!?:;\"“‘«(—é日本ДΩ٣²\u{300}\t\n-]{0,60}",
        budget in 0usize..20,
    ) {
        let (mut out, mut left) = (Vec::new(), budget);
        tokenize(&block, &mut out, &mut left);
        let got: Vec<_> = out.iter().map(|t| (t.start, t.end, t.opens)).collect();
        proptest::prop_assert_eq!(got, tokens_by_definition(&block, budget));
        proptest::prop_assert_eq!(left, budget - out.len());
    }
}
