//! The catalogue gateway: one GraphQL API over the programme 10% projects.
//!
//! [`App::build`] wires everything from a [`Config`]; `main` and every
//! integration test use it.

pub mod auth;
pub mod background;
pub mod cache;
pub mod catalogue;
pub mod config;
pub mod facts;
pub mod formats;
pub mod graphql;
pub mod harvest;
#[cfg(test)]
mod heap_count;
pub mod http;
mod kept_entry;
pub mod live_changes;
pub mod search;
pub mod shared_state;
pub mod store;
pub mod telemetry;
pub mod tools;
pub mod webhooks;

use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use tokio_util::sync::DropGuard;

use background::BackgroundTasks;
pub use config::Config;
use store::Store;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("catalogue seed: {0}")]
    Seed(#[from] catalogue::files::LoadError),
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    SigningKeys(#[from] auth::signing_keys::SigningKeyError),
    #[error("cannot read the signing key file {path}: {source}")]
    SigningKeyFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    SharedState(#[from] shared_state::SharedStateError),
    #[error("{0}")]
    Search(#[from] search::SearchError),
    #[error(
        "the database schema lacks migrations {0:?} and CATALOGUE_MIGRATE_ON_START is off: run `catalogue-gateway migrate` first"
    )]
    SchemaBehind(Vec<String>),
    #[error("harvester: {0}")]
    Harvest(#[from] harvest::HarvestError),
    #[error("webhooks: {0}")]
    Webhooks(reqwest::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// How long the background tasks are given to end once the server has
/// stopped: they stop at their next `.await`, and the longest cleanup (a
/// harvest cut short giving its lease back) is one statement.
const TASKS_STOP_WAIT: Duration = Duration::from_secs(5);

/// A gateway ready to serve: database migrated (and seeded when empty),
/// listener bound, background tasks running.
pub struct App {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    store: Store,
    shutdown_grace: Duration,
    read_timeouts: http::server::ReadTimeouts,
    state: http::AppState,
    tasks: BackgroundTasks,
    /// Stops the tasks when the app is dropped without being served.
    _stop_on_drop: DropGuard,
}

impl App {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        // Created first: a build that fails midway stops what it started.
        let tasks = BackgroundTasks::new();
        let stop_on_drop = tasks.stop_on_drop();
        let store = Store::connect(&config.database.database_url).await?;
        if config.database.migrate_on_start {
            store.migrate().await?;
        } else {
            let pending = store.pending_migrations().await?;
            if !pending.is_empty() {
                return Err(StartError::SchemaBehind(pending));
            }
        }
        if let Some(dir) = &config.database.seed_dir
            && store.is_empty().await?
        {
            let catalogue = catalogue::files::load_dir(dir)?;
            match store.import(&catalogue, chrono::Utc::now()).await {
                Ok(report) => {
                    tracing::info!(dir = %dir.display(), %report, "seeded the empty database")
                }
                // Replicas starting together on an empty database race to seed
                // it: the one that loses finds the catalogue already there.
                Err(error) if !store.is_empty().await? => {
                    tracing::info!(%error, "another replica seeded the database first")
                }
                Err(error) => return Err(error.into()),
            }
        }
        let acceptor = TcpListener::bind(config.http.listen)
            .into_acceptor()
            .await
            .map_err(|source| StartError::Listen {
                address: config.http.listen,
                source,
            })?;
        let address = acceptor
            .local_addr()
            .into_iter()
            .find_map(|a| a.as_socket_addr().copied())
            .unwrap_or(config.http.listen);
        let public_url = config.http.public_url_or(address);
        if config.proconnect.proconnect_issuer.is_some() && config.http.public_url.is_none() {
            tracing::warn!(
                %public_url,
                "CATALOGUE_PUBLIC_URL is not set: sign-in uses the listen address as the gateway's URL; \
                 set it to the URL browsers see (and that ProConnect has registered)"
            );
        }
        let own_issuer = own_issuer(&config.auth, public_url, &store).await?;
        let shared = shared_state(&config.cache, &tasks)?;
        let cache = cache::ResponseCache::new(&shared, cache_ttl(&config.cache), &tasks);
        let authenticator = auth::Authenticator::from_config(
            &config.auth,
            &config.proconnect,
            own_issuer,
            shared.clone(),
            store.clone(),
            &tasks,
        )?;
        if config.execution.read_model {
            store.start_read_model(&tasks);
        }
        let search = search::SearchIndex::start(
            store.clone(),
            &tasks,
            config.database.search_index_dir.as_deref(),
        )?;
        follow_catalogue_changes(
            &tasks,
            std::sync::Arc::clone(&search),
            cache.clone(),
            store.clone(),
            chrono::Duration::days(i64::from(config.changes.changes_retention_days)),
        );
        let schema = graphql::build_schema(
            Some(store.clone()),
            Some(std::sync::Arc::clone(&search)),
            &config.limits,
        );
        let harvester = std::sync::Arc::new(harvest::Harvester::from_config(
            &config.harvest,
            store.clone(),
            Some(cache.clone()),
            &tasks,
        )?);
        harvest::schedule(
            &tasks,
            std::sync::Arc::clone(&harvester),
            config.harvest.harvest_interval_seconds,
        );
        let webhooks =
            std::sync::Arc::new(webhooks::Registry::new(&config.webhooks, store.clone()));
        let deliverer = webhooks::delivery::Deliverer::new(
            &config.webhooks,
            store.clone(),
            std::sync::Arc::clone(&webhooks),
        )
        .map_err(StartError::Webhooks)?;
        webhooks::delivery::schedule(&tasks, std::sync::Arc::new(deliverer));
        let live = live_changes::LiveChanges::follow(
            store.clone(),
            &tasks,
            Duration::from_millis(config.changes.changes_poll_milliseconds),
            config.changes.subscription_buffer,
        )
        .await?;
        let state = http::AppState::new(
            http::Services {
                schema,
                store: store.clone(),
                authenticator,
                cache,
                shared,
                harvester,
                webhooks,
                search,
                live,
            },
            &config,
        )?;
        Ok(Self {
            acceptor,
            address,
            store,
            shutdown_grace: Duration::from_secs(config.http.shutdown_grace_seconds),
            read_timeouts: http::server::ReadTimeouts {
                header: Duration::from_secs(config.http.header_read_timeout_seconds),
                body: Duration::from_secs(config.http.body_read_timeout_seconds),
                keep_alive: Duration::from_secs(config.http.keep_alive_timeout_seconds),
            },
            state,
            tasks,
            _stop_on_drop: stop_on_drop,
        })
    }

    /// The address actually bound (the port is chosen when configured as 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The database, for tests that check what a request left behind.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The app's background tasks, for tests that check that shutdown
    /// stops them.
    pub fn background_tasks(&self) -> BackgroundTasks {
        self.tasks.clone()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests
    /// finish, then stops the background tasks.
    pub async fn serve_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let endpoint = http::routes(self.state.clone());
        tracing::info!(address = %self.address, "serving GraphQL at /graphql");
        let served = http::server::serve(
            self.acceptor,
            endpoint,
            self.read_timeouts,
            shutdown,
            self.shutdown_grace,
        )
        .await;
        self.tasks.stop(TASKS_STOP_WAIT).await;
        served
    }
}

/// Replays the catalogue's journal of changes every second, so the search
/// index stays current between searches, and an in-process answer cache
/// forgets answers made stale by changes from elsewhere (another replica,
/// `import`, `harvest`); a Redis cache needs no help: writers bump it. Once
/// an hour, forgets journal entries older than `retention` (a replica that
/// missed them reindexes everything; a tool whose cursor is older reads the
/// lists again).
fn follow_catalogue_changes(
    tasks: &BackgroundTasks,
    search: std::sync::Arc<search::SearchIndex>,
    cache: cache::ResponseCache,
    store: Store,
    retention: chrono::Duration,
) {
    const TICK: Duration = Duration::from_secs(1);
    const PRUNE_EVERY_TICKS: u32 = 3600;
    let mut changes = search.changes();
    if cache.kind() == shared_state::StoreKind::Memory {
        tasks.spawn(async move {
            while changes.changed().await.is_ok() {
                cache.bump_generation().await;
            }
        });
    }
    tasks.spawn(async move {
        let mut failing = false;
        let mut ticks = 0u32;
        loop {
            tokio::time::sleep(TICK).await;
            match search.catch_up().await {
                Ok(()) => failing = false,
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot read the catalogue's changes; search may lag until the database answers");
                }
                Err(_) => {}
            }
            ticks = (ticks + 1) % PRUNE_EVERY_TICKS;
            if ticks == 0 {
                let before = chrono::Utc::now() - retention;
                if let Err(error) = store.prune_changes(before).await {
                    tracing::warn!(%error, "cannot prune the journal of changes");
                }
            }
        }
    });
}

/// The stores replicas share: Redis when configured, in-process otherwise;
/// rate limits and persisted queries in a Redis of their own when
/// configured. Redis's generation watch runs among `tasks`.
pub fn shared_state(
    config: &config::Cache,
    tasks: &BackgroundTasks,
) -> Result<shared_state::SharedState, StartError> {
    let ttl = cache_ttl(config);
    let timeout = Duration::from_millis(config.redis_timeout_ms);
    let store: std::sync::Arc<dyn shared_state::SharedStore> = match &config.redis_url {
        Some(url) => std::sync::Arc::new(shared_state::RedisStore::new(
            url.expose(),
            &config.redis_prefix,
            timeout,
            config.cache_memory_bytes,
            ttl.min(Duration::from_secs(config.cache_memory_max_age_seconds)),
            tasks,
        )?),
        None => std::sync::Arc::new(shared_state::MemoryStore::new(config.cache_memory_bytes)),
    };
    let shared = shared_state::SharedState::new(store);
    Ok(match &config.redis_state_url {
        Some(url) => shared.with_state_store(std::sync::Arc::new(shared_state::RedisStore::new(
            url.expose(),
            &config.redis_prefix,
            timeout,
            0,
            ttl,
            tasks,
        )?)),
        None => shared,
    })
}

/// The response cache alone, for commands that bump the generation
/// (`import`, `harvest`).
pub fn response_cache(
    config: &config::Cache,
    tasks: &BackgroundTasks,
) -> Result<cache::ResponseCache, StartError> {
    let shared = shared_state(config, tasks)?;
    Ok(cache::ResponseCache::new(&shared, cache_ttl(config), tasks))
}

fn cache_ttl(config: &config::Cache) -> Duration {
    Duration::from_secs(config.cache_ttl_seconds)
}

/// The gateway's own issuer: its public URL and its signing keys (from the
/// configured file, or shared through the database).
async fn own_issuer(
    config: &config::Auth,
    public_url: String,
    store: &Store,
) -> Result<std::sync::Arc<auth::OwnIssuer>, StartError> {
    let lifetime = Duration::from_secs(config.token_lifetime_seconds);
    let keys = match &config.signing_key_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| StartError::SigningKeyFile {
                    path: path.clone(),
                    source,
                })?;
            auth::signing_keys::SigningKeys::from_file(&text, path)?
        }
        None => {
            let sealing = config
                .signing_key_encryption_key
                .as_ref()
                .map(auth::signing_keys::SealingKey::new);
            auth::signing_keys::SigningKeys::open(store.clone(), sealing, lifetime).await?
        }
    };
    Ok(std::sync::Arc::new(auth::OwnIssuer::new(
        public_url,
        lifetime,
        std::sync::Arc::new(keys),
    )))
}
