//! Harvesting the projects' code, data and packages from their upstream
//! services (a fixture server in their place): fields land in the database
//! and in GraphQL, 304 keeps data, faults keep the last good data, rate
//! limits are obeyed, one harvester runs at a time.

mod common;

use catalogue_gateway::auth::DevKey;
use common::upstream::{Fault, TestUpstream};
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::{Value, json};

const POUFDOC: &str = "{ project(slug: \"poufdoc\") {
    repositories { url language license topics stars forks openIssues defaultBranch archived
                   lastActivityAt upstreamDescription latestRelease { tag publishedAt }
                   harvest { status at message changedAt } }
    datasets { publisher license updatedAt harvest { status at message }
               resources { title format url sizeBytes updatedAt } } } }";

const CARTIFLETTE_PACKAGE: &str = "{ project(slug: \"cartiflette\") {
    links { url package { name version releasedAt summary } harvest { status } } } }";

const REFRESH: &str = "mutation($slug: String!) { refreshProject(slug: $slug) {
    changed links { url status message } } }";

struct Setup {
    app: TestApp,
    upstream: TestUpstream,
    admin: String,
    _key_dir: tempfile::TempDir,
}

async fn setup(backend: Backend) -> Setup {
    setup_with(backend, false).await
}

/// The gateway on its own database, its upstream services the fixture
/// server; `cache_answers` as given.
async fn setup_with(backend: Backend, cache_answers: bool) -> Setup {
    let upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev.pem");
    let admin = DevKey::load_or_create(&key_file)
        .unwrap()
        .mint("admin@numerique.gouv.fr", true, 30)
        .unwrap();
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue_dir()),
        |config| {
            config.dev_auth = true;
            config.dev_key_file = key_file;
            config.cache_answers = cache_answers;
            upstream.configure(config);
        },
    )
    .await;
    Setup {
        app,
        upstream,
        admin,
        _key_dir: dir,
    }
}

impl Setup {
    async fn refresh(&self, slug: &str) -> Value {
        let (status, _, answer) = self
            .app
            .query_as(&self.admin, REFRESH, json!({ "slug": slug }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{answer}");
        answer["data"]["refreshProject"].clone()
    }

    async fn poufdoc(&self) -> Value {
        self.app.data(POUFDOC, json!({})).await["project"].clone()
    }

    fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        common::run_cli_with(&self.app.database.url, &args, &self.upstream.environment())
    }
}

async fn harvested_fields_land_in_the_database_and_graphql(backend: Backend) {
    let setup = setup(backend).await;
    let before = setup.poufdoc().await;
    assert_eq!(before["repositories"][0]["harvest"], Value::Null);
    assert_eq!(before["repositories"][0]["stars"], Value::Null);

    let (ok, stdout, stderr) = setup.cli(&["harvest"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("harvested"), "{stdout}");

    let poufdoc = setup.poufdoc().await;
    let repository = &poufdoc["repositories"][0];
    assert_eq!(repository["stars"], 42, "{poufdoc:#}");
    assert_eq!(repository["forks"], 7);
    assert_eq!(repository["openIssues"], 3);
    assert_eq!(repository["topics"], json!(["cartographie", "open-data"]));
    assert_eq!(repository["defaultBranch"], "main");
    assert_eq!(repository["archived"], false);
    assert_eq!(repository["lastActivityAt"], "2026-10-15T09:30:00+00:00");
    assert_eq!(
        repository["upstreamDescription"],
        "Fixture repository description"
    );
    assert_eq!(repository["latestRelease"]["tag"], "v1.2.3");
    assert_eq!(repository["harvest"]["status"], "OK");
    let dataset = &poufdoc["datasets"][0];
    assert_eq!(dataset["publisher"], "Fixture organization");
    assert_eq!(dataset["license"], "lov2");
    assert_eq!(dataset["harvest"]["status"], "OK");
    assert_eq!(dataset["resources"][0]["title"], "offres.csv");
    assert_eq!(dataset["resources"][0]["format"], "csv");
    assert_eq!(dataset["resources"][0]["sizeBytes"], 2048000);
    assert_eq!(dataset["resources"][1]["sizeBytes"], Value::Null);
    assert_eq!(
        dataset["resources"][1]["updatedAt"],
        "2025-01-15T12:00:00+00:00"
    );

    let cartiflette = setup.app.data(CARTIFLETTE_PACKAGE, json!({})).await;
    let package = cartiflette["project"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["url"].as_str().unwrap().contains("pypi.org"))
        .expect("the PyPI link")
        .clone();
    assert_eq!(package["package"]["version"], "0.9.1");
    assert_eq!(
        package["package"]["releasedAt"],
        "2026-09-20T14:00:00+00:00"
    );
    assert_eq!(package["harvest"]["status"], "OK");

    // The main repository's publiccode.yml: contacts for agents only.
    let publiccode = "{ project(slug: \"poufdoc\") { license publiccode { name shortDescription
        longDescription license developmentStatus maintenanceType categories contacts { name email } } } }";
    let anonymous = setup.app.data(publiccode, json!({})).await["project"].clone();
    assert_eq!(anonymous["license"], "EUPL-1.2", "{anonymous}");
    assert_eq!(
        anonymous["publiccode"]["shortDescription"],
        "Description courte de test"
    );
    assert_eq!(anonymous["publiccode"]["developmentStatus"], "beta");
    assert_eq!(anonymous["publiccode"]["maintenanceType"], "internal");
    assert_eq!(
        anonymous["publiccode"]["categories"],
        json!(["data-visualization", "data-analytics"])
    );
    assert_eq!(anonymous["publiccode"]["contacts"], Value::Null);
    let (_, _, agent) = setup
        .app
        .query_as(&setup.admin, publiccode, json!({}))
        .await;
    assert_eq!(
        agent["data"]["project"]["publiccode"]["contacts"],
        json!([{ "name": "Fixture team", "email": "fixture@example.org" }])
    );

    // The requests the harvest made: the real APIs' paths.
    let requests = setup.upstream.requests();
    for path in [
        "/repos/cdugeai/poufdoc",
        "/repos/cdugeai/poufdoc/releases/latest",
        "/repos/cdugeai/poufdoc/contents/publiccode.yml",
        "/api/1/datasets/les-offres-diffusees-sur-la-place-de-lemploi-public/",
        "/pypi/cartiflette/json",
    ] {
        assert!(requests.iter().any(|r| r == path), "{path} in {requests:?}");
    }
}

async fn not_modified_keeps_data_and_moves_harvested_at(backend: Backend) {
    let setup = setup(backend).await;
    let first = setup.refresh("poufdoc").await;
    assert!(first["changed"].as_i64().unwrap() >= 1, "{first}");
    let before = setup.poufdoc().await;

    let second = setup.refresh("poufdoc").await;
    assert_eq!(second["changed"], 0, "{second}");
    let statuses: Vec<&str> = second["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["NOT_MODIFIED", "NOT_MODIFIED"], "{second}");
    let after = setup.poufdoc().await;
    let repository = &after["repositories"][0];
    assert_eq!(repository["stars"], 42);
    assert_eq!(repository["harvest"]["status"], "NOT_MODIFIED");
    assert!(
        repository["harvest"]["at"].as_str() > before["repositories"][0]["harvest"]["at"].as_str(),
        "harvestedAt moves: {after:#}"
    );
    assert_eq!(
        repository["harvest"]["changedAt"],
        before["repositories"][0]["harvest"]["changedAt"]
    );
}

async fn faults_record_errors_and_keep_the_last_good_data(backend: Backend) {
    let setup = setup(backend).await;
    setup.refresh("poufdoc").await;
    for (fault, status, says) in [
        (Fault::ServerError, "ERROR", "HTTP 500"),
        (Fault::Hang, "ERROR", "timed out"),
        (Fault::Malformed, "ERROR", "malformed"),
        (Fault::RateLimited(3600), "ERROR", "rate limited"),
        (Fault::NotFound, "NOT_FOUND", "no such item"),
    ] {
        setup.upstream.fail(fault, None);
        let refreshed = setup.refresh("poufdoc").await;
        setup.upstream.heal();
        for link in refreshed["links"].as_array().unwrap() {
            assert_eq!(link["status"], status, "{fault:?}: {refreshed}");
            assert!(
                link["message"].as_str().unwrap().contains(says),
                "{fault:?}: {refreshed}"
            );
        }
        let poufdoc = setup.poufdoc().await;
        assert_eq!(
            poufdoc["repositories"][0]["stars"], 42,
            "{fault:?} keeps the data"
        );
        assert_eq!(
            poufdoc["datasets"][0]["resources"][0]["title"],
            "offres.csv"
        );
        assert_eq!(poufdoc["repositories"][0]["harvest"]["status"], status);
    }
}

async fn rate_limit_headers_are_obeyed_by_waiting(backend: Backend) {
    let setup = setup(backend).await;
    // The first answer says: nothing left until the window resets in 1 s.
    setup.upstream.fail(Fault::RateLimited(1), Some(1));
    let refreshed = setup.refresh("transformers").await;
    assert_eq!(refreshed["links"][0]["status"], "OK", "{refreshed}");
    let repository_requests = setup
        .upstream
        .requests()
        .iter()
        .filter(|path| *path == "/repos/pedevineau/llm-experiment")
        .count();
    assert_eq!(repository_requests, 2, "asked again after the reset");
}

/// Two harvest processes at once: one runs, the other says it skipped.
async fn one_harvester_at_a_time(backend: Backend) {
    let setup = setup(backend).await;
    setup.upstream.hold();
    let args: Vec<std::ffi::OsString> = vec!["harvest".into()];
    let url = setup.app.database.url.clone();
    let environment = setup.upstream.environment();
    let first = std::thread::spawn(move || {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        common::run_cli_with(&url, &args, &environment)
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while setup.upstream.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first harvest never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (ok, stdout, stderr) = setup.cli(&["harvest"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("another harvester is running; skipped"),
        "{stdout}"
    );
    setup.upstream.open();
    let (ok, stdout, stderr) = first.join().unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("harvested"), "{stdout}");
    // Each host saw at most the configured number of requests at once.
    assert!(
        setup.upstream.most_in_flight() <= 4,
        "{}",
        setup.upstream.most_in_flight()
    );
}

/// A repository on gitlab.com is read from GitLab's API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_repositories_are_harvested_from_gitlab() {
    let setup = setup(Backend::Sqlite).await;
    let (status, _, added) = setup
        .app
        .query_as(
            &setup.admin,
            "mutation { addRepository(input: {projectSlug: \"chartsgouv\", url: \"https://gitlab.com/test-group/test-project\", role: COMPANION}) { repository { forge } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (
            status,
            &added["data"]["addRepository"]["repository"]["forge"]
        ),
        (200, &json!("GITLAB")),
        "{added}"
    );
    setup.refresh("chartsgouv").await;
    let answer = setup
        .app
        .data(
            "{ project(slug: \"chartsgouv\") { repositories { url stars license topics lastActivityAt latestRelease { tag } harvest { status } } } }",
            json!({}),
        )
        .await;
    let gitlab = answer["project"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["url"]
                .as_str()
                .unwrap()
                .starts_with("https://gitlab.com/")
        })
        .unwrap()
        .clone();
    assert_eq!(gitlab["harvest"]["status"], "OK", "{gitlab}");
    assert_eq!(gitlab["stars"], 11);
    assert_eq!(gitlab["license"], "eupl-1.2");
    assert_eq!(gitlab["topics"], json!(["dataviz"]));
    assert_eq!(gitlab["latestRelease"]["tag"], "0.4.0");
    assert!(
        setup
            .upstream
            .requests()
            .iter()
            .any(|path| path == "/api/v4/projects/test-group%2Ftest-project"),
        "{:?}",
        setup.upstream.requests()
    );
}

/// A harvest that changes facts moves the cache generation shared through
/// Redis: answers the gateway cached before are not served again, though the
/// harvest ran in another process (the command line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_that_changes_facts_is_not_hidden_by_the_cache() {
    use common::http_answer::get;
    let upstream = TestUpstream::start().await;
    let prefix = format!(
        "catalogue-test:harvest:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    let redis = "redis://127.0.0.1:6379";
    let app = TestApp::spawn_configured(
        TestDatabase::create(Backend::Sqlite).await,
        Some(catalogue_dir()),
        |config| {
            config.redis_url = Some(catalogue_gateway::config::Secret::new(redis));
            config.redis_prefix = prefix.clone();
        },
    )
    .await;
    common::redis::wait_until_tracked(&app).await;
    let stars = "{ project(slug: \"poufdoc\") { repositories { stars } } }";
    get(&app, stars, None, None).await;
    let cached = get(&app, stars, None, None).await;
    assert_eq!(cached.header("x-cache"), Some("HIT"));
    assert_eq!(
        cached.body["data"]["project"]["repositories"][0]["stars"],
        Value::Null
    );

    let mut environment = upstream.environment();
    environment.push(("CATALOGUE_REDIS_URL".into(), redis.into()));
    environment.push(("CATALOGUE_REDIS_PREFIX".into(), prefix.clone()));
    let (ok, stdout, stderr) =
        common::run_cli_with(&app.database.url, &["harvest".as_ref()], &environment);
    assert!(ok, "{stdout}{stderr}");

    let fresh = common::redis::once_invalidated(
        || get(&app, stars, None, None),
        |answer| answer.body["data"]["project"]["repositories"][0]["stars"] == 42,
    )
    .await;
    assert_eq!(fresh.header("x-cache"), Some("MISS"));
    assert_eq!(
        fresh.body["data"]["project"]["repositories"][0]["stars"],
        42
    );
}

/// Refreshing is for the project's maintainers and administrators.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_is_refused_to_anonymous_callers() {
    let setup = setup(Backend::Sqlite).await;
    let answer = setup.app.query(REFRESH, json!({ "slug": "poufdoc" })).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{answer}"
    );
    assert!(setup.upstream.requests().is_empty());
}

on_both_backends!(
    harvested_fields_land_in_the_database_and_graphql,
    not_modified_keeps_data_and_moves_harvested_at,
    faults_record_errors_and_keep_the_last_good_data,
    rate_limit_headers_are_obeyed_by_waiting,
    one_harvester_at_a_time,
);
