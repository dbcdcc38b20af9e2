//! HTTP to upstream services, politely: at most N requests at once per host,
//! conditional requests, timeouts, retries with backoff on 5xx and network
//! errors only, and rate-limit headers obeyed by waiting (when the wait is
//! short) or by deferring to the next run.
//!
//! And safely: every URL, the first and each redirect's, is checked against
//! the [`Egress`] rules before a connection is made (redirects are followed
//! here, never by the HTTP library); a token goes only to the origin it was
//! configured for; an answer is read up to a cap and no further. What went
//! wrong is logged in full; the [`Failure`] a maintainer sees says only "not
//! allowed" or "could not be fetched", so it maps nothing of the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;
use url::Url;

use super::egress::{Egress, PublicOnly, Reach, Refusal};
use crate::config::Secret;

/// Redirects followed for one request; real services redirect once (a
/// renamed repository or package).
const MAX_REDIRECTS: usize = 5;

/// What a GET brought back.
pub enum Fetched {
    Fresh {
        body: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// 304: what we have is current.
    NotModified,
    NotFound,
    Failed(Failure),
}

/// Why nothing usable came back, as maintainers are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A redirect led to a URL the harvest may not fetch.
    RedirectNotAllowed,
    /// The answer is larger than the cap (bytes).
    TooLarge(u64),
    /// Rate limited for this many seconds more than the harvest waits.
    Deferred(u64),
    StillRateLimited,
    /// Anything else: unreachable, refused address, timeout, HTTP error,
    /// unreadable answer — one message, whatever the cause.
    Unavailable,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RedirectNotAllowed => f.write_str(
                "not allowed: the upstream service redirected to a URL the harvest may not fetch",
            ),
            Self::TooLarge(cap) => write!(
                f,
                "the answer is larger than the harvest's limit of {cap} bytes (CATALOGUE_HARVEST_MAX_BODY_BYTES)"
            ),
            Self::Deferred(seconds) => write!(
                f,
                "rate limited by the host for {seconds} s more; deferred to the next run"
            ),
            Self::StillRateLimited => f.write_str("still rate limited after waiting"),
            Self::Unavailable => {
                f.write_str("could not be fetched (the gateway's log has the details)")
            }
        }
    }
}

/// Validators from the last good answer.
#[derive(Default, Clone, Copy)]
pub struct Conditional<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

/// How a token is sent.
#[derive(Clone, Copy)]
pub enum TokenHeader {
    /// `Authorization: Bearer …` (GitHub).
    Bearer,
    /// `PRIVATE-TOKEN: …` (GitLab).
    PrivateToken,
}

/// A token and the one origin it is sent to: that of the service it was
/// configured for, never that of a redirect elsewhere.
pub struct Token {
    origin: url::Origin,
    header: TokenHeader,
    secret: Secret,
}

impl Token {
    pub fn new(service: &Url, header: TokenHeader, secret: Secret) -> Self {
        Self {
            origin: service.origin(),
            header,
            secret,
        }
    }
}

/// The limits of upstream requests.
pub struct Limits {
    pub timeout: Duration,
    pub concurrency_per_host: usize,
    /// Longest wait a rate limit may impose before the link is deferred.
    pub max_wait: Duration,
    pub max_body_bytes: u64,
}

/// Hosts whose permits are kept however many there are; beyond, those no
/// request holds are dropped (link checks meet any host a redirect names).
const HOSTS_KEPT: usize = 1024;

/// At most N requests at once to one host (name and port), shared by the
/// harvest's requests and the link checks.
pub struct HostPermits {
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
    limit: usize,
}

impl HostPermits {
    fn new(limit: usize) -> Self {
        Self {
            per_host: Mutex::new(HashMap::new()),
            limit: limit.max(1),
        }
    }

    /// The permits of `url`'s host.
    pub fn of(&self, url: &Url) -> Arc<Semaphore> {
        let host = url
            .host_str()
            .map(|h| format!("{h}:{}", url.port_or_known_default().unwrap_or(0)))
            .unwrap_or_default();
        let mut hosts = self.per_host.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() >= HOSTS_KEPT && !hosts.contains_key(&host) {
            hosts.retain(|_, permits| Arc::strong_count(permits) > 1);
        }
        Arc::clone(
            hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.limit))),
        )
    }
}

pub struct Upstream {
    /// For the configured origins, as configured.
    trusted: reqwest::Client,
    /// For other origins a redirect leads to: HTTPS and public addresses
    /// only, checked when connecting.
    guarded: reqwest::Client,
    egress: Egress,
    permits: Arc<HostPermits>,
    max_wait: Duration,
    max_body_bytes: u64,
    retries: u32,
    backoff: Duration,
}

/// What one attempt came to.
enum Attempt {
    Done(Fetched),
    Retry(Retry),
}

enum Retry {
    Backoff,
    After(Duration),
}

impl Upstream {
    pub fn new(egress: Egress, limits: Limits) -> Result<Self, reqwest::Error> {
        let client = || client_builder(limits.timeout);
        Ok(Self {
            trusted: client().build()?,
            guarded: client()
                .https_only(true)
                .dns_resolver(Arc::new(PublicOnly))
                .build()?,
            egress,
            permits: Arc::new(HostPermits::new(limits.concurrency_per_host)),
            max_wait: limits.max_wait,
            max_body_bytes: limits.max_body_bytes,
            retries: 2,
            backoff: Duration::from_millis(200),
        })
    }

    /// The per-host limits its requests keep, for others to keep them too.
    pub fn permits(&self) -> Arc<HostPermits> {
        Arc::clone(&self.permits)
    }

    /// GETs `url` (JSON), with `token` sent where it belongs.
    pub async fn get(
        &self,
        url: &str,
        conditional: Conditional<'_>,
        token: Option<&Token>,
    ) -> Fetched {
        let Ok(start) = Url::parse(url) else {
            tracing::error!(%url, "not a URL; not fetched");
            return Fetched::Failed(Failure::Unavailable);
        };
        let permits = self.permits.of(&start);
        let mut attempt = 0;
        loop {
            let outcome = {
                let _permit = permits.acquire().await;
                self.attempt(&start, conditional, token).await
            };
            let retry = match outcome {
                Attempt::Done(fetched) => return fetched,
                Attempt::Retry(retry) => retry,
            };
            if attempt >= self.retries {
                return Fetched::Failed(match retry {
                    Retry::Backoff => Failure::Unavailable,
                    Retry::After(_) => Failure::StillRateLimited,
                });
            }
            let wait = match retry {
                Retry::Backoff => self.backoff * 2u32.pow(attempt),
                Retry::After(wait) => wait,
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One request, following redirects that stay within the rules.
    async fn attempt(
        &self,
        start: &Url,
        conditional: Conditional<'_>,
        token: Option<&Token>,
    ) -> Attempt {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            let client = match self.egress.reach(&url) {
                Ok(Reach::Trusted) => &self.trusted,
                Ok(Reach::Guarded) => &self.guarded,
                Err(Refusal::NotAllowed) => {
                    tracing::warn!(%url, from = %start, "not an allowed URL; not fetched");
                    return Attempt::Done(Fetched::Failed(Failure::RedirectNotAllowed));
                }
                // Told apart from a connection failure in the log only.
                Err(Refusal::Address) => {
                    tracing::warn!(%url, from = %start, "a special address; not fetched");
                    return Attempt::Retry(Retry::Backoff);
                }
            };
            let mut request = client
                .get(url.clone())
                .header(header::ACCEPT, "application/json");
            if let Some(etag) = conditional.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = conditional.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date);
            }
            if let Some(token) = token.filter(|token| token.origin == url.origin()) {
                request = match token.header {
                    TokenHeader::Bearer => request.bearer_auth(token.secret.expose()),
                    TokenHeader::PrivateToken => {
                        request.header("PRIVATE-TOKEN", token.secret.expose())
                    }
                };
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    tracing::warn!(%url, error = %causes(&error), "upstream request failed");
                    return Attempt::Retry(Retry::Backoff);
                }
            };
            if !is_redirect(response.status()) {
                return self.answer(&url, response).await;
            }
            let next = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|location| url.join(location).ok());
            match next {
                Some(next) => url = next,
                None => {
                    tracing::warn!(%url, status = %response.status(), "a redirect without a usable Location");
                    return Attempt::Done(Fetched::Failed(Failure::Unavailable));
                }
            }
        }
        tracing::warn!(%url, from = %start, "more than {MAX_REDIRECTS} redirects");
        Attempt::Done(Fetched::Failed(Failure::Unavailable))
    }

    /// What a final (not redirecting) answer means.
    async fn answer(&self, url: &Url, response: reqwest::Response) -> Attempt {
        let status = response.status();
        match status {
            StatusCode::NOT_MODIFIED => Attempt::Done(Fetched::NotModified),
            StatusCode::NOT_FOUND | StatusCode::GONE => Attempt::Done(Fetched::NotFound),
            status if status.is_success() => {
                let etag = header_text(response.headers(), header::ETAG);
                let last_modified = header_text(response.headers(), header::LAST_MODIFIED);
                Attempt::Done(match self.read_capped(url, response).await {
                    Ok(body) => Fetched::Fresh {
                        body,
                        etag,
                        last_modified,
                    },
                    Err(failure) => Fetched::Failed(failure),
                })
            }
            status if status.is_server_error() => {
                tracing::warn!(%url, %status, "upstream service error");
                Attempt::Retry(Retry::Backoff)
            }
            status => match rate_limit_wait(status, response.headers()) {
                Some(wait) if wait <= self.max_wait => Attempt::Retry(Retry::After(wait)),
                Some(wait) => Attempt::Done(Fetched::Failed(Failure::Deferred(wait.as_secs()))),
                None => {
                    tracing::warn!(%url, %status, "unexpected upstream answer");
                    Attempt::Done(Fetched::Failed(Failure::Unavailable))
                }
            },
        }
    }

    /// The body, read up to the cap: a declared length over it is refused
    /// before reading, a stream over it is dropped (and its connection with
    /// it) once the cap is passed.
    async fn read_capped(
        &self,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<String, Failure> {
        let cap = self.max_body_bytes;
        let too_large = || {
            tracing::warn!(%url, cap, "upstream answer over the size cap; not read further");
            Failure::TooLarge(cap)
        };
        let declared = response.content_length();
        if declared.is_some_and(|length| length > cap) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > cap {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%url, error = %causes(&error), "cannot read the upstream answer");
                    return Err(Failure::Unavailable);
                }
            }
        }
        Ok(String::from_utf8(body)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()))
    }
}

/// How the harvest's clients are built: no redirects (followed by hand,
/// each checked), no proxy (the address checks must see where the
/// connection goes), the gateway named in `User-Agent`.
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!(
            "catalogue-gateway/",
            env!("CARGO_PKG_VERSION"),
            " (programme 10% catalogue)"
        ))
}

pub fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// An error and its causes, for the log (reqwest's own message omits them).
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// How long a 403/429 asks us to wait: `Retry-After` (seconds), or GitHub's
/// and GitLab's `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset` (epoch).
fn rate_limit_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    match (number("x-ratelimit-remaining"), number("x-ratelimit-reset")) {
        (Some(0), Some(reset)) => {
            let now = jsonwebtoken::get_current_timestamp();
            Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
        }
        _ if status == StatusCode::TOO_MANY_REQUESTS => Some(Duration::from_secs(60)),
        _ => None,
    }
}
