//! Movements of cadres (`rotations/{id}`): luân chuyển, điều động, tăng cường and biệt
//! phái, from a source unit to a destination unit on a decision; starting one moves
//! the person's placements, completing it brings them back (except for a transfer),
//! cancelling it undoes what starting did.
//!
//! - [`api`]: RotationService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and movements out;
//! - [`usecases`]: create, get, list, update, delete, start, complete, cancel, through
//!   the unit of work;
//! - [`rules`]: kinds, statuses, direction, the checks of a movement's fields and of
//!   its effects on placements (pure);
//! - [`queries`]: its SQL, typed.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::RotationApi;
pub use rules::{Direction, Kind, Rotation, RotationFields, Status, direction};
