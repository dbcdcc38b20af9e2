//! The gateway as a token issuer: after a ProConnect sign-in it mints its own
//! ES256 JWT carrying ProConnect's claims, and publishes the keys that verify it.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header, encode};
use serde::Serialize;

use super::signing_keys::SigningKeys;
use super::token::Claims;

/// Mints and describes the gateway's own tokens.
pub struct OwnIssuer {
    /// The gateway's public URL: `iss` and `aud` of its tokens.
    issuer: String,
    lifetime: Duration,
    keys: Arc<SigningKeys>,
}

#[derive(Serialize)]
struct OwnClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    #[serde(flatten)]
    person: &'a Claims,
}

impl OwnIssuer {
    pub fn new(issuer: String, lifetime: Duration, keys: Arc<SigningKeys>) -> Self {
        Self {
            issuer,
            lifetime,
            keys,
        }
    }

    /// `iss` of the gateway's tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub(super) fn keys(&self) -> &Arc<SigningKeys> {
        &self.keys
    }

    /// A token for `person` from the sign-in `signin` (its `sid`, what a
    /// logout revokes), signed with the current key.
    /// `public_agent`: why the operator's policy counts them as a public
    /// agent; `catalogue_email`: the email the catalogue names them by.
    pub fn mint(
        &self,
        person: &Claims,
        signin: &str,
        public_agent: Option<super::agent_policy::Basis>,
        catalogue_email: Option<String>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let (kid, key) = self.keys.signing();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid);
        header.typ = Some("JWT".to_owned());
        // Only the claims the catalogue reads about the person: never the
        // dev-only flag, nor the client ProConnect issued its tokens to (a
        // tool configured by that id would take in every signed-in person).
        let person = Claims {
            dev_admin: false,
            client_id: None,
            azp: None,
            sid: Some(signin.to_owned()),
            public_agent: public_agent.map(|basis| basis.as_str().to_owned()),
            catalogue_email,
            ..person.clone()
        };
        let claims = OwnClaims {
            iss: &self.issuer,
            aud: &self.issuer,
            iat: now,
            exp: now + self.lifetime.as_secs(),
            person: &person,
        };
        encode(&header, &claims, &key)
    }

    /// The keys that verify the gateway's tokens (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> JwkSet {
        self.keys.jwks()
    }

    /// The discovery document (`/.well-known/openid-configuration`): what
    /// OpenID Connect Discovery 1.0 §3 requires, as far as the gateway does
    /// it: sign-in starts at `/auth/login`, which hands the token back in the
    /// URL's fragment (`response_type=token`, no token endpoint); the tokens
    /// are ES256 JWTs whose keys `jwks_uri` publishes. The gateway issues no
    /// ID tokens: `id_token_signing_alg_values_supported` names the one
    /// algorithm of its tokens.
    pub fn discovery(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.issuer,
            "authorization_endpoint": format!("{}/auth/login", self.issuer),
            "jwks_uri": format!("{}/.well-known/jwks.json", self.issuer),
            "response_types_supported": ["token"],
            "response_modes_supported": ["fragment"],
            "grant_types_supported": ["implicit"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "claims_supported": [
                "sub", "email", "given_name", "usual_name", "uid", "siret", "siren",
                "organizational_unit", "idp_id", "acr", "sid", "public_agent"
            ],
        })
    }
}
