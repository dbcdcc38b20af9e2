//! The gateway as the tools front-end developers and other administrations
//! use see it: graphql-js's introspection (what GraphiQL, graphql-codegen
//! and Apollo's tooling send), run by graphql-js itself, which `make test`
//! installs.

mod common;

use common::http_answer::post;
use common::{Backend, TestApp};
use serde_json::json;

/// Runs the Node.js script `tests/clients/<script>` with `args`; its
/// output when it succeeds.
fn node(script: &str, args: &[&str]) -> String {
    let modules = common::node_modules();
    assert!(
        modules.join("graphql").is_dir(),
        "{} has no graphql: run `make test`, which installs it",
        modules.display()
    );
    let output = std::process::Command::new("node")
        .arg(format!(
            "{}/tests/clients/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node (make test installs it)");
    assert!(
        output.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// graphql-js's `getIntrospectionQuery()` asks 15 levels deep; the depth
/// limit (10) protects the catalogue's types, not introspection's, whose
/// depth the schema bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_introspection_is_answered_under_the_default_limits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let query = include_str!("fixtures/introspection-query.graphql");
    let answer = post(&app, &json!({ "query": query }), None).await;
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    assert!(
        answer.body["data"]["__schema"]["types"]
            .as_array()
            .unwrap()
            .len()
            > 50
    );
    // The catalogue's own types keep the limit.
    let deep = "{ projects(first: 1) { edges { node { organizations { organization {
        projects(first: 1) { edges { node { organizations { organization { name } } } } } } } } } } }";
    let answer = post(&app, &json!({ "query": deep }), None).await;
    assert_eq!(answer.code(), "OPERATION_LIMIT_EXCEEDED", "{}", answer.body);
}

/// What graphql-js builds from introspection is the SDL at /schema.graphql,
/// descriptions included: GraphiQL's documentation and codegen see the
/// schema the gateway documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_js_introspection_gives_back_the_served_sdl() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let said = node(
        "introspection.cjs",
        &[&app.url("/graphql"), &app.url("/schema.graphql")],
    );
    assert_eq!(said, "introspected");
}
