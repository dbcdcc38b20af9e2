//! Rate limiting per caller: a token bucket per configured client (a router
//! or tool calling on behalf of many users: http/clients.rs), else per agent
//! (`sub`), else per client IP; shared through Redis when configured,
//! counted in process while Redis fails. A request whose token would cost a
//! call to its issuer (an opaque token to introspect) is charged to the
//! bucket known before the token (its client's, else its address's) before
//! that call, and `/auth/*` has buckets of its own per address.
//!
//! Answers to `/graphql` say where the caller's bucket stands with the
//! `RateLimit-Policy` and `RateLimit` fields of the IETF draft
//! draft-ietf-httpapi-ratelimit-headers-10: the policy is the bucket's size
//! `q` refilled over `w` seconds (600 a minute, 100 at once: `q=100;w=10`),
//! `r` the whole tokens left, `t` the seconds until the next one.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response};

use super::AppState;
use super::clients::{Client, Clients};
use crate::auth::Principal;
use crate::config::RateLimitedStatus;
use crate::graphql::code;

/// Requests refused for going over the limit, for `/metrics`.
#[derive(Default)]
pub struct RateLimited(AtomicU64);

impl RateLimited {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How callers are limited: the API's limit, configured clients with
/// limits of their own, and where a caller's address comes from; with the
/// count of requests refused.
pub struct RateLimits {
    /// Every caller's but configured clients'.
    pub api: Limit,
    pub clients: Clients,
    /// Whether the address is the last `X-Forwarded-For` hop.
    pub trust_forwarded_for: bool,
    pub refused: RateLimited,
}

/// A bucket's refill rate and size; no limit when `per_minute` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_minute: u64,
    pub burst: u64,
}

/// The name of the API's policy, every caller's but configured clients'.
const DEFAULT_POLICY: &str = "default";

/// A bucket a request draws from, and how it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Where its tokens are counted (also whose persisted documents are whose).
    pub key: String,
    limit: Limit,
    /// The policy's name in the RateLimit fields: the client's id for a
    /// configured client, else `default`.
    policy: String,
    rate_limited_status: RateLimitedStatus,
}

impl Bucket {
    fn under_api_limit(state: &AppState, key: String) -> Self {
        Self {
            key,
            limit: state.rate_limits.api,
            policy: DEFAULT_POLICY.to_owned(),
            rate_limited_status: RateLimitedStatus::TooManyRequests,
        }
    }

    fn of_client(client: &Client) -> Self {
        Self {
            key: format!("client:{}", client.id),
            limit: client.limit,
            policy: client.id.clone(),
            rate_limited_status: client.rate_limited_status,
        }
    }

    /// The bucket known before any token is checked: that of the client
    /// the request names by key or address, else its address's.
    pub fn before_token(state: &AppState, client: Option<&Client>, request: &Request) -> Self {
        match client {
            Some(client) => Self::of_client(client),
            None => Self::under_api_limit(state, address_bucket(state, request)),
        }
    }

    /// The bucket a request draws from: its client's (by key or address,
    /// else by token), else the agent's, else its address's.
    pub fn of(
        state: &AppState,
        client: Option<&Client>,
        principal: &Principal,
        request: &Request,
    ) -> Self {
        Self::of_caller(state, client, principal, || address_bucket(state, request))
    }

    /// [`Bucket::of`], the address's bucket given by `address` (a WebSocket's
    /// caller is known once the request is gone).
    pub fn of_caller(
        state: &AppState,
        client: Option<&Client>,
        principal: &Principal,
        address: impl FnOnce() -> String,
    ) -> Self {
        if let Some(client) = client {
            return Self::of_client(client);
        }
        match principal.agent() {
            Some(agent) => match state.rate_limits.clients.by_token(agent) {
                Some(client) => Self::of_client(&client),
                None => Self::under_api_limit(state, format!("agent:{}", agent.sub_hash())),
            },
            None => Self::under_api_limit(state, address()),
        }
    }
}

/// The address a request comes from: the last one in `X-Forwarded-For`
/// (appended by our reverse proxy) when trusted, else the peer's.
pub fn client_address(state: &AppState, request: &Request) -> Option<IpAddr> {
    let forwarded = state
        .rate_limits
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
    forwarded
        .or_else(|| request.remote_addr().as_socket_addr().map(|a| a.ip()))
        .map(|address| address.to_canonical())
}

/// The bucket of the client address. IPv6 clients are counted by /64, the
/// block one client usually has.
pub fn address_bucket(state: &AppState, request: &Request) -> String {
    match client_address(state, request) {
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
        .shared
        .take_tokens(bucket, cost as u64, limit.per_minute, limit.burst)
        .await
        .wait?;
    state.rate_limits.refused.0.fetch_add(1, Ordering::Relaxed);
    Some(wait)
}

/// Whole seconds to wait, for `Retry-After`.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Where a caller's bucket stands after a request drew from it.
#[derive(Debug, Clone)]
pub enum Quota {
    /// The bucket has no limit: nothing to say.
    Unlimited,
    Limited {
        policy: String,
        limit: Limit,
        /// Tokens left.
        left: f64,
    },
}

impl Quota {
    /// The `RateLimit-Policy` and `RateLimit` fields.
    fn fields(&self) -> Option<(String, String)> {
        let Quota::Limited {
            policy,
            limit,
            left,
        } = self
        else {
            return None;
        };
        let burst = limit.burst.max(1);
        let per_second = limit.per_minute as f64 / 60.0;
        let window = (burst as f64 / per_second).ceil().max(1.0) as u64;
        let whole = left.floor();
        let mut current = format!("\"{policy}\";r={}", whole as u64);
        if whole < burst as f64 {
            let next = ((whole + 1.0 - left) / per_second).ceil().max(1.0) as u64;
            current.push_str(&format!(";t={next}"));
        }
        Some((format!("\"{policy}\";q={burst};w={window}"), current))
    }

    /// Adds the RateLimit fields to `response`.
    pub fn stamp(&self, response: &mut Response) {
        if let Some((policy, current)) = self.fields() {
            for (name, value) in [("ratelimit-policy", policy), ("ratelimit", current)] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
        }
    }

    /// `response` with the RateLimit fields.
    pub fn stamped(&self, mut response: Response) -> Response {
        self.stamp(&mut response);
        response
    }
}

/// Takes `cost` tokens from `bucket`: where it then stands, or the answer
/// refusing the request (`429`, or `200` for a client configured so, with
/// `Retry-After`, the RateLimit fields and a `RATE_LIMITED` error).
pub async fn draw(state: &AppState, bucket: &Bucket, cost: usize) -> Result<Quota, Response> {
    let limit = bucket.limit;
    if limit.per_minute == 0 {
        return Ok(Quota::Unlimited);
    }
    let draw = state
        .shared
        .take_tokens(&bucket.key, cost as u64, limit.per_minute, limit.burst)
        .await;
    let quota = Quota::Limited {
        policy: bucket.policy.clone(),
        limit,
        left: draw.left,
    };
    let Some(wait) = draw.wait else {
        return Ok(quota);
    };
    state.rate_limits.refused.0.fetch_add(1, Ordering::Relaxed);
    let retry_after = retry_after(wait);
    // Without `data`: the request never ran. `retryAfter` is for callers
    // behind a router, which passes errors on but not headers.
    let body = serde_json::json!({
        "errors": [{
            "message": format!("too many requests; retry in {retry_after} s"),
            "extensions": { "code": code::RATE_LIMITED, "retryAfter": retry_after }
        }]
    });
    let status = match bucket.rate_limited_status {
        RateLimitedStatus::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        RateLimitedStatus::Ok => StatusCode::OK,
    };
    let refusal = Response::builder()
        .status(status)
        .header(header::RETRY_AFTER, retry_after.to_string())
        .header(header::CACHE_CONTROL, "no-store")
        .content_type("application/json")
        .body(body.to_string());
    Err(quota.stamped(refusal))
}
