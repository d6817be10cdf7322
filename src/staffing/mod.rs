//! Staffing: quotas (biên chế, `staffingQuotas/{id}`) of posts per unit or locality,
//! year and category, and the headcount against them.
//!
//! - [`api`]: StaffingService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and quotas and headcounts out;
//! - [`usecases`]: create, get, list, update, delete, headcount, through the unit of work;
//! - [`rules`]: what a quota is and how headcount compares with it (pure);
//! - [`queries`]: their SQL, typed.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::StaffingApi;
