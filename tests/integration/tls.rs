//! Feeds over HTTPS: `tributary fetch` checks the server's certificate
//! against the system's CA certificates (here a CA made for the test,
//! named by `SSL_CERT_FILE` as on any Linux system) and offers HTTP/2 and
//! HTTP/1.1 by ALPN, as reqwest's own defaults would.
//!
//! The server is the test's plain feed server behind a TLS front on
//! 127.0.0.1 that records what each client offered in its hello.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use rcgen::{CertificateParams, DnType, IsCa, KeyPair, SanType};
use tokio_rustls::rustls;

use crate::util::*;

/// A CA and a certificate it signed for 127.0.0.1.
struct Pki {
    ca_pem: String,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn pki(name: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} test CA"));
    ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert: cert.der().clone(),
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// A TLS front for `backend` with `pki`'s certificate; what each client
/// offered by ALPN is kept in `offered`.
struct TlsFront {
    addr: SocketAddr,
    offered: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
}

impl TlsFront {
    fn start(pki: &Pki, backend: SocketAddr) -> TlsFront {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
            .unwrap();
        // The plain server behind speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let offered: Arc<Mutex<Vec<Vec<Vec<u8>>>>> = Arc::default();
        let seen = Arc::clone(&offered);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let (tcp, _) = listener.accept().await.unwrap();
                    let (config, seen) = (Arc::clone(&config), Arc::clone(&seen));
                    tokio::spawn(async move {
                        let acceptor = tokio_rustls::LazyConfigAcceptor::new(
                            rustls::server::Acceptor::default(),
                            tcp,
                        );
                        let Ok(start) = acceptor.await else { return };
                        let alpn = start
                            .client_hello()
                            .alpn()
                            .map(|p| p.map(<[u8]>::to_vec).collect())
                            .unwrap_or_default();
                        seen.lock().unwrap().push(alpn);
                        // A client that refuses the certificate ends here.
                        let Ok(mut tls) = start.into_stream(config).await else {
                            return;
                        };
                        let mut plain = tokio::net::TcpStream::connect(backend).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    });
                }
            });
        });
        TlsFront {
            addr: addr_rx.recv().unwrap(),
            offered,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

/// `tributary fetch` trusting only the CA in `ca_file`.
fn fetch_trusting(s: &Scratch, ca_file: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .env_remove("RUST_LOG")
        .env_remove("SSL_CERT_DIR")
        .env("SSL_CERT_FILE", ca_file)
        .output()
        .expect("run tributary")
}

#[test]
fn a_feed_over_https_is_fetched_with_a_trusted_certificate_and_refused_without() {
    let server = FeedServer::start();
    let items = [
        (Some("t-1"), Some("https://site.example/1"), "First"),
        (Some("t-2"), Some("https://site.example/2"), "Second"),
    ];
    server.set(
        "/feed.xml",
        Route::feed(rss("Over TLS", &items)).etag("\"v1\""),
    );
    let trusted = pki("trusted");
    let front = TlsFront::start(&trusted, server.addr);
    let s = Scratch::new();
    s.write_config("", &[("secure", &front.url("/feed.xml"))]);
    let ca_file = s.dir.path().join("ca.pem");
    std::fs::write(&ca_file, &trusted.ca_pem).unwrap();
    let other_file = s.dir.path().join("other-ca.pem");
    std::fs::write(&other_file, pki("other").ca_pem).unwrap();

    // Trusting another CA: the certificate is refused, nothing is stored,
    // and the feed's error says why.
    let out = fetch_trusting(&s, &other_file);
    assert!(
        stdout(&out).contains("1 failed"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 0);
    let error: String = s
        .db()
        .query_row(
            "SELECT last_error FROM feeds WHERE name = 'secure'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert_eq!(server.arrivals("/feed.xml"), 0);

    // Trusting the server's CA: fetched, then revalidated over TLS.
    let out = fetch_trusting(&s, &ca_file);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 feeds: 2 new, 0 updated, 0 failed"),
        "{}",
        stdout(&out)
    );
    let out = fetch_trusting(&s, &ca_file);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(
        server
            .hits("/feed.xml")
            .last()
            .unwrap()
            .if_none_match
            .as_deref(),
        Some("\"v1\"")
    );

    // Every client offered HTTP/2 first, then HTTP/1.1.
    let offered = front.offered.lock().unwrap().clone();
    assert!(offered.len() >= 3, "{offered:?}");
    for alpn in offered {
        assert_eq!(alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
