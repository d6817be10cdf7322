//! An index behind every foreign key that had none, so that deleting or re-keying the
//! referenced row finds its referencing rows through the index instead of reading the
//! whole referencing table: deleting a qualification set `enrollments.qualification_id`
//! to NULL by a scan of every enrolment (at 2.5 million people, 391,000 of them: about
//! 20 ms per qualification, so deleting a person's records read the table once per
//! qualification); deleting a course, a unit or a person likewise scanned the
//! enrolments, the movements, the pools and the pool candidates. Portable: plain
//! indexes on SQLite and PostgreSQL, where both enforce the keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Index name, table, columns: one per foreign key that had no index leading with its
/// columns.
const INDEXES: &[(&str, &str, &str)] = &[
    ("ix_enrollments_qualification", "enrollments", "qualification_id"),
    ("ix_enrollments_course", "enrollments", "course_id"),
    ("ix_rotations_source_unit", "rotations", "source_unit_id"),
    ("ix_rotations_destination_unit", "rotations", "destination_unit_id"),
    ("ix_succession_pools_unit", "succession_pools", "unit_id"),
    ("ix_pool_candidates_person", "pool_candidates", "person_id"),
    ("ix_standard_minimums_level", "standard_minimums", "scale_code, level_code"),
    ("ix_target_lines_level", "target_lines", "scale_code, level_code"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table, columns) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({columns})")).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
