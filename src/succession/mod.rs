//! Succession pools (quy hoạch, `successionPools/{id}`): for a post of a unit and a
//! term, the candidates prepared for it, each a member over a period within the term,
//! with their compliance with the post's standard on a date.
//!
//! - [`api`]: SuccessionPoolService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and pools out;
//! - [`usecases`]: create, get, list, update, delete, add and remove candidates,
//!   through the unit of work;
//! - [`rules`]: what a pool and a membership are, and their rules (pure);
//! - [`queries`]: its SQL, typed; [`compliance`]: the candidates of a pool on a date.

pub mod api;
pub mod compliance;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::SuccessionPoolApi;
pub use rules::{Bounds, Candidate, Pool, PoolSpec};
