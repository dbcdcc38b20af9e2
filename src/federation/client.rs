//! HTTP to upstream services, politely: at most N requests at once per host,
//! conditional requests, timeouts, retries with backoff on 5xx and network
//! errors only, and rate-limit headers obeyed by waiting (when the wait is
//! short) or by deferring to the next run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;

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
    /// Why nothing usable came back (kept short, no secrets).
    Failed(String),
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

pub struct Upstream {
    http: reqwest::Client,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
    concurrency_per_host: usize,
    /// Longest wait a rate limit may impose before the link is deferred.
    max_wait: Duration,
    retries: u32,
    backoff: Duration,
}

impl Upstream {
    pub fn new(
        timeout: Duration,
        concurrency_per_host: usize,
        max_wait: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .user_agent(concat!(
                    "catalogue-gateway/",
                    env!("CARGO_PKG_VERSION"),
                    " (programme 10% catalogue)"
                ))
                .build()?,
            per_host: Mutex::new(HashMap::new()),
            concurrency_per_host: concurrency_per_host.max(1),
            max_wait,
            retries: 2,
            backoff: Duration::from_millis(200),
        })
    }

    fn host_permits(&self, url: &str) -> Arc<Semaphore> {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
            })
            .unwrap_or_default();
        let mut hosts = self.per_host.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.concurrency_per_host))),
        )
    }

    /// GETs `url` (JSON), with `token` sent as `scheme`.
    pub async fn get(
        &self,
        url: &str,
        conditional: Conditional<'_>,
        token: Option<(&str, TokenHeader)>,
    ) -> Fetched {
        let permits = self.host_permits(url);
        let mut attempt = 0;
        loop {
            let outcome = {
                let _permit = permits.acquire().await;
                let mut request = self
                    .http
                    .get(url)
                    .header(header::ACCEPT, "application/json");
                if let Some(etag) = conditional.etag {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(date) = conditional.last_modified {
                    request = request.header(header::IF_MODIFIED_SINCE, date);
                }
                match token {
                    Some((token, TokenHeader::Bearer)) => request = request.bearer_auth(token),
                    Some((token, TokenHeader::PrivateToken)) => {
                        request = request.header("PRIVATE-TOKEN", token)
                    }
                    None => {}
                }
                request.send().await
            };
            let retry_in = match outcome {
                Err(error) => {
                    let why = if error.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        "network error".to_owned()
                    };
                    Retry::Backoff(why)
                }
                Ok(response) => match response.status() {
                    StatusCode::NOT_MODIFIED => return Fetched::NotModified,
                    StatusCode::NOT_FOUND | StatusCode::GONE => return Fetched::NotFound,
                    status if status.is_success() => {
                        let etag = header_text(response.headers(), header::ETAG);
                        let last_modified = header_text(response.headers(), header::LAST_MODIFIED);
                        return match response.text().await {
                            Ok(body) => Fetched::Fresh {
                                body,
                                etag,
                                last_modified,
                            },
                            Err(_) => Fetched::Failed("the answer could not be read".into()),
                        };
                    }
                    status if status.is_server_error() => Retry::Backoff(format!("HTTP {status}")),
                    status => match rate_limit_wait(status, response.headers()) {
                        Some(wait) if wait <= self.max_wait => Retry::After(wait),
                        Some(wait) => {
                            return Fetched::Failed(format!(
                                "rate limited by the host for {} s more; deferred to the next run",
                                wait.as_secs()
                            ));
                        }
                        None => return Fetched::Failed(format!("HTTP {status}")),
                    },
                },
            };
            if attempt >= self.retries {
                return Fetched::Failed(match retry_in {
                    Retry::Backoff(why) => format!("{why} after {} attempts", attempt + 1),
                    Retry::After(_) => "still rate limited after waiting".into(),
                });
            }
            let wait = match retry_in {
                Retry::Backoff(_) => self.backoff * 2u32.pow(attempt),
                Retry::After(wait) => wait,
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

enum Retry {
    Backoff(String),
    After(Duration),
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
