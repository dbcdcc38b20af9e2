//! Checking an opaque ProConnect access token at the introspection endpoint
//! (RFC 7662; signed answers per RFC 9701). Answers are cached under a hash
//! of the token, never the token, for at most the configured bound and never
//! longer than the token lives: a token revoked at ProConnect (or whose
//! ProConnect session ended) is refused within that bound.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ProConnect, ProviderError, media_type};
use crate::auth::token::Claims;
use crate::shared_state::SharedState;

/// How long "inactive" is remembered: an inactive token never becomes active.
const INACTIVE_MEMORY: Duration = Duration::from_secs(300);

/// What ProConnect said about a token.
#[derive(Clone, Serialize, Deserialize)]
pub enum Introspected {
    Active(Box<Claims>),
    /// Expired, revoked or unknown.
    Inactive,
    /// Active, but issued to a client the gateway does not accept tokens of.
    UntrustedClient,
}

/// Answers kept in the shared store of answers (Redis when configured, so
/// replicas share them) under a hash of the token.
pub(super) struct IntrospectionCache {
    shared: SharedState,
}

impl IntrospectionCache {
    pub(super) fn new(shared: SharedState) -> Self {
        Self { shared }
    }

    fn key(token_hash: &[u8; 32]) -> String {
        let hex: String = token_hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("introspection:{hex}")
    }

    async fn get(&self, token_hash: &[u8; 32]) -> Option<Introspected> {
        let bytes = self.shared.recall(&Self::key(token_hash)).await?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn put(&self, token_hash: [u8; 32], outcome: Introspected, ttl: Duration) {
        if let Ok(bytes) = serde_json::to_vec(&outcome) {
            self.shared
                .remember(&Self::key(&token_hash), &bytes, ttl)
                .await;
        }
    }
}

/// RFC 7662's answer, as far as the gateway reads it.
#[derive(Deserialize)]
struct Introspection {
    #[serde(default)]
    active: bool,
    exp: Option<u64>,
    sub: Option<String>,
    client_id: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// RFC 9701's signed answer wraps RFC 7662's in `token_introspection`.
#[derive(Deserialize)]
struct SignedIntrospection {
    token_introspection: Option<serde_json::Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl ProConnect {
    /// Whether ProConnect's answer about `token` is at hand: checking it
    /// costs no call.
    pub async fn knows(&self, token: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.introspected.get(&key).await.is_some()
    }

    /// What ProConnect says about an opaque access token: the person it
    /// stands for when it is active and issued to a client we accept.
    pub async fn introspect(&self, token: &str) -> Result<Introspected, ProviderError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(known) = self.introspected.get(&key).await {
            return Ok(known);
        }
        let metadata = self.metadata().await?;
        let endpoint = metadata.introspection_endpoint.as_deref().ok_or_else(|| {
            ProviderError::Unavailable("ProConnect publishes no introspection_endpoint".into())
        })?;
        let response = self
            .post_form(
                endpoint,
                &[("token", token)],
                "application/token-introspection+jwt, application/json;q=0.9",
            )
            .await?
            .error_for_status()
            .map_err(|e| ProviderError::Unavailable(format!("introspection: {e}")))?;
        let signed = media_type(&response) == "application/token-introspection+jwt";
        let body = response
            .text()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("introspection: {e}")))?;
        let answer: Introspection = if signed {
            let outer: SignedIntrospection =
                self.verify_signed(body.trim(), self.for_us(&[])).await?;
            let inner = outer
                .token_introspection
                .unwrap_or(serde_json::Value::Object(outer.rest));
            serde_json::from_value(inner)
        } else {
            serde_json::from_str(&body)
        }
        .map_err(|e| ProviderError::Unavailable(format!("introspection answer: {e}")))?;

        let now = jsonwebtoken::get_current_timestamp();
        let remaining = answer.exp.map(|exp| exp.saturating_sub(now));
        let (true, Some(sub), Some(remaining @ 1..)) = (answer.active, answer.sub, remaining)
        else {
            self.introspected
                .put(key, Introspected::Inactive, INACTIVE_MEMORY)
                .await;
            return Ok(Introspected::Inactive);
        };
        let ttl = Duration::from_secs(remaining).min(self.introspection_bound);
        let Some(client) = answer
            .client_id
            .filter(|client| self.accepted_clients.contains(client))
        else {
            self.introspected
                .put(key, Introspected::UntrustedClient, ttl)
                .await;
            return Ok(Introspected::UntrustedClient);
        };
        let mut fields = answer.rest;
        fields.insert("sub".into(), serde_json::Value::String(sub));
        let mut claims: Claims = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| ProviderError::Unavailable(format!("introspection answer: {e}")))?;
        claims.dev_admin = false;
        claims.client_id = Some(client.clone());
        // ProConnect's answer names the subject, not the person: userinfo does.
        if claims.email.is_none()
            && let Some(info) = self.userinfo(token, Some(&client)).await?
        {
            if info.sub != claims.sub {
                return Err(ProviderError::Forged(
                    "userinfo is about another subject than the introspected token".into(),
                ));
            }
            claims = info.completed_by(claims);
        }
        self.introspected
            .put(key, Introspected::Active(Box::new(claims.clone())), ttl)
            .await;
        Ok(Introspected::Active(Box::new(claims)))
    }
}
