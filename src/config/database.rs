//! The database's settings: where it is, what seeds it, who migrates it.

use std::path::PathBuf;

use super::ConfigError;
use super::values::{flag, optional_path, redact_password, text};

section! {
    /// The database.
    pub struct Database in database {
        /// `sqlite://…` (embedded default) or `postgres://…`.
        database_url: String = "sqlite://data/catalogue.db".to_owned() => text,
        /// Directory of catalogue files loaded into an empty database at start;
        /// `None` to start empty.
        seed_dir: Option<PathBuf> = Some(PathBuf::from("catalogue")) => optional_path,
        /// Whether `serve` applies pending migrations at start; when off (a
        /// separate `migrate` step runs them, as the Kubernetes Job does), it
        /// refuses to start on a schema older than its own.
        migrate_on_start: bool = true => flag,
        /// Where this replica keeps its search index between starts (one
        /// directory per replica; empty: in memory, rebuilt at each start).
        search_index_dir: Option<PathBuf> = Some(PathBuf::from("data/search-index")) => optional_path,
    }
}

impl Database {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Conflict(format!(
                "database_url `{}` is neither sqlite://… nor postgres://…; set CATALOGUE_DATABASE_URL",
                redact_password(url)
            )));
        }
        Ok(())
    }
}
