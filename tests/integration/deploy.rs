//! What operators run: the Kubernetes manifests (rendered by kustomize and
//! checked against the Kubernetes schemas by kubernetes-validate, offline),
//! the compose file (parsed by the compose-spec types), the Dockerfile, the
//! `healthcheck` command, migrations as a separate step, request ids.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{Backend, TestApp, TestDatabase, venv_tool};
use serde_yaml_ng::Value;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The manifests kustomize renders from `dir`, checked against the schemas.
fn rendered(dir: &str) -> Vec<Value> {
    let output = Command::new(venv_tool("kubectl"))
        .args(["kustomize", &repository().join(dir).display().to_string()])
        .output()
        .expect("kubectl kustomize");
    assert!(
        output.status.success(),
        "kustomize {dir}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &output.stdout).unwrap();
    let validation = Command::new(venv_tool("kubernetes-validate"))
        .args(["--strict", "--quiet"])
        .arg(file.path())
        .output()
        .expect("kubernetes-validate");
    assert!(
        validation.status.success(),
        "{dir} does not validate:\n{}{}",
        String::from_utf8_lossy(&validation.stdout),
        String::from_utf8_lossy(&validation.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| serde::Deserialize::deserialize(document).unwrap())
        .collect()
}

fn find<'a>(manifests: &'a [Value], kind: &str) -> &'a Value {
    manifests
        .iter()
        .find(|m| m["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn kubernetes_manifests_render_and_validate_offline() {
    let base = rendered("deploy/kubernetes/base");
    let overlay = rendered("deploy/kubernetes/overlays/example");
    for kind in [
        "ConfigMap",
        "Deployment",
        "Service",
        "Ingress",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
    ] {
        find(&base, kind);
        find(&overlay, kind);
    }

    let deployment = find(&overlay, "Deployment");
    assert_eq!(deployment["metadata"]["namespace"], "catalogue");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        "/health/ready"
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        "/health/live"
    );
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["image"],
        "registry.example.gouv.fr/catalogue/catalogue-gateway:0.1.0"
    );
    // Configuration and secrets by reference; the generated secret's name is followed.
    let sources = container["envFrom"].as_sequence().unwrap();
    let secret = find(&overlay, "Secret")["metadata"]["name"]
        .as_str()
        .unwrap();
    assert!(sources.iter().any(|s| s["secretRef"]["name"] == secret));
    assert!(
        sources
            .iter()
            .any(|s| s["configMapRef"]["name"] == "catalogue-gateway")
    );

    // Replicas only check the schema; the Job migrates it.
    let config = find(&overlay, "ConfigMap");
    assert_eq!(config["data"]["CATALOGUE_MIGRATE_ON_START"], "false");
    assert_eq!(
        config["data"]["CATALOGUE_PUBLIC_URL"],
        "https://catalogue.example.gouv.fr"
    );
    let job = find(&overlay, "Job");
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"][0],
        "migrate"
    );
    // A Job cannot change once created: its name follows the image's version.
    let tag = container["image"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap();
    assert!(
        job["metadata"]["name"]
            .as_str()
            .unwrap()
            .ends_with(&tag.replace('.', "-")),
        "rename the migration Job with the image tag {tag}"
    );
    // Neither metrics nor health checks are published through the Ingress.
    let paths: Vec<&str> = find(&overlay, "Ingress")["spec"]["rules"][0]["http"]["paths"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    // The portal, GraphiQL and their files (under /portal/ and /graphiql/).
    for path in ["/", "/portal/", "/graphql", "/graphiql/", "/schema.graphql"] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with("/metrics") || p.starts_with("/health"))
    );

    assert_eq!(
        find(&overlay, "PodDisruptionBudget")["spec"]["minAvailable"],
        2
    );
    assert_eq!(
        find(&overlay, "HorizontalPodAutoscaler")["spec"]["minReplicas"],
        3
    );
    assert_eq!(
        find(&overlay, "Ingress")["spec"]["tls"][0]["hosts"][0],
        "catalogue.example.gouv.fr"
    );

    // The base policy lets out the database, Redis and DNS, nothing else.
    let policy = find(&base, "NetworkPolicy");
    let ports: Vec<i64> = policy["spec"]["egress"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_sequence().unwrap().iter())
        .map(|port| port["port"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [5432, 6379, 53, 53]);
    // Selectors still select what they name (kustomize's labels stay out of them).
    assert_eq!(
        policy["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "postgresql"
    );
}

#[test]
fn the_compose_file_is_a_valid_compose_file_wiring_postgres_and_redis() {
    let text = std::fs::read_to_string(repository().join("deploy/compose.yaml")).unwrap();
    let compose = compose_spec::Compose::options()
        .from_yaml_str(&text)
        .unwrap_or_else(|e| panic!("deploy/compose.yaml: {e}"));
    compose
        .validate_all()
        .unwrap_or_else(|e| panic!("deploy/compose.yaml: {e}"));
    let raw: Value = serde_yaml_ng::from_str(&text).unwrap();
    let gateway = &raw["services"]["gateway"];
    let environment = &gateway["environment"];
    assert!(
        environment["CATALOGUE_DATABASE_URL"]
            .as_str()
            .unwrap()
            .contains("@postgres:5432/")
    );
    assert_eq!(environment["CATALOGUE_REDIS_URL"], "redis://redis:6379");
    for service in ["postgres", "redis"] {
        assert_eq!(
            gateway["depends_on"][service]["condition"],
            "service_healthy"
        );
        assert!(
            raw["services"][service]["healthcheck"].is_mapping(),
            "{service}"
        );
    }
    assert_eq!(
        raw["services"]["postgres"]["volumes"][0],
        "postgres-data:/var/lib/postgresql/data"
    );
    assert!(
        raw["volumes"]["postgres-data"].is_null() || raw["volumes"]["postgres-data"].is_mapping()
    );
    assert_eq!(gateway["healthcheck"]["test"][2], "healthcheck");
}

/// Answers in an LRU Redis, rate-limit buckets and persisted queries in one
/// that never evicts: a flood of answers cannot free anyone from a limit.
#[test]
fn the_compose_file_keeps_rate_limits_where_answers_cannot_evict_them() {
    let text = std::fs::read_to_string(repository().join("deploy/compose.yaml")).unwrap();
    let raw: Value = serde_yaml_ng::from_str(&text).unwrap();
    let environment = &raw["services"]["gateway"]["environment"];
    assert_eq!(
        environment["CATALOGUE_REDIS_STATE_URL"],
        "redis://redis-state:6379"
    );
    assert_eq!(
        raw["services"]["gateway"]["depends_on"]["redis-state"]["condition"],
        "service_healthy"
    );
    let policy = |service: &str| {
        let command: Vec<&str> = raw["services"][service]["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|part| part.as_str().unwrap())
            .collect();
        let at = command
            .iter()
            .position(|part| *part == "--maxmemory-policy")
            .unwrap_or_else(|| panic!("{service} has no --maxmemory-policy"));
        assert!(command.contains(&"--maxmemory"), "{service}: {command:?}");
        command[at + 1].to_owned()
    };
    assert_eq!(policy("redis"), "allkeys-lru");
    assert_eq!(policy("redis-state"), "noeviction");
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_as_a_user_with_a_healthcheck() {
    let text = std::fs::read_to_string(repository().join("deploy/Dockerfile")).unwrap();
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<&&str> = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(
        stages[1].contains("slim"),
        "a small runtime image: {}",
        stages[1]
    );
    assert!(
        instructions
            .iter()
            .any(|l| l.starts_with("COPY --from=build "))
    );
    let user = instructions
        .iter()
        .find(|l| l.starts_with("USER "))
        .expect("USER");
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(
        instructions
            .iter()
            .any(|l| l.contains("\"catalogue-gateway\", \"healthcheck\""))
    );
    // Everything the build copies is in the repository.
    assert!(repository().join("catalogue").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_says_whether_the_gateway_is_ready() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let listen = app.base_url.trim_start_matches("http://").to_owned();
    let check = |listen: &str| {
        Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
            .arg("healthcheck")
            .env("CATALOGUE_LISTEN", listen)
            .output()
            .unwrap()
    };
    assert!(check(&listen).status.success());
    // Listening on every interface, the check asks the loopback one.
    let port = listen.rsplit(':').next().unwrap();
    assert!(check(&format!("0.0.0.0:{port}")).status.success());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let refused = check(&address.to_string());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("/health/ready"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_migrate_on_start_the_gateway_waits_for_the_migrate_step() {
    let database = TestDatabase::create_unmigrated(Backend::Postgres).await;
    let mut config = catalogue_gateway::Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database.url.clone();
    config.database.migrate_on_start = false;
    config.harvest.harvest_interval_seconds = 0;
    let error = catalogue_gateway::App::build(config)
        .await
        .err()
        .expect("no schema yet: refused");
    assert!(
        error.to_string().contains("catalogue-gateway migrate"),
        "{error}"
    );
    let (ok, stdout, stderr) = common::run_cli(&database.url, &["migrate".as_ref()]);
    assert!(ok, "{stdout}{stderr}");
    let app = TestApp::spawn_configured(database, Some(common::catalogue_dir()), |config| {
        config.database.migrate_on_start = false;
    })
    .await;
    let data = app
        .data(
            "{ project(slug: \"cartiflette\") { name } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(data["project"]["name"], "Cartiflette");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let get = |id: Option<&str>| {
        let mut request = app.client.get(app.url("/health/live"));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let fresh = get(None).await.unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "{id}");
    assert_ne!(
        get(None).await.unwrap().headers()["x-request-id"],
        id.as_str(),
        "a new id each time"
    );
    let echoed = get(Some("lb-7f3a.42")).await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "lb-7f3a.42");
    let replaced = get(Some("no spaces please")).await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "no spaces please");
}

/// SIGTERM: the gateway stops taking connections, lets the request in flight
/// finish (here a refresh waiting on a slow upstream), then exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish() {
    let upstream = common::upstream::TestUpstream::start().await;
    upstream.set_latency(std::time::Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("dev.pem");
    let admin = catalogue_gateway::auth::DevKey::load_or_create(&key)
        .unwrap()
        .mint("admin@numerique.gouv.fr", true, 30)
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
        .args(["serve", "--dev"])
        .envs(upstream.environment())
        .env("CATALOGUE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "CATALOGUE_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("db.sqlite").display()),
        )
        .env("CATALOGUE_DEV_KEY_FILE", &key)
        .env("CATALOGUE_SEED_DIR", common::catalogue_dir())
        .env("CATALOGUE_HARVEST_INTERVAL_SECONDS", "0")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refresh = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/graphql");
        async move {
            client
                .post(url)
                .bearer_auth(admin)
                .json(&serde_json::json!({
                    "query": "mutation { refreshProject(slug: \"poufdoc\") { links { url status } } }"
                }))
                .send()
                .await
        }
    });
    // The refresh is waiting on the upstream service when SIGTERM arrives.
    while upstream.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &gateway.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = refresh
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        !body["data"]["refreshProject"]["links"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let status = tokio::task::spawn_blocking(move || gateway.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exited with {status}");
    assert!(
        client
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_err(),
        "no new connections once stopped"
    );
}

/// A gateway of the test's own, served on a task the test awaits: the
/// background tasks the app owns, its address, the sender that starts its
/// shutdown and the task that ends when the shutdown has completed.
struct Served {
    tasks: catalogue_gateway::background::BackgroundTasks,
    address: std::net::SocketAddr,
    store: catalogue_gateway::store::Store,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(config: catalogue_gateway::Config) -> Served {
    let app = catalogue_gateway::App::build(config)
        .await
        .expect("the gateway starts");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    Served {
        tasks: app.background_tasks(),
        address: app.address(),
        store: app.store().clone(),
        stop,
        serving: tokio::spawn(app.serve_until(async {
            let _ = stopped.await;
        })),
    }
}

fn test_config(database: &TestDatabase) -> catalogue_gateway::Config {
    let mut config = catalogue_gateway::Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database.url.clone();
    config.database.seed_dir = Some(common::catalogue_dir());
    config.harvest.harvest_interval_seconds = 0;
    config
}

/// Once the app's shutdown has completed, nothing it started still runs:
/// the search index following the journal, the in-process cache following
/// it, the harvest schedule, the key refreshes, Redis's generation watch.
/// The runtime is back to the tasks it had before the app (each test has a
/// runtime of its own), with an in-process cache and with Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_no_task_of_the_app_running() {
    let runtime = tokio::runtime::Handle::current().metrics();
    for redis in [false, true] {
        let database = TestDatabase::create(Backend::Sqlite).await;
        let before = runtime.num_alive_tasks();
        let nowhere = common::upstream::Listener::closed_port();
        let mut config = test_config(&database);
        // The schedule's first run is a minute away, and would ask a closed port.
        config.harvest.harvest_interval_seconds = 3600;
        config.harvest.github_api_url = nowhere.clone();
        config.harvest.gitlab_api_url = nowhere.clone();
        config.harvest.datagouv_api_url = nowhere.clone();
        config.harvest.pypi_url = nowhere;
        if redis {
            config.cache.redis_url = Some(catalogue_gateway::config::Secret::new(
                "redis://127.0.0.1:6379",
            ));
            config.cache.redis_prefix = format!(
                "catalogue-test:{}:shutdown:{}:",
                std::process::id(),
                jsonwebtoken::get_current_timestamp()
            );
        }
        let served = serve(config).await;
        // A cached read: Redis's generation watch starts with the first.
        let client = reqwest::Client::new();
        let answer = client
            .post(format!("http://{}/graphql", served.address))
            .json(&serde_json::json!({ "query": "{ projects(first: 1) { totalCount } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        drop((answer, client));
        assert!(
            served.tasks.running() >= 3,
            "the app runs its background tasks among its own ({} with redis: {redis})",
            served.tasks.running()
        );
        served.stop.send(()).unwrap();
        served.serving.await.unwrap().unwrap();
        assert_eq!(
            served.tasks.running(),
            0,
            "serve_until returned with background tasks running (redis: {redis})"
        );
        // The pool's maintenance task ends when the pool is closed, which
        // the app leaves to its owner (tests read the database afterwards).
        served.store.close().await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while runtime.num_alive_tasks() > before {
            assert!(
                std::time::Instant::now() < deadline,
                "{} tasks alive after the shutdown, {before} before the app (redis: {redis})",
                runtime.num_alive_tasks()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// A request in flight when shutdown begins is answered while the
/// background tasks still run (a refresh renews its harvest lease from
/// one); they are stopped once it is, before `serve_until` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_tasks_stop_after_the_requests_in_flight() {
    let upstream = common::upstream::TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev.pem");
    let admin = catalogue_gateway::auth::DevKey::load_or_create(&key_file)
        .unwrap()
        .mint("admin@numerique.gouv.fr", true, 30)
        .unwrap();
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut config = test_config(&database);
    config.auth.dev_auth = true;
    config.auth.dev_key_file = key_file;
    upstream.configure(&mut config);
    let served = serve(config).await;
    upstream.hold();
    let refresh = tokio::spawn(
        reqwest::Client::new()
            .post(format!("http://{}/graphql", served.address))
            .bearer_auth(admin)
            .json(&serde_json::json!({
                "query": "mutation { refreshProject(slug: \"poufdoc\") { links { url status } } }"
            }))
            .send(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while upstream.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh never asked upstream"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    served.stop.send(()).unwrap();
    // The listener is closed once the shutdown has begun.
    while tokio::net::TcpStream::connect(served.address).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway still takes connections"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!served.serving.is_finished());
    assert!(
        served.tasks.running() > 0,
        "background tasks stopped while a request was in flight"
    );
    upstream.open();
    let answer = refresh
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    served.serving.await.unwrap().unwrap();
    assert_eq!(served.tasks.running(), 0);
}
