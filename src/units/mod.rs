//! Units: the agencies and public-service units where people are placed (`units/{id}`),
//! each in a locality, with a sector, a kind, a validity period inside its locality's
//! and an optional code of its own.
//!
//! - [`api`]: UnitService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and units out;
//! - [`usecases`]: create, get, list, update, delete, through the unit of work;
//! - [`rules`]: what a unit is and the rules of its fields and period (pure);
//! - [`queries`]: its SQL, typed.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::UnitApi;
pub use rules::{Sector, Unit, UnitFields, UnitKind};
