//! The values settings hold (secrets, keys) and how a variable's text is
//! read into each: every reader says what the value should be when it is
//! not.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Deserialize;

/// A credential: deserialized like a string, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A 256-bit key, given as the base64 of 32 bytes; never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<String> for EncryptionKey {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Self)
            .ok_or_else(|| {
                "not the base64 of 32 bytes (make one with `openssl rand -base64 32`)".to_owned()
            })
    }
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

// Readers of a variable's text, one per kind of value.

pub fn address(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|e| format!("`{value}` is not an address like 127.0.0.1:8080 ({e})"))
}

/// The text as it is.
pub fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

/// The text without surrounding blanks.
pub fn trimmed(value: &str) -> Result<String, String> {
    Ok(value.trim().to_owned())
}

/// The text without surrounding blanks; blank: unset.
pub fn non_empty(value: &str) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

pub fn path(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value))
}

/// A path; empty: unset.
pub fn optional_path(value: &str) -> Result<Option<PathBuf>, String> {
    Ok((!value.is_empty()).then(|| PathBuf::from(value)))
}

/// A secret; blank: unset.
pub fn secret(value: &str) -> Result<Option<Secret>, String> {
    Ok(non_empty(value)?.map(Secret))
}

/// An encryption key; blank: unset.
pub fn encryption_key(value: &str) -> Result<Option<EncryptionKey>, String> {
    non_empty(value)?.map(EncryptionKey::try_from).transpose()
}

/// A comma-separated list, blanks dropped.
pub fn list(value: &str) -> Result<Vec<String>, String> {
    Ok(value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect())
}

pub fn flag(value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(format!("`{value}` is neither 1 nor 0")),
    }
}

/// A whole number of `what` (`a count`, `a number of seconds`…).
fn number<T: FromStr>(value: &str, what: &str) -> Result<T, String>
where
    T::Err: Display,
{
    value
        .parse()
        .map_err(|e| format!("`{value}` is not {what} ({e})"))
}

pub fn count<T: FromStr>(value: &str) -> Result<T, String>
where
    T::Err: Display,
{
    number(value, "a count")
}

pub fn bytes<T: FromStr>(value: &str) -> Result<T, String>
where
    T::Err: Display,
{
    number(value, "a byte count")
}

pub fn days(value: &str) -> Result<u32, String> {
    number(value, "a number of days")
}

pub fn seconds(value: &str) -> Result<u64, String> {
    number(value, "a number of seconds")
}

pub fn milliseconds(value: &str) -> Result<u64, String> {
    number(value, "a number of milliseconds")
}

/// A rate: requests per minute.
pub fn per_minute(value: &str) -> Result<u64, String> {
    number(value, "a number of requests per minute")
}

/// A number of requests (a rate limit's burst).
pub fn requests(value: &str) -> Result<u64, String> {
    number(value, "a number of requests")
}

pub fn is_http_url(value: &str) -> bool {
    url::Url::parse(value)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

/// `scheme://host[:port]`, as browsers send it in `Origin` (a trailing `/` aside).
pub fn origin(value: &str) -> Option<url::Url> {
    url::Url::parse(value).ok().filter(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
    })
}

/// The URL with its password replaced, fit for messages and logs.
pub fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
