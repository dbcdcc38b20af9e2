//! `catalogue-gateway`: serve the catalogue, or manage its database.

use std::path::PathBuf;
use std::process::ExitCode;

use catalogue_gateway::auth::DevKey;
use catalogue_gateway::background::BackgroundTasks;
use catalogue_gateway::config::{self, Config};
use catalogue_gateway::facts::{HarvestStatus, LinkCheckStatus};
use catalogue_gateway::harvest::Harvester;
use catalogue_gateway::{App, catalogue, graphql, store::Store, tools};
use clap::{Parser, Subcommand};

mod allocator;

#[derive(Parser)]
#[command(
    version,
    about = "GraphQL gateway to the catalogue of the programme 10% projects"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the GraphQL schema (SDL); needs no configuration.
    Schema,
    /// Mint a token for front-end development, trusted only by a gateway
    /// started with `serve --dev` (or CATALOGUE_DEV_AUTH=1).
    DevToken {
        /// The email the token carries.
        #[arg(long)]
        email: String,
        /// Make its holder an administrator of the dev gateway.
        #[arg(long)]
        admin: bool,
        /// How long the token lasts.
        #[arg(long, default_value_t = 480)]
        minutes: u64,
    },
    /// Write a made-up catalogue (varied French and English text, `.example`
    /// URLs) to DIR, to measure search and paging at scale with `import`.
    Generate {
        /// How many projects.
        #[arg(long)]
        projects: usize,
        /// How many repositories each project has.
        #[arg(long, default_value_t = 10)]
        repos_per_project: usize,
        /// The same seed writes the same catalogue.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the files (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Ask the gateway listening at CATALOGUE_LISTEN whether it is ready
    /// (`/health/ready`); exit 0 when it is. For container health checks.
    Healthcheck,
    #[command(flatten)]
    WithDatabase(DatabaseCommand),
}

/// The commands that read the configuration and open the database.
#[derive(Subcommand)]
enum DatabaseCommand {
    /// Serve the API (the default): migrate, seed an empty database, listen.
    Serve {
        /// Trust tokens from `dev-token` (front-end development only; never in production).
        #[arg(long)]
        dev: bool,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Check the catalogue files in DIR, then write them into the database.
    Import { dir: PathBuf },
    /// Harvest what GitHub, GitLab, data.gouv.fr and PyPI say about the
    /// catalogue's code, data and packages, and check that its other links
    /// answer (one harvester at a time).
    Harvest {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
    },
    /// Sign the gateway's new tokens with a new key; the previous key stays
    /// published until the tokens it signed have expired. Every replica
    /// notices within a minute.
    RotateSigningKey,
}

fn main() -> ExitCode {
    match allocator::runtime() {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let command = match Cli::parse().command {
        Some(Command::Schema) => {
            print!(
                "{}",
                graphql::sdl(&graphql::build_schema(
                    None,
                    None,
                    &config::Limits::default()
                ))
            );
            return ExitCode::SUCCESS;
        }
        Some(Command::DevToken {
            email,
            admin,
            minutes,
        }) => return dev_token(&email, admin, minutes),
        Some(Command::Generate {
            projects,
            repos_per_project,
            seed,
            out,
        }) => return generate(&out, projects, repos_per_project, seed),
        Some(Command::Healthcheck) => return healthcheck().await,
        Some(Command::WithDatabase(command)) => command,
        None => DatabaseCommand::Serve { dev: false },
    };
    let config = match Config::from_env() {
        Ok(mut config) => {
            if let DatabaseCommand::Serve { dev: true } = command {
                config.auth.dev_auth = true;
            }
            config
        }
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = catalogue_gateway::telemetry::init(config.http.log_format);
    let outcome = match command {
        DatabaseCommand::Serve { .. } => serve(config).await,
        DatabaseCommand::Migrate => migrate(config).await,
        DatabaseCommand::Import { dir } => import(config, dir).await,
        DatabaseCommand::RotateSigningKey => rotate_signing_key(config).await,
        DatabaseCommand::Harvest { project } => harvest(config, project).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn dev_token(email: &str, admin: bool, minutes: u64) -> ExitCode {
    let minted = Config::from_env()
        .map_err(|e| e.to_string())
        .and_then(|config| {
            DevKey::load_or_create(&config.auth.dev_key_file).map_err(|e| e.to_string())
        })
        .and_then(|key| key.mint(email, admin, minutes).map_err(|e| e.to_string()));
    match minted {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("dev-token: {error}");
            ExitCode::FAILURE
        }
    }
}

fn generate(out: &std::path::Path, projects: usize, repositories: usize, seed: u64) -> ExitCode {
    let size = tools::synthetic::Size {
        projects,
        repositories_per_project: repositories,
        seed,
    };
    match tools::synthetic::write(out, size) {
        Ok(written) => {
            println!("wrote {written} to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("generate: cannot write to {}: {error}", out.display());
            ExitCode::FAILURE
        }
    }
}

async fn healthcheck() -> ExitCode {
    // Docker reads any exit code but 0 and 1 as reserved: failures are 1.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut address = config.http.listen;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/health/ready");
    let answer = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string());
    let answer = match answer {
        Ok(client) => client.get(&url).send().await.map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    match answer {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("healthcheck: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("healthcheck: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tokio::spawn(allocator::tick());
    let app = App::build(config).await?;
    app.serve_until(shutdown_signal()).await?;
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = Store::connect(&config.database.database_url).await?;
    store.migrate().await?;
    store.close().await?;
    println!("database schema is up to date");
    Ok(())
}

async fn import(config: Config, dir: PathBuf) -> anyhow::Result<()> {
    let catalogue = catalogue::files::load_dir(&dir)?;
    let store = Store::connect(&config.database.database_url).await?;
    store.migrate().await?;
    let report = store.import(&catalogue, chrono::Utc::now()).await?;
    store.close().await?;
    if config.cache.redis_url.is_some() {
        // Gateways sharing this Redis stop serving answers from before the import.
        let tasks = BackgroundTasks::new();
        catalogue_gateway::response_cache(&config.cache, &tasks)?
            .bump_generation()
            .await;
    }
    println!("imported {}: {report}", dir.display());
    Ok(())
}

async fn harvest(config: Config, project: Option<String>) -> anyhow::Result<()> {
    let store = Store::connect(&config.database.database_url).await?;
    store.migrate().await?;
    let tasks = BackgroundTasks::new();
    let cache = match config.cache.redis_url {
        // Gateways sharing this Redis stop serving answers from before the harvest.
        Some(_) => Some(catalogue_gateway::response_cache(&config.cache, &tasks)?),
        None => None,
    };
    let harvester = Harvester::from_config(&config.harvest, store.clone(), cache, &tasks)?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} links {elapsed}")
            .expect("a valid template"),
    );
    let outcome = harvester
        .run(project.as_deref(), &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await;
    bar.finish_and_clear();
    store.close().await?;
    match outcome? {
        Some(summary) => {
            for outcome in summary.outcomes.iter().filter(|o| {
                matches!(
                    o.status,
                    HarvestStatus::Error | HarvestStatus::NotFound | HarvestStatus::NotAllowed
                )
            }) {
                println!(
                    "{} {}: {}",
                    outcome.status.as_db(),
                    outcome.url,
                    outcome.message.as_deref().unwrap_or_default()
                );
            }
            let checks = summary.checks.iter().flat_map(|checks| &checks.checks);
            for check in checks.filter(|c| c.status != LinkCheckStatus::Ok) {
                println!(
                    "{} {}: {}",
                    check.status.as_db(),
                    check.url,
                    check.message.as_deref().unwrap_or_default()
                );
            }
            println!("harvested {summary}");
        }
        None => println!("another harvester is running; skipped this run"),
    }
    Ok(())
}

async fn rotate_signing_key(config: Config) -> anyhow::Result<()> {
    use catalogue_gateway::auth::signing_keys;
    if config.auth.signing_key_file.is_some() {
        anyhow::bail!(
            "CATALOGUE_SIGNING_KEY_FILE is set: rotate by pointing it at a new key file and restarting"
        );
    }
    let store = Store::connect(&config.database.database_url).await?;
    store.migrate().await?;
    let sealing = config
        .auth
        .signing_key_encryption_key
        .as_ref()
        .map(signing_keys::SealingKey::new);
    let kid = signing_keys::rotate(&store, sealing.as_ref()).await?;
    let retired_before = chrono::Utc::now()
        - chrono::Duration::seconds(config.auth.token_lifetime_seconds as i64 * 2 + 3600);
    let deleted = store
        .delete_signing_keys_retired_before(retired_before)
        .await?;
    store.close().await?;
    println!("new signing key {kid}; {deleted} long-retired key(s) deleted");
    Ok(())
}

/// Resolves on SIGTERM (Kubernetes, systemd) or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
