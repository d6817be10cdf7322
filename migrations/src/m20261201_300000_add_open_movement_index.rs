//! One open movement per person, held by the database: a partial unique index over the
//! person of the movements that are planned or active. SQLite and PostgreSQL both
//! accept `CREATE UNIQUE INDEX … WHERE …`, so the rule holds on both backends; the
//! service also checks it in the transaction that writes, to name the movement in the
//! way.
//!
//! The service has refused a second open movement since movements exist, but the check
//! ran before its transaction, so two concurrent requests could both have passed it.
//! Such pairs are not resolved here (which one to cancel is a decision for a person):
//! the migration stops and names them, to be cancelled through the API first.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index; the service recognises its violation by this name.
const INDEX: &str = "ux_rotations_open_person";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let doubles = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT person_id, COUNT(*) AS n FROM rotations WHERE status IN ('planned', 'active') \
                 GROUP BY person_id HAVING COUNT(*) > 1 ORDER BY person_id LIMIT 20",
            ))
            .await?;
        if !doubles.is_empty() {
            let mut people = Vec::new();
            for row in &doubles {
                let person: i64 = row.try_get("", "person_id")?;
                let n: i64 = row.try_get("", "n")?;
                people.push(format!("people/{person} ({n})"));
            }
            return Err(DbErr::Migration(format!(
                "these people have more than one planned or active movement, which the service no longer \
                 allows: {}; cancel all but one of each (CancelRotation), then migrate again",
                people.join(", ")
            )));
        }
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {INDEX} ON rotations (person_id) WHERE status IN ('planned', 'active')"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}")).await?;
        Ok(())
    }
}
