//! One log line per request: method, path, status, latency, operation name,
//! request id. The query string is left out: it may carry variables.
//!
//! The request id is the caller's `X-Request-Id` when it is a plausible id
//! (a proxy or the client set it), else a new random one; every log line of
//! the request carries it and the response returns it, so an operator can
//! follow one request from the load balancer to the gateway's logs.

use std::sync::Arc;
use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;

use super::metrics::RequestCounters;
use crate::auth::Principal;

/// The GraphQL operation a response answered, for the access log.
#[derive(Clone)]
pub struct OperationName(pub String);

/// Who a response answered, for the access log: a pseudonym, never a name or email.
#[derive(Clone)]
pub struct Caller(pub String);

impl Caller {
    pub fn of(principal: &Principal) -> Self {
        Self(principal.agent().map_or_else(
            || "anonymous".to_owned(),
            |agent| format!("agent:{}", agent.sub_hash()),
        ))
    }
}

pub const REQUEST_ID: &str = "x-request-id";

/// Short, printable, no spaces: anything else is replaced rather than logged.
fn plausible_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// 128 random bits, hex.
fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub struct AccessLog {
    pub counters: Arc<RequestCounters>,
}

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AccessLogEndpoint {
            inner,
            counters: Arc::clone(&self.counters),
        }
    }
}

pub struct AccessLogEndpoint<E> {
    inner: E,
    counters: Arc<RequestCounters>,
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> Result<Response> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .filter(|id| plausible_request_id(id))
            .map_or_else(new_request_id, str::to_owned);
        let span = tracing::info_span!("request", %method, %path, %request_id);
        async move {
            let started = Instant::now();
            let response = match self.inner.call(request).await {
                Ok(output) => output.into_response(),
                Err(error) => error.into_response(),
            };
            let status = response.status().as_u16();
            let latency = started.elapsed();
            let operation = response
                .extensions()
                .get::<OperationName>()
                .map(|o| o.0.as_str());
            self.counters.record(operation, status, latency);
            let operation = operation.unwrap_or("-");
            let caller = response
                .extensions()
                .get::<Caller>()
                .map(|c| c.0.as_str())
                .unwrap_or("-");
            tracing::info!(
                status,
                latency_ms = latency.as_secs_f64() * 1000.0,
                operation,
                caller,
                "answered"
            );
            let mut response = response;
            if let Ok(value) = poem::http::HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(response)
        }
        .instrument(span)
        .await
    }
}
