//! HTTP routes and middleware: `/graphql` (POST, GET, GraphiQL),
//! `/schema.graphql`, `/health/*`, `/metrics`, sign-in under `/auth/*` and
//! the gateway's keys under `/.well-known/*`.

mod access_log;
mod caching;
mod cookies;
mod graphql;
mod health;
mod metrics;
mod signin;
mod well_known;

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, get};

use crate::auth::Authenticator;
use crate::cache::ResponseCache;
use crate::config::Config;
use crate::graphql::CatalogueSchema;
use crate::store::Store;
use signin::SigninSettings;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub schema: CatalogueSchema,
    pub store: Store,
    pub authenticator: Authenticator,
    /// The SDL, rendered once.
    pub sdl: Arc<str>,
    pub max_body_bytes: usize,
    pub requests: Arc<metrics::RequestCounters>,
    signin: Arc<SigninSettings>,
    pub cache: ResponseCache,
    /// `max-age` of public answers to GET requests.
    http_max_age_seconds: u64,
}

impl AppState {
    pub fn new(
        schema: CatalogueSchema,
        store: Store,
        authenticator: Authenticator,
        cache: ResponseCache,
        config: &Config,
    ) -> Self {
        let sdl = schema.sdl().into();
        let signin = Arc::new(SigninSettings::new(
            authenticator.own_issuer().issuer(),
            &config.signin_redirect_origins,
        ));
        Self {
            schema,
            store,
            authenticator,
            sdl,
            max_body_bytes: config.max_body_bytes,
            requests: Arc::default(),
            signin,
            cache,
            http_max_age_seconds: config.http_max_age_seconds,
        }
    }
}

/// Every route of the gateway, with its middleware.
pub fn routes(state: AppState) -> impl Endpoint {
    let counters = Arc::clone(&state.requests);
    Route::new()
        .at("/graphql", get(graphql::get).post(graphql::post))
        .at("/schema.graphql", get(graphql::schema))
        .at("/health/live", get(health::live))
        .at("/health/ready", get(health::ready))
        .at("/metrics", get(metrics::metrics))
        .at("/auth/login", get(signin::login))
        .at("/auth/callback", get(signin::callback))
        .at("/auth/logout", get(signin::logout))
        .at("/auth/logout/callback", get(signin::logout_callback))
        .at("/.well-known/jwks.json", get(well_known::jwks))
        .at(
            "/.well-known/openid-configuration",
            get(well_known::discovery),
        )
        .data(state)
        .with(CatchPanic::new())
        .with(access_log::AccessLog { counters })
}
