//! Answers in the standard formats other catalogues read (CSV exports,
//! schema.org and DCAT JSON-LD, Turtle, publiccode.yml drafts), for anyone:
//! public material only, since each is rendered from fixed documents run
//! anonymously whoever asks (no credential is read); rate limited like
//! `/graphql`, from the caller's configured client's bucket, else its
//! address's; kept in the answer cache under the route, its parameters and
//! its media type in the current generation with its `ETag` ([`kept`]); served with an `ETag`
//! (`If-None-Match` gets 304) and `Cache-Control: public`.

use std::future::Future;

use bytes::Bytes;
use poem::http::header;
use poem::{Request, Response};

use super::AppState;
use super::caching::{self, Policy};
use super::clients::UnknownKey;
use super::kept::{self, Kept, Slot};
use super::rate_limit::{self, Bucket};
use crate::cache::cache_key;
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
    // "format" is no GraphQL operation name: these keys cannot meet GraphQL ones.
    let slot = kept::look_up(state, || {
        cache_key(Audience::Public, Some("format"), media, target)
    })
    .await;
    let Kept { etag, body } = match slot {
        Slot::Hit(kept) => kept,
        Slot::Miss { key, generation } => match render(bucket).await {
            Ok(body) => kept::keep(state, &key, generation, body.into()).await,
            Err(refusal) => return quota.stamped(refusal),
        },
        Slot::None => match render(bucket).await {
            Ok(body) => {
                let body = Bytes::from(body);
                Kept {
                    etag: caching::etag_of(&body),
                    body,
                }
            }
            Err(refusal) => return quota.stamped(refusal),
        },
    };
    quota.stamped(respond(state, request, body, &etag, media))
}

fn respond(
    state: &AppState,
    request: &Request,
    body: Bytes,
    etag: &str,
    media: &'static str,
) -> Response {
    let policy = Policy {
        audience: Audience::Public,
        get: true,
        shareable: true,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut response = caching::respond_tagged(request, body, &policy, media, |_| etag.to_owned());
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}
