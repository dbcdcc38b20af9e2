//! Persisted queries: Apollo's automatic persisted queries (a client sends
//! `extensions.persistedQuery.sha256Hash`, and the document once when the
//! gateway does not know it yet), and an optional allow-list mode where only
//! the documents of a manifest are accepted.
//!
//! What clients register is bounded, in bytes, per client (agent, else
//! address) and in all, and kept for a day by default. A document over a
//! bound still runs (refusing it would gain nothing: the client may send it
//! without the extension) but is not kept, and the answer says so in
//! `extensions.persistedQuery` with the code `PERSISTED_QUERY_LIMIT_EXCEEDED`,
//! not as an error: Apollo Client's persisted-query link retries only on
//! `PERSISTED_QUERY_NOT_FOUND` or `PERSISTED_QUERY_NOT_SUPPORTED`, once, and
//! hands any other error of the request carrying the document to the
//! application. Asked for by hash later, such a document is
//! `PERSISTED_QUERY_NOT_FOUND`, which those clients answer by sending it again.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use poem::http::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::{self, ConfigError};
use crate::graphql::code;
use crate::shared_state::{DocumentBounds, Registered, SharedState};

/// Why a request's document cannot be had.
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// A document to keep under its hash once it has run.
pub struct Registration {
    hash: String,
    document: String,
}

/// The documents registered in advance, and the mode.
pub struct PersistedQueries {
    only_registered: bool,
    /// sha256 (hex) → document.
    registered: HashMap<String, String>,
    bounds: DocumentBounds,
}

/// The bound a document that ran would have gone over: it is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotKept {
    /// The client's documents (`CATALOGUE_PERSISTED_QUERIES_CLIENT_BYTES`).
    ClientBound,
    /// All clients' documents (`CATALOGUE_PERSISTED_QUERIES_MAX_BYTES`).
    TotalBound,
}

/// An answer's top-level `extensions`, if any (other members are skipped).
#[derive(Deserialize)]
struct TopLevel {
    extensions: Option<serde::de::IgnoredAny>,
}

impl NotKept {
    fn bound(self) -> (&'static str, &'static str) {
        match self {
            NotKept::ClientBound => ("client", "this client's registered documents"),
            NotKept::TotalBound => ("total", "the documents registered by all clients"),
        }
    }

    /// `answer` with `extensions.persistedQuery` saying why its document
    /// was not kept. Answers carrying extensions of their own are left as they are.
    pub fn noted_in(self, answer: &Bytes) -> Bytes {
        let Ok(TopLevel { extensions: None }) = serde_json::from_slice::<TopLevel>(answer) else {
            return answer.clone();
        };
        let Some(open) = answer.strip_suffix(b"}") else {
            return answer.clone();
        };
        let (limit, whose) = self.bound();
        let note = serde_json::json!({
            "persistedQuery": {
                "kept": false,
                "code": code::PERSISTED_QUERY_LIMIT_EXCEEDED,
                "limit": limit,
                "message": format!(
                    "the document ran but is not kept: {whose} are at their bound; send it in full next time"
                ),
            }
        });
        let mut noted = open.to_vec();
        noted.extend_from_slice(b",\"extensions\":");
        noted.extend_from_slice(note.to_string().as_bytes());
        noted.push(b'}');
        noted.into()
    }
}

/// Apollo's persisted-query manifest (`generate-persisted-query-manifest`).
#[derive(Deserialize)]
struct Manifest {
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn load_manifest(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let bad = |message: String| ConfigError::BadFile {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a persisted-query manifest: {e}")))?;
    let mut registered = HashMap::new();
    for (index, operation) in manifest.operations.into_iter().enumerate() {
        if sha256_hex(&operation.body) != operation.id.to_ascii_lowercase() {
            return Err(bad(format!(
                "operations[{index}].id is not the SHA-256 of its body"
            )));
        }
        registered.insert(operation.id.to_ascii_lowercase(), operation.body);
    }
    Ok(registered)
}

/// `extensions.persistedQuery` of a request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQueryExtension {
    version: u32,
    sha256_hash: String,
}

impl PersistedQueries {
    pub fn from_config(config: &config::Limits) -> Result<Self, ConfigError> {
        let registered = match &config.persisted_queries_file {
            Some(path) => load_manifest(path)?,
            None => HashMap::new(),
        };
        Ok(Self {
            only_registered: config.persisted_only,
            registered,
            bounds: DocumentBounds {
                client_bytes: config.persisted_queries_client_bytes,
                total_bytes: config.persisted_queries_max_bytes,
                ttl: Duration::from_secs(config.persisted_query_ttl_seconds),
            },
        })
    }

    /// Keeps a document that ran under its hash (automatic persisted
    /// queries), counted as `client`'s; the bound it would go over when it
    /// is not kept. A store that fails keeps nothing, silently.
    pub async fn register(
        &self,
        shared: &SharedState,
        client: &str,
        registration: Registration,
    ) -> Option<NotKept> {
        let registered = shared
            .register_document(
                &registration.hash,
                &registration.document,
                client,
                &self.bounds,
            )
            .await?;
        match registered {
            Registered::Kept => None,
            Registered::OverClientBound => Some(NotKept::ClientBound),
            Registered::OverTotalBound => Some(NotKept::TotalBound),
        }
    }

    /// The request with its document: given, registered in advance, or
    /// remembered from an earlier request; and the document to register once
    /// it has run, when the client asked for that.
    pub async fn resolve(
        &self,
        shared: &SharedState,
        mut request: async_graphql::Request,
    ) -> Result<(async_graphql::Request, Option<Registration>), Refusal> {
        let extension = match request.extensions.get("persistedQuery") {
            Some(value) => Some(
                value
                    .clone()
                    .into_json()
                    .ok()
                    .and_then(|json| serde_json::from_value::<PersistedQueryExtension>(json).ok())
                    .filter(|p| p.version == 1 && p.sha256_hash.len() == 64)
                    .ok_or_else(|| Refusal {
                        status: StatusCode::BAD_REQUEST,
                        code: code::BAD_REQUEST,
                        message: "extensions.persistedQuery must be {version: 1, sha256Hash: <64 hex digits>}".into(),
                    })?,
            ),
            None => None,
        };
        let has_document = !request.query.trim().is_empty();
        match (extension, has_document) {
            (None, true) => {
                if self.only_registered
                    && !self.registered.contains_key(&sha256_hex(&request.query))
                {
                    return Err(not_allowed());
                }
                Ok((request, None))
            }
            (None, false) => Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                code: code::BAD_REQUEST,
                message: "the request has no `query`".into(),
            }),
            (Some(extension), true) => {
                let hash = extension.sha256_hash.to_ascii_lowercase();
                if sha256_hex(&request.query) != hash {
                    return Err(Refusal {
                        status: StatusCode::BAD_REQUEST,
                        code: code::PERSISTED_QUERY_HASH_MISMATCH,
                        message: "sha256Hash is not the SHA-256 of the query".into(),
                    });
                }
                if self.only_registered {
                    if !self.registered.contains_key(&hash) {
                        return Err(not_allowed());
                    }
                    return Ok((request, None));
                }
                let registration = Registration {
                    hash,
                    document: request.query.clone(),
                };
                Ok((request, Some(registration)))
            }
            (Some(extension), false) => {
                let hash = extension.sha256_hash.to_ascii_lowercase();
                let document = match self.registered.get(&hash) {
                    Some(document) => Some(document.clone()),
                    None if self.only_registered => return Err(not_allowed()),
                    None => shared.document(&hash).await,
                };
                match document {
                    Some(document) => {
                        request.query = document;
                        Ok((request, None))
                    }
                    None => Err(Refusal {
                        // Apollo clients answer this by sending the document.
                        status: StatusCode::OK,
                        code: code::PERSISTED_QUERY_NOT_FOUND,
                        message: "PersistedQueryNotFound".into(),
                    }),
                }
            }
        }
    }
}

fn not_allowed() -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code: code::PERSISTED_QUERY_NOT_ALLOWED,
        message:
            "this gateway accepts only the documents registered in its persisted-query manifest"
                .into(),
    }
}
