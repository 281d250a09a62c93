//! Sending a digest by email (SMTP with rustls: implicit TLS, STARTTLS, or
//! plain for a local relay), as a multipart message with a text and an HTML
//! part, and `Date`, `Message-ID` and `List-Id` headers.
//!
//! The `Message-ID` is derived from the digest's row id, so a retried
//! delivery carries the same id and mail clients can tell it is the same
//! message. The caller marks a digest sent only after [`send`] returns `Ok`,
//! which happens only when the server accepted the message.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, SmtpTls};

/// How long one delivery attempt may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The message could not be built (a bad address).
    #[error("building the message: {0}")]
    Build(String),
    /// The SMTP exchange failed (connection, TLS, authentication, refusal).
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// The domain of an address, for ids.
fn domain(addr: &str) -> &str {
    addr.rsplit('@')
        .next()
        .map(|d| d.trim_end_matches('>'))
        .unwrap_or("localhost")
}

/// The `Message-ID` of digest `id` named `name` sent from `from`.
pub fn message_id(id: i64, name: &str, from: &str) -> String {
    format!("<digest-{id}.{name}@{}>", domain(from))
}

/// The parts of a digest message.
pub struct Content<'a> {
    /// The digest's title (names the list in `List-Id`).
    pub title: &'a str,
    /// The subject line.
    pub subject: &'a str,
    /// Plain-text part.
    pub text: &'a str,
    /// HTML part.
    pub html: &'a str,
}

/// Builds the message for digest `digest_id` of digest `name`.
pub fn message(
    cfg: &EmailConfig,
    digest_id: i64,
    name: &str,
    content: &Content<'_>,
) -> Result<Message, EmailError> {
    let Content {
        title,
        subject,
        text,
        html,
    } = *content;
    let bad = |e: &dyn std::fmt::Display| EmailError::Build(e.to_string());
    let from: Mailbox = cfg.from.parse().map_err(|e| bad(&e))?;
    let mut b = Message::builder()
        .from(from)
        .subject(subject)
        .date_now()
        .message_id(Some(message_id(digest_id, name, &cfg.from)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Id"),
            format!(
                "\"{}\" <{name}.digests.{}>",
                title.replace(['"', '\r', '\n'], " "),
                domain(&cfg.from)
            ),
        ));
    for to in &cfg.to {
        b = b.to(to.parse().map_err(|e| bad(&e))?);
    }
    b.multipart(MultiPart::alternative_plain_html(
        text.to_string(),
        html.to_string(),
    ))
    .map_err(|e| bad(&e))
}

/// Sends `message` through the configured server.
pub async fn send(cfg: &EmailConfig, message: Message) -> Result<(), EmailError> {
    let smtp = |e: lettre::transport::smtp::Error| EmailError::Smtp(e.to_string());
    let builder = match cfg.tls {
        SmtpTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.smtp_host).map_err(smtp)?
        }
        SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.smtp_host).map_err(smtp)?
        }
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.smtp_host),
    };
    let mut builder = builder.port(cfg.smtp_port).timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &cfg.username {
        let password = cfg
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let transport = builder.build();
    transport.send(message).await.map(|_| ()).map_err(smtp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_use_the_sender_domain() {
        assert_eq!(
            message_id(7, "daily", "Tributary <news@example.org>"),
            "<digest-7.daily@example.org>"
        );
        let cfg = EmailConfig {
            to: vec!["me@example.net".into()],
            from: "news@example.org".into(),
            smtp_host: "localhost".into(),
            smtp_port: 25,
            tls: SmtpTls::None,
            username: None,
            password: None,
        };
        let content = Content {
            title: "Daily",
            subject: "Daily (2026-11-25)",
            text: "text",
            html: "<p>html</p>",
        };
        let m = message(&cfg, 7, "daily", &content).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(
            raw.contains("Message-ID: <digest-7.daily@example.org>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Id: \"Daily\" <daily.digests.example.org>"),
            "{raw}"
        );
        assert!(raw.contains("Date: "), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }
}
