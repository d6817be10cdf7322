//! The SQL of training, typed: rows come back as `FromQueryResult` structs,
//! parameters are named.
//!
//! - [`plans`]: plans and their target lines, the plan lock, progress counts;
//! - [`courses`]: courses of a plan;
//! - [`enrollments`]: enrolments with their history, and what their checks read.

pub mod courses;
pub mod enrollments;
pub mod plans;

pub use plans::Lock;

use crate::error::Error;

/// INTERNAL for a stored value this version of the service does not know.
fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct Id {
    id: i64,
}
