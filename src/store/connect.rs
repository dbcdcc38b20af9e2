//! Opening the database and bringing its schema up to date.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};

use super::{Store, StoreError};

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). For SQLite, the
    /// file and its directory are created when missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let sqlite_dir = sqlite_file(url)
            .and_then(|path| std::path::Path::new(path).parent())
            .filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = sqlite_dir {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Setup {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut options = ConnectOptions::new(with_sqlite_create_mode(url));
        options
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            // A connection used less than a second ago is not pinged before
            // use (a round trip per statement otherwise); one idle longer
            // may have been cut, and is. A cut one in use fails its statement
            // and is dropped.
            .test_before_acquire_if_idle_for(Duration::from_secs(1))
            .sqlx_logging(false);
        let mut db = Database::connect(options).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Self {
            db,
            statements,
            counts: super::counts::counts_kept(),
            read_model: Arc::default(),
        })
    }

    /// Applies the migrations not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        // SQLite's advice for long-lived connections: statistics for tables
        // that lack them or grew much (PostgreSQL's autovacuum does this itself).
        if self.db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
            self.db
                .execute_unprepared("PRAGMA optimize=0x10002")
                .await?;
        }
        Ok(())
    }

    /// The migrations this version knows that the database has not had.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        Ok(Migrator::get_pending_migrations_read_only(&self.db)
            .await?
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect())
    }

    /// Brings the query planner's statistics up to date after the data grew
    /// or changed in bulk (an import), rather than waiting for PostgreSQL's
    /// autovacuum or never, for SQLite.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        self.db.execute_unprepared("ANALYZE").await?;
        Ok(())
    }
}

/// The file path of a `sqlite://` URL, or `None` for in-memory and other databases.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// SQLite refuses to open a missing file unless asked to create it.
fn with_sqlite_create_mode(url: &str) -> String {
    if sqlite_file(url).is_some() && !url.contains("mode=") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/catalogue.db"),
            Some("data/catalogue.db")
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/test"), None);
        assert_eq!(
            with_sqlite_create_mode("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
    }
}
