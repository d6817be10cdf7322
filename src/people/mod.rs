//! People (`people/{id}`) and their records: placements in units, qualifications,
//! annual evaluations and disciplinary decisions; search, lookup by identifier,
//! import and export.
//!
//! - [`api`]: PersonService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and records out;
//! - [`usecases`]: one function per RPC, every write through the unit of work;
//! - [`rules`]: what a person and their records are, and their rules (pure);
//! - [`queries`]: their SQL, typed.
//!
//! Arrows run one way: people uses units' queries (a placement locks its unit), never
//! the reverse.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::PersonApi;
