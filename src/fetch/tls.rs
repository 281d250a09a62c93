//! TLS for every HTTP client the process builds: the crypto provider and
//! one certificate verifier that all clients share.
//!
//! reqwest is built without a provider of its own (its default, aws-lc-rs,
//! would be a second crypto library beside the ring that lettre's rustls
//! already carries, and a large C build), so rustls's process-wide default
//! must be set before a client is built; reqwest panics otherwise.
//! Certificates are checked against the system's store
//! (rustls-platform-verifier), never OpenSSL.
//!
//! Left to itself, reqwest reads and parses the system's CA certificates
//! for each client it builds: a command that fetches builds three (the
//! fetcher's two and the notification sender), and each read cost about
//! 5 ms of CPU, a twentieth of an unchanged round of 1,000 feeds. So the
//! verifier is built once, with the settings reqwest itself would choose
//! (TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`), and every client is given
//! it. The certificates are read when the first client is built; a
//! restart reads them again.

use std::sync::{Arc, Once, OnceLock};

/// Installs ring as rustls's process-wide provider, once. Harmless when a
/// provider is already installed (the first one stays).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An Err means another thread installed one in between: fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

/// A client builder with the process's TLS settings: the provider
/// installed, the shared verifier set. Every `reqwest::Client` of the
/// program starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    let builder = reqwest::Client::builder();
    match shared_config() {
        Some(config) => builder.tls_backend_preconfigured(config.clone()),
        // The system's certificates could not be read: reqwest tries
        // itself and reports why when the client is built.
        None => builder,
    }
}

/// The TLS settings every client shares, made on first use; `None` when
/// no verifier could be made (no readable CA certificates).
fn shared_config() -> Option<&'static rustls::ClientConfig> {
    static SHARED: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let provider = Arc::clone(rustls::crypto::CryptoProvider::get_default()?);
            let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
                .inspect_err(|e| tracing::warn!(error = %e, "reading the system's CA certificates"))
                .ok()?;
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Some(config)
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_share_one_verifier_that_offers_h2_and_http1() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        client_builder()
            .build()
            .expect("a client with the ring provider");
        let config = shared_config().expect("the system's CA certificates");
        assert_eq!(config.alpn_protocols, [&b"h2"[..], &b"http/1.1"[..]]);
        assert!(std::ptr::eq(config, shared_config().unwrap()));
        client_builder()
            .build()
            .expect("a second client, same verifier");
    }
}
