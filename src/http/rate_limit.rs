//! Rate limiting per caller: a token bucket per agent (`sub`) or, for
//! anonymous callers, per client IP; shared through Redis when configured.

use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::{StatusCode, header};
use poem::{Request, Response};

use super::AppState;
use crate::auth::Principal;
use crate::graphql::code;

/// Requests refused for going over the limit, for `/metrics`.
#[derive(Default)]
pub struct RateLimited(AtomicU64);

impl RateLimited {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The bucket a request draws from: the agent's, else the client address's
/// (the one our reverse proxy appended to `X-Forwarded-For`, when trusted).
pub fn bucket(state: &AppState, principal: &Principal, request: &Request) -> String {
    if let Some(agent) = principal.agent() {
        return format!("agent:{}", agent.sub_hash());
    }
    let forwarded = state
        .trust_forwarded_for
        .then(|| request.header("x-forwarded-for"))
        .flatten()
        .and_then(|list| list.rsplit(',').next())
        .map(str::trim)
        .filter(|address| address.parse::<std::net::IpAddr>().is_ok());
    let address = match forwarded {
        Some(address) => address.to_owned(),
        None => request
            .remote_addr()
            .as_socket_addr()
            .map_or_else(|| "unknown".to_owned(), |address| address.ip().to_string()),
    };
    format!("ip:{address}")
}

/// `Some(429 answer)` when the bucket has fewer than `cost` tokens.
pub async fn check(state: &AppState, bucket: &str, cost: usize) -> Option<Response> {
    if state.rate_limit_per_minute == 0 {
        return None;
    }
    for _ in 0..cost {
        if let Some(wait) = state
            .cache
            .take_token(bucket, state.rate_limit_per_minute, state.rate_limit_burst)
            .await
        {
            state.rate_limited.0.fetch_add(1, Ordering::Relaxed);
            let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
            let body = serde_json::json!({
                "errors": [{
                    "message": format!("too many requests; retry in {retry_after} s"),
                    "extensions": { "code": code::RATE_LIMITED }
                }]
            });
            return Some(
                Response::builder()
                    .status(StatusCode::TOO_MANY_REQUESTS)
                    .header(header::RETRY_AFTER, retry_after.to_string())
                    .content_type("application/json")
                    .body(body.to_string()),
            );
        }
    }
    None
}
