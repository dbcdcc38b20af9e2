//! Sign-in with ProConnect: the gateway's registration there, what it asks
//! for, where a sign-in may return to, and whose access tokens it accepts
//! by introspection.

use super::ConfigError;
use super::values::{Secret, flag, is_http_url, list, non_empty, seconds, secret, trimmed};

/// ProConnect's default scopes: the claims the catalogue reads, all in
/// ProConnect's base configuration (`organizational_unit` is not: asking for
/// it unallowed fails the whole sign-in with `invalid_scope`).
pub const PROCONNECT_SCOPES: &str = "openid email given_name usual_name uid siret idp_id";

section! {
    /// ProConnect: sign-in and introspection.
    pub struct ProConnect in proconnect {
        /// ProConnect's issuer (`…/api/v2`); unset: no sign-in, no introspection.
        proconnect_issuer: Option<String> = None => non_empty,
        proconnect_client_id: Option<String> = None => non_empty,
        proconnect_client_secret: Option<Secret> = None => secret,
        /// Registered at ProConnect; unset: `<public_url>/auth/callback`.
        proconnect_redirect_url: Option<String> = None => non_empty,
        /// Space-separated scopes asked for.
        proconnect_scopes: String = PROCONNECT_SCOPES.to_owned() => trimmed,
        /// `acr_values` asked for; when set, the ID token's `acr` must be one of them.
        proconnect_acr_values: Option<String> = None => non_empty,
        /// Whether userinfo must answer a signed JWT (ProConnect does once a
        /// userinfo algorithm is registered); off: plain JSON is accepted too.
        proconnect_userinfo_signed: bool = true => flag,
        /// The one algorithm the client was registered with at ProConnect.
        proconnect_signing_alg: String = "RS256".to_owned() => trimmed,
        /// ProConnect client ids of other administrations' tools whose access
        /// tokens are accepted (checked by introspection); ours always is.
        proconnect_introspection_clients: Vec<String> = Vec::new() => list,
        /// Longest an introspection answer is kept, in seconds (never longer
        /// than the token lives): a token revoked at ProConnect is refused
        /// within this bound.
        proconnect_introspection_cache_seconds: u64 = 60 => seconds,
        /// How long a ProConnect session can live, in seconds: what logout needs
        /// (`id_token_hint`) is kept that long after a sign-in, in an HttpOnly cookie.
        proconnect_session_seconds: u64 = 12 * 3600 => seconds,
        /// Origins of the portals a sign-in may return to (the gateway's own is always allowed).
        signin_redirect_origins: Vec<String> = Vec::new() => list,
        /// Who is a public agent (ProConnect also signs in people who are not):
        /// identity providers (`idp_id`) that sign in public agents only.
        public_agent_idps: Vec<String> = Vec::new() => list,
        /// SIRETs (14 digits) or SIRENs (9) of public bodies, besides the
        /// catalogue's organizations'.
        public_agent_sirets: Vec<String> = Vec::new() => list,
        /// Email domains of public bodies (a domain also covers its subdomains).
        public_agent_email_domains: Vec<String> = Vec::new() => list,
        /// Whether a SIRET whose SIREN starts with 1 or 2 (INSEE numbers public
        /// bodies so) makes its holder a public agent.
        public_agent_public_sirens: bool = true => flag,
    }
}

impl ProConnect {
    /// ProConnect is all or nothing; URLs must parse; the algorithm must be one
    /// ProConnect signs with.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let conflict = |message: String| Err(ConfigError::Conflict(message));
        for origin in &self.signin_redirect_origins {
            if !is_http_url(origin) {
                return conflict(format!(
                    "signin_redirect_origins: `{origin}` is not an origin like https://portail.example.gouv.fr"
                ));
            }
        }
        let proconnect = [
            (
                "CATALOGUE_PROCONNECT_ISSUER",
                self.proconnect_issuer.is_some(),
            ),
            (
                "CATALOGUE_PROCONNECT_CLIENT_ID",
                self.proconnect_client_id.is_some(),
            ),
            (
                "CATALOGUE_PROCONNECT_CLIENT_SECRET",
                self.proconnect_client_secret.is_some(),
            ),
        ];
        let missing: Vec<&str> = proconnect
            .iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() && missing.len() < proconnect.len() {
            return conflict(format!(
                "ProConnect is partly configured: set {} too",
                missing.join(", ")
            ));
        }
        if let Some(issuer) = &self.proconnect_issuer
            && !is_http_url(issuer)
        {
            return conflict(format!(
                "proconnect_issuer `{issuer}` is not an http(s) URL"
            ));
        }
        if let Some(url) = &self.proconnect_redirect_url
            && !is_http_url(url)
        {
            return conflict(format!(
                "proconnect_redirect_url `{url}` is not an http(s) URL"
            ));
        }
        if !matches!(
            self.proconnect_signing_alg.as_str(),
            "RS256" | "ES256" | "HS256"
        ) {
            return conflict(format!(
                "proconnect_signing_alg `{}` is not one ProConnect signs with: RS256, ES256 or HS256, as registered for the client",
                self.proconnect_signing_alg
            ));
        }
        for number in &self.public_agent_sirets {
            if !(matches!(number.len(), 9 | 14) && number.bytes().all(|b| b.is_ascii_digit())) {
                return conflict(format!(
                    "public_agent_sirets: `{number}` is neither a SIRET (14 digits) nor a SIREN (9 digits)"
                ));
            }
        }
        for domain in &self.public_agent_email_domains {
            if domain.is_empty() || domain.contains('@') || !domain.contains('.') {
                return conflict(format!(
                    "public_agent_email_domains: `{domain}` is not a domain like interieur.gouv.fr"
                ));
            }
        }
        if self.proconnect_session_seconds < 60 {
            return conflict(
                "proconnect_session_seconds must be at least 60 (ProConnect's sessions last 12 hours)".into(),
            );
        }
        if self.proconnect_introspection_cache_seconds == 0 {
            return conflict(
                "proconnect_introspection_cache_seconds must be at least 1 (it bounds how long a revoked token is still accepted)".into(),
            );
        }
        if !self
            .proconnect_scopes
            .split_whitespace()
            .any(|scope| scope == "openid")
        {
            return conflict("proconnect_scopes must include `openid`".into());
        }
        Ok(())
    }
}
