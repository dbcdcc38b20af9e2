//! Where a webhook may deliver: an `https://` URL whose host resolves to
//! public addresses only. The owner chooses the URL, so it must not reach
//! the gateway's own network (cloud metadata, databases, admin consoles).
//! The check is made when the webhook is registered, and again at every
//! delivery when connecting (names can be re-pointed: DNS rebinding), with
//! redirects never followed. The operator may allow `http://` and loopback
//! addresses for tests and development (`webhook_allow_local_http`).

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::harvest::egress::is_public;

/// The longest webhook URL accepted, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// How long resolving a target's name may take at registration.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which targets the operator allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    /// `http://` and loopback addresses too (tests and development).
    pub allow_local_http: bool,
}

/// Why a URL is not a webhook target; each says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefusal {
    #[error("not an absolute URL with a host")]
    NotUrl,
    #[error("longer than {MAX_URL_BYTES} bytes")]
    TooLong,
    #[error("webhooks are delivered over HTTPS only: use an https:// URL")]
    NotHttps,
    #[error(
        "a user name or password does not belong in the URL: authenticate deliveries by their signature"
    )]
    Credentials,
    #[error("`{0}` is not a public address (private, loopback, link-local or otherwise special)")]
    NotPublic(IpAddr),
    #[error("`{0}` does not resolve")]
    Unresolved(String),
}

impl TargetRefusal {
    /// A short name for clients to match on (`extensions.reason`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotUrl | Self::TooLong | Self::Credentials => "invalid_url",
            Self::NotHttps => "not_https",
            Self::NotPublic(_) => "not_public_address",
            Self::Unresolved(_) => "unresolved",
        }
    }
}

impl TargetPolicy {
    /// Whether a delivery may connect to `ip`.
    pub fn accepts(self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_local_http && ip.is_loopback())
    }

    /// `text` as a target, judged from the URL alone: its scheme, and the
    /// address when the URL names one (a name is checked when resolved).
    pub fn check_url(self, text: &str) -> Result<Url, TargetRefusal> {
        if text.len() > MAX_URL_BYTES {
            return Err(TargetRefusal::TooLong);
        }
        let url = Url::parse(text.trim()).map_err(|_| TargetRefusal::NotUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_local_http => {}
            _ => return Err(TargetRefusal::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetRefusal::Credentials);
        }
        let literal = match url.host() {
            None => return Err(TargetRefusal::NotUrl),
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(Host::Domain(_)) => None,
        };
        match literal {
            Some(ip) if !self.accepts(ip) => Err(TargetRefusal::NotPublic(ip)),
            _ => Ok(url),
        }
    }

    /// [`Self::check_url`], and every address the name resolves to now.
    pub async fn check(self, text: &str) -> Result<Url, TargetRefusal> {
        let url = self.check_url(text)?;
        if let Some(Host::Domain(name)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            let unresolved = || TargetRefusal::Unresolved(name.to_owned());
            let addresses =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
                    .await
                    .map_err(|_| unresolved())?
                    .map_err(|_| unresolved())?;
            for address in addresses {
                if !self.accepts(address.ip()) {
                    return Err(TargetRefusal::NotPublic(address.ip()));
                }
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_local_http: false,
    };
    const LOCAL: TargetPolicy = TargetPolicy {
        allow_local_http: true,
    };

    #[test]
    fn only_https_urls_at_public_addresses_are_targets_unless_local_ones_are_allowed() {
        for (text, strict, local) in [
            ("https://hooks.example.org/catalogue", Ok(()), Ok(())),
            ("https://1.1.1.1/hook", Ok(()), Ok(())),
            ("http://hooks.example.org/", Err("not_https"), Ok(())),
            ("http://127.0.0.1:8080/", Err("not_https"), Ok(())),
            ("https://127.0.0.1/", Err("not_public_address"), Ok(())),
            ("https://[::1]/", Err("not_public_address"), Ok(())),
            (
                "https://10.0.0.1/",
                Err("not_public_address"),
                Err("not_public_address"),
            ),
            (
                "https://169.254.169.254/latest",
                Err("not_public_address"),
                Err("not_public_address"),
            ),
            (
                "http://192.168.1.1/",
                Err("not_https"),
                Err("not_public_address"),
            ),
            (
                "https://user:pw@hooks.example.org/",
                Err("invalid_url"),
                Err("invalid_url"),
            ),
            (
                "ftp://hooks.example.org/",
                Err("not_https"),
                Err("not_https"),
            ),
            ("hooks.example.org", Err("invalid_url"), Err("invalid_url")),
        ] {
            let judged =
                |policy: TargetPolicy| policy.check_url(text).map(|_| ()).map_err(|e| e.reason());
            assert_eq!(judged(STRICT), strict, "{text}");
            assert_eq!(judged(LOCAL), local, "{text} (local allowed)");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_unless_allowed() {
        let refused = STRICT.check("https://localhost/hook").await.unwrap_err();
        assert_eq!(refused.reason(), "not_public_address", "{refused}");
        assert!(LOCAL.check("http://localhost:9/hook").await.is_ok());
        let unknown = STRICT
            .check("https://no-such-host.invalid/")
            .await
            .unwrap_err();
        assert_eq!(unknown.reason(), "unresolved");
    }
}
