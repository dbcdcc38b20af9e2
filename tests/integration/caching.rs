//! The response cache, in process and in a real Redis: hits after misses,
//! answers never crossing between callers who may see different things,
//! invalidation across two gateways sharing Redis (also when Redis missed a
//! write or comes back older), answers kept in process aging out, and HTTP
//! caching headers.

use crate::common;

use std::sync::atomic::{AtomicU32, Ordering};

use catalogue_gateway::auth::DevKey;
use catalogue_gateway::config::{Config, Secret};
use common::http_answer::{Answer, get};
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::{Value, json};

const REDIS: &str = "redis://127.0.0.1:6379";

/// Keys of their own for each test, so tests sharing the Redis never meet.
fn redis_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "catalogue-test:{}:{}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        jsonwebtoken::get_current_timestamp()
    )
}

/// A dev key and a gateway trusting it, with Redis under `prefix` or in-process.
struct Setup {
    key: DevKey,
    _key_dir: tempfile::TempDir,
    key_file: std::path::PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("dev.pem");
        Self {
            key: DevKey::load_or_create(&key_file).unwrap(),
            _key_dir: dir,
            key_file,
        }
    }

    fn token(&self, email: &str, admin: bool) -> String {
        self.key.mint(email, admin, 30).unwrap()
    }

    async fn gateway(&self, database: TestDatabase, redis_prefix: Option<&str>) -> TestApp {
        let key_file = self.key_file.clone();
        let prefix = redis_prefix.map(str::to_owned);
        TestApp::spawn_configured(
            database,
            Some(catalogue_dir()),
            move |config: &mut Config| {
                config.auth.dev_auth = true;
                config.auth.dev_key_file = key_file;
                // Tests here ask again until a change shows; limits are tested elsewhere.
                config.limits.rate_limit_per_minute = 0;
                if let Some(prefix) = prefix {
                    config.cache.redis_url = Some(Secret::new(REDIS));
                    config.cache.redis_prefix = prefix;
                }
            },
        )
        .await
    }

    /// A gateway on the private Redis at `url`, serving an answer it keeps
    /// in process for `memory_max_age_seconds` at most.
    async fn gateway_on(
        &self,
        database: TestDatabase,
        url: &str,
        memory_max_age_seconds: u64,
    ) -> TestApp {
        let key_file = self.key_file.clone();
        let url = url.to_owned();
        TestApp::spawn_configured(
            database,
            Some(catalogue_dir()),
            move |config: &mut Config| {
                config.auth.dev_auth = true;
                config.auth.dev_key_file = key_file;
                config.limits.rate_limit_per_minute = 0;
                config.cache.redis_url = Some(Secret::new(url));
                config.cache.cache_memory_max_age_seconds = memory_max_age_seconds;
            },
        )
        .await
    }

    /// Makes cartiflette agents-only through `app`, as an administrator.
    async fn make_cartiflette_agents_only(&self, app: &TestApp) {
        let admin = self.token("admin@numerique.gouv.fr", true);
        let (_, _, read) = app
            .query_as(
                &admin,
                "{ project(slug: \"cartiflette\") { version } }",
                json!({}),
            )
            .await;
        let (status, _, answer) = app
            .query_as(
                &admin,
                "mutation($v: Int!) { updateProject(slug: \"cartiflette\", input: {visibility: AGENTS}, expectedVersion: $v) { project { visibility } } }",
                json!({ "v": read["data"]["project"]["version"] }),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["data"]["updateProject"]["project"]["visibility"], "AGENTS",
            "{answer}"
        );
    }
}

/// The slugs anonymous callers may list.
const SLUGS: &str = "{ projects(first: 50) { edges { node { slug } } } }";

fn lists(answer: &Answer, slug: &str) -> bool {
    let edges = answer.body["data"]["projects"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of projects: {}", answer.body));
    edges.iter().any(|edge| edge["node"]["slug"] == slug)
}

/// Asks `app` for [`SLUGS`] until its cache answers (the database answers
/// while the cache cannot say) without cartiflette.
async fn until_cartiflette_is_gone(app: &TestApp, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let answer = get(app, SLUGS, None, None).await;
        if answer.header("x-cache").is_some() && !lists(&answer, "cartiflette") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still lists cartiflette ({:?})",
            answer.header("x-cache")
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

const PROJECTS: &str = "{ projects(first: 3) { totalCount edges { node { slug maintainers } } } }";

async fn a_repeated_query_is_answered_without_the_database(redis: bool) {
    let setup = Setup::new();
    let prefix = redis_prefix();
    let app = setup
        .gateway(
            TestDatabase::create(Backend::Sqlite).await,
            redis.then_some(prefix.as_str()),
        )
        .await;
    let miss = get(&app, PROJECTS, None, None).await;
    assert_eq!(miss.header("x-cache"), Some("MISS"));
    let statements = app.statements_executed().await;
    let hit = get(&app, PROJECTS, None, None).await;
    assert_eq!(hit.header("x-cache"), Some("HIT"));
    assert_eq!(hit.body, miss.body);
    // Other spellings of the same document share the entry: insignificant
    // whitespace, commas and comments, wherever the grammar allows them.
    for respelled in [
        PROJECTS.replace(' ', "\n  "),
        "{projects(first:3){totalCount edges{node{slug maintainers}}}}".to_owned(),
        "\u{feff}{ projects ( first : 3 , ) , { # the count\n totalCount,\tedges { node { slug, maintainers } } } }"
            .to_owned(),
    ] {
        let answer = get(&app, &respelled, None, None).await;
        assert_eq!(answer.header("x-cache"), Some("HIT"), "{respelled}");
        assert_eq!(answer.body, miss.body);
    }
    assert_eq!(
        app.statements_executed().await,
        statements,
        "hits never reach the database"
    );
    // Readiness says where the generation is known from.
    let source = if redis { "tracked" } else { "local" };
    common::redis::wait_for_generation_source(&app, source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_query_is_answered_from_the_in_process_cache() {
    a_repeated_query_is_answered_without_the_database(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_query_is_answered_from_redis() {
    a_repeated_query_is_answered_without_the_database(true).await;
}

/// Same document, alternating callers: each gets the answer for its scope;
/// `me` is never cached at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_never_cross_between_anonymous_callers_and_agents() {
    let setup = Setup::new();
    let prefix = redis_prefix();
    let app = setup
        .gateway(TestDatabase::create(Backend::Sqlite).await, Some(&prefix))
        .await;
    let agent = setup.token("camille@insee.fr", false);
    for round in 0..2 {
        let anonymous = get(&app, PROJECTS, None, None).await;
        let signed_in = get(&app, PROJECTS, Some(&agent), None).await;
        let expected = if round == 0 { "MISS" } else { "HIT" };
        assert_eq!(anonymous.header("x-cache"), Some(expected));
        assert_eq!(signed_in.header("x-cache"), Some(expected));
        let node = |answer: &Answer| answer.body["data"]["projects"]["edges"][0]["node"].clone();
        assert_eq!(
            node(&anonymous)["maintainers"],
            Value::Null,
            "{}",
            anonymous.body
        );
        assert!(
            node(&signed_in)["maintainers"].is_array(),
            "{}",
            signed_in.body
        );
    }
    for email in ["a@insee.fr", "b@dinum.gouv.fr", "a@insee.fr"] {
        let me = get(
            &app,
            "{ me { email } }",
            Some(&setup.token(email, false)),
            None,
        )
        .await;
        assert_eq!(me.body["data"]["me"]["email"], email);
        assert_eq!(
            me.header("x-cache"),
            None,
            "answers about the caller are not kept"
        );
        assert_eq!(me.header("cache-control"), Some("private, no-store"));
    }
    let anonymous_me = get(&app, "{ me { email } }", None, None).await;
    assert_eq!(anonymous_me.body["data"]["me"], Value::Null);
}

/// Two gateways share the database and Redis: a write through one is seen
/// through the other as soon as it has read Redis's invalidation.
async fn a_write_through_one_gateway_is_seen_through_the_other_via_redis(backend: Backend) {
    let setup = Setup::new();
    let prefix = redis_prefix();
    let first = setup
        .gateway(TestDatabase::create(backend).await, Some(&prefix))
        .await;
    let second = setup.gateway(first.database.shared(), Some(&prefix)).await;
    // The second knows the generation from Redis's invalidations, not by asking.
    common::redis::wait_until_tracked(&second).await;
    let admin = setup.token("admin@numerique.gouv.fr", true);
    let read = "{ project(slug: \"poufdoc\") { summary version } }";
    get(&second, read, None, None).await;
    let before = get(&second, read, None, None).await;
    assert_eq!(before.header("x-cache"), Some("HIT"));

    // A mutation refused (here: anonymous) changes nothing and keeps the cache.
    let refused = common::http_answer::post(
        &first,
        &json!({ "query": "mutation { archiveProject(slug: \"poufdoc\", expectedVersion: 1) { project { slug } } }" }),
        None,
    )
    .await;
    assert_eq!(refused.code(), "UNAUTHENTICATED", "{}", refused.body);
    assert_eq!(
        get(&second, read, None, None).await.header("x-cache"),
        Some("HIT")
    );

    let version = before.body["data"]["project"]["version"].clone();
    let (status, _, answer) = first
        .query_as(
            &admin,
            "mutation($v: Int!) { updateProject(slug: \"poufdoc\", input: {summary: \"Rapports, vite.\"}, expectedVersion: $v) { project { summary } } }",
            json!({ "v": version }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");

    // The writer itself answers the write at once.
    let mine = get(&first, read, None, None).await;
    assert_eq!(mine.body["data"]["project"]["summary"], "Rapports, vite.");
    // The other may take it from Redis, where the writer just kept it.
    common::redis::once_invalidated(
        || get(&second, read, None, None),
        |answer| answer.body["data"]["project"]["summary"] == "Rapports, vite.",
    )
    .await;
}

/// Public answers to GET carry what a CDN needs; others tell caches to keep nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_caching_headers_and_conditional_requests() {
    let setup = Setup::new();
    let app = setup
        .gateway(TestDatabase::create(Backend::Sqlite).await, None)
        .await;
    let public = get(&app, PROJECTS, None, None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.header("cache-control"), Some("public, max-age=60"));
    // CORS answers `*` to every origin (the default): no `Vary: Origin`.
    assert_eq!(public.header("vary"), Some("Accept, Authorization, Cookie"));
    // A browser's request (with Origin, answered by CORS) varies the same way.
    let from_portal = reqwest::Client::new()
        .get(app.url("/graphql"))
        .query(&[("query", PROJECTS)])
        .header("origin", "https://portail.example.gouv.fr")
        .send()
        .await
        .unwrap();
    assert_eq!(
        from_portal.headers()["vary"],
        "Accept, Authorization, Cookie"
    );
    assert_eq!(from_portal.headers()["access-control-allow-origin"], "*");
    let etag = public.header("etag").expect("an ETag").to_owned();

    let revalidated = get(&app, PROJECTS, None, Some(&etag)).await;
    assert_eq!(revalidated.status, 304);
    assert_eq!(revalidated.header("etag"), Some(etag.as_str()));
    let changed = get(&app, PROJECTS, None, Some("\"something-else\"")).await;
    assert_eq!(changed.status, 200);

    let agent = get(
        &app,
        PROJECTS,
        Some(&setup.token("c@insee.fr", false)),
        Some(&etag),
    )
    .await;
    assert_eq!(agent.status, 200, "an agent's answer is not the public one");
    assert_eq!(agent.header("cache-control"), Some("private, no-store"));
    assert_eq!(agent.header("etag"), None);

    let posted = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": PROJECTS }))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.headers()["cache-control"], "no-store");
    let failed = get(&app, "{ project(slug: \"nope\") { nope } }", None, None).await;
    assert_eq!(failed.header("cache-control"), Some("no-store"));
    assert_eq!(failed.header("x-cache"), None, "errors are not kept");
}

/// A writer and a reader sharing a new database and `redis`, each keeping
/// the public list (listing cartiflette) in process for an hour, so that
/// only the generation can tell them of a write.
async fn replicas_keeping_the_list(
    setup: &Setup,
    redis: &common::redis::TestRedis,
    backend: Backend,
) -> (TestApp, TestApp) {
    let writer = setup
        .gateway_on(TestDatabase::create(backend).await, &redis.url(), 3600)
        .await;
    let reader = setup
        .gateway_on(writer.database.shared(), &redis.url(), 3600)
        .await;
    common::redis::wait_until_tracked(&reader).await;
    for app in [&writer, &reader] {
        get(app, SLUGS, None, None).await;
        let kept = get(app, SLUGS, None, None).await;
        assert_eq!(kept.header("x-cache"), Some("HIT"));
        assert!(lists(&kept, "cartiflette"), "{}", kept.body);
    }
    (writer, reader)
}

/// Redis is down while one replica writes, and comes back with what it
/// held on disk, the generation from before the write included. The writer
/// remembered the bump Redis missed and makes it as soon as Redis answers
/// again, though it serves no request: the other replica stops serving the
/// answer it keeps in process (for an hour here, so that only the
/// generation can tell it of the write), and Redis's copy.
async fn a_write_redis_missed_reaches_the_other_replica_once_redis_is_back(backend: Backend) {
    let setup = Setup::new();
    let mut redis = common::redis::TestRedis::start();
    let (writer, reader) = replicas_keeping_the_list(&setup, &redis, backend).await;

    redis.snapshot();
    redis.stop();
    setup.make_cartiflette_agents_only(&writer).await;
    redis.resume();

    until_cartiflette_is_gone(&reader, "the other replica").await;
    let again = get(&reader, SLUGS, None, None).await;
    assert_eq!(again.header("x-cache"), Some("HIT"));
    assert!(!lists(&again, "cartiflette"), "{}", again.body);
}

/// Redis comes back with an older generation than the replicas saw
/// (restored from a snapshot taken before a write, or failed over to a
/// replica that lagged), holding an answer from before the write stamped
/// with it: the replicas that knew a newer generation move it past every
/// earlier one, and that answer is never served again.
async fn a_redis_back_with_an_older_generation_does_not_revive_older_answers(backend: Backend) {
    let setup = Setup::new();
    let mut redis = common::redis::TestRedis::start();
    let (writer, reader) = replicas_keeping_the_list(&setup, &redis, backend).await;
    redis.snapshot();
    setup.make_cartiflette_agents_only(&writer).await;
    until_cartiflette_is_gone(&reader, "the other replica").await;

    redis.stop();
    redis.resume();
    for app in [&reader, &writer] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let cached = loop {
            let answer = get(app, SLUGS, None, None).await;
            if answer.header("x-cache").is_some() {
                break answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the gateway never reconnected"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert!(!lists(&cached, "cartiflette"), "{}", cached.body);
        let again = get(app, SLUGS, None, None).await;
        assert_eq!(again.header("x-cache"), Some("HIT"));
        assert!(!lists(&again, "cartiflette"), "{}", again.body);
    }
}

on_both_backends!(
    a_write_through_one_gateway_is_seen_through_the_other_via_redis,
    a_write_redis_missed_reaches_the_other_replica_once_redis_is_back,
    a_redis_back_with_an_older_generation_does_not_revive_older_answers,
);

/// An answer kept in process is served for `CATALOGUE_CACHE_MEMORY_MAX_AGE_SECONDS`
/// at most: a change the generation never heard of (made in the database
/// directly here, its answer gone from Redis as an LRU Redis evicts it)
/// shows once the copy has aged out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_kept_in_process_age_out() {
    let redis = common::redis::TestRedis::start();
    let url = redis.url();
    let app = TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        move |config: &mut Config| {
            config.limits.rate_limit_per_minute = 0;
            config.cache.redis_url = Some(Secret::new(url));
            config.cache.cache_memory_max_age_seconds = 1;
            // The change below bypasses the journal: the read model would
            // never see it (decision 0031), and this is about the cache.
            config.execution.read_model = false;
        },
    )
    .await;
    let read = "{ project(slug: \"poufdoc\") { summary } }";
    get(&app, read, None, None).await;
    let kept = get(&app, read, None, None).await;
    assert_eq!(kept.header("x-cache"), Some("HIT"));

    let database = app.database.connect().await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &database,
        "UPDATE project SET summary = 'Changé sans que le cache le sache.' WHERE slug = 'poufdoc'",
    )
    .await
    .unwrap();
    let mut connection = redis_connection(&redis.url()).await;
    let answers: Vec<String> = redis::cmd("KEYS")
        .arg("*answer:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(answers.len(), 1);
    let _: u64 = redis::cmd("DEL")
        .arg(&answers)
        .query_async(&mut connection)
        .await
        .unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = get(&app, read, None, None).await;
        if answer.body["data"]["project"]["summary"] == "Changé sans que le cache le sache." {
            break;
        }
        assert_eq!(answer.header("x-cache"), Some("HIT"), "{}", answer.body);
        assert!(
            std::time::Instant::now() < deadline,
            "the copy kept in process never aged out"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A gateway whose cache is the Redis at `url` (rate limiting off: only
/// the answer cache talks to Redis).
async fn gateway_on_redis(url: String) -> TestApp {
    TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        move |config| {
            config.cache.redis_url = Some(Secret::new(url));
            config.limits.rate_limit_per_minute = 0;
        },
    )
    .await
}

async fn ready(app: &TestApp) -> Value {
    let response = reqwest::get(app.url("/health/ready")).await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "a failing cache leaves the gateway ready"
    );
    response.json().await.unwrap()
}

/// Redis stops mid-test: answers stay right (from the database), readiness
/// says the cache is degraded, and the gateway reconnects by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_is_not_an_outage() {
    let mut redis = common::redis::TestRedis::start();
    let app = gateway_on_redis(redis.url()).await;
    let first = get(&app, PROJECTS, None, None).await;
    assert_eq!(x_cache(&app).await.as_deref(), Some("HIT"));
    assert_eq!(ready(&app).await["cache"]["status"], "ok");

    redis.stop();
    // Answers kept in process may be served until the gateway has seen Redis go.
    let during = common::redis::once_invalidated(
        || get(&app, PROJECTS, None, None),
        |answer| answer.header("x-cache").is_none(),
    )
    .await;
    assert_eq!(during.status, 200);
    assert_eq!(during.body, first.body, "the database answers the same");
    assert_eq!(during.header("x-cache"), None);
    let health = ready(&app).await;
    assert_eq!(health["status"], "ready");
    assert_eq!(health["cache"]["kind"], "redis");
    assert_eq!(health["cache"]["status"], "degraded");

    redis.resume();
    // Back, the gateway stores answers again (MISS), then serves them (HIT)
    // once it has read the generation from Redis again: an answer stored
    // just before that is stored under the generation it had.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while x_cache(&app).await.as_deref() != Some("HIT") {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway never reconnected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready(&app).await["cache"]["status"], "ok");
}

/// What the `X-Cache` header of the answer to [`PROJECTS`] says.
async fn x_cache(app: &TestApp) -> Option<String> {
    get(app, PROJECTS, None, None)
        .await
        .header("x-cache")
        .map(str::to_owned)
}

async fn redis_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// What a write does to the cache: a new generation (default key prefix).
async fn bump_generation(connection: &mut redis::aio::MultiplexedConnection) {
    let _: u64 = redis::cmd("INCR")
        .arg("catalogue:generation")
        .query_async(connection)
        .await
        .unwrap();
}

/// The Redis commands run since the last reset, by name (`INFO commandstats`).
async fn redis_commands(url: &str) -> std::collections::BTreeMap<String, u64> {
    let mut connection = redis_connection(url).await;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| name != "info" && name != "config|resetstat")
        .collect()
}

/// The commands answers cost: [`redis_commands`] but for the tracking
/// connections' heartbeat (a `PING` a second each, so a few; one per request
/// would be more).
async fn answer_commands(url: &str) -> std::collections::BTreeMap<String, u64> {
    let mut commands = redis_commands(url).await;
    let pings = commands.remove("ping").unwrap_or(0);
    assert!(pings <= 4, "{pings} PINGs: more than the heartbeat");
    commands
}

/// Twenty hits on [`PROJECTS`], answering `body`, cost no Redis command,
/// once the gateway knows Redis tracks the generation for it (it learns it
/// a moment after Redis shows the tracking connection).
async fn hits_cost_no_redis_command(app: &TestApp, url: &str, body: &Value) {
    let mut connection = redis_connection(url).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        reset_command_stats(&mut connection).await;
        let hit = get(app, PROJECTS, None, None).await;
        assert_eq!(hit.header("x-cache"), Some("HIT"));
        if answer_commands(url).await.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "every hit asks Redis");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    reset_command_stats(&mut connection).await;
    for _ in 0..20 {
        let hit = get(app, PROJECTS, None, None).await;
        assert_eq!(hit.header("x-cache"), Some("HIT"));
        assert_eq!(&hit.body, body);
    }
    assert_eq!(answer_commands(url).await, [].into());
}

async fn reset_command_stats(connection: &mut redis::aio::MultiplexedConnection) {
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(connection)
        .await
        .unwrap();
}

/// A cached answer costs no Redis command while Redis tracks the generation
/// for the gateway, and the answer is kept in process (it computed or
/// fetched it); else one: an `MGET` of the generation and the answer. After
/// a new generation, the same key holds the new answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_answer_costs_no_redis_round_trip_while_redis_tracks_the_generation() {
    let redis = common::redis::TestRedis::start();
    let mut connection = redis_connection(&redis.url()).await;
    // Set before the gateway asks: it would set it, and Redis would then
    // announce that change too.
    bump_generation(&mut connection).await;
    let app = gateway_on_redis(redis.url()).await;
    common::redis::wait_until_tracked(&app).await;
    let miss = get(&app, PROJECTS, None, None).await;
    assert_eq!(miss.header("x-cache"), Some("MISS"));
    hits_cost_no_redis_command(&app, &redis.url(), &miss.body).await;
    // Another gateway on the same Redis has no near copy: an MGET, then nothing.
    let other = gateway_on_redis(redis.url()).await;
    common::redis::wait_until_tracked(&other).await;
    reset_command_stats(&mut connection).await;
    let from_redis = get(&other, PROJECTS, None, None).await;
    assert_eq!(from_redis.header("x-cache"), Some("HIT"));
    assert_eq!(from_redis.body, miss.body);
    assert_eq!(answer_commands(&redis.url()).await.get("mget"), Some(&1));
    hits_cost_no_redis_command(&other, &redis.url(), &miss.body).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*answer:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);

    // A new generation, set by anyone: the kept answers (near and in Redis)
    // are stale; the new one replaces them under the same key.
    bump_generation(&mut connection).await;
    let after =
        common::redis::once_invalidated(|| x_cache(&app), |cache| cache.as_deref() != Some("HIT"))
            .await;
    assert_eq!(after.as_deref(), Some("MISS"));
    assert_eq!(x_cache(&app).await.as_deref(), Some("HIT"));
    let keys_after: Vec<String> = redis::cmd("KEYS")
        .arg("*answer:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        keys_after, keys,
        "one key per question, whatever the generation"
    );
}

/// The connection on which Redis tracks the generation is cut, and the
/// generation moves before the gateway makes it again: the gateway does not
/// take the generation it knew for current; it reads it from Redis, one
/// `GET` per answer, until Redis tracks it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tracking_connection_does_not_hide_a_new_generation() {
    let redis = common::redis::TestRedis::start();
    let app = gateway_on_redis(redis.url()).await;
    common::redis::wait_until_tracked(&app).await;
    let miss = get(&app, PROJECTS, None, None).await;
    assert_eq!(miss.header("x-cache"), Some("MISS"));
    hits_cost_no_redis_command(&app, &redis.url(), &miss.body).await;
    let mut connection = redis_connection(&redis.url()).await;
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(common::redis::tracking_connection_ids(&redis.url()).await[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    // Once the gateway has seen it go (it makes it again a second later)…
    common::redis::wait_for_generation_source(&app, "read").await;
    bump_generation(&mut connection).await;
    assert_eq!(x_cache(&app).await.as_deref(), Some("MISS"));
    // Tracked again: hits cost nothing again.
    common::redis::wait_until_tracked(&app).await;
    hits_cost_no_redis_command(&app, &redis.url(), &miss.body).await;
}

/// Redis restarts empty after a write the gateway's near copy predates: the
/// generation starts again above every earlier one, so that copy is never
/// taken for current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_does_not_revive_answers_kept_in_process() {
    let mut redis = common::redis::TestRedis::start();
    let app = gateway_on_redis(redis.url()).await;
    assert_eq!(x_cache(&app).await.as_deref(), Some("MISS"));
    assert_eq!(x_cache(&app).await.as_deref(), Some("HIT"));
    // A write elsewhere moves the generation on; then Redis loses everything.
    let mut connection = redis_connection(&redis.url()).await;
    bump_generation(&mut connection).await;
    redis.stop();
    redis.resume();
    // Tracked again: the gateway has seen Redis go.
    common::redis::wait_until_tracked(&app).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let first_cached = loop {
        if let Some(cache) = get(&app, PROJECTS, None, None).await.header("x-cache") {
            break cache.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway never reconnected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        first_cached, "MISS",
        "the answer kept before the write is not served"
    );
}

/// A gateway starts while its Redis is down, and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_starts_while_redis_is_down() {
    let mut redis = common::redis::TestRedis::start();
    redis.stop();
    let app = gateway_on_redis(redis.url()).await;
    let answer = get(&app, PROJECTS, None, None).await;
    assert_eq!(answer.body["data"]["projects"]["totalCount"], 8);
    assert_eq!(ready(&app).await["cache"]["status"], "degraded");
}

/// With the response cache off, every request reaches the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_cache_can_be_turned_off() {
    let app = TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        |config| config.cache.cache_answers = false,
    )
    .await;
    get(&app, PROJECTS, None, None).await;
    let before = app.statements_executed().await;
    let again = get(&app, PROJECTS, None, None).await;
    assert_eq!(again.header("x-cache"), None);
    assert!(app.statements_executed().await > before);
}
