//! Moved to [`crate::localities::scope`]; re-exported here for the code not yet
//! converted.

pub use crate::localities::scope::*;
