//! What a person and their records are and the rules they obey, free of I/O:
//! - [`person`]: categories, employment, placements, qualifications, ratings and
//!   sanctions, with their enum tables and the checks that need no database;
//! - [`identity`]: personal identification numbers and staff codes;
//! - [`upsert`]: what an imported record changes in a person already recorded.

pub mod identity;
pub mod person;
pub mod upsert;
