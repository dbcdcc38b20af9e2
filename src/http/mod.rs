//! HTTP routes and middleware: `/graphql` (POST, GET, GraphiQL,
//! subscriptions over WebSocket and Server-Sent Events),
//! `/schema.graphql`, Atom feeds under `/feeds/*`, `/health/*`, `/metrics`, sign-in under `/auth/*` and
//! the gateway's keys under `/.well-known/*`.

mod access_log;
mod answer;
mod assets;
mod caching;
mod clients;
mod cookies;
mod cors;
mod feeds;
mod graphiql;
mod graphql;
mod health;
mod media;
mod metrics;
mod persisted;
mod portal;
mod rate_limit;
pub mod server;
mod signin;
mod signin_refusal;
mod subscriptions;
mod well_known;

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, get};

use crate::auth::Authenticator;
use crate::cache::ResponseCache;
use crate::config::{Config, ConfigError};
use crate::graphql::{CatalogueSchema, DocumentLimits, Documents, PlainCounters};
use crate::harvest::Harvester;
use crate::live_changes::LiveChanges;
use crate::shared_state::SharedState;
use crate::store::Store;
use signin::SigninSettings;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub schema: CatalogueSchema,
    /// Parsed documents, each checked against the limits before it runs.
    pub documents: Documents,
    pub store: Store,
    pub authenticator: Authenticator,
    /// The SDL, rendered once.
    pub sdl: Arc<str>,
    pub max_body_bytes: usize,
    pub requests: Arc<metrics::RequestCounters>,
    signin: Arc<SigninSettings>,
    pub cache: ResponseCache,
    /// Rate-limit buckets and persisted documents.
    shared: SharedState,
    /// `max-age` of public answers to GET requests.
    http_max_age_seconds: u64,
    persisted: Arc<persisted::PersistedQueries>,
    cache_counters: Arc<metrics::CacheCounters>,
    link_check_gauges: Arc<metrics::LinkCheckGauges>,
    rate_limits: Arc<rate_limit::RateLimits>,
    max_batch: usize,
    cors: cors::CorsPolicy,
    cache_answers: bool,
    /// The fast path's counters, given to every execution when it is on.
    plain_answers: Option<Arc<PlainCounters>>,
    harvester: Arc<Harvester>,
    /// The journal's changes as they come, for subscribers.
    live: LiveChanges,
    subscription_slots: Arc<subscriptions::Slots>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)] // each is a part App::build wired apart
    pub fn new(
        schema: CatalogueSchema,
        store: Store,
        authenticator: Authenticator,
        cache: ResponseCache,
        shared: SharedState,
        harvester: Arc<Harvester>,
        live: LiveChanges,
        config: &Config,
    ) -> Result<Self, ConfigError> {
        let sdl = crate::graphql::sdl(&schema).into();
        let signin = Arc::new(SigninSettings::new(
            authenticator.own_issuer().issuer(),
            &config.proconnect.signin_redirect_origins,
            rate_limit::Limit {
                per_minute: config.limits.signin_rate_limit_per_minute,
                burst: config.limits.signin_rate_limit_burst,
            },
            config.proconnect.proconnect_session_seconds,
        ));
        let cors = cors::CorsPolicy::new(
            &config.http.cors_origins,
            authenticator.own_issuer().issuer(),
        );
        Ok(Self {
            schema,
            documents: Documents::new(DocumentLimits::from(&config.limits)),
            store,
            authenticator,
            sdl,
            max_body_bytes: config.http.max_body_bytes,
            requests: Arc::default(),
            signin,
            cache,
            shared,
            http_max_age_seconds: config.http.http_max_age_seconds,
            persisted: Arc::new(persisted::PersistedQueries::from_config(&config.limits)?),
            cache_counters: Arc::default(),
            link_check_gauges: Arc::default(),
            rate_limits: Arc::new(rate_limit::RateLimits {
                api: rate_limit::Limit {
                    per_minute: config.limits.rate_limit_per_minute,
                    burst: config.limits.rate_limit_burst,
                },
                clients: clients::Clients::new(&config.limits.clients),
                trust_forwarded_for: config.http.trust_forwarded_for,
                refused: rate_limit::RateLimited::default(),
            }),
            max_batch: config.limits.max_batch,
            cors,
            cache_answers: config.cache.cache_answers,
            plain_answers: config.execution.plain_answers.then(Arc::default),
            harvester,
            live,
            subscription_slots: subscriptions::Slots::new(config.changes.subscriptions_per_client),
        })
    }
}

/// Every route of the gateway, with its middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let counters = Arc::clone(&state.requests);
    let cors = state.cors.clone();
    let by_origin = cors.varies_by_origin();
    Route::new()
        .at("/", get(portal::index))
        .at("/portal/:hash/:file", get(portal::file))
        .at("/graphql", get(graphql::get).post(graphql::post))
        .at("/graphiql/:hash/:file", get(graphiql::file))
        .at("/schema.graphql", get(graphql::schema))
        .at("/feeds/changes.atom", get(feeds::catalogue_feed))
        .at("/feeds/projects/:file", get(feeds::project_feed))
        .at("/health/live", get(health::live))
        .at("/health/ready", get(health::ready))
        .at("/metrics", get(metrics::metrics))
        .at("/auth/login", get(signin::login))
        .at("/auth/callback", get(signin::callback))
        .at("/auth/logout", get(signin::logout))
        .at("/auth/status", get(signin::status))
        .at("/auth/logout/callback", get(signin::logout_callback))
        .at("/.well-known/jwks.json", get(well_known::jwks))
        .at(
            "/.well-known/openid-configuration",
            get(well_known::discovery),
        )
        .data(state)
        .with(cors)
        .after(move |response| caching::vary_by_caller(response, by_origin))
        .with(CatchPanic::new())
        .with(access_log::AccessLog { counters })
}
