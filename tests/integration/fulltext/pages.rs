//! Article pages for the extraction tests: the real news article in
//! `../shared/fixtures/news-article.txt`, split into its parts (paragraphs,
//! a subheading, video notices, image captions, related links, page
//! furniture), rendered through ten publisher-like templates (semantic
//! `article`/`main`, div soup, schema.org microdata with JSON-LD, AMP,
//! table layout, a broadcaster's widgets, WordPress with comments, inline
//! newsletter boxes, a single-page-app shell, a card layout), three
//! variants each, with the boilerplate publishers wrap around articles:
//! navigation, cookie banners, newsletter boxes, "Read more" and "Most
//! read" lists, share buttons, comments, footers.

/// The article, taken apart.
pub struct Article {
    pub title: String,
    /// Body paragraphs: the text extraction must keep.
    pub paragraphs: Vec<String>,
    pub subheading: String,
    /// (notice, video title) pairs.
    pub videos: Vec<(String, String)>,
    /// (caption, credit) pairs.
    pub figures: Vec<(String, String)>,
    pub related: Vec<String>,
}

/// Splits the shared article's text into its parts; `None` when its shape
/// is not the one these tests were written for.
pub fn parse(text: &str) -> Option<Article> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let title = lines.iter().find(|l| l.len() > 40)?.to_string();
    let mut a = Article {
        title: title.clone(),
        paragraphs: vec![],
        subheading: String::new(),
        videos: vec![],
        figures: vec![],
        related: vec![],
    };
    let furniture = ["Must read", "Map", "Latest article", "Image:"];
    let mut i = 0;
    let mut in_related = false;
    while i < lines.len() {
        let l = lines[i];
        i += 1;
        if l.is_empty() || *l == *title || furniture.contains(&l) || l.starts_with("Tuesday,") {
            continue;
        }
        if l.starts_with("Please use Chrome") {
            let t = lines[i..].iter().find(|x| !x.is_empty())?;
            i += lines[i..].iter().position(|x| x == t)? + 1;
            a.videos.push((l.to_string(), t.to_string()));
            continue;
        }
        if l.starts_with("Read more from") {
            in_related = true;
            continue;
        }
        // A caption is followed by "Image:" and a credit line.
        let next: Vec<&&str> = lines[i..]
            .iter()
            .filter(|x| !x.is_empty())
            .take(2)
            .collect();
        if next.first().is_some_and(|n| **n == "Image:") {
            a.figures.push((l.to_string(), next.get(1)?.to_string()));
            i += lines[i..].iter().position(|x| x == *next.get(1).unwrap())? + 1;
            in_related = false;
            continue;
        }
        if in_related && l.len() < 60 {
            a.related.push(l.to_string());
            continue;
        }
        in_related = false;
        if l.len() < 40 {
            a.subheading = l.to_string();
        } else {
            a.paragraphs.push(l.to_string());
        }
    }
    (a.paragraphs.len() >= 10 && a.videos.len() == 2 && a.figures.len() == 2).then_some(a)
}

/// Boilerplate every template draws from; none of it may be extracted.
pub const COOKIE: &str = "We use cookies to improve your experience on our site and to show you \
    relevant advertising. By continuing to browse you agree to our use of cookies. Manage your \
    preferences at any time.";
pub const NEWSLETTER: &str = "Sign up to our morning briefing newsletter. Get the day's top \
    stories delivered straight to your inbox every morning, free of charge.";
pub const SHARE: &str = "Share this article on Facebook, on X or by email with your friends.";
pub const FOOTER: &str = "Copyright 2024 Example News Limited. All rights reserved. Registered in \
    England and Wales. Terms and conditions apply to all content on this site.";
pub const COMMENTS: [&str; 3] = [
    "This is exactly what I said would happen months ago. Nobody listened to the people on the ground.",
    "I wonder how long the supply lines can hold up under this kind of pressure from both sides.",
    "Great reporting as always, thank you for keeping us informed about what is really happening.",
];
pub const MOST_READ: [&str; 4] = [
    "Man arrested after police chase through city centre",
    "Weather warning issued for heavy rain across the south",
    "Football club confirms new manager after weeks of talks",
    "House prices rise for the third month in a row",
];
pub const NAV: [&str; 8] = [
    "Home", "UK", "World", "Politics", "US", "Climate", "Business", "Sport",
];

/// Every boilerplate sentence a page may carry besides the article's own
/// furniture (video notices, related links): what precision counts against.
pub fn boilerplate(a: &Article) -> Vec<String> {
    let mut b: Vec<String> = [COOKIE, NEWSLETTER, SHARE, FOOTER]
        .iter()
        .map(|s| s.to_string())
        .collect();
    b.extend(COMMENTS.iter().map(|s| s.to_string()));
    b.extend(MOST_READ.iter().map(|s| s.to_string()));
    for (notice, title) in &a.videos {
        b.push(notice.clone());
        b.push(title.clone());
    }
    b.extend(a.related.iter().cloned());
    b.push("Read more from Example News:".into());
    b
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn nav(kind: usize) -> String {
    let links: String = NAV
        .iter()
        .map(|n| format!("<li><a href=\"/{}\">{n}</a></li>", n.to_lowercase()))
        .collect();
    match kind % 3 {
        0 => format!("<nav class=\"site-nav\"><ul>{links}</ul></nav>"),
        1 => format!("<div id=\"menu\" class=\"navigation\"><ul>{links}</ul></div>"),
        _ => format!("<header class=\"masthead\"><a href=\"/\" class=\"logo\">Example News</a><ul class=\"menu\">{links}</ul></header>"),
    }
}

fn cookie(v: usize) -> String {
    format!(
        "<div class=\"{}\" role=\"dialog\"><p>{}</p><button>Accept all</button><button>Reject</button></div>",
        ["cookie-banner", "consent-overlay", "gdpr"][v % 3],
        esc(COOKIE)
    )
}

fn newsletter(v: usize) -> String {
    format!(
        "<div class=\"{}\"><h3>Morning briefing</h3><p>{}</p><form action=\"/subscribe\"><input type=\"email\" name=\"e\"><button>Sign up</button></form></div>",
        ["newsletter-signup", "promo-box newsletter", "inline-subscribe"][v % 3],
        esc(NEWSLETTER)
    )
}

fn share() -> String {
    format!(
        "<div class=\"share-tools social\"><span>{}</span><a href=\"https://facebook.example/share\">Facebook</a> <a href=\"https://x.example/share\">X</a></div>",
        esc(SHARE)
    )
}

fn related(a: &Article, v: usize) -> String {
    let links: String = a
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| format!("<li><a href=\"/story/{i}\">{}</a></li>", esc(r)))
        .collect();
    match v % 2 {
        0 => format!("<div class=\"related-stories\"><h4>Read more from Example News:</h4><ul>{links}</ul></div>"),
        _ => format!("<aside class=\"read-more\"><strong>Read more from Example News:</strong><ul>{links}</ul></aside>"),
    }
}

fn most_read() -> String {
    let links: String = MOST_READ
        .iter()
        .enumerate()
        .map(|(i, r)| format!("<li><a href=\"/most/{i}\">{r}</a></li>"))
        .collect();
    format!("<aside class=\"sidebar most-read\"><h3>Most read</h3><ol>{links}</ol></aside>")
}

fn comments(v: usize) -> String {
    let items: String = COMMENTS
        .iter()
        .take(1 + v % 3)
        .enumerate()
        .map(|(i, c)| {
            format!("<li class=\"comment\" id=\"comment-{i}\"><div class=\"comment-author\">reader{i}</div><div class=\"comment-body\"><p>{c}</p></div><a class=\"reply\" href=\"#reply\">Reply</a></li>")
        })
        .collect();
    format!("<section id=\"comments\" class=\"comments-area\"><h3>{} comments</h3><ol class=\"commentlist\">{items}</ol></section>", 1 + v % 3)
}

fn footer() -> String {
    format!(
        "<footer class=\"site-footer\"><p>{}</p><a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a></footer>",
        esc(FOOTER)
    )
}

fn video(notice: &str, title: &str, amp: bool) -> String {
    let player = if amp {
        "<amp-video width=\"640\" height=\"360\" src=\"/v.mp4\" layout=\"responsive\"></amp-video>"
            .to_string()
    } else {
        "<video src=\"/v.mp4\" controls></video>".to_string()
    };
    format!(
        "<div class=\"video-player media-embed\">{player}<div class=\"video-notice\">{}</div><div class=\"video-title\">{}</div></div>",
        esc(notice),
        esc(title)
    )
}

fn figure(caption: &str, credit: &str, amp: bool) -> String {
    let img = if amp {
        "<amp-img src=\"/img/1.jpg\" width=\"800\" height=\"450\" layout=\"responsive\"></amp-img>"
    } else {
        "<img src=\"/img/1.jpg\" alt=\"\">"
    };
    format!(
        "<figure class=\"image\">{img}<figcaption>{}<span class=\"credit\">{}</span></figcaption></figure>",
        esc(caption),
        esc(credit)
    )
}

/// The article's body in order: paragraphs (wrapped by `p`), the
/// subheading, the videos and figures and related links where they stood,
/// and a newsletter box after the fourth paragraph when `inline_promo`.
fn body(
    a: &Article,
    v: usize,
    p: &dyn Fn(&str) -> String,
    amp: bool,
    inline_promo: bool,
) -> String {
    let mut out = String::new();
    for (i, para) in a.paragraphs.iter().enumerate() {
        out.push_str(&p(&esc(para)));
        match i {
            3 => {
                out.push_str(&video(&a.videos[0].0, &a.videos[0].1, amp));
                if inline_promo {
                    out.push_str(&newsletter(v));
                }
            }
            5 => out.push_str(&figure(&a.figures[0].0, &a.figures[0].1, amp)),
            8 => out.push_str(&format!("<h2>{}</h2>", esc(&a.subheading))),
            10 => out.push_str(&video(&a.videos[1].0, &a.videos[1].1, amp)),
            12 => {
                out.push_str(&related(a, v));
                out.push_str(&figure(&a.figures[1].0, &a.figures[1].1, amp));
            }
            _ => {}
        }
    }
    out
}

fn head(a: &Article, extra: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} | Example News</title>\
         <meta property=\"og:title\" content=\"{}\"><link rel=\"stylesheet\" href=\"/s.css\">\
         <script>window.dataLayer=[];function track(){{}}</script>{extra}</head>",
        esc(&a.title),
        esc(&a.title)
    )
}

fn p(s: &str) -> String {
    format!("<p>{s}</p>")
}

/// One page: template `t` (0..10), variant `v` (0..3).
pub fn render(a: &Article, t: usize, v: usize) -> String {
    let h1 = format!("<h1>{}</h1>", esc(&a.title));
    let byline = "<div class=\"byline\">By Staff Reporter, <time datetime=\"2024-08-20\">Tuesday 20 August 2024</time></div>";
    let top = if v == 1 { cookie(v) } else { String::new() };
    let bottom = if v != 1 { cookie(v) } else { String::new() };
    let page = match t {
        // Semantic HTML5.
        0 => format!(
            "{}<body>{top}{}<main><article class=\"story\">{h1}{byline}{}{}</article>{}</main>{}{}{bottom}</body></html>",
            head(a, ""), nav(v), body(a, v, &p, false, v == 2), share(), most_read(), comments(v), footer()
        ),
        // Div soup, no semantic elements.
        1 => format!(
            "{}<body><div id=\"wrapper\">{top}<div class=\"hdr\">{}</div><div class=\"row\"><div class=\"col-8 content-area\"><div class=\"headline\">{h1}</div>{byline}<div class=\"post-body txt\">{}</div>{}</div><div class=\"col-4\">{}{}</div></div>{}{}{bottom}</div></body></html>",
            head(a, ""), nav(v + 1), body(a, v, &p, false, true), share(), most_read(), newsletter(v), comments(v), footer()
        ),
        // schema.org microdata and JSON-LD.
        2 => format!(
            "{}<body>{top}{}<div itemscope itemtype=\"http://schema.org/NewsArticle\"><h1 itemprop=\"headline\">{}</h1><span itemprop=\"author\">Staff Reporter</span><div itemprop=\"articleBody\">{}</div></div>{}{}{}{bottom}</body></html>",
            head(a, &format!("<script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"headline\":\"{}\",\"datePublished\":\"2024-08-20T10:00:00Z\"}}</script>", a.title.replace('"', "'"))),
            nav(v), esc(&a.title), body(a, v, &p, false, v != 0), most_read(), comments(v), footer()
        ),
        // AMP: custom elements for media and ads.
        3 => format!(
            "<!doctype html><html amp lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><script async src=\"https://cdn.ampproject.example/v0.js\"></script><style amp-custom>body{{margin:0}}</style></head><body>{top}<amp-sidebar id=\"sidebar\" layout=\"nodisplay\">{}</amp-sidebar><header class=\"amp-header\"><a href=\"/\">Example News</a></header><article class=\"amp-article\">{h1}{byline}<div class=\"amp-article-body\">{}</div><amp-ad width=\"300\" height=\"250\" type=\"doubleclick\"></amp-ad>{}</article>{}{bottom}</body></html>",
            esc(&a.title), nav(v), body(a, v, &p, true, v == 1), share(), footer()
        ),
        // Table layout.
        4 => format!(
            "{}<body>{top}<table width=\"100%\" class=\"layout\"><tr><td colspan=\"2\">{}</td></tr><tr><td class=\"left\" width=\"70%\">{h1}{byline}{}</td><td class=\"right\" valign=\"top\">{}{}</td></tr><tr><td colspan=\"2\">{}{}</td></tr></table>{bottom}</body></html>",
            head(a, ""), nav(v + 2), body(a, v, &|s: &str| format!("<p class=\"bodytext\">{s}</p>"), false, false), most_read(), newsletter(v), comments(v), footer()
        ),
        // A broadcaster's article body with widgets.
        5 => format!(
            "{}<body>{top}<div class=\"sdc-site-header\">{}</div><div class=\"sdc-article-header\">{h1}<p class=\"sdc-article-header__sub-title\">Ukraine's president says the Kremlin is bluffing.</p></div><div class=\"sdc-article-body sdc-article-body--story\">{}</div><div class=\"sdc-article-tags\">{}</div>{}{}{bottom}</body></html>",
            head(a, ""), nav(v), body(a, v, &p, false, v != 1), share(), most_read(), footer()
        ),
        // WordPress.
        6 => format!(
            "{}<body class=\"single single-post\">{top}<div id=\"page\" class=\"site\">{}<div id=\"content\" class=\"site-content\"><div id=\"primary\" class=\"content-area\"><article id=\"post-123\" class=\"post type-post hentry\"><header class=\"entry-header\">{h1}{byline}</header><div class=\"entry-content\">{}<div class=\"sharedaddy\">{}</div></div></article>{}</div><div id=\"secondary\" class=\"widget-area\">{}{}</div></div>{}</div>{bottom}</body></html>",
            head(a, ""), nav(v + 1), body(a, v, &p, false, false), share(), comments(v + 1), most_read(), newsletter(v), footer()
        ),
        // Paragraphs as text in divs with line breaks.
        7 => format!(
            "{}<body>{top}{}<div class=\"main\"><div class=\"story-head\">{h1}{byline}</div><div class=\"story-text\">{}</div>{}</div>{}{}{bottom}</body></html>",
            head(a, ""), nav(v + 2), body(a, v, &|s: &str| format!("{s}<br><br>"), false, v == 0), share(), most_read(), footer()
        ),
        // A single-page-app shell, server-rendered.
        8 => format!(
            "{}<body>{top}<div id=\"__next\"><div data-component=\"nav\">{}</div><main id=\"main-content\"><div data-component=\"headline-block\">{h1}</div><div data-component=\"byline-block\">{byline}</div>{}</main><div data-component=\"links-block\">{}</div>{}</div><script id=\"__NEXT_DATA__\" type=\"application/json\">{{\"props\":{{}}}}</script>{bottom}</body></html>",
            head(a, ""), nav(v), body(a, v, &|s: &str| format!("<div data-component=\"text-block\"><p>{s}</p></div>"), false, v == 2), most_read(), footer()
        ),
        // Card layout: a section per paragraph.
        _ => format!(
            "{}<body>{top}{}<div class=\"page\"><section class=\"story\">{h1}{byline}<div class=\"story-cards\">{}</div></section>{}<section class=\"comments\">{}</section></div>{}{bottom}</body></html>",
            head(a, ""), nav(v + 1), body(a, v, &|s: &str| format!("<section class=\"card paragraph\"><p>{s}</p></section>"), false, v == 1), most_read(), comments(v), footer()
        ),
    };
    page
}
