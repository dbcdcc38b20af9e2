//! What a request may be: persisted queries (automatic, and the allow-list
//! mode), operation limits checked before any resolver runs, batches, rate
//! limits with Retry-After, and CORS.

mod common;

use catalogue_gateway::config::{Config, Secret};
use catalogue_gateway::{App, auth::DevKey};
use common::http_answer::{Answer, post};
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIS: &str = "redis://127.0.0.1:6379";
const COUNT: &str = "query Count { projects(first: 2) { totalCount } }";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn gateway(configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        configure,
    )
    .await
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn automatic_persisted_queries_round_trip(redis_prefix: Option<String>) {
    let app = gateway(|config| {
        if let Some(prefix) = redis_prefix {
            config.redis_url = Some(Secret::new(REDIS));
            config.redis_prefix = prefix;
        }
    })
    .await;
    let hash = sha256_hex(COUNT);

    let unknown = post(&app, &json!({ "extensions": persisted(&hash) }), None).await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.code(), "PERSISTED_QUERY_NOT_FOUND");

    let registered = post(
        &app,
        &json!({ "query": COUNT, "extensions": persisted(&hash) }),
        None,
    )
    .await;
    assert_eq!(
        registered.body["data"]["projects"]["totalCount"], 7,
        "{}",
        registered.body
    );

    let by_hash = post(&app, &json!({ "extensions": persisted(&hash) }), None).await;
    assert_eq!(by_hash.body["data"], registered.body["data"]);

    // By GET too, the form CDNs cache.
    let extensions = persisted(&hash).to_string();
    let got = reqwest::Client::new()
        .get(app.url("/graphql"))
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["cache-control"], "public, max-age=60");
    let got: Value = got.json().await.unwrap();
    assert_eq!(got["data"], registered.body["data"]);

    let mismatch = post(
        &app,
        &json!({ "query": COUNT, "extensions": persisted(&sha256_hex("{ tags { projectCount } }")) }),
        None,
    )
    .await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (400, "PERSISTED_QUERY_HASH_MISMATCH")
    );
    let malformed = post(&app, &json!({ "extensions": persisted("abc") }), None).await;
    assert_eq!((malformed.status, malformed.code()), (400, "BAD_REQUEST"));

    // A document that does not validate is not kept.
    let invalid = "{ nope }";
    let answer = post(
        &app,
        &json!({ "query": invalid, "extensions": persisted(&sha256_hex(invalid)) }),
        None,
    )
    .await;
    assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED");
    let again = post(
        &app,
        &json!({ "extensions": persisted(&sha256_hex(invalid)) }),
        None,
    )
    .await;
    assert_eq!(again.code(), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_in_process() {
    automatic_persisted_queries_round_trip(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_in_redis() {
    let prefix = format!(
        "catalogue-test:apq:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    automatic_persisted_queries_round_trip(Some(prefix)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_mode_accepts_registered_documents_only() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("persisted-queries.json");
    let hash = sha256_hex(COUNT);
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": hash, "name": "Count", "type": "query", "body": COUNT }]
        })
        .to_string(),
    )
    .unwrap();
    let file = manifest.clone();
    let app = gateway(move |config| {
        config.persisted_only = true;
        config.persisted_queries_file = Some(file);
    })
    .await;
    let by_hash = post(&app, &json!({ "extensions": persisted(&hash) }), None).await;
    assert_eq!(
        by_hash.body["data"]["projects"]["totalCount"], 7,
        "{}",
        by_hash.body
    );
    let by_text = post(&app, &json!({ "query": COUNT }), None).await;
    assert_eq!(by_text.body["data"], by_hash.body["data"]);
    for refused in [
        json!({ "query": "{ tags { projectCount } }" }),
        json!({ "query": "{ tags { projectCount } }", "extensions": persisted(&sha256_hex("{ tags { projectCount } }")) }),
        json!({ "extensions": persisted(&sha256_hex("{ tags { projectCount } }")) }),
    ] {
        let answer = post(&app, &refused, None).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "PERSISTED_QUERY_NOT_ALLOWED"),
            "{refused}"
        );
    }

    // A manifest whose id is not its body's hash stops the start, naming it.
    std::fs::write(
        &manifest,
        json!({ "operations": [{ "id": sha256_hex("other"), "body": COUNT }] }).to_string(),
    )
    .unwrap();
    let database = TestDatabase::create(Backend::Sqlite).await;
    let error = App::build(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database.url.clone(),
        persisted_only: true,
        persisted_queries_file: Some(manifest.clone()),
        ..Config::default()
    })
    .await
    .err()
    .expect("a bad manifest is refused");
    let message = error.to_string();
    assert!(
        message.contains("persisted-queries.json") && message.contains("operations[0].id"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_limits_refuse_before_any_resolver_runs() {
    let app = gateway(|config| {
        config.max_aliases = 2;
        config.max_root_fields = 2;
        config.max_depth = 3;
        config.max_complexity = 10;
        config.max_batch = 2;
        config.introspection = false;
        config.max_body_bytes = 2048;
    })
    .await;
    // Each case breaks one limit only, and the message says which.
    let cases = [
        (
            "aliases",
            "{ a: tags { n1: projectCount n2: projectCount } }",
        ),
        (
            "root fields",
            "query { tags { projectCount } organizations(first: 1) { totalCount } ...More } fragment More on Query { projects(first: 1) { totalCount } }",
        ),
        (
            "nested too deep",
            "{ projects(first: 1) { edges { node { slug } } } }",
        ),
        (
            "too complex",
            // Lists that lead back up the graph count tenfold.
            "{ project(slug: \"cartiflette\") { organizations { role } } }",
        ),
    ];
    for (limit, query) in cases {
        let before = app.statements_executed().await;
        let answer = post(&app, &json!({ "query": query }), None).await;
        assert_eq!(
            answer.code(),
            "OPERATION_LIMIT_EXCEEDED",
            "{limit}: {}",
            answer.body
        );
        let message = answer.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(limit), "{limit}: {message}");
        assert_eq!(answer.body["data"], Value::Null, "{limit}");
        assert_eq!(
            app.statements_executed().await,
            before,
            "{limit}: no resolver ran"
        );
    }
    let within = post(
        &app,
        &json!({ "query": "{ a: tags { projectCount } b: tags { projectCount } }" }),
        None,
    )
    .await;
    assert!(within.body.get("errors").is_none(), "{}", within.body);

    let introspection = post(
        &app,
        &json!({ "query": "{ __schema { types { name } } }" }),
        None,
    )
    .await;
    assert_eq!(
        introspection.code(),
        "INTROSPECTION_DISABLED",
        "{}",
        introspection.body
    );
    assert_eq!(introspection.body["data"], Value::Null);

    let batch = post(
        &app,
        &json!([{ "query": "{ tags { projectCount } }" }, { "query": COUNT }]),
        None,
    )
    .await;
    assert_eq!(batch.status, 200);
    assert_eq!(
        batch.body[1]["data"]["projects"]["totalCount"], 7,
        "{}",
        batch.body
    );
    let too_many = post(
        &app,
        &json!([{ "query": COUNT }, { "query": COUNT }, { "query": COUNT }]),
        None,
    )
    .await;
    assert_eq!(
        (too_many.status, too_many.code()),
        (400, "OPERATION_LIMIT_EXCEEDED")
    );

    let padded = format!("{{ tags {{ projectCount }} }}{}", " ".repeat(3000));
    let too_big = post(&app, &json!({ "query": padded }), None).await;
    assert_eq!(too_big.status, 413);
}

/// Fragments F1…Fn, each spreading the one before `copies` times: n = 22
/// and two copies ask for four million `__typename`s in under a kilobyte.
fn fragment_bomb(n: usize, copies: usize) -> String {
    let fragments: String = (1..=n)
        .map(|k| {
            let spreads = format!("...F{} ", k - 1).repeat(copies);
            format!("fragment F{k} on Query {{ {spreads}}} ")
        })
        .collect();
    format!(
        "query {{ r{n}: __typename ...F{n} }} fragment F0 on Query {{ __typename }} {fragments}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_are_refused_before_validation_under_the_default_limits() {
    let app = gateway(|config| config.rate_limit_per_minute = 0).await;
    let chain: String = (1..=5_000)
        .map(|k| format!("fragment F{k} on Query {{ ...F{} }} ", k - 1))
        .collect();
    let wide: String = (0..35_000).map(|n| format!("f{n} ")).collect();
    let cases = [
        (
            "fragment bomb",
            fragment_bomb(22, 2),
            "spread fragments more than 16 deep",
        ),
        (
            "shallow bomb",
            fragment_bomb(8, 4),
            "fields once its fragments are expanded",
        ),
        (
            "smaller bomb",
            fragment_bomb(12, 2),
            "fields once its fragments are expanded",
        ),
        (
            "long chain of spreads",
            format!("{{ ...F5000 }} fragment F0 on Query {{ __typename }} {chain}"),
            "spread fragments more than 16 deep",
        ),
        (
            "35,000 distinct names under one field",
            format!("{{ tags {{ {wide} }} }}"),
            "fields once its fragments are expanded",
        ),
    ];
    // (Whether statements ran is not checked here: these take long enough
    // in a debug build for the search index's catch-up to run beside them.)
    for (case, query, message) in cases {
        let answer = post(&app, &json!({ "query": query }), None).await;
        assert_eq!(
            answer.code(),
            "OPERATION_LIMIT_EXCEEDED",
            "{case}: {}",
            answer.body
        );
        let said = answer.body["errors"][0]["message"].as_str().unwrap();
        assert!(said.contains(message), "{case}: {said}");
        assert_eq!(answer.body["data"], Value::Null, "{case}");
    }
    // Within the limits, fragments spread many times are answered.
    let small = post(&app, &json!({ "query": fragment_bomb(10, 2) }), None).await;
    assert_eq!(small.body["data"]["r10"], "Query", "{}", small.body);
    // Fragments spreading each other in a cycle: refused (async-graphql's
    // parser follows spreads as it parses, and stops at 32), not a hang.
    let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let answer = post(&app, &json!({ "query": cycle }), None).await;
    assert_eq!(answer.code(), "GRAPHQL_PARSE_FAILED", "{}", answer.body);
}

async fn over_the_rate_limit(app: &TestApp, token: Option<&str>) -> Answer {
    for _ in 0..3 {
        let answer = post(app, &json!({ "query": COUNT }), token).await;
        if answer.status == 429 {
            return answer;
        }
    }
    post(app, &json!({ "query": COUNT }), token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_over_their_rate_get_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev.pem");
    let key = DevKey::load_or_create(&key_file).unwrap();
    let prefix = format!(
        "catalogue-test:rate:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    let configure = |config: &mut Config| {
        config.rate_limit_per_minute = 6;
        config.rate_limit_burst = 3;
        config.dev_auth = true;
        config.dev_key_file = key_file.clone();
        config.redis_url = Some(Secret::new(REDIS));
        config.redis_prefix = prefix.clone();
    };
    let first = gateway(configure).await;
    let second = TestApp::spawn_configured(first.database.shared(), None, configure).await;

    // The bucket is shared through Redis: two requests here, one there, then none.
    for app in [&first, &first, &second] {
        assert_eq!(
            post(app, &json!({ "query": COUNT }), None).await.status,
            200
        );
    }
    let limited = post(&second, &json!({ "query": COUNT }), None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "RATE_LIMITED");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");

    // An agent has a bucket of their own.
    let agent = key.mint("camille@insee.fr", false, 10).unwrap();
    assert_eq!(
        post(&first, &json!({ "query": COUNT }), Some(&agent))
            .await
            .status,
        200
    );
    assert_eq!(over_the_rate_limit(&first, Some(&agent)).await.status, 429);
    // Behind a trusted reverse proxy, each client address has its own bucket.
    let proxied = gateway(|config| {
        config.rate_limit_per_minute = 6;
        config.rate_limit_burst = 1;
        config.trust_forwarded_for = true;
    })
    .await;
    let from = |address: &'static str| {
        reqwest::Client::new()
            .post(proxied.url("/graphql"))
            .header("x-forwarded-for", format!("203.0.113.9, {address}"))
            .json(&json!({ "query": COUNT }))
            .send()
    };
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(from("198.51.100.2").await.unwrap().status(), 200);

    let metrics = first.get_text("/metrics").await;
    assert!(
        !metrics.contains("catalogue_rate_limited_requests_total 0\n"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_may_read_from_allowed_origins_without_credentials() {
    let open = gateway(|_| {}).await;
    let preflight = |app: &TestApp, origin: &str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let answer = preflight(&open, "https://portail.example.gouv.fr")
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    assert!(answer.headers().contains_key("access-control-allow-origin"));
    assert!(
        !answer
            .headers()
            .contains_key("access-control-allow-credentials")
    );

    let listed = gateway(|config| {
        config.cors_origins = vec!["https://portail.example.gouv.fr".to_owned()];
    })
    .await;
    let allowed = preflight(&listed, "https://portail.example.gouv.fr")
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://portail.example.gouv.fr"
    );
    let other = preflight(&listed, "https://ailleurs.example.com")
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}
