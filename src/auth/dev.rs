//! Dev mode, for front-end developers without a ProConnect registration:
//! `catalogue-gateway dev-token` mints tokens signed by a local key, which
//! the server trusts only when started with `--dev` (or `CATALOGUE_DEV_AUTH=1`).

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::json;

/// The `iss` and `aud` of dev tokens; no real issuer uses them.
pub const DEV_ISSUER: &str = "urn:catalogue-gateway:dev";
pub const DEV_AUDIENCE: &str = "catalogue-gateway-dev";
pub(super) const DEV_KEY_ID: &str = "dev";

/// Why the dev key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("dev signing key {path}: {message}")]
pub struct DevKeyError {
    path: String,
    message: String,
}

/// The local ES256 key dev tokens are signed with.
pub struct DevKey {
    encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
}

impl DevKey {
    /// The key stored at `path`, created there (readable by its owner only) on first use.
    pub fn load_or_create(path: &Path) -> Result<Self, DevKeyError> {
        let failed = |message: String| DevKeyError {
            path: path.display().to_string(),
            message,
        };
        let secret = match std::fs::read_to_string(path) {
            Ok(pem) => p256::SecretKey::from_pkcs8_pem(&pem)
                .map_err(|e| failed(format!("not a P-256 PKCS#8 key: {e}")))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let secret = p256::SecretKey::random(&mut rand::thread_rng());
                let pem = secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| failed(e.to_string()))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
                }
                write_private(path, pem.as_bytes()).map_err(|e| failed(e.to_string()))?;
                secret
            }
            Err(error) => return Err(failed(error.to_string())),
        };
        let private_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| failed(e.to_string()))?;
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self {
            encoding: EncodingKey::from_ec_pem(private_pem.as_bytes())
                .map_err(|e| failed(e.to_string()))?,
            decoding: DecodingKey::from_ec_pem(public_pem.as_bytes())
                .map_err(|e| failed(e.to_string()))?,
        })
    }

    /// A dev token for `email`, valid for `minutes`; `admin` makes its
    /// holder an administrator of a dev-mode gateway.
    pub fn mint(
        &self,
        email: &str,
        admin: bool,
        minutes: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "sub": format!("dev:{email}"),
            "email": email,
            "iat": now,
            "exp": now + minutes * 60,
            "dev_admin": admin,
        });
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(DEV_KEY_ID.to_owned());
        encode(&header, &claims, &self.encoding)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
