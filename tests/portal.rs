//! The example portal at `/`: served with a strict content security policy,
//! and driven end to end in headless Chromium (tests/portal/e2e.cjs, with
//! playwright-core; `make test` installs both): search "carte", see
//! Cartiflette, open it, see its GitHub link, no console error. Screenshots
//! land in `target/portal/`.

mod common;

use common::{Backend, TestApp};

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
    for (asset, content_type) in [
        ("/portal/portal.css", "text/css"),
        ("/portal/portal.js", "text/javascript"),
    ] {
        assert!(html.contains(asset), "the page loads {asset}");
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let served = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(served.starts_with(content_type), "{asset}: {served}");
    }
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
