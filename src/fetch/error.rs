//! Why a fetch failed ([`FetchError`]) and whether waiting may fix it
//! ([`ErrorClass`]): what the scheduler backs off on, what the fetch log
//! and `tributary doctor` say.

use std::time::Duration;

use reqwest::StatusCode;

use super::Redirect;

/// Transient errors are worth retrying later as they are; permanent ones
/// need someone to change something (the URL, credentials, the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Timeouts, connection failures, 5xx, 429, truncated bodies.
    Transient,
    /// 4xx, bodies over the cap, redirect loops, missing files, bad URLs.
    Permanent,
}

impl ErrorClass {
    /// `transient` / `permanent`, as stored in the fetch log.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The whole exchange took longer than allowed.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// No connection (refused, DNS, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server answered with an error status.
    #[error("HTTP {status}{}", reason(*.status))]
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After`, verbatim, on 429 and 503.
        retry_after: Option<String>,
        /// The chain of redirects before the error.
        redirects: Vec<Redirect>,
    },
    /// The body would exceed the cap.
    #[error("body larger than the {} cap (max_body)", human_bytes(*.limit))]
    TooLarge {
        /// The cap in force.
        limit: u64,
    },
    /// Redirects went round in a circle or on for too long.
    #[error("{0}")]
    Redirects(String),
    /// The connection broke while reading the body, or the encoding was bad.
    #[error("reading the body failed: {0}")]
    Body(String),
    /// The server answered, but not with HTTP (a head too large, garbage,
    /// a connection closed before the head was complete).
    #[error("invalid response: {0}")]
    Response(String),
    /// A local file could not be read.
    #[error("cannot read {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What the OS said.
        message: String,
    },
    /// The URL cannot be fetched at all.
    #[error("unsupported url `{0}`")]
    Unsupported(String),
    /// A redirect the request's [`super::HopGate`] refused to follow.
    #[error("redirect to {to} refused: {why}")]
    HopRefused {
        /// Where the redirect pointed.
        to: String,
        /// Why it was not followed.
        why: String,
        /// Whether waiting may change the answer.
        class: ErrorClass,
    },
    /// An address the rules in force do not allow (the message names the
    /// rule: `block_private_addresses`, or a public feed's reach).
    #[error("refused: {0}")]
    Blocked(String),
}

/// `16 MiB`, `512 KiB`, `1000 bytes`: a size as people write it.
pub(super) fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
        if n >= size {
            return format!("{:.1} {unit}", n as f64 / size as f64);
        }
    }
    format!("{n} bytes")
}

fn reason(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl FetchError {
    /// Whether waiting alone may fix it.
    pub fn class(&self) -> ErrorClass {
        match self {
            FetchError::Timeout(_)
            | FetchError::Connect(_)
            | FetchError::Body(_)
            | FetchError::Response(_) => ErrorClass::Transient,
            FetchError::HopRefused { class, .. } => *class,
            FetchError::Status { status, .. } => match status {
                408 | 425 | 429 | 500..=599 => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            },
            FetchError::TooLarge { .. }
            | FetchError::Redirects(_)
            | FetchError::File { .. }
            | FetchError::Unsupported(_)
            | FetchError::Blocked(_) => ErrorClass::Permanent,
        }
    }

    /// The HTTP status, when the server gave one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
