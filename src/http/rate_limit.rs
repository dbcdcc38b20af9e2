//! Rate limiting per caller: a token bucket per agent (`sub`) or, for
//! anonymous callers, per client IP; shared through Redis when configured,
//! counted in process while Redis fails. A request whose token would cost a
//! call to its issuer (an opaque token to introspect) is charged to its
//! client address before that call, and `/auth/*` has buckets of its own
//! per address.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

/// A bucket's refill rate and size; no limit when `per_minute` is 0.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub per_minute: u64,
    pub burst: u64,
}

/// The bucket a request draws from: the agent's, else its client address's.
pub fn bucket(state: &AppState, principal: &Principal, request: &Request) -> String {
    if let Some(agent) = principal.agent() {
        return format!("agent:{}", agent.sub_hash());
    }
    address_bucket(state, request)
}

/// The bucket of the client address: the last one in `X-Forwarded-For`
/// (appended by our reverse proxy) when trusted. IPv6 clients are counted
/// by /64, the block one client usually has.
pub fn address_bucket(state: &AppState, request: &Request) -> String {
    let forwarded = state
        .trust_forwarded_for
        .then(|| {
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|line| line.to_str().ok())
                .flat_map(|line| line.split(','))
                .last()
                .and_then(|address| address.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    let address = forwarded.or_else(|| request.remote_addr().as_socket_addr().map(|a| a.ip()));
    match address {
        Some(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("ip6:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        None => "ip:unknown".to_owned(),
    }
}

/// `Some(wait)` when `bucket` has fewer than `cost` tokens under `limit`;
/// the tokens are taken all at once or not at all.
pub async fn wait(state: &AppState, bucket: &str, cost: usize, limit: Limit) -> Option<Duration> {
    if limit.per_minute == 0 {
        return None;
    }
    let wait = state
        .cache
        .take_tokens(bucket, cost as u64, limit.per_minute, limit.burst)
        .await?;
    state.rate_limited.0.fetch_add(1, Ordering::Relaxed);
    Some(wait)
}

/// Whole seconds to wait, for `Retry-After`.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// `Some(429 answer)` when the bucket has fewer than `cost` tokens under
/// the API's limit.
pub async fn check(state: &AppState, bucket: &str, cost: usize) -> Option<Response> {
    let limit = Limit {
        per_minute: state.rate_limit_per_minute,
        burst: state.rate_limit_burst,
    };
    let retry_after = retry_after(wait(state, bucket, cost, limit).await?);
    let body = serde_json::json!({
        "errors": [{
            "message": format!("too many requests; retry in {retry_after} s"),
            "extensions": { "code": code::RATE_LIMITED }
        }]
    });
    Some(
        Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, retry_after.to_string())
            .header(header::CACHE_CONTROL, "no-store")
            .content_type("application/json")
            .body(body.to_string()),
    )
}
