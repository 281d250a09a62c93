//! Where a fetch may go: the optional guard against server-side request
//! forgery (`[fetch] block_private_addresses`, off by default) and the
//! rule, always on, that a feed configured at a public address stays on
//! public addresses.
//!
//! Where the people who write feed URLs are not the people who run the
//! daemon (a shared aggregator), a feed URL is a way to make the daemon
//! request addresses only it can reach: the loopback interface, the local
//! network, a cloud metadata service. With the guard on, a request is
//! refused when its host is, or resolves only to, such an address (every
//! block of the IANA special-purpose registries that is not globally
//! reachable, including IPv4 carried inside IPv6), and `file://` URLs are
//! refused too.
//!
//! Without the guard, the [`Reach`] of a feed still bounds its hops: a feed
//! configured at a host name or a public address ([`Reach::Public`]) may not
//! be redirected, discovered or moved into a non-public address, since what
//! it returns is republished to the world. Feeds configured at a
//! non-public address, at `localhost`, as a file, or marked
//! `internal = true` ([`Reach::Internal`]) may go anywhere.
//!
//! Names are checked by the resolver reqwest connects with, so the
//! addresses checked are the addresses used (no second lookup an attacker
//! could answer differently); literal IPs, which reqwest never resolves,
//! are checked before each hop. A request through a proxy (a feed's own, or
//! the environment's with `[fetch] proxy = "env"`) is left to the proxy,
//! which resolves the name: only literal IPs are checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Why the guard refused an address; travels through reqwest's error
/// chain from the resolver and is recognised there.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Blocked(pub String);

/// What kind of non-public address `ip` is, or `None` for a public one.
///
/// Follows the IANA IPv4 and IPv6 special-purpose address registries:
/// every block that is not globally reachable counts, and so do the
/// translation and tunnelling prefixes whose embedded IPv4 address is not
/// public (NAT64, 6to4, Teredo).
pub fn private_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => v4_kind(a),
        IpAddr::V6(a) => v6_kind(a),
    }
}

fn v6_kind(a: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = a.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let seg = a.segments();
    let low_v4 = Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7]));
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its low bits; the
    // local-use NAT64 prefix (64:ff9b:1::/48) is not global at all.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_kind(low_v4);
    }
    if seg[..3] == [0x64, 0xff9b, 1] {
        return Some("local NAT64");
    }
    // 6to4 (2002::/16) embeds the IPv4 address of its relay.
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(seg[1]) << 16) | u32::from(seg[2]));
        return v4_kind(v4);
    }
    // Teredo (2001::/32) carries the client's address, obfuscated, in the
    // low bits and the server's in bits 32..64; both must be public.
    if seg[..2] == [0x2001, 0] {
        let server = Ipv4Addr::from((u32::from(seg[2]) << 16) | u32::from(seg[3]));
        let client = Ipv4Addr::from(!((u32::from(seg[6]) << 16) | u32::from(seg[7])));
        return v4_kind(server).or(v4_kind(client));
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
    } else if seg[..4] == [0x100, 0, 0, 0] {
        Some("discard-only (100::/64)")
    } else if seg[0] == 0x2001 && seg[1] & 0xfe00 == 0 {
        // 2001::/23, IETF protocol assignments (Teredo handled above).
        Some("reserved")
    } else if seg[..2] == [0x2001, 0xdb8] || seg[0] == 0x3fff && seg[1] & 0xf000 == 0 {
        Some("documentation")
    } else if seg[0] == 0x5f00 {
        Some("reserved (SRv6 SIDs)")
    } else {
        None
    }
}

fn v4_kind(a: Ipv4Addr) -> Option<&'static str> {
    let [o0, o1, o2, _] = a.octets();
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
    } else if o0 == 198 && (o1 == 18 || o1 == 19) {
        Some("benchmarking")
    } else if (o0, o1) == (192, 0) && o2 == 0 {
        Some("IETF protocol assignment")
    } else if matches!((o0, o1, o2), (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) {
        Some("documentation")
    } else if (o0, o1, o2) == (192, 88, 99) {
        Some("reserved (6to4 relay anycast)")
    } else {
        None
    }
}

/// Where a feed was configured to live, which bounds where its fetches
/// may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Configured at a host name or a public address, and not marked
    /// `internal`: every hop must stay on public addresses, so that no
    /// redirect, discovered link or move brings what only the daemon can
    /// reach into a published river.
    Public,
    /// Configured at a loopback, private or other non-public address, a
    /// `localhost` name, a local file, or marked `internal = true`.
    Internal,
}

/// The reach of a feed configured at `configured`.
pub fn reach(configured: &Url, marked_internal: bool) -> Reach {
    let internal = marked_internal
        || configured.scheme() == "file"
        || match configured.host() {
            Some(Host::Ipv4(a)) => private_kind(IpAddr::V4(a)).is_some(),
            Some(Host::Ipv6(a)) => private_kind(IpAddr::V6(a)).is_some(),
            Some(Host::Domain(d)) => is_localhost(d),
            None => true,
        };
    if internal {
        Reach::Internal
    } else {
        Reach::Public
    }
}

fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The rules in force for one fetch: the guard, and the feed's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// `[fetch] block_private_addresses`.
    pub guard: bool,
    /// Where the feed was configured.
    pub reach: Reach,
}

impl Rules {
    /// Whether names must resolve to public addresses only.
    pub fn public_only(self) -> bool {
        self.guard || self.reach == Reach::Public
    }

    /// Why an address refusal happened, appended to its message.
    pub fn because(self) -> &'static str {
        if self.guard {
            "(block_private_addresses)"
        } else {
            "(the feed is configured at a public address; mark it `internal = true` if it is an internal feed)"
        }
    }

    /// Refuses a hop before it is requested: `file://` under the guard,
    /// and hosts written as a non-public IP address (or a `localhost`
    /// name) when only public ones are allowed.
    pub fn check(self, url: &Url) -> Result<(), Blocked> {
        if url.scheme() == "file" {
            return if self.guard {
                Err(Blocked(format!(
                    "file:// feeds are not allowed {}",
                    self.because()
                )))
            } else {
                Ok(())
            };
        }
        if !self.public_only() {
            return Ok(());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(a)) => IpAddr::V4(a),
            Some(Host::Ipv6(a)) => IpAddr::V6(a),
            Some(Host::Domain(d)) if is_localhost(d) => {
                return Err(Blocked(format!(
                    "{d} is a loopback name {}",
                    self.because()
                )))
            }
            _ => return Ok(()),
        };
        match private_kind(ip) {
            Some(kind) => Err(Blocked(format!(
                "{ip} is a {kind} address {}",
                self.because()
            ))),
            None => Ok(()),
        }
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
    fn special_purpose_ranges_are_not_public() {
        for (ip, k) in [
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("240.0.0.1", "reserved"),
            ("0.0.0.1", "unspecified"),
            ("2002:7f00:1::", "loopback"),
            ("2002:c0a8:101::1", "private"),
            ("64:ff9b:1::a", "local NAT64"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::c612:1", "benchmarking"),
            // Teredo: server 65.54.227.120, client 127.0.0.1 (inverted bits).
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
            ("2001:0:a00:1:8000:63bf:3fff:fdd2", "private"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("100::1", "discard-only (100::/64)"),
            ("2001:2::1", "reserved"),
        ] {
            assert_eq!(kind(ip), Some(k), "{ip}");
        }
        for ip in [
            "198.20.0.1",
            "198.17.255.255",
            "192.0.1.1",
            "2002:5db8:d822::1",
            "64:ff9b::5db8:d822",
            "2001:0:4136:e378:8000:63bf:a247:1cdd",
            "2a00:1450::1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_guard_refuses_literal_hosts_and_files() {
        let guard = Rules {
            guard: true,
            reach: Reach::Internal,
        };
        for bad in [
            "http://127.0.0.1:8080/feed",
            // The URL parser normalises other spellings of an IPv4 address.
            "http://0x7f.1/feed",
            "http://2130706433/feed",
            "http://[::ffff:7f00:1]/feed",
            "http://169.254.169.254/latest/meta-data/",
            "http://[2002:7f00:1::]/feed",
            "file:///etc/passwd",
        ] {
            let e = guard.check(&u(bad)).unwrap_err();
            assert!(e.0.ends_with("(block_private_addresses)"), "{bad}: {e}");
        }
        assert!(guard.check(&u("https://example.org/feed")).is_ok());
        assert!(guard.check(&u("http://93.184.216.34/feed")).is_ok());
    }

    #[test]
    fn a_feeds_reach_follows_its_configured_url() {
        for (url, marked, want) in [
            ("https://example.org/feed", false, Reach::Public),
            ("http://93.184.216.34/feed", false, Reach::Public),
            ("https://example.org/feed", true, Reach::Internal),
            ("http://127.0.0.1:8080/feed", false, Reach::Internal),
            ("http://10.1.2.3/feed", false, Reach::Internal),
            ("http://[fe80::1]/feed", false, Reach::Internal),
            ("http://localhost:8080/feed", false, Reach::Internal),
            ("http://app.localhost./feed", false, Reach::Internal),
            ("file:///srv/feed.xml", false, Reach::Internal),
        ] {
            assert_eq!(reach(&u(url), marked), want, "{url} {marked}");
        }
    }

    /// Every configured reach against every class of hop, with the guard
    /// off and on.
    #[test]
    fn hops_by_reach_and_address_class() {
        let hops = [
            ("https://example.org/x", true, true, true),
            ("http://93.184.216.34/x", true, true, true),
            ("http://127.0.0.1/x", true, false, false),
            ("http://localhost:9/x", true, false, false),
            ("http://10.0.0.5/x", true, false, false),
            ("http://192.168.1.1/x", true, false, false),
            ("http://169.254.169.254/x", true, false, false),
            ("http://[::1]/x", true, false, false),
            ("http://[fd00::1]/x", true, false, false),
            ("http://[64:ff9b::a00:1]/x", true, false, false),
            ("http://198.18.0.1/x", true, false, false),
        ];
        for (hop, internal_ok, public_ok, guard_ok) in hops {
            let at = |guard, reach| Rules { guard, reach }.check(&u(hop)).is_ok();
            assert_eq!(
                at(false, Reach::Internal),
                internal_ok,
                "internal feed → {hop}"
            );
            assert_eq!(at(false, Reach::Public), public_ok, "public feed → {hop}");
            assert_eq!(at(true, Reach::Internal), guard_ok, "guard → {hop}");
            assert_eq!(at(true, Reach::Public), guard_ok, "guard, public → {hop}");
        }
        let public = Rules {
            guard: false,
            reach: Reach::Public,
        };
        let e = public.check(&u("http://10.0.0.5/x")).unwrap_err();
        assert!(e.0.contains("internal = true"), "{e}");
        assert!(public.public_only());
        assert!(!Rules {
            guard: false,
            reach: Reach::Internal
        }
        .public_only());
        // Files are the configured feed's own business unless the guard is on.
        assert!(public.check(&u("file:///srv/f.xml")).is_ok());
    }
}
