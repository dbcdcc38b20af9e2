//! Where the harvest may connect. A link's URL comes from a maintainer and a
//! redirect's from an upstream answer, so neither chooses where the gateway
//! connects: the origins the operator configured (the services' base URLs and
//! the named GitLab instances) are reached as configured — scheme and address
//! included, so a service on a private network or the tests' fixture server on
//! `http://127.0.0.1:<port>` works — and a redirect may lead elsewhere only on
//! those hosts, over HTTPS, to addresses that are public. Addresses are
//! checked when connecting (a resolver that refuses special addresses), so a
//! name cannot resolve to one address when checked and another when used.
//!
//! Link checks ask the URLs maintainers wrote, and where they redirect, on
//! any host, over http or https, at public addresses only — but for the
//! origins the operator trusts for them ([`LinkEgress`]).
//!
//! Webhooks' deliveries connect through the same resolvers (`webhooks::target`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// How a URL may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A configured origin: as configured.
    Trusted,
    /// Another origin on a configured host: HTTPS, public addresses only.
    Guarded,
}

/// Why a URL is not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its host is not a configured one, or it is not HTTPS: decided from
    /// the URL and the settings alone.
    NotAllowed,
    /// Its address is a special one (private, loopback, …).
    Address,
}

/// The origins the operator configured, and their hosts.
#[derive(Debug, Clone)]
pub struct Egress {
    trusted: Vec<url::Origin>,
    hosts: Vec<Host<String>>,
}

impl Egress {
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a Url>) -> Self {
        let mut egress = Self {
            trusted: Vec::new(),
            hosts: Vec::new(),
        };
        for url in configured {
            let origin = url.origin();
            if origin.is_tuple() && !egress.trusted.contains(&origin) {
                egress.trusted.push(origin);
            }
            if let Some(host) = url.host().map(|h| h.to_owned())
                && !egress.hosts.contains(&host)
            {
                egress.hosts.push(host);
            }
        }
        egress
    }

    /// How `url` may be fetched, or why not. A guarded URL whose host is a
    /// name is checked again when connecting (see [`PublicOnly`]).
    pub fn reach(&self, url: &Url) -> Result<Reach, Refusal> {
        if self.trusted.contains(&url.origin()) {
            return Ok(Reach::Trusted);
        }
        let Some(host) = url.host().map(|h| h.to_owned()) else {
            return Err(Refusal::NotAllowed);
        };
        if !self.hosts.contains(&host) || url.scheme() != "https" {
            return Err(Refusal::NotAllowed);
        }
        // An address written in the URL is never resolved: check it here.
        let literal = match host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        };
        match literal {
            Some(ip) if !is_public(ip) => Err(Refusal::Address),
            _ => Ok(Reach::Guarded),
        }
    }
}

/// How a link check may fetch a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkReach {
    /// An origin the operator trusts for link checks: as written.
    Trusted,
    /// Anything else over http(s): public addresses only, checked when connecting.
    Public,
}

/// Where link checks may connect.
#[derive(Debug, Clone, Default)]
pub struct LinkEgress {
    trusted: Vec<url::Origin>,
}

impl LinkEgress {
    pub fn new<'a>(trusted: impl IntoIterator<Item = &'a Url>) -> Self {
        Self {
            trusted: trusted.into_iter().map(Url::origin).collect(),
        }
    }

    /// How `url` may be fetched, or why not: decided from the URL and the
    /// settings; a name is checked again when connecting (see [`PublicOnly`]).
    pub fn reach(&self, url: &Url) -> Result<LinkReach, Refusal> {
        if self.trusted.contains(&url.origin()) {
            return Ok(LinkReach::Trusted);
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::NotAllowed);
        }
        let literal = match url.host() {
            None => return Err(Refusal::NotAllowed),
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
        };
        match literal {
            Some(ip) if !is_public(ip) => Err(Refusal::Address),
            _ => Ok(LinkReach::Public),
        }
    }
}

/// A name resolved to a special address; the connection is not made.
#[derive(Debug, thiserror::Error)]
#[error("`{name}` resolves to {address}, which is not a public address")]
pub struct RefusedAddress {
    name: String,
    address: IpAddr,
}

impl RefusedAddress {
    /// The name that was refused.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A name the resolver could not resolve.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve `{name}`: {source}")]
pub struct Unresolved {
    name: String,
    source: std::io::Error,
}

impl Unresolved {
    /// The name that was not found.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Resolves names with the system's resolver and refuses any that resolves
/// to a special address (all of its addresses must be public, so a mixed
/// answer cannot steer a retry to the special one).
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        resolve_only(name, is_public)
    }
}

/// [`PublicOnly`], loopback addresses also accepted: for webhooks' targets
/// when the operator allows local ones (tests and development).
pub struct PublicOrLoopback;

impl reqwest::dns::Resolve for PublicOrLoopback {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        resolve_only(name, |ip| is_public(ip) || ip.is_loopback())
    }
}

/// Resolves `name`, refusing it when any of its addresses is not `accepted`.
fn resolve_only(name: reqwest::dns::Name, accepted: fn(IpAddr) -> bool) -> reqwest::dns::Resolving {
    let name = name.as_str().to_owned();
    Box::pin(async move {
        let found = tokio::net::lookup_host((name.as_str(), 0))
            .await
            .map(Iterator::collect::<Vec<SocketAddr>>);
        let addresses = match found {
            Ok(addresses) => addresses,
            Err(source) => return Err(Box::new(Unresolved { name, source }) as _),
        };
        if let Some(refused) = addresses.iter().find(|a| !accepted(a.ip())) {
            return Err(Box::new(RefusedAddress {
                address: refused.ip(),
                name,
            }) as _);
        }
        Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
    })
}

/// Whether `ip` is an ordinary address of the public Internet: not private,
/// loopback, link-local, unique-local, multicast, unspecified, documentation,
/// shared (CGNAT), benchmarking, reserved or otherwise special (IANA's
/// special-purpose registries), IPv4 embedded in IPv6 judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

/// IPv4 special-purpose blocks (RFC 6890 and its updates).
const SPECIAL_V4: [(Ipv4Addr, u32); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGNAT)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !SPECIAL_V4
        .iter()
        .any(|(network, length)| bits >> (32 - length) == u32::from(*network) >> (32 - length))
}

/// Special blocks inside 2000::/3, the only IPv6 unicast space in use.
const SPECIAL_V6: [(Ipv6Addr, u32); 5] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, …)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16), // SRv6 segment identifiers
];

fn in_v6(ip: Ipv6Addr, network: Ipv6Addr, length: u32) -> bool {
    u128::from(ip) >> (128 - length) == u128::from(network) >> (128 - length)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // IPv4-mapped (::ffff:0:0/96) and the NAT64 well-known prefix
    // (64:ff9b::/96) carry an IPv4 address the connection ends at.
    if in_v6(ip, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96)
        || in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)
    {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Everything outside global unicast is special: unspecified, loopback,
    // IPv4-compatible, discard, unique-local, link-local, site-local, multicast.
    in_v6(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3)
        && !SPECIAL_V6
            .iter()
            .any(|(network, length)| in_v6(ip, *network, *length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn special_ipv4_addresses_are_not_public() {
        for address in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(address), "{address} is special");
        }
    }

    #[test]
    fn ordinary_ipv4_addresses_are_public_even_beside_special_blocks() {
        for address in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "140.82.121.6",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(public(address), "{address} is public");
        }
    }

    #[test]
    fn special_ipv6_addresses_are_not_public() {
        for address in [
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::ffff:100.64.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "2002:c000:0204::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff05::1:3",
        ] {
            assert!(!public(address), "{address} is special");
        }
    }

    #[test]
    fn global_ipv6_addresses_and_embedded_public_ipv4_are_public() {
        for address in [
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "2001:4860:4860::8888",
            "2001:200::1",
            "::ffff:140.82.121.6",
            "64:ff9b::8c52:7906",
        ] {
            assert!(public(address), "{address} is public");
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn configured_origins_are_trusted_and_other_origins_on_their_hosts_are_guarded() {
        let github = url("https://api.github.com");
        let fixture = url("http://127.0.0.1:8081/api/v4");
        let egress = Egress::new([&github, &fixture]);
        for (target, reach) in [
            ("https://api.github.com/repos/a/b", Ok(Reach::Trusted)),
            ("https://api.github.com:443/x", Ok(Reach::Trusted)),
            ("http://127.0.0.1:8081/anything", Ok(Reach::Trusted)),
            ("https://api.github.com:8443/x", Ok(Reach::Guarded)),
            ("http://api.github.com/x", Err(Refusal::NotAllowed)),
            ("https://github.com/x", Err(Refusal::NotAllowed)),
            ("https://gitlab.internal/x", Err(Refusal::NotAllowed)),
            ("http://127.0.0.1:8082/x", Err(Refusal::NotAllowed)),
            ("https://127.0.0.1:8082/x", Err(Refusal::Address)),
            ("https://169.254.169.254/latest", Err(Refusal::NotAllowed)),
        ] {
            assert_eq!(egress.reach(&url(target)), reach, "{target}");
        }
    }

    #[test]
    fn link_checks_reach_trusted_origins_as_written_and_other_http_urls_at_public_addresses() {
        let fixture = url("http://127.0.0.1:8081");
        let egress = LinkEgress::new([&fixture]);
        for (target, reach) in [
            ("http://127.0.0.1:8081/ok", Ok(LinkReach::Trusted)),
            ("http://127.0.0.1:8082/ok", Err(Refusal::Address)),
            ("https://127.0.0.1:8081/ok", Err(Refusal::Address)),
            ("http://10.1.2.3/", Err(Refusal::Address)),
            ("http://[::1]:8081/", Err(Refusal::Address)),
            ("http://169.254.169.254/latest", Err(Refusal::Address)),
            ("https://www.data.gouv.fr/fr/", Ok(LinkReach::Public)),
            ("http://example.org:8080/x", Ok(LinkReach::Public)),
            ("http://1.1.1.1/", Ok(LinkReach::Public)),
            ("ftp://example.org/file", Err(Refusal::NotAllowed)),
            ("file:///etc/passwd", Err(Refusal::NotAllowed)),
        ] {
            assert_eq!(egress.reach(&url(target)), reach, "{target}");
        }
    }

    #[tokio::test]
    async fn unknown_names_are_told_apart_from_refused_ones() {
        use reqwest::dns::Resolve;
        let unknown = PublicOnly
            .resolve("no-such-host.invalid".parse().unwrap())
            .await
            .err()
            .expect(".invalid never resolves");
        assert!(unknown.downcast_ref::<Unresolved>().is_some(), "{unknown}");
    }

    #[tokio::test]
    async fn names_resolving_to_special_addresses_are_refused_when_connecting() {
        use reqwest::dns::Resolve;
        let refused = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is loopback");
        assert!(
            refused.downcast_ref::<RefusedAddress>().is_some(),
            "{refused}"
        );
    }
}
