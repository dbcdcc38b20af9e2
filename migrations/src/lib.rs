//! The database schema of the catalogue gateway, as sea-orm migrations.
//!
//! The same migrations run on SQLite (embedded default) and PostgreSQL
//! (production); where the two differ, the migration says why.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_catalogue;
mod m20261123_000002_writes;
mod m20261123_000003_signin;
mod m20261123_000004_harvest;
mod m20261123_000005_changes;
mod m20261123_000006_project_visibility_index;
mod m20261206_000007_children_position_index;
mod m20261207_000008_fact_confidence;
mod m20261208_000009_link_checks;
mod m20261208_000010_person_binding;
mod m20261209_000011_uses;
mod m20261209_000012_change_journal;
mod m20261209_000013_webhooks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_catalogue::Migration),
            Box::new(m20261123_000002_writes::Migration),
            Box::new(m20261123_000003_signin::Migration),
            Box::new(m20261123_000004_harvest::Migration),
            Box::new(m20261123_000005_changes::Migration),
            Box::new(m20261123_000006_project_visibility_index::Migration),
            Box::new(m20261206_000007_children_position_index::Migration),
            Box::new(m20261207_000008_fact_confidence::Migration),
            Box::new(m20261208_000009_link_checks::Migration),
            Box::new(m20261208_000010_person_binding::Migration),
            Box::new(m20261209_000011_uses::Migration),
            Box::new(m20261209_000012_change_journal::Migration),
            Box::new(m20261209_000013_webhooks::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::Database;

    #[tokio::test]
    async fn migrations_go_up_down_and_up_again() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let manager = SchemaManager::new(&db);
        Migrator::up(&db, None).await.unwrap();
        for table in [
            "organization",
            "project",
            "repository",
            "dataset",
            "link",
            "project_source",
            "signing_key",
            "signin_attempt",
            "harvest_result",
            "harvest_lease",
            "catalogue_revision",
            "catalogue_change",
            "organization_source",
            "link_check",
            "person_binding",
            "project_use",
            "webhook",
            "webhook_delivery",
        ] {
            assert!(manager.has_table(table).await.unwrap(), "{table} after up");
        }
        assert!(
            manager
                .has_index("repository", "idx_repository_language_lower")
                .await
                .unwrap()
        );
        assert!(
            manager
                .has_index(
                    "project_organization",
                    "idx_project_organization_project_id_position"
                )
                .await
                .unwrap()
        );
        Migrator::down(&db, None).await.unwrap();
        assert!(
            !manager.has_table("project").await.unwrap(),
            "project after down"
        );
        Migrator::up(&db, None).await.unwrap();
        assert!(
            manager.has_table("project").await.unwrap(),
            "project after up again"
        );
    }
}
