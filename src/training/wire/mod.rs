//! TrainingPlanService's and EnrollmentService's messages to and from the feature's
//! types. Each request is taken apart field by field (no `..`), so a field added to
//! the proto does not compile until it is handled here.
//!
//! - [`plans`]: plans, their lines and progress;
//! - [`courses`]: courses of a plan;
//! - [`enrollments`]: enrolments, batches, imports and transitions.

pub mod courses;
pub mod enrollments;
pub mod plans;

pub use courses::*;
pub use enrollments::*;
pub use plans::*;
