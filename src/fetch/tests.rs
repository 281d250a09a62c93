use super::error::human_bytes;
use super::*;

#[test]
fn classes() {
    let s = |status| FetchError::Status {
        status,
        retry_after: None,
        redirects: vec![],
    };
    assert_eq!(s(503).class(), ErrorClass::Transient);
    assert_eq!(s(429).class(), ErrorClass::Transient);
    assert_eq!(s(404).class(), ErrorClass::Permanent);
    assert_eq!(s(410).class(), ErrorClass::Permanent);
    assert_eq!(s(404).to_string(), "HTTP 404 Not Found");
    assert_eq!(
        FetchError::Timeout(Duration::from_secs(2)).class(),
        ErrorClass::Transient
    );
    assert_eq!(
        FetchError::TooLarge { limit: 1 }.class(),
        ErrorClass::Permanent
    );
    assert_eq!(
        FetchError::TooLarge { limit: 16 << 20 }.to_string(),
        "body larger than the 16 MiB cap (max_body)"
    );
    assert_eq!(human_bytes(1536), "1.5 KiB");
    assert_eq!(human_bytes(1000), "1000 bytes");
}
