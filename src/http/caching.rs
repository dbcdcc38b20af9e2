//! HTTP caching of GraphQL answers: public answers to GET carry
//! `Cache-Control: public, max-age` and an `ETag` (and `If-None-Match` gets
//! 304); everything else tells caches not to keep it. Every answer varies by
//! the credentials that decided it, and by the origin when CORS answers
//! depend on it ([`vary_by_caller`], applied outside the CORS middleware).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response};
use sha2::{Digest, Sha256};

use crate::catalogue::Audience;

/// What decides an answer's caching headers.
pub struct Policy {
    /// Who the answer is for.
    pub audience: Audience,
    /// The request is a GET (whose answers browsers and CDNs may keep).
    pub get: bool,
    /// The answer is the same for everyone in the caller's audience.
    pub shareable: bool,
    pub max_age_seconds: u64,
}

pub(super) fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(body)))
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub(super) fn matches(request: &Request, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == etag || candidate == "*")
}

/// What every answer varies by: the media type asked for and the credentials.
const VARY: &str = "Accept, Authorization, Cookie";
/// The same, when CORS answers name the caller's origin (some are listed).
const VARY_WITH_ORIGIN: &str = "Origin, Accept, Authorization, Cookie";

/// Sets `Vary` on every answer, whatever the inner layers set; with
/// `Origin` only when `by_origin`: with `*` alone every origin gets the same
/// answer, which shared caches then keep once rather than once per origin.
pub async fn vary_by_caller(
    response: poem::Result<Response>,
    by_origin: bool,
) -> poem::Result<Response> {
    let mut response = response?;
    let vary = if by_origin { VARY_WITH_ORIGIN } else { VARY };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static(vary));
    Ok(response)
}

/// The HTTP answer carrying the GraphQL answer `body`.
pub fn respond(request: &Request, body: Bytes, policy: &Policy) -> Response {
    respond_tagged(request, body, policy, "application/json", etag_of)
}

/// The HTTP answer carrying `body` of the media type `content_type`, whose
/// ETag (when it has one) `etag` gives.
pub fn respond_tagged(
    request: &Request,
    body: Bytes,
    policy: &Policy,
    content_type: &str,
    etag: impl FnOnce(&[u8]) -> String,
) -> Response {
    // Only answers for anyone may be kept by browsers and CDNs; others are
    // the caller's own.
    let (for_anyone, not_kept) = match policy.audience {
        Audience::Public => (true, "no-store"),
        Audience::Agents => (false, "private, no-store"),
    };
    if for_anyone && policy.get && policy.shareable {
        let etag = etag(&body);
        let cache_control = format!("public, max-age={}", policy.max_age_seconds);
        let builder = Response::builder()
            .header(header::ETAG, etag.as_str())
            .header(header::CACHE_CONTROL, cache_control);
        return if matches(request, &etag) {
            builder.status(StatusCode::NOT_MODIFIED).finish()
        } else {
            builder.content_type(content_type).body(body)
        };
    }
    Response::builder()
        .header(header::CACHE_CONTROL, not_kept)
        .content_type(content_type)
        .body(body)
}
