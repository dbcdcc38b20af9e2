//! Files the gateway serves from its own origin, compiled into the binary:
//! the portal's and GraphiQL's pages, scripts and styles, and the SDL.
//!
//! Scripts and styles live at a URL naming their content,
//! `/<area>/<hash>/<file>`: browsers and proxies keep them for a year
//! without asking again, and a release that changes a file changes its URL.
//! The portal's page, which names those URLs, and the SDL are revalidated at
//! every use (`no-cache` with an `ETag`, `If-None-Match` gets 304): a new
//! release is seen at once, an unchanged file costs an answer without a body.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response};
use sha2::{Digest, Sha256};

use super::caching;

/// A year: the longest `max-age` caches are asked to honour (RFC 9111).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// What a file is, for its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Html,
    Css,
    JavaScript,
    /// The SDL: no media type is registered for GraphQL documents
    /// (`application/graphql` never was, and the GraphQL-over-HTTP spec
    /// dropped it), so browsers show it and tools read it as text.
    PlainText,
    Json,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Html => "text/html; charset=utf-8",
            Self::Css => "text/css; charset=utf-8",
            Self::JavaScript => "text/javascript; charset=utf-8",
            Self::PlainText => "text/plain; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// A file and what names its content.
pub struct Asset {
    /// Its name in its URL.
    file: &'static str,
    kind: Kind,
    body: Bytes,
    etag: String,
    /// The URL segment naming this content: 96 bits of its SHA-256.
    hash: String,
}

impl Asset {
    pub fn new(file: &'static str, kind: Kind, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        Self {
            file,
            kind,
            etag: caching::etag_of(&body),
            hash: URL_SAFE_NO_PAD.encode(&digest[..12]),
            body,
        }
    }

    /// The answer that keeps it for a year: only for a URL naming its content.
    fn immutable(&self, request: &Request) -> Response {
        self.respond(request, IMMUTABLE)
    }

    /// The answer caches must check again before each use.
    pub fn revalidated(&self, request: &Request) -> Response {
        self.respond(request, REVALIDATE)
    }

    fn respond(&self, request: &Request, cache_control: &'static str) -> Response {
        let builder = Response::builder()
            .header(header::ETAG, self.etag.as_str())
            .header(header::CACHE_CONTROL, cache_control)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        if caching::matches(request, &self.etag) {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        builder
            .content_type(self.kind.content_type())
            .body(self.body.clone())
    }
}

/// The scripts and styles of one area (`/portal/…`, `/graphiql/…`), found
/// by their content-named URL.
pub struct Assets {
    area: &'static str,
    files: Vec<Asset>,
}

impl Assets {
    pub fn new(area: &'static str, files: Vec<Asset>) -> Self {
        Self { area, files }
    }

    /// The page `template` with each `{{file}}` replaced by that file's URL.
    pub fn render(&self, template: &str) -> String {
        let mut page = template.to_owned();
        for asset in &self.files {
            let url = format!("/{}/{}/{}", self.area, asset.hash, asset.file);
            page = page.replace(&format!("{{{{{}}}}}", asset.file), &url);
        }
        assert!(
            !page.contains("{{"),
            "a page of /{} names a file it does not have",
            self.area
        );
        page
    }

    /// `GET /<area>/<hash>/<file>`: the file while `hash` names its content;
    /// 404 for any other, an older release's included (its page is gone too).
    pub fn serve(&self, request: &Request, hash: &str, file: &str) -> Response {
        match self
            .files
            .iter()
            .find(|asset| asset.file == file && asset.hash == hash)
        {
            Some(asset) => asset.immutable(request),
            None => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .header(header::CACHE_CONTROL, REVALIDATE)
                .finish(),
        }
    }
}

/// Sets the headers of a page that runs only what `policy` allows.
pub fn with_policy(mut response: Response, policy: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(policy).expect("a policy is a header value"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
