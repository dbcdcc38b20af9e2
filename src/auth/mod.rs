//! Who is asking: bearer JWTs from trusted issuers (ProConnect, the gateway's
//! own sign-in, administrations' identity services) validated into a
//! [`Principal`]. A token that is present but invalid is an error, never a
//! silent downgrade to anonymous.

mod dev;
mod keys;
mod principal;
mod token;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

pub use dev::{DEV_AUDIENCE, DEV_ISSUER, DevKey, DevKeyError};
pub use principal::{Agent, Principal};
pub use token::Rejection;

use crate::config::{Config, ConfigError, IssuerConfig};
use keys::IssuerKeys;

/// Validates bearer tokens against the trusted issuers' published keys.
#[derive(Clone)]
pub struct Authenticator {
    issuers: Arc<Vec<Arc<IssuerKeys>>>,
    algorithms: Arc<Vec<Algorithm>>,
    leeway_seconds: u64,
    admins: Arc<HashSet<String>>,
}

impl Authenticator {
    /// The authenticator `config` describes; starts each issuer's background
    /// key refresh. Keys are fetched on first use, so an issuer that is down
    /// at start does not stop the gateway.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("catalogue-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Conflict(format!("cannot build the HTTP client: {e}")))?;
        let mut issuers: Vec<Arc<IssuerKeys>> = config
            .trusted_issuers()?
            .into_iter()
            .map(|issuer| {
                let keys = IssuerKeys::new(
                    issuer,
                    http.clone(),
                    Duration::from_secs(config.jwks_refetch_seconds),
                );
                keys::spawn_refresh(&keys, Duration::from_secs(config.jwks_refresh_seconds));
                keys
            })
            .collect();
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
        })
    }

    /// The principal behind an `Authorization` header value, or why it is refused.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Rejection> {
        let Some(value) = authorization else {
            return Ok(Principal::Anonymous);
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::NotBearer)?;
        let (claims, from_dev_issuer) =
            token::validate(token, &self.issuers, &self.algorithms, self.leeway_seconds).await?;
        Ok(Principal::Agent(Box::new(Agent::from_claims(
            claims,
            from_dev_issuer,
            &self.admins,
        )?)))
    }
}
