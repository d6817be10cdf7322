//! The typed edge between the wire (the generated `pb` types) and the features: the
//! pieces every resource needs once, so that no feature repeats them.
//!
//! - [`violations`]: collecting field violations into one INVALID_ARGUMENT;
//! - [`names`]: resource names (`units/42`, `people/7/placements/3`) as types;
//! - [`enums`]: one table per enum, domain ↔ wire ↔ stored ↔ filter vocabulary;
//! - [`filter`]: the one filter grammar (AIP-160 subset), with a field table per resource;
//! - [`page`]: page sizes and tokens (AIP-158) as one [`page::Page`] type;
//! - [`etag`]: etags (AIP-154) and their one check;
//! - [`request`]: request identifiers (AIP-155), update masks, dates and timestamps;
//! - [`redact`]: what a write answers to a caller who may not read personal data.
//!
//! # A new request field does not compile until it is handled
//!
//! Every feature's `wire.rs` converts a request with a `TryFrom` that destructures the
//! generated message naming every field and without `..`. A field added to the proto
//! adds a field to the generated struct, and the pattern that does not mention it is
//! error E0027, so the build stops at the one place that must decide what the field
//! means. This is what happens, shown with today's `UpdateUnitRequest` (fields `unit`
//! and `update_mask`) and a pattern that forgets one, as a conversion written before
//! `update_mask` existed would:
//!
//! ```compile_fail,E0027
//! use hrplan::grpc::pb;
//!
//! fn convert(request: pb::UpdateUnitRequest) -> Option<pb::Unit> {
//!     let pb::UpdateUnitRequest { unit } = request; // `update_mask` not mentioned
//!     unit
//! }
//! ```
//!
//! The same pattern naming every field compiles:
//!
//! ```
//! use hrplan::grpc::pb;
//!
//! fn convert(request: pb::UpdateUnitRequest) -> (Option<pb::Unit>, Option<prost_types::FieldMask>) {
//!     let pb::UpdateUnitRequest { unit, update_mask } = request;
//!     (unit, update_mask)
//! }
//! # let _ = convert(pb::UpdateUnitRequest::default());
//! ```

pub mod enums;
pub mod etag;
pub mod filter;
pub mod names;
pub mod page;
pub mod redact;
pub mod request;
pub mod violations;

pub use violations::Violations;
