//! Whether a URL still answers: HEAD, then GET when HEAD is refused (its
//! body never read), redirects followed by hand up to a limit, each hop's
//! URL checked against [`LinkEgress`] before connecting and its address
//! when connecting, loops caught, the hosts' request limits shared with the
//! harvest. What happened is told in words a maintainer can act on.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header;
use url::Url;

use super::client::{HostPermits, causes, client_builder, is_redirect};
use super::egress::{LinkEgress, LinkReach, PublicOnly, Refusal, RefusedAddress, Unresolved};
use crate::facts::LinkCheckStatus;
use crate::store::Redirect;

/// Redirects followed from one URL: sites redirect once or twice (http to
/// https, a trailing slash, a new address); ten leaves room for chains of
/// services without following a runaway one far.
pub const MAX_REDIRECTS: usize = 10;
/// The longest URL a redirect may lead to (what is recorded stays bounded).
const MAX_LOCATION_BYTES: usize = 2048;

/// What checking one URL found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub status: LinkCheckStatus,
    /// The status of the last answer, when there was one.
    pub http_status: Option<u16>,
    /// The last URL asked.
    pub final_url: String,
    pub redirects: Vec<Redirect>,
    /// What happened, when it is not a plain 2xx.
    pub message: Option<String>,
}

/// One URL's answer, its body left unread.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    /// HEAD's status, when GET had to be asked.
    head_refused: Option<StatusCode>,
}

/// Why a URL gave no answer, as a maintainer is told.
struct Failure {
    status: LinkCheckStatus,
    message: String,
}

impl Failure {
    fn broken(message: impl Into<String>) -> Self {
        Self {
            status: LinkCheckStatus::Broken,
            message: message.into(),
        }
    }

    fn not_allowed(message: impl Into<String>) -> Self {
        Self {
            status: LinkCheckStatus::NotAllowed,
            message: message.into(),
        }
    }
}

pub struct Prober {
    /// For the origins the operator trusts for link checks, as written.
    trusted: reqwest::Client,
    /// For everything else: public addresses only, checked when connecting.
    public: reqwest::Client,
    egress: LinkEgress,
    permits: Arc<HostPermits>,
    timeout: Duration,
}

impl Prober {
    pub fn new(
        egress: LinkEgress,
        permits: Arc<HostPermits>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            trusted: client_builder(timeout).build()?,
            public: client_builder(timeout)
                .dns_resolver(Arc::new(PublicOnly))
                .build()?,
            egress,
            permits,
            timeout,
        })
    }

    /// Checks `url`, following its redirects.
    pub async fn probe(&self, url: &str) -> Probe {
        let mut probe = Probe {
            status: LinkCheckStatus::Broken,
            http_status: None,
            final_url: url.to_owned(),
            redirects: Vec::new(),
            message: None,
        };
        let Ok(mut current) = Url::parse(url) else {
            probe.message = Some("not a URL".to_owned());
            return probe;
        };
        let mut visited = HashSet::from([current.clone()]);
        loop {
            probe.final_url = current.to_string();
            let answer = match self.ask(&current).await {
                Ok(answer) => answer,
                Err(failure) => {
                    probe.status = failure.status;
                    probe.message = Some(failure.message);
                    return probe;
                }
            };
            probe.http_status = Some(answer.status.as_u16());
            if !is_redirect(answer.status) {
                return finish(probe, &answer);
            }
            let next = match next_url(&current, &answer) {
                Ok(next) => next,
                Err(failure) => {
                    probe.message = Some(failure.message);
                    return probe;
                }
            };
            probe.redirects.push(Redirect {
                status: answer.status.as_u16(),
                location: next.to_string(),
            });
            if !visited.insert(next.clone()) {
                probe.message = Some(format!("redirect loop: back to {next}"));
                return probe;
            }
            if probe.redirects.len() > MAX_REDIRECTS {
                probe.message = Some(format!("more than {MAX_REDIRECTS} redirects"));
                return probe;
            }
            current = next;
        }
    }

    /// HEAD `url`; GET it when HEAD gets neither a success nor a redirect.
    async fn ask(&self, url: &Url) -> Result<Answer, Failure> {
        let client = match self.egress.reach(url) {
            Ok(LinkReach::Trusted) => &self.trusted,
            Ok(LinkReach::Public) => &self.public,
            Err(Refusal::NotAllowed) => {
                return Err(Failure::not_allowed(format!(
                    "not allowed: only http and https URLs are checked ({url})"
                )));
            }
            Err(Refusal::Address) => {
                return Err(Failure::not_allowed(format!(
                    "not allowed: {} is not a public address",
                    url.host_str().unwrap_or_default()
                )));
            }
        };
        let permits = self.permits.of(url);
        let _permit = permits.acquire().await;
        let send = |method: reqwest::Method| async move {
            client
                .request(method, url.clone())
                .header(header::ACCEPT, "*/*")
                .send()
                .await
                .map_err(|error| self.failure(url, &error))
        };
        let head = send(reqwest::Method::HEAD).await?;
        let status = head.status();
        if status.is_success() || is_redirect(status) {
            return Ok(Answer {
                status,
                location: location(&head),
                head_refused: None,
            });
        }
        // Servers refuse HEAD with 405 or 501, and some answer it 403, 404
        // or 5xx where GET works: whatever HEAD gets short of success, GET
        // decides. Its body is not read; dropping it closes the connection.
        drop(head);
        let get = send(reqwest::Method::GET).await?;
        Ok(Answer {
            status: get.status(),
            location: location(&get),
            head_refused: Some(status),
        })
    }

    /// What a request that got no answer tells a maintainer; the log has
    /// every cause.
    fn failure(&self, url: &Url, error: &reqwest::Error) -> Failure {
        tracing::info!(%url, error = %causes(error), "a checked link gave no answer");
        if let Some(refused) = find::<RefusedAddress>(error) {
            return Failure::not_allowed(format!(
                "not allowed: `{}` is not at a public address",
                refused.name()
            ));
        }
        if error.is_timeout() {
            return Failure::broken(format!("timed out after {} s", self.timeout.as_secs_f64()));
        }
        if let Some(unresolved) = find::<Unresolved>(error) {
            return Failure::broken(format!("DNS: no address for `{}`", unresolved.name()));
        }
        if let Some(tls) = find::<rustls::Error>(error) {
            return Failure::broken(tls_message(tls));
        }
        let io = find::<std::io::Error>(error).map(std::io::Error::kind);
        Failure::broken(match io {
            Some(std::io::ErrorKind::ConnectionRefused) => "connection refused",
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
                "connection reset"
            }
            _ if error.is_connect() => "could not connect",
            _ => "the connection closed without an answer",
        })
    }
}

/// The verdict on the last answer, which is not a redirect.
fn finish(mut probe: Probe, answer: &Answer) -> Probe {
    let status = answer.status;
    let permanent = probe.redirects.first().is_some_and(|first| {
        first.status == StatusCode::MOVED_PERMANENTLY.as_u16()
            || first.status == StatusCode::PERMANENT_REDIRECT.as_u16()
    });
    let head_refused = answer
        .head_refused
        .map(|head| format!("HEAD answered {}; checked with GET", head.as_u16()));
    if status.is_success() {
        probe.status = if permanent {
            LinkCheckStatus::Moved
        } else {
            LinkCheckStatus::Ok
        };
        probe.message = match (permanent, head_refused) {
            (true, Some(head)) => Some(format!("moved permanently to {}; {head}", probe.final_url)),
            (true, None) => Some(format!("moved permanently to {}", probe.final_url)),
            (false, head) => head,
        };
        return probe;
    }
    probe.status = LinkCheckStatus::Broken;
    let reason = status.canonical_reason().unwrap_or("unexpected answer");
    probe.message = Some(format!("HTTP {} {reason}", status.as_u16()));
    probe
}

/// Where a redirect leads, within bounds.
fn next_url(current: &Url, answer: &Answer) -> Result<Url, Failure> {
    let status = answer.status.as_u16();
    let Some(location) = &answer.location else {
        return Err(Failure::broken(format!("HTTP {status} without a Location")));
    };
    if location.len() > MAX_LOCATION_BYTES {
        return Err(Failure::broken(format!(
            "HTTP {status} to a URL longer than {MAX_LOCATION_BYTES} bytes"
        )));
    }
    current
        .join(location)
        .map_err(|_| Failure::broken(format!("HTTP {status} to an unreadable Location")))
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The first `T` among `error` and its causes, looking inside the I/O
/// errors that wrap others (TLS errors reach reqwest that way, and
/// `io::Error::source` skips what it wraps).
fn find<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(found) = find::<T>(inner)
        {
            return Some(found);
        }
        next = current.source();
    }
    None
}

/// A TLS failure, as a maintainer is told.
fn tls_message(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => {
                "TLS: certificate not trusted (unknown issuer or self-signed)".to_owned()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "TLS: certificate expired".to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "TLS: certificate not valid for this host".to_owned()
            }
            CertificateError::Revoked => "TLS: certificate revoked".to_owned(),
            other => format!("TLS: invalid certificate ({other:?})"),
        },
        other => format!("TLS: handshake failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, location: Option<&str>) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            location: location.map(str::to_owned),
            head_refused: None,
        }
    }

    fn probe_after(redirects: &[u16]) -> Probe {
        Probe {
            status: LinkCheckStatus::Broken,
            http_status: Some(200),
            final_url: "https://example.org/end".to_owned(),
            redirects: redirects
                .iter()
                .map(|&status| Redirect {
                    status,
                    location: "https://example.org/next".to_owned(),
                })
                .collect(),
            message: None,
        }
    }

    #[test]
    fn a_link_moved_when_its_own_url_redirects_permanently() {
        for (redirects, status) in [
            (&[][..], LinkCheckStatus::Ok),
            (&[301, 301][..], LinkCheckStatus::Moved),
            (&[308][..], LinkCheckStatus::Moved),
            (&[302][..], LinkCheckStatus::Ok),
            (&[307, 301][..], LinkCheckStatus::Ok),
            (&[301, 302][..], LinkCheckStatus::Moved),
        ] {
            let probe = finish(probe_after(redirects), &answer(200, None));
            assert_eq!(probe.status, status, "{redirects:?}");
        }
        let gone = finish(probe_after(&[301]), &answer(410, None));
        assert_eq!(gone.status, LinkCheckStatus::Broken);
        assert_eq!(gone.message.as_deref(), Some("HTTP 410 Gone"));
    }

    #[test]
    fn redirects_lead_to_bounded_readable_urls() {
        let here = Url::parse("https://example.org/a/b").unwrap();
        let next = next_url(&here, &answer(301, Some("../c?d=1")))
            .ok()
            .unwrap();
        assert_eq!(next.as_str(), "https://example.org/c?d=1");
        let long = format!("/{}", "x".repeat(MAX_LOCATION_BYTES));
        for (location, says) in [
            (None, "without a Location"),
            (Some(long.as_str()), "longer than"),
            (Some("http://[::1"), "unreadable"),
        ] {
            let failure = next_url(&here, &answer(302, location)).err().unwrap();
            assert!(failure.message.contains(says), "{}", failure.message);
        }
    }
}
