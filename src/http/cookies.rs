//! Reading and writing the gateway's cookies, and signing their values so a
//! forged one is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use poem::Request;
use poem::http::header;
use sha2::Sha256;

/// The value of the cookie `name` the request carries.
pub fn read(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// How a cookie is set.
pub struct CookieSpec<'a> {
    pub name: &'a str,
    pub path: &'a str,
    /// Sent over HTTPS only (when the gateway's public URL is https).
    pub secure: bool,
}

impl CookieSpec<'_> {
    /// A `Set-Cookie` value for `value`, kept `max_age_seconds`; HttpOnly,
    /// SameSite=Lax (so it comes back on the provider's redirect).
    pub fn set(&self, value: &str, max_age_seconds: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path={}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}",
            self.name, self.path
        )
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn clear(&self) -> String {
        self.set("", 0)
    }
}

/// Signs cookie values with a key every replica shares.
pub struct CookieSigner {
    key: Vec<u8>,
}

impl CookieSigner {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self, value: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(value.as_bytes());
        mac
    }

    /// `value` and its signature, as one cookie value.
    pub fn sign(&self, value: &str) -> String {
        let tag = URL_SAFE_NO_PAD.encode(self.mac(value).finalize().into_bytes());
        format!("{value}.{tag}")
    }

    /// The value of a cookie `sign` produced, or `None` when forged.
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (value, tag) = signed.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(value).verify_slice(&tag).ok()?;
        Some(value)
    }
}
