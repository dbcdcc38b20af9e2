//! Who is a public agent. ProConnect signs in professionals of the private
//! sector too (it filters only for private services), so a valid ProConnect
//! identity is not enough: the operator's policy says which identity
//! providers, public bodies (SIRET/SIREN) and email domains count, and the
//! gateway applies it at sign-in and at introspection. See
//! docs/decisions/0022-who-is-a-public-agent.md.

use std::collections::HashSet;

use super::token::Claims;
use crate::config;
use crate::store::Store;

/// Why someone counts as a public agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Their identity provider is on the operator's list.
    IdentityProvider,
    /// Their SIRET or SIREN is on the operator's list.
    ListedOrganization,
    /// Their SIRET is one of the catalogue's organizations'.
    CatalogueOrganization,
    /// Their SIREN starts with 1 or 2: INSEE's numbers for public bodies.
    PublicSiren,
    /// Their email's domain is on the operator's list.
    EmailDomain,
    /// Their token comes from an issuer the operator trusts for agents (an
    /// administration's identity service, dev tokens).
    TrustedIssuer,
    /// They are among the catalogue's administrators.
    Administrator,
}

impl Basis {
    /// Its name in the gateway's tokens (`public_agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::IdentityProvider => "identity_provider",
            Basis::ListedOrganization => "listed_organization",
            Basis::CatalogueOrganization => "catalogue_organization",
            Basis::PublicSiren => "public_siren",
            Basis::EmailDomain => "email_domain",
            Basis::TrustedIssuer => "trusted_issuer",
            Basis::Administrator => "administrator",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Basis::IdentityProvider,
            Basis::ListedOrganization,
            Basis::CatalogueOrganization,
            Basis::PublicSiren,
            Basis::EmailDomain,
            Basis::TrustedIssuer,
            Basis::Administrator,
        ]
        .into_iter()
        .find(|basis| basis.as_str() == name)
    }
}

/// The operator's policy.
pub struct AgentPolicy {
    idps: HashSet<String>,
    /// SIRETs and SIRENs.
    organizations: HashSet<String>,
    email_domains: Vec<String>,
    public_sirens: bool,
    store: Store,
}

impl AgentPolicy {
    pub fn new(config: &config::ProConnect, store: Store) -> Self {
        Self {
            idps: config.public_agent_idps.iter().cloned().collect(),
            organizations: config.public_agent_sirets.iter().cloned().collect(),
            email_domains: config
                .public_agent_email_domains
                .iter()
                .map(|domain| domain.trim_start_matches('.').to_lowercase())
                .collect(),
            public_sirens: config.public_agent_public_sirens,
            store,
        }
    }

    /// Why the person `claims` describes is a public agent, or `None`.
    pub async fn basis(&self, claims: &Claims) -> Option<Basis> {
        if claims
            .idp_id
            .as_ref()
            .is_some_and(|idp| self.idps.contains(idp))
        {
            return Some(Basis::IdentityProvider);
        }
        if let Some(email) = &claims.email
            && let Some((_, domain)) = email.trim().to_lowercase().rsplit_once('@')
            && self
                .email_domains
                .iter()
                .any(|allowed| domain == allowed || domain.ends_with(&format!(".{allowed}")))
        {
            return Some(Basis::EmailDomain);
        }
        // Fourteen digits, without the checksum some genuine SIRETs fail.
        let siret: String = claims
            .siret
            .as_deref()?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let siren = &siret[..9];
        if self.organizations.contains(&siret) || self.organizations.contains(siren) {
            return Some(Basis::ListedOrganization);
        }
        if self.public_sirens && matches!(siren.as_bytes()[0], b'1' | b'2') {
            return Some(Basis::PublicSiren);
        }
        match self.store.is_catalogue_organization(&siret).await {
            Ok(true) => Some(Basis::CatalogueOrganization),
            Ok(false) => None,
            Err(error) => {
                tracing::warn!(%error, "cannot look the SIRET up among the catalogue's organizations");
                None
            }
        }
    }
}

/// Why someone signed in is not a public agent, for them to read.
pub fn why_not(claims_siret: Option<&str>) -> &'static str {
    match claims_siret {
        None => {
            "ProConnect gave no SIRET for you, and neither your identity provider nor your email domain is on this catalogue's list of public bodies: you see what anyone sees"
        }
        Some(_) => {
            "your organization (by its SIRET), your identity provider and your email domain are not on this catalogue's list of public bodies: you see what anyone sees; if you are a public agent, ask the catalogue's administrators to add your organization"
        }
    }
}
