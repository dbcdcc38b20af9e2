//! The gateway as an Apollo Federation v2 subgraph: `_service { sdl }`
//! composes with another subgraph extending `Project` (checked with Apollo's
//! own composer, `@apollo/composition`, which `make test` installs), and
//! `_entities` resolves projects and organizations by their keys.

mod common;

use common::{Backend, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subgraph_composes_with_another_that_extends_project() {
    let modules = common::node_modules();
    assert!(
        modules.join("@apollo/composition").is_dir(),
        "{} has no @apollo/composition: run `make test`, which installs it",
        modules.display()
    );
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sdl = app.data("{ _service { sdl } }", json!({})).await["_service"]["sdl"]
        .as_str()
        .expect("the subgraph SDL")
        .to_owned();
    assert!(sdl.contains("@key(fields: \"slug\")"), "{sdl}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalogue.graphql");
    std::fs::write(&file, &sdl).unwrap();
    let output = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/federation/compose.cjs"
        ))
        .arg(&file)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node (make test installs it)");
    assert!(
        output.status.success(),
        "composition failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "composed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_resolve_by_their_keys() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let id = app
        .data("{ project(slug: \"poufdoc\") { id } }", json!({}))
        .await["project"]["id"]
        .clone();
    let query = "query($representations: [_Any!]!) { _entities(representations: $representations) {
        __typename ... on Project { slug name } ... on Organization { slug } } }";
    let data = app
        .data(
            query,
            json!({ "representations": [
                { "__typename": "Project", "slug": "cartiflette" },
                { "__typename": "Project", "id": id },
                { "__typename": "Organization", "slug": "insee" },
                { "__typename": "Project", "slug": "no-such-project" },
            ] }),
        )
        .await;
    let entities = &data["_entities"];
    assert_eq!(entities[0]["name"], "Cartiflette", "{data}");
    assert_eq!(entities[1]["slug"], "poufdoc");
    assert_eq!(entities[2]["slug"], "insee");
    assert_eq!(entities[3], serde_json::Value::Null);
}

/// An error raised while executing outside any field (a representation
/// without `__typename`) still carries a code, and its detail stays hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_lookup_error_has_a_code() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let answer = app
        .query(
            "query($representations: [_Any!]!) { _entities(representations: $representations) {
                __typename } }",
            json!({ "representations": [{ "slug": "cartiflette" }] }),
        )
        .await;
    let errors = answer["errors"].as_array().expect("an error");
    assert!(
        errors
            .iter()
            .all(|error| error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"),
        "{answer:#}"
    );
}
