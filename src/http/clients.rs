//! Recognising configured clients: routers and tools calling on behalf of
//! many users, each with a rate limit of its own (config/clients.rs).
//!
//! A client is recognised by the first of: the secret key it sends in
//! `Catalogue-Client-Key`, the address it connects from, the client id
//! (`client_id`, else `azp`) of its token once a trusted issuer's signature
//! is checked. Nothing a caller can choose freely recognises anyone:
//! `apollographql-client-name` is only a name. A key that no client holds
//! is refused (401), like an invalid token, rather than silently counted
//! as the caller's address: a router sending a wrong key learns at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use poem::Request;
use poem::http::{StatusCode, header};
use sha2::{Digest, Sha256};

use super::rate_limit::Limit;
use crate::auth::Agent;
use crate::config::{AddressBlock, ClientConfig, RateLimitedStatus};
use crate::graphql::code;

/// The header a client sends its key in.
pub const KEY_HEADER: &str = "catalogue-client-key";

/// A configured client, as rate limiting sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub limit: Limit,
    pub rate_limited_status: RateLimitedStatus,
}

/// Every configured client, by each way it is recognised.
#[derive(Default)]
pub struct Clients {
    /// The SHA-256 of each key: comparing digests tells nothing about the
    /// key's bytes however long the comparison takes.
    by_key: Vec<([u8; 32], Arc<Client>)>,
    by_address: Vec<(AddressBlock, Arc<Client>)>,
    by_token_client: HashMap<String, Arc<Client>>,
}

/// A `Catalogue-Client-Key` that no client holds (or that is not text).
#[derive(Debug)]
pub struct UnknownKey;

impl UnknownKey {
    /// The 401 answering it.
    pub fn refusal(&self) -> poem::Response {
        tracing::info!("refused an unknown client key");
        let body = serde_json::json!({
            "errors": [{
                "message": format!("the {KEY_HEADER} header names no configured client"),
                "extensions": { "code": code::UNAUTHENTICATED, "reason": "unknown_client_key" }
            }]
        });
        poem::Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::CACHE_CONTROL, "no-store")
            .content_type("application/json")
            .body(body.to_string())
    }
}

impl Clients {
    pub fn new(configs: &[ClientConfig]) -> Self {
        let mut clients = Self::default();
        for config in configs {
            let client = Arc::new(Client {
                id: config.id.as_str().to_owned(),
                limit: Limit {
                    per_minute: config.rate_limit_per_minute,
                    burst: config.rate_limit_burst,
                },
                rate_limited_status: config.rate_limited_status,
            });
            if let Some(key) = &config.key {
                clients
                    .by_key
                    .push((Sha256::digest(key.expose()).into(), Arc::clone(&client)));
            }
            for block in &config.addresses {
                clients.by_address.push((*block, Arc::clone(&client)));
            }
            if let Some(token_client) = &config.token_client_id {
                clients
                    .by_token_client
                    .insert(token_client.clone(), Arc::clone(&client));
            }
        }
        clients
    }

    /// The client the request names by its key, else the one whose
    /// addresses hold `address`.
    pub fn by_request(
        &self,
        request: &Request,
        address: Option<IpAddr>,
    ) -> Result<Option<Arc<Client>>, UnknownKey> {
        if let Some(key) = request.headers().get(KEY_HEADER) {
            let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
            return self
                .by_key
                .iter()
                .find(|(known, _)| *known == digest)
                .map(|(_, client)| Some(Arc::clone(client)))
                .ok_or(UnknownKey);
        }
        Ok(address.and_then(|address| {
            self.by_address
                .iter()
                .find(|(block, _)| block.contains(address))
                .map(|(_, client)| Arc::clone(client))
        }))
    }

    /// The client whose tokens the agent's is.
    pub fn by_token(&self, agent: &Agent) -> Option<Arc<Client>> {
        let client_id = agent.client_id.as_deref()?;
        self.by_token_client.get(client_id).cloned()
    }
}
