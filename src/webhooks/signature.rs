//! How a delivery is signed, so its receiver knows it comes from the
//! gateway, unchanged, and recently:
//!
//! ```text
//! X-Catalogue-Timestamp: <Unix time in seconds when the attempt was sent>
//! X-Catalogue-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>
//! ```
//!
//! The timestamp is signed with the body: a receiver that refuses
//! timestamps more than a few minutes old refuses replays of a captured
//! delivery. Each attempt is signed anew (a retry carries its own time).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `X-Catalogue-Signature` value of `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value `printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac
    /// 'It is a secret of 32 characters!'` prints, as the README's check does.
    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_a_dot_and_the_body() {
        assert_eq!(
            signature(
                b"It is a secret of 32 characters!",
                1_700_000_000,
                "{\"a\":1}"
            ),
            "sha256=d05f3927cfe3596b8657166fd0313cc7f2df69e3d63c676a1ddd219315209c8a"
        );
    }
}
