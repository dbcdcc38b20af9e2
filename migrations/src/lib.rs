//! The database schema of the catalogue gateway, as sea-orm migrations.
//!
//! The same migrations run on SQLite (embedded default) and PostgreSQL
//! (production); where the two differ, the migration says why.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_catalogue;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261123_000001_catalogue::Migration)]
    }
}
