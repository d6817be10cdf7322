//! Validated types and the rules of the records, free of I/O and unit-tested in place.

pub mod date;
pub mod filter;
pub mod locality;
pub mod page;
/// Moved to [`crate::movements::rules`]; kept for the reports until the shims go.
pub use crate::movements::rules as rotation;
pub mod standard;
pub mod text;
pub mod training;

// The people's rules live with their feature; these paths stay for the code that
// still imports them from here.
pub use crate::people::rules::{identity, person, upsert};

/// The etag of a record's revision (AIP-154): the revision number, quoted.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}
