//! Answers in the standard formats other catalogues read (CSV exports,
//! schema.org and DCAT JSON-LD, Turtle, publiccode.yml drafts), for anyone:
//! public material only, since each is rendered from fixed documents run
//! anonymously whoever asks (no credential is read); rate limited like
//! `/graphql`, from the caller's configured client's bucket, else its
//! address's; kept in the answer cache under the route, its parameters and
//! its media type in the current generation; served with an `ETag`
//! (`If-None-Match` gets 304) and `Cache-Control: public`.

use std::future::Future;

use bytes::Bytes;
use poem::http::header;
use poem::{Request, Response};

use super::AppState;
use super::caching::{self, Policy};
use super::clients::UnknownKey;
use super::rate_limit::{self, Bucket};
use crate::cache::{Lookup, cache_key};
use crate::catalogue::Audience;

/// The bucket of a caller whose credentials are not read: its configured
/// client's (by key or address), else its address's; an unknown client
/// key is refused, as on `/graphql`.
fn bucket(state: &AppState, request: &Request) -> Result<Bucket, UnknownKey> {
    let address = rate_limit::client_address(state, request);
    let client = state.rate_limits.clients.by_request(request, address)?;
    Ok(Bucket::before_token(state, client.as_deref(), request))
}

/// The answer of `render` (given the caller's bucket, for the further
/// pages it runs) as `media`, from the answer cache when it holds it.
pub async fn serve<Render, Rendering>(
    state: &AppState,
    request: &Request,
    media: &'static str,
    render: Render,
) -> Response
where
    Render: FnOnce(Bucket) -> Rendering,
    Rendering: Future<Output = Result<Vec<u8>, Response>>,
{
    let bucket = match bucket(state, request) {
        Ok(bucket) => bucket,
        Err(unknown) => return unknown.refusal(),
    };
    let quota = match rate_limit::draw(state, &bucket, 1).await {
        Ok(quota) => quota,
        Err(refusal) => return refusal,
    };
    let target = request
        .uri()
        .path_and_query()
        .map_or("", |target| target.as_str());
    let key = state
        .cache_answers
        .then(|| cache_key(Audience::Public, Some("format"), media, target));
    let mut slot = None;
    if let Some(key) = &key {
        match state.cache.answer(key).await {
            Some(Lookup::Hit(body)) => {
                state.cache_counters.hit();
                return quota.stamped(respond(state, request, body, media));
            }
            Some(Lookup::Miss { generation }) => slot = Some(generation),
            None => {}
        }
    }
    let body = match render(bucket).await {
        Ok(body) => Bytes::from(body),
        Err(refusal) => return quota.stamped(refusal),
    };
    if let (Some(key), Some(generation)) = (&key, slot) {
        state.cache_counters.miss();
        state.cache.put(key, generation, &body).await;
    }
    quota.stamped(respond(state, request, body, media))
}

fn respond(state: &AppState, request: &Request, body: Bytes, media: &'static str) -> Response {
    let policy = Policy {
        audience: Audience::Public,
        get: true,
        shareable: true,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut response = caching::respond_as(request, body, &policy, media);
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}
