//! Qualification scales (`scales/{scale}`) and their ranked levels
//! (`scales/{scale}/levels/{level}`), shared by the whole country.
//!
//! - [`api`]: ScaleService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and scales out;
//! - [`usecases`]: list, get, and the two writes, through the unit of work;
//! - [`rules`]: what a scale and a level are, their labels and who changes them (pure);
//! - [`queries`]: their SQL, typed.

pub mod api;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::ScaleApi;
pub use rules::{LevelRecord, ScaleRecord, scale_name};
