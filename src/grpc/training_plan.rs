//! Shim: TrainingPlanService moved to [`crate::training`].

pub use crate::training::TrainingPlanApi;
