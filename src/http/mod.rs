//! HTTP routes and middleware: `/graphql` (POST, GET, GraphiQL),
//! `/schema.graphql`, `/health/*`, `/metrics`.

mod access_log;
mod graphql;
mod health;
mod metrics;

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, get};

use crate::auth::Authenticator;
use crate::graphql::CatalogueSchema;
use crate::store::Store;

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
}

impl AppState {
    pub fn new(
        schema: CatalogueSchema,
        store: Store,
        authenticator: Authenticator,
        max_body_bytes: usize,
    ) -> Self {
        let sdl = schema.sdl().into();
        Self {
            schema,
            store,
            authenticator,
            sdl,
            max_body_bytes,
            requests: Arc::default(),
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
        .data(state)
        .with(CatchPanic::new())
        .with(access_log::AccessLog { counters })
}
