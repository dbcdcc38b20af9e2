//! ProConnect as seen by the gateway: an OpenID provider it signs people in
//! with (authorization-code flow) and whose opaque access tokens it checks
//! by introspection. Every JWT ProConnect signs for us is verified with the
//! one algorithm registered for our client, never the one its header names.

mod introspection;
mod signin;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use introspection::Introspected;
pub use signin::{AuthorizationRequest, SignedIn};

use super::keys::{IssuerKeys, KeyLookup};
use crate::config::{self, ConfigError, IssuerConfig, Secret};
use crate::shared_state::SharedState;
use introspection::IntrospectionCache;

/// What went wrong talking to ProConnect; the detail is for logs and has no
/// personal data or secrets.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// ProConnect cannot be reached or answered something unusable.
    #[error("ProConnect is unavailable: {0}")]
    Unavailable(String),
    /// ProConnect refused a request (e.g. `invalid_grant` for a used code).
    #[error("ProConnect refused: {0}")]
    Refused(String),
    /// ProConnect refused the gateway's registration (client id or secret):
    /// the operator's to fix, not the person's.
    #[error("ProConnect refuses the gateway's registration: {0}")]
    Misconfigured(String),
    /// The person signed in with a lower authentication level (`acr`) than
    /// the gateway asks for.
    #[error("authentication level too low: {0}")]
    InsufficientAcr(String),
    /// A JWT that should come from ProConnect does not verify.
    #[error("invalid token from ProConnect: {0}")]
    Forged(String),
}

/// The parts of ProConnect's discovery document the gateway uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// What a signed answer must be: for whom, signed how, carrying what.
struct Expectation<'a> {
    audience: &'a str,
    algorithms: &'a [Algorithm],
    required: &'a [&'a str],
}

/// The algorithms another client's userinfo may be verified with: those whose
/// keys ProConnect publishes (another client's secret is not ours to know).
const PUBLISHED_KEY_ALGORITHMS: &[Algorithm] = &[Algorithm::RS256, Algorithm::ES256];

/// The client's registration and ProConnect's published metadata and keys.
pub struct ProConnect {
    issuer: String,
    client_id: String,
    client_secret: Secret,
    redirect_url: String,
    scopes: String,
    acr_values: Option<String>,
    /// Whether userinfo must be a signed JWT.
    userinfo_signed: bool,
    algorithm: Algorithm,
    leeway_seconds: u64,
    http: reqwest::Client,
    metadata: tokio::sync::OnceCell<Metadata>,
    keys: Arc<IssuerKeys>,
    /// Clients whose access tokens are accepted by introspection (ours included).
    accepted_clients: std::collections::HashSet<String>,
    introspected: IntrospectionCache,
    /// Longest an active token's introspection answer is kept.
    introspection_bound: Duration,
}

impl ProConnect {
    /// The client `config` registers, or `None` when ProConnect is not
    /// configured; keys and clock skew as `auth` says.
    pub fn from_config(
        config: &config::ProConnect,
        auth: &config::Auth,
        public_url: &str,
        http: reqwest::Client,
        shared: SharedState,
    ) -> Result<Option<Arc<Self>>, ConfigError> {
        let (Some(issuer), Some(client_id), Some(client_secret)) = (
            &config.proconnect_issuer,
            &config.proconnect_client_id,
            &config.proconnect_client_secret,
        ) else {
            return Ok(None);
        };
        let algorithm: Algorithm = config.proconnect_signing_alg.parse().map_err(|_| {
            ConfigError::Conflict(format!(
                "proconnect_signing_alg: unknown algorithm `{}`",
                config.proconnect_signing_alg
            ))
        })?;
        let keys = IssuerKeys::new(
            IssuerConfig {
                issuer: issuer.clone(),
                jwks_url: None,
                audience: client_id.clone(),
            },
            http.clone(),
            Duration::from_secs(auth.jwks_refetch_seconds),
        );
        Ok(Some(Arc::new(Self {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_url: config
                .proconnect_redirect_url
                .clone()
                .unwrap_or_else(|| format!("{public_url}/auth/callback")),
            scopes: config.proconnect_scopes.clone(),
            acr_values: config.proconnect_acr_values.clone(),
            userinfo_signed: config.proconnect_userinfo_signed,
            algorithm,
            leeway_seconds: auth.jwt_leeway_seconds,
            http,
            metadata: tokio::sync::OnceCell::new(),
            keys,
            accepted_clients: config
                .proconnect_introspection_clients
                .iter()
                .cloned()
                .chain([client_id.clone()])
                .collect(),
            introspected: IntrospectionCache::new(shared),
            introspection_bound: Duration::from_secs(config.proconnect_introspection_cache_seconds),
        })))
    }

    /// ProConnect's discovery document, fetched once; a failed fetch is
    /// retried on the next use.
    pub async fn metadata(&self) -> Result<&Metadata, ProviderError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let metadata: Metadata = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| ProviderError::Unavailable(format!("GET {url}: {e}")))?
                    .json()
                    .await
                    .map_err(|e| {
                        ProviderError::Unavailable(format!(
                            "{url} is not a discovery document: {e}"
                        ))
                    })?;
                if metadata.issuer != self.issuer {
                    return Err(ProviderError::Unavailable(format!(
                        "{url} names issuer `{}`, not the configured `{}`",
                        metadata.issuer, self.issuer
                    )));
                }
                Ok(metadata)
            })
            .await
    }

    /// A key for `purpose` derived from the client secret: every replica
    /// has the same one, nobody without the secret can compute it.
    pub fn derived_key(&self, purpose: &str) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"catalogue-gateway\0");
        hash.update(purpose.as_bytes());
        hash.update(b"\0");
        hash.update(self.client_secret.expose().as_bytes());
        hash.finalize().to_vec()
    }

    /// What a JWT ProConnect signed for this client must look like: the
    /// registered algorithm, `aud` = our client id.
    fn for_us<'a>(&'a self, required: &'a [&'a str]) -> Expectation<'a> {
        Expectation {
            audience: &self.client_id,
            algorithms: std::slice::from_ref(&self.algorithm),
            required,
        }
    }

    /// The claims of a JWT ProConnect signed (ID token, userinfo or
    /// introspection answer), checked against `expected`.
    async fn verify_signed<T: DeserializeOwned>(
        &self,
        jwt: &str,
        expected: Expectation<'_>,
    ) -> Result<T, ProviderError> {
        let forged = |why: String| ProviderError::Forged(why);
        let header = decode_header(jwt).map_err(|_| forged("not a JWT".into()))?;
        if super::token::names_critical_extensions(jwt).unwrap_or(true) {
            return Err(forged(
                "its header names a critical extension (`crit`) the gateway does not understand"
                    .into(),
            ));
        }
        if !expected.algorithms.contains(&header.alg) {
            return Err(forged(format!(
                "signed with {:?}, but {:?} is expected",
                header.alg, expected.algorithms
            )));
        }
        let key = if header.alg == Algorithm::HS256 {
            // Only ever for our client: the key is our secret.
            if expected.audience != self.client_id {
                return Err(forged("HS256 for another client".into()));
            }
            DecodingKey::from_secret(self.client_secret.expose().as_bytes())
        } else {
            let kid = header
                .kid
                .as_deref()
                .ok_or_else(|| forged("no key id".into()))?;
            match self.keys.key(kid, header.alg).await {
                KeyLookup::Found(key) => key,
                KeyLookup::Unknown => return Err(forged(format!("unknown key id `{kid}`"))),
                KeyLookup::Unavailable => {
                    return Err(ProviderError::Unavailable(
                        "ProConnect's keys cannot be fetched".into(),
                    ));
                }
            }
        };
        let metadata = self.metadata().await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway_seconds;
        validation.set_issuer(&[&metadata.issuer]);
        validation.set_audience(&[expected.audience]);
        let mut claims = vec!["iss", "aud"];
        claims.extend_from_slice(expected.required);
        validation.set_required_spec_claims(&claims);
        decode::<T>(jwt, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| forged(e.to_string()))
    }

    /// POSTs a form with the client's credentials (`client_secret_post`, the
    /// method ProConnect offers besides `private_key_jwt`).
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        accept: &str,
    ) -> Result<reqwest::Response, ProviderError> {
        let mut fields = form.to_vec();
        fields.push(("client_id", &self.client_id));
        fields.push(("client_secret", self.client_secret.expose()));
        self.http
            .post(url)
            .header(reqwest::header::ACCEPT, accept)
            .form(&fields)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("POST {url}: {e}")))
    }
}

/// The media type of a response, lowercased, without parameters.
fn media_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
