//! The typed edge between the wire (the generated `pb` types) and the features: the
//! pieces every resource needs once, so that no feature repeats them.
//!
//! - [`violations`]: collecting field violations into one INVALID_ARGUMENT;
//! - [`names`]: resource names (`units/42`, `people/7/placements/3`) as types;
//! - [`enums`]: one table per enum, domain ↔ wire ↔ stored ↔ filter vocabulary;
//! - [`filter`]: the one filter grammar (AIP-160 subset), with a field table per resource;
//! - [`page`]: page sizes and tokens (AIP-158) as one [`page::Page`] type;
//! - [`etag`]: etags (AIP-154) and their one check;
//! - [`request`]: request identifiers (AIP-155), update masks, dates and timestamps.

pub mod enums;
pub mod etag;
pub mod filter;
pub mod names;
pub mod page;
pub mod request;
pub mod violations;

pub use violations::Violations;
