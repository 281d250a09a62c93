//! Generated articles: the set's stories and the shared news article as
//! other sites and feeds republish them.

use super::Article;

/// The id of the shared news article, as hard negatives name it.
pub const NEWS_ARTICLE: &str = "news-article";

/// The same article as other sites and feeds republish it.
pub fn republished(article: &Article) -> Vec<Article> {
    let paragraphs: Vec<&str> = article.text.trim().split("\n\n").collect();
    let variant = |kind: &str, title: String, text: String| Article {
        id: format!("{}+{kind}", article.id),
        title,
        text,
        published: article.published,
    };
    let mut captioned = Vec::new();
    for (i, paragraph) in paragraphs.iter().enumerate() {
        captioned.push(paragraph.to_string());
        match i {
            0 => captioned.push("Image source, Getty Images\nImage caption,\nFile picture".into()),
            1 => captioned.push("Advertisement".into()),
            2 => captioned.push(
                "Read more:\nNorthgate named among best places to live\nHospital parking charges rise"
                    .into(),
            ),
            _ => {}
        }
    }
    vec![
        // Tracking parameters and a new guid change the URL and id, not the text.
        variant("copy", article.title.clone(), article.text.clone()),
        variant(
            "navigation",
            article.title.clone(),
            format!(
                "Skip to main content\nHome | News | Sport | Business | Weather\nNorthgate Gazette\n\n\
                 {}\n\nShare this article\nFacebook\nEmail\n\nMost read\n\
                 Bins to be collected fortnightly from April\nMan charged after Mill Lane crash\n\
                 Rovers fans queue overnight for cup tickets\n\n\
                 © 2024 Northgate Media Ltd. All rights reserved.",
                article.text.trim()
            ),
        ),
        variant("captions", article.title.clone(), captioned.join("\n\n")),
        variant(
            "dateline",
            format!("UPDATE 1-{} | The Courier", article.title),
            format!(
                "Published 14 March 2024, 07:55 GMT\nBy Staff Reporter\nLast updated 2 hours ago\n\n{}",
                article.text.trim()
            ),
        ),
    ]
}

/// The shared news article as scraped, and as other feeds carry it.
pub fn news_variants(page: &str) -> Vec<Article> {
    let mut lines = page.lines().filter(|l| !l.trim().is_empty());
    let _date = lines.next().unwrap_or_default();
    let title = lines.next().unwrap_or_default().trim().to_owned();
    let body = page
        .split_once(title.as_str())
        .map_or(page, |(_, rest)| rest)
        .trim();
    let article = |kind: &str, title: &str, text: String| Article {
        id: if kind.is_empty() {
            NEWS_ARTICLE.into()
        } else {
            format!("{NEWS_ARTICLE}+{kind}")
        },
        title: title.to_owned(),
        text,
        published: None,
    };
    // What an agency copy keeps: the story's own paragraphs, no furniture.
    let story_paragraphs: Vec<&str> = body
        .split("\n\n")
        .filter(|p| p.split_whitespace().count() >= 12 && !p.contains("Pic:"))
        .filter(|p| !p.contains("(AP Photo") && !p.contains("MANDATORY CREDIT"))
        .collect();
    let short_title = title.split(" – ").next().unwrap_or(&title).to_owned();
    let mut renavigated = Vec::new();
    for (i, paragraph) in story_paragraphs.iter().enumerate() {
        renavigated.push(paragraph.to_string());
        if i == 1 {
            renavigated.push("Advertisement".into());
        }
        if i == 4 {
            renavigated.push(
                "A woman walks past a damaged apartment block in the east of the country.".into(),
            );
            renavigated.push("Related: What we know about the incursion".into());
        }
    }
    let mut updated = story_paragraphs
        .iter()
        .map(|p| p.replace("53,000", "55,000"))
        .collect::<Vec<_>>();
    updated.insert(
        3,
        "Ukraine's general staff said on Monday evening that its units had advanced a further \
         two kilometres in several directions and taken more prisoners."
            .into(),
    );
    vec![
        article("", &title, body.to_owned()),
        article("copy", &title, body.to_owned()),
        article(
            "agency",
            &short_title,
            format!(
                "Monday 19 August 2024 18:02 BST\n\n{}",
                story_paragraphs.join("\n\n")
            ),
        ),
        article(
            "renavigated",
            &format!("{short_title} | World"),
            renavigated.join("\n\n"),
        ),
        article("updated", &title, updated.join("\n\n")),
    ]
}
