//! What a request may be: persisted queries (automatic, bounded per client
//! and in all, and the allow-list mode), operation limits checked before any
//! resolver runs, batches, rate limits with Retry-After (holding while Redis
//! fails, apart from answers' eviction). CORS: tests/callers.rs.

use crate::common;

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
            config.cache.redis_url = Some(Secret::new(REDIS));
            config.cache.redis_prefix = prefix;
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
        registered.body["data"]["projects"]["totalCount"], 8,
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

/// A document of its own for each `n`, all of one length.
fn numbered(n: usize) -> String {
    format!("query Q{n:04} {{ projects(first: 2) {{ totalCount }} }}")
}

/// Registers `document` from the client `address` (behind a trusted proxy);
/// the answer, which must have run.
async fn register_from(app: &TestApp, address: &str, document: &str) -> Value {
    let response = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("x-forwarded-for", address)
        .json(&json!({ "query": document, "extensions": persisted(&sha256_hex(document)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["data"]["projects"]["totalCount"], 8, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer
}

/// Whether the gateway knows `document` by its hash.
async fn kept(app: &TestApp, document: &str) -> bool {
    let answer = post(
        app,
        &json!({ "extensions": persisted(&sha256_hex(document)) }),
        None,
    )
    .await;
    match answer.code() {
        "" => {
            assert_eq!(answer.body["data"]["projects"]["totalCount"], 8);
            true
        }
        "PERSISTED_QUERY_NOT_FOUND" => false,
        code => panic!("{code}: {}", answer.body),
    }
}

/// `Some(limit)` when the answer says its document was not kept, and which bound it met.
fn not_kept(answer: &Value) -> Option<&str> {
    let note = answer.get("extensions")?.get("persistedQuery")?;
    assert_eq!(note["kept"], false, "{answer}");
    assert_eq!(note["code"], "PERSISTED_QUERY_LIMIT_EXCEEDED", "{answer}");
    note["limit"].as_str()
}

/// One client registers 120 documents: those past its bound run and say
/// they are not kept, and are not; other clients have bounds of their own
/// until all documents together reach theirs.
async fn persisted_documents_are_bounded_per_client_and_in_all(redis_prefix: Option<String>) {
    let size = catalogue_gateway::shared_state::document_weight(&numbered(0));
    let app = gateway(|config| {
        config.limits.rate_limit_per_minute = 0;
        config.http.trust_forwarded_for = true;
        config.limits.persisted_queries_client_bytes = 5 * size;
        config.limits.persisted_queries_max_bytes = 12 * size;
        if let Some(prefix) = redis_prefix {
            config.cache.redis_url = Some(Secret::new(REDIS));
            config.cache.redis_prefix = prefix;
        }
    })
    .await;

    let mut refused = Vec::new();
    for n in 0..120 {
        let answer = register_from(&app, "198.51.100.1", &numbered(n)).await;
        refused.push(not_kept(&answer).map(str::to_owned));
    }
    assert!(refused[..5].iter().all(Option::is_none), "{refused:?}");
    assert!(
        refused[5..].iter().all(|r| r.as_deref() == Some("client")),
        "{refused:?}"
    );
    for n in 0..120 {
        assert_eq!(kept(&app, &numbered(n)).await, n < 5, "document {n}");
    }
    // A document kept already is no new registration.
    let again = register_from(&app, "198.51.100.1", &numbered(0)).await;
    assert_eq!(not_kept(&again), None, "{again}");

    // Two more clients: the second meets the total bound (12 documents).
    let mut outcomes = Vec::new();
    for (address, first) in [("198.51.100.2", 200), ("198.51.100.3", 300)] {
        for n in first..first + 5 {
            let answer = register_from(&app, address, &numbered(n)).await;
            outcomes.push(not_kept(&answer).map(str::to_owned));
        }
    }
    let total = |outcome: &Option<String>| outcome.as_deref() == Some("total");
    assert!(outcomes[..7].iter().all(Option::is_none), "{outcomes:?}");
    assert!(outcomes[7..].iter().all(total), "{outcomes:?}");
    let mut known = 0;
    for n in (0..120).chain(200..205).chain(300..305) {
        known += usize::from(kept(&app, &numbered(n)).await);
    }
    assert_eq!(known, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_documents_are_bounded_in_process() {
    persisted_documents_are_bounded_per_client_and_in_all(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_documents_are_bounded_in_redis() {
    let prefix = format!(
        "catalogue-test:apq-bounds:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    persisted_documents_are_bounded_per_client_and_in_all(Some(prefix)).await;
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
        config.limits.persisted_only = true;
        config.limits.persisted_queries_file = Some(file);
    })
    .await;
    let by_hash = post(&app, &json!({ "extensions": persisted(&hash) }), None).await;
    assert_eq!(
        by_hash.body["data"]["projects"]["totalCount"], 8,
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
    let mut config = Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database.url.clone();
    config.limits.persisted_only = true;
    config.limits.persisted_queries_file = Some(manifest.clone());
    let error = App::build(config)
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
        config.limits.max_aliases = 2;
        config.limits.max_root_fields = 2;
        config.limits.max_depth = 3;
        config.limits.max_complexity = 10;
        config.limits.max_batch = 2;
        config.limits.introspection = false;
        config.http.max_body_bytes = 2048;
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
        batch.body[1]["data"]["projects"]["totalCount"], 8,
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
    let app = gateway(|config| config.limits.rate_limit_per_minute = 0).await;
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
    // Fragments spreading each other in a cycle: their selections nest
    // without end, which is refused as async-graphql's parser refuses it
    // (more than 32 deep), not a hang.
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
        config.limits.rate_limit_per_minute = 6;
        config.limits.rate_limit_burst = 3;
        config.auth.dev_auth = true;
        config.auth.dev_key_file = key_file.clone();
        config.cache.redis_url = Some(Secret::new(REDIS));
        config.cache.redis_prefix = prefix.clone();
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
        config.limits.rate_limit_per_minute = 6;
        config.limits.rate_limit_burst = 1;
        config.http.trust_forwarded_for = true;
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

/// The HTTP statuses of `count` anonymous requests to `app`, in order.
async fn statuses(app: &TestApp, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        statuses.push(post(app, &json!({ "query": COUNT }), None).await.status);
    }
    statuses
}

/// A gateway on the Redis at `url` allowing bursts of 5 requests a client.
async fn limited_on(url: String) -> TestApp {
    gateway(|config| {
        config.limits.rate_limit_per_minute = 1;
        config.limits.rate_limit_burst = 5;
        config.cache.redis_url = Some(Secret::new(url));
    })
    .await
}

async fn try_redis_command(url: &str, command: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut connection = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd(command[0])
        .arg(&command[1..])
        .query_async(&mut connection)
        .await
}

async fn redis_command(url: &str, command: &[&str]) -> redis::Value {
    try_redis_command(url, command).await.unwrap()
}

/// Redis refuses writes (full, with `noeviction`) or is gone: buckets are
/// counted in process, so a client gets exactly its burst, then 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_hold_while_redis_refuses_writes_or_is_gone() {
    let full = common::redis::TestRedis::start();
    redis_command(
        &full.url(),
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    )
    .await;
    redis_command(&full.url(), &["CONFIG", "SET", "maxmemory", "1"]).await;
    let app = limited_on(full.url()).await;
    let expected: Vec<u16> = [vec![200; 5], vec![429; 10]].concat();
    assert_eq!(statuses(&app, 15).await, expected, "Redis full");

    let mut gone = common::redis::TestRedis::start();
    gone.stop();
    let app = limited_on(gone.url()).await;
    assert_eq!(statuses(&app, 15).await, expected, "Redis gone");
}

/// With a Redis of their own for state (`noeviction`), rate-limit buckets and
/// persisted documents are never where answers are, so evicting answers (an
/// LRU Redis at its `maxmemory`) cannot free a client from its limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicting_answers_does_not_evict_rate_limits() {
    let answers = common::redis::TestRedis::start();
    let state = common::redis::TestRedis::start();
    redis_command(
        &answers.url(),
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    )
    .await;
    let (answers_url, state_url) = (answers.url(), state.url());
    let app = gateway(move |config| {
        config.limits.rate_limit_per_minute = 1;
        config.limits.rate_limit_burst = 3;
        config.cache.redis_url = Some(Secret::new(answers_url));
        config.cache.redis_state_url = Some(Secret::new(state_url));
    })
    .await;
    let hash = sha256_hex(COUNT);
    let registered = post(
        &app,
        &json!({ "query": COUNT, "extensions": persisted(&hash) }),
        None,
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let keys = |url: String| async move {
        let keys: Vec<String> =
            redis::FromRedisValue::from_redis_value(redis_command(&url, &["KEYS", "*"]).await)
                .unwrap();
        keys
    };
    let kinds = |keys: &[String], kind: &str| keys.iter().filter(|k| k.contains(kind)).count();
    let in_answers = keys(answers.url()).await;
    let in_state = keys(state.url()).await;
    assert_eq!(kinds(&in_answers, ":answer:"), 1, "{in_answers:?}");
    assert_eq!(kinds(&in_answers, ":rate:"), 0, "{in_answers:?}");
    assert_eq!(kinds(&in_answers, ":document:"), 0, "{in_answers:?}");
    assert_eq!(kinds(&in_state, ":rate:"), 1, "{in_state:?}");
    assert_eq!(kinds(&in_state, ":document:"), 1, "{in_state:?}");
    assert_eq!(kinds(&in_state, ":answer:"), 0, "{in_state:?}");

    // The answers' Redis evicts everything it holds at the next write (and,
    // still over its bound, refuses that write).
    redis_command(&answers.url(), &["CONFIG", "SET", "maxmemory", "1"]).await;
    let _ = try_redis_command(&answers.url(), &["SET", "filler", "x"]).await;
    assert_eq!(kinds(&keys(answers.url()).await, ":answer:"), 0);
    assert_eq!(statuses(&app, 3).await, [200, 200, 429]);
    let by_hash = post(&app, &json!({ "extensions": persisted(&hash) }), None).await;
    assert_eq!(by_hash.status, 429);
}
