//! Reading records straight from result rows, by position.
//!
//! sea-orm's models look every value up by its column name (a name built
//! with `format!` and hashed for each value), check the value's type against
//! the column's, and make an error message for every NULL: 35 % of the
//! instructions of a 3-level list answer went there (callgrind, see
//! docs/BENCHMARKS.md). Records read here select their own columns, in the
//! order they read them, so a value is found by its index and decoded
//! without the type check: the columns are ours, created by our migrations,
//! and the tests read every record on both databases. Both the columns and
//! the reader come from one declaration of the record's fields (`record!`),
//! so they cannot disagree.
//!
//! A record's last columns may be optional ones a read leaves out when the
//! question does not show them (`Columns`): they then read as None.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use sea_orm::sqlx::{self, Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryResult, QuerySelect, QueryTrait, Select,
};

use super::{Store, StoreError};
use crate::catalogue::{
    Access, Confidence, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole,
    ProjectStatus, RepositoryRole, UseKind, UseSource,
};

/// A record read from the columns it selects (declared by `record!`).
pub trait ReadRecord: Sized {
    type Column: ColumnTrait;
    /// The columns `read` reads, in its order; the last `OPTIONAL` of them
    /// hold optional values, which a read may leave out.
    const COLUMNS: &'static [Self::Column];
    const OPTIONAL: usize;
    fn read(row: &mut RowReader<'_>) -> Result<Self, StoreError>;
}

/// Declares a record of the table `$table`, one line per field: its name,
/// its type and its column (`field: Type = Column`). From that one list come
/// the struct, its `ReadRecord` (the columns in the order `read` reads
/// them), its conversion from sea-orm's model, and, for the fields under
/// `optional` (read only when a question shows them), the `Columns`
/// constant that selects each. The field `f` of a column is named as the
/// column (`f: … = F`, checked by the tests), its type says how it is read
/// (`Stored`).
macro_rules! record {
    (@optional $index:expr;) => {};
    (@optional $index:expr; $constant:ident $field:ident, $($rest:tt)*) => {
        #[doc = concat!("The optional column `", stringify!($field), "`, alone.")]
        pub const $constant: $crate::store::Columns<Self> =
            $crate::store::Columns::optional($index);
        $crate::store::rows::record!(@optional $index + 1; $($rest)*);
    };
    (
        $(#[$meta:meta])*
        pub struct $record:ident in $table:ident {
            $($field:ident: $type:ty = $column:ident,)+
        }
        $(optional {
            $($constant:ident => $optional:ident: Option<$optional_type:ty> = $optional_column:ident,)+
        })?
    ) => {
        $(#[$meta])*
        pub struct $record {
            $(pub $field: $type,)+
            $($(pub $optional: Option<$optional_type>,)+)?
        }

        impl $crate::store::rows::ReadRecord for $record {
            type Column = $table::Column;
            const COLUMNS: &'static [$table::Column] = &[
                $($table::Column::$column,)+
                $($($table::Column::$optional_column,)+)?
            ];
            const OPTIONAL: usize = {
                let optional: &[&str] = &[$($(stringify!($optional),)+)?];
                optional.len()
            };
            fn read(
                row: &mut $crate::store::rows::RowReader<'_>,
            ) -> Result<Self, $crate::store::StoreError> {
                // Fields are read in the order written, that of `COLUMNS`.
                Ok(Self {
                    $($field: row.value(concat!(stringify!($table), ".", stringify!($field)))?,)+
                    $($($optional: row.value(
                        concat!(stringify!($table), ".", stringify!($optional)),
                    )?,)+)?
                })
            }
        }

        impl TryFrom<$table::Model> for $record {
            type Error = $crate::store::StoreError;
            fn try_from(model: $table::Model) -> Result<Self, $crate::store::StoreError> {
                use $crate::store::rows::Stored;
                Ok(Self {
                    $($field: Stored::from_model(
                        model.$field,
                        concat!(stringify!($table), ".", stringify!($field)),
                    )?,)+
                    $($($optional: Stored::from_model(
                        model.$optional,
                        concat!(stringify!($table), ".", stringify!($optional)),
                    )?,)+)?
                })
            }
        }

        impl $record {
            $crate::store::rows::record!(@optional 0; $($($constant $optional,)+)?);

            /// The fields, in the order of `COLUMNS`.
            #[cfg(test)]
            const FIELDS: &'static [&'static str] = &[
                $(stringify!($field),)+
                $($(stringify!($optional),)+)?
            ];
        }
    };
}
pub(super) use record;

/// Which of `R`'s optional columns a read selects: bit `i` for the `i`-th of
/// them. Those left out read as None, so a record read without a column
/// must only answer questions that do not show it.
pub struct Columns<R> {
    optional: u32,
    record: PhantomData<fn() -> R>,
}

impl<R> Columns<R> {
    /// Every column.
    pub const ALL: Self = Self::bits(u32::MAX);
    /// The columns every read selects, and none of the optional ones.
    pub const REQUIRED: Self = Self::bits(0);

    const fn bits(optional: u32) -> Self {
        Self {
            optional,
            record: PhantomData,
        }
    }

    /// The columns of both.
    pub const fn and(self, other: Self) -> Self {
        Self::bits(self.optional | other.optional)
    }
}

impl<R: ReadRecord> Columns<R> {
    /// The `index`-th optional column of `R`, alone.
    pub(super) const fn optional(index: usize) -> Self {
        assert!(index < R::OPTIONAL && index < 32);
        Self::bits(1 << index)
    }

    /// Where the optional columns start, when `R`'s columns follow `offset`
    /// others in the row.
    pub(super) fn skips(self, offset: usize) -> Skips {
        Skips {
            first_optional: offset + R::COLUMNS.len() - R::OPTIONAL,
            optional: self.optional,
        }
    }

    /// The columns to select, in `read`'s order.
    pub(super) fn selected(self) -> impl Iterator<Item = R::Column> {
        let skips = self.skips(0);
        R::COLUMNS
            .iter()
            .enumerate()
            .filter(move |(index, _)| skips.selects(*index))
            .map(|(_, column)| *column)
    }
}

// By hand: derived, they would ask `R` for what only the bits need.
impl<R> Clone for Columns<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Columns<R> {}
impl<R> PartialEq for Columns<R> {
    fn eq(&self, other: &Self) -> bool {
        self.optional == other.optional
    }
}
impl<R> Eq for Columns<R> {}
impl<R> Hash for Columns<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.optional.hash(state);
    }
}
impl<R> fmt::Debug for Columns<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Columns({:#b})", self.optional)
    }
}

/// Which of a row's columns were left out of the statement: the optional
/// ones from `first_optional` on whose bit is not set.
#[derive(Clone, Copy)]
pub(super) struct Skips {
    first_optional: usize,
    optional: u32,
}

impl Skips {
    fn selects(self, column: usize) -> bool {
        let Some(optional) = column.checked_sub(self.first_optional) else {
            return true;
        };
        u32::try_from(optional)
            .ok()
            .and_then(|optional| 1u32.checked_shl(optional))
            .is_some_and(|bit| self.optional & bit != 0)
    }
}

enum RawRow<'r> {
    Postgres(&'r sqlx::postgres::PgRow),
    Sqlite(&'r sqlx::sqlite::SqliteRow),
}

/// The values of one row, read in the order they were selected.
pub struct RowReader<'r> {
    row: RawRow<'r>,
    /// The next column `read` asks for, counting those left out.
    column: usize,
    /// The next value of the row.
    next: usize,
    skips: Skips,
}

impl<'r> RowReader<'r> {
    fn new(row: &'r QueryResult, skips: Skips) -> Result<Self, StoreError> {
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
        Ok(Self {
            row,
            column: 0,
            next: 0,
            skips,
        })
    }

    /// The row's index of the next column, None when it was left out.
    fn take(&mut self) -> Option<usize> {
        let column = self.column;
        self.column += 1;
        self.skips.selects(column).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// How many columns the row has.
    fn width(&self) -> usize {
        match self.row {
            RawRow::Postgres(row) => row.len(),
            RawRow::Sqlite(row) => row.len(),
        }
    }

    /// The value at the row's `index`, None when it is NULL.
    fn value_at<T>(&self, index: usize) -> Result<Option<T>, StoreError>
    where
        T: Type<Postgres> + Decode<'r, Postgres> + Type<Sqlite> + Decode<'r, Sqlite>,
    {
        let value = match self.row {
            RawRow::Postgres(row) => row.try_get_unchecked::<Option<T>, _>(index),
            RawRow::Sqlite(row) => row.try_get_unchecked::<Option<T>, _>(index),
        };
        value.map_err(|error| DbErr::Custom(format!("column {index}: {error}")).into())
    }

    /// The next value, None when it is NULL or was left out.
    fn optional<T>(&mut self) -> Result<Option<T>, StoreError>
    where
        T: Type<Postgres> + Decode<'r, Postgres> + Type<Sqlite> + Decode<'r, Sqlite>,
    {
        match self.take() {
            Some(index) => self.value_at(index),
            None => Ok(None),
        }
    }

    /// The next value, which `column` (named for the error) never holds
    /// NULL and every read selects.
    fn required<T>(&mut self, column: &'static str) -> Result<T, StoreError>
    where
        T: Type<Postgres> + Decode<'r, Postgres> + Type<Sqlite> + Decode<'r, Sqlite>,
    {
        let unreadable = |value: &str| StoreError::Unreadable {
            column,
            value: value.to_owned(),
        };
        let index = self.take().ok_or_else(|| unreadable("(not selected)"))?;
        self.value_at(index)?.ok_or_else(|| unreadable("NULL"))
    }

    /// The next value, of the column named `column` (for errors).
    pub(super) fn value<T: Stored>(&mut self, column: &'static str) -> Result<T, StoreError> {
        T::read(self, column)
    }

    /// The next value, a word of `column`'s vocabulary (read in place: no
    /// string is made for it).
    fn word<T>(
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
    fn optional_word<T>(
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

/// A record's field type: how it is read from a row and converted from
/// sea-orm's model (what an insert or an update gives back).
pub(super) trait Stored: Sized {
    /// The field's type in sea-orm's model.
    type Model;
    fn read(row: &mut RowReader<'_>, column: &'static str) -> Result<Self, StoreError>;
    fn from_model(value: Self::Model, column: &'static str) -> Result<Self, StoreError>;
}

/// `Stored` for types the databases decode, and their optional values.
macro_rules! decoded {
    ($($type:ty),+) => {$(
        impl Stored for $type {
            type Model = Self;
            fn read(row: &mut RowReader<'_>, column: &'static str) -> Result<Self, StoreError> {
                row.required(column)
            }
            fn from_model(value: Self, _: &'static str) -> Result<Self, StoreError> {
                Ok(value)
            }
        }

        impl Stored for Option<$type> {
            type Model = Self;
            fn read(row: &mut RowReader<'_>, _: &'static str) -> Result<Self, StoreError> {
                row.optional()
            }
            fn from_model(value: Self, _: &'static str) -> Result<Self, StoreError> {
                Ok(value)
            }
        }
    )+};
}
decoded!(i64, bool, String, DateTime<Utc>);

/// `Stored` for the catalogue's vocabularies, stored as their words, and
/// their optional values.
macro_rules! words {
    ($($type:ty),+) => {$(
        impl Stored for $type {
            type Model = String;
            fn read(row: &mut RowReader<'_>, column: &'static str) -> Result<Self, StoreError> {
                row.word(column, Self::from_db)
            }
            fn from_model(value: String, column: &'static str) -> Result<Self, StoreError> {
                Self::from_db(&value).ok_or(StoreError::Unreadable { column, value })
            }
        }

        impl Stored for Option<$type> {
            type Model = Option<String>;
            fn read(row: &mut RowReader<'_>, column: &'static str) -> Result<Self, StoreError> {
                row.optional_word(column, <$type>::from_db)
            }
            fn from_model(value: Option<String>, column: &'static str) -> Result<Self, StoreError> {
                value.map(|value| <$type>::from_model(value, column)).transpose()
            }
        }
    )+};
}
words!(
    Access,
    Confidence,
    DataProvider,
    Forge,
    LinkKind,
    OrganizationKind,
    ParticipationRole,
    ProjectStatus,
    RepositoryRole,
    UseKind,
    UseSource
);

impl Store {
    /// Runs `select` and reads each row with `read`; `select` selects the
    /// columns `read` reads, in its order, but those `skips` leaves out.
    pub(super) async fn read_rows<E: EntityTrait, T>(
        &self,
        select: Select<E>,
        skips: Skips,
        read: impl Fn(&mut RowReader<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let statement = select.build(self.db.get_database_backend());
        let rows = self.db.query_all_raw(statement).await?;
        // Sized once: collecting from fallible reads would grow (and copy) it.
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut reader = RowReader::new(row, skips)?;
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
        self.read_selected(select, Columns::ALL).await
    }

    /// The records `select` finds, reading `columns` of them.
    pub(super) async fn read_selected<R: ReadRecord, E: EntityTrait>(
        &self,
        select: Select<E>,
        columns: Columns<R>,
    ) -> Result<Vec<R>, StoreError> {
        self.read_rows(
            select.select_only().columns(columns.selected()),
            columns.skips(0),
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
