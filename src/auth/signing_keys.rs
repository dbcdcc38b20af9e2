//! The gateway's own ES256 signing keys: read from a file at start, or kept
//! in the database so that every replica signs and verifies with the same
//! keys. In the database, a private key is encrypted (AES-256-GCM) when
//! `CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY` is set: a copy of the database then
//! mints no token. After a rotation the previous key stays published until
//! the last token it signed has expired.

use std::sync::RwLock;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand::RngCore;

use crate::config::EncryptionKey;
use crate::store::{Store, StoredSigningKey};

/// How often replicas re-read the keys; retired keys stay published this much
/// longer than the token lifetime, for tokens a replica signed before it noticed.
pub(super) const RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// Marks a stored private key encrypted by [`SealingKey`]; what follows is
/// the base64 of the nonce and the ciphertext.
const SEALED_PREFIX: &str = "aes256gcm:";
const NONCE_BYTES: usize = 12;

/// Why the signing keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("signing key {origin}: {message}")]
    Unusable { origin: String, message: String },
    #[error(
        "the database holds encrypted signing keys: set CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY to the key that encrypted them"
    )]
    EncryptionKeyMissing,
    #[error(
        "CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY does not decrypt the signing key {kid} in the database: it is not the key the signing keys were encrypted with"
    )]
    WrongEncryptionKey { kid: String },
    #[error("signing keys: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Encrypts the private keys kept in the database, each bound to its key id
/// (associated data), so that a row's ciphertext cannot be moved to another;
/// webhooks' secrets too, each bound to its owner and target.
pub struct SealingKey(Box<Aes256Gcm>);

impl SealingKey {
    pub fn new(key: &EncryptionKey) -> Self {
        Self(Box::new(Aes256Gcm::new(key.bytes().into())))
    }

    pub(crate) fn seal(&self, kid: &str, pem: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: pem.as_bytes(),
            aad: kid.as_bytes(),
        };
        let ciphertext = self
            .0
            .encrypt(&Nonce::from(nonce), payload)
            .expect("AES-GCM encrypts a key-sized message");
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(sealed))
    }

    /// The PEM `stored` encrypts, or `None` when this key did not encrypt it.
    pub(crate) fn open(&self, kid: &str, stored: &str) -> Option<String> {
        let sealed = STANDARD.decode(stored.strip_prefix(SEALED_PREFIX)?).ok()?;
        if sealed.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: kid.as_bytes(),
        };
        let pem = self.0.decrypt(&Nonce::from(nonce), payload).ok()?;
        String::from_utf8(pem).ok()
    }
}

pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
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

/// Where the keys come from.
enum Source {
    /// A file read at start: nothing to re-read, nothing in the database.
    File,
    /// The database, shared by every replica.
    Database {
        store: Store,
        sealing: Option<SealingKey>,
        token_lifetime: Duration,
    },
}

/// The keys, as last read.
pub struct SigningKeys {
    source: Source,
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

/// The PEM blocks of `text`, each from its `-----BEGIN` line.
fn pem_blocks(text: &str) -> Vec<&str> {
    text.split_inclusive("-----END PRIVATE KEY-----")
        .filter_map(|block| block.find("-----BEGIN").map(|start| block[start..].trim()))
        .collect()
}

impl SigningKeys {
    /// The keys of a PEM file (`CATALOGUE_SIGNING_KEY_FILE`): the first one
    /// signs; any after it are only published, so that tokens signed before a
    /// rotation stay valid. Nothing is written to the database.
    pub fn from_file(text: &str, path: &std::path::Path) -> Result<Self, SigningKeyError> {
        let origin = path.display().to_string();
        let mut keys = Vec::new();
        for pem in pem_blocks(text) {
            keys.push(parse(pem, &origin)?);
        }
        let mut keys = keys.into_iter();
        let first = keys.next().ok_or_else(|| SigningKeyError::Unusable {
            origin: origin.clone(),
            message: "holds no PKCS#8 private key (-----BEGIN PRIVATE KEY-----)".to_owned(),
        })?;
        let signing_kid = first.kid.clone();
        let signing = first.encoding.clone();
        let published = std::iter::once(first)
            .chain(keys)
            .map(|key| PublishedKey {
                kid: key.kid,
                jwk: key.jwk,
                decoding: key.decoding,
            })
            .collect();
        Ok(Self {
            source: Source::File,
            ring: RwLock::new(Ring {
                signing_kid,
                signing,
                published,
            }),
        })
    }

    /// Opens the key ring kept in the database, generating a key when none is
    /// in use. With `sealing`, keys stored in plain text are encrypted first;
    /// without it, encrypted keys refuse the start.
    pub async fn open(
        store: Store,
        sealing: Option<SealingKey>,
        token_lifetime: Duration,
    ) -> Result<Self, SigningKeyError> {
        let stored = seal_stored_keys(&store, sealing.as_ref()).await?;
        if stored.iter().all(|key| key.retired_at.is_some()) {
            add(&store, &generate_pem(), sealing.as_ref()).await?;
        }
        if sealing.is_none() {
            tracing::warn!(
                "the gateway's signing key is kept unencrypted in the database: anyone who reads the database can mint tokens; \
                 set CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY (or CATALOGUE_SIGNING_KEY_FILE)"
            );
        }
        let ring = load(&store, sealing.as_ref(), token_lifetime).await?;
        Ok(Self {
            source: Source::Database {
                store,
                sealing,
                token_lifetime,
            },
            ring: RwLock::new(ring),
        })
    }

    /// Re-reads the keys, to notice another replica's rotation.
    pub(super) async fn reload(&self) -> Result<(), SigningKeyError> {
        let Source::Database {
            store,
            sealing,
            token_lifetime,
        } = &self.source
        else {
            return Ok(());
        };
        let ring = load(store, sealing.as_ref(), *token_lifetime).await?;
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

/// The PEM of a stored key, decrypted when it is encrypted.
fn unsealed(
    stored: &StoredSigningKey,
    sealing: Option<&SealingKey>,
) -> Result<String, SigningKeyError> {
    if !is_sealed(&stored.private_key) {
        return Ok(stored.private_key.clone());
    }
    let sealing = sealing.ok_or(SigningKeyError::EncryptionKeyMissing)?;
    sealing
        .open(&stored.kid, &stored.private_key)
        .ok_or_else(|| SigningKeyError::WrongEncryptionKey {
            kid: stored.kid.clone(),
        })
}

/// Every stored key, after checking that `sealing` decrypts the encrypted
/// ones and, with `sealing`, encrypting those stored in plain text. Every
/// encrypted key is checked before any is encrypted, so that a wrong key
/// never encrypts anything; each ciphertext is decrypted before it replaces
/// the plain text, and replaces it only if no other replica did first.
async fn seal_stored_keys(
    store: &Store,
    sealing: Option<&SealingKey>,
) -> Result<Vec<StoredSigningKey>, SigningKeyError> {
    let stored = store.signing_keys().await?;
    for key in stored.iter().filter(|key| is_sealed(&key.private_key)) {
        unsealed(key, sealing)?;
    }
    let Some(sealing) = sealing else {
        return Ok(stored);
    };
    for key in stored.iter().filter(|key| !is_sealed(&key.private_key)) {
        parse(&key.private_key, &format!("stored key {}", key.kid))?;
        let sealed = sealing.seal(&key.kid, &key.private_key);
        if sealing.open(&key.kid, &sealed).as_deref() != Some(key.private_key.as_str()) {
            return Err(SigningKeyError::Unusable {
                origin: format!("stored key {}", key.kid),
                message: "its encryption does not decrypt to it; left as it was".to_owned(),
            });
        }
        if store
            .replace_signing_key(&key.kid, &key.private_key, &sealed)
            .await?
        {
            tracing::info!(kid = %key.kid, "encrypted a signing key kept in plain text in the database");
        }
    }
    Ok(store.signing_keys().await?)
}

/// Checks that the stored keys can be read with `sealing`, then stores a new
/// signing key, retiring the one before (`catalogue-gateway rotate-signing-key`).
pub async fn rotate(
    store: &Store,
    sealing: Option<&SealingKey>,
) -> Result<String, SigningKeyError> {
    seal_stored_keys(store, sealing).await?;
    add(store, &generate_pem(), sealing).await
}

/// Stores `pem` as the signing key (encrypted with `sealing`), retiring the one before.
pub async fn add(
    store: &Store,
    pem: &str,
    sealing: Option<&SealingKey>,
) -> Result<String, SigningKeyError> {
    let parsed = parse(pem, "new key")?;
    let private_key = match sealing {
        Some(sealing) => sealing.seal(&parsed.kid, pem),
        None => pem.to_owned(),
    };
    store
        .add_signing_key(&StoredSigningKey {
            kid: parsed.kid.clone(),
            private_key,
            created_at: Utc::now(),
            retired_at: None,
        })
        .await?;
    Ok(parsed.kid)
}

/// The stored keys still worth publishing, the newest one signing.
async fn load(
    store: &Store,
    sealing: Option<&SealingKey>,
    token_lifetime: Duration,
) -> Result<Ring, SigningKeyError> {
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
            &unsealed(&stored, sealing)?,
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
