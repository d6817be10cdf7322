//! Position standards (tiêu chuẩn chức danh, `standards/{id}`): the minimum levels a
//! post requires, which standard applies to a placement on a date, and whether a
//! person meets it (đạt chuẩn).
//!
//! - [`api`]: StandardService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and standards and answers out;
//! - [`usecases`]: create, get, list, update, delete, compliance, through the unit of work;
//! - [`rules`]: what a standard is, which applies, which minimums are unmet (pure);
//! - [`queries`]: the SQL of standards, typed;
//! - [`compliance`]: the SQL of a compliance answer, typed, and the answer.

pub mod api;
pub mod compliance;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::StandardApi;
