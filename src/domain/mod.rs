//! Validated types and the rules of the records, free of I/O and unit-tested in place.

pub mod date;
pub mod facts;
pub mod filter;
pub mod identity;
pub mod locality;
pub mod page;
pub mod person;
pub mod report;
pub mod report_activity;
pub mod rotation;
pub mod standard;
pub mod text;
pub mod training;
pub mod upsert;

/// The etag of a record's revision (AIP-154): the revision number, quoted.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}
