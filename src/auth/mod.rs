//! Who is asking: bearer JWTs from trusted issuers (the gateway's own
//! sign-in, administrations' identity services) and opaque ProConnect access
//! tokens (by introspection), validated into a [`Principal`]. A token that is
//! present but invalid is an error, never a silent downgrade to anonymous.

pub mod agent_policy;
mod dev;
mod keys;
mod own_tokens;
mod people;
mod principal;
pub mod proconnect;
pub mod signing_keys;
mod token;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

pub use dev::{DEV_AUDIENCE, DEV_ISSUER, DevKey, DevKeyError};
pub use own_tokens::OwnIssuer;
pub use principal::{Agent, Principal};
pub use proconnect::ProConnect;
pub use token::{Claims, Rejection};

use crate::config::{self, ConfigError, IssuerConfig};
use agent_policy::{AgentPolicy, Basis};
use keys::IssuerKeys;
use people::People;
use token::Issuer;

/// The shared-state key under which a revoked sign-in is recorded.
fn revocation_key(signin: &str) -> String {
    format!("signin:{signin}")
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Validates bearer tokens against the trusted issuers' published keys.
#[derive(Clone)]
pub struct Authenticator {
    issuers: Arc<Vec<Arc<IssuerKeys>>>,
    algorithms: Arc<Vec<Algorithm>>,
    leeway_seconds: u64,
    admins: Arc<HashSet<String>>,
    own: Arc<OwnIssuer>,
    proconnect: Option<Arc<ProConnect>>,
    /// Where revoked sign-ins are recorded, shared by replicas.
    shared: crate::shared_state::SharedState,
    /// Who counts as a public agent.
    policy: Arc<AgentPolicy>,
    /// Who the catalogue names, by `sub` once they signed in.
    people: Arc<People>,
}

impl Authenticator {
    /// The authenticator `config` describes, trusting the gateway's own
    /// tokens (`own`), keeping introspection answers in `shared`; starts each
    /// issuer's key refresh among `tasks`. Keys are fetched on first use, so
    /// an issuer that is down at start does not stop the gateway.
    pub fn from_config(
        config: &config::Auth,
        proconnect: &config::ProConnect,
        own: Arc<OwnIssuer>,
        shared: crate::shared_state::SharedState,
        store: crate::store::Store,
        tasks: &crate::background::BackgroundTasks,
    ) -> Result<Self, ConfigError> {
        let policy = Arc::new(AgentPolicy::new(proconnect, store.clone()));
        let people = Arc::new(People::new(store));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("catalogue-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Conflict(format!("cannot build the HTTP client: {e}")))?;
        let proconnect = ProConnect::from_config(
            proconnect,
            config,
            own.issuer(),
            http.clone(),
            shared.clone(),
        )?;
        let mut issuers: Vec<Arc<IssuerKeys>> = config
            .trusted_issuers()?
            .into_iter()
            .map(|issuer| {
                let keys = IssuerKeys::new(
                    issuer,
                    http.clone(),
                    Duration::from_secs(config.jwks_refetch_seconds),
                );
                keys::spawn_refresh(
                    tasks,
                    &keys,
                    Duration::from_secs(config.jwks_refresh_seconds),
                );
                keys
            })
            .collect();
        let own_keys = IssuerKeys::own(
            IssuerConfig {
                issuer: own.issuer().to_owned(),
                jwks_url: None,
                audience: own.issuer().to_owned(),
            },
            http.clone(),
            Arc::clone(own.keys()),
            signing_keys::RELOAD_INTERVAL,
        );
        keys::spawn_refresh(tasks, &own_keys, signing_keys::RELOAD_INTERVAL);
        issuers.push(own_keys);
        if config.dev_auth {
            let key = DevKey::load_or_create(&config.dev_key_file)
                .map_err(|e| ConfigError::Conflict(e.to_string()))?;
            tracing::warn!(
                key = %config.dev_key_file.display(),
                "DEV AUTH IS ON: anyone holding the dev key can sign in as anyone. Never use --dev / CATALOGUE_DEV_AUTH in production."
            );
            issuers.push(IssuerKeys::fixed(
                IssuerConfig {
                    issuer: DEV_ISSUER.to_owned(),
                    jwks_url: None,
                    audience: DEV_AUDIENCE.to_owned(),
                },
                http.clone(),
                dev::DEV_KEY_ID,
                key.decoding,
                Algorithm::ES256,
            ));
        }
        let algorithms = config
            .jwt_algorithms
            .iter()
            .map(|name| {
                name.parse::<Algorithm>().map_err(|_| {
                    ConfigError::Conflict(format!("jwt_algorithms: unknown algorithm `{name}`"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            issuers: Arc::new(issuers),
            algorithms: Arc::new(algorithms),
            leeway_seconds: config.jwt_leeway_seconds,
            admins: Arc::new(config.admins.iter().map(|a| a.to_lowercase()).collect()),
            own,
            proconnect,
            shared,
            policy,
            people,
        })
    }

    /// The gateway as an issuer of its own tokens.
    pub fn own_issuer(&self) -> &Arc<OwnIssuer> {
        &self.own
    }

    /// ProConnect, when configured.
    pub fn proconnect(&self) -> Option<&Arc<ProConnect>> {
        self.proconnect.as_ref()
    }

    /// The principal behind an `Authorization` header value, or why it is refused.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Rejection> {
        let Some(value) = authorization else {
            return Ok(Principal::Anonymous);
        };
        let token = bearer_token(value).ok_or(Rejection::NotBearer)?;
        self.authenticate_token(token).await
    }

    /// Whether checking `token` calls its issuer: an opaque token whose
    /// introspection answer is not at hand. Callers charge such a request
    /// to its client's rate limit first, so that nobody can have the
    /// gateway call ProConnect for them without limit.
    pub async fn calls_issuer(&self, token: &str) -> bool {
        match &self.proconnect {
            Some(proconnect) if !token::looks_like_jwt(token) => !proconnect.knows(token).await,
            _ => false,
        }
    }

    /// The principal behind a bearer token: a JWT from a trusted issuer, or
    /// an opaque ProConnect access token checked by introspection.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal, Rejection> {
        let (claims, issuer) = self.verified(token).await?;
        if issuer == Issuer::Own
            && let Some(signin) = &claims.sid
            && self.shared.is_revoked(&revocation_key(signin)).await
        {
            return Err(Rejection::Revoked);
        }
        let basis = match issuer {
            Issuer::Own => claims.public_agent.as_deref().and_then(Basis::parse),
            Issuer::Introspected => self.policy.basis(&claims).await,
            Issuer::Dev | Issuer::Trusted => Some(Basis::TrustedIssuer),
        };
        let catalogue_email = match issuer {
            Issuer::Own => claims.catalogue_email.clone(),
            _ => claims.email.as_deref().map(|e| e.trim().to_lowercase()),
        };
        Ok(Agent::from_claims(
            claims,
            issuer == Issuer::Dev,
            &self.admins,
            basis,
            catalogue_email,
        )?
        .into_principal())
    }

    /// The email the catalogue names the person a ProConnect sign-in
    /// describes by (recorded in the gateway's token as `catalogue_email`),
    /// binding a named maintainer's or administrator's email to their `sub`
    /// at their first sign-in.
    pub async fn recognise(&self, claims: &Claims) -> Option<String> {
        self.people.recognise(claims, &self.admins).await
    }

    /// Why the person a ProConnect sign-in describes is a public agent, or
    /// `None` (recorded in the gateway's token as `public_agent`).
    pub async fn public_agent_basis(&self, claims: &Claims) -> Option<Basis> {
        self.policy.basis(claims).await
    }

    async fn verified(&self, token: &str) -> Result<(Claims, Issuer), Rejection> {
        if token::looks_like_jwt(token) {
            token::validate(token, &self.issuers, &self.algorithms, self.leeway_seconds).await
        } else {
            Ok((self.introspect(token).await?, Issuer::Introspected))
        }
    }

    /// Ends the sign-in `signin` (the `sid` of the gateway's tokens): its
    /// tokens are refused by every replica for `remaining` (until the last
    /// of them expires anyway).
    pub async fn revoke_signin(&self, signin: &str, remaining: Duration) {
        if !remaining.is_zero() {
            self.shared.revoke(&revocation_key(signin), remaining).await;
        }
    }

    /// The sign-in a valid token of the gateway comes from (never asks
    /// ProConnect: an opaque value is no token of the gateway's).
    pub async fn signin_of(&self, token: &str) -> Option<String> {
        if !token::looks_like_jwt(token) {
            return None;
        }
        match self.verified(token).await {
            Ok((claims, Issuer::Own)) => claims.sid,
            _ => None,
        }
    }

    async fn introspect(&self, token: &str) -> Result<Claims, Rejection> {
        let proconnect = self.proconnect.as_ref().ok_or(Rejection::Malformed)?;
        match proconnect.introspect(token).await {
            Ok(proconnect::Introspected::Active(claims)) => Ok(*claims),
            Ok(proconnect::Introspected::Inactive) => Err(Rejection::Inactive),
            Ok(proconnect::Introspected::UntrustedClient) => Err(Rejection::UntrustedClient),
            Err(error) => {
                tracing::warn!(%error, "cannot introspect an access token");
                Err(Rejection::IntrospectionFailed)
            }
        }
    }
}
