//! The gateway as an Apollo Federation v2 subgraph: `_service { sdl }`
//! composes with another subgraph extending `Project` (checked with Apollo's
//! own composer, `@apollo/composition`, which `make test` installs), and
//! `_entities` resolves projects and organizations by their keys.

use crate::common;

use std::path::Path;

use common::{Backend, TestApp};
use serde_json::{Value, json};

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

/// What `_entities` answers with each entity's relations, as a router asks.
const ENTITIES: &str =
    "query($representations: [_Any!]!) { _entities(representations: $representations) {
    __typename
    ... on Project { slug organizations { role organization { slug } } repositories { url } }
    ... on Organization { slug projects { slug } } } }";

/// A SIRET whose Luhn checksum holds, different for each `n`.
fn siret(n: usize) -> String {
    let body = format!("1200270160{n:03}");
    (0..10)
        .map(|check| format!("{body}{check}"))
        .find(|candidate| {
            let sum: u32 = candidate
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u32::from(b - b'0');
                    if i % 2 == 1 {
                        if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                    } else {
                        d
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        })
        .expect("one check digit fits")
}

/// A generated catalogue of `projects` projects, and of 30 organizations
/// that each have a SIRET (`org-N` has `siret(N)`); the first project is
/// for agents only.
fn catalogue_with_sirets(dir: &Path, projects: usize) {
    common::write_generated_catalogue(dir, projects);
    let mut organizations = String::from("organizations:\n");
    for o in 0..30 {
        organizations.push_str(&format!(
            "  - slug: org-{o}\n    name: Organisation {o}\n    kind: other\n    siret: \"{}\"\n    \
             sources:\n      - {{ title: registre, url: https://example.org/registre }}\n",
            siret(o)
        ));
    }
    std::fs::write(dir.join("organizations.yaml"), organizations).unwrap();
    common::edit(
        dir,
        "project-000.yaml",
        "summary:",
        "visibility: agents\nsummary:",
    );
}

/// The gateway on that catalogue, answers not cached (each request runs).
async fn entity_app(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    catalogue_with_sirets(dir.path(), 30);
    let database = common::TestDatabase::create(backend).await;
    let app = TestApp::spawn_configured(database, Some(dir.path().to_owned()), |config| {
        config.cache.cache_answers = false;
    })
    .await;
    (app, dir)
}

/// The SQL statements one request for `representations` costs, and its
/// data. The catalogue's background catch-up also runs statements, at any
/// time: it can only add to a reading, so the request is repeated until
/// the smallest reading has been seen twice.
async fn statements_for(app: &TestApp, representations: &[Value]) -> (u64, Value) {
    let mut readings = Vec::new();
    for _ in 0..20 {
        let before = app.statements_executed().await;
        let data = app
            .data(ENTITIES, json!({ "representations": representations }))
            .await;
        readings.push(app.statements_executed().await - before);
        let least = *readings.iter().min().unwrap();
        if readings.iter().filter(|&&n| n == least).count() >= 2 {
            return (least, data);
        }
    }
    panic!("no two readings agree: {readings:?}");
}

/// The global ids of the projects, by slug.
async fn project_ids(app: &TestApp) -> std::collections::HashMap<String, Value> {
    let data = app
        .data(
            "{ projects(first: 100) { edges { node { id slug } } } }",
            json!({}),
        )
        .await;
    data["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["slug"].as_str().unwrap().to_owned(),
                node["id"].clone(),
            )
        })
        .collect()
}

/// The global id of project-000, which anonymous callers cannot list.
async fn hidden_project_id(app: &TestApp) -> String {
    use base64::Engine;
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.database.connect().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM project WHERE slug = 'project-000'",
        ))
        .await
        .unwrap()
        .expect("project-000");
    let id: i64 = row.try_get("", "id").unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Project:{id}"))
}

type Representation<'a> = Box<dyn Fn(usize) -> Value + 'a>;
type Slug<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// `_entities` looks its entities up through the request's DataLoaders,
/// like every other read: 21 representations of a kind, with their
/// organizations, repositories or projects, cost as many statements as 1
/// (and as 7), for each key of each entity and for a mix of them.
async fn entity_lookups_cost_the_same_statements_whatever_their_number(backend: Backend) {
    let (app, _dir) = entity_app(backend).await;
    let ids = project_ids(&app).await;
    // Projects 1 to 21: project 0 is for agents only.
    let project = |n: usize| format!("project-{n:03}");
    // Each kind: its name, its `n`th representation, the slug that answers it.
    let kinds: [(&str, Representation<'_>, Slug<'_>); 4] = [
        (
            "Project by slug",
            Box::new(|n| json!({ "__typename": "Project", "slug": project(n + 1) })),
            Box::new(|n| project(n + 1)),
        ),
        (
            "Project by id",
            Box::new(|n| json!({ "__typename": "Project", "id": ids[&project(n + 1)] })),
            Box::new(|n| project(n + 1)),
        ),
        (
            "Organization by slug",
            Box::new(|n| json!({ "__typename": "Organization", "slug": format!("org-{n}") })),
            Box::new(|n| format!("org-{n}")),
        ),
        (
            "Organization by siret",
            Box::new(|n| json!({ "__typename": "Organization", "siret": siret(n) })),
            Box::new(|n| format!("org-{n}")),
        ),
    ];
    for (kind, representation, slug) in &kinds {
        let mut counts = Vec::new();
        for size in [1, 7, 21] {
            let representations: Vec<Value> = (0..size).map(representation).collect();
            let (statements, data) = statements_for(&app, &representations).await;
            let entities = data["_entities"].as_array().unwrap();
            assert_eq!(entities.len(), size, "{kind}");
            for (n, entity) in entities.iter().enumerate() {
                assert_eq!(entity["slug"], slug(n).as_str(), "{kind} {n}: {data}");
            }
            if entities[0]["__typename"] == "Project" {
                assert_eq!(
                    entities[0]["organizations"][0]["organization"]["slug"],
                    "org-1"
                );
                assert_eq!(entities[0]["repositories"].as_array().unwrap().len(), 2);
            } else {
                // org-0's first project, project-000, is for agents only.
                assert_eq!(entities[0]["projects"][0]["slug"], "project-007");
            }
            counts.push(statements);
        }
        println!("{kind} ({backend:?}): statements for 1, 7 and 21 representations: {counts:?}");
        assert_eq!(counts[0], counts[1], "{kind}: 1 vs 7 representations");
        assert_eq!(counts[0], counts[2], "{kind}: 1 vs 21 representations");
    }
    let mix = |size: usize| -> Vec<Value> {
        (0..size)
            .map(|n| {
                let (_, representation, _) = &kinds[n % kinds.len()];
                representation(n)
            })
            .collect()
    };
    let (few, _) = statements_for(&app, &mix(4)).await;
    let (many, data) = statements_for(&app, &mix(21)).await;
    println!("mixed ({backend:?}): statements for 4 and 21 representations: {few}, {many}");
    assert_eq!(few, many, "mixed kinds: 4 vs 21 representations");
    for (n, entity) in data["_entities"].as_array().unwrap().iter().enumerate() {
        let (_, _, slug) = &kinds[n % kinds.len()];
        assert_eq!(entity["slug"], slug(n).as_str(), "{n}: {data}");
    }
}

/// Every representation gets its answer in its place: entities of both
/// types and keys in one request, null for those that do not exist or
/// that the caller may not see, a key given twice answered twice.
async fn entities_answer_in_the_order_asked_with_null_where_none(backend: Backend) {
    let (app, _dir) = entity_app(backend).await;
    let ids = project_ids(&app).await;
    let hidden_id = hidden_project_id(&app).await;
    let organization_id = app
        .data("{ organization(slug: \"org-4\") { id } }", json!({}))
        .await["organization"]["id"]
        .clone();
    let representations = json!([
        { "__typename": "Organization", "siret": siret(3) },
        { "__typename": "Project", "slug": "project-007" },
        { "__typename": "Project", "slug": "no-such-project" },
        { "__typename": "Organization", "slug": "org-12" },
        { "__typename": "Project", "id": ids["project-009"] },
        { "__typename": "Organization", "slug": "no-such-organization" },
        { "__typename": "Project", "slug": "project-000" },
        { "__typename": "Organization", "siret": siret(99) },
        { "__typename": "Project", "id": organization_id },
        { "__typename": "Project", "slug": "project-007" },
        { "__typename": "Organization", "slug": "org-3" },
        { "__typename": "Project", "id": hidden_id },
    ]);
    let data = app
        .data(ENTITIES, json!({ "representations": representations }))
        .await;
    let answered: Vec<Value> = data["_entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entity| match entity {
            Value::Null => Value::Null,
            entity => json!([entity["__typename"], entity["slug"]]),
        })
        .collect();
    assert_eq!(
        answered,
        [
            json!(["Organization", "org-3"]),
            json!(["Project", "project-007"]),
            Value::Null,
            json!(["Organization", "org-12"]),
            json!(["Project", "project-009"]),
            Value::Null,
            // For agents only.
            Value::Null,
            Value::Null,
            // An organization's id is no project's.
            Value::Null,
            json!(["Project", "project-007"]),
            json!(["Organization", "org-3"]),
            Value::Null,
        ],
        "{data}"
    );
}

on_both_backends!(
    entity_lookups_cost_the_same_statements_whatever_their_number,
    entities_answer_in_the_order_asked_with_null_where_none,
);
