//! How tokens are trusted: the issuers, the algorithms and clock skew
//! accepted, the administrators, the gateway's own tokens and their signing
//! keys, and dev tokens.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use super::values::{
    EncryptionKey, encryption_key, flag, list, non_empty, optional_path, path, seconds,
};

/// One trusted token issuer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Exactly the `iss` its tokens carry.
    pub issuer: String,
    /// Its JWKS; when absent, read from its discovery document.
    pub jwks_url: Option<String>,
    /// The `aud` its tokens must carry.
    pub audience: String,
}

section! {
    /// Tokens: who issues those the gateway trusts, and its own.
    pub struct Auth in auth {
        /// The issuer whose tokens are trusted (`iss`); its keys come from the
        /// `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
        oidc_issuer: Option<String> = None => non_empty,
        /// The issuer's JWKS, when it publishes no discovery document.
        jwks_url: Option<String> = None => non_empty,
        /// The `aud` every token must carry.
        jwt_audience: Option<String> = None => non_empty,
        /// More trusted issuers (TOML only): e.g. ProConnect for people and an
        /// internal issuer for other administrations' tools.
        issuers: Vec<IssuerConfig> = Vec::new(),
        /// Emails or subs of the catalogue's administrators.
        admins: Vec<String> = Vec::new() => list,
        /// Signature algorithms accepted (asymmetric only).
        jwt_algorithms: Vec<String> = ["RS256", "ES256", "PS256"].map(str::to_owned).to_vec() => list,
        /// Clock skew tolerated on `exp` and `nbf` of other issuers' tokens, in
        /// seconds (the gateway's own tokens get none).
        jwt_leeway_seconds: u64 = 60 => seconds,
        /// Least time between two JWKS fetches caused by unknown key ids, in seconds.
        jwks_refetch_seconds: u64 = 30 => seconds,
        /// How often the JWKS is refreshed in the background, in seconds.
        jwks_refresh_seconds: u64 = 3600 => seconds,
        /// How long the gateway's own tokens last, in seconds.
        token_lifetime_seconds: u64 = 3600 => seconds,
        /// P-256 PKCS#8 PEM keys to sign the gateway's tokens with, read at start
        /// and never written to the database: the first signs, any others only
        /// verify. Unset: a key generated on first start and kept in the database
        /// for every replica.
        signing_key_file: Option<PathBuf> = None => optional_path,
        /// Encrypts the signing keys kept in the database (base64 of 32 bytes);
        /// unset: they are kept in plain text, with a warning at start.
        signing_key_encryption_key: Option<EncryptionKey> = None => encryption_key,
        /// Trust tokens from `catalogue-gateway dev-token` (front-end development only).
        dev_auth: bool = false => flag,
        /// The local key dev tokens are signed with; created on first use.
        dev_key_file: PathBuf = PathBuf::from("data/dev-signing-key.pem") => path,
    }
}

impl Auth {
    /// Every trusted issuer: the one of `oidc_issuer`/`jwks_url`/`jwt_audience`,
    /// then those of `issuers`.
    pub fn trusted_issuers(&self) -> Result<Vec<IssuerConfig>, ConfigError> {
        let mut trusted = Vec::new();
        match (&self.oidc_issuer, &self.jwks_url, &self.jwt_audience) {
            (None, None, None) => {}
            (Some(issuer), jwks_url, Some(audience)) => trusted.push(IssuerConfig {
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                audience: audience.clone(),
            }),
            (None, Some(_), _) => {
                return Err(ConfigError::Conflict(
                    "CATALOGUE_JWKS_URL is set without CATALOGUE_OIDC_ISSUER: set the issuer too, tokens' `iss` is checked against it".into(),
                ));
            }
            (_, _, None) => {
                return Err(ConfigError::Conflict(
                    "a token issuer is configured without CATALOGUE_JWT_AUDIENCE: set the audience tokens must carry".into(),
                ));
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::Conflict(
                    "CATALOGUE_JWT_AUDIENCE is set without CATALOGUE_OIDC_ISSUER: set the issuer whose tokens to trust".into(),
                ));
            }
        }
        trusted.extend(self.issuers.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        for issuer in &trusted {
            if !seen.insert(issuer.issuer.as_str()) {
                return Err(ConfigError::Conflict(format!(
                    "issuer `{}` is configured twice",
                    issuer.issuer
                )));
            }
        }
        Ok(trusted)
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        self.trusted_issuers()?;
        for name in &self.jwt_algorithms {
            if !matches!(
                name.as_str(),
                "RS256"
                    | "RS384"
                    | "RS512"
                    | "PS256"
                    | "PS384"
                    | "PS512"
                    | "ES256"
                    | "ES384"
                    | "EdDSA"
            ) {
                return Err(ConfigError::Conflict(format!(
                    "jwt_algorithms: `{name}` is not accepted; use asymmetric algorithms (RS256, PS256, ES256, …): keys come from a public JWKS"
                )));
            }
        }
        if self.token_lifetime_seconds < 60 {
            return Err(ConfigError::Conflict(
                "token_lifetime_seconds must be at least 60".into(),
            ));
        }
        if self.signing_key_file.is_some() && self.signing_key_encryption_key.is_some() {
            return Err(ConfigError::Conflict(
                "CATALOGUE_SIGNING_KEY_FILE and CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY are both set: \
                 keys from the file are never kept in the database; unset one"
                    .into(),
            ));
        }
        Ok(())
    }
}
