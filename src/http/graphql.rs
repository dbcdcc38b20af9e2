//! `/graphql`: queries by POST (JSON) or GET (query string), GraphiQL for
//! browsers, and the SDL at `/schema.graphql`.

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::web::websocket::WebSocket;
use poem::{Body, Request, Response, handler};

use super::AppState;
use super::access_log::{Caller, OperationName};
use super::answer::{self, Freshness, error_body};
use super::assets::{Asset, Kind};
use super::media::AnswerMedia;
use super::signin::TOKEN_COOKIE;
use super::{caching, cookies, graphiql, rate_limit, subscriptions};
use crate::auth::{Principal, Rejection};
use crate::graphql::code;

const JSON: &str = "application/json";

/// A request that never reached GraphQL: a GraphQL-shaped error with a code.
fn refused(status: StatusCode, message: &str) -> Response {
    refused_with(status, code::BAD_REQUEST, message)
}

fn refused_with(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "no-store")
        .content_type(JSON)
        .body(error_body(code, message))
}

/// A present but invalid token: 401 with the reason, never a downgrade to anonymous.
fn unauthenticated(rejection: &Rejection) -> Response {
    tracing::info!(reason = rejection.reason(), "refused a bearer token");
    let body = serde_json::json!({
        "errors": [{
            "message": rejection.to_string(),
            "extensions": { "code": code::UNAUTHENTICATED, "reason": rejection.reason() }
        }]
    });
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::CACHE_CONTROL, "no-store")
        .header(
            header::WWW_AUTHENTICATE,
            format!("Bearer error=\"invalid_token\", error_description=\"{rejection}\""),
        )
        .content_type(JSON)
        .body(body.to_string())
}

/// The caller: the `Authorization` header, else the token cookie of
/// same-site portals, else anonymous. A header that is present is never
/// ignored, even when it is not readable text.
async fn authenticate(state: &AppState, request: &Request) -> Result<Principal, Rejection> {
    if let Some(authorization) = request.headers().get(header::AUTHORIZATION) {
        let authorization = authorization
            .to_str()
            .map_err(|_| Rejection::UnreadableHeader)?;
        return state.authenticator.authenticate(Some(authorization)).await;
    }
    match cookies::read(request, TOKEN_COOKIE).filter(|token| !token.is_empty()) {
        Some(token) => state.authenticator.authenticate_token(&token).await,
        None => Ok(Principal::Anonymous),
    }
}

/// A request carrying the sign-in cookie from an origin browsers would not
/// let send it (cross-site request forgery): refused, never a silent
/// downgrade. The other half of the protection is that /graphql takes only
/// JSON, which no form on another site can send without a preflight.
fn cookie_from_another_origin(state: &AppState, request: &Request) -> Option<Response> {
    let uses_cookie = request.headers().get(header::AUTHORIZATION).is_none()
        && cookies::read(request, TOKEN_COOKIE).is_some_and(|token| !token.is_empty());
    let origin = request.headers().get(header::ORIGIN);
    if !uses_cookie || state.cors.allows_credentials_from(origin) {
        return None;
    }
    tracing::info!("refused a sign-in cookie sent from another origin");
    Some(refused_with(
        StatusCode::FORBIDDEN,
        code::FORBIDDEN,
        "the sign-in cookie is accepted only from the gateway's own origin and those listed in CATALOGUE_CORS_ORIGINS; send a token in Authorization instead",
    ))
}

/// How the request came: only answers to GET may be kept by browsers and CDNs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// The token `authenticate` will check, if any.
fn presented_token(request: &Request) -> Option<String> {
    match request.header(header::AUTHORIZATION) {
        Some(authorization) => crate::auth::bearer_token(authorization).map(str::to_owned),
        None => cookies::read(request, TOKEN_COOKIE).filter(|token| !token.is_empty()),
    }
}

/// A caller let in: who they are, the bucket they drew from and where it stands.
pub(super) struct Admitted {
    pub principal: Principal,
    pub bucket: rate_limit::Bucket,
    pub quota: rate_limit::Quota,
}

/// The caller, or the answer refusing them (bad token or client key, over
/// the rate limit). A token whose check calls ProConnect (an opaque token
/// not introspected lately) is paid for before the call by the bucket known
/// without it (the configured client's, else the address's), so a client
/// over its limit makes none; a refused token or key costs a token too.
/// Configured clients and agents then draw from buckets of their own.
pub(super) async fn admit(
    state: &AppState,
    http_request: &Request,
    operations: usize,
) -> Result<Admitted, Response> {
    if let Some(refusal) = cookie_from_another_origin(state, http_request) {
        return Err(refusal);
    }
    let address = rate_limit::client_address(state, http_request);
    let recognised = state.rate_limits.clients.by_request(http_request, address);
    let client = recognised.as_ref().ok().cloned().flatten();
    let before_token = rate_limit::Bucket::before_token(state, client.as_deref(), http_request);
    let mut paid = None;
    if recognised.is_ok()
        && let Some(token) = presented_token(http_request)
        && state.authenticator.calls_issuer(&token).await
    {
        paid = Some(rate_limit::draw(state, &before_token, operations).await?);
    }
    let (principal, refusal) = match recognised {
        Err(unknown) => (Principal::Anonymous, Some(unknown.refusal())),
        Ok(_) => match authenticate(state, http_request).await {
            Ok(principal) => (principal, None),
            Err(rejection) => (Principal::Anonymous, Some(unauthenticated(&rejection))),
        },
    };
    let bucket = rate_limit::Bucket::of(state, client.as_deref(), &principal, http_request);
    let quota = match paid {
        Some(quota) if bucket == before_token => quota,
        _ => rate_limit::draw(state, &bucket, operations).await?,
    };
    match refusal {
        Some(refusal) => Err(quota.stamped(refusal)),
        None => Ok(Admitted {
            principal,
            bucket,
            quota,
        }),
    }
}

async fn execute(
    state: &AppState,
    http_request: &Request,
    request: async_graphql::Request,
    method: Method,
) -> Response {
    let Admitted {
        principal,
        bucket,
        quota,
    } = match admit(state, http_request, 1).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let (request, to_register) = match answer::with_document(state, request).await {
        Ok(resolved) => resolved,
        Err(refusal) => {
            return quota.stamped(refused_with(refusal.status, refusal.code, &refusal.message));
        }
    };
    let caller = Caller::of(&principal);
    let audience = principal.audience();
    let operation = request.operation_name.clone();
    let Ok(mut answered) = answer::answer(state, principal, request, method == Method::Get).await
    else {
        return quota.stamped(refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations are sent with POST: a GET must not change anything",
        ));
    };
    answer::register_if_ran(state, &bucket.key, to_register, &mut answered).await;
    let policy = caching::Policy {
        audience,
        get: method == Method::Get,
        shareable: answered.freshness != Freshness::Uncacheable,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut http = caching::respond(http_request, answered.body, &policy);
    let media = AnswerMedia::negotiate(http_request.header(header::ACCEPT));
    if media == AnswerMedia::GraphqlResponse && http.status() != StatusCode::NOT_MODIFIED {
        http.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(media.content_type()),
        );
        if answered.refused {
            http.set_status(StatusCode::BAD_REQUEST);
        }
    }
    if let Some(value) = x_cache(answered.freshness) {
        http.headers_mut().insert("x-cache", value);
    }
    if let Some(name) = operation {
        http.extensions_mut().insert(OperationName(name));
    }
    http.extensions_mut().insert(caller);
    quota.stamped(http)
}

/// The `x-cache` header of an answer: whether the cache held it.
pub(super) fn x_cache(freshness: Freshness) -> Option<header::HeaderValue> {
    match freshness {
        Freshness::Hit => Some(header::HeaderValue::from_static("HIT")),
        Freshness::Miss => Some(header::HeaderValue::from_static("MISS")),
        Freshness::Uncacheable => None,
    }
}

/// A batched POST: each operation answered in turn, for one caller.
async fn execute_batch(
    state: &AppState,
    http_request: &Request,
    requests: Vec<async_graphql::Request>,
) -> Response {
    if requests.is_empty() || requests.len() > state.max_batch {
        return refused_with(
            StatusCode::BAD_REQUEST,
            code::OPERATION_LIMIT_EXCEEDED,
            &format!(
                "a batch holds 1 to {} operations; this one holds {}",
                state.max_batch,
                requests.len()
            ),
        );
    }
    let Admitted {
        principal,
        bucket,
        quota,
    } = match admit(state, http_request, requests.len()).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let caller = Caller::of(&principal);
    let mut body = b"[".to_vec();
    for (index, request) in requests.into_iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        match answer::with_document(state, request).await {
            Ok((request, to_register)) => {
                let Ok(mut answered) =
                    answer::answer(state, principal.clone(), request, false).await
                else {
                    unreachable!("a batch is POSTed: its mutations are never refused");
                };
                answer::register_if_ran(state, &bucket.key, to_register, &mut answered).await;
                body.extend_from_slice(&answered.body);
            }
            Err(refusal) => body.extend(error_body(refusal.code, &refusal.message)),
        }
    }
    body.push(b']');
    let policy = caching::Policy {
        audience: principal.audience(),
        get: false,
        shareable: false,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut http = caching::respond(http_request, body.into(), &policy);
    http.extensions_mut().insert(caller);
    quota.stamped(http)
}

/// `POST /graphql` with a JSON body `{query, operationName, variables}`.
#[handler]
pub async fn post(request: &Request, body: Body, state: Data<&AppState>) -> Response {
    let content_type = request
        .content_type()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with(JSON) {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the query as JSON with Content-Type: application/json",
        );
    }
    let bytes = match body.into_bytes_limit(state.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the request body exceeds {} bytes", state.max_body_bytes),
            );
        }
        Err(poem::error::ReadBodyError::Io(error))
            if error.kind() == std::io::ErrorKind::TimedOut =>
        {
            return refused(StatusCode::REQUEST_TIMEOUT, super::server::BODY_TIMED_OUT);
        }
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
    };
    match serde_json::from_slice::<async_graphql::BatchRequest>(&bytes) {
        Ok(async_graphql::BatchRequest::Single(graphql_request)) if wants_event_stream(request) => {
            subscribe_by_events(&state, request, graphql_request).await
        }
        Ok(async_graphql::BatchRequest::Single(graphql_request)) => {
            execute(&state, request, graphql_request, Method::Post).await
        }
        Ok(async_graphql::BatchRequest::Batch(requests)) => {
            execute_batch(&state, request, requests).await
        }
        Err(error) => refused(
            StatusCode::BAD_REQUEST,
            &format!("the body is not a GraphQL request ({{\"query\": \"…\"}}): {error}"),
        ),
    }
}

/// Whether the caller asks for Server-Sent Events: a subscription.
fn wants_event_stream(request: &Request) -> bool {
    request
        .header(header::ACCEPT)
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

/// A subscription over Server-Sent Events, for a caller admitted as any
/// request is (token, client key, rate limit: one operation).
async fn subscribe_by_events(
    state: &AppState,
    http_request: &Request,
    request: async_graphql::Request,
) -> Response {
    let Admitted {
        principal,
        bucket,
        quota,
    } = match admit(state, http_request, 1).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let mut http = subscriptions::event_stream(state, principal, bucket.key, request).await;
    http.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    quota.stamped(http)
}

/// `GET /graphql?query=…`, GraphiQL for a browser asking for HTML, or a
/// WebSocket for subscriptions.
#[handler]
pub async fn get(
    request: &Request,
    websocket: Option<WebSocket>,
    state: Data<&AppState>,
) -> Response {
    if let Some(websocket) = websocket {
        return subscriptions::websocket(&state, request, websocket).await;
    }
    let query_string = request.uri().query().unwrap_or_default();
    let wants_html = request
        .header(header::ACCEPT)
        .is_some_and(|accept| accept.contains("text/html"));
    // Only the bare URL is GraphiQL, so an answer's URL has one representation.
    if wants_html && query_string.is_empty() {
        return graphiql::page();
    }
    if query_string.len() > state.max_body_bytes {
        return refused(
            StatusCode::URI_TOO_LONG,
            &format!(
                "the query string exceeds {} bytes; use POST",
                state.max_body_bytes
            ),
        );
    }
    match async_graphql::http::parse_query_string(query_string) {
        Ok(graphql_request) => execute(&state, request, graphql_request, Method::Get).await,
        Err(error) => refused(
            StatusCode::BAD_REQUEST,
            &format!("not a GraphQL GET request (?query=…): {error}"),
        ),
    }
}

/// `GET /schema.graphql`: the SDL clients generate code from. Revalidated
/// at each use: code generated just after a release must see its schema,
/// and an unchanged schema costs a 304. (Hashing its few dozen kilobytes
/// takes microseconds.)
#[handler]
pub async fn schema(request: &Request, state: Data<&AppState>) -> Response {
    Asset::new(
        "schema.graphql",
        Kind::PlainText,
        state.sdl.as_bytes().to_vec(),
    )
    .revalidated(request)
}
