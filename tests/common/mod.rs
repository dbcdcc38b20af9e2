//! The real gateway on a random port, on a fresh SQLite file or a fresh
//! PostgreSQL database, for the integration tests and the benchmarks.

#![allow(dead_code)] // each benchmark uses part of this module

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use catalogue_gateway::{App, Config};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, FromQueryResult, JsonValue, Statement,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub mod browser;
pub mod http_answer;
pub mod issuer;
pub mod provider;
pub mod receiver;
pub mod redis;
pub mod upstream;
pub mod websites;

/// The storage backends every storage test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` as two tests, `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )+
        }
    };
}

/// Where `make test` (scripts/ensure-node-deps.sh) installs the npm packages
/// the federation and portal tests use: `$CATALOGUE_NODE_DIR/node_modules`.
pub fn node_modules() -> PathBuf {
    let dir: PathBuf = match std::env::var_os("CATALOGUE_NODE_DIR") {
        Some(dir) => dir.into(),
        None => Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".cache/catalogue-gateway/node"),
    };
    dir.join("node_modules")
}

/// A tool `make test` installs into the Python virtual environment
/// (scripts/ensure-deploy-tools.sh, tests/python/requirements.txt):
/// `$CATALOGUE_VENV/bin/{name}`.
pub fn venv_tool(name: &str) -> PathBuf {
    let venv: PathBuf = match std::env::var_os("CATALOGUE_VENV") {
        Some(dir) => dir.into(),
        None => Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".cache/catalogue-gateway/venv"),
    };
    let tool = venv.join("bin").join(name);
    assert!(
        tool.is_file(),
        "{} is missing: run `make test`, which installs it",
        tool.display()
    );
    tool
}

/// Runs the Node.js script `tests/<script>` with `args`, the npm packages
/// `make test` installs on its `NODE_PATH` (each of `packages` checked
/// first, so a missing one says how to get it); its output when it
/// succeeds. Blocks this thread: a test's gateways run on the runtime's
/// other worker.
pub fn run_node(script: &str, args: &[&str], packages: &[&str]) -> String {
    let modules = node_modules();
    for package in packages {
        assert!(
            modules.join(package).is_dir(),
            "{} has no {package}: run `make test`, which installs it",
            modules.display()
        );
    }
    let output = std::process::Command::new("node")
        .arg(format!("{}/tests/{script}", env!("CARGO_MANIFEST_DIR")))
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

/// The repository's own catalogue directory.
pub fn catalogue_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")
}

/// A copy of the real catalogue in a temporary directory, to change.
pub fn catalogue_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(catalogue_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// Replaces the first `from` of the catalogue file `file` in `dir` by `to`.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// A database of its own for one test; PostgreSQL ones are dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("CATALOGUE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The name of a PostgreSQL database holding every migration and no data,
/// made once and copied for each test (`CREATE DATABASE … TEMPLATE`): a copy
/// is a file copy, where migrating each test's database from scratch ran
/// every migration's statements again. Its name carries a hash of the
/// migrations' source, so a changed migration gets a template of its own
/// and a stale one is never copied.
async fn migrated_template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("catalogue_template_{}", migrations_fingerprint());
            let admin_url = postgres_admin_url();
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} is required (run `make test`): {e}")
            });
            let exists = admin
                .query_one_raw(Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .expect("look for the template database")
                .is_some();
            if !exists {
                // Built under a name of this process's own and renamed when
                // complete, so that a process running beside this one never
                // copies a half-migrated template.
                let building = format!("{name}_{}", std::process::id());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{building}\""))
                    .await
                    .expect("create the template database");
                let mut url = url::Url::parse(&admin_url).expect("admin URL");
                url.set_path(&building);
                let store = catalogue_gateway::store::Store::connect(url.as_str())
                    .await
                    .expect("connect to the template database");
                store
                    .migrate()
                    .await
                    .expect("migrate the template database");
                store.close().await.expect("close the template database");
                let renamed = admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                    ))
                    .await;
                if renamed.is_err() {
                    // Another process made it first.
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
                        ))
                        .await
                        .ok();
                }
            }
            admin.close().await.ok();
            name
        })
        .await
}

/// A hash of the migrations' source files.
fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("migrations/src")
        .map(|entry| entry.expect("a migration file").path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().unwrap().as_encoded_bytes());
        hash.update(std::fs::read(&file).expect("read a migration file"));
    }
    hash.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl TestDatabase {
    /// A database holding the schema and no data (on PostgreSQL a copy of
    /// the migrated template; the gateway migrates a SQLite file itself).
    pub async fn create(backend: Backend) -> Self {
        Self::make(backend, true).await
    }

    /// A database with no schema yet, not even on PostgreSQL.
    pub async fn create_unmigrated(backend: Backend) -> Self {
        Self::make(backend, false).await
    }

    async fn make(backend: Backend, migrated: bool) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("catalogue.db").display());
                Self {
                    url,
                    _sqlite_dir: Some(dir),
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "catalogue_test_{}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed),
                    chrono::Utc::now().timestamp_micros() % 1_000_000
                );
                let admin_url = postgres_admin_url();
                let create = if migrated {
                    let template = migrated_template().await;
                    format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"")
                } else {
                    format!("CREATE DATABASE \"{name}\"")
                };
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is required (run `make test`): {e}")
                });
                admin
                    .execute_unprepared(&create)
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("admin URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    _sqlite_dir: None,
                    postgres_name: Some(name),
                }
            }
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl TestDatabase {
    /// The same database for a second gateway; the first one's handle drops it.
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            _sqlite_dir: None,
            postgres_name: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async context: use a runtime of its own on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(&postgres_admin_url()).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// The gateway serving on a random port.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// The gateway with the repository's eight projects.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with_seed(backend, Some(catalogue_dir())).await
    }

    pub async fn spawn_with_seed(backend: Backend, seed_dir: Option<PathBuf>) -> Self {
        let database = TestDatabase::create(backend).await;
        Self::spawn_on(database, seed_dir).await
    }

    pub async fn spawn_on(database: TestDatabase, seed_dir: Option<PathBuf>) -> Self {
        Self::spawn_configured(database, seed_dir, |_| {}).await
    }

    /// The gateway with the eight projects and a configuration of the test's
    /// own, once its search index is built (as a load balancer would wait
    /// for `/health/ready`) and its read model too.
    pub async fn spawn_configured(
        database: TestDatabase,
        seed_dir: Option<PathBuf>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let app = Self::start_configured(database, seed_dir, configure).await;
        app.wait_for_search_index().await;
        app.wait_for_read_model().await;
        app
    }

    /// The same, as soon as it serves, its search index perhaps still building.
    pub async fn start_configured(
        database: TestDatabase,
        seed_dir: Option<PathBuf>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .try_init();
        }
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".parse().unwrap();
        config.database.database_url = database.url.clone();
        config.database.seed_dir = seed_dir;
        // Never the real upstream services from a test, nor the real
        // catalogue's links.
        config.harvest.harvest_interval_seconds = 0;
        config.harvest.check_links = false;
        // Each test builds its index in memory unless it says otherwise.
        config.database.search_index_dir = None;
        // Nor a delivery loop polling the database beside tests that count
        // its statements; the webhook tests turn it on.
        config.webhooks.deliver_webhooks = false;
        configure(&mut config);
        let app = App::build(config).await.expect("the gateway starts");
        let base_url = format!("http://{}", app.address());
        let (shutdown, stop) = oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            app.serve_until(async {
                let _ = stop.await;
            })
            .await
            .expect("the gateway serves");
        });
        Self {
            base_url,
            client: reqwest::Client::new(),
            database,
            shutdown: Some(shutdown),
            served: Some(served),
        }
    }

    /// Shuts the gateway down and waits until it has let go of everything
    /// (its background tasks, its search index directory).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let served = self.served.take().expect("a gateway serves until stopped");
        // Its kept-alive connections end with the client.
        drop(self);
        served.await.expect("the gateway stops cleanly");
    }

    /// Polls `/health/ready` until the search index is no longer building
    /// (a test of an unreachable database finds it failing instead).
    pub async fn wait_for_search_index(&self) {
        self.wait_for_readiness("the search index", |answer| {
            answer["search"]["status"] != "building" && answer["reason"] != "database"
        })
        .await;
    }

    /// Polls `/health/ready` until the read model is no longer building, so
    /// that queries read it.
    pub async fn wait_for_read_model(&self) {
        self.wait_for_readiness("the read model", |answer| {
            answer["readModel"]["status"] != "building"
        })
        .await;
    }

    async fn wait_for_readiness(&self, what: &str, done: impl Fn(&Value) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let answer = self.readiness().await;
            if done(&answer) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what} is still building after 60 s: {answer}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs a query with `Authorization: Bearer <token>`; returns the HTTP
    /// status, the `WWW-Authenticate` header and the JSON answer.
    pub async fn query_as(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> (u16, Option<String>, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        (
            status,
            challenge,
            response.json().await.expect("a JSON answer"),
        )
    }

    /// POSTs a query; returns the whole JSON answer (data and errors).
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        assert_eq!(
            response.status(),
            200,
            "POST /graphql answered {}",
            response.status()
        );
        response.json().await.expect("a JSON answer")
    }

    /// POSTs a query that must succeed; returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let answer = self.query(query, variables).await;
        assert!(
            answer.get("errors").is_none(),
            "unexpected errors: {answer:#}"
        );
        answer["data"].clone()
    }

    /// GETs `path`; returns the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("a text body")
    }

    /// What `/health/ready` says, ready or not.
    pub async fn readiness(&self) -> Value {
        let response = self.client.get(self.url("/health/ready")).send().await;
        response.expect("GET").json().await.expect("a JSON body")
    }

    /// The text of the answer to `query`, asked anonymously by POST.
    pub async fn answer_text(&self, query: &str) -> String {
        self.client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("POST /graphql")
            .text()
            .await
            .expect("the answer")
    }

    /// What the plain answers fast path has done so far, read from /metrics.
    pub async fn plain_counts(&self) -> PlainCounts {
        let metrics = self.get_text("/metrics").await;
        let read = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in /metrics"))
        };
        PlainCounts {
            answers: read("catalogue_plain_answers_total"),
            fallbacks: read("catalogue_plain_fallbacks_total"),
        }
    }

    /// The SQL statements the gateway has run so far, read from /metrics.
    pub async fn statements_executed(&self) -> u64 {
        self.get_text("/metrics")
            .await
            .lines()
            .find_map(|line| line.strip_prefix("catalogue_db_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("catalogue_db_statements_total in /metrics")
    }
}

/// The plain answers fast path's counters (`catalogue_plain_*_total`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PlainCounts {
    /// Lists and pages written plainly.
    pub answers: u64,
    /// Lists and pages looked at and left to the resolvers.
    pub fallbacks: u64,
}

impl std::ops::Sub for PlainCounts {
    type Output = Self;

    fn sub(self, before: Self) -> Self {
        Self {
            answers: self.answers - before.answers,
            fallbacks: self.fallbacks - before.fallbacks,
        }
    }
}

/// Where each of `keys` first appears in `text`, in the order given.
pub fn first_places(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter()
        .map(|key| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} missing from {text}"))
        })
        .collect()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The gateway with the catalogue's projects, trusting dev tokens; a token
/// for `email` (an administrator's when `admin`), and the directory holding
/// the dev key (kept as long as the token is used).
pub async fn with_dev_token(
    backend: Backend,
    email: &str,
    admin: bool,
) -> (TestApp, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev.pem");
    let token = catalogue_gateway::auth::DevKey::load_or_create(&key_file)
        .unwrap()
        .mint(email, admin, 30)
        .unwrap();
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue_dir()),
        |config| {
            config.auth.dev_auth = true;
            config.auth.dev_key_file = key_file;
        },
    )
    .await;
    (app, token, dir)
}

/// Runs `catalogue-gateway import DIR` against `database_url`; returns
/// whether it succeeded, its standard output and its standard error.
pub fn run_import(database_url: &str, dir: &Path) -> (bool, String, String) {
    run_cli(database_url, &["import".as_ref(), dir.as_os_str()])
}

/// Runs the `catalogue-gateway` binary with `args` on `database_url`;
/// returns whether it succeeded, its stdout and its stderr.
pub fn run_cli(database_url: &str, args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    run_cli_with(database_url, args, &[])
}

/// [`run_cli`] with more environment variables.
pub fn run_cli_with(
    database_url: &str,
    args: &[&std::ffi::OsStr],
    environment: &[(String, String)],
) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
        .args(args)
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .env("CATALOGUE_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run catalogue-gateway");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The catalogue tables, in an order where parents come first.
pub const TABLES: [&str; 14] = [
    "organization",
    "project",
    "project_season",
    "tag",
    "project_tag",
    "project_organization",
    "repository",
    "dataset",
    "link",
    "project_source",
    "organization_source",
    "project_maintainer",
    "project_use",
    "audit_entry",
];

/// Every row of every catalogue table, in a stable order: equal snapshots
/// mean an unchanged database.
pub async fn snapshot(db: &DatabaseConnection) -> Value {
    let mut tables = serde_json::Map::new();
    for table in TABLES {
        let statement = Statement::from_string(
            db.get_database_backend(),
            format!("SELECT * FROM {table} ORDER BY 1, 2"),
        );
        let rows = JsonValue::find_by_statement(statement)
            .all(db)
            .await
            .expect("read a table");
        tables.insert(table.to_owned(), Value::Array(rows));
    }
    Value::Object(tables)
}

/// Writes a catalogue of `projects` made-up projects to `dir`, each with
/// organizations, tags, seasons, code, data, links and a source: for
/// measuring, never served as real.
pub fn write_generated_catalogue(dir: &Path, projects: usize) {
    let mut organizations = String::from("organizations:\n");
    for o in 0..10 {
        organizations.push_str(&format!(
            "  - slug: org-{o}\n    name: Organisation {o}\n    kind: other\n"
        ));
    }
    std::fs::write(dir.join("organizations.yaml"), organizations).unwrap();
    for p in 0..projects {
        let text = format!(
            "slug: project-{p:03}\nname: Projet {p:03}\nsummary: Projet généré pour les mesures.\nseasons: [{season}]\n\
             tags: [tag {a}, tag {b}]\norganizations:\n  - organization: org-{a}\n    role: sponsor\n  - organization: org-{b}\n    role: contributor\n\
             repositories:\n  - url: https://github.com/example/project-{p}\n  - url: https://gitlab.com/example/group/project-{p}\n\
             datasets:\n  - url: https://www.data.gouv.fr/fr/datasets/project-{p}/\n    provider: data-gouv\n    title: Données {p}\n\
             links:\n  - url: https://example.org/{p}/docs\n    kind: documentation\n    title: Documentation\n\
             sources:\n  - title: généré\n    url: https://example.org/{p}/source\n",
            season = p % 3 + 1,
            a = p % 10,
            b = (p + 3) % 10,
        );
        std::fs::write(dir.join(format!("project-{p:03}.yaml")), text).unwrap();
    }
}
