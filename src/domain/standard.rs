//! Moved to [`crate::standards::rules`]; re-exported here for the code not yet
//! converted.

pub use crate::standards::rules::*;
