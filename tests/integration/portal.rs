//! The pages the gateway serves to browsers, from its own origin only: the
//! example portal at `/` and GraphiQL at `/graphql`, each under a strict
//! content security policy, their scripts and styles under content-named
//! URLs kept a year, the pages revalidated by ETag. Both are driven end to
//! end in headless Chromium with playwright-core (`make test` installs
//! both): tests/portal/e2e.cjs searches "carte", opens Cartiflette, sees
//! its GitHub link, and walks every project and organization page;
//! tests/portal/graphiql.cjs explores the schema and runs a query with
//! every other origin blocked; tests/portal/agent.cjs (module `portal_agents`)
//! signs an agent in and edits a project. Screenshots land in `target/portal/`.

use crate::common;

use common::{Backend, TestApp};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};

/// The same-origin paths a page loads (`src="…"`, `href="…"`), data: URLs
/// and fragments aside.
fn loaded_paths(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| html.split(attribute).skip(1))
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .filter(|link| !link.starts_with("data:") && !link.starts_with('#'))
        .collect()
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}", response.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// A page: revalidated at each visit, 304 while unchanged.
async fn check_revalidated(app: &TestApp, path: &str, accept: &str) -> String {
    let page = app
        .client
        .get(app.url(path))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "{path}");
    assert_eq!(header(&page, "cache-control"), "no-cache", "{path}");
    let etag = header(&page, "etag");
    let html = page.text().await.unwrap();
    let again = app
        .client
        .get(app.url(path))
        .header("accept", accept)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    html
}

/// A script or style at a content-named URL: kept a year, with an ETag that
/// gets 304; the same file under another hash is not found. Its body.
async fn check_immutable(app: &TestApp, path: &str, content_type: &str) -> Vec<u8> {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert!(
        header(&response, "content-type").starts_with(content_type),
        "{path}: {}",
        header(&response, "content-type")
    );
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable",
        "{path}"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let etag = header(&response, "etag");
    let body = response.bytes().await.unwrap().to_vec();
    let again = app
        .client
        .get(app.url(path))
        .header("if-none-match", format!("W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    // The URL names the content: any other hash is another release's.
    let (area_and_hash, file) = path.rsplit_once('/').unwrap();
    let (area, hash) = area_and_hash.rsplit_once('/').unwrap();
    let other_hash = format!(
        "{}{}",
        if hash.starts_with('A') { 'B' } else { 'A' },
        &hash[1..]
    );
    let other = format!("{area}/{other_hash}/{file}");
    let stale = app.client.get(app.url(&other)).send().await.unwrap();
    assert_eq!(stale.status(), 404, "{other}");
    body
}

fn content_type_of(path: &str) -> &'static str {
    if path.ends_with(".css") {
        "text/css"
    } else {
        assert!(path.ends_with(".js"), "{path}");
        "text/javascript"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_is_served_with_its_assets_and_a_strict_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("default-src 'none'"),
        "{policy}"
    );
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for link in ["href=\"/graphql\"", "href=\"/schema.graphql\""] {
        assert!(
            html.contains(link),
            "the page links GraphiQL and the schema: {link}"
        );
    }
    let assets: Vec<String> = loaded_paths(&html)
        .into_iter()
        .filter(|path| path.starts_with("/portal/"))
        .collect();
    for file in ["portal.css", "portal.js"] {
        let path = assets
            .iter()
            .find(|path| path.ends_with(&format!("/{file}")))
            .unwrap_or_else(|| panic!("the page loads {file}: {assets:?}"));
        check_immutable(&app, path, content_type_of(path)).await;
    }
    // The page itself is revalidated, so a release's page names its files.
    check_revalidated(&app, "/", "text/html").await;
    // No inline script or event handler: the policy would block them.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the one external script"
    );
    for handler in [
        "onclick=",
        "onload=",
        "onsubmit=",
        "onchange=",
        "javascript:",
    ] {
        assert!(!html.contains(handler), "{handler}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_cartiflette_and_its_code_in_chromium() {
    let modules = common::node_modules();
    assert!(
        modules.join("playwright-core").is_dir(),
        "{} has no playwright-core: run `make test`, which installs it",
        modules.display()
    );
    let app = TestApp::spawn(Backend::Sqlite).await;
    let screenshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal");
    std::fs::create_dir_all(&screenshots).unwrap();
    // The gateway runs on the runtime's workers; this thread may block.
    let output = std::process::Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/portal/e2e.cjs"))
        .arg(&app.base_url)
        .arg(&screenshots)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node (make test installs it)");
    assert!(
        output.status.success(),
        "the browser test failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(screenshots.join("portal-project.png").is_file());
}

/// GraphiQL's files, from the gateway only: React's and GraphiQL's, as
/// vendored (each with the sha256 its README and scripts/vendor-graphiql.sh
/// pin), and ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_with_its_assets_from_the_gateway_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let get_page = || {
        app.client
            .get(app.url("/graphql"))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
    };
    let page = get_page().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    // Its nonce is used once: the page is never stored.
    assert_eq!(header(&page, "cache-control"), "no-store");
    let policy = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self';",
        "font-src data:;",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text().await.unwrap();
    // Only GraphiQL's dialogs' <style> elements get the nonce, new each time.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a style nonce in {policy}"));
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    let next = header(&get_page().await.unwrap(), "content-security-policy");
    assert!(!next.contains(nonce), "a new nonce: {next}");
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
        "nothing from elsewhere: {html}"
    );
    assert!(!html.contains("<script>"), "no inline script: {html}");
    assert!(html.contains("data-endpoint=\"/graphql\""));

    let readme = include_str!("../../web/graphiql/README.md");
    let script = include_str!("../../scripts/vendor-graphiql.sh");
    let mut loaded = Vec::new();
    for path in loaded_paths(&html)
        .into_iter()
        .filter(|path| path != "/schema.graphql")
    {
        assert!(
            path.starts_with("/graphiql/"),
            "same origin, own area: {path}"
        );
        let body = check_immutable(&app, &path, content_type_of(&path)).await;
        let file = path.rsplit('/').next().unwrap().to_owned();
        if file.ends_with(".min.js") || file.ends_with(".min.css") {
            let sha256: String = Sha256::digest(&body)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            assert!(
                readme.contains(&sha256) && script.contains(&sha256),
                "{file} is the vendored file pinned in the README and the script ({sha256})"
            );
        }
        loaded.push(file);
    }
    loaded.sort();
    assert_eq!(
        loaded,
        [
            "graphiql-start.js",
            "graphiql.css",
            "graphiql.min.css",
            "graphiql.min.js",
            "react-dom.production.min.js",
            "react.production.min.js",
        ]
    );
}

/// GraphiQL in Chromium with every other origin blocked: its documentation
/// explorer shows the schema, the editor completes, a query runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_explores_the_schema_in_graphiql_with_no_other_origin() {
    let modules = common::node_modules();
    assert!(
        modules.join("playwright-core").is_dir(),
        "{} has no playwright-core: run `make test`, which installs it",
        modules.display()
    );
    let app = TestApp::spawn(Backend::Sqlite).await;
    let screenshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal");
    std::fs::create_dir_all(&screenshots).unwrap();
    let output = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/portal/graphiql.cjs"
        ))
        .arg(&app.base_url)
        .arg(&screenshots)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node (make test installs it)");
    assert!(
        output.status.success(),
        "the browser test failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(screenshots.join("graphiql-result.png").is_file());
}
