//! Validating one bearer JWT: header, issuer, key, signature, claims.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use super::keys::{IssuerKeys, KeyLookup};

/// The claims the gateway reads and writes (ProConnect's names).
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct Claims {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usual_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_id: Option<String>,
    /// The authentication level of the sign-in (ProConnect: `eidas1`, `eidas2`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Honoured only in tokens from the dev issuer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev_admin: bool,
    /// The client the token was issued to (RFC 9068; RFC 7662 for opaque
    /// tokens): how a configured tool is recognised by its tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The authorized party (OpenID Connect), read when there is no `client_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// In the gateway's own tokens: the sign-in they come from, what a
    /// logout revokes. Read from no other issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// In the gateway's own tokens: why the person is a public agent
    /// ([`super::agent_policy::Basis`]), absent when they are not. Read from
    /// no other issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_agent: Option<String>,
    /// In the gateway's own tokens: the email the catalogue names the person
    /// by (bound to their `sub`), absent when their email is bound to someone
    /// else. Read from no other issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue_email: Option<String>,
}

impl Claims {
    /// These claims completed by `other`'s where these have none.
    pub fn completed_by(self, other: Claims) -> Claims {
        Claims {
            sub: self.sub,
            email: self.email.or(other.email),
            given_name: self.given_name.or(other.given_name),
            usual_name: self.usual_name.or(other.usual_name),
            uid: self.uid.or(other.uid),
            siret: self.siret.or(other.siret),
            siren: self.siren.or(other.siren),
            organizational_unit: self.organizational_unit.or(other.organizational_unit),
            idp_id: self.idp_id.or(other.idp_id),
            acr: self.acr.or(other.acr),
            dev_admin: false,
            client_id: self.client_id.or(other.client_id),
            azp: self.azp.or(other.azp),
            sid: self.sid.or(other.sid),
            public_agent: None,
            catalogue_email: None,
        }
    }
}

/// Why a token was refused; each has a fixed reason code for clients and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the Authorization header is not readable text")]
    UnreadableHeader,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token names a critical header extension the gateway does not understand")]
    CriticalExtension,
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    #[error("the token's key id is not among the issuer's keys")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token lacks a required claim")]
    MissingClaim,
    #[error("the token carries no email")]
    MissingEmail,
    #[error("the issuer's keys cannot be fetched")]
    KeysUnavailable,
    #[error("the access token is not active")]
    Inactive,
    #[error("the access token was issued to a client whose tokens are not accepted")]
    UntrustedClient,
    #[error("the access token cannot be checked with its issuer")]
    IntrospectionFailed,
    #[error("the token's sign-in was ended by a logout")]
    Revoked,
}

impl Rejection {
    /// The fixed code logs and `extensions.reason` carry.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::NotBearer => "not_bearer",
            Rejection::UnreadableHeader => "unreadable_header",
            Rejection::Malformed => "malformed",
            Rejection::Algorithm => "algorithm",
            Rejection::CriticalExtension => "critical_extension",
            Rejection::UnknownIssuer => "unknown_issuer",
            Rejection::UnknownKey => "unknown_key",
            Rejection::Signature => "bad_signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Audience => "wrong_audience",
            Rejection::MissingClaim => "missing_claim",
            Rejection::MissingEmail => "missing_email",
            Rejection::KeysUnavailable => "keys_unavailable",
            Rejection::Inactive => "inactive",
            Rejection::UntrustedClient => "untrusted_client",
            Rejection::IntrospectionFailed => "introspection_failed",
            Rejection::Revoked => "revoked",
        }
    }
}

/// Whether `token` has a JWT's three dot-separated parts (else it may be an
/// opaque access token).
pub(super) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

/// The protected header's `crit`, as far as whether it is there at all.
#[derive(Deserialize)]
struct CriticalOnly {
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(value: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(value).map(|_| true)
}

/// Whether the JWS's protected header has `crit`. RFC 7515 §4.1.11: a
/// recipient that does not understand every extension `crit` names must
/// refuse the JWS; the gateway understands none, so any `crit` (even empty or
/// null) refuses it. jsonwebtoken reads `crit` but never checks it.
pub(crate) fn names_critical_extensions(token: &str) -> Result<bool, Rejection> {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Rejection::Malformed)?;
    serde_json::from_slice::<CriticalOnly>(&json)
        .map(|header| header.crit)
        .map_err(|_| Rejection::Malformed)
}

/// Who issued a valid JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Issuer {
    /// The gateway, after a ProConnect sign-in.
    Own,
    /// `catalogue-gateway dev-token`.
    Dev,
    /// Another trusted issuer.
    Trusted,
    /// ProConnect, for an opaque access token checked by introspection.
    Introspected,
}

/// The token's claims, and who issued it.
pub(super) async fn validate(
    token: &str,
    issuers: &[std::sync::Arc<IssuerKeys>],
    algorithms: &[Algorithm],
    leeway_seconds: u64,
) -> Result<(Claims, Issuer), Rejection> {
    // `alg: none` and unknown algorithms fail here: jsonwebtoken knows no such algorithm.
    let header = decode_header(token).map_err(|_| Rejection::Malformed)?;
    if names_critical_extensions(token)? {
        return Err(Rejection::CriticalExtension);
    }
    // The issuer is read before the signature is checked only to pick whose keys check it.
    let unverified: IssuerOnly =
        jsonwebtoken::dangerous::insecure_decode_claims::<IssuerOnly>(token)
            .map_err(|_| Rejection::Malformed)?;
    let issuer = unverified
        .iss
        .as_deref()
        .and_then(|iss| issuers.iter().find(|i| i.issuer() == iss))
        .ok_or(Rejection::UnknownIssuer)?;
    // The gateway's own and dev tokens are ES256 whatever the accepted list
    // says (their keys are restricted to it); other issuers follow the list.
    if !algorithms.contains(&header.alg) && !issuer.has_fixed_algorithm() {
        return Err(Rejection::Algorithm);
    }
    let kid = header.kid.as_deref().ok_or(Rejection::UnknownKey)?;
    let key = match issuer.key(kid, header.alg).await {
        KeyLookup::Found(key) => key,
        KeyLookup::Unknown => return Err(Rejection::UnknownKey),
        KeyLookup::Unavailable => return Err(Rejection::KeysUnavailable),
    };
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![header.alg];
    // The gateway's own tokens are checked by the clock that stamped them:
    // a 60 s token is refused from its 61st second.
    validation.leeway = if issuer.is_own() { 0 } else { leeway_seconds };
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer.issuer()]);
    validation.set_audience(&[issuer.audience()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Claims>(token, &key, &validation)
        .map(|data| {
            let from = if issuer.is_own() {
                Issuer::Own
            } else if issuer.is_dev() {
                Issuer::Dev
            } else {
                Issuer::Trusted
            };
            (data.claims, from)
        })
        .map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature => Rejection::Expired,
            ErrorKind::ImmatureSignature => Rejection::NotYetValid,
            ErrorKind::InvalidAudience => Rejection::Audience,
            ErrorKind::InvalidIssuer => Rejection::UnknownIssuer,
            ErrorKind::InvalidSignature => Rejection::Signature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => Rejection::Algorithm,
            ErrorKind::MissingRequiredClaim(_) => Rejection::MissingClaim,
            _ => Rejection::Malformed,
        })
}
