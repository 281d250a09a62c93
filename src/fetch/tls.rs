//! The TLS crypto provider for every HTTP client the process builds.
//!
//! reqwest is built without a provider of its own (its default, aws-lc-rs,
//! would be a second crypto library beside the ring that lettre's rustls
//! already carries, and a large C build), so rustls's process-wide default
//! must be set before a client is built; reqwest panics otherwise.
//! Certificates are checked against the system's store
//! (rustls-platform-verifier), never OpenSSL.

use std::sync::Once;

/// Installs ring as rustls's process-wide provider, once. Harmless when a
/// provider is already installed (the first one stays). Call it before
/// building a `reqwest::Client` outside [`super::Fetcher`].
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An Err means another thread installed one in between: fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_builds_once_the_provider_is_installed() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        reqwest::Client::builder()
            .build()
            .expect("a client with the ring provider");
    }
}
