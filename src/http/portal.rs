//! The example portal at `/`: plain HTML, CSS and JavaScript over the public
//! GraphQL API, compiled into the binary (no build step, nothing to deploy
//! beside it). The page names its script and style by content
//! (`/portal/<hash>/portal.js`, see [`super::assets`]).

use std::sync::LazyLock;

use poem::web::Path;
use poem::{Request, Response, handler};

use super::assets::{self, Asset, Assets, Kind};

static FILES: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        "portal",
        vec![
            Asset::new(
                "portal.css",
                Kind::Css,
                include_str!("../../web/portal/portal.css").as_bytes(),
            ),
            Asset::new(
                "portal.js",
                Kind::JavaScript,
                include_str!("../../web/portal/portal.js").as_bytes(),
            ),
        ],
    )
});

static INDEX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "index.html",
        Kind::Html,
        FILES.render(include_str!("../../web/portal/index.html")),
    )
});

/// A page of the portal's look with `title` and `main` (HTML, escaped by
/// the caller) in it: for messages such as a refused sign-in.
pub fn message_page(title: &str, main: &str) -> String {
    static TEMPLATE: LazyLock<String> =
        LazyLock::new(|| FILES.render(include_str!("../../web/portal/message.html")));
    TEMPLATE.replace("%TITLE%", title).replace("%MAIN%", main)
}

/// What a message page may load: the portal's stylesheet, nothing else.
pub const MESSAGE_PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Only our own files and our own API; the search snippets the page inserts
/// as HTML are escaped by the server and cannot run anything under this policy.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

#[handler]
pub fn index(request: &Request) -> Response {
    assets::with_policy(INDEX.revalidated(request), CONTENT_SECURITY_POLICY)
}

/// `GET /portal/<hash>/<file>`.
#[handler]
pub fn file(request: &Request, Path((hash, file)): Path<(String, String)>) -> Response {
    FILES.serve(request, &hash, &file)
}
