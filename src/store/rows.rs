//! Reading records straight from result rows, by position.
//!
//! sea-orm's models look every value up by its column name (a name built
//! with `format!` and hashed for each value), check the value's type against
//! the column's, and make an error message for every NULL: 35 % of the
//! instructions of a 3-level list answer went there (callgrind, see
//! docs/BENCHMARKS.md). Records read here select their own columns, in the
//! order they read them, so a value is found by its index and decoded
//! without the type check: the columns are ours, created by our migrations,
//! and the tests read every record on both databases.

use chrono::{DateTime, Utc};
use sea_orm::sqlx::{self, Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryResult, QuerySelect, QueryTrait, Select,
};

use super::{Store, StoreError};

/// A record read from the columns it selects.
pub(super) trait ReadRecord: Sized {
    type Column: ColumnTrait;
    /// The columns `read` reads, in its order.
    const COLUMNS: &'static [Self::Column];
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError>;
}

enum RawRow<'r> {
    Postgres(&'r sqlx::postgres::PgRow),
    Sqlite(&'r sqlx::sqlite::SqliteRow),
}

/// The values of one row, read in the order they were selected.
pub(super) struct RowReader<'r> {
    row: RawRow<'r>,
    next: usize,
}

impl<'r> RowReader<'r> {
    fn new(row: &'r QueryResult) -> Result<Self, StoreError> {
        let row = if let Some(row) = row.try_as_pg_row() {
            RawRow::Postgres(row)
        } else if let Some(row) = row.try_as_sqlite_row() {
            RawRow::Sqlite(row)
        } else {
            return Err(DbErr::Custom(
                "a row from a database other than PostgreSQL or SQLite".into(),
            )
            .into());
        };
        Ok(Self { row, next: 0 })
    }

    /// How many columns the row has.
    fn width(&self) -> usize {
        match self.row {
            RawRow::Postgres(row) => row.len(),
            RawRow::Sqlite(row) => row.len(),
        }
    }

    /// The next value, None when it is NULL.
    fn optional<T>(&mut self) -> Result<Option<T>, StoreError>
    where
        T: Type<Postgres> + Decode<'r, Postgres> + Type<Sqlite> + Decode<'r, Sqlite>,
    {
        let index = self.next;
        self.next += 1;
        let value = match self.row {
            RawRow::Postgres(row) => row.try_get_unchecked::<Option<T>, _>(index),
            RawRow::Sqlite(row) => row.try_get_unchecked::<Option<T>, _>(index),
        };
        value.map_err(|error| DbErr::Custom(format!("column {index}: {error}")).into())
    }

    /// The next value, which `column` (named for the error) never holds NULL.
    fn required<T>(&mut self, column: &'static str) -> Result<T, StoreError>
    where
        T: Type<Postgres> + Decode<'r, Postgres> + Type<Sqlite> + Decode<'r, Sqlite>,
    {
        self.optional()?.ok_or_else(|| StoreError::Unreadable {
            column,
            value: "NULL".to_owned(),
        })
    }

    pub fn integer(&mut self, column: &'static str) -> Result<i64, StoreError> {
        self.required(column)
    }

    pub fn text(&mut self, column: &'static str) -> Result<String, StoreError> {
        self.required(column)
    }

    pub fn optional_text(&mut self) -> Result<Option<String>, StoreError> {
        self.optional()
    }

    pub fn time(&mut self, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
        self.required(column)
    }

    /// The next value, a word of `column`'s vocabulary (read in place: no
    /// string is made for it).
    pub fn word<T>(
        &mut self,
        column: &'static str,
        from_db: fn(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        let value: &'r str = self.required(column)?;
        from_db(value).ok_or_else(|| StoreError::Unreadable {
            column,
            value: value.to_owned(),
        })
    }

    /// The next value, an optional word of `column`'s vocabulary.
    pub fn optional_word<T>(
        &mut self,
        column: &'static str,
        from_db: fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        self.optional::<&'r str>()?
            .map(|value| {
                from_db(value).ok_or_else(|| StoreError::Unreadable {
                    column,
                    value: value.to_owned(),
                })
            })
            .transpose()
    }
}

impl Store {
    /// Runs `select` and reads each row with `read`; `select` selects the
    /// columns `read` reads, in its order.
    pub(super) async fn read_rows<E: EntityTrait, T>(
        &self,
        select: Select<E>,
        read: impl Fn(&mut RowReader<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let statement = select.build(self.db.get_database_backend());
        let rows = self.db.query_all_raw(statement).await?;
        // Sized once: collecting from fallible reads would grow (and copy) it.
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut reader = RowReader::new(row)?;
            records.push(read(&mut reader)?);
            debug_assert_eq!(reader.next, reader.width(), "every column selected is read");
        }
        Ok(records)
    }

    /// The records `select` finds, reading only the columns they need.
    pub(super) async fn read_all<R: ReadRecord, E: EntityTrait>(
        &self,
        select: Select<E>,
    ) -> Result<Vec<R>, StoreError> {
        self.read_rows(
            select.select_only().columns(R::COLUMNS.iter().copied()),
            R::read,
        )
        .await
    }

    /// The first record `select` finds.
    pub(super) async fn read_one<R: ReadRecord, E: EntityTrait>(
        &self,
        select: Select<E>,
    ) -> Result<Option<R>, StoreError> {
        Ok(self.read_all(select.limit(1)).await?.into_iter().next())
    }
}
