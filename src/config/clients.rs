//! Configured clients (`CATALOGUE_CLIENTS`, or `[[clients]]` in the TOML
//! file): routers and tools that call on behalf of many users, each with a
//! rate limit of its own. A client is recognised only by what no other
//! caller can send: a secret key, the address it connects from, or the
//! client id a trusted issuer signed into its token.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::Deserialize;

use super::{ConfigError, Secret};

/// One configured client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Names the client in `RateLimit-Policy` and the access log.
    pub id: ClientId,
    /// A secret the client sends in `Catalogue-Client-Key`.
    pub key: Option<ClientKey>,
    /// Addresses (`192.0.2.7`) or blocks (`10.0.0.0/8`, `2001:db8::/32`) the
    /// client connects from: the address rate limits see (the last
    /// `X-Forwarded-For` hop when `CATALOGUE_TRUST_FORWARDED_FOR=1`).
    #[serde(default)]
    pub addresses: Vec<AddressBlock>,
    /// The `client_id` (else `azp`) of the tokens it presents, signed by a
    /// trusted issuer.
    pub token_client_id: Option<String>,
    /// Requests per minute; 0: no limit.
    pub rate_limit_per_minute: u64,
    /// Requests it may make at once above the steady rate.
    pub rate_limit_burst: u64,
    /// The HTTP status of an answer refused for going over the limit.
    #[serde(default)]
    pub rate_limited_status: RateLimitedStatus,
}

/// A client's name: lower-case letters, digits, `-`, `_` and `.`, so it
/// can stand in a header as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let valid = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if valid {
            Ok(Self(value))
        } else {
            Err(format!(
                "client id `{value}`: 1 to 64 lower-case letters, digits, `-`, `_` or `.`"
            ))
        }
    }
}

/// Fewest characters of a client key: it is all that stands between a
/// caller and the client's limits.
pub const CLIENT_KEY_MIN_CHARS: usize = 32;

/// A client's secret key; never printed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ClientKey(Secret);

impl ClientKey {
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl TryFrom<String> for ClientKey {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let printable = value.bytes().all(|b| b.is_ascii_graphic());
        if value.len() < CLIENT_KEY_MIN_CHARS || !printable {
            return Err(format!(
                "a client key is at least {CLIENT_KEY_MIN_CHARS} printable characters without spaces (make one with `openssl rand -base64 32`)"
            ));
        }
        Ok(Self(Secret::new(value)))
    }
}

/// An address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AddressBlock(ipnet::IpNet);

impl AddressBlock {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }

    fn overlaps(&self, other: &AddressBlock) -> bool {
        self.0.contains(&other.0.network()) || other.0.contains(&self.0.network())
    }
}

impl TryFrom<String> for AddressBlock {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let value = value.trim();
        let block = match value.parse::<IpAddr>() {
            Ok(address) => Ok(ipnet::IpNet::from(address)),
            Err(_) => value.parse::<ipnet::IpNet>(),
        };
        match block {
            // Written `10.1.2.3/8`, it means its block: `10.0.0.0/8`.
            Ok(block) => Ok(Self(block.trunc())),
            Err(_) => Err(format!(
                "`{value}` is neither an address (192.0.2.7) nor a block (10.0.0.0/8)"
            )),
        }
    }
}

impl std::fmt::Display for AddressBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How a request over a client's limit is answered. Both carry
/// `Retry-After`, the RateLimit headers and a `RATE_LIMITED` error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u16")]
pub enum RateLimitedStatus {
    /// `429 Too Many Requests`, as for every other caller.
    #[default]
    TooManyRequests,
    /// `200`: for routers that turn any other status into an error of
    /// their own (`@apollo/gateway` does), losing `RATE_LIMITED`.
    Ok,
}

impl TryFrom<u16> for RateLimitedStatus {
    type Error = String;

    fn try_from(status: u16) -> Result<Self, String> {
        match status {
            429 => Ok(Self::TooManyRequests),
            200 => Ok(Self::Ok),
            _ => Err(format!("rate_limited_status is 429 or 200, not {status}")),
        }
    }
}

/// The clients of `CATALOGUE_CLIENTS`: a JSON array of the objects a TOML
/// file writes as `[[clients]]`.
pub fn parse(value: &str) -> Result<Vec<ClientConfig>, String> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(value).map_err(|e| {
        format!(
            "not a JSON array of clients like [{{\"id\": \"router\", \"key\": \"…\", \"rate_limit_per_minute\": 6000, \"rate_limit_burst\": 1000}}] ({e})"
        )
    })
}

/// Each client is recognisable, and by one client only.
pub fn check(clients: &[ClientConfig]) -> Result<(), ConfigError> {
    let conflict = |message: String| Err(ConfigError::Conflict(format!("clients: {message}")));
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    let mut token_clients = HashSet::new();
    let mut blocks: Vec<(&AddressBlock, &ClientId)> = Vec::new();
    for client in clients {
        let id = client.id.as_str();
        if !ids.insert(id) {
            return conflict(format!("`{id}` is declared twice"));
        }
        if client.key.is_none() && client.addresses.is_empty() && client.token_client_id.is_none() {
            return conflict(format!(
                "`{id}` cannot be recognised: give it a `key`, `addresses` or a `token_client_id`"
            ));
        }
        if let Some(key) = &client.key
            && !keys.insert(key.expose())
        {
            return conflict(format!("`{id}` has the key of another client"));
        }
        if let Some(token_client) = &client.token_client_id
            && (token_client.trim().is_empty() || !token_clients.insert(token_client.as_str()))
        {
            return conflict(format!(
                "`{id}`: token_client_id `{token_client}` is empty or another client's"
            ));
        }
        for block in &client.addresses {
            if let Some((other, owner)) = blocks.iter().find(|(other, _)| block.overlaps(other)) {
                return conflict(format!(
                    "`{id}`'s {block} and `{}`'s {other} overlap: an address would belong to both",
                    owner.as_str()
                ));
            }
            blocks.push((block, &client.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn clients_parse_from_json_with_their_defaults() {
        let clients = parse(&format!(
            r#"[{{"id": "router", "key": "{KEY}", "rate_limit_per_minute": 6000, "rate_limit_burst": 1000}},
                {{"id": "tool", "addresses": ["10.1.2.3/8", "2001:db8::1"], "rate_limit_per_minute": 60,
                  "rate_limit_burst": 10, "rate_limited_status": 200}}]"#
        ))
        .unwrap();
        assert_eq!(
            clients[0].rate_limited_status,
            RateLimitedStatus::TooManyRequests
        );
        assert_eq!(clients[1].rate_limited_status, RateLimitedStatus::Ok);
        assert_eq!(clients[1].addresses[0].to_string(), "10.0.0.0/8");
        assert!(clients[1].addresses[1].contains("2001:db8::1".parse().unwrap()));
        assert!(
            !format!("{clients:?}").contains(KEY),
            "keys are never printed"
        );
        check(&clients).unwrap();
    }

    #[test]
    fn unrecognisable_ambiguous_or_weak_clients_are_refused() {
        let refused = |json: &str| match parse(json) {
            Err(message) => message,
            Ok(clients) => check(&clients).unwrap_err().to_string(),
        };
        let limits = r#""rate_limit_per_minute": 60, "rate_limit_burst": 10"#;
        for (json, says) in [
            (
                format!(r#"[{{"id": "a", {limits}}}]"#),
                "cannot be recognised",
            ),
            (
                format!(r#"[{{"id": "a", "key": "short", {limits}}}]"#),
                "at least 32",
            ),
            (
                format!(r#"[{{"id": "Router!", "key": "{KEY}", {limits}}}]"#),
                "lower-case",
            ),
            (
                format!(
                    r#"[{{"id": "a", "key": "{KEY}", {limits}}}, {{"id": "b", "key": "{KEY}", {limits}}}]"#
                ),
                "key of another client",
            ),
            (
                format!(
                    r#"[{{"id": "a", "addresses": ["10.0.0.0/8"], {limits}}}, {{"id": "b", "addresses": ["10.9.9.9"], {limits}}}]"#
                ),
                "overlap",
            ),
            (
                format!(r#"[{{"id": "a", "addresses": ["intranet"], {limits}}}]"#),
                "neither an address",
            ),
            (
                format!(r#"[{{"id": "a", "key": "{KEY}", "rate_limited_status": 503, {limits}}}]"#),
                "429 or 200",
            ),
            (
                format!(r#"[{{"id": "a", "key": "{KEY}", "burst": 3, {limits}}}]"#),
                "unknown field",
            ),
            (
                format!(r#"[{{"id": "a", "key": "{KEY}"}}]"#),
                "rate_limit_per_minute",
            ),
        ] {
            let message = refused(&json);
            assert!(message.contains(says), "{json}: {message}");
        }
    }
}
