//! Integration tests: each test spawns the real server on port 0 with a database of
//! its own (SQLite by default; PostgreSQL with `HRPLAN_TEST_BACKEND=postgres`) and
//! talks to it through the generated client.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "a failing test should fail loudly")]

mod audit;
mod clients;
mod compliance;
mod deadline;
mod demo;
mod differential;
mod engine;
mod enrollments;
mod facts;
mod faults;
mod helpers;
mod hygiene;
mod identity;
mod localities;
mod locality_races;
mod movement_races;
mod official_tree;
mod pace;
mod people;
mod people_races;
mod platform;
mod read_only;
mod reorganize;
mod report_activity;
mod report_export;
mod report_reference;
mod reports;
mod rotations;
mod scales;
mod scope;
mod scope_matrix;
mod scope_records;
mod sheet_import;
mod staffing;
mod standards;
mod succession;
mod suppression;
mod tokens;
mod training_plans;
mod training_races;
mod transport;
mod unit_of_work;
mod units;
mod validation;
mod write_rights;
