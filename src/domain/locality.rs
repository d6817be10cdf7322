//! Moved to [`crate::localities::rules`]; re-exported here for the code not yet
//! converted.

pub use crate::localities::rules::*;
