//! The gateway's own ES256 signing keys. Kept in the database so that every
//! replica signs and verifies with the same keys; after a rotation the
//! previous key stays published until the last token it signed has expired.

use std::sync::RwLock;
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::store::{Store, StoredSigningKey};

/// How often replicas re-read the keys; retired keys stay published this much
/// longer than the token lifetime, for tokens a replica signed before it noticed.
pub(super) const RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// Why the signing keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("signing key {origin}: {message}")]
    Unusable { origin: String, message: String },
    #[error("signing keys: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// One published key.
pub(super) struct PublishedKey {
    pub kid: String,
    pub jwk: Jwk,
    pub decoding: DecodingKey,
}

struct Ring {
    signing_kid: String,
    signing: EncodingKey,
    published: Vec<PublishedKey>,
}

/// The keys, as last read from the database.
pub struct SigningKeys {
    store: Store,
    token_lifetime: Duration,
    ring: RwLock<Ring>,
}

/// A key parsed from its PEM: its thumbprint id, its signing and public halves.
struct ParsedKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Jwk,
    decoding: DecodingKey,
}

fn parse(pem: &str, origin: &str) -> Result<ParsedKey, SigningKeyError> {
    let unusable = |message: String| SigningKeyError::Unusable {
        origin: origin.to_owned(),
        message,
    };
    let secret = p256::SecretKey::from_pkcs8_pem(pem)
        .map_err(|e| unusable(format!("not a P-256 PKCS#8 private key: {e}")))?;
    let private_pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| unusable(e.to_string()))?;
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| unusable(e.to_string()))?;
    let encoding =
        EncodingKey::from_ec_pem(private_pem.as_bytes()).map_err(|e| unusable(e.to_string()))?;
    let mut jwk =
        Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|e| unusable(e.to_string()))?;
    // RFC 7638 thumbprint: the same key gets the same id on every replica.
    let kid = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| unusable(e.to_string()))?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    let decoding =
        DecodingKey::from_ec_pem(public_pem.as_bytes()).map_err(|e| unusable(e.to_string()))?;
    Ok(ParsedKey {
        kid,
        encoding,
        jwk,
        decoding,
    })
}

/// A new random P-256 key as PKCS#8 PEM.
pub fn generate_pem() -> String {
    p256::SecretKey::random(&mut rand::thread_rng())
        .to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .expect("a fresh P-256 key encodes as PKCS#8")
}

impl SigningKeys {
    /// Opens the key ring: the key of `configured_pem` becomes the signing key
    /// (once per new key), else a key is generated when the database has none.
    pub async fn open(
        store: Store,
        configured_pem: Option<&str>,
        token_lifetime: Duration,
    ) -> Result<Self, SigningKeyError> {
        let stored = store.signing_keys().await?;
        let in_use = stored.iter().find(|key| key.retired_at.is_none());
        let new_pem = match (configured_pem, in_use) {
            (Some(pem), in_use) => {
                let kid = parse(pem, "signing_key_file")?.kid;
                (in_use.is_none_or(|key| key.kid != kid)).then(|| pem.to_owned())
            }
            (None, None) => Some(generate_pem()),
            (None, Some(_)) => None,
        };
        if let Some(pem) = new_pem {
            add(&store, &pem).await?;
        }
        let ring = load(&store, token_lifetime).await?;
        Ok(Self {
            store,
            token_lifetime,
            ring: RwLock::new(ring),
        })
    }

    /// Re-reads the keys, to notice another replica's rotation.
    pub(super) async fn reload(&self) -> Result<(), SigningKeyError> {
        let ring = load(&self.store, self.token_lifetime).await?;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring;
        Ok(())
    }

    /// The key id and key new tokens are signed with.
    pub(super) fn signing(&self) -> (String, EncodingKey) {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        (ring.signing_kid.clone(), ring.signing.clone())
    }

    /// The published keys, as a JWKS.
    pub fn jwks(&self) -> JwkSet {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        JwkSet {
            keys: ring.published.iter().map(|key| key.jwk.clone()).collect(),
        }
    }

    /// The published keys' ids and verification keys.
    pub(super) fn verification_keys(&self) -> Vec<(String, DecodingKey)> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.published
            .iter()
            .map(|key| (key.kid.clone(), key.decoding.clone()))
            .collect()
    }
}

/// Stores `pem` as the signing key, retiring the one before.
pub async fn add(store: &Store, pem: &str) -> Result<String, SigningKeyError> {
    let parsed = parse(pem, "new key")?;
    store
        .add_signing_key(&StoredSigningKey {
            kid: parsed.kid.clone(),
            private_key_pem: pem.to_owned(),
            created_at: Utc::now(),
            retired_at: None,
        })
        .await?;
    Ok(parsed.kid)
}

/// The stored keys still worth publishing, the newest one signing.
async fn load(store: &Store, token_lifetime: Duration) -> Result<Ring, SigningKeyError> {
    let keep = chrono::Duration::from_std(token_lifetime + 2 * RELOAD_INTERVAL)
        .unwrap_or(chrono::Duration::MAX);
    let now = Utc::now();
    let mut signing = None;
    let mut published = Vec::new();
    for stored in store.signing_keys().await? {
        if stored
            .retired_at
            .is_some_and(|retired| retired + keep < now)
        {
            continue;
        }
        let parsed = parse(
            &stored.private_key_pem,
            &format!("stored key {}", stored.kid),
        )?;
        if signing.is_none() && stored.retired_at.is_none() {
            signing = Some((parsed.kid.clone(), parsed.encoding));
        }
        published.push(PublishedKey {
            kid: parsed.kid,
            jwk: parsed.jwk,
            decoding: parsed.decoding,
        });
    }
    let (signing_kid, signing) = signing.ok_or_else(|| SigningKeyError::Unusable {
        origin: "database".to_owned(),
        message: "no signing key in use; run `catalogue-gateway rotate-signing-key`".to_owned(),
    })?;
    Ok(Ring {
        signing_kid,
        signing,
        published,
    })
}
