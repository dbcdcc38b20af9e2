//! `/graphql`: queries by POST (JSON) or GET (query string), GraphiQL for
//! browsers, and the SDL at `/schema.graphql`.

use async_graphql::http::GraphiQLSource;
use poem::http::{StatusCode, header};
use poem::web::{Data, Html};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::AppState;
use super::access_log::{Caller, OperationName};
use super::caching;
use super::cookies;
use super::signin::TOKEN_COOKIE;
use crate::auth::{Principal, Rejection};
use crate::cache::{Scope, cache_key, normalise};
use crate::graphql::{self, code};

const JSON: &str = "application/json";

/// A request that never reached GraphQL: a GraphQL-shaped error with a code.
fn refused(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code::BAD_REQUEST } }]
    });
    Response::builder()
        .status(status)
        .content_type(JSON)
        .body(body.to_string())
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
        .header(
            header::WWW_AUTHENTICATE,
            format!("Bearer error=\"invalid_token\", error_description=\"{rejection}\""),
        )
        .content_type(JSON)
        .body(body.to_string())
}

/// The caller: the `Authorization` header, else the token cookie of
/// same-site portals, else anonymous.
async fn authenticate(state: &AppState, request: &Request) -> Result<Principal, Rejection> {
    if let Some(authorization) = request.header(header::AUTHORIZATION) {
        return state.authenticator.authenticate(Some(authorization)).await;
    }
    match cookies::read(request, TOKEN_COOKIE).filter(|token| !token.is_empty()) {
        Some(token) => state.authenticator.authenticate_token(&token).await,
        None => Ok(Principal::Anonymous),
    }
}

/// How the request came: only answers to GET may be kept by browsers and CDNs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    http_request: &Request,
    request: async_graphql::Request,
    method: Method,
) -> Response {
    if request.query.trim().is_empty() {
        return refused(StatusCode::BAD_REQUEST, "the request has no `query`");
    }
    let principal = match authenticate(state, http_request).await {
        Ok(principal) => principal,
        Err(rejection) => return unauthenticated(&rejection),
    };
    let caller = Caller::of(&principal);
    let operation = request.operation_name.clone();
    let mutation = selects_mutation(&request);
    let scope = match principal {
        Principal::Anonymous => Scope::Public,
        Principal::Agent(_) => Scope::Agents,
    };
    let key = if mutation {
        None
    } else {
        answer_key(state, &request, scope).await
    };
    let cached = match &key {
        Some(key) => state.cache.get(key).await,
        None => None,
    };
    let (body, freshness) = match cached {
        Some(body) => (body, Freshness::Hit),
        None => {
            let response =
                graphql::execute(&state.schema, request, state.store.clone(), principal).await;
            if mutation {
                // Whatever it changed, answers cached before are out of date.
                state.cache.bump_generation().await;
            }
            let shareable = response.is_ok() && response.cache_control.public;
            let body = serde_json::to_vec(&response).unwrap_or_else(|error| {
                tracing::error!(%error, "cannot serialise an answer");
                br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#
                    .to_vec()
            });
            match (&key, shareable) {
                (Some(key), true) => {
                    state.cache.put(key, &body).await;
                    (body, Freshness::Miss)
                }
                _ => (body, Freshness::Uncacheable),
            }
        }
    };
    let policy = caching::Policy {
        public_get: method == Method::Get && scope == Scope::Public,
        shareable: freshness != Freshness::Uncacheable,
        authenticated: scope == Scope::Agents,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut http = caching::respond(http_request, body, &policy);
    if freshness != Freshness::Uncacheable {
        http.headers_mut().insert(
            "x-cache",
            header::HeaderValue::from_static(if freshness == Freshness::Hit {
                "HIT"
            } else {
                "MISS"
            }),
        );
    }
    if let Some(name) = operation {
        http.extensions_mut().insert(OperationName(name));
    }
    http.extensions_mut().insert(caller);
    http
}

/// Where an answer came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Hit,
    Miss,
    /// Not kept: a mutation, an error, or an answer for one caller only.
    Uncacheable,
}

/// The cache key of a read-only request, or `None` when the cache cannot
/// say which generation is current.
async fn answer_key(
    state: &AppState,
    request: &async_graphql::Request,
    scope: Scope,
) -> Option<String> {
    let generation = state.cache.generation().await?;
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    Some(cache_key(
        generation,
        scope,
        request.operation_name.as_deref(),
        &variables,
        &normalise(&request.query),
    ))
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
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
    };
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(graphql_request) => execute(&state, request, graphql_request, Method::Post).await,
        Err(error) => refused(
            StatusCode::BAD_REQUEST,
            &format!("the body is not a GraphQL request ({{\"query\": \"…\"}}): {error}"),
        ),
    }
}

/// `GET /graphql?query=…`, or GraphiQL for a browser asking for HTML.
#[handler]
pub async fn get(request: &Request, state: Data<&AppState>) -> Response {
    let query_string = request.uri().query().unwrap_or_default();
    let wants_html = request
        .header(header::ACCEPT)
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !query_string.contains("query=") {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Catalogue des projets du programme 10 %")
                .finish(),
        )
        .into_response();
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
        Ok(graphql_request) if selects_mutation(&graphql_request) => refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations are sent with POST: a GET must not change anything",
        ),
        Ok(graphql_request) => execute(&state, request, graphql_request, Method::Get).await,
        Err(error) => refused(
            StatusCode::BAD_REQUEST,
            &format!("not a GraphQL GET request (?query=…): {error}"),
        ),
    }
}

/// Whether the operation `request` would run is a mutation. A document that
/// does not parse is left to the executor, which reports it with its code.
fn selects_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let is_mutation = |ty: OperationType| ty == OperationType::Mutation;
    match &document.operations {
        DocumentOperations::Single(operation) => is_mutation(operation.node.ty),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations
                .get(name.as_str())
                .is_some_and(|operation| is_mutation(operation.node.ty)),
            None => operations
                .values()
                .any(|operation| is_mutation(operation.node.ty)),
        },
    }
}

/// `GET /schema.graphql`: the SDL clients generate code from.
#[handler]
pub async fn schema(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(state.sdl.to_string())
}
