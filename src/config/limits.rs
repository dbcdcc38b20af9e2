//! What a caller may ask: the bounds on an operation (read by
//! `graphql`'s document checks and schema), batches, persisted documents,
//! and the rate limits of callers and configured clients.

use std::path::PathBuf;

use super::ConfigError;
use super::clients::{self, ClientConfig};
use super::values::{bytes, count, flag, optional_path, per_minute, requests, seconds};

section! {
    /// Every bound on what callers ask.
    pub struct Limits in limits {
        /// Deepest selection accepted.
        max_depth: usize = 10 => count,
        /// Largest query cost accepted.
        max_complexity: usize = 1000 => count,
        /// Most aliases in one document.
        max_aliases: usize = 30 => count,
        /// Most root fields in one operation.
        max_root_fields: usize = 20 => count,
        /// Most fields one operation selects with its fragments expanded (each
        /// spread counted as often as it is spread).
        max_selections: usize = 2000 => count,
        /// Longest chain of fragments spreading fragments.
        max_fragment_depth: usize = 16 => count,
        /// Most operations in one batched POST.
        max_batch: usize = 10 => count,
        /// Whether `__schema`/`__type` introspection is answered.
        introspection: bool = true => flag,
        /// An Apollo persisted-query manifest (JSON) of the documents registered in advance.
        persisted_queries_file: Option<PathBuf> = None => optional_path,
        /// Accept only the documents of `persisted_queries_file` (production front-ends).
        persisted_only: bool = false => flag,
        /// How long a document registered by automatic persisted queries is kept, in seconds.
        persisted_query_ttl_seconds: u64 = 24 * 3600 => seconds,
        /// Bytes of automatically persisted documents one client (agent, else
        /// address) may have kept at once; beyond, documents run but are not kept.
        persisted_queries_client_bytes: u64 = 1024 * 1024 => bytes,
        /// Bytes of automatically persisted documents kept at once, all clients together.
        persisted_queries_max_bytes: u64 = 32 * 1024 * 1024 => bytes,
        /// Most rows a CSV export or a DCAT catalogue holds; a longer one is
        /// refused (narrow the filters), before any page past the first runs.
        export_max_rows: usize = 10_000 => count,
        /// Requests per minute each caller (agent `sub`, else client IP) may make; 0: no limit.
        rate_limit_per_minute: u64 = 600 => per_minute,
        /// Requests a caller may make at once above the steady rate.
        rate_limit_burst: u64 = 100 => requests,
        /// Requests per minute each client address may make to `/auth/*`
        /// (each sign-in writes a row); 0: no limit.
        signin_rate_limit_per_minute: u64 = 60 => per_minute,
        /// Requests to `/auth/*` a client address may make at once above the steady rate.
        signin_rate_limit_burst: u64 = 20 => requests,
        /// Uses one agent may have declared at once (`declareUse`).
        uses_per_agent: u64 = 50 => count,
        /// Declared uses one organization may have at once.
        uses_per_organization: u64 = 500 => count,
        /// Organizations created from agents' SIRETs that may await an
        /// administrator's confirmation at once; beyond, agents of organizations
        /// the catalogue does not know cannot declare until some are confirmed.
        uses_unverified_organizations: u64 = 200 => count,
        /// Routers and tools calling on behalf of many users, each with a rate
        /// limit of its own (`CATALOGUE_CLIENTS`: a JSON array; TOML: `[[clients]]`).
        clients: Vec<ClientConfig> = Vec::new() => clients::parse,
    }
}

impl Limits {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.persisted_only && self.persisted_queries_file.is_none() {
            return Err(ConfigError::Conflict(
                "persisted_only needs persisted_queries_file: the documents it accepts".into(),
            ));
        }
        if self.max_batch == 0
            || self.max_root_fields == 0
            || self.max_depth == 0
            || self.max_selections == 0
        {
            return Err(ConfigError::Conflict(
                "max_batch, max_root_fields, max_depth and max_selections must be at least 1"
                    .into(),
            ));
        }
        if self.persisted_query_ttl_seconds == 0 {
            return Err(ConfigError::Conflict(
                "persisted_query_ttl_seconds must be at least 1".into(),
            ));
        }
        clients::check(&self.clients)
    }
}
