//! One log line per request: method, path, status, latency, operation name.
//! The query string is left out: it may carry variables.

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
        let span = tracing::info_span!("request", %method, %path);
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
            Ok(response)
        }
        .instrument(span)
        .await
    }
}
