//! Whether the database can serve the gateway now: answer, and take a write.
//!
//! A ping is not enough with SQLite: it never reaches the file, and in WAL
//! mode reads go on while another connection holds the write lock, yet every
//! write (a mutation, a sign-in) waits for the busy timeout, then fails. So
//! readiness takes the write lock (`BEGIN IMMEDIATE`, rolled back at once)
//! with a short busy timeout. PostgreSQL locks rows, not the database: a ping
//! tells whether it answers.

use std::time::Duration;

use sea_orm::DatabaseBackend;
use sea_orm::sqlx::{self, Executor};

use super::Store;

/// How long readiness waits for SQLite's write lock: a writer holding it
/// longer makes every other write wait at least as long.
const WRITE_LOCK_WAIT: Duration = Duration::from_secs(1);
/// How long the whole check may take: under the readiness probe's timeout
/// (3 s in deploy/kubernetes), so that the probe gets an answer with a reason.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// SQLite's primary result codes for a database locked by another connection.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

/// Why the database cannot serve the gateway now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unready {
    /// It does not answer, or answers with an error.
    Unreachable,
    /// Another connection holds its write lock (SQLite).
    Locked,
    /// It did not answer within the check's time.
    TimedOut,
}

impl Unready {
    /// The word `/health/ready` says it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Unready::Unreachable => "unreachable",
            Unready::Locked => "locked",
            Unready::TimedOut => "timed_out",
        }
    }
}

impl Store {
    /// Whether the database answers and can take a write now.
    pub async fn readiness(&self) -> Result<(), Unready> {
        let check = async {
            match self.db.get_database_backend() {
                DatabaseBackend::Sqlite => {
                    // On a task of its own, so that the connection's busy
                    // timeout is always put back, even if the probe leaves.
                    let pool = self.db.get_sqlite_connection_pool().clone();
                    tokio::spawn(sqlite_write_lock(pool))
                        .await
                        .unwrap_or(Err(Unready::Unreachable))
                }
                _ => self.db.ping().await.map_err(|error| {
                    tracing::warn!(%error, "the database does not answer");
                    Unready::Unreachable
                }),
            }
        };
        tokio::time::timeout(CHECK_TIMEOUT, check)
            .await
            .unwrap_or(Err(Unready::TimedOut))
    }
}

/// Takes and releases SQLite's write lock on a pooled connection, waiting
/// for it at most [`WRITE_LOCK_WAIT`].
async fn sqlite_write_lock(pool: sqlx::SqlitePool) -> Result<(), Unready> {
    let unready = |error: sqlx::Error| {
        let code = error
            .as_database_error()
            .and_then(|e| e.code())
            .and_then(|code| code.parse::<i64>().ok());
        match code.map(|code| code & 0xff) {
            Some(SQLITE_BUSY | SQLITE_LOCKED) => Unready::Locked,
            _ => {
                tracing::warn!(%error, "the database does not answer");
                Unready::Unreachable
            }
        }
    };
    let mut connection = pool.acquire().await.map_err(unready)?;
    let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *connection)
        .await
        .map_err(unready)?;
    connection
        .execute(sqlx::AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            WRITE_LOCK_WAIT.as_millis()
        )))
        .await
        .map_err(unready)?;
    // A failed BEGIN leaves no transaction open; a failed ROLLBACK may.
    let (locked, closed) = match connection.execute("BEGIN IMMEDIATE").await {
        Ok(_) => match connection.execute("ROLLBACK").await {
            Ok(_) => (Ok(()), true),
            Err(error) => (Err(error), false),
        },
        Err(error) => (Err(error), true),
    };
    let restored = connection
        .execute(sqlx::AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {busy_timeout}"
        )))
        .await;
    if !closed || restored.is_err() {
        // Never hand back a connection with a short busy timeout or an open transaction.
        connection.close_on_drop();
    }
    locked.map_err(unready)
}
