//! Harvesting the projects' code, data and packages from their upstream
//! services (a fixture server in their place): fields land in the database
//! and in GraphQL, 304 keeps data, faults keep the last good data, rate
//! limits are obeyed, one harvester runs at a time.

use crate::common;

use catalogue_gateway::auth::DevKey;
use catalogue_gateway::config::Secret;
use common::upstream::{Behaviour, Fault, Listener, TestUpstream};
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

/// What a link says when nothing usable came back, whatever the cause.
const COULD_NOT_BE_FETCHED: &str = "could not be fetched (the gateway's log has the details)";

const REFRESH: &str = "mutation($slug: String!) { refreshProject(slug: $slug) {
    changed links { url status message } } }";

struct Setup {
    app: TestApp,
    upstream: TestUpstream,
    admin: String,
    _key_dir: tempfile::TempDir,
}

async fn setup(backend: Backend) -> Setup {
    setup_configured(backend, |_, _| {}).await
}

/// The gateway on its own database, answers not cached, its upstream
/// services the fixture server, then `configure` applied.
async fn setup_configured(
    backend: Backend,
    configure: impl FnOnce(&mut catalogue_gateway::Config, &TestUpstream),
) -> Setup {
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
            config.auth.dev_auth = true;
            config.auth.dev_key_file = key_file;
            config.cache.cache_answers = false;
            upstream.configure(config);
            configure(config, &upstream);
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

    /// Adds a repository at `url` to project `slug` as an administrator;
    /// returns its forge.
    async fn add_repository(&self, slug: &str, url: &str) -> Value {
        let (status, _, added) = self
            .app
            .query_as(
                &self.admin,
                "mutation($slug: String!, $url: String!) { addRepository(input: {projectSlug: $slug, url: $url, role: COMPANION}) { repository { forge } } }",
                json!({ "slug": slug, "url": url }),
            )
            .await;
        assert_eq!(status, 200, "{added}");
        assert!(added.get("errors").is_none(), "{added}");
        added["data"]["addRepository"]["repository"]["forge"].clone()
    }

    /// The repository of project `slug` at `url`, with its harvest.
    async fn repository(&self, slug: &str, url: &str) -> Value {
        let answer = self
            .app
            .data(
                "query($slug: String!) { project(slug: $slug) { repositories { url stars upstreamDescription harvest { status message } } } }",
                json!({ "slug": slug }),
            )
            .await;
        answer["project"]["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["url"] == url)
            .unwrap_or_else(|| panic!("no repository {url} in {answer}"))
            .clone()
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
    // The repository, the dataset and the dataset's reuses.
    assert_eq!(
        statuses,
        ["NOT_MODIFIED", "NOT_MODIFIED", "NOT_MODIFIED"],
        "{second}"
    );
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
    // What failed is logged; the link says only that it could not be fetched.
    for (fault, status, says) in [
        (Fault::ServerError, "ERROR", COULD_NOT_BE_FETCHED),
        (Fault::Hang, "ERROR", COULD_NOT_BE_FETCHED),
        (Fault::Malformed, "ERROR", COULD_NOT_BE_FETCHED),
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
            config.cache.redis_url = Some(catalogue_gateway::config::Secret::new(redis));
            config.cache.redis_prefix = prefix.clone();
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

/// A repository on a host that merely starts with `gitlab.` is not asked
/// (it could name anything, the network inside included); one on a GitLab
/// instance the administrators named is, and loses its facts once the
/// instance is no longer named.
async fn only_named_gitlab_instances_are_asked(backend: Backend) {
    // The host stands for an internal service. No test can make a name
    // resolve to it, so the harvest runs with a proxy pointing at it: a
    // client that fetched the link would reach it. (The harvester ignores
    // proxies, so that its address checks see where it connects; the link's
    // status says why it was not fetched.)
    let internal = Listener::start(Behaviour::NotFound).await;
    let instance = TestUpstream::start().await;
    let named = instance.url.clone();
    let setup = setup_configured(backend, |config, _| {
        config.harvest.gitlab_instances = vec![named];
    })
    .await;
    let prefixed = format!(
        "http://gitlab.internal.test:{}/internal/admin-api",
        internal.port()
    );
    let on_instance = format!("{}/test-group/test-project", instance.url);
    assert_eq!(
        setup.add_repository("chartsgouv", &prefixed).await,
        "GITLAB"
    );
    let instance_forge = setup.add_repository("chartsgouv", &on_instance).await;

    let mut environment = setup.upstream.environment();
    environment.push(("CATALOGUE_GITLAB_INSTANCES".into(), instance.url.clone()));
    environment.push(("HTTP_PROXY".into(), internal.url.clone()));
    environment.push(("http_proxy".into(), internal.url.clone()));
    // The configured services are reached directly by any client.
    environment.push(("NO_PROXY".into(), "127.0.0.1,localhost".into()));
    environment.push(("no_proxy".into(), "127.0.0.1,localhost".into()));
    let (ok, stdout, stderr) =
        common::run_cli_with(&setup.app.database.url, &["harvest".as_ref()], &environment);
    assert!(ok, "{stdout}{stderr}");

    assert_eq!(internal.accepted(), 0, "{:?}", internal.requests());
    assert_eq!(
        instance_forge, "GITLAB",
        "a named instance's repository is a GitLab one"
    );
    let refused = setup.repository("chartsgouv", &prefixed).await;
    assert_eq!(refused["harvest"]["status"], "NOT_ALLOWED", "{refused}");
    assert_eq!(
        refused["harvest"]["message"],
        "not allowed: `gitlab.internal.test` is not a GitLab instance the administrators named (CATALOGUE_GITLAB_INSTANCES)"
    );
    let harvested = setup.repository("chartsgouv", &on_instance).await;
    assert_eq!(harvested["harvest"]["status"], "OK", "{harvested}");
    assert_eq!(harvested["stars"], 11);
    assert!(
        instance
            .requests()
            .iter()
            .any(|path| path == "/api/v4/projects/test-group%2Ftest-project"),
        "{:?}",
        instance.requests()
    );

    // The instance is no longer named: what was read from it is not served.
    let (ok, stdout, stderr) = common::run_cli_with(
        &setup.app.database.url,
        &["harvest".as_ref()],
        &setup.upstream.environment(),
    );
    assert!(ok, "{stdout}{stderr}");
    let dropped = setup.repository("chartsgouv", &on_instance).await;
    assert_eq!(dropped["harvest"]["status"], "NOT_ALLOWED", "{dropped}");
    assert_eq!(dropped["stars"], Value::Null);
    assert_eq!(dropped["upstreamDescription"], Value::Null);
}

const POUFDOC_USES: &str = "{ project(slug: \"poufdoc\") {
    usedByCount { total user }
    uses { organizationName source sourceUrl organization { slug } } } }";

/// Poufdoc's uses by source: how many, and the distinct organization names.
async fn poufdoc_uses(setup: &Setup) -> (Value, Vec<(String, usize)>) {
    let project = setup.app.data(POUFDOC_USES, json!({})).await["project"].clone();
    let mut by_source: std::collections::BTreeMap<String, usize> = Default::default();
    for used in project["uses"].as_array().unwrap() {
        *by_source
            .entry(used["source"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    (project, by_source.into_iter().collect())
}

fn reuse_requests(setup: &Setup) -> usize {
    setup
        .upstream
        .requests()
        .iter()
        .filter(|path| *path == "/api/1/reuses/")
        .count()
}

/// data.gouv.fr's reuses of poufdoc's dataset (three pages, read by the id
/// the dataset's answer gives) and its repository's `usedBy` become uses:
/// reuses by people are left out, INSEE is matched by name, an organization
/// the catalogue does not have keeps its name. The next harvest's 304 on
/// the first page keeps them; a failing page records an error and keeps
/// the last good ones.
async fn datagouv_reuses_and_used_by_become_uses(backend: Backend) {
    use common::upstream::{REUSES, REUSING_CATALOGUE_ORGANIZATION, REUSING_OTHER_ORGANIZATION};
    let setup = setup(backend).await;
    // A failing second page: an error like any link's, and no uses from it.
    setup.upstream.fail_reuse_page(Some(2));
    let refreshed = setup.refresh("poufdoc").await;
    let dataset_url =
        "https://www.data.gouv.fr/fr/datasets/les-offres-diffusees-sur-la-place-de-lemploi-public/";
    let dataset_outcomes: Vec<_> = outcomes(&refreshed)
        .into_iter()
        .filter(|(url, _, _)| *url == dataset_url)
        .map(|(_, status, message)| (status, message))
        .collect();
    assert_eq!(
        dataset_outcomes,
        [
            ("OK".to_owned(), String::new()),
            ("ERROR".to_owned(), COULD_NOT_BE_FETCHED.to_owned())
        ],
        "{refreshed}"
    );
    let (_, by_source) = poufdoc_uses(&setup).await;
    assert_eq!(by_source, [("PUBLICCODE".to_owned(), 2)]);

    setup.upstream.fail_reuse_page(None);
    let asked = reuse_requests(&setup);
    setup.refresh("poufdoc").await;
    assert_eq!(reuse_requests(&setup) - asked, 3, "three pages of 20");
    let (project, by_source) = poufdoc_uses(&setup).await;
    let by_organizations = (1..=REUSES).filter(|n| n % 3 != 0).count();
    assert_eq!(
        by_source,
        [
            ("DATAGOUV_REUSE".to_owned(), by_organizations),
            ("PUBLICCODE".to_owned(), 2)
        ]
    );
    // INSEE and Ville de Rennes reuse the data; DINUM and Commune de Test
    // are in the `usedBy` of the publiccode.yml.
    assert_eq!(project["usedByCount"], json!({"total": 4, "user": 4}));
    let uses = project["uses"].as_array().unwrap();
    let insee = uses
        .iter()
        .find(|u| u["organization"]["slug"] == "insee")
        .unwrap();
    assert_eq!(insee["organizationName"], REUSING_CATALOGUE_ORGANIZATION);
    assert!(
        insee["sourceUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://www.data.gouv.fr/fr/reuses/")
    );
    assert!(uses.iter().any(
        |u| u["organizationName"] == REUSING_OTHER_ORGANIZATION && u["organization"].is_null()
    ));
    assert!(
        uses.iter()
            .any(|u| u["organizationName"] == "Commune de Test" && u["organization"].is_null())
    );
    assert!(
        uses.iter()
            .any(|u| u["source"] == "PUBLICCODE" && u["organization"]["slug"] == "dinum")
    );
    assert!(
        !project.to_string().contains("Camille"),
        "no person's reuse"
    );
    let listed = setup
        .app
        .data(
            "{ projects(filter: {usedBy: {organization: \"insee\"}}) { nodes { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["projects"]["nodes"], json!([{"slug": "poufdoc"}]));

    // Nothing changed upstream: one conditional request, answered 304.
    let asked = reuse_requests(&setup);
    let again = setup.refresh("poufdoc").await;
    assert_eq!(reuse_requests(&setup) - asked, 1);
    let statuses: Vec<String> = outcomes(&again)
        .into_iter()
        .filter(|(url, _, _)| *url == dataset_url)
        .map(|(_, status, _)| status)
        .collect();
    assert_eq!(statuses, ["NOT_MODIFIED", "NOT_MODIFIED"]);
    assert_eq!(poufdoc_uses(&setup).await.0, project);
}

/// Each link's status and message in a `refreshProject` answer.
fn outcomes(refreshed: &Value) -> Vec<(String, String, String)> {
    refreshed["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| {
            (
                link["url"].as_str().unwrap().to_owned(),
                link["status"].as_str().unwrap().to_owned(),
                link["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A configured service answering a redirect to a listener that is not a
/// configured origin: in plain HTTP, to an address on loopback, or to a name
/// that resolves to loopback (refused when connecting), the redirect is not
/// followed and the listener sees no connection. A redirect within the
/// service's own origin is followed.
async fn redirects_outside_the_configured_origins_reach_nothing(backend: Backend) {
    let target = Listener::start(Behaviour::NotFound).await;
    // PyPI's URL makes `localhost` a configured host, so a redirect to
    // another port of it passes the host check and meets the address check.
    let setup = setup_configured(backend, |config, upstream| {
        config.harvest.pypi_url = format!("http://localhost:{}", upstream.port());
    })
    .await;

    setup.upstream.redirect(&setup.upstream.url, Some(1));
    let followed = setup.refresh("poufdoc").await;
    assert!(
        outcomes(&followed)
            .iter()
            .all(|(_, status, _)| status == "OK"),
        "{followed}"
    );

    for (location, says) in [
        (
            target.url.clone(),
            "not allowed: the upstream service redirected to a URL the harvest may not fetch",
        ),
        (
            format!("https://127.0.0.1:{}", target.port()),
            COULD_NOT_BE_FETCHED,
        ),
        (
            format!("https://localhost:{}", target.port()),
            COULD_NOT_BE_FETCHED,
        ),
    ] {
        setup.upstream.redirect(&location, None);
        let refreshed = setup.refresh("poufdoc").await;
        setup.upstream.heal();
        assert_eq!(target.accepted(), 0, "{location}: {:?}", target.requests());
        for (url, status, message) in outcomes(&refreshed) {
            assert_eq!(
                (status.as_str(), message.as_str()),
                ("ERROR", says),
                "{location}: {url}"
            );
        }
    }
    // The last good facts stay.
    assert_eq!(setup.poufdoc().await["repositories"][0]["stars"], 42);
}

/// A redirect to another origin, allowed (a named GitLab instance), carries
/// neither GitLab's `PRIVATE-TOKEN` nor GitHub's `Authorization`: each goes
/// to the service it was configured for only.
async fn tokens_are_not_sent_along_a_redirect_to_another_host(backend: Backend) {
    let elsewhere = Listener::start(Behaviour::NotFound).await;
    let named = elsewhere.url.clone();
    let setup = setup_configured(backend, |config, _| {
        config.harvest.github_token = Some(Secret::new("github-token-value"));
        config.harvest.gitlab_token = Some(Secret::new("gitlab-token-value"));
        config.harvest.gitlab_instances = vec![named];
    })
    .await;
    setup
        .add_repository("chartsgouv", "https://gitlab.com/test-group/test-project")
        .await;
    setup.upstream.redirect(&elsewhere.url, None);
    setup.refresh("chartsgouv").await;

    // The configured services were sent their tokens…
    let sent = setup.upstream.request_headers();
    let header = |path: &str, name: &str| {
        sent.iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, headers)| headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header(
            "/api/v4/projects/test-group%2Ftest-project",
            "private-token"
        )
        .as_deref(),
        Some("gitlab-token-value"),
        "{sent:?}"
    );
    assert_eq!(
        header("/repos/etalab-ia/chartsgouv", "authorization").as_deref(),
        Some("Bearer github-token-value")
    );
    // …and the host they redirected to saw the same requests without them.
    let requests = elsewhere.requests();
    for path in [
        "GET /api/v4/projects/test-group%2Ftest-project?license=true ",
        "GET /repos/etalab-ia/chartsgouv ",
    ] {
        assert!(
            requests.iter().any(|r| r.starts_with(path)),
            "{path} in {requests:?}"
        );
    }
    for request in &requests {
        let lowercase = request.to_lowercase();
        assert!(
            !lowercase.contains("private-token")
                && !lowercase.contains("authorization")
                && !lowercase.contains("token-value"),
            "{request}"
        );
    }
}

/// An answer over the cap, streamed without a length or with one declared,
/// fails its own link with an error naming the cap, and the gateway stops
/// reading it (the server cannot send it all); the other links are harvested.
async fn answers_over_the_cap_stop_at_the_cap_and_fail_only_their_link(backend: Backend) {
    const CAP: u64 = 64 * 1024;
    const SENT: u64 = 32 * 1024 * 1024;
    let chunked = Listener::start(Behaviour::Stream {
        bytes: SENT,
        declared: false,
    })
    .await;
    let declared = Listener::start(Behaviour::Stream {
        bytes: SENT,
        declared: true,
    })
    .await;
    let (github, datagouv) = (chunked.url.clone(), declared.url.clone());
    let setup = setup_configured(backend, |config, _| {
        config.harvest.github_api_url = github;
        config.harvest.datagouv_api_url = datagouv;
        config.harvest.harvest_max_body_bytes = CAP;
        // Long enough that only the cap can stop a read.
        config.harvest.harvest_timeout_seconds = 120;
    })
    .await;
    setup
        .add_repository("poufdoc", "https://gitlab.com/test-group/test-project")
        .await;
    let refreshed = setup.refresh("poufdoc").await;

    let over = "the answer is larger than the harvest's limit of 65536 bytes (CATALOGUE_HARVEST_MAX_BODY_BYTES)";
    for (url, status, message) in outcomes(&refreshed) {
        let expected = if url.starts_with("https://gitlab.com/") {
            ("OK", "")
        } else {
            ("ERROR", over)
        };
        assert_eq!(
            (status.as_str(), message.as_str()),
            expected,
            "{url}: {refreshed}"
        );
    }
    for listener in [&chunked, &declared] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while listener.streamed().len() < listener.accepted() {
            assert!(
                std::time::Instant::now() < deadline,
                "the answer never ended"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let streamed = listener.streamed();
        assert_eq!(streamed.len(), 1, "{streamed:?}");
        assert!(
            !streamed[0].complete,
            "the gateway read it all: {streamed:?}"
        );
    }
}

/// Maintainers are told that a link could not be fetched, never why: a
/// closed port, a port answering something that is not HTTP, a web page
/// where an API was expected, and a name resolving to a refused address
/// read the same.
async fn unreachable_and_unexpected_answers_read_the_same(backend: Backend) {
    let closed = Listener::closed_port();
    let not_http = Listener::start(Behaviour::NotHttp).await;
    let web_page = Listener::start(Behaviour::Html).await;
    let (github, datagouv, gitlab) = (
        closed.clone(),
        not_http.url.clone(),
        format!("{}/api/v4", web_page.url),
    );
    let setup = setup_configured(backend, |config, upstream| {
        config.harvest.github_api_url = github;
        config.harvest.datagouv_api_url = datagouv;
        config.harvest.gitlab_api_url = gitlab;
        config.harvest.pypi_url = format!("http://localhost:{}", upstream.port());
    })
    .await;
    setup
        .add_repository("cartiflette", "https://gitlab.com/test-group/test-project")
        .await;
    setup.upstream.redirect(
        &format!("https://localhost:{}", setup.upstream.port()),
        None,
    );
    let mut links = outcomes(&setup.refresh("cartiflette").await);
    links.extend(outcomes(&setup.refresh("poufdoc").await));

    // Each cause is there: the closed port (GitHub), the web page (GitLab),
    // the refused address (PyPI) and the answer that is not HTTP (data.gouv.fr).
    for host in ["github.com", "gitlab.com", "pypi.org", "data.gouv.fr"] {
        assert!(
            links.iter().any(|(url, _, _)| url.contains(host)),
            "{host} in {links:?}"
        );
    }
    assert!(web_page.accepted() >= 1 && not_http.accepted() >= 1);
    let mut messages: Vec<&str> = links.iter().map(|(_, _, m)| m.as_str()).collect();
    messages.sort_unstable();
    messages.dedup();
    assert_eq!(messages.len(), 1, "{links:#?}");
    for (url, status, message) in &links {
        assert_eq!(
            (status.as_str(), message.as_str()),
            ("ERROR", COULD_NOT_BE_FETCHED),
            "{url}"
        );
    }
}

on_both_backends!(
    harvested_fields_land_in_the_database_and_graphql,
    not_modified_keeps_data_and_moves_harvested_at,
    faults_record_errors_and_keep_the_last_good_data,
    rate_limit_headers_are_obeyed_by_waiting,
    one_harvester_at_a_time,
    only_named_gitlab_instances_are_asked,
    redirects_outside_the_configured_origins_reach_nothing,
    tokens_are_not_sent_along_a_redirect_to_another_host,
    answers_over_the_cap_stop_at_the_cap_and_fail_only_their_link,
    unreachable_and_unexpected_answers_read_the_same,
    datagouv_reuses_and_used_by_become_uses,
);
