//! GraphiQL at `GET /graphql` (for a browser asking for HTML), served
//! entirely by the gateway: GraphiQL's browser bundle and React's production
//! builds are compiled in (`graphiql/vendor/`, fetched and checked by
//! `scripts/vendor-graphiql.sh`), under content-named URLs
//! (`/graphiql/<hash>/<file>`, see [`super::assets`]). Nothing comes from a
//! third party, so GraphiQL works on a network without a CDN.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem::http::header;
use poem::web::Path;
use poem::{Request, Response, handler};

use super::assets::{self, Asset, Assets, Kind};

static FILES: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        "graphiql",
        vec![
            Asset::new(
                "react.production.min.js",
                Kind::JavaScript,
                include_bytes!("../../web/graphiql/vendor/react.production.min.js").as_slice(),
            ),
            Asset::new(
                "react-dom.production.min.js",
                Kind::JavaScript,
                include_bytes!("../../web/graphiql/vendor/react-dom.production.min.js").as_slice(),
            ),
            Asset::new(
                "graphiql.min.js",
                Kind::JavaScript,
                include_bytes!("../../web/graphiql/vendor/graphiql.min.js").as_slice(),
            ),
            Asset::new(
                "graphiql.min.css",
                Kind::Css,
                include_bytes!("../../web/graphiql/vendor/graphiql.min.css").as_slice(),
            ),
            Asset::new(
                "graphiql-start.js",
                Kind::JavaScript,
                include_bytes!("../../web/graphiql/graphiql-start.js").as_slice(),
            ),
            Asset::new(
                "graphiql.css",
                Kind::Css,
                include_bytes!("../../web/graphiql/graphiql.css").as_slice(),
            ),
        ],
    )
});

static PAGE: LazyLock<String> =
    LazyLock::new(|| FILES.render(include_str!("../../web/graphiql/index.html")));

/// `GET /graphql` from a browser: the page, with a nonce of its own for the
/// `<style>` elements GraphiQL's dialogs add (react-remove-scroll marks them
/// with `__webpack_nonce__`, which `graphiql-start.js` sets from its script
/// tag). A nonce is used once, so the page is never stored.
pub fn page() -> Response {
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    // Our files, our API, and GraphiQL's fonts and icons (data: URLs in its
    // stylesheet).
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         font-src data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    );
    let response = Response::builder()
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .content_type(Kind::Html.content_type())
        .body(PAGE.replace("{nonce}", &nonce));
    assets::with_policy(response, &policy)
}

/// `GET /graphiql/<hash>/<file>`.
#[handler]
pub fn file(request: &Request, Path((hash, file)): Path<(String, String)>) -> Response {
    FILES.serve(request, &hash, &file)
}
