use super::*;

fn url() -> Url {
    Url::parse("https://news.example/world/2024/story.html").unwrap()
}

fn para(i: usize) -> String {
    format!(
        "<p>Paragraph {i} of the story says something long enough to count as prose, \
         with commas, clauses and the sort of detail that readers came for.</p>"
    )
}

fn page(body: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Story</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>{body}\
         <footer>Copyright footer text</footer></body></html>"
    )
}

fn article_page() -> String {
    let paras: String = (0..8).map(para).collect();
    page(&format!(
        "<article><h1>Story</h1>{paras}<p><a href=\"../more.html\">a link</a></p>\
         <script>alert(1)</script><div class=\"promo\">Subscribe to the newsletter</div></article>"
    ))
}

fn run(html: &str, recipe: &Recipe) -> Result<Extracted, ExtractError> {
    extract(
        html.as_bytes(),
        Some("text/html; charset=utf-8"),
        &url(),
        recipe,
        &Cleaner::new(),
    )
}

#[test]
fn readability_keeps_the_paragraphs_and_cleans_like_feed_content() {
    let got = run(&article_page(), &Recipe::default()).unwrap();
    for i in 0..8 {
        assert!(
            got.text.contains(&format!("Paragraph {i} of")),
            "{}",
            got.text
        );
    }
    assert!(!got.text.contains("Copyright footer"), "{}", got.text);
    assert!(!got.html.contains("<script"), "{}", got.html);
    assert!(!got.html.contains("alert(1)"), "{}", got.html);
    // Relative links made absolute against the page, rel added by the cleaner.
    assert!(
        got.html
            .contains("href=\"https://news.example/world/more.html\""),
        "{}",
        got.html
    );
    assert!(got.html.contains("noopener"), "{}", got.html);
}

#[test]
fn a_selector_takes_the_outermost_matches_and_remove_goes_first() {
    let html = page(&format!(
        "<div class=\"body\">{}<div class=\"body\">{}</div><aside class=\"ad\">Buy now</aside></div>\
         <div class=\"other\">{}</div>",
        para(1),
        para(2),
        para(3)
    ));
    let recipe = Recipe {
        selector: Some("div.body".into()),
        remove: vec![".ad".into()],
        ..Recipe::default()
    };
    let got = run(&html, &recipe).unwrap();
    assert_eq!(
        got.text.matches("Paragraph 2 of").count(),
        1,
        "{}",
        got.text
    );
    assert!(got.text.contains("Paragraph 1 of"));
    assert!(!got.text.contains("Paragraph 3 of"));
    assert!(!got.text.contains("Buy now"));
    assert!(got.title.is_empty());
}

#[test]
fn remove_applies_to_readability_too() {
    let html = article_page().replace(&para(3), &format!("<div class=\"x\">{}</div>", para(3)));
    let recipe = Recipe {
        selector: None,
        remove: vec!["div.x".into()],
        ..Recipe::default()
    };
    let got = run(&html, &recipe).unwrap();
    assert!(!got.text.contains("Paragraph 3 of"), "{}", got.text);
    assert!(got.text.contains("Paragraph 4 of"), "{}", got.text);
}

#[test]
fn failures_are_named() {
    let html = article_page();
    let err = |ct: Option<&str>, body: &[u8], recipe: &Recipe| {
        extract(body, ct, &url(), recipe, &Cleaner::new()).unwrap_err()
    };
    assert_eq!(
        err(Some("application/pdf"), html.as_bytes(), &Recipe::default()),
        ExtractError::NotHtml("application/pdf".into())
    );
    assert!(matches!(
        err(None, b"%PDF-1.4 binary", &Recipe::default()),
        ExtractError::NotHtml(_)
    ));
    let bad = Recipe {
        selector: Some("div >".into()),
        remove: vec![],
        ..Recipe::default()
    };
    assert!(matches!(
        err(Some("text/html"), html.as_bytes(), &bad),
        ExtractError::BadSelector(m) if m.contains("div >")
    ));
    assert!(bad.validate().unwrap_err().contains("div >"));
    let none = Recipe {
        selector: Some("main.nothing".into()),
        remove: vec![],
        ..Recipe::default()
    };
    assert_eq!(
        err(Some("text/html"), html.as_bytes(), &none),
        ExtractError::NoMatch("main.nothing".into())
    );
    // Navigation only: no article.
    assert!(matches!(
        err(Some("text/html"), page("").as_bytes(), &Recipe::default()),
        ExtractError::NoArticle(_)
    ));
}

#[test]
fn oversized_and_deeply_nested_pages_are_refused_before_parsing() {
    let mut huge = article_page();
    huge.push_str(&" ".repeat(MAX_PAGE_BYTES));
    assert_eq!(
        run(&huge, &Recipe::default()).unwrap_err(),
        ExtractError::TooLarge
    );
    let deep = page(&format!(
        "{}{}{}",
        "<div>".repeat(5_000),
        article_page(),
        "</div>".repeat(5_000)
    ));
    assert!(matches!(
        run(&deep, &Recipe::default()).unwrap_err(),
        ExtractError::TooComplex(_)
    ));
    // Many flat elements: refused by count, not worked through.
    let flat = page(&"<span>x</span>".repeat(MAX_ELEMENTS + 10));
    assert!(matches!(
        run(&flat, &Recipe::default()).unwrap_err(),
        ExtractError::TooComplex(m) if m.contains("elements")
    ));
}

/// Work grows linearly with the page: a page of 8 times the paragraphs
/// yields 8 times the text, and takes well under 8 × 8 times as long.
#[test]
fn extraction_time_grows_linearly_with_the_page() {
    let sized = |n: usize| {
        let paras: String = (0..n).map(para).collect();
        page(&format!("<article>{paras}</article>"))
    };
    let time = |html: &str| {
        let start = std::time::Instant::now();
        let got = run(html, &Recipe::default()).unwrap();
        (start.elapsed(), got.text.len())
    };
    let (small_html, big_html) = (sized(200), sized(1600));
    // Warm up, then take the best of three of each.
    time(&small_html);
    let best = |html: &str| (0..3).map(|_| time(html)).min().unwrap();
    let (t_small, len_small) = best(&small_html);
    let (t_big, len_big) = best(&big_html);
    assert!(len_big > 7 * len_small, "{len_small} → {len_big}");
    let ratio = t_big.as_secs_f64() / t_small.as_secs_f64().max(1e-6);
    assert!(ratio < 64.0, "8× the page took {ratio:.1}× the time");
}
