use super::*;

#[test]
fn ordinary_html_is_tame() {
    // Long, and sloppy: an <i> left open in every paragraph.
    let article = "<p>Some <b>bold</b> and <a href=\"/x\">a link</a>.</p><ul><li>one<li>two</ul>\
                   <p>unclosed <i>italic<p>next<br><img src=x><div>box</div>"
        .repeat(5000);
    assert!(html_is_tame(&article));
    let nested = format!("{}x{}", "<div>".repeat(200), "</div>".repeat(200));
    assert!(html_is_tame(&nested));
    let table = "<table><tr><td>a<td>b</table>".repeat(5000);
    assert!(html_is_tame(&table));
    let svg = format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(1000));
    assert!(html_is_tame(&svg));
    let script = format!("<script>{}</script>", "<div>".repeat(1000));
    assert!(html_is_tame(&script));
}

#[test]
fn deep_or_reopening_html_is_not() {
    let nested = format!("{}x{}", "<div>".repeat(300), "</div>".repeat(300));
    assert!(!html_is_tame(&nested));
    let mut reopen = String::from("<p>");
    for i in 0..100 {
        reopen.push_str(&format!("<b id={i}>"));
    }
    reopen.push_str(&"<p>x".repeat(5000));
    assert!(!html_is_tame(&reopen));
    let distinct: String = (0..300).map(|i| format!("<font size={i}>")).collect();
    assert!(!html_is_tame(&distinct));
    // Identical ones are kept three times, but each nests.
    assert!(!html_is_tame(&"<b class=x>".repeat(300)));
    // Three long identical tags closed by the next paragraph and
    // re-opened in every one after: counted by their bytes. Left open
    // outside a paragraph, nothing closes them and nothing re-opens.
    let long = format!("<b title=\"{}\">", "t".repeat(1000)).repeat(3);
    assert!(!html_is_tame(&format!("<p>{long}{}", "<p>x".repeat(2000))));
    assert!(html_is_tame(&format!("{long}{}", "<p>x".repeat(2000))));
    // Formatting left open across tags that close nothing nests.
    for piece in [
        "<</math>\"<math><pre>\u{a0}<form>",
        "<b></div>",
        "<b><div></div>",
        "<b><br>",
        "<b><td>",
        "<i></p>x",
        "<dt><li><span></ul>",
    ] {
        assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
    }
}

#[test]
fn escaping_work_is_bounded() {
    // Fine: many entities, in paragraphs, cells, or next to a `<`.
    let prose = "<p>Tom &amp; Jerry &#8217;s caf\u{e9} \u{a9} 2024</p>".repeat(20_000);
    assert!(html_is_tame(&prose));
    let cells = "<table>".to_string() + &"<tr><td>a &amp; b<td>&copy;".repeat(20_000);
    assert!(html_is_tame(&cells));
    assert!(html_is_tame(&"&amp; &lt; ".repeat(2_000)));
    // Not: one long node or value of them.
    assert!(!html_is_tame(&"&amp; ".repeat(200_000)));
    assert!(!html_is_tame(&"\u{a0}".repeat(200_000)));
    assert!(
        !html_is_tame(&"&</x>".repeat(200_000)),
        "stray end tags merge text"
    );
    let attr = format!("<img alt=\"{}\">", "&amp;".repeat(200_000));
    assert!(!html_is_tame(&attr));
    let area = format!("<textarea>{}</textarea>", "&".repeat(200_000));
    assert!(!html_is_tame(&area));
}

#[test]
fn end_tags_close_only_what_the_parser_closes() {
    for piece in [
        "<div></x>",
        "<div/>",
        "<div><i title=\"></div>\">",
        "<div><textarea></div></textarea>",
        "<div><!-- </div> -->",
        "<span><div></span>",
        "<div><table></div>",
        "<div></ div>",
        // An end tag of a list item or paragraph does not look past a
        // nested list or a button.
        "<ul></li><li>",
        "<ul></li><li></tr>",
        "<ol><li></li><ol><li>",
        "<p><button></p>",
    ] {
        assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
    }
    // Siblings that close each other only as the current node or in a
    // ruby nest when formatting comes between them or no ruby is open.
    for piece in ["<i class=a><option>", "<b><optgroup>", "<rb>", "<rt>x"] {
        assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
    }
    for piece in [
        "<div></div>",
        "<div><span></div>",
        "<ul><li>x</ul>",
        "<ul><li>x</li></ul>",
        "<p>x<button>y</button></p>",
        "<select><option>a<option>b<optgroup><option>c</select>",
        "<ruby>a<rb>b<rt>c<rp>d</ruby>",
        "<svg><p></svg>",
        "<math><mi><b>x</b></mi></math>",
    ] {
        assert!(html_is_tame(&piece.repeat(3000)), "{piece}");
    }
}
