//! HTTP routes and middleware: `/graphql` (POST, GET, GraphiQL,
//! subscriptions over WebSocket and Server-Sent Events), `/schema.graphql`,
//! Atom feeds under `/feeds/*`, `/health/*`, `/metrics`, sign-in under
//! `/auth/*` and the gateway's keys under `/.well-known/*`; the standard
//! formats other catalogues read (`/export/*.csv`, `/projects/{slug}.jsonld`,
//! `/projects/{slug}/publiccode.yml`, `/catalog` in DCAT-AP) and the REST API
//! under `/api/v1`.

mod access_log;
mod answer;
mod api_docs;
mod assets;
mod caching;
mod catalog;
mod clients;
mod cookies;
mod cors;
mod exports;
mod feeds;
mod fixed;
mod formats;
mod graphiql;
mod graphql;
mod health;
mod kept;
mod media;
mod metrics;
mod openapi;
mod parameters;
mod persisted;
mod portal;
mod projects;
mod rate_limit;
mod rest;
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
use crate::search::SearchIndex;
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
    webhooks: Arc<crate::webhooks::Registry>,
    /// For readiness: whether the start-up build is done.
    search: Arc<SearchIndex>,
    /// The query parameters of each REST route (by path) and CSV export (by
    /// filter type), read from the SDL once.
    query_parameters: Arc<std::collections::HashMap<&'static str, Vec<parameters::Parameter>>>,
    export_max_rows: usize,
    /// The gateway's public URL, without a final `/`: linked-data formats
    /// name the portal's pages with it.
    public_url: Arc<str>,
    /// Slug of the organization publishing the DCAT catalogue.
    catalog_publisher: Arc<str>,
    /// The REST API's OpenAPI description, rendered once.
    openapi: Arc<str>,
    /// The journal's changes as they come, for subscribers.
    live: LiveChanges,
    subscription_slots: Arc<subscriptions::Slots>,
}

/// What `App::build` made that the routes serve from.
pub struct Services {
    pub schema: CatalogueSchema,
    pub store: Store,
    pub authenticator: Authenticator,
    pub cache: ResponseCache,
    pub shared: SharedState,
    pub harvester: Arc<Harvester>,
    pub webhooks: Arc<crate::webhooks::Registry>,
    pub search: Arc<SearchIndex>,
    pub live: LiveChanges,
}

impl AppState {
    pub fn new(services: Services, config: &Config) -> Result<Self, ConfigError> {
        let Services {
            schema,
            store,
            authenticator,
            cache,
            shared,
            harvester,
            webhooks,
            search,
            live,
        } = services;
        let sdl: Arc<str> = crate::graphql::sdl(&schema).into();
        let sdl_parameters = Arc::new(parameters::Sdl::parse(&sdl));
        let rest_routes = rest::ROUTES
            .iter()
            .map(|route| (route.path, (route.query)(&sdl_parameters)));
        let exports = exports::TABLES.iter().map(|table| {
            (
                table.filter_type,
                sdl_parameters.input_fields(table.filter_type, "filter"),
            )
        });
        let query_parameters = Arc::new(rest_routes.chain(exports).collect());
        let public_url: Arc<str> = authenticator
            .own_issuer()
            .issuer()
            .trim_end_matches('/')
            .into();
        let openapi =
            serde_json::to_string_pretty(&openapi::description(&sdl_parameters, &public_url))
                .expect("JSON values serialise")
                .into();
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
            webhooks,
            search,
            query_parameters,
            export_max_rows: config.limits.export_max_rows,
            public_url,
            catalog_publisher: config.http.catalog_publisher.as_str().into(),
            openapi,
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
        .at("/export/projects.csv", get(exports::projects))
        .at("/export/repositories.csv", get(exports::repositories))
        .at("/export/datasets.csv", get(exports::datasets))
        .at("/catalog", get(catalog::negotiated))
        .at("/catalog.jsonld", get(catalog::json_ld))
        .at("/catalog.ttl", get(catalog::turtle))
        .at("/projects/:file", get(projects::json_ld))
        .at(
            "/projects/:slug/publiccode.yml",
            get(projects::publiccode_draft),
        )
        .at("/api/v1/projects", get(rest::projects))
        .at("/api/v1/projects/:slug", get(rest::project))
        .at("/api/v1/organizations/:slug", get(rest::organization))
        .at("/api/v1/search", get(rest::search))
        .at("/api/v1/changes", get(rest::changes))
        .at("/api/v1/openapi.json", get(api_docs::openapi))
        .at("/api/v1/docs", get(api_docs::page))
        .at("/api-docs/:hash/:file", get(api_docs::file))
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
