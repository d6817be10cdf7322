//! Training: plans of training and refresher courses owned by a locality
//! (`trainingPlans/{id}`), with their target lines, their courses
//! (`trainingPlans/{plan}/courses/{id}`), the enrolments of people in their lines
//! (`trainingPlans/{plan}/enrollments/{id}`) and their progress against target.
//!
//! - [`api`]: TrainingPlanService and EnrollmentService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and resources out;
//! - [`usecases`]: plans, courses, enrolments and transitions through the unit of
//!   work, with the plan lock that keeps a closed plan closed;
//! - [`rules`]: statuses, transitions, periods, fields and progress (pure);
//! - [`queries`]: their SQL, typed.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::{EnrollmentApi, TrainingPlanApi};
pub use rules::{Enrollment, EnrollmentStatus, Plan, PlanStatus, ProgrammeKind};
