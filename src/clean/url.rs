//! URLs in cleaned content: made absolute against a base (http(s) only,
//! capped), and canonical (tracking parameters, fragment and default port
//! removed; scheme and host lower-cased): the key that merges the same
//! page reached through several feeds.

use ::url::Url;

use super::MAX_URL_BYTES;

/// Query parameters that only track the reader; removed from canonical URLs.
/// Names are compared case-insensitively; `utm_*` is matched by prefix.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "__hstc",
    "__hssc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "s_cid",
    "vero_conv",
    "vero_id",
    "wickedid",
    "_ga",
    "_gl",
    "ncid",
    "cmpid",
    "ref_src",
    "ref_url",
    "at_medium",
    "at_campaign",
    "at_custom1",
    "at_custom2",
    "at_custom3",
    "at_custom4",
    "ito",
    "xtor",
    "__twitter_impression",
    "sr_share",
    "share",
];

/// `href` made absolute against `base`, keeping only http(s) URLs of at
/// most [`MAX_URL_BYTES`].
pub(crate) fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.len() > MAX_URL_BYTES {
        return None;
    }
    let url = match Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    let web = matches!(url.scheme(), "http" | "https");
    let url: String = url.into();
    (web && url.len() <= MAX_URL_BYTES).then_some(url)
}

/// The canonical form of an http(s) URL: lower-case scheme and host (the
/// URL parser does that), default port and fragment dropped, tracking
/// parameters removed. Other schemes have no canonical form.
pub fn canonical_url(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(u.into())
}

pub(crate) fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}
