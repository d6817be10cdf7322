//! The value types every feature shares, free of I/O and unit-tested in place: dates,
//! the folding and normalisation of Vietnamese text, and locality codes and tiers.

pub mod date;
pub mod locality;
pub mod text;
