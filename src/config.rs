//! Typed configuration: defaults < TOML file named by `CATALOGUE_CONFIG` <
//! `CATALOGUE_*` environment variables. Unknown keys and variables are
//! refused, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

mod clients;
pub use clients::{AddressBlock, ClientConfig, ClientId, ClientKey, RateLimitedStatus};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the gateway needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to serve on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// Directory of catalogue files loaded into an empty database at start;
    /// `None` to start empty.
    pub seed_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM, in seconds.
    pub shutdown_grace_seconds: u64,
    /// Time a client has to send a request's head (request line and
    /// headers) from its first byte (or from connecting), in seconds.
    pub header_read_timeout_seconds: u64,
    /// Time a client has to send a request's body once its head has arrived, in seconds.
    pub body_read_timeout_seconds: u64,
    /// How long a connection may wait for its next request, in seconds.
    pub keep_alive_timeout_seconds: u64,
    /// Whether `serve` applies pending migrations at start; when off (a
    /// separate `migrate` step runs them, as the Kubernetes Job does), it
    /// refuses to start on a schema older than its own.
    pub migrate_on_start: bool,
    pub log_format: LogFormat,
    /// The issuer whose tokens are trusted (`iss`); its keys come from the
    /// `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    pub oidc_issuer: Option<String>,
    /// The issuer's JWKS, when it publishes no discovery document.
    pub jwks_url: Option<String>,
    /// The `aud` every token must carry.
    pub jwt_audience: Option<String>,
    /// More trusted issuers (TOML only): e.g. ProConnect for people and an
    /// internal issuer for other administrations' tools.
    pub issuers: Vec<IssuerConfig>,
    /// Emails or subs of the catalogue's administrators.
    pub admins: Vec<String>,
    /// Signature algorithms accepted (asymmetric only).
    pub jwt_algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub jwt_leeway_seconds: u64,
    /// Least time between two JWKS fetches caused by unknown key ids, in seconds.
    pub jwks_refetch_seconds: u64,
    /// How often the JWKS is refreshed in the background, in seconds.
    pub jwks_refresh_seconds: u64,
    /// Trust tokens from `catalogue-gateway dev-token` (front-end development only).
    pub dev_auth: bool,
    /// The local key dev tokens are signed with; created on first use.
    pub dev_key_file: PathBuf,
    /// The gateway's public base URL: the `iss` and `aud` of the tokens it
    /// mints and the base of its sign-in URLs. Unset: `http://<listen address>`.
    pub public_url: Option<String>,
    /// How long the gateway's own tokens last, in seconds.
    pub token_lifetime_seconds: u64,
    /// P-256 PKCS#8 PEM keys to sign the gateway's tokens with, read at start
    /// and never written to the database: the first signs, any others only
    /// verify. Unset: a key generated on first start and kept in the database
    /// for every replica.
    pub signing_key_file: Option<PathBuf>,
    /// Encrypts the signing keys kept in the database (base64 of 32 bytes);
    /// unset: they are kept in plain text, with a warning at start.
    pub signing_key_encryption_key: Option<EncryptionKey>,
    /// ProConnect's issuer (`…/api/v2`); unset: no sign-in, no introspection.
    pub proconnect_issuer: Option<String>,
    pub proconnect_client_id: Option<String>,
    pub proconnect_client_secret: Option<Secret>,
    /// Registered at ProConnect; unset: `<public_url>/auth/callback`.
    pub proconnect_redirect_url: Option<String>,
    /// Space-separated scopes asked for.
    pub proconnect_scopes: String,
    /// `acr_values` asked for; when set, the ID token's `acr` must be one of them.
    pub proconnect_acr_values: Option<String>,
    /// The one algorithm the client was registered with at ProConnect.
    pub proconnect_signing_alg: String,
    /// Origins of the portals a sign-in may return to (the gateway's own is always allowed).
    pub signin_redirect_origins: Vec<String>,
    /// ProConnect client ids of other administrations' tools whose access
    /// tokens are accepted (checked by introspection); ours always is.
    pub proconnect_introspection_clients: Vec<String>,
    /// `redis://…`: the response cache shared by every replica; unset: in-process.
    pub redis_url: Option<Secret>,
    /// `redis://…` of a Redis that never evicts (`noeviction`), for rate-limit
    /// buckets and persisted queries, apart from answers an LRU Redis may
    /// evict; unset: `redis_url`'s.
    pub redis_state_url: Option<Secret>,
    /// Prefix of the gateway's Redis keys (deployments may share a Redis).
    pub redis_prefix: String,
    /// How long Redis may take to answer before the cache is skipped, in milliseconds.
    pub redis_timeout_ms: u64,
    /// Whether answers are kept in the response cache (off: every request
    /// reaches the database; for diagnosis and benchmarks).
    pub cache_answers: bool,
    /// Whether the plain answers fast path may answer (off: every answer
    /// goes through async-graphql's resolvers; the same bytes, more slowly).
    pub plain_answers: bool,
    /// How long an answer stays in the response cache, in seconds.
    pub cache_ttl_seconds: u64,
    /// Size of the in-process response cache (with Redis: of the answers
    /// also kept in process), in bytes.
    pub cache_memory_bytes: u64,
    /// With Redis: how long an answer kept in process is served before
    /// Redis's copy is read again, in seconds (bounds how long a write whose
    /// generation bump reached no replica can go unseen).
    pub cache_memory_max_age_seconds: u64,
    /// `max-age` of public answers to GET requests, for browsers and CDNs, in seconds.
    pub http_max_age_seconds: u64,
    /// Deepest selection accepted.
    pub max_depth: usize,
    /// Largest query cost accepted.
    pub max_complexity: usize,
    /// Most aliases in one document.
    pub max_aliases: usize,
    /// Most root fields in one operation.
    pub max_root_fields: usize,
    /// Most fields one operation selects with its fragments expanded (each
    /// spread counted as often as it is spread).
    pub max_selections: usize,
    /// Longest chain of fragments spreading fragments.
    pub max_fragment_depth: usize,
    /// Most operations in one batched POST.
    pub max_batch: usize,
    /// Whether `__schema`/`__type` introspection is answered.
    pub introspection: bool,
    /// Accept only the documents of `persisted_queries_file` (production front-ends).
    pub persisted_only: bool,
    /// An Apollo persisted-query manifest (JSON) of the documents registered in advance.
    pub persisted_queries_file: Option<PathBuf>,
    /// How long a document registered by automatic persisted queries is kept, in seconds.
    pub persisted_query_ttl_seconds: u64,
    /// Bytes of automatically persisted documents one client (agent, else
    /// address) may have kept at once; beyond, documents run but are not kept.
    pub persisted_queries_client_bytes: u64,
    /// Bytes of automatically persisted documents kept at once, all clients together.
    pub persisted_queries_max_bytes: u64,
    /// Requests per minute each caller (agent `sub`, else client IP) may make; 0: no limit.
    pub rate_limit_per_minute: u64,
    /// Requests a caller may make at once above the steady rate.
    pub rate_limit_burst: u64,
    /// Requests per minute each client address may make to `/auth/*`
    /// (each sign-in writes a row); 0: no limit.
    pub signin_rate_limit_per_minute: u64,
    /// Requests to `/auth/*` a client address may make at once above the steady rate.
    pub signin_rate_limit_burst: u64,
    /// The gateway runs behind one reverse proxy that appends the client's
    /// address to `X-Forwarded-For`: rate limits use that address.
    pub trust_forwarded_for: bool,
    /// Routers and tools calling on behalf of many users, each with a rate
    /// limit of its own (`CATALOGUE_CLIENTS`: a JSON array; TOML: `[[clients]]`).
    pub clients: Vec<ClientConfig>,
    /// Origins allowed to read the API from a browser: listed ones with
    /// credentials (cookies), `*` any other without.
    pub cors_origins: Vec<String>,
    /// GitHub's REST API.
    pub github_api_url: String,
    /// gitlab.com's API v4.
    pub gitlab_api_url: String,
    /// Base URLs (`scheme://host[:port]`) of the self-hosted GitLab instances
    /// the harvest may ask (at `<url>/api/v4`); no other host is taken for a GitLab.
    pub gitlab_instances: Vec<String>,
    /// data.gouv.fr (its API is under `/api/1`).
    pub datagouv_api_url: String,
    /// PyPI (its JSON API is under `/pypi`).
    pub pypi_url: String,
    /// A GitHub token, for a higher rate limit.
    pub github_token: Option<Secret>,
    /// A GitLab token.
    pub gitlab_token: Option<Secret>,
    /// Requests at once to one upstream host.
    pub harvest_concurrency_per_host: usize,
    /// Time an upstream request may take, in seconds.
    pub harvest_timeout_seconds: u64,
    /// Longest wait a rate limit may impose before a link is deferred, in seconds.
    pub harvest_max_wait_seconds: u64,
    /// Largest upstream answer read, in bytes; a larger one fails its link.
    pub harvest_max_body_bytes: u64,
    /// How often `serve` harvests, in seconds (with up to 10% jitter); 0: never.
    pub harvest_interval_seconds: u64,
}

/// A credential: deserialized like a string, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A 256-bit key, given as the base64 of 32 bytes; never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<String> for EncryptionKey {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Self)
            .ok_or_else(|| {
                "not the base64 of 32 bytes (make one with `openssl rand -base64 32`)".to_owned()
            })
    }
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

/// ProConnect's default scopes: the claims the catalogue reads.
pub const PROCONNECT_SCOPES: &str =
    "openid email given_name usual_name uid siret organizational_unit idp_id";

/// One trusted token issuer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Exactly the `iss` its tokens carry.
    pub issuer: String,
    /// Its JWKS; when absent, read from its discovery document.
    pub jwks_url: Option<String>,
    /// The `aud` its tokens must carry.
    pub audience: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/catalogue.db".to_owned(),
            seed_dir: Some(PathBuf::from("catalogue")),
            max_body_bytes: 256 * 1024,
            shutdown_grace_seconds: 20,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            keep_alive_timeout_seconds: 75,
            migrate_on_start: true,
            log_format: LogFormat::Text,
            oidc_issuer: None,
            jwks_url: None,
            jwt_audience: None,
            issuers: Vec::new(),
            admins: Vec::new(),
            jwt_algorithms: vec!["RS256".to_owned(), "ES256".to_owned(), "PS256".to_owned()],
            jwt_leeway_seconds: 60,
            jwks_refetch_seconds: 30,
            jwks_refresh_seconds: 3600,
            dev_auth: false,
            dev_key_file: PathBuf::from("data/dev-signing-key.pem"),
            public_url: None,
            token_lifetime_seconds: 3600,
            signing_key_file: None,
            signing_key_encryption_key: None,
            proconnect_issuer: None,
            proconnect_client_id: None,
            proconnect_client_secret: None,
            proconnect_redirect_url: None,
            proconnect_scopes: PROCONNECT_SCOPES.to_owned(),
            proconnect_acr_values: None,
            proconnect_signing_alg: "RS256".to_owned(),
            signin_redirect_origins: Vec::new(),
            proconnect_introspection_clients: Vec::new(),
            redis_url: None,
            redis_state_url: None,
            redis_prefix: "catalogue:".to_owned(),
            redis_timeout_ms: 250,
            cache_answers: true,
            plain_answers: true,
            cache_ttl_seconds: 300,
            cache_memory_bytes: 64 * 1024 * 1024,
            cache_memory_max_age_seconds: 60,
            http_max_age_seconds: 60,
            max_depth: 10,
            max_complexity: 1000,
            max_aliases: 30,
            max_root_fields: 20,
            max_selections: 2000,
            max_fragment_depth: 16,
            max_batch: 10,
            introspection: true,
            persisted_only: false,
            persisted_queries_file: None,
            persisted_query_ttl_seconds: 24 * 3600,
            persisted_queries_client_bytes: 1024 * 1024,
            persisted_queries_max_bytes: 32 * 1024 * 1024,
            rate_limit_per_minute: 600,
            rate_limit_burst: 100,
            signin_rate_limit_per_minute: 60,
            signin_rate_limit_burst: 20,
            trust_forwarded_for: false,
            clients: Vec::new(),
            cors_origins: vec!["*".to_owned()],
            github_api_url: "https://api.github.com".to_owned(),
            gitlab_api_url: "https://gitlab.com/api/v4".to_owned(),
            gitlab_instances: Vec::new(),
            datagouv_api_url: "https://www.data.gouv.fr".to_owned(),
            pypi_url: "https://pypi.org".to_owned(),
            github_token: None,
            gitlab_token: None,
            harvest_concurrency_per_host: 4,
            harvest_timeout_seconds: 10,
            harvest_max_wait_seconds: 30,
            harvest_max_body_bytes: 8 * 1024 * 1024,
            harvest_interval_seconds: 6 * 3600,
        }
    }
}

/// Why the configuration was refused; each says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{variable}: {message}")]
    BadVariable { variable: String, message: String },
    #[error("{0}")]
    Conflict(String),
}

const PREFIX: &str = "CATALOGUE_";
/// The variable naming the TOML file; not itself a setting.
const FILE_VARIABLE: &str = "CATALOGUE_CONFIG";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the configuration from `vars` (the environment, or a test's own).
    pub fn from_vars(vars: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut config = match vars.get(FILE_VARIABLE) {
            Some(path) => Self::from_file(PathBuf::from(path))?,
            None => Self::default(),
        };
        for (name, value) in vars.iter().filter(|(name, _)| name.starts_with(PREFIX)) {
            if name != FILE_VARIABLE {
                config.set(name, value)?;
            }
        }
        config.check()?;
        Ok(config)
    }

    fn from_file(path: PathBuf) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Unreadable {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::BadFile {
            path,
            message: e.to_string(),
        })
    }

    fn set(&mut self, variable: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::BadVariable {
            variable: variable.to_owned(),
            message,
        };
        match &variable[PREFIX.len()..] {
            "LISTEN" => {
                self.listen = value.parse().map_err(|e| {
                    bad(format!(
                        "`{value}` is not an address like 127.0.0.1:8080 ({e})"
                    ))
                })?
            }
            "DATABASE_URL" => self.database_url = value.to_owned(),
            "SEED_DIR" => self.seed_dir = (!value.is_empty()).then(|| PathBuf::from(value)),
            "MAX_BODY_BYTES" => {
                self.max_body_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "SHUTDOWN_GRACE_SECONDS" => {
                self.shutdown_grace_seconds = seconds(value).map_err(bad)?
            }
            "HEADER_READ_TIMEOUT_SECONDS" => {
                self.header_read_timeout_seconds = seconds(value).map_err(bad)?
            }
            "BODY_READ_TIMEOUT_SECONDS" => {
                self.body_read_timeout_seconds = seconds(value).map_err(bad)?
            }
            "KEEP_ALIVE_TIMEOUT_SECONDS" => {
                self.keep_alive_timeout_seconds = seconds(value).map_err(bad)?
            }
            "OIDC_ISSUER" => self.oidc_issuer = non_empty(value),
            "JWKS_URL" => self.jwks_url = non_empty(value),
            "JWT_AUDIENCE" => self.jwt_audience = non_empty(value),
            "ADMINS" => self.admins = list(value),
            "JWT_ALGORITHMS" => self.jwt_algorithms = list(value),
            "JWT_LEEWAY_SECONDS" => self.jwt_leeway_seconds = seconds(value).map_err(bad)?,
            "JWKS_REFETCH_SECONDS" => self.jwks_refetch_seconds = seconds(value).map_err(bad)?,
            "JWKS_REFRESH_SECONDS" => self.jwks_refresh_seconds = seconds(value).map_err(bad)?,
            "DEV_AUTH" => self.dev_auth = flag(value).map_err(bad)?,
            "DEV_KEY_FILE" => self.dev_key_file = PathBuf::from(value),
            "PUBLIC_URL" => self.public_url = non_empty(value),
            "TOKEN_LIFETIME_SECONDS" => {
                self.token_lifetime_seconds = seconds(value).map_err(bad)?
            }
            "SIGNING_KEY_FILE" => {
                self.signing_key_file = (!value.is_empty()).then(|| PathBuf::from(value))
            }
            "SIGNING_KEY_ENCRYPTION_KEY" => {
                self.signing_key_encryption_key = match non_empty(value) {
                    Some(key) => Some(EncryptionKey::try_from(key).map_err(bad)?),
                    None => None,
                }
            }
            "PROCONNECT_ISSUER" => self.proconnect_issuer = non_empty(value),
            "PROCONNECT_CLIENT_ID" => self.proconnect_client_id = non_empty(value),
            "PROCONNECT_CLIENT_SECRET" => {
                self.proconnect_client_secret = non_empty(value).map(Secret)
            }
            "PROCONNECT_REDIRECT_URL" => self.proconnect_redirect_url = non_empty(value),
            "PROCONNECT_SCOPES" => self.proconnect_scopes = value.trim().to_owned(),
            "PROCONNECT_ACR_VALUES" => self.proconnect_acr_values = non_empty(value),
            "PROCONNECT_SIGNING_ALG" => self.proconnect_signing_alg = value.trim().to_owned(),
            "SIGNIN_REDIRECT_ORIGINS" => self.signin_redirect_origins = list(value),
            "PROCONNECT_INTROSPECTION_CLIENTS" => {
                self.proconnect_introspection_clients = list(value)
            }
            "REDIS_URL" => self.redis_url = non_empty(value).map(Secret),
            "REDIS_STATE_URL" => self.redis_state_url = non_empty(value).map(Secret),
            "REDIS_PREFIX" => self.redis_prefix = value.to_owned(),
            "REDIS_TIMEOUT_MS" => {
                self.redis_timeout_ms = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a number of milliseconds ({e})")))?
            }
            "CACHE_ANSWERS" => self.cache_answers = flag(value).map_err(bad)?,
            "PLAIN_ANSWERS" => self.plain_answers = flag(value).map_err(bad)?,
            "CACHE_TTL_SECONDS" => self.cache_ttl_seconds = seconds(value).map_err(bad)?,
            "CACHE_MEMORY_BYTES" => {
                self.cache_memory_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "CACHE_MEMORY_MAX_AGE_SECONDS" => {
                self.cache_memory_max_age_seconds = seconds(value).map_err(bad)?
            }
            "HTTP_MAX_AGE_SECONDS" => self.http_max_age_seconds = seconds(value).map_err(bad)?,
            "MAX_DEPTH" => self.max_depth = count(value).map_err(bad)?,
            "MAX_COMPLEXITY" => self.max_complexity = count(value).map_err(bad)?,
            "MAX_ALIASES" => self.max_aliases = count(value).map_err(bad)?,
            "MAX_ROOT_FIELDS" => self.max_root_fields = count(value).map_err(bad)?,
            "MAX_SELECTIONS" => self.max_selections = count(value).map_err(bad)?,
            "MAX_FRAGMENT_DEPTH" => self.max_fragment_depth = count(value).map_err(bad)?,
            "MAX_BATCH" => self.max_batch = count(value).map_err(bad)?,
            "INTROSPECTION" => self.introspection = flag(value).map_err(bad)?,
            "PERSISTED_ONLY" => self.persisted_only = flag(value).map_err(bad)?,
            "PERSISTED_QUERIES_FILE" => {
                self.persisted_queries_file = (!value.is_empty()).then(|| PathBuf::from(value))
            }
            "PERSISTED_QUERY_TTL_SECONDS" => {
                self.persisted_query_ttl_seconds = seconds(value).map_err(bad)?
            }
            "PERSISTED_QUERIES_CLIENT_BYTES" => {
                self.persisted_queries_client_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "PERSISTED_QUERIES_MAX_BYTES" => {
                self.persisted_queries_max_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "RATE_LIMIT_PER_MINUTE" => self.rate_limit_per_minute = seconds(value).map_err(bad)?,
            "RATE_LIMIT_BURST" => self.rate_limit_burst = seconds(value).map_err(bad)?,
            "SIGNIN_RATE_LIMIT_PER_MINUTE" => {
                self.signin_rate_limit_per_minute = seconds(value).map_err(bad)?
            }
            "SIGNIN_RATE_LIMIT_BURST" => {
                self.signin_rate_limit_burst = seconds(value).map_err(bad)?
            }
            "TRUST_FORWARDED_FOR" => self.trust_forwarded_for = flag(value).map_err(bad)?,
            "CLIENTS" => self.clients = clients::parse(value).map_err(bad)?,
            "CORS_ORIGINS" => self.cors_origins = list(value),
            "GITHUB_API_URL" => self.github_api_url = value.trim().to_owned(),
            "GITLAB_API_URL" => self.gitlab_api_url = value.trim().to_owned(),
            "GITLAB_INSTANCES" => self.gitlab_instances = list(value),
            "DATAGOUV_API_URL" => self.datagouv_api_url = value.trim().to_owned(),
            "PYPI_URL" => self.pypi_url = value.trim().to_owned(),
            "GITHUB_TOKEN" => self.github_token = non_empty(value).map(Secret),
            "GITLAB_TOKEN" => self.gitlab_token = non_empty(value).map(Secret),
            "HARVEST_CONCURRENCY_PER_HOST" => {
                self.harvest_concurrency_per_host = count(value).map_err(bad)?
            }
            "HARVEST_TIMEOUT_SECONDS" => {
                self.harvest_timeout_seconds = seconds(value).map_err(bad)?
            }
            "HARVEST_MAX_WAIT_SECONDS" => {
                self.harvest_max_wait_seconds = seconds(value).map_err(bad)?
            }
            "HARVEST_MAX_BODY_BYTES" => {
                self.harvest_max_body_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "HARVEST_INTERVAL_SECONDS" => {
                self.harvest_interval_seconds = seconds(value).map_err(bad)?
            }
            "MIGRATE_ON_START" => self.migrate_on_start = flag(value).map_err(bad)?,
            "LOG_FORMAT" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad(format!("`{value}` is neither `text` nor `json`"))),
                }
            }
            _ => {
                return Err(bad(format!(
                    "unknown setting; known: {FILE_VARIABLE}, CATALOGUE_LISTEN, CATALOGUE_DATABASE_URL, \
                     CATALOGUE_SEED_DIR, CATALOGUE_MAX_BODY_BYTES, CATALOGUE_SHUTDOWN_GRACE_SECONDS, CATALOGUE_LOG_FORMAT, \
                     CATALOGUE_HEADER_READ_TIMEOUT_SECONDS, CATALOGUE_BODY_READ_TIMEOUT_SECONDS, \
                     CATALOGUE_KEEP_ALIVE_TIMEOUT_SECONDS, \
                     CATALOGUE_MIGRATE_ON_START, \
                     CATALOGUE_OIDC_ISSUER, CATALOGUE_JWKS_URL, CATALOGUE_JWT_AUDIENCE, CATALOGUE_ADMINS, \
                     CATALOGUE_JWT_ALGORITHMS, CATALOGUE_JWT_LEEWAY_SECONDS, CATALOGUE_JWKS_REFETCH_SECONDS, \
                     CATALOGUE_JWKS_REFRESH_SECONDS, CATALOGUE_DEV_AUTH, CATALOGUE_DEV_KEY_FILE, \
                     CATALOGUE_PUBLIC_URL, CATALOGUE_TOKEN_LIFETIME_SECONDS, CATALOGUE_SIGNING_KEY_FILE, \
                     CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY, \
                     CATALOGUE_PROCONNECT_ISSUER, CATALOGUE_PROCONNECT_CLIENT_ID, CATALOGUE_PROCONNECT_CLIENT_SECRET, \
                     CATALOGUE_PROCONNECT_REDIRECT_URL, CATALOGUE_PROCONNECT_SCOPES, CATALOGUE_PROCONNECT_ACR_VALUES, \
                     CATALOGUE_PROCONNECT_SIGNING_ALG, CATALOGUE_SIGNIN_REDIRECT_ORIGINS, \
                     CATALOGUE_PROCONNECT_INTROSPECTION_CLIENTS, \
                     CATALOGUE_REDIS_URL, CATALOGUE_REDIS_STATE_URL, CATALOGUE_REDIS_PREFIX, CATALOGUE_REDIS_TIMEOUT_MS, \
                     CATALOGUE_CACHE_ANSWERS, CATALOGUE_CACHE_TTL_SECONDS, CATALOGUE_CACHE_MEMORY_BYTES, CATALOGUE_CACHE_MEMORY_MAX_AGE_SECONDS, CATALOGUE_HTTP_MAX_AGE_SECONDS, CATALOGUE_PLAIN_ANSWERS, \
                     CATALOGUE_MAX_DEPTH, CATALOGUE_MAX_COMPLEXITY, CATALOGUE_MAX_ALIASES, CATALOGUE_MAX_ROOT_FIELDS, \
                     CATALOGUE_MAX_SELECTIONS, CATALOGUE_MAX_FRAGMENT_DEPTH, \
                     CATALOGUE_MAX_BATCH, CATALOGUE_INTROSPECTION, CATALOGUE_PERSISTED_ONLY, \
                     CATALOGUE_PERSISTED_QUERIES_FILE, CATALOGUE_PERSISTED_QUERY_TTL_SECONDS, \
                     CATALOGUE_PERSISTED_QUERIES_CLIENT_BYTES, CATALOGUE_PERSISTED_QUERIES_MAX_BYTES, \
                     CATALOGUE_RATE_LIMIT_PER_MINUTE, CATALOGUE_RATE_LIMIT_BURST, \
                     CATALOGUE_SIGNIN_RATE_LIMIT_PER_MINUTE, CATALOGUE_SIGNIN_RATE_LIMIT_BURST, CATALOGUE_TRUST_FORWARDED_FOR, \
                     CATALOGUE_CLIENTS, CATALOGUE_CORS_ORIGINS, CATALOGUE_GITHUB_API_URL, CATALOGUE_GITLAB_API_URL, \
                     CATALOGUE_GITLAB_INSTANCES, CATALOGUE_DATAGOUV_API_URL, CATALOGUE_PYPI_URL, CATALOGUE_GITHUB_TOKEN, CATALOGUE_GITLAB_TOKEN, \
                     CATALOGUE_HARVEST_CONCURRENCY_PER_HOST, CATALOGUE_HARVEST_TIMEOUT_SECONDS, \
                     CATALOGUE_HARVEST_MAX_WAIT_SECONDS, CATALOGUE_HARVEST_MAX_BODY_BYTES, \
                     CATALOGUE_HARVEST_INTERVAL_SECONDS"
                )));
            }
        }
        Ok(())
    }

    /// Every trusted issuer: the one of `oidc_issuer`/`jwks_url`/`jwt_audience`,
    /// then those of `issuers`.
    pub fn trusted_issuers(&self) -> Result<Vec<IssuerConfig>, ConfigError> {
        let mut trusted = Vec::new();
        match (&self.oidc_issuer, &self.jwks_url, &self.jwt_audience) {
            (None, None, None) => {}
            (Some(issuer), jwks_url, Some(audience)) => trusted.push(IssuerConfig {
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                audience: audience.clone(),
            }),
            (None, Some(_), _) => {
                return Err(ConfigError::Conflict(
                    "CATALOGUE_JWKS_URL is set without CATALOGUE_OIDC_ISSUER: set the issuer too, tokens' `iss` is checked against it".into(),
                ));
            }
            (_, _, None) => {
                return Err(ConfigError::Conflict(
                    "a token issuer is configured without CATALOGUE_JWT_AUDIENCE: set the audience tokens must carry".into(),
                ));
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::Conflict(
                    "CATALOGUE_JWT_AUDIENCE is set without CATALOGUE_OIDC_ISSUER: set the issuer whose tokens to trust".into(),
                ));
            }
        }
        trusted.extend(self.issuers.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        for issuer in &trusted {
            if !seen.insert(issuer.issuer.as_str()) {
                return Err(ConfigError::Conflict(format!(
                    "issuer `{}` is configured twice",
                    issuer.issuer
                )));
            }
        }
        Ok(trusted)
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.trusted_issuers()?;
        for name in &self.jwt_algorithms {
            if !matches!(
                name.as_str(),
                "RS256"
                    | "RS384"
                    | "RS512"
                    | "PS256"
                    | "PS384"
                    | "PS512"
                    | "ES256"
                    | "ES384"
                    | "EdDSA"
            ) {
                return Err(ConfigError::Conflict(format!(
                    "jwt_algorithms: `{name}` is not accepted; use asymmetric algorithms (RS256, PS256, ES256, …): keys come from a public JWKS"
                )));
            }
        }
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Conflict(format!(
                "database_url `{}` is neither sqlite://… nor postgres://…; set CATALOGUE_DATABASE_URL",
                redact_password(url)
            )));
        }
        self.check_signin()?;
        for (name, url) in [
            ("redis_url", &self.redis_url),
            ("redis_state_url", &self.redis_state_url),
        ] {
            if let Some(url) = url
                && !(url.expose().starts_with("redis://") || url.expose().starts_with("rediss://"))
            {
                return Err(ConfigError::Conflict(format!(
                    "{name} `{}` is neither redis://… nor rediss://…",
                    redact_password(url.expose())
                )));
            }
        }
        if self.redis_state_url.is_some() && self.redis_url.is_none() {
            return Err(ConfigError::Conflict(
                "redis_state_url is set without redis_url: set CATALOGUE_REDIS_URL too (answers are cached there)".into(),
            ));
        }
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
        clients::check(&self.clients)?;
        for origin in self.cors_origins.iter().filter(|o| o.as_str() != "*") {
            if !is_origin(origin) {
                return Err(ConfigError::Conflict(format!(
                    "cors_origins: `{origin}` is neither `*` nor an origin like https://portail.example.gouv.fr"
                )));
            }
        }
        for (name, url) in [
            ("github_api_url", &self.github_api_url),
            ("gitlab_api_url", &self.gitlab_api_url),
            ("datagouv_api_url", &self.datagouv_api_url),
            ("pypi_url", &self.pypi_url),
        ] {
            if !is_http_url(url) {
                return Err(ConfigError::Conflict(format!(
                    "{name} `{url}` is not an http(s) URL"
                )));
            }
        }
        if self.header_read_timeout_seconds == 0
            || self.body_read_timeout_seconds == 0
            || self.keep_alive_timeout_seconds == 0
        {
            return Err(ConfigError::Conflict(
                "header_read_timeout_seconds, body_read_timeout_seconds and keep_alive_timeout_seconds must be at least 1"
                    .into(),
            ));
        }
        self.check_gitlab_instances()?;
        if self.harvest_max_body_bytes < 1024 {
            return Err(ConfigError::Conflict(format!(
                "harvest_max_body_bytes = {} leaves no room for an upstream answer; use at least 1024",
                self.harvest_max_body_bytes
            )));
        }
        if self.cache_ttl_seconds == 0 || self.cache_memory_max_age_seconds == 0 {
            return Err(ConfigError::Conflict(
                "cache_ttl_seconds and cache_memory_max_age_seconds must be at least 1".into(),
            ));
        }
        if self.persisted_query_ttl_seconds == 0 {
            return Err(ConfigError::Conflict(
                "persisted_query_ttl_seconds must be at least 1".into(),
            ));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Conflict(format!(
                "max_body_bytes = {} leaves no room for a query; use at least 1024",
                self.max_body_bytes
            )));
        }
        Ok(())
    }
}

impl Config {
    /// Each named GitLab instance is a base URL, named once: links are matched
    /// to it by host (and port, when it names one), and its API read below it.
    fn check_gitlab_instances(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for instance in &self.gitlab_instances {
            let url = url::Url::parse(instance).ok().filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some()
                    && url.username().is_empty()
                    && url.password().is_none()
                    && url.path() == "/"
                    && url.query().is_none()
                    && url.fragment().is_none()
            });
            let Some(url) = url else {
                return Err(ConfigError::Conflict(format!(
                    "gitlab_instances: `{instance}` is not a base URL like https://gitlab.example.gouv.fr (scheme, host and optional port; no path)"
                )));
            };
            if !seen.insert((url.host_str().map(str::to_owned), url.port())) {
                return Err(ConfigError::Conflict(format!(
                    "gitlab_instances: `{instance}` is named twice"
                )));
            }
        }
        Ok(())
    }

    /// ProConnect is all or nothing; URLs must parse; the algorithm must be one
    /// ProConnect signs with.
    fn check_signin(&self) -> Result<(), ConfigError> {
        let conflict = |message: String| Err(ConfigError::Conflict(message));
        if let Some(url) = &self.public_url
            && !is_http_url(url)
        {
            return conflict(format!("public_url `{url}` is not an http(s) URL"));
        }
        if self.token_lifetime_seconds < 60 {
            return conflict("token_lifetime_seconds must be at least 60".into());
        }
        if self.signing_key_file.is_some() && self.signing_key_encryption_key.is_some() {
            return conflict(
                "CATALOGUE_SIGNING_KEY_FILE and CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY are both set: \
                 keys from the file are never kept in the database; unset one"
                    .into(),
            );
        }
        for origin in &self.signin_redirect_origins {
            if !is_http_url(origin) {
                return conflict(format!(
                    "signin_redirect_origins: `{origin}` is not an origin like https://portail.example.gouv.fr"
                ));
            }
        }
        let proconnect = [
            (
                "CATALOGUE_PROCONNECT_ISSUER",
                self.proconnect_issuer.is_some(),
            ),
            (
                "CATALOGUE_PROCONNECT_CLIENT_ID",
                self.proconnect_client_id.is_some(),
            ),
            (
                "CATALOGUE_PROCONNECT_CLIENT_SECRET",
                self.proconnect_client_secret.is_some(),
            ),
        ];
        let missing: Vec<&str> = proconnect
            .iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() && missing.len() < proconnect.len() {
            return conflict(format!(
                "ProConnect is partly configured: set {} too",
                missing.join(", ")
            ));
        }
        if let Some(issuer) = &self.proconnect_issuer
            && !is_http_url(issuer)
        {
            return conflict(format!(
                "proconnect_issuer `{issuer}` is not an http(s) URL"
            ));
        }
        if let Some(url) = &self.proconnect_redirect_url
            && !is_http_url(url)
        {
            return conflict(format!(
                "proconnect_redirect_url `{url}` is not an http(s) URL"
            ));
        }
        if !matches!(
            self.proconnect_signing_alg.as_str(),
            "RS256" | "ES256" | "HS256"
        ) {
            return conflict(format!(
                "proconnect_signing_alg `{}` is not one ProConnect signs with: RS256, ES256 or HS256, as registered for the client",
                self.proconnect_signing_alg
            ));
        }
        if !self
            .proconnect_scopes
            .split_whitespace()
            .any(|scope| scope == "openid")
        {
            return conflict("proconnect_scopes must include `openid`".into());
        }
        Ok(())
    }

    /// The operation limits the schema enforces.
    pub fn limits(&self) -> crate::graphql::Limits {
        crate::graphql::Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_selections: self.max_selections,
            max_fragment_depth: self.max_fragment_depth,
            introspection: self.introspection,
        }
    }

    /// The gateway's public base URL, without a trailing slash.
    pub fn public_url_or(&self, bound: std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

fn is_http_url(value: &str) -> bool {
    url::Url::parse(value)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

/// `scheme://host[:port]`, as browsers send it in `Origin` (a trailing `/` aside).
fn is_origin(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
    })
}

fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A comma-separated list, blanks dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn count(value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|e| format!("`{value}` is not a count ({e})"))
}

fn flag(value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(format!("`{value}` is neither 1 nor 0")),
    }
}

fn seconds(value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|e| format!("`{value}` is not a number of seconds ({e})"))
}

/// The URL with its password replaced, fit for messages and logs.
pub fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n").unwrap();
        let config = Config::from_vars(vars(&[
            ("CATALOGUE_CONFIG", file.to_str().unwrap()),
            ("CATALOGUE_MAX_BODY_BYTES", "8192"),
            ("HOME", "/root"),
        ]))
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.max_body_bytes, 8192);
        assert_eq!(config.database_url, Config::default().database_url);
    }

    #[test]
    fn a_state_redis_needs_the_answers_one_and_ages_must_be_positive() {
        let error = Config::from_vars(vars(&[(
            "CATALOGUE_REDIS_STATE_URL",
            "redis://redis-state:6379",
        )]))
        .unwrap_err();
        assert!(error.to_string().contains("CATALOGUE_REDIS_URL"), "{error}");
        let both = Config::from_vars(vars(&[
            ("CATALOGUE_REDIS_URL", "redis://redis:6379"),
            ("CATALOGUE_REDIS_STATE_URL", "redis://redis-state:6379"),
            ("CATALOGUE_PERSISTED_QUERIES_CLIENT_BYTES", "2048"),
            ("CATALOGUE_SIGNIN_RATE_LIMIT_BURST", "3"),
        ]))
        .unwrap();
        assert_eq!(both.persisted_queries_client_bytes, 2048);
        assert_eq!(both.signin_rate_limit_burst, 3);
        for variable in [
            "CATALOGUE_CACHE_MEMORY_MAX_AGE_SECONDS",
            "CATALOGUE_PERSISTED_QUERY_TTL_SECONDS",
        ] {
            let error = Config::from_vars(vars(&[(variable, "0")])).unwrap_err();
            assert!(
                error.to_string().contains("at least 1"),
                "{variable}: {error}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let error =
            Config::from_vars(vars(&[("CATALOGUE_CONFIG", file.to_str().unwrap())])).unwrap_err();
        assert!(error.to_string().contains("listne"), "{error}");

        let error = Config::from_vars(vars(&[("CATALOGUE_LISTNE", "x")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("CATALOGUE_LISTNE: unknown setting"),
            "{error}"
        );

        let error = Config::from_vars(vars(&[("CATALOGUE_LISTEN", "localhost")])).unwrap_err();
        assert!(
            error.to_string().starts_with("CATALOGUE_LISTEN:"),
            "{error}"
        );

        let error = Config::from_vars(vars(&[("CATALOGUE_DATABASE_URL", "mysql://u:secret@h/db")]))
            .unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn trusted_issuers_come_from_variables_and_the_file_and_must_be_complete() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(
            &file,
            "[[issuers]]\nissuer = \"https://tools.example.gouv.fr\"\naudience = \"catalogue\"\njwks_url = \"https://tools.example.gouv.fr/jwks\"\n",
        )
        .unwrap();
        let config = Config::from_vars(vars(&[
            ("CATALOGUE_CONFIG", file.to_str().unwrap()),
            ("CATALOGUE_OIDC_ISSUER", "https://proconnect.example/api/v2"),
            ("CATALOGUE_JWT_AUDIENCE", "catalogue"),
            ("CATALOGUE_ADMINS", "a@x.gouv.fr, b@y.gouv.fr"),
        ]))
        .unwrap();
        let issuers = config.trusted_issuers().unwrap();
        assert_eq!(issuers.len(), 2);
        assert_eq!(issuers[0].issuer, "https://proconnect.example/api/v2");
        assert_eq!(
            issuers[1].jwks_url.as_deref(),
            Some("https://tools.example.gouv.fr/jwks")
        );
        assert_eq!(config.admins, vec!["a@x.gouv.fr", "b@y.gouv.fr"]);

        for (pairs, says) in [
            (
                vec![("CATALOGUE_OIDC_ISSUER", "https://i")],
                "CATALOGUE_JWT_AUDIENCE",
            ),
            (
                vec![("CATALOGUE_JWKS_URL", "https://i/jwks")],
                "CATALOGUE_OIDC_ISSUER",
            ),
            (vec![("CATALOGUE_JWT_ALGORITHMS", "RS256,HS256")], "HS256"),
        ] {
            let error = Config::from_vars(vars(&pairs)).unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
    }

    #[test]
    fn the_signing_key_encryption_key_is_32_bytes_never_printed_and_not_with_a_key_file() {
        let key = "q0vXrE6y5s3yFqU1m2+G7cB1oZ7Xc2P9rN4tL8wK3aE=";
        let config =
            Config::from_vars(vars(&[("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", key)])).unwrap();
        assert!(config.signing_key_encryption_key.is_some());
        assert!(!format!("{config:?}").contains(key));
        for short in ["c2hvcnQ=", "not base64!"] {
            let error = Config::from_vars(vars(&[("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", short)]))
                .unwrap_err();
            assert!(
                error.to_string().starts_with(
                    "CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY: not the base64 of 32 bytes"
                ),
                "{error}"
            );
        }
        let error = Config::from_vars(vars(&[
            ("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY", key),
            ("CATALOGUE_SIGNING_KEY_FILE", "/run/secrets/signing-key.pem"),
        ]))
        .unwrap_err();
        assert!(error.to_string().contains("unset one"), "{error}");
    }

    #[test]
    fn proconnect_is_all_or_nothing_and_its_secret_is_never_printed() {
        let complete = [
            (
                "CATALOGUE_PROCONNECT_ISSUER",
                "https://fca.integ01.dev-agentconnect.fr/api/v2",
            ),
            ("CATALOGUE_PROCONNECT_CLIENT_ID", "client"),
            ("CATALOGUE_PROCONNECT_CLIENT_SECRET", "very-secret-value"),
        ];
        let config = Config::from_vars(vars(&complete)).unwrap();
        assert!(!format!("{config:?}").contains("very-secret-value"));
        assert_eq!(config.proconnect_scopes, PROCONNECT_SCOPES);

        let error = Config::from_vars(vars(&complete[..2])).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("CATALOGUE_PROCONNECT_CLIENT_SECRET"),
            "{error}"
        );
        for (name, value, says) in [
            (
                "CATALOGUE_PROCONNECT_SIGNING_ALG",
                "none",
                "RS256, ES256 or HS256",
            ),
            ("CATALOGUE_PROCONNECT_SCOPES", "email", "openid"),
            (
                "CATALOGUE_SIGNIN_REDIRECT_ORIGINS",
                "portail.gouv.fr",
                "origin",
            ),
            ("CATALOGUE_PUBLIC_URL", "catalogue", "public_url"),
            ("CATALOGUE_TOKEN_LIFETIME_SECONDS", "10", "at least 60"),
        ] {
            let mut pairs = complete.to_vec();
            pairs.push((name, value));
            let error = Config::from_vars(vars(&pairs)).unwrap_err();
            assert!(error.to_string().contains(says), "{name}: {error}");
        }
    }

    #[test]
    fn gitlab_instances_are_base_urls_named_once_and_the_body_cap_has_room() {
        let config = Config::from_vars(vars(&[
            (
                "CATALOGUE_GITLAB_INSTANCES",
                "https://gitlab.adullact.net, http://127.0.0.1:8081",
            ),
            ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "65536"),
        ]))
        .unwrap();
        assert_eq!(
            config.gitlab_instances,
            vec!["https://gitlab.adullact.net", "http://127.0.0.1:8081"]
        );
        assert_eq!(config.harvest_max_body_bytes, 65536);
        assert_eq!(Config::default().harvest_max_body_bytes, 8 * 1024 * 1024);
        for (name, value, says) in [
            (
                "CATALOGUE_GITLAB_INSTANCES",
                "gitlab.adullact.net",
                "base URL",
            ),
            (
                "CATALOGUE_GITLAB_INSTANCES",
                "https://gitlab.adullact.net/api/v4",
                "no path",
            ),
            (
                "CATALOGUE_GITLAB_INSTANCES",
                "https://user:pw@gitlab.adullact.net",
                "base URL",
            ),
            (
                "CATALOGUE_GITLAB_INSTANCES",
                "https://gitlab.adullact.net,https://gitlab.adullact.net:443/",
                "named twice",
            ),
            ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "100", "at least 1024"),
            ("CATALOGUE_HARVEST_MAX_BODY_BYTES", "8M", "byte count"),
        ] {
            let error = Config::from_vars(vars(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(says), "{value}: {error}");
        }
    }
}
