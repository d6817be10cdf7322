//! Validated types and the rules of the records, free of I/O and unit-tested in place.

pub mod date;
pub mod filter;
pub mod locality;
pub mod page;
pub mod text;
