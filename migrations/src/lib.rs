//! Schema migrations of hrplan: the source of truth of the schema.
//!
//! The same migrations run on SQLite and PostgreSQL, so they are written with
//! sea-query's schema builders only. Migrations that have been released are
//! never edited: a change to the schema is a new migration, backward
//! compatible with the previous release (add, backfill, then drop later).

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_localities;
mod m20261122_000002_create_request_log_and_audit_log;
mod m20261122_000003_create_people_records;
mod m20261122_000004_create_training;
mod m20261122_000005_create_rotations_pools_quotas;
mod m20261122_000006_create_person_facts;
mod m20261130_100000_add_person_identifiers;
mod m20261130_210000_add_unit_code;
mod m20261201_000001_create_idempotency_keys;
mod m20261201_100000_add_placements_no_overlap;
mod m20261201_200000_add_open_enrollment_index;
mod m20261201_300000_add_open_movement_index;
mod m20261201_300001_add_candidate_constraints;
mod m20261201_400000_add_staffing_quota_keys;
mod m20261201_500000_add_audit_kind_and_peer;
mod m20261201_600000_narrow_person_facts_marks;
mod m20261201_700000_create_fact_changes;
mod m20261202_000000_create_reference_version;
mod m20261202_100000_create_training_version;
mod m20261202_200000_create_movement_version;
mod m20261203_000000_mark_facts_per_statement;
mod m20261204_000000_index_foreign_keys;
mod version_table;

/// Runs every migration in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_localities::Migration),
            Box::new(m20261122_000002_create_request_log_and_audit_log::Migration),
            Box::new(m20261122_000003_create_people_records::Migration),
            Box::new(m20261122_000004_create_training::Migration),
            Box::new(m20261122_000005_create_rotations_pools_quotas::Migration),
            Box::new(m20261122_000006_create_person_facts::Migration),
            Box::new(m20261130_100000_add_person_identifiers::Migration),
            Box::new(m20261130_210000_add_unit_code::Migration),
            Box::new(m20261201_000001_create_idempotency_keys::Migration),
            Box::new(m20261201_100000_add_placements_no_overlap::Migration),
            Box::new(m20261201_200000_add_open_enrollment_index::Migration),
            Box::new(m20261201_300000_add_open_movement_index::Migration),
            Box::new(m20261201_300001_add_candidate_constraints::Migration),
            Box::new(m20261201_400000_add_staffing_quota_keys::Migration),
            Box::new(m20261201_500000_add_audit_kind_and_peer::Migration),
            Box::new(m20261201_600000_narrow_person_facts_marks::Migration),
            Box::new(m20261201_700000_create_fact_changes::Migration),
            Box::new(m20261202_000000_create_reference_version::Migration),
            Box::new(m20261202_100000_create_training_version::Migration),
            Box::new(m20261202_200000_create_movement_version::Migration),
            Box::new(m20261203_000000_mark_facts_per_statement::Migration),
            Box::new(m20261204_000000_index_foreign_keys::Migration),
        ]
    }
}
