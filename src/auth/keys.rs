//! An issuer's signing keys, fetched from its JWKS and cached. Unknown key
//! ids trigger a refetch at most once per interval, so forged ids cannot make
//! us hammer the issuer; a failed fetch keeps the keys we have.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::signing_keys::SigningKeys;
use crate::background::BackgroundTasks;
use crate::config::IssuerConfig;

/// The outcome of looking a key id up.
pub(super) enum KeyLookup {
    Found(DecodingKey),
    /// The issuer does not publish this key id.
    Unknown,
    /// We have never managed to fetch the issuer's keys.
    Unavailable,
}

struct CachedKey {
    key: DecodingKey,
    /// The algorithm the JWK is restricted to, when it says.
    algorithm: Option<Algorithm>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, CachedKey>,
    /// When an unknown key id last caused a fetch.
    last_unknown_key_fetch: Option<Instant>,
    jwks_url: Option<String>,
}

/// Where an issuer's keys come from.
enum Source {
    /// Its JWKS, over HTTP.
    Jwks,
    /// Given at start (dev mode): never fetched.
    Fixed,
    /// The gateway's own keys, from the database.
    Own(Arc<SigningKeys>),
}

pub(super) struct IssuerKeys {
    config: IssuerConfig,
    source: Source,
    http: reqwest::Client,
    refetch_interval: Duration,
    cache: RwLock<Cache>,
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl IssuerKeys {
    pub(super) fn new(
        config: IssuerConfig,
        http: reqwest::Client,
        refetch_interval: Duration,
    ) -> Arc<Self> {
        let cache = Cache {
            jwks_url: config.jwks_url.clone(),
            ..Cache::default()
        };
        Arc::new(Self {
            config,
            source: Source::Jwks,
            http,
            refetch_interval,
            cache: RwLock::new(cache),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// An issuer whose one key is known in advance and never fetched.
    pub(super) fn fixed(
        config: IssuerConfig,
        http: reqwest::Client,
        kid: &str,
        key: DecodingKey,
        algorithm: Algorithm,
    ) -> Arc<Self> {
        let mut keys = HashMap::new();
        keys.insert(
            kid.to_owned(),
            CachedKey {
                key,
                algorithm: Some(algorithm),
            },
        );
        Arc::new(Self {
            config,
            source: Source::Fixed,
            http,
            refetch_interval: Duration::MAX,
            cache: RwLock::new(Cache {
                keys,
                ..Cache::default()
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// The gateway itself, its keys read from the database.
    pub(super) fn own(
        config: IssuerConfig,
        http: reqwest::Client,
        keys: Arc<SigningKeys>,
        refetch_interval: Duration,
    ) -> Arc<Self> {
        let issuer = Arc::new(Self {
            config,
            source: Source::Own(keys),
            http,
            refetch_interval,
            cache: RwLock::new(Cache::default()),
            fetching: tokio::sync::Mutex::new(()),
        });
        issuer.take_own_keys();
        issuer
    }

    /// Caches the gateway's published keys as last read.
    fn take_own_keys(&self) -> usize {
        let Source::Own(ring) = &self.source else {
            return 0;
        };
        let keys: HashMap<String, CachedKey> = ring
            .verification_keys()
            .into_iter()
            .map(|(kid, key)| {
                let algorithm = Some(Algorithm::ES256);
                (kid, CachedKey { key, algorithm })
            })
            .collect();
        let count = keys.len();
        self.cache.write().unwrap_or_else(|p| p.into_inner()).keys = keys;
        count
    }

    /// Whether this issuer's keys are the gateway's own (dev or not): each is
    /// restricted to its one algorithm.
    pub(super) fn has_fixed_algorithm(&self) -> bool {
        !matches!(self.source, Source::Jwks)
    }

    /// Whether this issuer's tokens come from `catalogue-gateway dev-token`.
    pub(super) fn is_dev(&self) -> bool {
        matches!(self.source, Source::Fixed)
    }

    /// Whether this issuer is the gateway itself: its clock is ours, so its
    /// tokens get no leeway.
    pub(super) fn is_own(&self) -> bool {
        matches!(self.source, Source::Own(_))
    }

    pub(super) fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub(super) fn audience(&self) -> &str {
        &self.config.audience
    }

    fn cached(&self, kid: &str, algorithm: Algorithm) -> Option<Result<DecodingKey, ()>> {
        let cache = self
            .cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.keys.get(kid).map(|cached| match cached.algorithm {
            Some(restricted) if restricted != algorithm => Err(()),
            _ => Ok(cached.key.clone()),
        })
    }

    /// The key `kid` for a token signed with `algorithm`.
    pub(super) async fn key(&self, kid: &str, algorithm: Algorithm) -> KeyLookup {
        match self.cached(kid, algorithm) {
            Some(Ok(key)) => return KeyLookup::Found(key),
            Some(Err(())) => return KeyLookup::Unknown,
            None if self.is_dev() => return KeyLookup::Unknown,
            None => {}
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        if let Some(found) = self.cached(kid, algorithm) {
            return found.map_or(KeyLookup::Unknown, KeyLookup::Found);
        }
        let may_fetch = {
            let mut cache = self
                .cache
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = cache
                .last_unknown_key_fetch
                .is_none_or(|at| at.elapsed() >= self.refetch_interval);
            if due {
                cache.last_unknown_key_fetch = Some(Instant::now());
            }
            due
        };
        if may_fetch && let Err(error) = self.refresh().await {
            tracing::warn!(issuer = %self.config.issuer, %error, "cannot fetch the issuer's keys; keeping the cached ones");
        }
        match self.cached(kid, algorithm) {
            Some(Ok(key)) => KeyLookup::Found(key),
            Some(Err(())) => KeyLookup::Unknown,
            None if self.has_no_keys() => KeyLookup::Unavailable,
            None => KeyLookup::Unknown,
        }
    }

    fn has_no_keys(&self) -> bool {
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keys
            .is_empty()
    }

    /// Fetches the JWKS (discovering its URL first if needed) and replaces
    /// the cached keys; on failure the cached keys stay.
    pub(super) async fn refresh(&self) -> Result<usize, String> {
        match &self.source {
            Source::Jwks => {}
            Source::Fixed => return Ok(1),
            Source::Own(ring) => {
                ring.reload().await.map_err(|e| e.to_string())?;
                return Ok(self.take_own_keys());
            }
        }
        let known_url = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .jwks_url
            .clone();
        let jwks_url = match known_url {
            Some(url) => url,
            None => self.discover().await?,
        };
        let set: JwkSet = self.get_json(&jwks_url, "a JWKS").await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            // Keys meant for encryption, or of a kind we cannot verify with, are skipped.
            if matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            ) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                let algorithm = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok());
                keys.insert(kid, CachedKey { key, algorithm });
            }
        }
        if keys.is_empty() {
            return Err(format!("{jwks_url} holds no usable signing key"));
        }
        let count = keys.len();
        self.cache.write().unwrap_or_else(|p| p.into_inner()).keys = keys;
        Ok(count)
    }

    /// GETs `url` and reads it as JSON; the error says which URL and why.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, String> {
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("GET {url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{url} is not {what}: {e}"))
    }

    async fn discover(&self) -> Result<String, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url, "a discovery document").await?;
        if discovery.issuer != self.config.issuer {
            return Err(format!(
                "{url} names issuer `{}`, not `{}`",
                discovery.issuer, self.config.issuer
            ));
        }
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .jwks_url = Some(discovery.jwks_uri.clone());
        Ok(discovery.jwks_uri)
    }
}

/// Fetches `keys` now, then every `every` while the gateway holds them,
/// among `tasks`.
pub(super) fn spawn_refresh(tasks: &BackgroundTasks, keys: &Arc<IssuerKeys>, every: Duration) {
    let held = Arc::downgrade(keys);
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
        loop {
            ticks.tick().await;
            let Some(keys) = held.upgrade() else { break };
            let _one_fetch_at_a_time = keys.fetching.lock().await;
            match keys.refresh().await {
                Ok(count) => {
                    tracing::debug!(issuer = %keys.issuer(), count, "refreshed the issuer's keys")
                }
                Err(error) => {
                    tracing::warn!(issuer = %keys.issuer(), %error, "key refresh failed; keeping the cached keys")
                }
            }
        }
    });
}
