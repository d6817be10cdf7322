//! Moved to [`crate::localities::queries`]; re-exported here for the code not yet
//! converted.

pub use crate::localities::queries::*;
