//! The example portal at `/`: plain HTML, CSS and JavaScript over the public
//! GraphQL API, compiled into the binary (no build step, nothing to deploy
//! beside it).

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response, handler};

const INDEX: &str = include_str!("portal/index.html");
const STYLE: &str = include_str!("portal/portal.css");
const SCRIPT: &str = include_str!("portal/portal.js");

/// Only our own files and our own API; the search snippets the page inserts
/// as HTML are escaped by the server and cannot run anything under this policy.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn asset(content_type: &str, body: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        // Revalidated each time: a new release's page never runs an old script.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(body)
}

#[handler]
pub fn index() -> impl IntoResponse {
    let mut response = asset("text/html; charset=utf-8", INDEX);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    response
}

#[handler]
pub fn style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLE)
}

#[handler]
pub fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
