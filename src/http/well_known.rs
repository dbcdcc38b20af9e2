//! The gateway as an issuer others can trust: its public keys and a
//! discovery document pointing at them.

use poem::http::header;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};

use super::AppState;

/// Long enough to spare the gateway, short enough for rotations (retired keys
/// stay published for a token lifetime after rotation anyway).
const KEYS_MAX_AGE: &str = "public, max-age=300";

/// `GET /.well-known/jwks.json`.
#[handler]
pub async fn jwks(state: Data<&AppState>) -> Response {
    Json(state.authenticator.own_issuer().jwks())
        .with_header(header::CACHE_CONTROL, KEYS_MAX_AGE)
        .into_response()
}

/// `GET /.well-known/openid-configuration`.
#[handler]
pub async fn discovery(state: Data<&AppState>) -> Response {
    Json(state.authenticator.own_issuer().discovery())
        .with_header(header::CACHE_CONTROL, KEYS_MAX_AGE)
        .into_response()
}
