//! The REST API's description: `GET /api/v1/openapi.json` (OpenAPI 3.1,
//! revalidated at each use with its ETag) and `GET /api/v1/docs`, a page of
//! our own that renders it, working offline (its script and style are
//! served by the gateway, nothing from elsewhere).

use std::sync::LazyLock;

use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use super::AppState;
use super::assets::{self, Asset, Assets, Kind};

static FILES: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        "api-docs",
        vec![
            Asset::new(
                "api-docs.css",
                Kind::Css,
                include_str!("../../web/api-docs/api-docs.css").as_bytes(),
            ),
            Asset::new(
                "api-docs.js",
                Kind::JavaScript,
                include_str!("../../web/api-docs/api-docs.js").as_bytes(),
            ),
        ],
    )
});

static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "index.html",
        Kind::Html,
        FILES.render(include_str!("../../web/api-docs/index.html")),
    )
});

/// Our own script and style, and the description from our own origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[handler]
pub fn openapi(request: &Request, state: Data<&AppState>) -> Response {
    Asset::new(
        "openapi.json",
        Kind::Json,
        state.openapi.as_bytes().to_vec(),
    )
    .revalidated(request)
}

#[handler]
pub fn page(request: &Request) -> Response {
    assets::with_policy(PAGE.revalidated(request), CONTENT_SECURITY_POLICY)
}

/// `GET /api-docs/<hash>/<file>`.
#[handler]
pub fn file(request: &Request, Path((hash, file)): Path<(String, String)>) -> Response {
    FILES.serve(request, &hash, &file)
}
