//! The optional guard against server-side request forgery
//! (`[fetch] block_private_addresses`, off by default).
//!
//! Where the people who write feed URLs are not the people who run the
//! daemon (a shared aggregator), a feed URL is a way to make the daemon
//! request addresses only it can reach: the loopback interface, the local
//! network, a cloud metadata service. With the guard on, a request is
//! refused when its host is, or resolves only to, such an address:
//! loopback, private (RFC 1918), shared (100.64/10), link-local,
//! unique-local, unspecified, broadcast, multicast or reserved, including
//! IPv4 written inside IPv6. It applies to every hop of a redirect chain,
//! and `file://` URLs are refused too.
//!
//! Names are checked by the resolver reqwest connects with, so the
//! addresses checked are the addresses used (no second lookup an attacker
//! could answer differently); literal IPs, which reqwest never resolves,
//! are checked before the request. A feed with its own proxy is left to
//! the proxy (which resolves the name): only literal IPs are checked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::{Host, Url};

/// Why the guard refused an address; travels through reqwest's error
/// chain from the resolver and is recognised there.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Blocked(pub String);

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => v4_kind(a),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let seg = a.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its low bits.
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., hi, lo] = seg;
                return v4_kind(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
            }
            if a.is_loopback() {
                Some("loopback")
            } else if a.is_unspecified() {
                Some("unspecified")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("unique-local")
            } else if seg[0] & 0xffc0 == 0xfe80 || seg[0] & 0xffc0 == 0xfec0 {
                Some("link-local")
            } else if a.is_multicast() {
                Some("multicast")
            } else if seg[0] == 0 && seg[1..6] == [0; 5] {
                // Deprecated IPv4-compatible addresses (::a.b.c.d).
                Some("reserved")
            } else {
                None
            }
        }
    }
}

fn v4_kind(a: Ipv4Addr) -> Option<&'static str> {
    let [o0, o1, ..] = a.octets();
    if a.is_loopback() {
        Some("loopback")
    } else if a.is_private() {
        Some("private")
    } else if a.is_link_local() {
        Some("link-local")
    } else if a.is_unspecified() || o0 == 0 {
        Some("unspecified")
    } else if a.is_broadcast() || a.is_multicast() || o0 >= 240 {
        Some("reserved")
    } else if o0 == 100 && (64..128).contains(&o1) {
        Some("shared (carrier-grade NAT)")
    } else {
        None
    }
}

/// Refuses `url` before any request when the guard is on: `file://`, and
/// hosts written as a non-public IP address.
pub fn check_url(url: &Url) -> Result<(), Blocked> {
    if url.scheme() == "file" {
        return Err(Blocked("file:// feeds are not allowed".into()));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(a)) => IpAddr::V4(a),
        Some(Host::Ipv6(a)) => IpAddr::V6(a),
        _ => return Ok(()),
    };
    match private_kind(ip) {
        Some(kind) => Err(Blocked(format!("{ip} is a {kind} address"))),
        None => Ok(()),
    }
}

/// Resolves names with the system resolver and keeps only public
/// addresses; a name with none left fails.
#[derive(Debug, Default)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| private_kind(a.ip()).is_none())
                .collect();
            if public.is_empty() {
                let shown = all.first().map_or("no address".to_string(), |a| {
                    let kind = private_kind(a.ip()).unwrap_or("public");
                    format!("{} is a {kind} address", a.ip())
                });
                return Err(Box::new(Blocked(format!("{host} resolves to {shown}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The guard's refusal somewhere in an error's `source()` chain.
pub fn find_blocked(e: &(dyn std::error::Error + 'static)) -> Option<Blocked> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(b.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        private_kind(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_recognised() {
        for (ip, k) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("255.255.255.255", "reserved"),
            ("224.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("::127.0.0.1", "reserved"),
            ("ff02::1", "multicast"),
        ] {
            assert_eq!(kind(ip), Some(k), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "1.1.1.1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn literal_hosts_and_files_are_refused() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(&u("http://127.0.0.1:8080/feed")).is_err());
        // The URL parser normalises other spellings of an IPv4 address.
        assert!(check_url(&u("http://0x7f.1/feed")).is_err());
        assert!(check_url(&u("http://2130706433/feed")).is_err());
        assert!(check_url(&u("http://[::ffff:7f00:1]/feed")).is_err());
        assert!(check_url(&u("http://169.254.169.254/latest/meta-data/")).is_err());
        assert!(check_url(&u("file:///etc/passwd")).is_err());
        assert!(check_url(&u("https://example.org/feed")).is_ok());
        assert!(check_url(&u("http://93.184.216.34/feed")).is_ok());
    }
}
