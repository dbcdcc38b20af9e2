//! The caller, decoded once per request.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::agent_policy::Basis;
use super::token::{Claims, Rejection};
use crate::catalogue::Audience;

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token.
    Anonymous,
    /// A public agent with a valid token.
    Agent(Box<Agent>),
    /// Someone signed in whom the operator's policy does not count as a
    /// public agent: they read what anyone reads, and `me` tells them why.
    Outsider(Box<Agent>),
}

impl Principal {
    /// What the principal may read.
    pub fn audience(&self) -> Audience {
        match self {
            Principal::Anonymous | Principal::Outsider(_) => Audience::Public,
            Principal::Agent(_) => Audience::Agents,
        }
    }

    /// The public agent asking, if it is one.
    pub fn agent(&self) -> Option<&Agent> {
        match self {
            Principal::Anonymous | Principal::Outsider(_) => None,
            Principal::Agent(agent) => Some(agent.as_ref()),
        }
    }

    /// The person signed in, public agent or not.
    pub fn person(&self) -> Option<&Agent> {
        match self {
            Principal::Anonymous => None,
            Principal::Agent(agent) | Principal::Outsider(agent) => Some(agent.as_ref()),
        }
    }
}

/// A person signed in, from ProConnect's claims.
#[derive(Clone, PartialEq, Eq)]
pub struct Agent {
    pub sub: String,
    pub email: String,
    /// The email the catalogue names them by (maintainers, administrators):
    /// after a sign-in through the gateway, the one bound to their `sub`
    /// (see [`super::people`]); for other tokens, their email. `None`: their
    /// email is bound to someone else, so it names nothing of theirs.
    pub catalogue_email: Option<String>,
    pub given_name: Option<String>,
    pub usual_name: Option<String>,
    pub uid: Option<String>,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub organizational_unit: Option<String>,
    pub idp_id: Option<String>,
    /// The authentication level of the sign-in (`eidas1`, …).
    pub acr: Option<String>,
    pub is_admin: bool,
    /// The client the token was issued to (`client_id`, else `azp`).
    pub client_id: Option<String>,
    /// Why the operator's policy counts them as a public agent; `None`: it does not.
    pub public_agent: Option<Basis>,
}

impl Agent {
    /// The person `claims` describe, named by the catalogue as
    /// `catalogue_email`; a public agent on `basis` (an administrator always is).
    pub(super) fn from_claims(
        claims: Claims,
        from_dev_issuer: bool,
        admins: &HashSet<String>,
        basis: Option<Basis>,
        catalogue_email: Option<String>,
    ) -> Result<Self, Rejection> {
        let email = claims
            .email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or(Rejection::MissingEmail)?;
        let is_admin = catalogue_email
            .as_ref()
            .is_some_and(|named| admins.contains(named))
            || admins.contains(&claims.sub.to_lowercase())
            || (from_dev_issuer && claims.dev_admin);
        Ok(Self {
            sub: claims.sub,
            email,
            catalogue_email,
            given_name: claims.given_name,
            usual_name: claims.usual_name,
            uid: claims.uid,
            siret: claims.siret,
            siren: claims.siren,
            organizational_unit: claims.organizational_unit,
            idp_id: claims.idp_id,
            acr: claims.acr,
            is_admin,
            client_id: claims.client_id.or(claims.azp),
            public_agent: basis.or(is_admin.then_some(Basis::Administrator)),
        })
    }

    /// As a principal: an agent or an outsider, as the policy says.
    pub fn into_principal(self) -> Principal {
        if self.public_agent.is_some() {
            Principal::Agent(Box::new(self))
        } else {
            Principal::Outsider(Box::new(self))
        }
    }

    /// A stable pseudonym for logs: the start of the SHA-256 of `sub`.
    pub fn sub_hash(&self) -> String {
        Self::pseudonym(&self.sub)
    }

    /// The pseudonym logs use for the subject `sub`.
    pub fn pseudonym(sub: &str) -> String {
        let digest = Sha256::digest(sub.as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

/// Personal data stays out of logs, even in debug output.
impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("sub_hash", &self.sub_hash())
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}
