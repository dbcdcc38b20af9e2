//! Cross-origin reads from browsers (`CATALOGUE_CORS_ORIGINS`).
//!
//! - A listed origin is echoed with `Access-Control-Allow-Credentials: true`,
//!   so a portal on another origin of the same site can use the cookie
//!   sign-in mode (`credentials: 'include'`). Answers then depend on
//!   `Origin`, and say so in `Vary`.
//! - `*` lets any other origin read without credentials: a literal
//!   `Access-Control-Allow-Origin: *` on every answer, whoever asks, so the
//!   answer is the same for every origin and shared caches keep one copy.
//!   Browsers send tokens in `Authorization` from there.
//! - Any other origin is refused (`403 FORBIDDEN`) before the request is
//!   read, preflight or not. The gateway's own origin (its portal and
//!   GraphiQL) is never cross-origin.
//!
//! Poem's `Cors` echoes every origin for `*`, allows credentials for all
//! origins or none, and accepts a preflight when any one of the requested
//! headers is allowed; hence this middleware.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, Middleware, Request, Response, Result};

use crate::graphql::code;

/// The headers browsers may send: today's, and those real clients add:
/// Apollo Client's client awareness (`clientAwareness: {name, version}`;
/// `new ApolloClient({name, version})` before version 4) and library
/// headers, its CSRF-prevention and operation-name headers, conditional
/// GETs and request ids.
const ALLOWED_HEADERS: &str = "content-type, authorization, if-none-match, x-request-id, \
     apollographql-client-name, apollographql-client-version, \
     apollographql-library-name, apollographql-library-version, \
     apollo-require-preflight, x-apollo-operation-name";

/// The answer headers scripts may read: caching, rate limits, the request id.
const EXPOSED_HEADERS: &str =
    "etag, retry-after, ratelimit, ratelimit-policy, x-cache, x-request-id";

const ALLOWED_METHODS: &str = "GET, POST";

/// How long browsers may keep a preflight's answer, in seconds: Chromium's
/// cap (Firefox keeps up to a day). The lists change only with a release,
/// and an origin taken off the list is refused at its next request anyway:
/// its answers lose `Access-Control-Allow-Origin` whatever preflight the
/// browser remembers.
pub const MAX_AGE_SECONDS: u32 = 7200;

/// Which origins may read, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsPolicy {
    /// Read with credentials: exactly as browsers write `Origin`.
    listed: Vec<String>,
    /// `*` is configured: any other origin reads without credentials.
    any: bool,
    /// The gateway's own origin.
    own: String,
}

/// How one request's origin is answered.
enum Verdict<'a> {
    /// No `Origin`, or the gateway's own: not a cross-origin request.
    SameOrigin,
    Listed(&'a HeaderValue),
    Any,
    Refused(String),
}

impl CorsPolicy {
    /// The policy for the configured origins (`*` or origins, checked by
    /// config), the gateway's public URL being `public_url`.
    pub fn new(origins: &[String], public_url: &str) -> Self {
        let origin_of = |url: &str| {
            url::Url::parse(url)
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_else(|_| url.trim_end_matches('/').to_owned())
        };
        Self {
            listed: origins
                .iter()
                .filter(|origin| origin.as_str() != "*")
                .map(|origin| origin_of(origin))
                .collect(),
            any: origins.iter().any(|origin| origin == "*"),
            own: origin_of(public_url),
        }
    }

    /// Whether answers depend on the caller's `Origin`: when some origins
    /// are listed (theirs are echoed, others get `*` or a refusal). With
    /// `*` alone every answer is the same and `Vary: Origin` would only
    /// split shared caches.
    pub fn varies_by_origin(&self) -> bool {
        !self.listed.is_empty()
    }

    /// Whether a browser may send credentials (the sign-in cookie) from
    /// `origin`: none given or the gateway's own, or a listed one (the
    /// only ones answered `Access-Control-Allow-Credentials`).
    pub fn allows_credentials_from(&self, origin: Option<&HeaderValue>) -> bool {
        matches!(self.judge(origin), Verdict::SameOrigin | Verdict::Listed(_))
    }

    fn judge<'a>(&self, origin: Option<&'a HeaderValue>) -> Verdict<'a> {
        let Some(origin) = origin else {
            return Verdict::SameOrigin;
        };
        let text = origin.to_str().unwrap_or_default();
        if text == self.own {
            Verdict::SameOrigin
        } else if self.listed.iter().any(|listed| listed == text) {
            Verdict::Listed(origin)
        } else if self.any {
            Verdict::Any
        } else {
            Verdict::Refused(text.to_owned())
        }
    }
}

impl<E: Endpoint> Middleware<E> for CorsPolicy {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            policy: self.clone(),
        }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    policy: CorsPolicy,
}

/// `403 FORBIDDEN` for an origin that may not read the API.
fn refused(origin: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": format!(
                "the origin {origin} may not call the API from a browser; its operator lists it in CATALOGUE_CORS_ORIGINS"
            ),
            "extensions": { "code": code::FORBIDDEN, "reason": "origin_not_allowed" }
        }]
    });
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header(header::CACHE_CONTROL, "no-store")
        .content_type("application/json")
        .body(body.to_string())
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> Result<Response> {
        let verdict = self.policy.judge(request.headers().get(header::ORIGIN));
        let allow_origin = match verdict {
            Verdict::SameOrigin => None,
            Verdict::Listed(origin) => Some(origin.clone()),
            Verdict::Any => Some(HeaderValue::from_static("*")),
            Verdict::Refused(origin) => return Ok(refused(&origin)),
        };
        let credentials = matches!(verdict, Verdict::Listed(_));
        let preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut response = match allow_origin.clone() {
            // Browsers compare the requested method and headers with these
            // lists themselves, and say which one failed.
            Some(origin) if preflight => Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS)
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)
                .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS)
                .finish(),
            _ => self.inner.get_response(request).await,
        };
        // `*` is on every answer, same-origin ones too: a shared cache may
        // hand any of them to any origin.
        let allow_origin = allow_origin.or_else(|| {
            (self.policy.any && !self.policy.varies_by_origin())
                .then(|| HeaderValue::from_static("*"))
        });
        if let Some(origin) = allow_origin {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            if !preflight {
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED_HEADERS),
                );
            }
            if credentials {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
        }
        Ok(response)
    }
}
